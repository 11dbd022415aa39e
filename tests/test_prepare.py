"""prepare: features, regions, injection and splits on small LHCO-layout files with known content."""

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepad.cathode.prepare import cathode_features, prepare_sets
from hepad.cathode.prepared import SPLITS, column, load_split
from hepad.events.formats import LHCO_COLUMNS, dijet_mass, read_lhco_features, write_lhco_features
from hepad.io import InputError
from lhco_toy import toy_lhco_frame, write_toy_lhco

SR = (3.3, 3.7)
PREPARE = Path(__file__).resolve().parents[1] / "scripts" / "prepare.py"


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    features, extra = folder / "features.h5", folder / "extra.h5"
    write_toy_lhco(features, n_bkg=6000, n_sig=800, seed=1)
    write_toy_lhco(extra, n_bkg=3000, n_sig=0, seed=2, sr_only=True)
    return features, extra


def run_prepare(features, extra, out, nsig, seed, extra_args=()):
    cmd = [sys.executable, str(PREPARE), "--features", str(features), "--extra-bkg", str(extra),
           "--nsig", str(nsig), "--seed", str(seed), "--sr", *map(str, SR), "--n-test-signal", "200",
           "--sb-val-fraction", "0.2", "--sr-val-fraction", "0.5", "--extra-bkg-test-fraction", "0.5",
           "--output", str(out / f"n{nsig}_s{seed}.h5"), "--summary", str(out / f"n{nsig}_s{seed}.json"),
           "--feature-set", "lhco4", *extra_args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    return result, out / f"n{nsig}_s{seed}.h5", out / f"n{nsig}_s{seed}.json"


def test_mjj_and_mass_ordering():
    frame = toy_lhco_frame(50, 50, seed=3)
    # The toy builds each event with a known mjj; swap the jets of half the events: features must not care.
    swapped = frame.copy()
    for a, b in (("pxj1", "pxj2"), ("pyj1", "pyj2"), ("pzj1", "pzj2"), ("mj1", "mj2"),
                 ("tau1j1", "tau1j2"), ("tau2j1", "tau2j2"), ("tau3j1", "tau3j2")):
        swapped[[a, b]] = frame[[b, a]].to_numpy()
    f1, f2 = cathode_features(frame), cathode_features(swapped)
    np.testing.assert_allclose(f1, f2)
    assert np.all(f1[:, 1] <= f1[:, 1] + f1[:, 2])
    np.testing.assert_allclose(f1[:, 1] * 1000, np.minimum(frame["mj1"], frame["mj2"]))
    sig = f1[f1[:, 5] == 1]
    assert np.all(np.abs(sig[:, 1] * 1000 - 100) < 30)  # lighter jet: the 100 GeV Y
    assert np.all(sig[:, 3] < 0.41)


def test_dijet_mass_of_known_event():
    frame = pd.DataFrame([[1000.0, 0, 0, 100.0, 1, 1, 1, -1000.0, 0, 0, 500.0, 1, 1, 1, 0]], columns=LHCO_COLUMNS)
    expected = math.hypot(1000, 100) + math.hypot(1000, 500)
    assert dijet_mass(frame)[0] == pytest.approx(expected)


def test_counts_and_sr_figures(toy_files, tmp_path):
    result, data, summary_path = run_prepare(*toy_files, tmp_path, nsig=300, seed=7)
    assert result.returncode == 0, result.stderr
    summary = json.loads(summary_path.read_text())
    splits = {name: load_split(data, name) for name in SPLITS}
    for name, counts in summary["counts"].items():
        assert counts["total"] == len(splits[name])
        assert counts["signal"] == int((column(splits[name], "label") == 1).sum())
    injected = sum(summary["counts"][n]["signal"] for n in ("sb_train", "sb_val", "sr_train", "sr_val"))
    assert injected == 300
    assert sum(summary["counts"][n]["background"] for n in ("sb_train", "sb_val", "sr_train", "sr_val")) == 6000
    sr = summary["signal_region"]
    s = sum(summary["counts"][n]["signal"] for n in ("sr_train", "sr_val"))
    b = sum(summary["counts"][n]["background"] for n in ("sr_train", "sr_val"))
    assert (sr["signal"], sr["background"]) == (s, b)
    assert sr["s_over_b"] == pytest.approx(s / b)
    assert sr["s_over_sqrt_b"] == pytest.approx(s / math.sqrt(b))
    # SR/SB boundaries hold in every split.
    for name in ("sr_train", "sr_val", "test", "extra_bkg_train", "extra_bkg_val", "signal_train", "signal_val"):
        mjj = column(splits[name], "mjj")
        assert np.all((mjj > SR[0]) & (mjj < SR[1])), name
    for name in ("sb_train", "sb_val"):
        mjj = column(splits[name], "mjj")
        assert np.all((mjj <= SR[0]) | (mjj >= SR[1])), name
    # Test signal: never injected, capped at n_test_signal; supervised signal is the rest.
    assert summary["counts"]["test"]["signal"] == 200
    assert summary["counts"]["extra_bkg_train"]["signal"] == 0
    # Validation fractions.
    assert summary["counts"]["sr_val"]["total"] == round(0.5 * (len(splits["sr_train"]) + len(splits["sr_val"])))


def test_same_seed_identical_bytes_and_other_seed_differs(toy_files, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    digests = []
    for folder, seed in ((a, 5), (b, 5), (b, 6)):
        result, data, summary = run_prepare(*toy_files, folder, nsig=200, seed=seed)
        assert result.returncode == 0, result.stderr
        digests.append((hashlib.md5(data.read_bytes()).hexdigest(), hashlib.md5(summary.read_bytes()).hexdigest()))
    assert digests[0] == digests[1]
    assert digests[0][0] != digests[2][0]
    injected_5 = load_split(a / "n200_s5.h5", "sr_train")
    injected_6 = load_split(b / "n200_s6.h5", "sr_train")
    sig5 = np.sort(injected_5[injected_5[:, 5] == 1][:, 0])
    sig6 = np.sort(injected_6[injected_6[:, 5] == 1][:, 0])
    assert not np.array_equal(sig5, sig6)


def test_shift_moves_mj1_and_dmj_by_shift_times_mjj_in_every_split(toy_files, tmp_path):
    """The shifted data set: the same events in every split, mj1 and dmj moved by exactly 0.1 * mjj (TeV)."""
    plain, shifted = tmp_path / "plain", tmp_path / "shifted"
    plain.mkdir(), shifted.mkdir()
    assert run_prepare(*toy_files, plain, nsig=200, seed=5)[0].returncode == 0
    result, data, summary = run_prepare(*toy_files, shifted, nsig=200, seed=5, extra_args=["--shift", "0.1"])
    assert result.returncode == 0, result.stderr
    assert json.loads(summary.read_text())["shift"] == 0.1
    for name in SPLITS:
        a, b = load_split(plain / "n200_s5.h5", name), load_split(data, name)
        assert len(a) == len(b) > 0, name
        np.testing.assert_array_equal(b[:, [0, 3, 4, 5]], a[:, [0, 3, 4, 5]])  # mjj, tau21s, labels unchanged
        np.testing.assert_allclose(b[:, 1] - a[:, 1], 0.1 * a[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(b[:, 2] - a[:, 2], 0.1 * a[:, 0], rtol=0, atol=1e-12)
    assert 0.3 < load_split(data, "sr_train")[:, 1].min()  # mjj is in TeV: mj1 >= 0.1 * 3.3 TeV


def test_too_much_injection_names_the_numbers(toy_files, tmp_path):
    result, data, _ = run_prepare(*toy_files, tmp_path, nsig=5000, seed=1)
    assert result.returncode == 1
    assert "cannot inject 5000 signal events" in result.stderr and "only 800" in result.stderr
    assert not data.exists()


def test_empty_signal_region_stops_with_numbers():
    features = cathode_features(toy_lhco_frame(100, 10, seed=4))
    features[:, 0] = 2.0  # everything below the SR
    with pytest.raises(InputError, match="signal region 3.3-3.7 TeV holds no events out of 105"):
        prepare_sets(features, features, nsig=5, seed=1, sr=SR, sb_val_fraction=0.2, sr_val_fraction=0.5,
                     extra_bkg_test_fraction=0.5, n_test_signal=10)


def test_malformed_inputs_name_file_and_problem(tmp_path):
    frame = toy_lhco_frame(20, 5, seed=5)
    wrong_key = tmp_path / "wrong_key.h5"
    frame.to_hdf(wrong_key, key="events", mode="w", format="fixed")
    with pytest.raises(InputError, match=r"wrong_key.h5: no key 'df'.*/events"):
        read_lhco_features(wrong_key)

    missing = tmp_path / "missing.h5"
    frame.drop(columns=["tau2j1"]).to_hdf(missing, key="df", mode="w", format="fixed")
    with pytest.raises(InputError, match=r"missing.h5: missing columns \['tau2j1'\]"):
        read_lhco_features(missing)

    nan = tmp_path / "nan.h5"
    broken = frame.copy()
    broken.loc[3, "mj2"] = np.nan
    write_lhco_features(broken, nan)
    with pytest.raises(InputError, match=r"nan.h5: 1 rows with NaN or infinite values in \['mj2'\]"):
        read_lhco_features(nan)

    not_hdf = tmp_path / "text.h5"
    not_hdf.write_text("hello")
    with pytest.raises(InputError, match="text.h5: not a readable pandas HDF5 file"):
        read_lhco_features(not_hdf)


def test_script_reports_malformed_input_in_one_line(tmp_path, toy_files):
    missing = tmp_path / "missing.h5"
    toy_lhco_frame(20, 5).drop(columns=["label"]).to_hdf(missing, key="df", mode="w", format="fixed")
    result, data, _ = run_prepare(missing, toy_files[1], tmp_path, nsig=1, seed=1)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {missing}: missing columns ['label']")
    assert not data.exists()
