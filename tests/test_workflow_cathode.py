"""The CATHODE stage under the real Snakemake: all seven modes, both classifier families, the three plots.

The events are small LHCO-format toy files (tests/lhco_toy.py) placed where the `lhco` data set's
downloads land, so the test exercises exactly the CATHODE chain (prepare onwards) on the tiny config's
settings, whatever the state of the generation stage.
"""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path
from lhco_toy import write_toy_lhco

pytestmark = pytest.mark.workflow

MODES = ["supervised", "iad", "cathode", "cwola", "anode", "lacathode", "ranode"]
DENSITY = {"anode": "score_anode/scores.h5", "ranode": "train_ranode/run0/scores.h5"}


def snakemake(repo_root, workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), "--config", "dataset=lhco", "--cores", "2",
           *args]
    return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("cathode_chain")
    write_toy_lhco(work / resource_path(LHCO_FEATURES), n_bkg=30000, n_sig=1500, seed=1)
    write_toy_lhco(work / resource_path(LHCO_EXTRA_QCD_SR), n_bkg=10000, n_sig=0, seed=2, sr_only=True)
    return work


@pytest.fixture(scope="module")
def chain(repo_root, workdir):
    targets = ["results/sic_cathode.pdf", "results/sic_comparison.pdf", "results/sb_scan.pdf",
               # the paper's MLP stays selectable: its comparison plot on the same sets
               "results/cathode/lhco/plot_sic/sic_comparison_mlp_nsig300.pdf"]
    result = snakemake(repo_root, workdir, *targets)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return workdir


def test_plots_exist_in_every_format(chain):
    for stem in ("sic_cathode", "sic_comparison", "sb_scan"):
        for ext in ("pdf", "png"):
            path = chain / "results" / f"{stem}.{ext}"
            assert path.stat().st_size > 5000, path
    assert (chain / "results/cathode/lhco/plot_sic/sic_comparison_mlp_nsig300.png").exists()


def test_metrics_of_every_mode_and_injection(chain):
    for nsig in (300, 100):
        for mode in MODES:
            method = mode if mode in DENSITY else f"{mode}_hgb"
            path = chain / f"results/cathode/lhco/nsig{nsig}_seed1/evaluate/{method}_run0.json"
            metrics = json.loads(path.read_text())
            assert metrics["method"] == method and metrics["nsig"] == nsig
            assert 0.0 <= metrics["auc"] <= 1.0
            assert len(metrics["tpr_grid"]) == len(metrics["sic_grid"])
            assert metrics["s_over_b"] > 0
    # The toy signal (jet masses 100/500 GeV, low tau21) is trivially separable with true labels.
    sup = json.loads((chain / "results/cathode/lhco/nsig300_seed1/evaluate/supervised_hgb_run0.json").read_text())
    assert sup["auc"] > 0.99 and sup["max_sic"] > 5


def test_same_test_set_for_every_mode(chain):
    base = chain / "results/cathode/lhco/nsig300_seed1"
    files = [base / (DENSITY[m] if m in DENSITY else f"train_classifier/{m}_hgb_run0/scores.h5") for m in MODES]
    labels = []
    for path in files:
        with h5py.File(path, "r") as handle:
            labels.append((handle["labels"][()], handle["mjj"][()]))
    for lab, mjj in labels[1:]:
        np.testing.assert_array_equal(lab, labels[0][0])
        np.testing.assert_array_equal(mjj, labels[0][1])


def test_flow_logs_every_epoch_and_cleans_its_checkpoint(chain):
    log = (chain / "results/logs/train_flow/lhco/nsig300_seed1_sb.log").read_text()
    history = json.loads((chain / "results/cathode/lhco/nsig300_seed1/train_flow/sb/history.json").read_text())["history"]
    for entry in history:
        assert f"epoch {entry['epoch']}/" in log
    assert not (chain / "results/cathode/lhco/nsig300_seed1/checkpoints/train_flow_sb.pt").exists()


def test_rerun_is_a_no_op(repo_root, chain):
    result = snakemake(repo_root, chain, "results/sic_cathode.pdf", "results/sb_scan.pdf", "-n")
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr


def test_shifted_comparison_and_the_papers_sic_cut_plan_on_the_tiny_config(repo_root, tmp_path):
    """results/sic_comparison_shifted.pdf plans a chain of its own on the shifted set (prepare --shift 0.1
    into results/cathode/generated_shift0.1/), and cathode.sic_min_fpr reaches every evaluate job."""
    extra = tmp_path / "paper_cut.yaml"
    extra.write_text("cathode:\n  sic_min_fpr: 1.84e-5\n")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), str(extra), "-n", "-p",
           "results/sic_comparison_shifted.pdf"]
    result = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "results/cathode/generated/plot_sic/sic_comparison_shifted_hgb_nsig300.pdf" in out
    prepares = [line for line in out.splitlines() if "scripts/prepare.py" in line]
    assert len(prepares) == 1 and "--shift 0.1" in prepares[0]
    assert "--output results/cathode/generated_shift0.1/prepare/nsig300_seed1.h5" in prepares[0]
    evaluates = [line for line in out.splitlines() if "scripts/evaluate.py" in line]
    assert len(evaluates) == 7  # tiny: one run of each of the seven modes
    assert all("--sic-min-fpr 1.84e-05" in line and "generated_shift0.1/" in line for line in evaluates)


def test_sculpting_plot_plans_background_only_chains_of_both_sets(repo_root, tmp_path):
    """results/sculpting.pdf: nsig 0 on the standard and the shifted set, LaCATHODE in latent space, and the
    plot of CATHODE, LaCATHODE and CWoLa with one panel per set; every classifier scores the SB events."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), "-n", "-p", "results/sculpting.pdf"]
    result = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    prepares = [line for line in lines if "scripts/prepare.py" in line]
    assert len(prepares) == 2 and all("--nsig 0 " in line for line in prepares)
    assert sum("--shift 0.1" in line for line in prepares) == 1
    latent = [line for line in lines if "scripts/latent_sr.py" in line]
    assert len(latent) == 2
    plot = [line for line in lines if "scripts/plot_sculpting.py" in line]
    assert len(plot) == 1 and plot[0].count("--panel") == 2 and "--efficiencies 0.1 0.01 --bins 20" in plot[0]
    assert "generated_shift0.1/nsig0_seed1/train_classifier/lacathode_hgb_run0/scores.h5" in plot[0]


def test_leaderboard_of_the_tiny_chain(repo_root, chain):
    """results/cathode/leaderboard.{csv,pdf} from the runs of the S/B scan (tiny: CATHODE and CWoLa, MAF,
    lhco4, nsig 300 and 100, seed 1, one run): only the template-fidelity tests and the table are new jobs."""
    from hepad.cathode.leaderboard import CSV_COLUMNS, read_csv

    result = snakemake(repo_root, chain, "results/cathode/leaderboard.pdf")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert (chain / "results/cathode/leaderboard.csv").read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = read_csv(chain / "results/cathode/leaderboard.csv")
    assert sorted((r["method"], r["flow"], r["family"], int(r["nsig"])) for r in rows) == [
        ("cathode", "maf", "hgb", 100), ("cathode", "maf", "hgb", 300), ("cwola", "", "hgb", 100),
        ("cwola", "", "hgb", 300)]
    for r in rows:
        assert r["dataset"] == "lhco" and r["features"] == "lhco4" and r["n_runs"] == 1
        assert r["max_sic_q16"] <= r["max_sic"] <= r["max_sic_q84"] and r["max_sic"] >= 0
        assert 0 <= r["auc"] <= 1 and 0 < r["s_over_b"] < 1 and r["cpu_s"] > 0
        metrics = json.loads((chain / f"results/cathode/lhco/nsig{int(r['nsig'])}_seed1/evaluate/"
                                      f"{r['method']}_hgb_run0.json").read_text())
        assert r["max_sic"] == pytest.approx(metrics["max_sic"] or 0.0, rel=1e-5)
        assert r["auc"] == pytest.approx(metrics["auc"], rel=1e-5)
        if r["method"] == "cathode":
            fidelity = json.loads((chain / f"results/cathode/lhco/nsig{int(r['nsig'])}_seed1/evaluate/"
                                           "template_fidelity_hgb.json").read_text())
            assert r["template_auc"] == pytest.approx(fidelity["auc"], rel=1e-5) and 0.3 < fidelity["auc"] < 1
            assert fidelity["n_test"] > 1000 and r["n_templates"] == 1
            # CATHODE's training: the SB flow, the sampling and the classifier run
            bench = chain / "results/benchmarks"
            parts = [f"train_flow/lhco/nsig{int(r['nsig'])}_seed1_sb.tsv", f"sample_sr/lhco/nsig{int(r['nsig'])}_seed1.tsv",
                     f"train_classifier/lhco/nsig{int(r['nsig'])}_seed1_cathode_hgb_run0.tsv"]
            cpu = sum(float((bench / p).read_text().splitlines()[1].split("\t")[-1]) for p in parts)
            assert r["cpu_s"] == pytest.approx(cpu, rel=1e-4)
        else:
            assert np.isnan(r["template_auc"]) and r["n_templates"] == 0
    assert (chain / "results/cathode/leaderboard.pdf").stat().st_size > 5000
    assert (chain / "results/cathode/leaderboard.png").exists()
