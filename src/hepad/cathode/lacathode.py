"""LaCATHODE's inputs: SR data, test and sideband events in the latent space of the SB flow (docs/cathode.md).

The SB flow maps each event x at its own mjj forward to its base-space point z = f(x; mjj). For the
background the flow learned, z is standard normal whatever mjj is; the signal is not. A classifier that
separates the latent SR data from standard-normal draws therefore approaches the same likelihood ratio as
CATHODE's, but in a space where the background carries no information on mjj, so a cut on it cannot
sculpt the mjj spectrum (Hallin et al., arXiv:2210.14924). Drawing from the base distribution is what
sampling the flow in the SR and mapping the samples back would give (the map is a bijection at each mjj),
without the rejection of samples outside the training range.

One map is needed, so the best epoch of the flow's ensemble is used (a mixture has no single latent
space). Events outside the flow's training range cannot be mapped: their latent row is NaN (dropped from
training, scored lowest in the test).
"""

from __future__ import annotations

import logging

import numpy as np

from hepad.cathode.kde import LogitKDE
from hepad.cathode.modes import FEATURE_INDEX, LATENT_SPLITS, MJJ, split_like, val_fraction
from hepad.cathode.prepared import load_split

log = logging.getLogger(__name__)


def to_latent(model, rows: np.ndarray) -> np.ndarray:
    """Prepared rows with the features replaced by their latent point under ``model`` (a ConditionalDensity)."""
    out = np.array(rows, dtype=np.float64, copy=True)
    out[:, FEATURE_INDEX] = model.latent(rows[:, FEATURE_INDEX], rows[:, MJJ])
    return out


def base_samples(n: int, n_columns: int, mjj_sampler, seed: int) -> np.ndarray:
    """``n`` rows of ``n_columns`` prepared columns: standard-normal features, label 0, mjj drawn by
    ``mjj_sampler(n, seed)``."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, n_columns))
    rows[:, MJJ] = mjj_sampler(n, int(rng.integers(2**31)))
    rows[:, FEATURE_INDEX] = rng.standard_normal(rows[:, FEATURE_INDEX].shape)
    return rows


def latent_sets(model, prepared, *, sr: tuple[float, float], oversampling: float, kde_bandwidth: float,
                seed: int) -> tuple[dict, tuple[np.ndarray, np.ndarray]]:
    """The latent splits of a prepared set and ``oversampling`` x (SR data) base draws, split into train and
    val like the SR data; the draws' mjj come from CATHODE's KDE of the SR mjj (they play no role in the
    classifier, which never sees mjj)."""
    splits = {name: to_latent(model, load_split(prepared, name)) for name in LATENT_SPLITS}
    for name, rows in splits.items():
        bad = int((~np.isfinite(rows[:, FEATURE_INDEX]).all(axis=1)).sum())
        if bad:
            log.info("%s: %d of %d events outside the flow's range have no latent point", name, bad, len(rows))
    mjj = np.r_[splits["sr_train"][:, MJJ], splits["sr_val"][:, MJJ]]
    kde = LogitKDE(bandwidth=kde_bandwidth).fit(mjj, *sr)
    n = int(round(oversampling * len(mjj)))
    draws = base_samples(n, splits["sr_train"].shape[1], kde.sample, seed)
    return splits, split_like(draws, val_fraction(splits["sr_train"], splits["sr_val"]))
