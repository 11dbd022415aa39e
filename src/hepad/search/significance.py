"""Local and global significance of a cut-and-count bump hunt (Das et al.; docs/search.md).

For N observed events over an expected background b with a Gaussian-constrained uncertainty σ
(σ = δ_sys · b), the local significance is

    Z² = 2 [ N ln( N (b + σ²) / (b² + N σ²) ) − (b² / σ²) ln( 1 + σ² (N − b) / (b (b + σ²)) ) ],

which goes to 2 [N ln(N/b) − (N − b)] as σ → 0; Z = 0 when N ≤ b (a deficit is no discovery).

The global significance accounts for the look-elsewhere effect of scanning windows and thresholds: in
background-only pseudo-experiments the counts of every window and threshold are drawn around their
expected backgrounds, and the global p-value is the fraction of toys whose maximum local Z (over all
windows and thresholds) is at least the observed maximum.
"""

from __future__ import annotations


import numpy as np
from scipy.stats import norm

__all__ = ["local_significance", "p_value", "z_value", "background_toys", "toy_max_significance",
           "global_significance"]


def local_significance(n, b, delta_sys: float = 0.0) -> np.ndarray:
    """Z of ``n`` observed over ``b`` expected events with σ = ``delta_sys`` · b (arrays broadcast).

    Z = 0 where n ≤ b, where b is not positive or not finite."""
    n, b = np.broadcast_arrays(np.asarray(n, np.float64), np.asarray(b, np.float64))
    z2 = np.zeros(n.shape)
    ok = np.isfinite(b) & (b > 0) & (n > b)
    nn, bb = n[ok], b[ok]
    s2 = (delta_sys * bb) ** 2
    if delta_sys > 0:
        term1 = nn * np.log(nn * (bb + s2) / (bb**2 + nn * s2))
        term2 = (bb**2 / s2) * np.log1p(s2 * (nn - bb) / (bb * (bb + s2)))
        z2[ok] = 2.0 * (term1 - term2)
    else:
        z2[ok] = 2.0 * (nn * np.log(nn / bb) - (nn - bb))
    z = np.sqrt(np.clip(z2, 0.0, None))
    return z if z.ndim else float(z)


def p_value(z):
    """One-sided p-value of a significance Z (the upper tail of a unit Gaussian)."""
    return norm.sf(z)


def z_value(p):
    """The significance of a one-sided p-value."""
    return norm.isf(p)


def background_toys(b: np.ndarray, delta_sys: float, n_toys: int, seed: int) -> np.ndarray:
    """Background-only counts, shape (n_toys, windows, thresholds), for expected backgrounds ``b``
    (windows × thresholds, thresholds ordered from the loosest to the tightest selection; NaN where a
    threshold has no estimate).

    Per toy and window the true background is b · (1 + δ_sys g) with one Gaussian g (clipped at 0) shared
    by the thresholds; the counts are nested as the selections are: the tightest is Poisson, each looser
    one adds a Poisson count of the difference of the backgrounds."""
    b = np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    scale = np.clip(1.0 + delta_sys * rng.standard_normal((n_toys, b.shape[0], 1)), 0.0, None)
    filled = np.nan_to_num(b, nan=0.0)
    # Increments from the tightest threshold outwards (a looser cut keeps every event of a tighter one).
    tight_first = filled[:, ::-1]
    increments = np.diff(tight_first, axis=1, prepend=0.0).clip(min=0.0)
    counts = rng.poisson(scale * increments[None]).cumsum(axis=2)[:, :, ::-1].astype(np.float64)
    counts[:, np.isnan(b)] = np.nan
    return counts


def toy_max_significance(b: np.ndarray, delta_sys: float, n_toys: int, seed: int) -> np.ndarray:
    """The maximum local Z over all windows and thresholds in each of ``n_toys`` background-only toys."""
    counts = background_toys(b, delta_sys, n_toys, seed)
    z = local_significance(np.nan_to_num(counts, nan=0.0), np.broadcast_to(np.asarray(b, np.float64), counts.shape),
                           delta_sys)
    return z.reshape(n_toys, -1).max(axis=1)


def global_significance(observed_max: float, toy_max: np.ndarray) -> dict:
    """Global p-value and Z: the fraction of toys whose maximum local Z reaches the observed maximum.

    With no toy at or above it, the p-value is only bounded by 1 / n_toys: the result then says so
    ("too few toys to quote a global significance above Z=...") and gives that bound."""
    toy_max = np.asarray(toy_max, np.float64)
    n = len(toy_max)
    above = int((toy_max >= observed_max).sum())
    limit = float(z_value(1.0 / n)) if n else 0.0
    out = {"n_toys": n, "toys_at_or_above": above, "observed_max_local_z": float(observed_max),
           "resolvable_z": limit}
    if n == 0 or above == 0:
        out.update(p_value=None, z=None, p_value_upper_bound=1.0 / n if n else 1.0,
                   message=f"too few toys to quote a global significance above Z={limit:.2f} "
                           f"(no toy of {n} reached the observed maximum local Z={observed_max:.2f})")
    else:
        p = above / n
        out.update(p_value=p, z=float(max(z_value(p), 0.0)), message="")
    return out
