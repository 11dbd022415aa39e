"""The k-fold split of a window's events: every event is scored by a model trained on the other folds.

Fold numbers come from a seeded permutation, so the split is deterministic; fold sizes differ by at most
one event. The classifier of a fold is one of hepad.cathode.classify (the tree ensemble or the MLP).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fold_ids", "fold_split", "check_out_of_fold", "fold_classifier"]


def fold_ids(n: int, k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) of each of ``n`` events, balanced and reproducible from ``seed``."""
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got {k}")
    if n < k:
        raise ValueError(f"cannot split {n} events into {k} folds")
    ids = np.arange(n) % k
    return ids[np.random.default_rng(seed).permutation(n)]


def fold_split(ids: np.ndarray, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, scored rows) of fold ``fold``: the model of fold f trains on the other folds and
    scores fold f."""
    return np.flatnonzero(ids != fold), np.flatnonzero(ids == fold)


def check_out_of_fold(trained: list[np.ndarray], scored: list[np.ndarray], n: int) -> None:
    """Every event is scored exactly once, and never by a model that trained on it (row indices per fold)."""
    counts = np.zeros(n, int)
    for train, score in zip(trained, scored):
        if np.intersect1d(train, score).size:
            raise AssertionError("an event is scored by a model trained on it")
        counts[score] += 1
    if not (counts == 1).all():
        raise AssertionError(f"{int((counts != 1).sum())} events are not scored exactly once")


def fold_classifier(ones: np.ndarray, zeros: np.ndarray, family: str, params: dict, val_fraction: float, seed: int,
                    threads: int = 1):
    """The classifier of one fold: label-1 rows ``ones`` (SR data of the other folds) against label-0 rows
    ``zeros`` (the method's background class, other folds), on the four features of hepad.cathode.modes.

    Both classes carry the same total weight (balanced sample weights, so ``class_weight`` is None); a
    random share ``val_fraction`` of each class validates (early stopping, epoch averaging). ``family``
    is "hgb" or "mlp" (hepad.cathode.classify.StandardisedClassifier), ``params`` its hyperparameters."""
    from hepad.cathode.classify import StandardisedClassifier
    from hepad.cathode.modes import FEATURE_INDEX, balanced_weights

    rng = np.random.default_rng(seed)

    def split(rows):
        rows = rows[rng.permutation(len(rows))]
        n_val = int(round(len(rows) * val_fraction))
        return rows[n_val:], rows[:n_val]

    (ones_t, ones_v), (zeros_t, zeros_v) = split(ones), split(zeros)

    def stack(a, b):
        x = np.concatenate([a, b])[:, FEATURE_INDEX]
        y = np.r_[np.ones(len(a)), np.zeros(len(b))]
        return x, y, balanced_weights(y)

    x, y, w = stack(ones_t, zeros_t)
    xv, yv, wv = stack(ones_v, zeros_v)
    params = dict(params, seed=seed, threads=threads, class_weight=None)
    return StandardisedClassifier(family, params).fit(x, y, xv, yv, sample_weight=w, sample_weight_val=wv)
