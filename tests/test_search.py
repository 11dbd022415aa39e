"""The sliding-window bump hunt (docs/search.md): the cut-and-count significance, δ_sys from background-only
counts, the dijet fit, the k-fold split, the HEPData tables, the sculpting check on background-only toys,
and the whole search on a tiny config under Snakemake."""

import json
import math
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from scipy.stats import poisson

from hepad.config import ConfigError, validate_config
from hepad.search.counting import template_counts
from hepad.search.fit import FitError, TooFewEvents, _bin_integrals, dijet_function, fit_dijet
from hepad.search.kfold import check_out_of_fold, fold_classifier, fold_ids, fold_split
from hepad.search.significance import (background_toys, correct_background, global_significance, local_significance,
                                       measure_bias, measure_delta_sys, p_value, p_value_uniformity,
                                       toy_exceedance, toy_max_significance)
from hepad.search.tables import CSV_COLUMNS, summary_rows, write_hepdata
from hepad.search.windows import DEFAULT_WINDOWS, Window, flow_groups, group_sidebands, inject, window_split

ROOT = Path(__file__).resolve().parents[1]


# -- significance ----------------------------------------------------------------------------------------

def test_significance_without_systematics_by_hand():
    # N = 10, b = 5: Z^2 = 2 (10 ln 2 - 5) = 3.8629436; N = 120, b = 100: Z^2 = 2 (120 ln 1.2 - 20) = 3.7571458
    assert local_significance(10, 5) == pytest.approx(1.9654372569987845, rel=1e-12)
    assert local_significance(120, 100) == pytest.approx(1.9383430115820859, rel=1e-12)


def test_significance_with_systematics_by_hand():
    # N = 10, b = 5, sigma = 0.1 * 5 = 0.5, s2 = 0.25:
    # 10 ln(10 * 5.25 / (25 + 2.5)) = 6.4662716, (25 / 0.25) ln(1 + 0.25 * 5 / (5 * 5.25)) = 4.6520016
    assert local_significance(10, 5, delta_sys=0.1) == pytest.approx(1.9048727441806914, rel=1e-12)
    assert local_significance(10, 5, delta_sys=0.1) == pytest.approx(
        math.sqrt(2 * (10 * math.log(52.5 / 27.5) - 100 * math.log(1 + 1.25 / 26.25))), rel=1e-12)
    # N = 20, b = 10, delta_sys = 0.2 (sigma = 2)
    assert local_significance(20, 10, delta_sys=0.2) == pytest.approx(2.2599974949358385, rel=1e-12)
    # a background uncertainty always lowers the significance
    assert local_significance(10, 5, 0.3) < local_significance(10, 5, 0.1) < local_significance(10, 5)
    # sigma -> 0 goes continuously to the formula without it
    assert local_significance(10, 5, 1e-6) == pytest.approx(local_significance(10, 5), rel=1e-6)


def test_significance_with_the_estimates_statistical_error():
    # sigma^2 = (delta_sys b)^2 + e^2: e alone is delta_sys = e / b; both add in quadrature
    assert local_significance(10, 5, b_error=0.5) == pytest.approx(local_significance(10, 5, 0.1), rel=1e-12)
    assert local_significance(10, 5, 0.3, b_error=2.0) == pytest.approx(local_significance(10, 5, 0.5), rel=1e-12)
    # per entry, None where unknown (0), broadcast with n and b
    z = local_significance(np.array([10, 10, 20]), np.array([5, 5, 10]), 0.0, [0.5, None, 2.0])
    assert np.allclose(z, [local_significance(10, 5, 0.1), local_significance(10, 5), local_significance(20, 10, 0.2)])
    # a template of 8 selected events at the tightest cut (b = 2, e = 0.71): 6 observed are 2.28 sigma without
    # the error, 1.94 with it
    assert local_significance(6, 2.0) == pytest.approx(2.2767, abs=1e-4)
    assert local_significance(6, 2.0, b_error=2.0 / math.sqrt(8)) == pytest.approx(1.9396, abs=1e-4)


def test_significance_deficit_and_large_b_limit():
    assert local_significance(4, 5) == 0.0 and local_significance(5, 5, 0.1) == 0.0
    b = 1e6
    for excess in (1e3, 3e3):
        assert local_significance(b + excess, b) == pytest.approx(excess / math.sqrt(b), rel=2e-3)
    assert p_value(0.0) == pytest.approx(0.5)
    assert np.allclose(local_significance(np.array([10, 4]), np.array([5, 5])), [local_significance(10, 5), 0])


def test_toys_carry_the_estimates_statistical_error():
    b = np.array([[1000.0, 100.0, 10.0]])
    e = np.array([[0.0, 0.0, 5.0]])  # 50 % at the tightest threshold only
    counts = background_toys(b, 0.0, 20000, seed=3, b_error=e)
    # nested counts; the tightest spreads by Poisson and the 50 % error, the others by Poisson only
    assert (np.diff(counts, axis=2) <= 0).all()
    assert counts[:, 0, 2].std() == pytest.approx(np.sqrt(10 + 25), rel=0.05)
    assert counts[:, 0, 1].std() == pytest.approx(np.sqrt(100), rel=0.05)
    # with the error in both the toys and Z, Z stays calibrated at the tightest threshold: its toys exceed 1.5
    # sigma no more often than a Poisson count of b = 10 alone would
    calibrated = local_significance(counts[:, 0, 2], 10.0, 0.0, 5.0)
    poisson_only = local_significance(background_toys(b, 0.0, 20000, seed=4)[:, 0, 2], 10.0)
    assert (calibrated > 1.5).mean() <= (poisson_only > 1.5).mean() + 0.01
    assert np.array_equal(background_toys(b, 0.0, 50, seed=1), background_toys(b, 0.0, 50, seed=1, b_error=0 * e))


def test_global_significance_and_too_few_toys():
    b = np.array([[100.0, 10.0, 1.0], [80.0, 8.0, np.nan]])
    toys = toy_max_significance(b, 0.1, 2000, seed=1)
    assert np.array_equal(toys, toy_max_significance(b, 0.1, 2000, seed=1))

    result = global_significance(2.0, toys)
    assert 0 < result["p_value"] < 1 and result["z"] < 2.0  # the look-elsewhere effect lowers Z
    low, median, high = result["toy_max_local_z_16_50_84"]
    assert low < median < high and median == pytest.approx(np.median(toys))
    result = global_significance(50.0, toys)
    assert result["p_value"] is None and "too few toys to quote a global significance above Z=3.29" in result["message"]
    # three background-only reruns of the chain: the bound is Φ⁻¹(2/3) = 0.43; one rerun bounds nothing (Z > 0)
    reruns = global_significance(2.0, [0.5, 1.1, 0.2], "background-only reruns")
    assert reruns["z"] is None and reruns["resolvable_z"] == pytest.approx(0.4307, abs=1e-4)
    assert "too few background-only reruns to quote a global significance above Z=0.43" in reruns["message"]
    assert global_significance(2.0, [0.1], "reruns")["resolvable_z"] == 0.0
    assert global_significance(0.4, [0.5, 1.1, 0.2])["p_value"] == pytest.approx(2 / 3)


def test_delta_sys_measured_from_background_only_counts():
    rng = np.random.default_rng(5)
    b = rng.uniform(10, 400, 600)
    # counts around b with a 20 % relative spread on top of Poisson: the estimate finds 0.2
    n = rng.poisson(b * np.clip(1 + 0.2 * rng.standard_normal(len(b)), 0, None))
    result = measure_delta_sys(n, b)
    assert result["delta_sys"] == pytest.approx(0.2, abs=0.03) and result["n_entries"] == 600
    assert result["interval_68"][0] < result["delta_sys"] < result["interval_68"][1]
    # Poisson only: δ_sys compatible with 0; a background underestimated by half: δ_sys near 1
    assert measure_delta_sys(rng.poisson(b), b)["interval_68"][0] == 0.0
    assert measure_delta_sys(rng.poisson(2 * b), b)["delta_sys"] == pytest.approx(1.0, abs=0.1)
    # the estimates' own statistical errors are not counted as systematic: counts around b with a 20 %
    # error of b (half of the entries) and no further spread give δ_sys near 0 once e is given
    truth = np.where(np.arange(len(b)) % 2, b, b * np.clip(1 + 0.2 * rng.standard_normal(len(b)), 0, None))
    n_stat = rng.poisson(truth)
    e = np.where(np.arange(len(b)) % 2, 0.0, 0.2 * b)
    assert measure_delta_sys(n_stat, b)["delta_sys"] > 0.1
    assert measure_delta_sys(n_stat, b, e)["delta_sys"] < 0.05
    # entries without an estimate are left out; fewer than two entries cannot measure anything
    assert measure_delta_sys(np.r_[n, 5], np.r_[b, np.nan])["n_entries"] == 600
    with pytest.raises(ValueError, match="at least two"):
        measure_delta_sys([3], [2.0])


def test_bias_per_threshold_from_background_only_counts():
    rng = np.random.default_rng(9)
    b = rng.uniform(50, 500, (300, 2))  # entries x thresholds
    threshold = np.broadcast_to([0, 1], b.shape)
    n = rng.poisson(b * [1.2, 1.0])  # the estimate 20 % low at the first threshold, right at the second
    bias = measure_bias(n, b, 0.05 * b, threshold)
    assert bias["factor"][0] == pytest.approx(1.2, abs=3 * bias["error"][0]) and bias["error"][0] < 0.01
    assert bias["factor"][1] == pytest.approx(1.0, abs=3 * bias["error"][1])
    # the error: Poisson on the sum of N and the estimates' errors on the sum of b
    expected = np.hypot(np.sqrt(n[:, 1].sum()) / b[:, 1].sum(),
                        bias["factor"][1] * np.sqrt(((0.05 * b[:, 1]) ** 2).sum()) / b[:, 1].sum())
    assert bias["error"][1] == pytest.approx(expected)
    # applied: b scaled, the factor's error added to b's in quadrature, no estimate (None in, NaN out) kept
    corrected, errors = correct_background([100.0, None, 10.0], [5.0, None, None], [0, 1, 1],
                                           {"factor": [1.2, 1.0], "error": [0.1, 0.0]})
    assert corrected[[0, 2]] == pytest.approx([120.0, 10.0]) and np.isnan(corrected[1])
    assert errors[[0, 2]] == pytest.approx([np.hypot(6.0, 10.0), 0.0]) and np.isnan(errors[1])


def test_config_cross_checks_of_the_search(repo_root):
    from hepad.config import load_schema
    from hepad.search.methods import CLASSIFIER_FAMILIES, METHODS

    # the methods and classifier families of the config are those of the library, by name
    schema = load_schema()["properties"]["search"]["properties"]
    assert schema["methods"]["items"]["enum"] == list(METHODS) and schema["classifier"]["enum"] == list(CLASSIFIER_FAMILIES)
    base = yaml.safe_load((repo_root / "tests/config/tiny.yaml").read_text())
    validate_config(dict(base))
    with pytest.raises(ConfigError, match="search.null_seeds is empty"):
        validate_config({**base, "search": {**base["search"], "delta_sys": None, "null_seeds": []}})
    validate_config({**base, "search": {**base["search"], "delta_sys": 0.1, "null_seeds": []}})
    outside = [{"low": 2.9, "high": 3.3}, {"low": 3.6, "high": 4.0}]
    # the idealized AD's windows are asked for only by the search jobs: the config itself is valid
    from hepad.search.methods import iad_windows

    validate_config({**base, "search": {**base["search"], "windows": outside}})
    with pytest.raises(ConfigError, match="no window of search.windows lies inside it"):
        iad_windows(outside, {"low": 3.3, "high": 3.7})
    assert iad_windows(outside + [{"low": 3.3, "high": 3.7}], {"low": 3.3, "high": 3.7}) == [2]
    validate_config({**base, "search": {**base["search"], "windows": outside, "methods": ["cathode", "cwola"]}})


# -- dijet fit -----------------------------------------------------------------------------------------------

def _sample_dijet(params, edges, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(edges[0] / 13, edges[-1] / 13, 200001)
    cdf = np.cumsum(dijet_function(x, *params))
    n = rng.poisson(_bin_integrals(np.asarray(edges) / 13, params).sum())
    return np.interp(rng.random(n), cdf / cdf[-1], x) * 13


def test_dijet_fit_recovers_parameters():
    true = (math.log(1e4), 10.0, 5.0, 0.0)
    edges = np.arange(2.6, 6.001, 0.1)
    mjj = _sample_dijet(true, edges, seed=3)
    window = Window(0, 3.3, 3.7)
    fit = fit_dijet(mjj, window, edges)
    # the four parameters are strongly correlated over a dijet spectrum: compare with the full covariance
    errors = np.sqrt(np.diag(fit.covariance))
    assert (np.abs(fit.params - true) < 4 * errors).all(), (fit.params, errors)
    delta = fit.params - np.array(true)
    assert delta @ np.linalg.solve(fit.covariance, delta) < 18.47  # chi2, 4 d.o.f., 99.9 %
    inside = ((mjj > 3.3) & (mjj < 3.7)).sum()
    _, _, total, error = fit.expected_with_error([3.3, 3.7])
    assert abs(total - inside) < 3 * math.sqrt(inside + error**2)


def test_bad_fit_names_the_window(monkeypatch):
    window = Window(4, 3.5, 3.9)
    edges = np.arange(2.6, 6.001, 0.1)
    with pytest.raises(TooFewEvents, match="window 3.50-3.90 TeV"):
        fit_dijet(np.array([2.7, 2.8, 3.0]), window, edges)
    # Minuit never converges: the error names the window
    from iminuit import Minuit

    monkeypatch.setattr(Minuit, "valid", property(lambda self: False))
    mjj = _sample_dijet((math.log(1e3), 10.0, 5.0, 0.0), edges, seed=1)
    with pytest.raises(FitError, match="dijet fit outside window 3.50-3.90 TeV did not converge"):
        fit_dijet(mjj, window, edges)


# -- windows and k-fold --------------------------------------------------------------------------------------

def test_default_windows_and_split():
    assert np.allclose([(w.low, w.high) for w in DEFAULT_WINDOWS], [(2.7 + 0.2 * i, 3.1 + 0.2 * i) for i in range(9)])
    rng = np.random.default_rng(0)
    features = np.column_stack([rng.uniform(2.5, 5, 1000), rng.random((1000, 4)), (np.arange(1000) < 100)])
    data = inject(features, 50, seed=2)
    assert len(data) == 950 and data[:, 5].sum() == 50 and np.array_equal(data, inject(features, 50, seed=2))
    split = window_split(data, DEFAULT_WINDOWS[3], margin=0.3)
    mjj = data[:, 0]
    assert ((mjj[split["sr"]] > 3.3) & (mjj[split["sr"]] < 3.7)).all()
    assert ((mjj[split["sb"]] > 3.0) & (mjj[split["sb"]] < 4.0)).all()
    assert not np.intersect1d(split["sr"], split["sb"]).size


def test_flow_groups_share_a_flow_only_between_windows_apart(tmp_path):
    groups = flow_groups(DEFAULT_WINDOWS, 3)
    assert [[w.index for w in g] for g in groups] == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert [[w.index for w in g] for g in flow_groups(DEFAULT_WINDOWS, 9)] == [[i] for i in range(9)]
    # neighbours of the default scan overlap by half: they can never share a flow
    with pytest.raises(ConfigError, match=r"windows 0 \(2.70-3.10 TeV\) and 1 \(2.90-3.30 TeV\) share a flow"):
        flow_groups(DEFAULT_WINDOWS, 1)
    # every other window touches the next: one hole twice as wide, which the flow would have to bridge
    with pytest.raises(ConfigError, match="windows 0 .* and 2 .* share a flow but are not apart"):
        flow_groups(DEFAULT_WINDOWS, 2)
    # the group's sidebands: outside every window of the group; one window alone gives its own sidebands
    rng = np.random.default_rng(3)
    mjj = rng.uniform(2.5, 5.0, 20000)
    sb = group_sidebands(mjj, groups[0])
    assert not any(((mjj[sb] > w.low) & (mjj[sb] < w.high)).any() for w in groups[0])
    assert sb.sum() == sum(not any(w.low < m < w.high for w in groups[0]) for m in mjj)
    data = np.column_stack([mjj, np.zeros((len(mjj), 5))])
    for margin in (None, 0.3):
        alone = group_sidebands(mjj, [DEFAULT_WINDOWS[3]], margin)
        assert np.array_equal(np.flatnonzero(alone), window_split(data, DEFAULT_WINDOWS[3], margin)["sb"])
    near = group_sidebands(mjj, groups[0], margin=0.1)
    assert (near <= sb).all() and (np.abs(mjj[near] - 3.5) > 0.2).all()
    assert (np.min([np.minimum(np.abs(mjj[near] - w.low), np.abs(mjj[near] - w.high)) for w in groups[0]], axis=0)
            < 0.1).all()
    # the workflow checks the config's groups when it reads the config: a dry run stops, naming the windows
    config = tmp_path / "groups.yaml"
    config.write_text(yaml.safe_dump({"search": {"flow_groups": 2}}))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "-n",
           "results/search/significance_vs_injection.pdf", "--cores", "1", "--configfile", str(config)]
    dry = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert dry.returncode != 0
    assert "search.flow_groups 2: windows 0 (2.70-3.10 TeV) and 2 (3.10-3.50 TeV)" in dry.stdout + dry.stderr


def test_kfold_never_scores_an_event_with_its_own_model():
    n, k = 1003, 5
    ids = fold_ids(n, k, seed=7)
    assert np.array_equal(ids, fold_ids(n, k, seed=7)) and not np.array_equal(ids, fold_ids(n, k, seed=8))
    assert set(np.bincount(ids)) <= {200, 201}
    trained, scored = zip(*(fold_split(ids, f) for f in range(k)))
    check_out_of_fold(list(trained), list(scored), n)
    for train, score in zip(trained, scored):
        assert np.intersect1d(train, score).size == 0 and len(train) + len(score) == n


@pytest.mark.parametrize("family, params", [("hgb", {"n_models": 1, "max_iter": 20}),
                                             ("mlp", {"hidden": [16], "epochs": 10, "n_average": 2, "batch_size": 128})])
def test_fold_classifier_of_either_family_separates(family, params):
    """The classifier of a fold is the tree ensemble or CATHODE's MLP (search.classifier), one code path."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(4)
    zeros = np.column_stack([rng.uniform(3.3, 3.7, 800), rng.normal(0.1, 0.03, (800, 4)), np.zeros(800)])
    ones = np.column_stack([rng.uniform(3.3, 3.7, 300), rng.normal(0.1, 0.03, (300, 4)), np.ones(300)])
    ones[:, 1] += 0.09  # mj1 shifted by 3σ: the ideal AUC is 0.98
    clf = fold_classifier(ones[:200], zeros[:600], family, params, 0.2, seed=1)
    assert clf.kind == family and clf.params["class_weight"] is None
    scores = clf.predict_proba(np.r_[ones[200:], zeros[600:]][:, 1:5])
    assert roc_auc_score(np.r_[np.ones(100), np.zeros(200)], scores) > 0.9


# -- the tables: CSV rows and the HEPData submission ---------------------------------------------------------

def _record(technique, nsig, seed, z_global):
    rows = [{"efficiency": 0.1, "n_observed": 30, "b": 20.0, "b_error": 4.5, "z": 2.0, "p_value": 0.02},
            {"efficiency": 0.01, "n_observed": 4, "b": None, "note": "too few events"}]
    return {"technique": technique, "classifier": ["hgb"], "nsig": nsig, "seed": seed, "efficiencies": [0.1, 0.01],
            "delta_sys": 0.1, "windows": [{"low": 3.3, "high": 3.7, "thresholds": rows}],
            "injected": {"window": [3.3, 3.7], "signal": 40, "s_over_b": 0.02, "s_over_sqrt_b": 1.0},
            "max_local": {"z": 2.0, "window": [3.3, 3.7], "efficiency": 0.1},
            "global": {"z": z_global, "p_value": None if z_global is None else 0.1, "n_toys": 100,
                       "resolvable_z": 2.33},
            "global_reruns": {"z": None, "p_value": None, "n_toys": 3, "resolvable_z": 0.43}}


def test_significance_vs_injection_one_point_per_injection():
    from hepad.search.plots import plot_significance_vs_injection

    # two seeds of one injection draw other signal events (S/B 0.02 and 0.024): one point at their median
    # S/B and median Z, with the band between them
    records = [_record("cathode", 300, 1, 1.28), _record("cathode", 300, 2, 1.28), _record("cathode", 0, 1, None)]
    records[1]["injected"] = {**records[1]["injected"], "s_over_b": 0.024}
    records[1]["max_local"] = {**records[1]["max_local"], "z": 4.0}
    records[2]["injected"] = {**records[2]["injected"], "s_over_b": 0.0}
    fig = plot_significance_vs_injection(records)
    line = next(ln for ln in fig.axes[0].lines if ln.get_label() == "CATHODE: max local Z")
    assert np.allclose(line.get_xdata(), [0.0, 2.2]) and np.allclose(line.get_ydata(), [2.0, 3.0])


def test_tables_and_hepdata_submission(tmp_path):
    records = [_record("cathode", 300, 1, 1.28), _record("cathode", 0, 1, None), _record("cwola", 300, 1, 0.5)]
    rows = summary_rows(records)
    assert [(r["method"], r["nsig"]) for r in rows] == [("cathode", 300), ("cathode", 0), ("cwola", 300)]
    assert set(rows[0]) == set(CSV_COLUMNS) and rows[0]["global Z (count toys)"] == "1.28 (p = 0.1, 100)"
    assert rows[1]["global Z (count toys)"] == "> 2.33 (too few: 100)"
    assert rows[0]["global Z (background-only reruns)"] == "> 0.43 (too few: 3)"
    path = tmp_path / "hepdata.tar.gz"
    write_hepdata(records, path)
    folder = tmp_path / "read"
    with tarfile.open(path) as tar:
        tar.extractall(folder, filter="data")
    submission = list(yaml.safe_load_all((folder / "submission.yaml").read_text()))
    tables = {doc["name"]: doc for doc in submission if "name" in doc}
    assert len(tables) == 2 + 3  # per method one against injection; per window: each method and injection, seed 1
    for doc in tables.values():
        assert (folder / doc["data_file"]).exists()
    against = yaml.safe_load((folder / tables["Significance against injection, cathode"]["data_file"]).read_text())
    values = {v["header"]["name"]: [x["value"] for x in v["values"]] for v in against["dependent_variables"]}
    assert values["max local Z"] == [2.0, 2.0] and values["global Z, count toys"] == [1.28, "-"]
    assert [x["value"] for x in against["independent_variables"][0]["values"]] == [300, 0]
    local = yaml.safe_load((folder / tables["Local significance per window, cwola, nsig 300, seed 1"]["data_file"])
                           .read_text())
    window = local["independent_variables"][0]
    assert window["header"]["units"] == "TeV" and window["values"][0] == {"low": 3.3, "high": 3.7}
    columns = {v["header"]["name"]: [x["value"] for x in v["values"]] for v in local["dependent_variables"]}
    assert columns["local Z"] == [2.0, "-"] and columns["statistical error of b"] == [4.5, "-"]
    # the archive is what HEPData takes: hepdata-validator's full check of the submission
    from hepdata_validator.full_submission_validator import FullSubmissionValidator

    validator = FullSubmissionValidator()
    assert validator.validate(archive=str(path)), validator.get_messages()


# -- sculpting: with no signal, the local p-values are uniform and 3σ windows no more frequent than expected ----

SCULPT_WINDOWS = [Window(0, 3.0, 3.3), Window(1, 3.3, 3.6), Window(2, 3.6, 3.9)]  # not overlapping: independent
SCULPT_EFFICIENCIES = [0.2, 0.05]


def _toy_background(n, rng, width=0.01):
    """Dijet-like background whose features depend on mjj (a selection on them can sculpt mjj)."""
    mjj = 2.9 + rng.exponential(0.45, n)
    mj1 = np.abs(0.05 + 0.02 * (mjj - 3) + width * rng.standard_normal(n))
    dmj = 0.1 * rng.exponential(1.0, n) + 0.03 * (mjj - 3)
    return np.column_stack([mjj, mj1, dmj, rng.uniform(0.3, 0.9, (n, 2)), np.zeros(n)])


def _background_only_search(seed, template_width=0.01, n=2000):
    """One signal-free data set searched as the template methods do (k = 2 folds, the tree ensemble of the
    search, thresholds from the template's score quantiles): (N, b) per window and threshold. The template
    is true background (``template_width`` 0.01) or a mismodelled one."""
    rng = np.random.default_rng(seed)
    data, template = _toy_background(n, rng), _toy_background(2 * n, rng, template_width)
    counts, backgrounds = [], []
    for window in SCULPT_WINDOWS:
        sr, tpl = (rows[(rows[:, 0] > window.low) & (rows[:, 0] < window.high)] for rows in (data, template))
        sr_fold, tpl_fold = fold_ids(len(sr), 2, seed), fold_ids(len(tpl), 2, seed + 1)
        sr_scores, tpl_scores = np.full(len(sr), np.nan), np.full(len(tpl), np.nan)
        for fold in range(2):
            (sr_train, sr_scored), (tpl_train, tpl_scored) = fold_split(sr_fold, fold), fold_split(tpl_fold, fold)
            clf = fold_classifier(sr[sr_train], tpl[tpl_train], "hgb", {"n_models": 1, "max_iter": 10}, 0.2, seed)
            sr_scores[sr_scored] = clf.predict_proba(sr[sr_scored][:, 1:5])
            tpl_scores[tpl_scored] = clf.predict_proba(tpl[tpl_scored][:, 1:5])
        rows = template_counts(window, sr, sr_scores, tpl, tpl_scores, SCULPT_EFFICIENCIES)
        counts.append([r["n_observed"] for r in rows])
        backgrounds.append([r["b"] for r in rows])
    return np.array(counts, float), np.array(backgrounds)


def _three_sigma_counts(z, b, seeds):
    """(data sets of ``z`` with a window above 3σ, the most the look-elsewhere count allows at 99 %), over
    all windows and per window: the count toys around each data set's b (toy_exceedance) give the Poisson
    mean of the number of such data sets."""
    expected = [toy_exceedance(bb, 0.0, 2000, seed) for seed, bb in zip(seeds, b)]
    expected_any, expected_window = sum(e[0] for e in expected), sum(e[1] for e in expected)
    return ((z.max(axis=(1, 2)) > 3).sum(), poisson.ppf(0.99, expected_any),
            (z.max(axis=2) > 3).sum(axis=0), poisson.ppf(0.99, expected_window))


def _uniformity(z):
    """p_value_uniformity per threshold of ``z`` (data sets x windows x thresholds)."""
    return [p_value_uniformity(z[..., j]) for j in range(z.shape[-1])]


def test_toy_exceedance_and_uniformity_of_a_calibrated_count():
    # one window, one threshold, b = 1000 known exactly: P(Z > 3) is the Gaussian tail, 1.35e-3
    p_any, per_window = toy_exceedance(np.array([[1000.0]]), 0.0, 400_000, seed=5)
    assert p_any == per_window[0] and abs(p_any - 1.35e-3) < 0.25e-3, p_any
    # two windows: some window above 3σ is about twice as likely as a given one
    p_two, per_two = toy_exceedance(np.full((2, 1), 1000.0), 0.0, 400_000, seed=6)
    assert abs(p_two - per_two.sum()) < 1e-4 and 2.2e-3 < p_two < 3.2e-3, (p_two, per_two)
    # counts drawn around their b pass the uniformity check; an excess of 10 % of b everywhere fails it (b
    # varies, as it does over windows: with one b the p-values of an integer N sit on a lattice KS rejects)
    rng = np.random.default_rng(7)
    b = rng.uniform(200.0, 2000.0, 2000)
    assert min(p_value_uniformity(local_significance(rng.poisson(b), b))) > 0.01
    assert max(p_value_uniformity(local_significance(rng.poisson(1.1 * b), b))) < 1e-3


def test_no_sculpting_without_signal():
    seeds = range(15)
    results = [_background_only_search(seed) for seed in seeds]
    n, b = np.array([r[0] for r in results]), np.array([r[1] for r in results])
    z = local_significance(n, b, 0.0)  # data sets x windows x thresholds
    for ks, binomial in _uniformity(z):
        assert ks > 0.01 and binomial > 0.01, (ks, binomial)
    n_any, allowed_any, n_window, allowed_window = _three_sigma_counts(z, b, seeds)
    assert n_any <= allowed_any and (n_window <= allowed_window).all(), (n_any, allowed_any, n_window, allowed_window)
    # the check can fail: a template whose mj1 is 50 % wider than the data's sculpts excesses
    seeds = range(4)
    bad = [_background_only_search(seed, template_width=0.015) for seed in seeds]
    n, b = np.array([r[0] for r in bad]), np.array([r[1] for r in bad])
    z = local_significance(n, b, 0.0)
    n_any, allowed_any, _, _ = _three_sigma_counts(z, b, seeds)
    # the check can fail: a too narrow template is caught (by the p-value uniformity always; the 3-sigma
    # count of four data sets sits at its bound, so it is not required to catch it too)
    assert min(ks for ks, _ in _uniformity(z)) < 1e-3 and n_any >= allowed_any, (n_any, allowed_any)


# -- the whole search under Snakemake, on a tiny config -----------------------------------------------------

TARGETS = ["results/search/cathode/bumphunt.pdf", "results/search/cwola/bumphunt.pdf",
           "results/search/iad/bumphunt.pdf", "results/search/significance_vs_injection.pdf",
           "results/search/significance_table.csv"]
# tests/config/tiny.yaml with less work: the toy data set in the LHCO layout (tests/lhco_toy.py) instead of
# the Pythia generation, two windows, shorter trainings, fewer toys. Two data sets: nsig 150 and the
# background-only nsig 0, which is also the one background-only run (search.null_seeds) that measures δ_sys.
SEARCH_CONFIG = {
    "dataset": "lhco",
    "injection": {"nsig": 150, "seeds": [1], "scan_nsig": [150, 0], "scan_seeds": [1]},
    "prepare": {"n_test_signal": 100},
    "cathode": {"flow": {"max_epochs": 2, "n_ensemble": 1}, "classifier": {"hgb": {"n_models": 1, "max_iter": 20}}},
    # three windows, two flows per data set: windows 0 and 2 lie apart and share one (search.flow_groups 2)
    "search": {"windows": [{"low": 3.1, "high": 3.5}, {"low": 3.3, "high": 3.7}, {"low": 3.7, "high": 4.1}],
               "flow_groups": 2, "n_toys": 100, "null_seeds": [1], "delta_sys": None},
}


@pytest.fixture(scope="module")
def search_run(repo_root, tmp_path_factory):
    from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path
    from lhco_toy import write_toy_lhco

    work = tmp_path_factory.mktemp("search")
    # the data set's files where the download puts them (the download itself is tested in test_download.py)
    for name, kwargs in ((LHCO_FEATURES, {"n_bkg": 4000, "n_sig": 500, "seed": 11}),
                         (LHCO_EXTRA_QCD_SR, {"n_bkg": 1000, "n_sig": 0, "seed": 12, "sr_only": True})):
        (work / resource_path(name)).parent.mkdir(parents=True, exist_ok=True)
        write_toy_lhco(work / resource_path(name), **kwargs)
    config = work / "search.yaml"
    config.write_text(yaml.safe_dump(SEARCH_CONFIG))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(work),
           *TARGETS, "--cores", "2", "--configfile", str(repo_root / "tests/config/tiny.yaml"), str(config)]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return work


@pytest.mark.workflow
def test_search_runs_and_makes_both_plots(search_run):
    for target in TARGETS[:4]:
        for suffix in (".pdf", ".png"):
            path = search_run / target.replace(".pdf", suffix)
            assert path.stat().st_size > 5000, path
    sets = sorted((search_run / "results/search/lhco").glob("nsig*_seed*/search_significance/*.json"))
    assert len(sets) == 6  # two data sets (nsig 150 and 0) x three methods
    for path in sets:
        record = json.loads(path.read_text())
        # the idealized AD searches only the window inside regions.sr, where its true background exists
        assert [w["low"] for w in record["windows"]] == ([3.3] if record["technique"] == "iad" else [3.1, 3.3, 3.7])
        assert record["efficiencies"] == [0.2, 0.05]
        for window in record["windows"]:
            for row in window["thresholds"]:
                assert row["b"] is None and row["note"] or row["z"] >= 0 and 0 < row["p_value"] <= 0.5
                if row["b"]:  # σ holds the estimate's statistical error (template events or the fit) with δ_sys
                    assert row["b_error"] > 0
                    assert row["z"] == pytest.approx(local_significance(row["n_observed"], row["b"],
                                                                        record["delta_sys"], row["b_error"]))
        # b corrected by the background-only run's bias of its threshold (here the one run is this data set's
        # own for nsig 0: nothing else to measure it on, as the JSON says)
        bias = record["bias_correction"]
        assert len(bias["factor"]) == len(record["efficiencies"]) and all(f > 0 for f in bias["factor"])
        assert bias["source"] == ("this run itself" if record["nsig"] == 0 else "the background-only runs")
        for window in record["windows"]:
            for j, row in enumerate(window["thresholds"]):
                if row["b"] is not None:
                    assert row["b"] == pytest.approx(row["b_uncorrected"] * bias["factor"][j])
        glob = record["global"]
        assert glob["n_toys"] == 100 and (glob["p_value"] is not None or "too few toys" in glob["message"])
        # δ_sys measured from the background-only run (config search.delta_sys null), the one in force
        null = json.loads((search_run / f"results/search/lhco/search_null/{record['technique']}.json").read_text())
        assert record["delta_sys"] == null["delta_sys"] == null["measured"]["delta_sys"] >= 0
        assert "measured" in record["delta_sys_source"]
        counts = json.loads((search_run / "results/search/lhco/nsig0_seed1/search_counts"
                             / f"{record['technique']}.json").read_text())
        assert null["measured"]["n_entries"] == sum(r["b"] is not None for w in counts["windows"]
                                                    for r in w["thresholds"])
        # the largest Z overall, and per threshold over the windows
        z = np.array([[row.get("z", 0.0) for row in w["thresholds"]] for w in record["windows"]])
        per = record["max_local"]["per_threshold"]
        assert [p["efficiency"] for p in per] == record["efficiencies"]
        assert [p["z"] for p in per] == pytest.approx(z.max(axis=0).tolist())
        assert record["max_local"]["z"] == pytest.approx(z.max())
        # the drawn estimate is corrected alike; its band holds the factor's error too
        own_counts = json.loads((path.parents[1] / "search_counts" / path.name).read_text())
        for window, raw_window in zip(record["windows"], own_counts["windows"]):
            for j, (row, raw) in enumerate(zip(window["thresholds"], raw_window["thresholds"])):
                if row["b"] is not None and row.get("hist"):
                    f, df = bias["factor"][j], bias["error"][j]
                    raw_b, raw_e = (np.array(raw["hist"][k], float) for k in ("background", "error"))
                    assert np.allclose(row["hist"]["background"], f * raw_b)
                    assert np.allclose(row["hist"]["error"], np.hypot(f * raw_e, df * raw_b))
        # one background-only rerun of the whole chain: far too few to quote a global significance
        reruns = record["global_reruns"]
        assert reruns["n_toys"] == 1 and reruns["seeds"] == [1]
        assert reruns["p_value"] is not None or "too few background-only reruns" in reruns["message"]
    table = (search_run / "results/search/significance_table.csv").read_text().splitlines()
    assert len(table) == 1 + 6 and table[0].split(",")[:3] == ["method", "classifier", "nsig"]
    with tarfile.open(search_run / "results/search/hepdata.tar.gz") as tar:
        assert "submission.yaml" in tar.getnames() and len(tar.getnames()) == 1 + 3 + 6


@pytest.mark.workflow
def test_windows_apart_share_one_flow_trained_outside_both(search_run):
    data_set = search_run / "results/search/lhco/nsig150_seed1"
    assert sorted(p.name for p in data_set.glob("flowgroup*")) == ["flowgroup0", "flowgroup1"]
    history = json.loads((data_set / "flowgroup0/search_train_flow/history.json").read_text())
    assert history["windows"] == [[3.1, 3.5], [3.7, 4.1]]
    with h5py.File(data_set / "window0/search_prepare/window.h5", "r") as f:
        outside = f["outside"][()]
    mjj = outside[:, 0]
    assert history["n_train"] + history["n_val"] == ((mjj < 3.1) | ((mjj > 3.5) & (mjj < 3.7)) | (mjj > 4.1)).sum()
    # each window's template is sampled in its own window, from its group's flow
    for window, (low, high) in enumerate([(3.1, 3.5), (3.3, 3.7), (3.7, 4.1)]):
        with h5py.File(data_set / f"window{window}/search_template/template.h5", "r") as f:
            template = f["template"][()]
        assert ((template[:, 0] > low) & (template[:, 0] < high)).all() and len(template) > 100
    log = (search_run / "results/logs/search_template/lhco/nsig150_seed1_window2.log").read_text()
    assert "flowgroup0" in log


@pytest.mark.workflow
def test_search_scores_every_sr_event_out_of_fold(search_run):
    for window in sorted((search_run / "results/search/lhco/nsig150_seed1").glob("window*")):
        with h5py.File(window / "search_prepare/window.h5", "r") as f:
            n_sr, k = len(f["sr"]), int(f.attrs["k"])
        for score_file in sorted((window / "search_kfold_scores").glob("*_fold0.h5")):
            technique = score_file.name.split("_fold")[0]
            trained, scored = [], []
            for fold in range(k):
                with h5py.File(window / f"search_kfold_scores/{technique}_fold{fold}.h5", "r") as f:
                    trained.append(f["sr_trained_rows"][()])
                    scored.append(f["sr_rows"][()])
            check_out_of_fold(trained, scored, n_sr)
    # the idealized AD's template is the extra background inside the window, scored out of fold as well
    with h5py.File(search_run / "results/search/lhco/nsig150_seed1/window1/search_iad_template/template.h5") as f:
        template, folds = f["template"][()], f["fold"][()]
    assert len(template) > 500 and (template[:, 5] == 0).all() and set(folds) == {0, 1}
    assert ((template[:, 0] > 3.3) & (template[:, 0] < 3.7)).all()
