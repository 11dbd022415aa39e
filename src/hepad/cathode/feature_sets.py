"""The feature sets of CATHODE and its benchmarks (``cathode.features``, docs/cathode.md).

Every set gives rows ``[mjj, features..., label]`` (mjj and masses in TeV): mjj is always the first
column and the label the last, so a prepared set of any set is read the same way
(``hepad.cathode.prepared``). The jets are ordered by mass: j1 is the lighter jet.

==================  ====  ===========================================================================
set                 n     features
==================  ====  ===========================================================================
``lhco4``           4     mj1, dmj = m_heavy - m_light, tau21 of j1 and of j2 (the paper's four)
``lhco4_dr``        5     the four and drjj, the distance Delta R = sqrt(Delta y^2 + Delta phi^2) of the
                          two jets (rapidity y)
``tau56``           56    mj1, dmj and tau_N^beta of j1 and of j2 for N = 1..9 and beta = 0.5, 1, 2
                          (Finke et al., arXiv:2309.13111: their "extended3" set)
``lhco4_noise10``   14    the four and ten standard-normal features that carry no information
==================  ====  ===========================================================================

``lhco4``, ``lhco4_dr`` and ``lhco4_noise10`` come from the LHCO-format file (jet four-momenta and
tau1..3 with beta = 1); ``tau56`` from the extended-features file (``hepad.events.substructure``),
which holds the mjj, the jet masses and every tau_N^beta of the same jets. The noise is drawn by
:func:`noise_rng`, a stream of its own per prepared-set seed: the same seed gives the same noise, and
the events and splits stay those of ``lhco4``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepad.cathode.prepared import COLUMNS as LHCO4_COLUMNS
from hepad.events.formats import dijet_mass
from hepad.events.substructure import TAU_COLUMNS
from hepad.io import InputError

__all__ = ["FEATURE_SETS", "N_NOISE", "columns", "needs_extended", "rows_from_lhco", "rows_from_extended",
           "add_noise", "noise_rng", "delta_r"]

FEATURE_SETS = ("lhco4", "lhco4_dr", "tau56", "lhco4_noise10")
N_NOISE = 10
NOISE_STREAM = 0x6E6F697365  # "noise": separates the noise stream from the injection's generator
TAU21_EPS = 1e-5  # tau21 = tau2 / (tau1 + eps), as in the CATHODE preparation
# tau{N}j{j}_{beta}, N = 1..9 and beta = 0.5, 1, 2 (beta05, beta1, beta2), the extended file's names;
# in a prepared set j = 1 is the lighter jet.
TAU_NAMES = TAU_COLUMNS


def columns(feature_set: str) -> list[str]:
    """The columns of a prepared set of ``feature_set``: mjj, the features, label."""
    check(feature_set)
    if feature_set == "lhco4":
        return list(LHCO4_COLUMNS)
    if feature_set == "lhco4_dr":
        return LHCO4_COLUMNS[:-1] + ["drjj", "label"]
    if feature_set == "lhco4_noise10":
        return LHCO4_COLUMNS[:-1] + [f"noise{i}" for i in range(N_NOISE)] + ["label"]
    return ["mjj", "mj1", "dmj"] + [t.format(j=j) for j in (1, 2) for t in TAU_NAMES] + ["label"]


def check(feature_set: str) -> None:
    if feature_set not in FEATURE_SETS:
        raise InputError(f"unknown feature set {feature_set!r} (cathode.features): one of {', '.join(FEATURE_SETS)}")


def needs_extended(feature_set: str) -> bool:
    """Whether the set is made from the extended-features files instead of the LHCO-format ones."""
    check(feature_set)
    return feature_set == "tau56"


def noise_rng(seed: int) -> np.random.Generator:
    """The generator of the noise features of the prepared sets of ``seed``."""
    return np.random.default_rng([int(seed), NOISE_STREAM])


def _rapidity_phi(frame: pd.DataFrame, j: int) -> tuple[np.ndarray, np.ndarray]:
    px, py, pz, m = (frame[f"{c}j{j}"].to_numpy(np.float64) for c in ("px", "py", "pz", "m"))
    e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    return 0.5 * np.log((e + pz) / (e - pz)), np.arctan2(py, px)


def delta_r(frame: pd.DataFrame) -> np.ndarray:
    """Delta R = sqrt(Delta y^2 + Delta phi^2) of the two jets of an LHCO-format frame (phi wrapped)."""
    y1, phi1 = _rapidity_phi(frame, 1)
    y2, phi2 = _rapidity_phi(frame, 2)
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return np.hypot(y1 - y2, dphi)


def _lhco4(frame: pd.DataFrame) -> np.ndarray:
    m_a, m_b = frame["mj1"].to_numpy(np.float64), frame["mj2"].to_numpy(np.float64)
    tau21_a = frame["tau2j1"].to_numpy(np.float64) / (frame["tau1j1"].to_numpy(np.float64) + TAU21_EPS)
    tau21_b = frame["tau2j2"].to_numpy(np.float64) / (frame["tau1j2"].to_numpy(np.float64) + TAU21_EPS)
    a_lighter = m_a <= m_b
    out = np.empty((len(frame), len(LHCO4_COLUMNS)))
    out[:, 0] = dijet_mass(frame) / 1000.0
    out[:, 1] = np.minimum(m_a, m_b) / 1000.0
    out[:, 2] = np.abs(m_a - m_b) / 1000.0
    out[:, 3] = np.where(a_lighter, tau21_a, tau21_b)
    out[:, 4] = np.where(a_lighter, tau21_b, tau21_a)
    out[:, 5] = frame["label"].to_numpy(np.float64)
    return out


def rows_from_lhco(frame: pd.DataFrame, feature_set: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """Rows of ``columns(feature_set)`` from an LHCO-format frame (all sets but ``tau56``).

    ``rng`` draws the noise of ``lhco4_noise10`` (:func:`noise_rng`); the other sets ignore it.
    """
    if needs_extended(feature_set):
        raise InputError(f"feature set {feature_set} is made from the extended-features file, not the LHCO-format one")
    rows = _lhco4(frame)
    if feature_set == "lhco4_dr":
        rows = np.column_stack([rows[:, :-1], delta_r(frame), rows[:, -1]])
    elif feature_set == "lhco4_noise10":
        rows = add_noise(rows, N_NOISE, rng)
    return rows


def add_noise(rows: np.ndarray, n_noise: int, rng: np.random.Generator | None) -> np.ndarray:
    """``rows`` with ``n_noise`` standard-normal columns inserted before the label."""
    if rng is None:
        raise ValueError("the noise features need a generator (hepad.cathode.feature_sets.noise_rng)")
    noise = rng.standard_normal((len(rows), n_noise))
    return np.column_stack([rows[:, :-1], noise, rows[:, -1]])


def rows_from_extended(frame: pd.DataFrame, feature_set: str = "tau56") -> np.ndarray:
    """Rows of ``columns("tau56")`` from an extended-features frame (GeV there, TeV here).

    Events without two jets (NaN mjj, as the particle-level path writes them) are dropped.
    """
    if not needs_extended(feature_set):
        raise InputError(f"feature set {feature_set} is made from the LHCO-format file")
    missing = [c for c in ["mjj", "mj1", "mj2", "label"] + [t.format(j=j) for j in (1, 2) for t in TAU_NAMES]
               if c not in frame.columns]
    if missing:
        raise InputError(f"the extended-features table lacks the columns {missing[:4]}: regenerate it")
    frame = frame[np.isfinite(frame["mjj"].to_numpy(np.float64))]
    m1, m2 = frame["mj1"].to_numpy(np.float64), frame["mj2"].to_numpy(np.float64)
    first_lighter = (m1 <= m2)[:, None]
    tau1 = frame[[t.format(j=1) for t in TAU_NAMES]].to_numpy(np.float64)
    tau2 = frame[[t.format(j=2) for t in TAU_NAMES]].to_numpy(np.float64)
    light, heavy = np.where(first_lighter, tau1, tau2), np.where(first_lighter, tau2, tau1)
    return np.column_stack([
        frame["mjj"].to_numpy(np.float64) / 1000.0, np.minimum(m1, m2) / 1000.0, np.abs(m1 - m2) / 1000.0,
        light, heavy, frame["label"].to_numpy(np.float64),
    ])
