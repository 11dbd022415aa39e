"""Small files in the exact LHCO R&D layout, with known kinematics, for tests.

Jets are back to back in the transverse plane with no longitudinal momentum, so mjj = E1 + E2 and
every event's mjj is chosen exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from hepad.events.formats import LHCO_COLUMNS, write_lhco_features


def _momentum_for_mjj(mjj: float, m1: float, m2: float) -> float:
    """|p| of each jet (back to back) such that sqrt(p^2+m1^2) + sqrt(p^2+m2^2) = mjj."""
    return brentq(lambda p: np.hypot(p, m1) + np.hypot(p, m2) - mjj, 0.0, mjj)


def toy_events(mjj_gev: np.ndarray, m1: np.ndarray, m2: np.ndarray, tau21: np.ndarray, label: int,
               rng: np.random.Generator) -> pd.DataFrame:
    """Events with the given mjj, jet masses [GeV] and tau21 of both jets, in LHCO columns."""
    n = len(mjj_gev)
    p = np.array([_momentum_for_mjj(*row) for row in zip(mjj_gev, m1, m2)])
    phi = rng.uniform(-np.pi, np.pi, n)
    tau1 = rng.uniform(0.2, 0.6, (n, 2))
    frame = pd.DataFrame({
        "pxj1": p * np.cos(phi), "pyj1": p * np.sin(phi), "pzj1": np.zeros(n), "mj1": m1,
        "tau1j1": tau1[:, 0], "tau2j1": tau21 * tau1[:, 0], "tau3j1": 0.5 * tau21 * tau1[:, 0],
        "pxj2": -p * np.cos(phi), "pyj2": -p * np.sin(phi), "pzj2": np.zeros(n), "mj2": m2,
        "tau1j2": tau1[:, 1], "tau2j2": tau21 * tau1[:, 1], "tau3j2": 0.5 * tau21 * tau1[:, 1],
        "label": np.full(n, float(label)),
    })
    return frame[LHCO_COLUMNS]


def toy_lhco_frame(n_bkg: int, n_sig: int, seed: int = 0, sr_only: bool = False) -> pd.DataFrame:
    """QCD-like background (falling mjj from 2.8 TeV, or uniform in 3.3-3.7 TeV if ``sr_only``) and
    W'-like signal (mjj about 3.5 TeV, jet masses 100 and 500 GeV, low tau21)."""
    rng = np.random.default_rng(seed)
    if sr_only:
        mjj_b = rng.uniform(3310.0, 3690.0, n_bkg)
    else:
        mjj_b = 2800.0 + rng.exponential(400.0, n_bkg)
    bkg = toy_events(mjj_b, rng.uniform(20, 300, n_bkg), rng.uniform(20, 300, n_bkg),
                     rng.uniform(0.4, 0.9, n_bkg), 0, rng)
    mjj_s = rng.normal(3500.0, 100.0, n_sig)
    sig = toy_events(mjj_s, rng.normal(100, 5, n_sig), rng.normal(500, 20, n_sig),
                     rng.uniform(0.1, 0.4, n_sig), 1, rng)
    return pd.concat([bkg, sig], ignore_index=True)


def write_toy_lhco(path, n_bkg: int, n_sig: int, seed: int = 0, sr_only: bool = False) -> pd.DataFrame:
    frame = toy_lhco_frame(n_bkg, n_sig, seed, sr_only)
    write_lhco_features(frame, path)
    return frame
