"""QUAK (arXiv:2011.03550): density models of the background and of signal hypotheses as priors, and
selections in the space of their losses. Modules: features (the 12 inputs), priors (flow and VAE
density models), space (box cuts, hull ROC, working point), digits (the same on handwritten digits)."""
