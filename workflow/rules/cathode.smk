# placeholder: filled by the cathode stage
