"""The CATHODE scripts by hand: --help, a killed flow training resumed to the uninterrupted result,
clear one-line errors."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from lhco_toy import write_toy_lhco

SCRIPTS = ["train_flow", "sample_sr", "train_classifier", "score_anode", "evaluate", "plot_sic", "plot_sb_scan",
           "latent_sr", "train_ranode", "plot_sculpting"]
SMALL_FLOW = ["--param", "n_blocks=2", "--param", "hidden=16", "--param", "batch_size=256", "--param", "lr=3e-3",
              "--param", "patience=0", "--param", "n_ensemble=2", "--threads", "1", "--seed", "3"]
# The settings the workflow passes from the config (the scripts hold no defaults of their own).
SPLITS = ["--sr", "3.3", "3.7", "--sb-val-fraction", "0.2", "--sr-val-fraction", "0.5", "--extra-bkg-test-fraction", "0.5"]
REGIONS = ["--sr", "3.3", "3.7", "--cwola-sb", "3.1", "3.9"]
SAMPLING = ["--sr", "3.3", "3.7", "--kde-bandwidth", "0.01"]
SCULPTING = ["--sculpt-efficiencies", "0.1", "0.01", "--sculpt-bins", "20"]


def run(repo_root, name, *args, **kwargs):
    return subprocess.run([sys.executable, str(repo_root / "scripts" / f"{name}.py"), *map(str, args)],
                          capture_output=True, text=True, **kwargs)


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(repo_root, name):
    result = run(repo_root, name, "--help")
    assert result.returncode == 0 and "usage" in result.stdout


@pytest.fixture(scope="module")
def prepared(repo_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scripts")
    write_toy_lhco(folder / "features.h5", n_bkg=8000, n_sig=400, seed=1)
    write_toy_lhco(folder / "extra.h5", n_bkg=3000, n_sig=0, seed=2, sr_only=True)
    result = run(repo_root, "prepare", "--features", folder / "features.h5", "--extra-bkg", folder / "extra.h5",
                 "--nsig", 100, "--seed", 1, "--n-test-signal", 100, *SPLITS, "--output", folder / "prep.h5",
                 "--summary", folder / "prep.json", "--feature-set", "lhco4")
    assert result.returncode == 0, result.stderr
    return folder


def test_killed_flow_training_resumes_to_the_same_result(repo_root, prepared):
    out = prepared
    args = ["--data", out / "prep.h5", "--region", "sb", *SMALL_FLOW, "--param", "max_epochs=25"]
    ref = run(repo_root, "train_flow", *args, "--output", out / "ref")
    assert ref.returncode == 0, ref.stderr
    # Kill a second run as soon as its first checkpoint exists, then rerun it with the same command.
    ckpt = out / "ckpt.pt"
    cmd = [sys.executable, str(repo_root / "scripts/train_flow.py"), *map(str, args), "--output", str(out / "resumed"),
           "--checkpoint", str(ckpt)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert ckpt.exists(), "the run ended before its first checkpoint: nothing was interrupted"
    assert not (out / "resumed/history.json").exists()
    resumed = subprocess.run(cmd, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from checkpoint" in resumed.stderr
    assert not ckpt.exists()  # removed once the model is saved
    h_ref = json.loads((out / "ref/history.json").read_text())
    h_res = json.loads((out / "resumed/history.json").read_text())
    assert [e["val_nll"] for e in h_res["history"]] == [e["val_nll"] for e in h_ref["history"]]
    assert h_res["ensemble_epochs"] == h_ref["ensemble_epochs"]
    # The same samples from both models.
    for name in ("ref", "resumed"):
        result = run(repo_root, "sample_sr", "--data", out / "prep.h5", "--flow", out / name, "--seed", 5,
                     "--oversampling", 1, *SAMPLING, "--output", out / f"samples_{name}.h5")
        assert result.returncode == 0, result.stderr
    import h5py

    with h5py.File(out / "samples_ref.h5") as a, h5py.File(out / "samples_resumed.h5") as b:
        np.testing.assert_array_equal(a["train"][()], b["train"][()])


def test_errors_are_one_line(repo_root, prepared):
    out = prepared
    result = run(repo_root, "train_flow", "--data", out / "prep.h5", "--region", "sr", "--output", out / "x")
    assert result.returncode == 1 and result.stderr.strip().splitlines()[-1].startswith("error: --region sr needs")
    result = run(repo_root, "train_classifier", "--data", out / "prep.h5", "--mode", "cathode", "--family", "hgb",
                 *REGIONS, "--output", out / "m", "--scores", out / "s.h5")
    assert result.returncode == 1 and "needs --samples" in result.stderr
    result = run(repo_root, "train_classifier", "--data", out / "missing.h5", "--mode", "iad", "--family", "hgb",
                 *REGIONS, "--output", out / "m", "--scores", out / "s.h5")
    assert result.returncode == 1 and "cannot read prepared set" in result.stderr
    result = run(repo_root, "sample_sr", "--data", out / "prep.h5", "--flow", out / "nothing", "--oversampling", 1,
                 *SAMPLING, "--output", out / "s.h5")
    assert result.returncode == 1 and "rerun train_flow" in result.stderr
    result = run(repo_root, "evaluate", "--scores", out / "none.h5", "--summary", out / "prep.json", "--method", "iad_hgb",
                 "--dataset", "generated", "--nsig", 100, "--seed", 1, "--run", 0, *SCULPTING, "--output", out / "m.json")
    assert result.returncode == 1 and "cannot read test scores" in result.stderr


def test_diverging_flow_stops_with_epoch_and_cause(repo_root, prepared):
    out = prepared
    result = run(repo_root, "train_flow", "--data", out / "prep.h5", "--region", "sb", "--param", "n_blocks=2",
                 "--param", "hidden=16", "--param", "batch_size=256", "--param", "lr=1e6", "--param", "max_epochs=5",
                 "--threads", "1", "--output", out / "nan")
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "epoch" in last and "lr" in last
    assert not (out / "nan/flow.pt").exists()


@pytest.mark.parametrize("family, params", [("hgb", ["n_models=2", "max_iter=20"]),
                                            ("mlp", ["hidden=[8]", "epochs=2", "n_average=1", "batch_size=512"])])
def test_classifier_rerun_gives_the_same_scores(repo_root, prepared, family, params):
    """A killed classifier job is simply rerun: from scratch, with the same seed, it must give the same scores."""
    import h5py

    out = prepared
    scores = []
    for attempt in (1, 2):
        args = ["--data", out / "prep.h5", "--mode", "iad", "--family", family, "--seed", 7, "--threads", 1, *REGIONS,
                "--output", out / f"{family}{attempt}", "--scores", out / f"{family}{attempt}.h5"]
        for p in params:
            args += ["--param", p]
        result = run(repo_root, "train_classifier", *args)
        assert result.returncode == 0, result.stderr
        with h5py.File(out / f"{family}{attempt}.h5") as handle:
            scores.append(handle["scores"][()])
    np.testing.assert_array_equal(scores[0], scores[1])
    assert scores[0].std() > 0


def test_evaluate_with_the_papers_sic_cut(repo_root, tmp_path):
    """--sic-min-fpr replaces the event-count cut: with 1000 background events FPR > 1.84e-5 keeps the point
    with a single selected background event, which --min-bkg-events 25 drops."""
    from hepad.cathode.modes import write_scores

    labels = np.r_[np.ones(100), np.zeros(1000)].astype(int)
    scores = np.r_[np.linspace(2, 3, 100), 2.5, np.linspace(0, 1, 999)]  # one background event among the signal
    write_scores(scores, labels, np.full(len(labels), 3.5), tmp_path / "s.h5")
    (tmp_path / "prep.json").write_text(json.dumps({"signal_region": {"s_over_b": 0.01, "s_over_sqrt_b": 1.0}}))
    common = ["--scores", tmp_path / "s.h5", "--summary", tmp_path / "prep.json", "--method", "iad_hgb",
              "--dataset", "lhco", "--nsig", 100, "--seed", 1, "--run", 0, *SCULPTING]
    assert run(repo_root, "evaluate", *common, "--output", tmp_path / "count.json").returncode == 0
    result = run(repo_root, "evaluate", *common, "--sic-min-fpr", 1.84e-5, "--output", tmp_path / "fpr.json")
    assert result.returncode == 0, result.stderr
    count, fpr = (json.loads((tmp_path / name).read_text()) for name in ("count.json", "fpr.json"))
    assert count["min_fpr"] is None and fpr["min_fpr"] == pytest.approx(1.84e-5)
    assert "mjj_sculpting" not in count  # no sideband scores in this file
    assert fpr["max_sic"] == pytest.approx(1 / np.sqrt(1e-3))  # all signal above one background event
    assert count["max_sic"] == pytest.approx(1 / np.sqrt(25e-3))


def test_evaluate_checks_the_mjj_sculpting_when_the_sideband_is_scored(repo_root, tmp_path):
    """With sideband scores, evaluate adds chi2/ndf and KS of the selected against the inclusive background
    mjj per efficiency: large for a score that grows with mjj, small for one that does not."""
    from hepad.cathode.modes import write_scores

    rng = np.random.default_rng(1)
    labels = np.r_[np.ones(200), np.zeros(4000)].astype(int)
    mjj = np.r_[np.full(200, 3.5), rng.uniform(3.3, 3.7, 4000)]
    mjj_sb = rng.uniform(2.5, 4.5, 8000)
    (tmp_path / "prep.json").write_text(json.dumps({"signal_region": {"s_over_b": 0.01, "s_over_sqrt_b": 1.0}}))
    results = {}
    for name, slope in (("flat", 0.0), ("sculpted", 2.0)):
        scores = np.r_[rng.normal(3, 1, 200), rng.normal(size=4000) + slope * mjj[200:]]
        write_scores(scores, labels, mjj, tmp_path / f"{name}.h5", mode="cathode", family="hgb",
                     sideband=(rng.normal(size=8000) + slope * mjj_sb, np.zeros(8000, int), mjj_sb))
        result = run(repo_root, "evaluate", "--scores", tmp_path / f"{name}.h5", "--summary", tmp_path / "prep.json",
                     "--method", "cathode_hgb", "--dataset", "lhco", "--nsig", 100, "--seed", 1, "--run", 0,
                     *SCULPTING, "--output", tmp_path / f"{name}.json")
        assert result.returncode == 0, result.stderr
        results[name] = json.loads((tmp_path / f"{name}.json").read_text())["mjj_sculpting"]
    assert [e["efficiency"] for e in results["flat"]] == [0.1, 0.01]
    assert all(e["chi2_ndf"] < 3 for e in results["flat"])
    assert all(e["chi2_ndf"] > 20 and e["ks_p_value"] < 1e-6 for e in results["sculpted"])
