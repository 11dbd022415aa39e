"""QUAK space on hand-made losses: box cuts, grid counts, hull ROC, nested boxes, working point."""

import itertools

import numpy as np
import pytest

from hepad.metrics import sic
from hepad.quak.space import (BoxCut, QuantileBoxes, box_counts, box_mask, grid_thresholds, hull_roc,
                              upper_envelope, working_point)

# Columns: background-prior loss, signal-prior loss.
LOSSES = np.array([
    [2.0, 0.1],   # 0: in (unlike background, like signal)
    [2.0, 0.9],   # 1: out (not like signal)
    [0.5, 0.1],   # 2: out (like background)
    [1.1, 0.59],  # 3: in
    [1.1, 0.6],   # 4: out: on the signal edge (strict)
    [1.0, 0.2],   # 5: out: on the background edge (strict)
    [3.0, -1.0],  # 6: in
])


def test_box_keeps_exactly_the_right_events():
    keep = BoxCut(bkg_min=1.0, sig_max=[0.6]).select(LOSSES)
    assert np.flatnonzero(keep).tolist() == [0, 3, 6]
    # background axis alone
    assert np.flatnonzero(box_mask(LOSSES[:, :1], 1.05)).tolist() == [0, 1, 3, 4, 6]


def test_box_with_two_signal_axes_needs_both():
    losses = np.array([[2, 0.1, 0.1], [2, 0.1, 5.0], [2, 5.0, 0.1], [0, 0.1, 0.1]], dtype=float)
    assert np.flatnonzero(BoxCut(1.0, [1.0, 1.0]).select(losses)).tolist() == [0]
    with pytest.raises(ValueError):
        BoxCut(1.0, [1.0]).select(losses)


def test_grid_counts_equal_explicit_boxes():
    rng = np.random.default_rng(3)
    losses = rng.normal(size=(400, 3))
    losses[:50] = np.round(losses[:50], 1)  # ties on cut values
    weights = rng.uniform(size=400)
    thresholds = [np.r_[-np.inf, -0.5, 0.0, 0.3], np.r_[-0.2, 0.0, 1.0, np.inf], np.r_[0.1, 0.5, np.inf]]
    counts = box_counts(losses, weights, thresholds)
    assert counts.shape == (4, 4, 3)
    for i, j, k in itertools.product(range(4), range(4), range(3)):
        keep = box_mask(losses, thresholds[0][i], [thresholds[1][j], thresholds[2][k]])
        assert counts[i, j, k] == pytest.approx(weights[keep].sum())


def test_upper_envelope_is_monotone_and_dominant():
    rng = np.random.default_rng(1)
    fpr, tpr = rng.uniform(size=200), rng.uniform(size=200)
    env = upper_envelope(fpr, tpr)
    assert np.all(np.diff(fpr[env]) >= 0) and np.all(np.diff(tpr[env]) > 0)
    # every point is dominated by an envelope point with FPR <= its own
    for f, t in zip(fpr, tpr):
        assert tpr[env][fpr[env] <= f].max() >= t


def _toy(n, seed):
    """Background: high signal loss; signal: high background loss and low signal loss (plus noise)."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(n), np.ones(n // 4)].astype(int)
    bkg = np.c_[rng.normal(0, 1, n), rng.normal(2, 1, n)]
    sig = np.c_[rng.normal(1.5, 1, n // 4), rng.normal(0, 1, n // 4)]
    return np.r_[bkg, sig], labels


def test_hull_roc_monotone_and_beats_single_axis():
    losses, labels = _toy(4000, 0)
    val, val_labels = _toy(4000, 1)
    both = hull_roc(val, val_labels, losses, labels)
    assert np.all(np.diff(both.fpr_calib) >= 0)  # points in the order of calibration background efficiency
    assert both.fpr[0] == 0 and both.tpr[0] == 0 and both.fpr[-1] == 1 and both.tpr[-1] == 1
    alone = hull_roc(val[:, :1], val_labels, losses[:, :1], labels)
    # the 1-d hull of a monotone score is its ordinary ROC
    assert alone.auc == pytest.approx(sic.auc(losses[:, 0], labels), abs=0.01)
    assert both.auc > alone.auc + 0.05
    # every point's box reproduces its efficiencies on the test set
    for f, t, box in list(zip(both.fpr, both.tpr, both.boxes))[1:-1]:
        keep = box.select(losses)
        assert keep[labels == 1].mean() == pytest.approx(t)
        assert keep[labels == 0].mean() == pytest.approx(f)


def test_hull_roc_reports_calibration_chosen_boxes_without_a_test_envelope():
    """Small sets: the boxes chosen on calibration do not all stay on the test envelope. The ROC keeps
    every chosen box's test point, in calibration order; a second envelope on test would drop some and
    raise the AUC."""
    cal, y_cal = _toy(200, 11)
    test, y_test = _toy(200, 12)
    roc = hull_roc(cal, y_cal, test, y_test, n_per_axis=20)
    inner = list(zip(roc.fpr, roc.tpr, roc.fpr_calib, roc.boxes))[1:-1]
    effs_cal = []
    for f, t, f_cal, box in inner:  # every point is its calibration-chosen box counted on test
        keep = box.select(test)
        assert keep[y_test == 0].mean() == pytest.approx(f) and keep[y_test == 1].mean() == pytest.approx(t)
        effs_cal.append(box.select(cal)[y_cal == 0].mean())
        assert effs_cal[-1] == pytest.approx(f_cal)
    assert np.all(np.diff(effs_cal) >= 0)
    # the test points are not monotone: a test envelope would pick different (fewer) points
    fpr, tpr = np.array([p[0] for p in inner]), np.array([p[1] for p in inner])
    env = upper_envelope(fpr, tpr)
    assert len(env) < len(inner)
    enveloped = np.trapezoid(np.r_[0, tpr[env], 1], np.r_[0, fpr[env], 1])
    assert enveloped > roc.auc
    # in sample (no test set) nothing changes: the calibration envelope is monotone
    same = hull_roc(cal, y_cal, n_per_axis=20)
    assert np.all(np.diff(same.fpr) >= 0) and np.all(np.diff(same.tpr) >= 0)


def test_hull_roc_of_useless_signal_axis_is_no_better_in_sample():
    losses, labels = _toy(3000, 2)
    noise = np.c_[losses[:, 0], np.random.default_rng(5).normal(size=len(losses))]
    with_noise = hull_roc(noise, labels)
    alone = hull_roc(losses[:, :1], labels)
    assert with_noise.auc >= alone.auc - 1e-9  # no-cut value is on the grid
    assert with_noise.auc < alone.auc + 0.02


def test_grid_thresholds_include_no_cut():
    t = grid_thresholds(np.random.default_rng(0).normal(size=(100, 2)), 10)
    assert t[0][0] == -np.inf and t[1][-1] == np.inf and len(t[0]) <= 10


def test_quantile_boxes_score_is_nested_boxes():
    losses, labels = _toy(2000, 4)
    family = QuantileBoxes().fit(losses[labels == 0])
    score = family.score(losses)
    for level in (0.05, 0.3, 0.7):
        box = family.box(level)
        inside = box.select(losses)
        # inside the box at level t <=> score > -t (up to events sitting on a quantile)
        assert np.mean(inside == (score > -level)) > 0.995


def test_working_point_hits_target_background_efficiency():
    losses, labels = _toy(20000, 6)
    bkg = losses[labels == 0]
    box, eff = working_point(bkg, 0.01)
    assert eff == pytest.approx(0.01, rel=0.05)
    assert box.select(bkg).mean() == pytest.approx(eff)
    assert box.bkg_min > np.median(bkg[:, 0]) and box.sig_max[0] < np.median(bkg[:, 1])
    with pytest.raises(ValueError):
        working_point(bkg, 1.5)


def test_any_signal_selection_is_a_union_of_boxes():
    losses = np.array([[2, 0.1, 5.0], [2, 5.0, 0.1], [2, 5.0, 5.0], [0, 0.1, 0.1]], dtype=float)
    assert np.flatnonzero(BoxCut(1.0, [1.0, 1.0], any_signal=True).select(losses)).tolist() == [0, 1]


def test_quantile_boxes_with_two_signal_priors_select_like_either():
    rng = np.random.default_rng(8)
    bkg = rng.normal(size=(5000, 3))
    family = QuantileBoxes().fit(bkg)
    # signal-like on prior 2 only: still selected early
    event = np.array([[3.0, 3.0, -3.0]])
    assert family.score(event)[0] > -0.01
    box = family.box(0.2)
    assert box.any_signal and box.select(event)[0]
    score = family.score(bkg)
    assert np.mean(box.select(bkg) == (score > -0.2)) > 0.995
