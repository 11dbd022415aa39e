"""The sliding-window bump hunt (docs/search.md): the cut-and-count significance, the dijet fit, the k-fold
split, and the whole search on the tiny config under Snakemake."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from hepad.search.fit import FitError, TooFewEvents, _bin_integrals, dijet_function, fit_dijet
from hepad.search.kfold import check_out_of_fold, fold_ids, fold_split
from hepad.search.significance import global_significance, local_significance, p_value, toy_max_significance
from hepad.search.windows import DEFAULT_WINDOWS, Window, inject, window_split

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


def test_significance_deficit_and_large_b_limit():
    assert local_significance(4, 5) == 0.0 and local_significance(5, 5, 0.1) == 0.0
    b = 1e6
    for excess in (1e3, 3e3):
        assert local_significance(b + excess, b) == pytest.approx(excess / math.sqrt(b), rel=2e-3)
    assert p_value(0.0) == pytest.approx(0.5)
    assert np.allclose(local_significance(np.array([10, 4]), np.array([5, 5])), [local_significance(10, 5), 0])


def test_global_significance_and_too_few_toys():
    b = np.array([[100.0, 10.0, 1.0], [80.0, 8.0, np.nan]])
    toys = toy_max_significance(b, 0.1, 2000, seed=1)
    assert np.array_equal(toys, toy_max_significance(b, 0.1, 2000, seed=1))
    result = global_significance(2.0, toys)
    assert 0 < result["p_value"] < 1 and result["z"] < 2.0  # the look-elsewhere effect lowers Z
    result = global_significance(50.0, toys)
    assert result["p_value"] is None and "too few toys to quote a global significance above Z=3.29" in result["message"]


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


def test_kfold_never_scores_an_event_with_its_own_model():
    n, k = 1003, 5
    ids = fold_ids(n, k, seed=7)
    assert np.array_equal(ids, fold_ids(n, k, seed=7)) and not np.array_equal(ids, fold_ids(n, k, seed=8))
    assert set(np.bincount(ids)) <= {200, 201}
    trained, scored = zip(*(fold_split(ids, f) for f in range(k)))
    check_out_of_fold(list(trained), list(scored), n)
    for train, score in zip(trained, scored):
        assert np.intersect1d(train, score).size == 0 and len(train) + len(score) == n


# -- the whole search under Snakemake, on the tiny config -------------------------------------------------

TARGETS = ["results/search/cathode/bumphunt.pdf", "results/search/cwola/bumphunt.pdf",
           "results/search/significance_vs_injection.pdf"]


@pytest.fixture(scope="module")
def search_run(repo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("search")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(work),
           *TARGETS, "--cores", "2", "--configfile", str(repo_root / "tests/config/tiny.yaml")]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return work


@pytest.mark.workflow
def test_search_runs_and_makes_both_plots(search_run):
    for target in TARGETS:
        for suffix in (".pdf", ".png"):
            path = search_run / target.replace(".pdf", suffix)
            assert path.stat().st_size > 5000, path
    sets = sorted((search_run / "results/search/generated").glob("nsig*_seed*/search_significance/*.json"))
    assert len(sets) == 4  # two injections (tiny injection.scan_nsig) x two methods
    for path in sets:
        record = json.loads(path.read_text())
        assert len(record["windows"]) == 3 and record["efficiencies"] == [0.2, 0.05]
        for window in record["windows"]:
            for row in window["thresholds"]:
                assert row["b"] is None and row["note"] or row["z"] >= 0 and 0 < row["p_value"] <= 0.5
        glob = record["global"]
        assert glob["n_toys"] == 200 and (glob["p_value"] is not None or "too few toys" in glob["message"])


@pytest.mark.workflow
def test_search_scores_every_sr_event_out_of_fold(search_run):
    for window in sorted((search_run / "results/search/generated/nsig300_seed1").glob("window*")):
        with h5py.File(window / "search_prepare/window.h5", "r") as f:
            n_sr, k = len(f["sr"]), int(f.attrs["k"])
        for technique in ("cathode", "cwola"):
            trained, scored = [], []
            for fold in range(k):
                with h5py.File(window / f"search_kfold_scores/{technique}_fold{fold}.h5", "r") as f:
                    trained.append(f["sr_trained_rows"][()])
                    scored.append(f["sr_rows"][()])
            check_out_of_fold(trained, scored, n_sr)
