"""Methods: estimators of hepad.models and hepad.data wired together (CATHODE, ANODE, ...)."""
