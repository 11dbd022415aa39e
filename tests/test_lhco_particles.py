"""The LHCO R&D particle-level rows -> extended features (hepad.events.lhco_particles, scripts/lhco_extended.py)
on constructed events whose jets, masses and N-subjettiness follow by hand."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hepad.events.lhco_particles import extended_from_particles, iter_particle_blocks
from hepad.events.substructure import EXTENDED_COLUMNS
from hepad.io import InputError
from hepad.quak.features import quak_features, read_extended
from lhco_particles_toy import particle_row, toy_events, write_particle_file

pytest.importorskip("fastjet")

COL = {name: i for i, name in enumerate(EXTENDED_COLUMNS)}
PRONG_PT = (250.0, 150.0, 100.0)  # three particles on the same spot make one prong of 500 GeV


def prong(eta, phi):
    return [(pt, eta, phi) for pt in PRONG_PT]


def two_prong_dijet():
    """Jet 1: prongs at eta = +-0.15, phi = 0; jet 2: prongs at phi = pi +- 0.1, eta = 0; a soft third jet."""
    return (prong(0.15, 0.0) + prong(-0.15, 0.0) + prong(0.0, np.pi - 0.1) + prong(0.0, -np.pi + 0.1)
            + [(50.0, 2.0, 1.5)])


def four_vectors(particles):
    pt, eta, phi = np.asarray(particles).T
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], axis=1)


def mass(p4):
    return np.sqrt(max(p4[3] ** 2 - p4[0] ** 2 - p4[1] ** 2 - p4[2] ** 2, 0.0))


def test_two_prong_dijet_by_hand():
    particles = two_prong_dijet()
    rows = np.stack([particle_row(particles, 1), particle_row([(900.0, 0.5, 0.2)], 0)])
    ext = extended_from_particles(rows, first_event=40)
    assert ext.shape == (2, len(EXTENDED_COLUMNS))
    row = ext[0]
    # masses of two massless 500 GeV prongs: m^2 = 2 p p (cosh deta - cos dphi)
    assert row[COL["mj1"]] == pytest.approx(500 * np.sqrt(2 * (np.cosh(0.3) - 1)), rel=1e-9)
    assert row[COL["mj2"]] == pytest.approx(500 * np.sqrt(2 * (1 - np.cos(0.2))), rel=1e-9)
    assert row[COL["ptj1"]] == pytest.approx(1000.0) and row[COL["ptj2"]] == pytest.approx(1000 * np.cos(0.1))
    assert row[COL["nconsj1"]] == row[COL["nconsj2"]] == 6  # the soft third jet and the padding are not in
    jets = four_vectors(particles[:12])
    assert row[COL["mjj"]] == pytest.approx(mass(jets.sum(0)), rel=1e-9)
    # one axis at the jet centre: every particle is 0.15 (jet 1) or 0.1 (jet 2) away; two axes on the prongs
    for j, dr in ((1, 0.15), (2, 0.1)):
        assert row[COL[f"tau1j{j}_beta1"]] == pytest.approx(dr, rel=1e-6)
        assert row[COL[f"tau1j{j}_beta2"]] == pytest.approx(dr ** 2, rel=1e-6)
        assert row[COL[f"tau2j{j}_beta1"]] < 1e-6  # tau21 ~ 0: two prongs
    assert row[COL["label"]] == 1 and row[COL["event"]] == 40
    assert np.isnan(row[[COL["mhat"], COL["chunk"], COL["ntrackj1"], COL["necalj2"], COL["nhcalj1"]]]).all()
    # the second event has one jet: NaN but for its label and row number (it fails every mjj cut)
    assert ext[1, COL["label"]] == 0 and ext[1, COL["event"]] == 41
    assert np.isnan(ext[1, COL["mjj"]]) and np.isnan(ext[1, COL["mj1"]])
    # the QUAK inputs of the same rows: heavier jet first, tau21 = 0, 6 constituents
    x, mjj, kept = quak_features(pd.DataFrame(ext, columns=EXTENDED_COLUMNS), mjj_min_tev=0.0)
    assert kept.tolist() == [True, False]
    assert x[0, 0] > x[0, 6] and x[0, 1] < 1e-5 and x[0, 5] == x[0, 11] == 6


def test_wrong_layout_is_named():
    with pytest.raises(InputError, match="2101 columns"):
        extended_from_particles(np.zeros((2, 2100)))
    with pytest.raises(InputError, match="other than 0 and 1"):
        extended_from_particles(np.stack([particle_row(two_prong_dijet(), 2)]))


def test_blocks_cover_the_file_in_order(tmp_path):
    rows = toy_events(7, 3, seed=2)
    path = tmp_path / "particles.h5"
    write_particle_file(path, rows)
    blocks = list(iter_particle_blocks(path, block_events=4))
    assert [first for first, _ in blocks] == [0, 4, 8]
    np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), rows)
    assert sum(len(b) for _, b in iter_particle_blocks(path, block_events=4, max_events=6)) == 6


def run_script(repo_root, *args):
    return subprocess.run([sys.executable, str(repo_root / "scripts" / "lhco_extended.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_script_splits_by_label_in_file_order(repo_root, tmp_path):
    rows = toy_events(40, 10, seed=3)
    path = tmp_path / "events_anomalydetection_v2.h5"
    write_particle_file(path, rows)
    out = {name: tmp_path / "lhco" / f"{name}.extended.h5" for name in ("qcd", "wprime_3500_500_100")}
    result = run_script(repo_root, "--particles", path, "--qcd-output", out["qcd"], "--signal-output",
                        out["wprime_3500_500_100"], "--block-events", 16, "--max-events", 45)
    assert result.returncode == 0, result.stderr
    qcd, sig = read_extended(out["qcd"]), read_extended(out["wprime_3500_500_100"])
    labels = rows[:45, -1]
    assert list(qcd.columns) == EXTENDED_COLUMNS
    assert qcd["event"].tolist() == np.flatnonzero(labels == 0).tolist()
    assert sig["event"].tolist() == np.flatnonzero(labels == 1).tolist()
    assert (qcd["label"] == 0).all() and (sig["label"] == 1).all()
    # the same rows processed alone give the same numbers (blocks do not change the result)
    alone = extended_from_particles(rows[:45])
    np.testing.assert_array_equal(sig.to_numpy(), alone[labels == 1])
    # the two-prong toy signal has heavier, more two-prong jets than the toy QCD
    assert sig["mj1"].median() > 2 * qcd["mj1"].median()
    assert "events/s" in result.stderr


def test_script_help_and_one_line_errors(repo_root, tmp_path):
    assert "--max-events" in run_script(repo_root, "--help").stdout
    bad = tmp_path / "bad.h5"
    pd.DataFrame(np.zeros((3, 15))).to_hdf(bad, key="df", mode="w", format="fixed")
    result = run_script(repo_root, "--particles", bad, "--qcd-output", tmp_path / "q.h5",
                        "--signal-output", tmp_path / "s.h5")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "15 columns instead of 2101" in lines[-1]
    assert not (tmp_path / "q.h5").exists()
    only_qcd = tmp_path / "qcd_only.h5"
    write_particle_file(only_qcd, toy_events(5, 0, seed=4))
    result = run_script(repo_root, "--particles", only_qcd, "--qcd-output", tmp_path / "q.h5",
                        "--signal-output", tmp_path / "s.h5")
    assert result.returncode == 1 and "0 signal events" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "q.h5").exists()


def test_config_refuses_the_lhco_signal_as_a_prior_on_lhco_data():
    from hepad.config import ConfigError
    from hepad.quak.checks import LHCO_SIGNAL, check_quak_config

    quak = {"priors": [LHCO_SIGNAL], "signals": ["wprime_3000_300_300"], "plot_prior": "",
            "digits": {"background": [0], "priors": [1], "anomalies": [2]}}
    check_quak_config({"dataset": "generated", "quak": quak})  # a generated prior of these masses is fine
    with pytest.raises(ConfigError, match="quak.priors holds wprime_3500_500_100"):
        check_quak_config({"dataset": "lhco", "quak": quak})
