"""What both classifier families share: the interface, the class weights, the input checks, the loss.

Its own module so that :mod:`hepad.models.classifiers` (the tree ensemble, no torch) and
:mod:`hepad.models.mlp_classifier` (torch) both build on it without importing each other.
"""

from __future__ import annotations

import numpy as np

from hepad.io import InputError
from hepad.models.base import Estimator, check_array


def balanced_weights(y, sample_weight=None, class_weight="balanced") -> np.ndarray:
    """Per-event weights: ``sample_weight`` times, with "balanced", ``total / (2 * class total)``."""
    y = np.asarray(y)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).copy()
    if class_weight is None:
        return w
    if class_weight != "balanced":
        raise ValueError(f"class_weight must be 'balanced' or None, got {class_weight!r}")
    total = w.sum()
    for label in (0, 1):
        sel = y == label
        class_total = w[sel].sum()
        if class_total > 0:
            w[sel] *= total / (2.0 * class_total)
    return w


def _check_xy(x, y, name="x"):
    y = np.asarray(y).ravel()
    x = check_array(x, name, dtype=np.float64, rows=len(y))
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels of {name} must be 0 or 1")
    if len(np.unique(y)) < 2:
        raise InputError(f"{name}: both classes are needed to train a classifier, got only label "
                         f"{int(y[0]) if len(y) else 'none'} ({len(y)} events)")
    x = check_array(x, name, dtype=np.float64, finite=True)
    return x, y.astype(np.float64)


def _weighted_log_loss(p, y, w) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-(w * (y * np.log(p) + (1 - y) * np.log1p(-p))).sum() / w.sum())


class Classifier(Estimator):
    """Common interface of the classifiers (use :func:`make_classifier`).

    ``fit(x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None) -> self``;
    ``predict_proba(x) -> ndarray (n,)`` of class-1 scores; ``save(path)``; ``load(path)`` (classmethod);
    ``history_`` (list of dicts, one per epoch or member).
    """

    def fit(self, x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None):
        raise NotImplementedError

    def predict_proba(self, x) -> np.ndarray:
        raise NotImplementedError

    def save(self, path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path):
        raise NotImplementedError
