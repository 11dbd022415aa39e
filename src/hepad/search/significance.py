"""Local and global significance of a cut-and-count bump hunt (Das et al.; docs/search.md).

For N observed events over an expected background b with a Gaussian-constrained uncertainty σ
(σ = δ_sys · b), the local significance is

    Z² = 2 [ N ln( N (b + σ²) / (b² + N σ²) ) − (b² / σ²) ln( 1 + σ² (N − b) / (b (b + σ²)) ) ],

which goes to 2 [N ln(N/b) − (N − b)] as σ → 0; Z = 0 when N ≤ b (a deficit is no discovery).

The global significance accounts for the look-elsewhere effect of scanning windows and thresholds: in
background-only pseudo-experiments the counts of every window and threshold are drawn around their
expected backgrounds, and the global p-value is the fraction of toys whose maximum local Z (over all
windows and thresholds) is at least the observed maximum. The same fraction over background-only reruns
of the whole chain (signal-free data sets, every classifier retrained) is the look-elsewhere estimate that
keeps the correlations of the windows and thresholds; with a few reruns it only bounds the global Z.

δ_sys is measured from background-only runs: every (run, window, threshold) gives an observed N and an
expected b; N is taken as Gaussian with variance b + (δ_sys b)² (Poisson plus the relative uncertainty
of the estimate), and δ_sys maximises that likelihood (:func:`measure_delta_sys`).
"""

from __future__ import annotations


import numpy as np
from scipy.stats import norm

__all__ = ["local_significance", "p_value", "z_value", "background_toys", "toy_max_significance",
           "global_significance", "measure_delta_sys", "max_local_significance"]


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


def global_significance(observed_max: float, toy_max: np.ndarray, what: str = "toys") -> dict:
    """Global p-value and Z: the fraction of toys whose maximum local Z reaches the observed maximum.

    With no toy at or above it, the p-value is only bounded by 1 / n_toys: the result then says so
    ("too few toys to quote a global significance above Z=...") and gives that bound. ``what`` names
    the pseudo-experiments in that message (e.g. "background-only reruns")."""
    toy_max = np.asarray(toy_max, np.float64)
    n = len(toy_max)
    above = int((toy_max >= observed_max).sum())
    limit = max(float(z_value(1.0 / n)), 0.0) if n else 0.0  # a single toy bounds nothing: Z > 0
    out = {"n_toys": n, "toys_at_or_above": above, "observed_max_local_z": float(observed_max),
           "resolvable_z": limit}
    if n == 0 or above == 0:
        out.update(p_value=None, z=None, p_value_upper_bound=1.0 / n if n else 1.0,
                   message=f"too few {what} to quote a global significance above Z={limit:.2f} "
                           f"(none of {n} reached the observed maximum local Z={observed_max:.2f})")
    else:
        p = above / n
        out.update(p_value=p, z=float(max(z_value(p), 0.0)), message="")
    return out


def max_local_significance(n, b, delta_sys: float) -> float:
    """The largest local Z over entries with an estimate (``b`` NaN or None where there is none)."""
    b = np.array([np.nan if v is None else v for v in np.ravel(b)], np.float64)
    n = np.asarray(np.ravel(n), np.float64)
    ok = np.isfinite(b)
    return float(np.max(local_significance(n[ok], b[ok], delta_sys), initial=0.0))


def measure_delta_sys(n, b, upper: float = 10.0) -> dict:
    """δ_sys from background-only counts: the maximum of the likelihood of N ~ Gauss(b, b + (δ b)²) over
    all entries (arrays ``n``, ``b``; entries with b ≤ 0 or not finite are left out).

    Returns the estimate with its 68 % interval from Δ(−2 ln L) = 1 (its lower end 0 when the spread is
    Poisson only), the mean relative excess (N − b) / b and the number of entries. The entries of one run
    are correlated (nested thresholds, overlapping windows), so the interval is optimistic."""
    from scipy.optimize import brentq, minimize_scalar

    n, b = np.asarray(n, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    ok = np.isfinite(b) & (b > 0)
    n, b = n[ok], b[ok]
    if len(n) < 2:
        raise ValueError(f"δ_sys needs at least two background-only counts with an estimate, got {len(n)}")

    def nll(delta):
        var = b + (delta * b) ** 2
        return float(((n - b) ** 2 / var + np.log(var)).sum())

    best = minimize_scalar(nll, bounds=(0.0, upper), method="bounded", options={"xatol": 1e-6})
    delta = float(best.x) if nll(best.x) < nll(0.0) else 0.0
    floor = nll(delta)

    def excess(d):
        return nll(d) - floor - 1.0

    def crossing(a, c):
        """Where −2 ln L rises by 1 between a and c, None if it does not."""
        if excess(a) * excess(c) > 0:
            return None
        return float(brentq(excess, min(a, c), max(a, c)))

    low = crossing(0.0, delta) if delta > 0 else None
    high = crossing(delta, upper)
    return {"delta_sys": delta, "interval_68": [0.0 if low is None else low, upper if high is None else high],
            "mean_relative_excess": float(np.mean((n - b) / b)), "n_entries": int(len(n))}
