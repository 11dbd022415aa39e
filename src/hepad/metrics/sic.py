"""ROC curve, AUC and the significance improvement characteristic (SIC) of an anomaly score.

With signal efficiency (true positive rate) TPR and background efficiency (false positive rate) FPR of
a cut on the score, the significance improvement is

    SIC = TPR / sqrt(FPR),

the factor by which the cut multiplies S/sqrt(B). It diverges as FPR -> 0 on a finite test set, so
points with too few selected test background events are dropped: a point is kept only if

    FPR * N_bkg >= min_bkg_events      (and FPR > 0),

i.e. at least ``min_bkg_events`` test background events pass the cut. The default 25 bounds the
relative statistical uncertainty of FPR at 1/sqrt(25) = 20 % (10 % on SIC). Larger scores mean
"more signal-like". Tied scores are one threshold (no arbitrary ordering of equal scores); between ROC
points the curve is linear (a random choice among tied events), so the SIC curve also holds the point
at exactly FPR = min_bkg_events / N_bkg when that falls inside a ROC segment (trees often give the
background tied scores).

The CATHODE paper cuts on the FPR instead: a point is kept only if FPR > ``min_fpr`` (1.84e-5 in its
curves, a few events of its test background). Every function below takes ``min_fpr``: when it is given
(not None) that cut replaces the ``min_bkg_events`` one, and the ROC points are filtered as published
(no point is added at the cut).
"""

from __future__ import annotations

import numpy as np

MIN_BKG_EVENTS = 25
SUMMARY_EFFICIENCIES = (0.2, 0.5)
SUMMARY_TPR_FOR_FPR = 0.4


def _check(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"scores ({scores.shape}) and labels ({labels.shape}) differ in length")
    if not np.all(np.isin(labels, (0, 1))):
        raise ValueError("labels must be 0 (background) or 1 (signal)")
    if np.isnan(scores).any():
        raise ValueError(f"{int(np.isnan(scores).sum())} scores are NaN")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("both signal (1) and background (0) test events are needed")
    return scores, labels


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) of the cuts ``score >= threshold``, thresholds decreasing.

    The first point is (0, 0) with threshold +inf; the last is (1, 1).
    """
    scores, labels = _check(scores, labels)
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    # Last index of every run of equal scores: one ROC point per distinct threshold.
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    tpr = np.r_[0.0, tp / y.sum()]
    fpr = np.r_[0.0, fp / (~y).sum()]
    return fpr, tpr, np.r_[np.inf, s[last]]


def auc(scores, labels) -> float:
    """Area under the ROC curve (trapezoids: ties count one half)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.trapezoid(tpr, fpr))


def sic_curve(scores, labels, min_bkg_events: float = MIN_BKG_EVENTS,
              min_fpr: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(tpr, sic) at the ROC points with FPR > 0 and FPR * N_bkg >= ``min_bkg_events`` (or, when
    ``min_fpr`` is given, with FPR > ``min_fpr``)."""
    fpr, tpr, _ = roc_curve(scores, labels)
    if min_fpr is not None:
        keep = (fpr > 0) & (fpr > min_fpr)
        return tpr[keep], tpr[keep] / np.sqrt(fpr[keep])
    n_bkg = int((np.asarray(labels).ravel() == 0).sum())
    f_min = max(min_bkg_events / n_bkg, np.finfo(float).tiny)
    keep = (fpr > 0) & (fpr >= f_min - 1e-12)
    tpr_k, fpr_k = tpr[keep], fpr[keep]
    # The ROC segment that crosses f_min (tied scores, or sparse points) holds a valid cut at f_min
    # itself (random tie-breaking); along a segment SIC is largest at an end, so adding this point
    # makes max SIC exact. Without it, a classifier that ties all its background would score SIC = 1.
    i = int(np.searchsorted(fpr, f_min, side="left"))
    if 0 < i < len(fpr) and fpr[i] > f_min + 1e-12:
        t = tpr[i - 1] + (tpr[i] - tpr[i - 1]) * (f_min - fpr[i - 1]) / (fpr[i] - fpr[i - 1])
        tpr_k, fpr_k = np.r_[t, tpr_k], np.r_[f_min, fpr_k]
    return tpr_k, tpr_k / np.sqrt(fpr_k)


def max_sic(scores, labels, min_bkg_events: float = MIN_BKG_EVENTS, min_fpr: float | None = None) -> float:
    """Largest SIC over the kept points (NaN if none is kept)."""
    _, sic = sic_curve(scores, labels, min_bkg_events, min_fpr)
    return float(sic.max()) if len(sic) else float("nan")


def fpr_at_tpr(scores, labels, tpr_value: float) -> float:
    """FPR at signal efficiency ``tpr_value``, linear between ROC points (random tie-breaking)."""
    if not 0.0 < tpr_value <= 1.0:
        raise ValueError(f"tpr_value must be in (0, 1], got {tpr_value}")
    fpr, tpr, _ = roc_curve(scores, labels)
    # tpr is non-decreasing with flat stretches: find the first point reaching tpr_value and
    # interpolate on the segment that rises to it (unambiguous, unlike np.interp on repeated x).
    i = int(np.searchsorted(tpr, tpr_value - 1e-12, side="left"))
    i = max(i, 1)
    t0, t1, f0, f1 = tpr[i - 1], tpr[i], fpr[i - 1], fpr[i]
    return float(f1 if t1 == t0 else f0 + (f1 - f0) * (tpr_value - t0) / (t1 - t0))


def sic_at_efficiency(scores, labels, efficiency: float, min_bkg_events: float = MIN_BKG_EVENTS,
                      min_fpr: float | None = None) -> float:
    """SIC at signal efficiency ``efficiency``; NaN where fewer than ``min_bkg_events`` background pass
    (or, when ``min_fpr`` is given, where FPR <= ``min_fpr``)."""
    fpr = fpr_at_tpr(scores, labels, efficiency)
    if min_fpr is not None:
        if fpr <= 0 or fpr <= min_fpr:
            return float("nan")
        return float(efficiency / np.sqrt(fpr))
    n_bkg = int((np.asarray(labels).ravel() == 0).sum())
    if fpr <= 0 or fpr * n_bkg < min_bkg_events - 1e-9:
        return float("nan")
    return float(efficiency / np.sqrt(fpr))


def sic_on_grid(scores, labels, tpr_grid, min_bkg_events: float = MIN_BKG_EVENTS,
                min_fpr: float | None = None) -> np.ndarray:
    """SIC at each signal efficiency of ``tpr_grid`` (NaN where the point would be dropped), so that
    curves of several runs can be combined point by point."""
    return np.array([sic_at_efficiency(scores, labels, e, min_bkg_events, min_fpr) for e in np.asarray(tpr_grid)])


def _peak_at_cut(tpr, sic, best) -> bool | None:
    """Whether the SIC curve's largest point has the lowest FPR of the kept points (FPR = (TPR/SIC)^2)."""
    if best is None:
        return None
    fpr = (tpr / sic) ** 2
    return bool(np.isclose(fpr[best], fpr.min(), rtol=1e-9, atol=0.0))


def summarize(scores, labels, min_bkg_events: float = MIN_BKG_EVENTS, min_fpr: float | None = None) -> dict:
    """The figures of merit of one run, as a JSON-ready dict.

    Keys: ``max_sic``, ``tpr_at_max_sic``, ``max_sic_at_cut`` (True when the largest SIC is the curve's
    point of lowest FPR, the test-set cut: the value is then capped by the test set's size, not a peak
    of the classifier), ``sic_at_eff_0.2``, ``sic_at_eff_0.5``, ``auc``,
    ``fpr_at_tpr_0.4``, ``n_signal``, ``n_background``, ``min_bkg_events``, ``min_fpr`` (None: the
    ``min_bkg_events`` cut applies). NaN is written as None.
    """
    scores, labels = _check(scores, labels)
    tpr, sic = sic_curve(scores, labels, min_bkg_events, min_fpr)
    best = int(np.argmax(sic)) if len(sic) else None
    out = {
        "max_sic": float(sic[best]) if best is not None else None,
        "tpr_at_max_sic": float(tpr[best]) if best is not None else None,
        "max_sic_at_cut": _peak_at_cut(tpr, sic, best),
        "auc": auc(scores, labels),
        f"fpr_at_tpr_{SUMMARY_TPR_FOR_FPR}": fpr_at_tpr(scores, labels, SUMMARY_TPR_FOR_FPR),
        "n_signal": int(labels.sum()),
        "n_background": int((~labels).sum()),
        "min_bkg_events": min_bkg_events,
        "min_fpr": min_fpr,
    }
    for eff in SUMMARY_EFFICIENCIES:
        value = sic_at_efficiency(scores, labels, eff, min_bkg_events, min_fpr)
        out[f"sic_at_eff_{eff}"] = None if np.isnan(value) else value
    return out
