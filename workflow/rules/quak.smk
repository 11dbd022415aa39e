# placeholder: filled by the quak stage
