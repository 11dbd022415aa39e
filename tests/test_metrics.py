"""ROC, AUC and SIC on hand-made scores whose values are worked out by hand in the comments."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hepad.metrics.sic import (auc, fpr_at_tpr, max_sic, roc_curve, sic_at_efficiency, sic_curve, sic_on_grid,
                               summarize)

# Scores 8..1 with labels 1 1 0 1 0 0 1 0: 4 signal, 4 background. Cutting at each score in turn:
#   >=8: TP 1 FP 0 | >=7: 2 0 | >=6: 2 1 | >=5: 3 1 | >=4: 3 2 | >=3: 3 3 | >=2: 4 3 | >=1: 4 4
SCORES = np.array([8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
LABELS = np.array([1, 1, 0, 1, 0, 0, 1, 0])


def test_roc_points_by_hand():
    fpr, tpr, thresholds = roc_curve(SCORES, LABELS)
    np.testing.assert_allclose(fpr, [0, 0, 0, .25, .25, .5, .75, .75, 1])
    np.testing.assert_allclose(tpr, [0, .25, .5, .5, .75, .75, .75, 1, 1])
    assert thresholds[0] == np.inf and list(thresholds[1:]) == list(SCORES)


def test_auc_by_hand_and_against_sklearn():
    # Signal-above-background pairs: 8 beats 4 backgrounds, 7: 4, 5: 3, 2: 1 -> 12 of 16.
    assert auc(SCORES, LABELS) == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    scores = np.round(rng.normal(labels * 0.7, 1.0), 1)  # rounding makes many ties
    assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_ties_are_one_threshold():
    fpr, tpr, _ = roc_curve([1.0, 1.0], [1, 0])
    np.testing.assert_allclose(fpr, [0, 1])
    np.testing.assert_allclose(tpr, [0, 1])
    assert auc([1.0, 1.0], [1, 0]) == pytest.approx(0.5)


def test_sic_curve_drops_fpr_zero_and_thin_points():
    # min 1 background event: kept points (fpr, tpr) = (.25,.5) (.25,.75) (.5,.75) (.75,.75) (.75,1) (1,1)
    tpr, sic = sic_curve(SCORES, LABELS, min_bkg_events=1)
    np.testing.assert_allclose(tpr, [.5, .75, .75, .75, 1, 1])
    np.testing.assert_allclose(sic, [1.0, 1.5, .75 / math.sqrt(.5), .75 / math.sqrt(.75), 1 / math.sqrt(.75), 1.0])
    assert max_sic(SCORES, LABELS, min_bkg_events=1) == pytest.approx(1.5)
    # min 2 background events keeps FPR >= 0.5 only: the best is 1/sqrt(0.75).
    assert max_sic(SCORES, LABELS, min_bkg_events=2) == pytest.approx(1 / math.sqrt(0.75))
    # 1.5 events: FPR >= .375, which lies on the flat segment (.25,.75)-(.5,.75): SIC = .75 / sqrt(.375).
    tpr, sic = sic_curve(SCORES, LABELS, min_bkg_events=1.5)
    assert tpr[0] == pytest.approx(0.75) and sic[0] == pytest.approx(0.75 / math.sqrt(0.375))
    assert max_sic(SCORES, LABELS, min_bkg_events=1.5) == pytest.approx(0.75 / math.sqrt(0.375))
    # Nothing passes a demand of 5 background events out of 4.
    assert math.isnan(max_sic(SCORES, LABELS, min_bkg_events=5))


def test_fpr_and_sic_at_efficiency_interpolate_on_the_rising_segment():
    assert fpr_at_tpr(SCORES, LABELS, 0.4) == pytest.approx(0.0)    # between (0, .25) and (0, .5)
    assert fpr_at_tpr(SCORES, LABELS, 0.6) == pytest.approx(0.25)   # between (.25, .5) and (.25, .75)
    assert fpr_at_tpr(SCORES, LABELS, 0.9) == pytest.approx(0.75)   # between (.75, .75) and (.75, 1)
    assert fpr_at_tpr(SCORES, LABELS, 1.0) == pytest.approx(0.75)
    assert sic_at_efficiency(SCORES, LABELS, 0.6, min_bkg_events=1) == pytest.approx(0.6 / 0.5)
    assert math.isnan(sic_at_efficiency(SCORES, LABELS, 0.4, min_bkg_events=1))  # FPR = 0
    assert math.isnan(sic_at_efficiency(SCORES, LABELS, 0.6, min_bkg_events=2))  # 1 event < 2
    grid = sic_on_grid(SCORES, LABELS, [0.4, 0.6], min_bkg_events=1)
    assert math.isnan(grid[0]) and grid[1] == pytest.approx(1.2)


def test_interpolation_between_distinct_fpr():
    # Two signal, two background: 4(s) 3(b) 2(s) 1(b): ROC (0,0) (0,.5) (.5,.5) (.5,1) (1,1).
    # Scores 4 3 3 1 with labels s b s b tie the middle pair: ROC (0,0) (0,.5) (.5,1) (1,1);
    # at TPR .75 the FPR is halfway along (0,.5)-(.5,1): .25.
    assert fpr_at_tpr([4, 3, 3, 1], [1, 0, 1, 0], 0.75) == pytest.approx(0.25)


def test_summary_keys_and_values():
    out = summarize(SCORES, LABELS, min_bkg_events=1)
    assert out["max_sic"] == pytest.approx(1.5) and out["tpr_at_max_sic"] == pytest.approx(0.75)
    assert out["auc"] == pytest.approx(0.75)
    assert out["fpr_at_tpr_0.4"] == pytest.approx(0.0)
    assert out["sic_at_eff_0.2"] is None            # FPR = 0 there
    assert out["sic_at_eff_0.5"] is None            # FPR = 0 at TPR .5 as well (point (0, .5))
    assert out["n_signal"] == 4 and out["n_background"] == 4
    # The peak (FPR .25, TPR .75) has the lowest kept FPR: capped by the test set.
    assert out["max_sic_at_cut"] is True


def test_peak_inside_the_curve_is_not_at_the_cut():
    # With at least 2 background events kept (FPR >= .5): SIC 1.06 at (.5, .75), .87 at (.75, .75),
    # 1.15 at (.75, 1), 1 at (1, 1): the peak lies at FPR .75, above the cut.
    out = summarize(SCORES, LABELS, min_bkg_events=2)
    assert out["max_sic"] == pytest.approx(1 / math.sqrt(0.75))
    assert out["max_sic_at_cut"] is False


def test_random_scores_give_sic_about_one_and_perfect_scores_large():
    rng = np.random.default_rng(1)
    labels = np.r_[np.ones(2000), np.zeros(20000)].astype(int)
    random = rng.uniform(size=len(labels))
    # A random cut has TPR = FPR, so SIC = sqrt(TPR) <= 1 up to fluctuations.
    assert max_sic(random, labels) < 1.25
    perfect = labels + rng.uniform(0, 0.5, len(labels))
    # Perfect separation: the best kept point selects all signal with 25 background events.
    assert max_sic(perfect, labels) == pytest.approx(1 / math.sqrt(25 / 20000), rel=1e-9)


def test_tied_background_is_not_sic_one():
    # All signal scores 1, all 1000 background scores 0: ROC (0,0) (0,1) (1,1). Keeping a random part of the tied
    # background is a valid cut: at 25 background events SIC = 1 / sqrt(25 / 1000).
    labels = np.r_[np.ones(100), np.zeros(1000)].astype(int)
    scores = labels.astype(float)
    assert max_sic(scores, labels) == pytest.approx(1 / math.sqrt(0.025))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="both signal"):
        roc_curve([1, 2], [0, 0])
    with pytest.raises(ValueError, match="NaN"):
        roc_curve([1, np.nan], [0, 1])
    with pytest.raises(ValueError, match="differ"):
        roc_curve([1, 2, 3], [0, 1])


def test_min_fpr_cut_replaces_the_event_count_and_is_strict():
    # ROC points with FPR > 0: (.25, .5) (.25, .75) (.5, .75) (.75, .75) (.75, 1) (1, 1)
    assert max_sic(SCORES, LABELS, min_fpr=0.2) == pytest.approx(0.75 / math.sqrt(0.25))
    # FPR > 0.25 drops the points at exactly 0.25; the event-count cut would keep them (1 event >= 1) and
    # min_bkg_events is ignored once min_fpr is given (5 events would drop everything)
    assert max_sic(SCORES, LABELS, min_bkg_events=5, min_fpr=0.25) == pytest.approx(1 / math.sqrt(0.75))
    tpr, sic = sic_curve(SCORES, LABELS, min_fpr=0.25)
    np.testing.assert_allclose(tpr, [0.75, 0.75, 1, 1])
    assert math.isnan(max_sic(SCORES, LABELS, min_fpr=1.0))
    assert math.isnan(sic_at_efficiency(SCORES, LABELS, 0.6, min_fpr=0.25))  # FPR there is 0.25
    assert sic_at_efficiency(SCORES, LABELS, 0.6, min_fpr=0.2) == pytest.approx(0.6 / 0.5)
    np.testing.assert_allclose(sic_on_grid(SCORES, LABELS, [0.6, 1.0], min_fpr=0.25), [np.nan, 1 / math.sqrt(0.75)])
    out = summarize(SCORES, LABELS, min_fpr=0.25)
    assert out["min_fpr"] == 0.25 and out["max_sic"] == pytest.approx(1 / math.sqrt(0.75))
    assert summarize(SCORES, LABELS, min_bkg_events=1)["min_fpr"] is None
