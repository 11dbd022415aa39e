"""The QUAK stage under the real Snakemake on the tiny config: the digits chain (no generation needed)
and the physics chain from generated events (the generation stage's chunked chain, tiny sizes) to
results/quak_space.pdf and results/roc_quak.pdf."""

import json
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import copy_run

pytestmark = pytest.mark.workflow

COMBOS = ["background", "background+wprime_4500_500_150", "background+wprime3p_5000_500_500", "all"]
SIGNALS = ["wprime_3500_500_100", "wprime3p_3500_500_200"]


def snakemake(repo_root, workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), "--cores", "2", *args]
    return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def workdir(readme_run, tmp_path_factory):
    """A copy of the shared tiny run of the README targets (tests/conftest.py): the QUAK targets are made
    once per session; the tests below still run Snakemake on them, which must find them up to date."""
    return copy_run(readme_run, tmp_path_factory.mktemp("quak_chain"))


@pytest.fixture(scope="module")
def digits(repo_root, workdir):
    result = snakemake(repo_root, workdir, "results/quak_digits.pdf")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return workdir


@pytest.fixture(scope="module")
def physics(repo_root, workdir):
    result = snakemake(repo_root, workdir, "results/roc_quak.pdf", "results/quak_space.pdf")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "Nothing to be done" in result.stdout + result.stderr  # the copied run is taken as up to date
    return workdir


def test_digits_plot_and_metrics(digits):
    for ext in ("pdf", "png"):
        assert (digits / f"results/quak_digits.{ext}").stat().st_size > 5000
    metrics = json.loads((digits / "results/quak/digits/quak_space/flow/metrics.json").read_text())
    assert metrics["axes"] == ["background", "digit7", "digit9"]
    assert metrics["signals"] == ["digit5", "digit8"]
    gain = []
    for signal in metrics["signals"]:
        res = metrics["results"][signal]
        assert sorted(res) == sorted(["background", "background+digit7", "background+digit9", "all"])
        for combo in res.values():
            assert 0 <= combo["hull"]["auc"] <= 1 and 0 <= combo["nested"]["auc"] <= 1
        gain.append(res["all"]["hull"]["auc"] - res["background"]["hull"]["auc"])
    # The priors of other digit classes help find a held-out class (the paper's MNIST claim).
    assert np.mean(gain) > 0


def test_physics_plots_exist(physics):
    for stem in ("quak_space", "roc_quak"):
        for ext in ("pdf", "png"):
            assert (physics / f"results/{stem}.{ext}").stat().st_size > 5000


def test_physics_metrics_cover_every_combination_and_signal(physics):
    metrics = json.loads((physics / "results/quak/generated/quak_space/flow/metrics.json").read_text())
    assert metrics["axes"] == ["background", "wprime_4500_500_150", "wprime3p_5000_500_500"]
    assert metrics["signals"] == SIGNALS
    for signal in SIGNALS:
        assert sorted(metrics["results"][signal]) == sorted(COMBOS)
        wp = metrics["results"][signal]["background"]["working_point"]
        assert 0 < wp["bkg_eff_calib"] < 0.05
    with h5py.File(physics / "results/quak/generated/quak_space/flow/losses.h5", "r") as f:
        for signal in SIGNALS:
            for combo in COMBOS:
                fpr, tpr = f[f"curves/{signal}/{combo}/hull"][()]
                # calibration-chosen boxes counted on test: not enveloped again, so not always monotone
                assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
                assert np.all((0 <= fpr) & (fpr <= 1) & (0 <= tpr) & (tpr <= 1))
        assert f["losses/background/test"].shape[1] == 3
        assert np.all(f["mjj/background/test"][()] >= 2.8)
    # the background prior alone on every signal sample; the paper's window of the (4500, 500, 150) prior
    bp = metrics["background_prior"]
    assert set(bp) == {"wprime_4500_500_150", "wprime3p_5000_500_500", *SIGNALS}
    assert "auc_in_window" in bp["wprime_4500_500_150"] and "auc_in_window" not in bp[SIGNALS[0]]
    assert metrics["signal_windows"]["wprime_4500_500_150"]["mj1"] == [450, 550]


def test_quak_jets_are_r08_in_their_own_folder(physics):
    """quak.jet_radius = 0.8: the QUAK processes are generated again with R = 0.8 (same events) under
    resources/generated_r08/; the generation stage's R = 1.0 files are not made for QUAK."""
    assert (physics / "resources/generated_r08/qcd.extended.h5").exists()
    # (resources/generated/ exists too in this shared run: the CATHODE targets made it; the QUAK samples
    # are checked to be R = 0.8 through the summary below)
    summary = json.loads((physics / "resources/generated_r08/qcd.summary.json").read_text())
    settings = summary["settings"] if isinstance(summary["settings"], dict) else json.loads(summary["settings"])
    assert settings["jet_radius"] == 0.8


def test_physics_samples_are_standardised_on_background(physics):
    with h5py.File(physics / "results/quak/generated/samples.h5", "r") as f:
        x = f["background/train/x"][()]
        assert x.shape[1] == 12
        np.testing.assert_allclose(x.mean(0), 0, atol=1e-9)
        assert set(f) == {"background", "wprime_4500_500_150", "wprime3p_5000_500_500", *SIGNALS}


def _job_counts(output):
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def test_adding_a_prior_is_one_config_line(repo_root, physics):
    priors = "[wprime_4500_500_150, wprime3p_5000_500_500, wprime_3000_300_300]"
    result = snakemake(repo_root, physics, "-n", "results/roc_quak.pdf", "--config", f"quak={{priors: {priors}}}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    counts = _job_counts(result.stdout)
    # The new process is generated (one chunk at the tiny size) and merged; the sample file is rebuilt, so
    # the three existing priors are retrained with the new one; one space and one plot job follow.
    assert counts == {"quak_generate_events": 1, "quak_merge_events": 1, "quak_features": 1, "train_quak_prior": 4,
                      "quak_space": 1, "plot_quak": 1}


def test_beta_scan_is_one_target(repo_root, physics):
    """quak.vae.beta as a list: one VAE prior set per beta, a quak_space per beta and one table."""
    scan = "quak={vae: {beta: [0.5, 2]}}"
    result = snakemake(repo_root, physics, "results/quak/generated/quak_beta_scan/table.md", "--config", scan)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    counts = _job_counts(result.stdout + result.stderr)  # a real run reports its jobs on stderr
    assert counts == {"train_quak_prior": 6, "quak_space": 2, "quak_beta_scan": 1}
    table = (physics / "results/quak/generated/quak_beta_scan/table.md").read_text()
    assert "| 0.5 |" in table and "| 2 |" in table and "[paper 0.802]" in table
    data = json.loads((physics / "results/quak/generated/quak_beta_scan/table.json").read_text())
    assert data["betas"] == [0.5, 2.0]
    for beta in ("0.5", "2.0"):
        assert 0 <= data["background_prior"]["wprime_4500_500_150"][beta]["auc"] <= 1
    # the family 'vae' is the first beta's priors: nothing to train
    again = snakemake(repo_root, physics, "-n", "results/quak/generated/quak_space/vae/metrics.json", "--config", scan)
    assert again.returncode == 0
    assert _job_counts(again.stdout) == {"quak_space": 1}
