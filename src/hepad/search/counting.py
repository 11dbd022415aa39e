"""Cut and count in one window (docs/search.md): thresholds at background efficiencies, the observed count
N above each and its expected background b, from a background template or from the dijet fit.

The rows returned are the per-threshold records of the search JSON; a threshold that gets no estimate
has ``b = None`` and a ``note`` saying why. ``b_error`` is the estimate's own statistical error (the
template's finite number of selected events; the dijet fit's error), which enters σ with δ_sys.
Significances are added later (hepad.search.significance), once the background uncertainty δ_sys is known.
"""

from __future__ import annotations

import numpy as np

from hepad.search.fit import TooFewEvents, fit_dijet

__all__ = ["TEMPLATE_BINS", "template_counts", "fit_counts"]

TEMPLATE_BINS = 8  # bins of the selected spectrum inside a window (the template methods' plot)
MJJ, LABEL = 0, 5  # columns of hepad.cathode.prepared.COLUMNS


def template_counts(window, sr: np.ndarray, sr_scores: np.ndarray, template: np.ndarray, tpl_scores: np.ndarray,
                    efficiencies) -> list[dict]:
    """Thresholds at the (1 − ε) quantiles of the template's scores; b = (selected template fraction) · N_SR.

    ``sr`` and ``template`` are rows of hepad.cathode.prepared.COLUMNS with their out-of-fold scores."""
    edges = np.linspace(window.low, window.high, TEMPLATE_BINS + 1)
    scale = len(sr) / len(template)
    rows = []
    for eff in efficiencies:
        row = {"efficiency": eff}
        if eff * len(template) < 1:
            row.update(b=None, note=f"the template holds {len(template)} events, too few for ε = {eff:g}")
        else:
            thr = float(np.quantile(tpl_scores, 1 - eff))
            sel, tsel = sr_scores > thr, tpl_scores > thr
            tpl_hist = np.histogram(template[tsel, MJJ], edges)[0]
            row.update(threshold=thr, n_observed=int(sel.sum()), b=float(tsel.sum() * scale),
                       b_error=float(np.sqrt(tsel.sum()) * scale), selected_signal=int(sr[sel, LABEL].sum()),
                       hist={"edges": edges.tolist(), "data": np.histogram(sr[sel, MJJ], edges)[0].tolist(),
                             "background": (tpl_hist * scale).tolist(), "error": (np.sqrt(tpl_hist) * scale).tolist()})
        rows.append(row)
    return rows


def fit_counts(window, sr: np.ndarray, sr_scores: np.ndarray, outside: np.ndarray, out_scores: np.ndarray,
               efficiencies, fit_range, bin_width: float, min_events: int, seed: int) -> list[dict]:
    """Thresholds at the (1 − ε) quantiles of the scores of the events outside the window (within
    ``fit_range``); b = the dijet fit of their selected mjj spectrum, integrated over the window."""
    in_range = (outside[:, MJJ] > fit_range[0]) & (outside[:, MJJ] < fit_range[1])
    edges = np.arange(fit_range[0], fit_range[1] + 1e-9, bin_width)
    rows = []
    for eff in efficiencies:
        thr = float(np.quantile(out_scores[in_range], 1 - eff))
        sel = sr_scores > thr
        row = {"efficiency": eff, "threshold": thr, "n_observed": int(sel.sum()),
               "selected_signal": int(sr[sel, LABEL].sum())}
        selected_out = outside[in_range & (out_scores > thr), MJJ]
        try:
            fit = fit_dijet(selected_out, window, edges, min_events=min_events)
        except TooFewEvents as err:  # a statement about the data, not a failure: no estimate
            row.update(b=None, note=str(err))
            rows.append(row)
            continue
        _, _, b, b_err = fit.expected_with_error([window.low, window.high], seed=seed)
        mean, err = fit.expected(edges), fit.expected_with_error(edges, seed=seed)[1]
        data_hist = np.histogram(np.r_[selected_out, sr[sel, MJJ]], edges)[0]
        row.update(b=b, b_error=b_err, fit_params=fit.params.tolist(),
                   hist={"edges": edges.tolist(), "data": data_hist.tolist(), "background": mean.tolist(),
                         "error": err.tolist()})
        rows.append(row)
    return rows
