"""Feature sets of CATHODE (hepad.cathode.feature_sets): columns, shapes, jet order, ΔR, seeded noise, tau56."""

import importlib
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from hepad.cathode import feature_sets
from hepad.cathode.modes import training_set
from hepad.cathode.prepare import cathode_features, prepare_sets
from hepad.cathode.prepared import COLUMNS, load_split, read_columns
from hepad.events.formats import LHCO_COLUMNS
from hepad.events.merge import write_extended
from hepad.events.substructure import EXTENDED_COLUMNS
from hepad.io import InputError
from lhco_toy import toy_lhco_frame, write_toy_lhco

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

SIZES = {"lhco4": 4, "lhco4_dr": 5, "tau56": 56, "lhco4_noise10": 14}


def test_columns_of_every_set():
    for name, n in SIZES.items():
        cols = feature_sets.columns(name)
        assert cols[0] == "mjj" and cols[-1] == "label" and len(cols) == n + 2
        assert cols[1:3] == ["mj1", "dmj"]  # the shifted data set moves these two in every set
        assert len(set(cols)) == len(cols)
    assert feature_sets.columns("lhco4") == COLUMNS
    tau = feature_sets.columns("tau56")[3:-1]
    assert tau[0] == "tau1j1_beta05" and tau[26] == "tau9j1_beta2" and tau[27] == "tau1j2_beta05"
    with pytest.raises(InputError, match="cathode.features"):
        feature_sets.columns("tau99")


def test_lhco_sets_extend_the_four_features():
    frame = toy_lhco_frame(40, 10, seed=5)
    four = cathode_features(frame)
    for name in ("lhco4", "lhco4_dr", "lhco4_noise10"):
        rows = feature_sets.rows_from_lhco(frame, name, feature_sets.noise_rng(1))
        assert rows.shape == (50, SIZES[name] + 2)
        np.testing.assert_array_equal(rows[:, :5], four[:, :5])
        np.testing.assert_array_equal(rows[:, -1], four[:, -1])


def test_delta_r_of_known_jets():
    # Back to back in phi, equal rapidity: ΔR = π; then the same jets with jet 2 at rapidity 1 and phi - 1.
    row = [1000.0, 0, 0, 100.0, 1, 1, 1, -1000.0, 0, 0, 100.0, 1, 1, 1, 0]
    frame = pd.DataFrame([row], columns=LHCO_COLUMNS, dtype=np.float64)
    np.testing.assert_allclose(feature_sets.delta_r(frame), [np.pi])
    m, pt, y = 100.0, 1000.0, 1.0
    mt = np.hypot(pt, m)
    frame.loc[0, ["pxj2", "pyj2", "pzj2"]] = [pt * np.cos(-1.0), pt * np.sin(-1.0), mt * np.sinh(y)]
    np.testing.assert_allclose(feature_sets.delta_r(frame), [np.hypot(1.0, 1.0)])
    # Across the phi = ±π seam the difference is wrapped: 0.2, not 2π - 0.2.
    frame.loc[0, ["pxj1", "pyj1", "pzj1"]] = [pt * np.cos(np.pi - 0.1), pt * np.sin(np.pi - 0.1), 0.0]
    frame.loc[0, ["pxj2", "pyj2", "pzj2"]] = [pt * np.cos(-np.pi + 0.1), pt * np.sin(-np.pi + 0.1), 0.0]
    np.testing.assert_allclose(feature_sets.delta_r(frame), [0.2], atol=1e-12)


def test_noise_is_seeded_standard_normal_and_leaves_the_events_alone():
    frame = toy_lhco_frame(3000, 100, seed=6)
    extra = toy_lhco_frame(1500, 0, seed=7, sr_only=True)

    def prepared(name, seed):
        rng = feature_sets.noise_rng(seed)
        rows = feature_sets.rows_from_lhco(frame, name, rng)
        extra_rows = feature_sets.rows_from_lhco(extra, name, rng)
        return prepare_sets(rows, extra_rows, nsig=50, seed=seed, sr=(3.3, 3.7), sb_val_fraction=0.2,
                            sr_val_fraction=0.5, extra_bkg_test_fraction=0.5, n_test_signal=20)[0]

    a, b, c, four = prepared("lhco4_noise10", 3), prepared("lhco4_noise10", 3), prepared("lhco4_noise10", 4), \
        prepared("lhco4", 3)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])  # the seed reproduces the noise
        # the same events in the same order as lhco4: the noise has a stream of its own
        np.testing.assert_array_equal(a[name][:, :5], four[name][:, :5])
        np.testing.assert_array_equal(a[name][:, -1], four[name][:, -1])
    assert not np.allclose(a["sr_train"][:, 5:15], c["sr_train"][:, 5:15])
    noise = np.concatenate([a[name][:, 5:15] for name in a])
    assert abs(noise.mean()) < 0.03 and abs(noise.std() - 1) < 0.03
    assert abs(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]) < 0.05


def extended_frame(n, label, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.uniform(0.01, 1.0, (n, len(EXTENDED_COLUMNS))), columns=EXTENDED_COLUMNS)
    frame["mjj"] = rng.uniform(2800, 4200, n)
    frame["mj1"], frame["mj2"] = rng.uniform(20, 600, n), rng.uniform(20, 600, n)
    frame["label"] = float(label)
    return frame


def test_tau56_orders_jets_by_mass_and_drops_events_without_two_jets():
    frame = extended_frame(30, 0, seed=8)
    frame.loc[3, "mjj"] = np.nan  # fewer than two jets (particle-level path)
    rows = feature_sets.rows_from_extended(frame)
    assert rows.shape == (29, 58)
    kept = frame.drop(index=3).reset_index(drop=True)
    cols = feature_sets.columns("tau56")
    light = np.where(kept["mj1"] <= kept["mj2"], 1, 2)
    np.testing.assert_allclose(rows[:, 0], kept["mjj"] / 1000)
    np.testing.assert_allclose(rows[:, 1], np.minimum(kept["mj1"], kept["mj2"]) / 1000)
    np.testing.assert_allclose(rows[:, 2], np.abs(kept["mj1"] - kept["mj2"]) / 1000)
    for n, beta in ((1, "beta05"), (3, "beta1"), (9, "beta2")):
        j1, j2 = f"tau{n}j1_{beta}", f"tau{n}j2_{beta}"
        want_light = np.where(light == 1, kept[j1], kept[j2])
        want_heavy = np.where(light == 1, kept[j2], kept[j1])
        col_light, col_heavy = cols.index(j1), cols.index(j2)
        np.testing.assert_allclose(rows[:, col_light], want_light)
        np.testing.assert_allclose(rows[:, col_heavy], want_heavy)
    with pytest.raises(InputError, match="extended"):
        feature_sets.rows_from_lhco(toy_lhco_frame(5, 0), "tau56")


@pytest.mark.parametrize("name", ["lhco4_dr", "lhco4_noise10", "tau56"])
def test_prepare_script_writes_the_set_and_modes_read_it(tmp_path, name):
    if name == "tau56":
        features, extra = tmp_path / "features_extended.h5", tmp_path / "qcd_sr.extended.h5"
        write_extended(pd.concat([extended_frame(3000, 0, 1), extended_frame(300, 1, 2)], ignore_index=True),
                       features)
        extra_frame = extended_frame(800, 0, 3)
        extra_frame["mjj"] = np.random.default_rng(4).uniform(3000, 4000, 800)  # partly outside the SR
        write_extended(extra_frame, extra)
    else:
        features, extra = tmp_path / "features.h5", tmp_path / "extra.h5"
        write_toy_lhco(features, n_bkg=3000, n_sig=300, seed=1)
        write_toy_lhco(extra, n_bkg=800, n_sig=0, seed=2, sr_only=True)
    # In process (a subprocess per set would cost seconds of start-up): scripts/prepare.py's main.
    sys.path.insert(0, str(SCRIPTS))
    try:
        prepare_script = importlib.import_module("prepare")
    finally:
        sys.path.remove(str(SCRIPTS))
    path, summary = tmp_path / "prep.h5", tmp_path / "prep.json"
    prepare_script.main(["--features", str(features), "--extra-bkg", str(extra), "--nsig", "60", "--seed", "2",
                         "--sr", "3.3", "3.7", "--n-test-signal", "200", "--sb-val-fraction", "0.2",
                         "--sr-val-fraction", "0.5", "--extra-bkg-test-fraction", "0.5", "--output", str(path),
                         "--summary", str(summary), "--feature-set", name])
    assert read_columns(path) == feature_sets.columns(name)
    assert json.loads(summary.read_text())["feature_set"] == name
    test = load_split(path, "test")
    assert test.shape[1] == SIZES[name] + 2 and ((test[:, 0] > 3.3) & (test[:, 0] < 3.7)).all()
    for mode in ("iad", "supervised", "cwola"):
        ts = training_set(mode, path)
        assert ts.x_train.shape[1] == ts.x_val.shape[1] == SIZES[name]
    with h5py.File(path) as handle:
        assert list(handle.attrs["columns"]) == feature_sets.columns(name)


def test_workflow_runs_each_set_in_a_chain_of_its_own(repo_root, tmp_path):
    """cathode.features: tau56 puts the top-level plot's chain under generated_tau56/, fed by the extended
    features; lhco4 (the default) keeps its paths."""
    import subprocess

    extra = tmp_path / "tau56.yaml"
    extra.write_text("cathode:\n  features: tau56\n")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), str(extra), "-n", "-p", "results/sic_cathode.pdf"]
    result = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    prepares = [line for line in result.stdout.splitlines() if "scripts/prepare.py" in line]
    assert prepares and all("--feature-set tau56" in line for line in prepares)
    assert all("--features resources/generated/features_extended.h5" in line
               and "--extra-bkg resources/generated/qcd_sr.extended.h5" in line
               and "--output results/cathode/generated_tau56/prepare/" in line for line in prepares)
    assert "results/cathode/generated_tau56/plot_sic/sic_cathode_hgb_nsig300.pdf" in result.stdout
    assert "results/cathode/generated/prepare/" not in result.stdout
