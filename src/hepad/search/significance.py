"""Local and global significance of a cut-and-count bump hunt (Das et al.; docs/search.md).

For N observed events over an expected background b with a Gaussian-constrained uncertainty σ, the local
significance is

    Z² = 2 [ N ln( N (b + σ²) / (b² + N σ²) ) − (b² / σ²) ln( 1 + σ² (N − b) / (b (b + σ²)) ) ],

which goes to 2 [N ln(N/b) − (N − b)] as σ → 0; Z = 0 when N ≤ b (a deficit is no discovery). σ adds in
quadrature the systematic uncertainty δ_sys · b and the estimate's own statistical error e (b_error: the
template's finite number of events, or the dijet fit's error): σ² = (δ_sys b)² + e². Without e a template
of a few selected events at the tightest thresholds passed for an exact background.

The global significance accounts for the look-elsewhere effect of scanning windows and thresholds: in
background-only pseudo-experiments the counts of every window and threshold are drawn around their
expected backgrounds, and the global p-value is the fraction of toys whose maximum local Z (over all
windows and thresholds) is at least the observed maximum. The same fraction over background-only reruns
of the whole chain (signal-free data sets, every classifier retrained) is the look-elsewhere estimate that
keeps the correlations of the windows and thresholds; with a few reruns it only bounds the global Z.

δ_sys is measured from background-only runs: every (run, window, threshold) gives an observed N and an
expected b with its error e; N is taken as Gaussian with variance b + e² + (δ_sys b)² (Poisson, the
estimate's statistical error and the relative uncertainty of the method), and δ_sys maximises that
likelihood (:func:`measure_delta_sys`). A one-sided bias of the estimate is not a spread: the background-only
runs measure it per threshold (:func:`measure_bias`, Σ N / Σ b) and b is scaled by it
(:func:`correct_background`) before δ_sys is measured around the corrected b.
"""

from __future__ import annotations


import numpy as np
from scipy.stats import norm

__all__ = ["local_significance", "p_value", "z_value", "background_toys", "toy_max_significance",
           "global_significance", "measure_delta_sys", "measure_bias", "correct_background", "max_local_significance",
           "p_value_uniformity", "toy_exceedance", "record_arrays"]


def _as_float(values) -> np.ndarray:
    """Expected backgrounds as a float array, NaN where there is no estimate (None)."""
    return np.array([np.nan if v is None else v for v in np.ravel(values)], np.float64).reshape(np.shape(values))


def _b_error(b_error, shape) -> np.ndarray:
    """The estimate's statistical error as an array of ``shape`` (None or NaN: 0, no error known)."""
    if b_error is None:
        return np.zeros(shape)
    if isinstance(b_error, np.ndarray) and b_error.dtype.kind == "f":
        return np.broadcast_to(np.nan_to_num(b_error, nan=0.0), shape)
    return np.broadcast_to(np.nan_to_num(_as_float(b_error), nan=0.0), shape)


def record_arrays(record: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """b, its statistical error and the local Z of a counts or significance record (the JSON of
    search_counts / search_significance) as windows × thresholds float arrays: b and Z NaN where a threshold
    has no estimate (or no Z yet), the error 0 where none is known."""
    rows = [w["thresholds"] for w in record["windows"]]
    b = np.array([[np.nan if r["b"] is None else r["b"] for r in t] for t in rows], np.float64)
    e = np.array([[r.get("b_error") or 0.0 for r in t] for t in rows], np.float64)
    z = np.array([[r.get("z", np.nan) for r in t] for t in rows], np.float64)
    return b, e, z


def local_significance(n, b, delta_sys: float = 0.0, b_error=None) -> np.ndarray:
    """Z of ``n`` observed over ``b`` expected events with σ² = (``delta_sys`` · b)² + ``b_error``² (arrays
    broadcast; ``b_error`` None: 0).

    Z = 0 where n ≤ b, where b is not positive or not finite."""
    n, b = np.broadcast_arrays(np.asarray(n, np.float64), np.asarray(b, np.float64))
    e = _b_error(b_error, n.shape)
    z2 = np.zeros(n.shape)
    ok = np.isfinite(b) & (b > 0) & (n > b)
    nn, bb = n[ok], b[ok]
    s2 = (delta_sys * bb) ** 2 + e[ok] ** 2
    # σ² relative to b below 1e-12: the σ → 0 formula (the other loses its precision there)
    syst = s2 > 1e-12 * bb**2
    ns, bs, ss = nn[syst], bb[syst], s2[syst]
    z2_ok = 2.0 * (nn * np.log(nn / bb) - (nn - bb))
    z2_ok[syst] = 2.0 * (ns * np.log(ns * (bs + ss) / (bs**2 + ns * ss))
                         - (bs**2 / ss) * np.log1p(ss * (ns - bs) / (bs * (bs + ss))))
    z2[ok] = z2_ok
    z = np.sqrt(np.clip(z2, 0.0, None))
    return z if z.ndim else float(z)


def p_value(z):
    """One-sided p-value of a significance Z (the upper tail of a unit Gaussian)."""
    return norm.sf(z)


def z_value(p):
    """The significance of a one-sided p-value."""
    return norm.isf(p)


def background_toys(b: np.ndarray, delta_sys: float, n_toys: int, seed: int, b_error=None) -> np.ndarray:
    """Background-only counts, shape (n_toys, windows, thresholds), for expected backgrounds ``b``
    (windows × thresholds, thresholds ordered from the loosest to the tightest selection; NaN where a
    threshold has no estimate) with statistical errors ``b_error`` (same shape; None: 0).

    Per toy and window the true background of each threshold is b · (1 + r g), r² = δ_sys² + (e / b)²,
    with one Gaussian g shared by the thresholds (clipped where it makes the truth negative); the counts
    are nested as the selections are: the tightest is Poisson, each looser one adds a Poisson count of the
    difference of the true backgrounds (0 where the truths are out of order)."""
    b = np.asarray(b, np.float64)
    filled = np.nan_to_num(b, nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(filled > 0, _b_error(b_error, b.shape) / np.where(filled > 0, filled, 1.0), 0.0)
    r = np.sqrt(delta_sys**2 + relative**2)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((n_toys, b.shape[0], 1))
    truth = np.clip(filled[None] * (1.0 + r[None] * g), 0.0, None)
    # Increments from the tightest threshold outwards (a looser cut keeps every event of a tighter one).
    tight_first = truth[:, :, ::-1]
    increments = np.diff(tight_first, axis=2, prepend=0.0).clip(min=0.0)
    counts = rng.poisson(increments).cumsum(axis=2)[:, :, ::-1].astype(np.float64)
    counts[:, np.isnan(b)] = np.nan
    return counts


def toy_max_significance(b: np.ndarray, delta_sys: float, n_toys: int, seed: int, b_error=None) -> np.ndarray:
    """The maximum local Z over all windows and thresholds in each of ``n_toys`` background-only toys."""
    return _toy_significance(b, delta_sys, n_toys, seed, b_error).reshape(n_toys, -1).max(axis=1)


def _toy_significance(b, delta_sys: float, n_toys: int, seed: int, b_error=None) -> np.ndarray:
    """The local Z of every window and threshold in ``n_toys`` background-only toys (toys x windows x
    thresholds; 0 where b has no estimate)."""
    counts = background_toys(b, delta_sys, n_toys, seed, b_error)
    shape = counts.shape
    error = None if b_error is None else np.broadcast_to(_b_error(b_error, np.shape(b)), shape)
    return local_significance(np.nan_to_num(counts, nan=0.0), np.broadcast_to(np.asarray(b, np.float64), shape),
                              delta_sys, error)


def p_value_uniformity(z) -> tuple[float, float]:
    """Whether background-only local significances ``z`` (any shape; one threshold) are as a calibrated
    method gives them: (the KS p-value that the local p-values below 1/2 are uniform on [0, 1/2], the
    binomial p-value that half of all lie there). A deficit has Z = 0 and p = 1/2, so only the upper half of
    the p-values is uniform; a sculpting template piles p-values up near 0 and fails both. NaN for both
    without any significance (a threshold without estimates)."""
    from scipy.stats import binomtest, kstest

    p = p_value(np.ravel(np.asarray(z, np.float64)))
    if not len(p):
        return float("nan"), float("nan")
    below = p[p < 0.5]
    ks = kstest(2 * below, "uniform").pvalue if len(below) else 1.0
    return float(ks), float(binomtest(len(below), len(p)).pvalue)


def toy_exceedance(b: np.ndarray, delta_sys: float, n_toys: int, seed: int, b_error=None,
                   z: float = 3.0) -> tuple[float, np.ndarray]:
    """What the look-elsewhere effect alone predicts for one data set with expected backgrounds ``b``
    (windows × thresholds) and their errors: the probability that some window exceeds local significance
    ``z`` at some threshold, and the same per window, from :func:`background_toys`. Summed over data sets,
    the first is the Poisson mean of the number of background-only data sets with a window above ``z``."""
    toy_z = _toy_significance(b, delta_sys, n_toys, seed, b_error)
    per_window = (toy_z.max(axis=2) > z).mean(axis=0)
    return float((toy_z.max(axis=(1, 2)) > z).mean()), per_window


def global_significance(observed_max: float, toy_max: np.ndarray, what: str = "toys") -> dict:
    """Global p-value and Z: the fraction of toys whose maximum local Z reaches the observed maximum; the
    toys' own maximum local Z (16, 50, 84 % quantiles) is the look-elsewhere expectation without signal.

    With no toy at or above it, the p-value is only bounded by 1 / n_toys: the result then says so
    ("too few toys to quote a global significance above Z=...") and gives that bound. ``what`` names
    the pseudo-experiments in that message (e.g. "background-only reruns")."""
    toy_max = np.asarray(toy_max, np.float64)
    n = len(toy_max)
    above = int((toy_max >= observed_max).sum())
    limit = max(float(z_value(1.0 / n)), 0.0) if n else 0.0  # a single toy bounds nothing: Z > 0
    out = {"n_toys": n, "toys_at_or_above": above, "observed_max_local_z": float(observed_max),
           "resolvable_z": limit,
           # what the look-elsewhere effect alone gives without signal: the toys' max local Z, 16/50/84 %
           "toy_max_local_z_16_50_84": np.quantile(toy_max, [0.16, 0.5, 0.84]).tolist() if n else None}
    if n == 0 or above == 0:
        out.update(p_value=None, z=None, p_value_upper_bound=1.0 / n if n else 1.0,
                   message=f"too few {what} to quote a global significance above Z={limit:.2f} "
                           f"(none of {n} reached the observed maximum local Z={observed_max:.2f})")
    else:
        p = above / n
        out.update(p_value=p, z=float(max(z_value(p), 0.0)), message="")
    return out


def measure_bias(n, b, b_error, threshold) -> dict:
    """The background estimate's non-closure per threshold, from background-only counts: the factor
    f_j = Σ N / Σ b over the entries of threshold j (arrays ``n``, ``b``, ``b_error`` and ``threshold``,
    the threshold index of each entry; entries without an estimate are left out), with its statistical
    error (Poisson on Σ N, the estimates' errors on Σ b). Scaling b by f_j removes the bias that the
    template (or the fit) shows on data without signal; the spread around it is left to δ_sys."""
    n, b, threshold = (np.asarray(a, np.float64).ravel() for a in (n, b, threshold))
    e = np.zeros(len(b)) if b_error is None else _b_error(b_error, np.shape(b_error)).ravel()
    ok = np.isfinite(b) & (b > 0)
    factors, errors = [], []
    for j in range(int(np.nanmax(threshold)) + 1 if len(threshold) else 0):
        sel = ok & (threshold == j)
        total_n, total_b = n[sel].sum(), b[sel].sum()
        if total_b <= 0:
            factors.append(1.0)
            errors.append(0.0)
            continue
        f = total_n / total_b
        factors.append(float(f))
        errors.append(float(np.hypot(np.sqrt(total_n) / total_b, f * np.sqrt((e[sel] ** 2).sum()) / total_b)))
    return {"factor": factors, "error": errors}


def correct_background(b, b_error, threshold, bias: dict) -> tuple[np.ndarray, np.ndarray]:
    """``b`` and ``b_error`` (None: no estimate, no error known) scaled by the bias factor of each entry's
    threshold (:func:`measure_bias`), the factor's error added to b's in quadrature; float arrays, NaN where
    b has no estimate."""
    b = _as_float(b)
    j = np.asarray(threshold, np.int64).reshape(b.shape)
    f, df = np.asarray(bias["factor"], np.float64)[j], np.asarray(bias["error"], np.float64)[j]
    return b * f, np.hypot(_b_error(b_error, b.shape) * f, b * df)


def max_local_significance(n, b, delta_sys: float, b_error=None) -> float:
    """The largest local Z over entries with an estimate (``b`` NaN or None where there is none; ``b_error``
    None, or None where unknown: 0)."""
    b = _as_float(b).ravel()
    n = np.asarray(np.ravel(n), np.float64)
    e = _b_error(b_error, b.shape) if b_error is not None else np.zeros(b.shape)
    ok = np.isfinite(b)
    return float(np.max(local_significance(n[ok], b[ok], delta_sys, e[ok]), initial=0.0))


def measure_delta_sys(n, b, b_error=None, upper: float = 10.0) -> dict:
    """δ_sys from background-only counts: the maximum of the likelihood of N ~ Gauss(b, b + e² + (δ b)²)
    over all entries (arrays ``n``, ``b`` and the estimates' errors ``b_error``, None: 0; entries with b ≤ 0
    or not finite are left out).

    Returns the estimate with its 68 % interval from Δ(−2 ln L) = 1 (its lower end 0 when the spread is
    Poisson only), the mean relative excess (N − b) / b and the number of entries. The entries of one run
    are correlated (nested thresholds, overlapping windows), so the interval is optimistic."""
    from scipy.optimize import brentq, minimize_scalar

    n, b = np.asarray(n, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    e2 = _b_error(b_error, b.shape).ravel() ** 2
    ok = np.isfinite(b) & (b > 0)
    n, b, e2 = n[ok], b[ok], e2[ok]
    if len(n) < 2:
        raise ValueError(f"δ_sys needs at least two background-only counts with an estimate, got {len(n)}")

    def nll(delta):
        var = b + e2 + (delta * b) ** 2
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
