"""Toy events with the structure of the LHCO dijet features, for benchmarks when no prepared set is given.

Columns as in a prepared set (hepad.cathode.prepared.COLUMNS): mjj, mj1, dmj, tau21j1, tau21j2, label, in TeV.
Background: a falling mjj spectrum; two jet masses that scale with mjj (log-normal, with a small
W-like peak), ordered into mj1 = lighter and dmj = heavier - lighter; tau21 from Beta distributions
whose mean drops with the jet mass. The features are bounded, skewed and correlated with each other
and with mjj, like the real ones. Signal: mjj near 3.5 TeV, jet masses 0.1 and 0.5 TeV, low tau21.
"""

from __future__ import annotations

import numpy as np


def _tau21(rng, mass):
    mean = 0.72 - 0.25 / (1.0 + np.exp(-(mass - 0.12) / 0.04))
    conc = 12.0
    return rng.beta(mean * conc, (1.0 - mean) * conc)


def background(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mjj = 2.6 + rng.gamma(1.6, 0.45, n)
    masses = mjj[:, None] * np.exp(rng.normal(np.log(0.035), 0.55, (n, 2)))
    w_like = rng.random((n, 2)) < 0.08
    masses[w_like] = rng.normal(0.083, 0.008, w_like.sum())
    masses = np.clip(masses, 0.005, None)
    tau = _tau21(rng, masses)
    lo, hi = masses.min(1), masses.max(1)
    tau_lo = np.where(masses[:, 0] <= masses[:, 1], tau[:, 0], tau[:, 1])
    tau_hi = np.where(masses[:, 0] <= masses[:, 1], tau[:, 1], tau[:, 0])
    return np.column_stack([mjj, lo, hi - lo, tau_lo, tau_hi, np.zeros(n)])


def signal(n: int, seed: int = 1, width: float = 1.0) -> np.ndarray:
    """``n`` signal events. ``width`` > 1 makes the signal harder to isolate, closer to the LHCO one: the
    jet-mass peaks ``width`` times wider and tau21 from Beta(3 + 0.4 width, 7 - 0.4 width), nearer the
    background's. With ``width`` 2.5, the idealized AD at S/B 0.6 % reaches a max SIC of about 15, as
    published on the LHCO R&D events (the default 1 gives about 45)."""
    if not 0 < width < 17.5:
        raise ValueError(f"width must be in (0, 17.5), got {width}")
    rng = np.random.default_rng(seed)
    mjj = rng.normal(3.5, 0.08, n)
    m_y = rng.normal(0.1, 0.008 * width, n)
    m_x = rng.normal(0.5, 0.03 * width, n)
    if width == 1.0:  # the original toy, draw for draw
        tau_y = rng.beta(3.0, 7.0, n)
        tau_x = rng.beta(3.0, 7.0, n)
        return np.column_stack([mjj, m_y, m_x - m_y, tau_y, tau_x, np.ones(n)])
    tau = rng.beta(3.0 + 0.4 * width, 7.0 - 0.4 * width, (n, 2))
    m_y, m_x = np.clip(m_y, 0.005, None), np.clip(m_x, 0.005, None)
    lo, hi = np.minimum(m_y, m_x), np.maximum(m_y, m_x)
    return np.column_stack([mjj, lo, hi - lo, tau[:, 0], tau[:, 1], np.ones(n)])


def sidebands(n: int, seed: int = 0, low: float = 3.3, high: float = 3.7) -> np.ndarray:
    """``n`` background events outside the signal region (low, high) in mjj."""
    out, k = [], 0
    while sum(len(o) for o in out) < n:
        ev = background(int(1.4 * n) + 1000, seed=seed + 7919 * k)
        out.append(ev[(ev[:, 0] < low) | (ev[:, 0] > high)])
        k += 1
    return np.concatenate(out)[:n]


def signal_region(n: int, seed: int = 0, low: float = 3.3, high: float = 3.7) -> np.ndarray:
    """``n`` background events inside the signal region."""
    out, k = [], 0
    while sum(len(o) for o in out) < n:
        ev = background(6 * n + 1000, seed=seed + 7919 * k)
        out.append(ev[(ev[:, 0] > low) & (ev[:, 0] < high)])
        k += 1
    return np.concatenate(out)[:n]
