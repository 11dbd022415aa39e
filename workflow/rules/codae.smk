# placeholder: filled by the codae stage
