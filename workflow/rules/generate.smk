# placeholder: filled by the generate stage
