"""Interpretable mimickers: the iterative choice of observables."""
