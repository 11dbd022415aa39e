"""Interpretable mimickers of an image auto-encoder (arXiv:2203.01343; docs/mimic.md).

Modules: features (jet inputs and splits), image_ae (the black-box auto-encoder), mimickers (the
high-level and paired networks), selection (the iterative choice of observables by decision ordering),
plots.
"""
