"""The k-fold split of a window's events: every event is scored by a model trained on the other folds.

Fold numbers come from a seeded permutation, so the split is deterministic; fold sizes differ by at most
one event.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fold_ids", "fold_split", "check_out_of_fold"]


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
