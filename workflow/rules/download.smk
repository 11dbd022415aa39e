# placeholder: filled by the download stage
