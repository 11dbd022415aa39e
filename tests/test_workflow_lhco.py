"""The official-data path end to end under real Snakemake: a fake Zenodo on 127.0.0.1 serves small files in
the exact LHCO layout; the workflow downloads them (md5-checked), prepares a set and draws the overview."""

import json
import subprocess
import sys

import pytest

from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, ZENODO_FILES
from lhco_toy import write_toy_lhco
from zenodo_server import FakeZenodo

pytestmark = pytest.mark.workflow


def test_lhco_download_prepare_and_overview(repo_root, tmp_path):
    files = tmp_path / "served"
    files.mkdir()
    write_toy_lhco(files / "features.h5", n_bkg=4000, n_sig=500, seed=11)
    write_toy_lhco(files / "extra.h5", n_bkg=2000, n_sig=0, seed=12, sr_only=True)
    workdir = tmp_path / "work"
    workdir.mkdir()
    with FakeZenodo() as zenodo:
        zenodo.add_path(ZENODO_FILES[LHCO_FEATURES][0], LHCO_FEATURES, files / "features.h5")
        zenodo.add_path(ZENODO_FILES[LHCO_EXTRA_QCD_SR][0], LHCO_EXTRA_QCD_SR, files / "extra.h5")
        config = workdir / "config.yaml"
        config.write_text(f"dataset: lhco\nzenodo: {{base_url: '{zenodo.url}', retries: 2, timeout_s: 10}}\n"
                          "prepare: {n_test_signal: 100}\nplots: {overview_events: 1000}\n")
        result = subprocess.run(
            [sys.executable, "-m", "snakemake", "results/data_overview.pdf", "results/cathode/lhco/prepare/nsig200_seed3.h5",
             "--cores", "2", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
             "--configfile", str(config)],
            capture_output=True, text=True, timeout=600,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workdir / "resources/lhco" / LHCO_FEATURES).read_bytes() == (files / "features.h5").read_bytes()
    overview = workdir / "results/data_overview.pdf"
    assert overview.read_bytes().startswith(b"%PDF") and overview.stat().st_size > 10_000
    summary = json.loads((workdir / "results/cathode/lhco/prepare/nsig200_seed3.json").read_text())
    injected = sum(summary["counts"][name]["signal"] for name in ("sb_train", "sb_val", "sr_train", "sr_val"))
    assert injected == 200
    assert summary["counts"]["test"]["signal"] == 100
    assert summary["signal_region"]["s_over_b"] > 0
