"""QUAK on the official-data path under real Snakemake: a fake Zenodo on 127.0.0.1 serves a small
particle-level file in the exact layout of events_anomalydetection_v2.h5; the workflow downloads it
(md5-checked), makes the extended features of its QCD and signal events (lhco_extended), builds the
QUAK samples with generated signal priors and draws results/roc_quak.pdf (which follows `dataset`)."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

from hepad.zenodo import LHCO_PARTICLES, ZENODO_FILES
from lhco_particles_toy import toy_events, write_particle_file
from zenodo_server import FakeZenodo

pytestmark = pytest.mark.workflow

PRIOR = "wprime_4500_500_150"
SIGNAL = "wprime_3500_500_100"


def test_lhco_particles_to_quak_roc(repo_root, tmp_path):
    served = tmp_path / "served.h5"
    rows = toy_events(1200, 300, seed=5)
    write_particle_file(served, rows)
    workdir = tmp_path / "work"
    workdir.mkdir()
    tiny = yaml.safe_load((repo_root / "tests/config/tiny.yaml").read_text())
    with FakeZenodo() as zenodo:
        zenodo.add_path(ZENODO_FILES[LHCO_PARTICLES][0], LHCO_PARTICLES, served)
        tiny["dataset"] = "lhco"
        tiny["zenodo"] = {"base_url": zenodo.url, "retries": 2, "timeout_s": 10}
        # one generated prior of a few hundred events keeps the run short; the file's last 100 events unread
        tiny["generation"]["events"]["signal"] = tiny["generation"]["chunk_events"]["signal"] = 300
        tiny["quak"].update(priors=[PRIOR], lhco={"max_events": 1400})
        config = workdir / "config.yaml"
        config.write_text(yaml.safe_dump(tiny))
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", "results/roc_quak.pdf", "--cores", "1", "-s",
             str(repo_root / "Snakefile"), "--directory", str(workdir), "--configfile", str(config)],
            capture_output=True, text=True, timeout=900,
        )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert (workdir / "resources/lhco" / LHCO_PARTICLES).read_bytes() == served.read_bytes()
    labels = rows[:1400, -1]
    with h5py.File(workdir / "results/quak/lhco/samples.h5", "r") as f:
        meta = json.loads(f.attrs["meta"])
        assert meta["priors"] == [PRIOR] and meta["signals"] == [SIGNAL]
        assert set(f) == {"background", PRIOR, SIGNAL}
        n_bkg = sum(meta["counts"]["background"].values())
        n_sig = sum(meta["counts"][SIGNAL].values())
        # the LHCO events with mjj >= 2.8 TeV, split by their label (rounding of the split sizes aside)
        assert 0.8 * (labels == 0).sum() < n_bkg <= (labels == 0).sum()
        assert 0.8 * (labels == 1).sum() < n_sig <= (labels == 1).sum()
        np.testing.assert_allclose(f["background/train/x"][()].mean(0), 0, atol=1e-9)
        # the constituent counts (Delphes here, our detector for the priors) are not inputs on lhco
        assert meta["dropped"] == ["ncons_j1", "ncons_j2"] and f["background/train/x"].shape[1] == 10
    # the QUAK jets are R = 0.8 (quak.jet_radius), in their own folder
    assert (workdir / "resources/lhco_r08/qcd.extended.h5").exists()
    assert (workdir / f"resources/generated_r08/{PRIOR}.extended.h5").exists()
    metrics = json.loads((workdir / "results/quak/lhco/quak_space/flow/metrics.json").read_text())
    assert metrics["axes"] == ["background", PRIOR] and metrics["signals"] == [SIGNAL]
    # the toy signal (two-prong, heavy jets) is far from the toy QCD: the background prior alone finds it
    assert metrics["results"][SIGNAL]["background"]["hull"]["auc"] > 0.8
    assert (workdir / "results/roc_quak.pdf").read_bytes().startswith(b"%PDF")
    log = (workdir / "results/logs/lhco_extended/lhco_extended.log").read_text()
    assert "1400 of 1400 events" in log and "anti-kT R = 0.8" in log
