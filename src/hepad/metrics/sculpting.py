"""Does a selection sculpt the mjj spectrum? Test statistics of the selected against the inclusive shape.

A cut on an anomaly score that keeps a fraction ``efficiency`` of background events should keep that
fraction in every mjj bin if the score carries no information on mjj; a score that learned the mjj
dependence of the features instead makes a bump or a slope in the selected spectrum, which a bump hunt
would read as a signal (LaCATHODE, docs/cathode.md). For background events with scores and mjj:

- the cut keeps the k = round(efficiency x N) highest scores, so the kept share is ``efficiency``; ties
  (common with tree ensembles) are broken by a fixed-seed random order, which knows nothing of mjj;
- the mjj bins hold equal numbers of the events (quantiles of their mjj), so every bin tests equally;
- ``chi2``: the sum over bins of (k_i - eps N_i)^2 / (N_i eps (1 - eps)), k_i selected out of N_i, eps
  the overall kept share; with ``ndf`` = bins - 1 (eps is fitted) it follows a chi^2 distribution when
  the selection is flat in mjj (``p_value``); ``chi2_ndf`` near 1 means no sculpting;
- ``ks``, ``ks_p_value``: the two-sample Kolmogorov-Smirnov test of the mjj of the selected against the
  rejected events (two disjoint samples, so the test is exact in its assumptions).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(scores, mjj):
    scores, mjj = np.asarray(scores, np.float64).ravel(), np.asarray(mjj, np.float64).ravel()
    if scores.shape != mjj.shape:
        raise ValueError(f"scores and mjj must have the same length, got {len(scores)} and {len(mjj)}")
    if len(scores) < 2:
        raise ValueError("at least two events are needed")
    return scores, mjj


def equal_population_edges(mjj, n_bins: int) -> np.ndarray:
    """Bin edges with (about) the same number of events in each bin, from the smallest to the largest."""
    edges = np.unique(np.quantile(np.asarray(mjj, np.float64), np.linspace(0.0, 1.0, n_bins + 1)))
    if len(edges) < 3:
        raise ValueError("mjj takes too few distinct values for two bins")
    return edges


def selection_by_bin(scores, mjj, efficiency: float, edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(selected, total, mask) per bin of ``edges`` for the cut that keeps ``efficiency`` of the events;
    ``mask`` marks the selected events (the round(efficiency x N) highest scores, ties in random order)."""
    scores, mjj = _check(scores, mjj)
    if not 0 < efficiency < 1:
        raise ValueError(f"efficiency must lie in (0, 1), got {efficiency}")
    k = int(round(efficiency * len(scores)))
    if not 0 < k < len(scores):
        raise ValueError(f"a cut keeping {efficiency:g} of {len(scores)} events keeps {k}: no shape to compare "
                         "(raise cathode.sculpting.efficiencies)")
    tie_break = np.random.default_rng(0).random(len(scores))
    selected = np.zeros(len(scores), dtype=bool)
    selected[np.lexsort((tie_break, -scores))[:k]] = True
    idx = np.clip(np.searchsorted(edges, mjj, side="right") - 1, 0, len(edges) - 2)
    total = np.bincount(idx, minlength=len(edges) - 1)
    kept = np.bincount(idx[selected], minlength=len(edges) - 1)
    return kept, total, selected


def mjj_sculpting(scores, mjj, efficiencies, n_bins: int) -> list[dict]:
    """The sculpting statistics (module docstring) of background ``scores`` with their ``mjj``, one dict per
    efficiency: efficiency, kept, chi2, ndf, chi2_ndf, p_value, ks, ks_p_value, n_bins, mjj_edges."""
    scores, mjj = _check(scores, mjj)
    edges = equal_population_edges(mjj, n_bins)
    out = []
    for efficiency in efficiencies:
        kept, total, selected = selection_by_bin(scores, mjj, efficiency, edges)
        eps = kept.sum() / total.sum()
        chi2 = float((((kept - eps * total) ** 2) / (total * eps * (1 - eps))).sum())
        ndf = len(total) - 1
        ks = stats.ks_2samp(mjj[selected], mjj[~selected])
        out.append({"efficiency": float(efficiency), "kept": float(eps), "chi2": chi2, "ndf": ndf,
                    "chi2_ndf": chi2 / ndf, "p_value": float(stats.chi2.sf(chi2, ndf)),
                    "ks": float(ks.statistic), "ks_p_value": float(ks.pvalue), "n_bins": len(total),
                    "mjj_edges": edges.tolist()})
    return out
