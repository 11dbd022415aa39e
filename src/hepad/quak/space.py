"""QUAK space: every event is a point with one coordinate per prior, its loss under that prior.

Column 0 of a loss matrix is the background prior, columns 1.. are signal priors. A selection is a box

    keep = (loss_bkg > bkg_min) and (loss_sig_i < sig_max_i for every signal prior i)

("unlike the background and like some signal"), with strict inequalities (an event on an edge is out).

Two ways to turn boxes into a ROC curve:

1. :func:`hull_roc`, as in the paper: scan a grid of boxes and take, at each background efficiency, the
   box with the highest signal efficiency (the upper hull; monotone by construction). Picking the best of
   many boxes on the events that are then counted would flatter the result, so the boxes are chosen on
   one labelled set (calibration) and counted on another (test): the ROC is the chosen boxes' test
   points in the order of their calibration background efficiency, with no second envelope taken on the
   test labels (which would choose again on the counted events). This uses signal labels to choose
   cuts, as the paper does.
2. :class:`QuantileBoxes`: a one-parameter family of nested selections fixed by the background alone: at
   level t, bkg_min is the (1 - t) quantile of the background's background-prior loss and sig_max_i the
   t quantile of its signal-prior-i loss; an event is selected if it is above bkg_min and below sig_max_i
   for at least one signal prior (like some signal hypothesis; with one signal prior this is the box).
   An event enters the family at t = max(1 - F_0(l_0), min_i F_i(l_i)) (F_a: background CDF of axis a),
   so ``-t`` is a single anomaly score (nested selections: the usual ROC/SIC of :mod:`hepad.metrics.sic`
   apply), and :func:`working_point` picks the t whose background efficiency on a validation set is the
   target. No signal label is needed: this is the selection a search can use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepad.metrics.sic import MIN_BKG_EVENTS

# Grid cells of the hull scan: about this many boxes whatever the number of axes.
MAX_GRID_CELLS = 300_000


@dataclass
class BoxCut:
    """keep = loss[:, 0] > bkg_min and loss[:, i] < sig_max[i - 1] for every i >= 1 (a box), or, with
    ``any_signal``, for at least one i >= 1 (a union of boxes: like at least one signal prior)."""

    bkg_min: float
    sig_max: np.ndarray
    any_signal: bool = False

    def __post_init__(self):
        self.sig_max = np.atleast_1d(np.asarray(self.sig_max, dtype=np.float64))

    def select(self, losses) -> np.ndarray:
        losses = _as_losses(losses)
        if losses.shape[1] != 1 + len(self.sig_max):
            raise ValueError(f"box has {1 + len(self.sig_max)} axes, losses have {losses.shape[1]}")
        return box_mask(losses, self.bkg_min, self.sig_max, self.any_signal)

    def to_dict(self) -> dict:
        return {"bkg_min": float(self.bkg_min), "sig_max": [float(v) for v in self.sig_max],
                "any_signal": bool(self.any_signal)}


def _as_losses(losses) -> np.ndarray:
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim == 1:
        losses = losses[:, None]
    if losses.ndim != 2:
        raise ValueError(f"losses must have shape (n, n_priors), got {losses.shape}")
    if np.isnan(losses).any():
        raise ValueError(f"{int(np.isnan(losses).any(1).sum())} events have NaN losses")
    return losses


def box_mask(losses, bkg_min: float, sig_max=(), any_signal: bool = False) -> np.ndarray:
    """Events inside the box: loss[:, 0] > bkg_min and loss[:, 1:] < sig_max (every signal axis, or at
    least one with ``any_signal``)."""
    losses = _as_losses(losses)
    sig_max = np.atleast_1d(np.asarray(sig_max, dtype=np.float64))
    keep = losses[:, 0] > bkg_min
    if losses.shape[1] > 1:
        below = losses[:, 1:] < sig_max[None, :]
        keep &= below.any(axis=1) if any_signal else below.all(axis=1)
    return keep


# ---------------------------------------------------------------------------------------------- hull ROC

def grid_thresholds(losses, n_per_axis: int | None = None) -> list[np.ndarray]:
    """Per axis, sorted cut values at quantiles of ``losses``, with the 'no cut' value included
    (-inf for the background axis, +inf for signal axes)."""
    losses = _as_losses(losses)
    k = losses.shape[1]
    if n_per_axis is None:
        n_per_axis = int(min(2000, max(4, np.floor(MAX_GRID_CELLS ** (1.0 / k)))))
    q = np.linspace(0.0, 1.0, n_per_axis + 1)[1:-1]
    out = []
    for axis in range(k):
        cuts = np.unique(np.quantile(losses[:, axis], q))
        extra = -np.inf if axis == 0 else np.inf
        out.append(np.unique(np.r_[cuts, extra]))
    return out


def box_counts(losses, weights, thresholds) -> np.ndarray:
    """Sum of ``weights`` of the events inside every box of the grid.

    Entry [i0, i1, ...] is the box bkg_min = thresholds[0][i0], sig_max_j = thresholds[j][ij]. One pass
    over the events (bin index per axis) and cumulative sums: O(n k + cells).
    """
    losses = _as_losses(losses)
    weights = np.asarray(weights, dtype=np.float64)
    shape, idx = [], []
    for axis, cuts in enumerate(thresholds):
        cuts = np.asarray(cuts, dtype=np.float64)
        if axis == 0:
            # passes cut i iff v > cuts[i], i.e. i < (number of cuts below v)
            idx.append(np.searchsorted(cuts, losses[:, 0], side="left"))
        else:
            # passes cut i iff v < cuts[i], i.e. i >= (number of cuts at or below v)
            idx.append(np.searchsorted(cuts, losses[:, axis], side="right"))
        shape.append(len(cuts) + 1)
    flat = np.ravel_multi_index(idx, shape)
    counts = np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).reshape(shape)
    # axis 0: events with bin index > i pass cut i; others: bin index <= i.
    counts = np.flip(np.cumsum(np.flip(counts, 0), 0), 0)[1:]
    for axis in range(1, len(thresholds)):
        counts = np.cumsum(counts, axis=axis).take(np.arange(shape[axis] - 1), axis=axis)
    return counts


def upper_envelope(fpr, tpr) -> np.ndarray:
    """Indices of the points on the monotone upper envelope: sorted by FPR, each with a TPR above every
    point at the same or lower FPR."""
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    order = np.lexsort((-tpr, fpr))
    best, keep = -np.inf, []
    for i in order:
        if tpr[i] > best:
            keep.append(i)
            best = tpr[i]
    return np.asarray(keep, dtype=np.int64)


@dataclass
class HullROC:
    """ROC of the best boxes: ``fpr``/``tpr`` on the evaluation set, from (0, 0) to (1, 1), in the order of
    ``fpr_calib`` (the boxes' background efficiency on the calibration set that chose them); ``boxes`` the
    box of every point (None for the added (0, 0)). Counted on another set than the one that chose the
    boxes, the curve need not be monotone: it is not enveloped again."""

    fpr: np.ndarray
    tpr: np.ndarray
    boxes: list
    n_background: int
    fpr_calib: np.ndarray | None = None

    @property
    def auc(self) -> float:
        """Area under the curve as a path (points in calibration order; a step back in FPR subtracts)."""
        return float(np.trapezoid(self.tpr, self.fpr))

    def sic(self, min_bkg_events: float = MIN_BKG_EVENTS) -> tuple[np.ndarray, np.ndarray]:
        """(tpr, sic) at the points with at least ``min_bkg_events`` selected background events."""
        keep = (self.fpr > 0) & (self.fpr * self.n_background >= min_bkg_events - 1e-9)
        return self.tpr[keep], self.tpr[keep] / np.sqrt(self.fpr[keep])

    def max_sic(self, min_bkg_events: float = MIN_BKG_EVENTS) -> float:
        _, sic = self.sic(min_bkg_events)
        return float(sic.max()) if len(sic) else float("nan")

    def summary(self, min_bkg_events: float = MIN_BKG_EVENTS) -> dict:
        tpr, sic = self.sic(min_bkg_events)
        best = int(np.argmax(sic)) if len(sic) else None
        return {"auc": self.auc, "max_sic": float(sic[best]) if best is not None else None,
                "tpr_at_max_sic": float(tpr[best]) if best is not None else None}


def _rates(losses, labels, thresholds):
    labels = np.asarray(labels).astype(bool).ravel()
    n_sig, n_bkg = int(labels.sum()), int((~labels).sum())
    if n_sig == 0 or n_bkg == 0:
        raise ValueError("both signal (1) and background (0) events are needed")
    sig = box_counts(losses, labels, thresholds) / n_sig
    bkg = box_counts(losses, ~labels, thresholds) / n_bkg
    return sig.ravel(), bkg.ravel(), n_bkg


def hull_roc(losses_val, labels_val, losses_test=None, labels_test=None, n_per_axis: int | None = None) -> HullROC:
    """ROC of the upper hull of box cuts, boxes chosen on (losses_val, labels_val) and counted on the
    test set (the same set when no test set is given: the optimistic in-sample hull).

    The grid's cut values are quantiles of the validation losses (:func:`grid_thresholds`); the no-cut
    values are on the grid, so one signal axis can always be switched off.
    """
    losses_val = _as_losses(losses_val)
    thresholds = grid_thresholds(losses_val, n_per_axis)
    tpr_v, fpr_v, _ = _rates(losses_val, labels_val, thresholds)
    chosen = upper_envelope(fpr_v, tpr_v)
    if losses_test is None:
        tpr_t, fpr_t, n_bkg = tpr_v, fpr_v, int((np.asarray(labels_val) == 0).sum())
    else:
        tpr_t, fpr_t, n_bkg = _rates(losses_test, labels_test, thresholds)
    # The chosen boxes' test points, in the order of their calibration background efficiency; no second
    # envelope on the test labels (that would choose boxes again on the set that is counted).
    fpr, tpr = fpr_t[chosen], tpr_t[chosen]
    fpr_cal = fpr_v[chosen]
    shape = [len(t) for t in thresholds]
    boxes = []
    for flat in chosen:
        idx = np.unravel_index(flat, shape)
        boxes.append(BoxCut(thresholds[0][idx[0]], [thresholds[a][idx[a]] for a in range(1, len(shape))]))
    if fpr_cal[0] > 0 or fpr[0] > 0 or tpr[0] > 0:
        fpr, tpr, fpr_cal, boxes = np.r_[0.0, fpr], np.r_[0.0, tpr], np.r_[0.0, fpr_cal], [None] + boxes
    if fpr[-1] < 1.0 or tpr[-1] < 1.0:  # the loosest box keeps everything on the grid; guard against float residue
        fpr, tpr, fpr_cal, boxes = np.r_[fpr, 1.0], np.r_[tpr, 1.0], np.r_[fpr_cal, 1.0], boxes + [boxes[-1]]
    return HullROC(fpr=fpr, tpr=tpr, boxes=boxes, n_background=n_bkg, fpr_calib=fpr_cal)


# ------------------------------------------------------------------------------- label-free nested boxes

class QuantileBoxes:
    """The background-fixed family of nested boxes (module docstring, point 2).

    ``fit`` stores the background losses of every axis (sorted): their empirical CDFs F_a.
    ``score`` = -max(1 - F_0(l_0), min(F_1(l_1), F_2(l_2), ...)): higher = inside a tighter selection.
    """

    def fit(self, bkg_losses) -> "QuantileBoxes":
        bkg_losses = _as_losses(bkg_losses)
        if len(bkg_losses) < 2:
            raise ValueError("QuantileBoxes.fit needs background losses of at least two events")
        self.sorted_ = [np.sort(bkg_losses[:, a]) for a in range(bkg_losses.shape[1])]
        return self

    def _cdf(self, axis, values, side):
        ref = self.sorted_[axis]
        return np.searchsorted(ref, values, side=side) / len(ref)

    def score(self, losses) -> np.ndarray:
        losses = _as_losses(losses)
        if losses.shape[1] != len(self.sorted_):
            raise ValueError(f"fitted on {len(self.sorted_)} axes, got {losses.shape[1]}")
        # 1 - F_0 counts background strictly above l_0; F_i counts background at or below l_i.
        level = 1.0 - self._cdf(0, losses[:, 0], "right")
        if losses.shape[1] > 1:
            sig = np.min(np.stack([self._cdf(a, losses[:, a], "left") for a in range(1, losses.shape[1])], 1), 1)
            level = np.maximum(level, sig)
        return -level

    def box(self, level: float) -> BoxCut:
        """Box of level t in [0, 1]: bkg_min = (1 - t) quantile of axis 0, sig_max_i = t quantile of axis i."""
        t = float(np.clip(level, 0.0, 1.0))
        q0 = np.quantile(self.sorted_[0], 1.0 - t)
        qs = [np.quantile(s, t) for s in self.sorted_[1:]]
        return BoxCut(q0, qs, any_signal=True)


def working_point(bkg_losses_val, target_bkg_eff: float, tol: float = 1e-4) -> tuple[BoxCut, float]:
    """The box of the quantile family whose background efficiency on ``bkg_losses_val`` is closest to
    ``target_bkg_eff`` (bisection on the level); returns (box, achieved efficiency)."""
    if not 0.0 < target_bkg_eff < 1.0:
        raise ValueError(f"target_bkg_eff must be in (0, 1), got {target_bkg_eff}")
    bkg_losses_val = _as_losses(bkg_losses_val)
    family = QuantileBoxes().fit(bkg_losses_val)
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        eff = family.box(mid).select(bkg_losses_val).mean()
        if eff < target_bkg_eff:
            lo = mid
        else:
            hi = mid
        if hi - lo < tol * target_bkg_eff:
            break
    candidates = [family.box(lo), family.box(hi)]
    effs = [c.select(bkg_losses_val).mean() for c in candidates]
    best = int(np.argmin([abs(e - target_bkg_eff) for e in effs]))
    return candidates[best], float(effs[best])


# ----------------------------------------------------------------------------------------- evaluation

def combinations(priors) -> dict:
    """The compared prior sets as {name: axes}: the background prior alone, with each signal prior, and
    with all of them (axis 0 = background prior, axis i = priors[i - 1])."""
    priors = list(priors)
    combos = {"background": [0]}
    for i, name in enumerate(priors, start=1):
        combos[f"background+{name}"] = [0, i]
    if len(priors) > 1:
        combos["all"] = list(range(len(priors) + 1))
    return combos


def _stack(bkg, sig):
    return np.r_[bkg, sig], np.r_[np.zeros(len(bkg), int), np.ones(len(sig), int)]


def evaluate(losses: dict, priors, signals, target_bkg_eff: float = 0.01,
             min_bkg_events: float = MIN_BKG_EVENTS) -> tuple[dict, dict]:
    """Figures of merit of every prior combination on every held-out signal.

    Parameters
    ----------
    losses : dict ``{sample: {split: (n, 1 + len(priors)) array}}`` with sample ``background`` (splits
        calib, test) and every signal of ``signals`` (calib, test).
    priors, signals : lists of names.
    target_bkg_eff : float
        Background efficiency of the working point (chosen on the background calib split).
    min_bkg_events : float
        SIC points need at least this many selected test background events (:mod:`hepad.metrics.sic`).

    Returns
    -------
    summary : ``{signal: {combination: {"hull": {auc, max_sic, ...}, "nested": {...},
              "working_point": {...}}}}`` (JSON-ready)
    curves : ``{signal: {combination: {"hull": (fpr, tpr), "nested": (fpr, tpr)}}}``
    """
    from hepad.metrics import sic as sicm

    summary, curves = {}, {}
    bkg_cal, bkg_test = losses["background"]["calib"], losses["background"]["test"]
    for signal in signals:
        summary[signal], curves[signal] = {}, {}
        cal, y_cal = _stack(bkg_cal, losses[signal]["calib"])
        test, y_test = _stack(bkg_test, losses[signal]["test"])
        for combo, axes in combinations(priors).items():
            hull = hull_roc(cal[:, axes], y_cal, test[:, axes], y_test)
            family = QuantileBoxes().fit(bkg_cal[:, axes])
            nested = family.score(test[:, axes])
            fpr, tpr, _ = sicm.roc_curve(nested, y_test)
            box, eff_cal = working_point(bkg_cal[:, axes], target_bkg_eff)
            keep = box.select(test[:, axes])
            n_bkg_pass = int(keep[y_test == 0].sum())
            wp = {"box": box.to_dict(), "bkg_eff_calib": eff_cal, "bkg_eff_test": float(keep[y_test == 0].mean()),
                  "sig_eff_test": float(keep[y_test == 1].mean()), "n_bkg_test_selected": n_bkg_pass}
            wp["sic_test"] = (wp["sig_eff_test"] / np.sqrt(wp["bkg_eff_test"])
                              if n_bkg_pass >= min_bkg_events else None)
            nested_summary = sicm.summarize(nested, y_test, min_bkg_events)
            summary[signal][combo] = {
                "axes": ["background", *[priors[a - 1] for a in axes[1:]]],
                "hull": hull.summary(min_bkg_events),
                "nested": {k: nested_summary[k] for k in ("auc", "max_sic", "tpr_at_max_sic")},
                "working_point": wp,
            }
            curves[signal][combo] = {"hull": (hull.fpr, hull.tpr), "nested": (fpr, tpr)}
    return summary, curves


def restrict(losses: dict, masks: dict) -> dict:
    """``losses`` with the events of ``masks`` (``{sample: {split: bool array}}``) only; other samples
    unchanged (the evaluation windows of held-out signals, ``quak.signal_windows``)."""
    out = dict(losses)
    for sample, splits in masks.items():
        out[sample] = {split: losses[sample][split][mask] for split, mask in splits.items()}
    return out


def background_prior_auc(bkg_test_loss, signal_loss, in_window=None) -> dict:
    """AUC of the background-prior loss alone (higher = less like the background) of signal events against
    the background test events; with ``in_window`` (bool mask) also on the signal events inside it.
    The background prior never saw a signal event, so every event of a signal sample may be used."""
    from hepad.metrics import sic as sicm

    def auc(sig):
        if len(sig) == 0:
            return None
        scores, labels = _stack(np.asarray(bkg_test_loss), np.asarray(sig))
        return sicm.auc(scores, labels)

    signal_loss = np.asarray(signal_loss)
    out = {"auc": auc(signal_loss), "n_signal": int(len(signal_loss))}
    if in_window is not None:
        out["auc_in_window"] = auc(signal_loss[in_window])
        out["n_signal_in_window"] = int(np.sum(in_window))
    return out
