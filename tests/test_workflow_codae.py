"""The CoDAE stage under the real Snakemake on the tiny config: Pythia dark showers -> images -> CoDAE and
baselines -> metrics table, ROC plot and the checked ONNX export of f_m."""

import json
import subprocess
import sys

import h5py
import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

TARGETS = ["results/codae_roc.pdf", "results/codae_metrics.csv", "results/codae/export_onnx/codae/f_m.onnx"]
# The default codae.variants: the paper's CoDAE and CoDVAE; only the CoDVAE has a KL score.
KINDS = ("bce", "mse", "dice", "energy_diff", "zm1", "zm2", "zm_dist")
CODAE_SCORES = {f"codae_{k}" for k in KINDS} | {f"codvae_{k}" for k in KINDS + ("kl",)}
BASELINES = {"ntracks", "track_pt_sum", "conv_ae_bce", "conv_ae_mse", "conv_ae_dice", "conv_ae_energy_diff", "cnn"}


def snakemake(repo_root, workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), "--cores", "2", *args]
    return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def chain(readme_run):
    """The shared tiny run of the README targets (tests/conftest.py), which include these; read only."""
    assert all((readme_run / target).exists() for target in TARGETS)
    return readme_run


def test_roc_plot_in_every_format(chain):
    for ext in ("pdf", "png"):
        assert (chain / f"results/codae_roc.{ext}").stat().st_size > 5000


def test_metrics_table_has_every_score_per_mass(chain):
    table = pd.read_csv(chain / "results/codae_metrics.csv")
    assert set(table["signal"]) == {"suep_1000", "svj_2100", "svj_4100"}  # the tiny config's masses
    for signal, group in table.groupby("signal"):
        assert set(group["score"]) == CODAE_SCORES | BASELINES, signal
    assert table["auc"].between(0, 1).all() and table["fpr_at_40tpr"].between(0, 1).all()
    # QCD test split: 25 % of 400 events; signal test split: half of 160.
    assert (table["n_background"] == 100).all() and (table["n_signal"] == 80).all()


def test_images_hold_labels_masses_and_track_counts(chain):
    with h5py.File(chain / "results/codae/make_images/svj_2100.h5", "r") as f:
        assert f["images"].shape == (160, 3, 72, 58)
        assert (f["events/label"][()] == 1).all() and (f["events/mass"][()] == 2100).all()
        ntracks = f["events/ntracks"][()]
        hit_pixels = (f["images"][:, 0] > 0).sum(axis=(1, 2))
    # Tracks outside |eta| < 2.5 do not exist (tracker acceptance) and several can share a pixel.
    assert (hit_pixels <= ntracks).all() and (hit_pixels > 0).all()
    with h5py.File(chain / "results/codae/make_images/qcd.h5", "r") as f:
        assert (f["events/label"][()] == 0).all() and (f["events/jet1_pt"][()] > 20).all()
        qcd_pixels = (f["images"][:, 0] > 0).sum(axis=(1, 2))
    # SUEP at 1 TeV: hundreds of soft tracks spread over the image, several times QCD's hit pixels.
    with h5py.File(chain / "results/codae/make_images/suep_1000.h5", "r") as f:
        assert f["images"].shape == (160, 3, 72, 58) and (f["events/mass"][()] == 1000).all()
        suep_pixels = (f["images"][:, 0] > 0).sum(axis=(1, 2))
    assert suep_pixels.mean() > 3 * qcd_pixels.mean()


def test_onnx_export_checked_against_torch(chain):
    check = json.loads((chain / "results/codae/export_onnx/codae/check.json").read_text())
    assert check["passed"] and check["n_images"] > 0
    # The tolerance counts in units of max(1, |Z_m|): absolute below 1, relative above.
    assert check["max_scaled_diff"] <= check["tolerance"] == 1e-5
    assert check["max_abs_diff"] <= 1e-5 * max(1.0, check["max_abs_zm"])


def test_rerun_has_nothing_to_do(repo_root, chain):
    result = snakemake(repo_root, chain, "-n", *TARGETS)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr
