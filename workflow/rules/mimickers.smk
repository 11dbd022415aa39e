# placeholder: filled by the mimickers stage
