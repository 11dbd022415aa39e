"""The mimicker stage under the real Snakemake on the tiny config.

Main chain: toy jets written in the Zenodo layout where the downloads land (tests/mimic_toy.py), so the
test runs exactly single_jet_sample (Zenodo reader) -> jet_features -> train_image_ae -> select_mimicker
-> plot_mimickers, fast and independent of Pythia's speed. A second run checks the generated path:
Pythia chunks of one signal up to its feature file.
"""

import json
import subprocess
import sys

import h5py
import pytest

from hepad.zenodo import resource_path
from mimic_toy import write_toy_zenodo

pytestmark = pytest.mark.workflow


def snakemake(repo_root, workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), "--cores", "2", *args]
    return subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def zenodo_chain(repo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("mimic_chain")
    write_toy_zenodo(work / resource_path("qcd_dijet.h5"), n=700, prongs=1, mass=0.0, seed=1)
    write_toy_zenodo(work / resource_path("top_100k_01.h5"), n=80, prongs=3, mass=173.0, seed=2)
    write_toy_zenodo(work / resource_path("W_100k_01.h5"), n=80, prongs=2, mass=80.0, seed=3)
    result = snakemake(repo_root, work, "results/mimic_ado.pdf", "results/mimic_auc.pdf",
                       "--config", "mimickers={source: zenodo}")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return work


def test_both_plots_and_efp_graphs(zenodo_chain):
    for stem in ("mimic_ado", "mimic_auc", "mimic_efps"):
        for ext in ("pdf", "png"):
            assert (zenodo_chain / "results" / f"{stem}.{ext}").stat().st_size > 5000, (stem, ext)


def test_selection_record(zenodo_chain):
    record = json.loads((zenodo_chain / "results/mimic_selection.json").read_text())
    summary, selections = record["summary"], record["selections"]
    assert set(selections) == {"hln", "pnn"}
    for kind, sel in selections.items():
        rounds = sel["rounds"]
        assert len(rounds) == 3  # tiny config: (m, pT) then 2 rounds
        assert rounds[0]["features"] == ["m", "pt"]
        for r, nxt in zip(rounds, rounds[1:]):
            assert nxt["features"] == r["features"] + [r["added"]]  # each round adds what the last chose
            assert r["added"].startswith("efp_")
            assert 0 <= r["added_ado_misordered"] <= 1
            assert r["added_sign"] in (1, -1)
        for r in rounds:
            assert 0 <= r["ado_test"] <= 1
            assert set(r["auc"]) == {"top", "W"}
        assert summary[kind]["ado_test"] == rounds[-1]["ado_test"]
    assert set(summary["autoencoder_auc"]) == {"top", "W"}


def test_scores_of_every_sample(zenodo_chain):
    with h5py.File(zenodo_chain / "results/mimic/train_image_ae/scores.h5") as f:
        assert set(f) == {"background", "top", "W"}
        with h5py.File(zenodo_chain / "results/mimic/jet_features/qcd.h5") as g:
            assert len(f["background"]) == len(g["features"]) <= 450
            assert g["images"].shape[1:] == (40, 40)
            assert g["features"].shape[1] == 103


def test_generated_signal_features(repo_root, tmp_path):
    # --config would pass 20 as a string inside the mapping: a second config file sets it
    extra = tmp_path / "extra.yaml"
    extra.write_text("mimickers:\n  n_signal: 20\n")
    result = snakemake(repo_root, tmp_path, "results/mimic/jet_features/W.h5", "--configfile",
                       str(repo_root / "tests/config/tiny.yaml"), str(extra))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    with h5py.File(tmp_path / "results/mimic/jet_features/W.h5") as f:
        feats = f["features"][()]
    assert len(feats) == 20
    assert ((feats[:, 1] >= 550) & (feats[:, 1] <= 650)).all()  # pT window
    meta = json.loads((tmp_path / "resources/single_jets/w_80/chunk0.json").read_text())
    assert meta["n_accepted"] == 20 and meta["n_generated"] >= 20
