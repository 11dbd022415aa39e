"""The real generation chain (Pythia 8 -> detector -> jets -> N-subjettiness -> files) on a few hundred
events per process, run through the scripts exactly as the workflow runs them; physics checks that fail
on wrong physics (swapped jets, wrong masses, no trigger, broken N-subjettiness)."""

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from hepad.events.formats import LHCO_COLUMNS, read_lhco_features
from hepad.events.generate import EXTENDED_COLUMNS
from hepad.events.formats import dijet_mass as lhco_mjj
from hepad.events.merge import read_constituents, read_extended
from hepad.events.process import chunk_seed, parse_process

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

ROOT = Path(__file__).resolve().parents[1]
SIGNAL = "wprime_3500_500_100"
N_EVENTS = {"qcd": 250, SIGNAL: 250, "qcd_sr": 30}


def run(script, *args, check=True):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / f"{script}.py"), *map(str, args)],
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{script} failed:\n{proc.stderr[-3000:]}")
    return proc


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    for process, n in N_EVENTS.items():
        chunk = out / f"{process}.chunk0.h5"
        run("generate_events", "--process", process, "--chunk", 0, "--events", n, "--output", chunk)
        run("merge_events", "process", "--features", out / f"{process}.features.h5",
            "--extended", out / f"{process}.extended.h5", "--constituents", out / f"{process}.constituents.h5",
            "--summary", out / f"{process}.summary.json", chunk)
    run("merge_events", "dataset", "--qcd-features", out / "qcd.features.h5", "--qcd-extended", out / "qcd.extended.h5",
        "--signal-features", out / f"{SIGNAL}.features.h5", "--signal-extended", out / f"{SIGNAL}.extended.h5",
        "--features", out / "features.h5", "--extended", out / "features_extended.h5")
    run("merge_events", "extra-sr", "--qcd-sr-features", out / "qcd_sr.features.h5", "--sr-low", 3.3,
        "--sr-high", 3.7, "--output", out / "extra_qcd_sr.h5")
    return out


def jets(frame):
    """pT, phi, masses and tau21 of both jets, and mjj [GeV]."""
    pt = np.stack([np.hypot(frame[f"px{j}"], frame[f"py{j}"]) for j in ("j1", "j2")], axis=1)
    phi = np.stack([np.arctan2(frame[f"py{j}"], frame[f"px{j}"]) for j in ("j1", "j2")], axis=1)
    mass = frame[["mj1", "mj2"]].to_numpy()
    tau21 = np.stack([frame[f"tau2{j}"] / (frame[f"tau1{j}"] + 1e-5) for j in ("j1", "j2")], axis=1)
    return pt, phi, mass, tau21, lhco_mjj(frame)


def test_files_are_in_the_lhco_layout(generated):
    frame = pd.read_hdf(generated / "features.h5", key="df")
    assert list(frame.columns) == LHCO_COLUMNS
    assert (frame.dtypes == np.float64).all()
    assert frame["label"].tolist() == [0.0] * N_EVENTS["qcd"] + [1.0] * N_EVENTS[SIGNAL]
    read_lhco_features(generated / "features.h5")  # validates: no NaN, labels 0/1
    extra = read_lhco_features(generated / "extra_qcd_sr.h5")
    assert len(extra) == N_EVENTS["qcd_sr"] and (extra["label"] == 0).all()


def test_trigger_and_momentum_balance(generated):
    frame = read_lhco_features(generated / "features.h5")
    pt, phi, _, _, _ = jets(frame)
    assert (pt[:, 0] > 1200).all()  # trigger on the leading jet
    assert (pt[:, 0] >= pt[:, 1]).all()  # j1 is the leading jet
    balance = (pt[:, 0] - pt[:, 1]) / (pt[:, 0] + pt[:, 1])
    assert np.median(balance) < 0.08  # two back-to-back jets carry the hard process
    dphi = np.abs((phi[:, 0] - phi[:, 1] + np.pi) % (2 * np.pi) - np.pi)
    assert np.median(dphi) > 2.9


def test_signal_physics(generated):
    frame = read_lhco_features(generated / "features.h5")
    qcd, sig = frame[frame.label == 0], frame[frame.label == 1]
    _, _, m_q, t21_q, mjj_q = jets(qcd)
    _, _, m_s, t21_s, mjj_s = jets(sig)
    # Signal jets are heavier than QCD jets on average, and sit at the X and Y masses.
    assert m_s.mean() > 1.5 * m_q.mean()
    assert np.median(m_s.max(axis=1)) == pytest.approx(500, rel=0.15)
    assert np.median(m_s.min(axis=1)) == pytest.approx(100, rel=0.3)
    # Dijet mass peaks near the W' mass; QCD falls from the trigger threshold.
    assert np.median(mjj_s) == pytest.approx(3500, rel=0.15)
    assert np.median(mjj_q) < np.median(mjj_s)
    # Two-prong signal jets have a lower tau21 than QCD jets (the heavier jet: X -> qq).
    heavy_s = t21_s[np.arange(len(sig)), m_s.argmax(axis=1)]
    assert np.median(heavy_s) < 0.8 * np.median(t21_q[:, 0])
    assert np.median(t21_s) < np.median(t21_q)
    # N-subjettiness is ordered on average as it should be. Without the underlying event (generation.mpi
    # off) a jet can be one massless object (one hard cell or track): its tau1 is zero and its mass zero up
    # to rounding (E² − p² of a TeV object: 4e-5 GeV was seen).
    for j in ("j1", "j2"):
        assert ((frame[f"tau1{j}"] > 0) | (frame[f"m{j}"] < 1e-3)).all()
        assert (frame[f"tau1{j}"] > 0).mean() > 0.98 and frame[f"tau2{j}"].mean() < frame[f"tau1{j}"].mean()


def test_qcd_sr_keeps_only_signal_region_events(generated):
    frame = read_lhco_features(generated / "qcd_sr.features.h5")
    mjj = lhco_mjj(frame)
    assert ((mjj > 3300) & (mjj < 3700)).all()
    summary = json.loads((generated / "qcd_sr.summary.json").read_text())
    assert summary["n_accepted"] == N_EVENTS["qcd_sr"] and summary["n_generated"] > 3 * summary["n_accepted"]


def test_extended_features_and_constituents_match_the_features(generated):
    for process in ("qcd", SIGNAL):
        feat = read_lhco_features(generated / f"{process}.features.h5")
        ext = read_extended(generated / f"{process}.extended.h5")
        assert list(ext.columns) == EXTENDED_COLUMNS and len(ext) == len(feat)
        for j in ("j1", "j2"):
            assert np.allclose(ext[f"m{j}"], feat[f"m{j}"])
            assert np.allclose(ext[f"tau1{j}_beta1"], feat[f"tau1{j}"])
            assert np.allclose(ext[f"pt{j}"], np.hypot(feat[f"px{j}"], feat[f"py{j}"]))
        assert np.allclose(ext["mjj"], lhco_mjj(feat), rtol=1e-9)
        ncons, flat = read_constituents(generated / f"{process}.constituents.h5")
        assert ncons.shape == (len(feat), 2)
        assert np.array_equal(ncons, ext[["nconsj1", "nconsj2"]].to_numpy())
        assert np.array_equal(ncons, (ext[["ntrackj1", "ntrackj2"]].to_numpy() + ext[["necalj1", "necalj2"]].to_numpy()
                                      + ext[["nhcalj1", "nhcalj2"]].to_numpy()))
        # The jets are the four-momentum sums of their stored constituents.
        pt, eta, phi = (flat[k].astype(np.float64) for k in ("pt", "eta", "phi"))
        owner = np.repeat(np.arange(2 * len(feat)), ncons.ravel())
        sums = np.stack([np.bincount(owner, weights=w, minlength=2 * len(feat)) for w in
                         (pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta))], axis=1).reshape(len(feat), 2, 3)
        p = np.stack([feat[[f"px{j}", f"py{j}", f"pz{j}"]].to_numpy() for j in ("j1", "j2")], axis=1)
        assert np.allclose(sums, p, rtol=1e-4, atol=0.05)
        # Constituents ordered by decreasing pT inside each jet.
        start = np.concatenate([[0], np.cumsum(ncons.ravel())])
        first = pt[start[:-1][ncons.ravel() > 0]]
        assert all(pt[start[k]:start[k + 1]].max() == pt[start[k]] for k in range(10) if ncons.ravel()[k])
        assert (first > 0).all()
        assert set(np.unique(flat["channel"])) <= {0, 1, 2}


def test_same_seed_same_bytes_and_chunks_differ(tmp_path):
    paths = [tmp_path / name for name in ("a.h5", "b.h5", "c.h5")]
    for path, chunk in zip(paths, (3, 3, 4)):
        run("generate_events", "--process", "qcd", "--chunk", chunk, "--events", 40, "--output", path)
    assert md5(paths[0]) == md5(paths[1])
    assert md5(paths[0]) != md5(paths[2])
    with h5py.File(paths[0]) as a, h5py.File(paths[2]) as c:
        assert a.attrs["pythia_seed"] != c.attrs["pythia_seed"]
        assert not np.array_equal(a["features"][()], c["features"][()])
    merged = []
    for k in range(2):
        out = tmp_path / f"m{k}"
        run("merge_events", "process", "--features", f"{out}.features.h5", "--extended", f"{out}.extended.h5",
            "--constituents", f"{out}.constituents.h5", "--summary", f"{out}.summary.json", paths[0], paths[2])
        time.sleep(1.1)  # HDF5 timestamps have a resolution of one second
        merged.append([md5(f"{out}.{kind}") for kind in ("features.h5", "extended.h5", "constituents.h5", "summary.json")])
    assert merged[0] == merged[1]


def test_seeds_are_distinct_and_in_pythias_range():
    seeds = {chunk_seed(1, p, c) for p in ("qcd", "qcd_sr", SIGNAL) for c in range(500)}
    assert len(seeds) == 1500 and min(seeds) >= 1 and max(seeds) <= 900_000_000
    assert chunk_seed(1, "qcd", 0) != chunk_seed(2, "qcd", 0)


def test_killed_chunk_leaves_no_output(tmp_path):
    out = tmp_path / "chunk.h5"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "generate_events.py"), "--process", "qcd",
                             "--chunk", "0", "--events", "100000", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()


def test_impossible_process_stops_with_a_clear_message(tmp_path):
    out = tmp_path / "chunk.h5"
    proc = run("generate_events", "--process", "wprime_1000_600_500", "--chunk", 0, "--events", 10,
               "--output", out, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: process wprime_1000_600_500: mX + mY = 1100 GeV")
    assert not out.exists()
    with pytest.raises(ValueError, match="unknown process"):
        parse_process("zprime_1_2_3")


def test_three_prong_variant_has_three_prong_x_jets(generated):
    from hepad.events.generate import ChunkSettings, generate_chunk

    three = generate_chunk("wprime3p_3500_500_100", 0, 120, ChunkSettings()).extended
    two = read_extended(generated / f"{SIGNAL}.extended.h5").to_numpy()
    col = {name: i for i, name in enumerate(EXTENDED_COLUMNS)}

    def heavy_ratios(x):
        heavy = np.where(x[:, col["mj1"]] >= x[:, col["mj2"]], 1, 2)
        tau = {n: np.where(heavy == 1, x[:, col[f"tau{n}j1_beta1"]], x[:, col[f"tau{n}j2_beta1"]]) for n in (1, 2, 3)}
        mass = np.maximum(x[:, col["mj1"]], x[:, col["mj2"]])
        return mass, tau[2] / tau[1], tau[3] / tau[2]

    m3, t21_3, t32_3 = heavy_ratios(three)
    m2, t21_2, t32_2 = heavy_ratios(two)
    assert np.median(m3) == pytest.approx(500, rel=0.15)
    assert np.median(t32_3) < 0.85 * np.median(t32_2)  # X -> qqq has a third prong
    assert np.median(t21_3) > 1.5 * np.median(t21_2)  # ... and is not two-prong-like


# --- configuration checks ---------------------------------------------------------------------------

def _config(**generation):
    from hepad.config import validate_config

    return validate_config({"generation": generation})


@pytest.mark.parametrize("generation,match", [
    ({"signal": {"mwprime": 500, "mx": 400, "my": 200}}, r"mX \+ mY = 600 GeV must be below mW' = 500"),
    ({"extra_signals": [{"mwprime": 3000, "mx": 2500, "my": 600}]}, r"extra_signals\[0\]"),
    ({"pthat_min": 1300}, "pthat_min = 1300 GeV is above generation.trigger_pt"),
    ({"qcd_sr_mhat": {"low": 3400, "high": 4000}}, "must enclose regions.sr"),
    ({"detector": {"hcal": {"cell_eta": 20.0}}}, "cell_eta"),
])
def test_impossible_generation_settings_are_refused(generation, match):
    from hepad.config import ConfigError
    from hepad.events.settings import check_generation_config

    with pytest.raises(ConfigError, match=match):
        check_generation_config(_config(**generation))


def test_negative_resolution_is_refused_by_the_schema():
    from hepad.config import ConfigError

    with pytest.raises(ConfigError, match="generation.detector.ecal.stochastic"):
        _config(detector={"ecal": {"stochastic": -0.1}})


def test_settings_per_process_and_chunks():
    from hepad.events.settings import configured_signals, process_chunks, settings_for, settings_from_json

    config = _config(events={"qcd": 10, "qcd_sr": 5, "signal": 7}, chunk_events={"qcd": 4, "qcd_sr": 5, "signal": 3},
                     extra_signals=[{"mwprime": 4500, "mx": 500, "my": 150}, {"mwprime": 5000, "mx": 500, "my": 500, "prongs": 3}])
    assert process_chunks("qcd", config) == [4, 4, 2]
    assert process_chunks("qcd_sr", config) == [5]
    assert process_chunks("wprime3p_5000_500_500", config) == [3, 3, 1]
    assert configured_signals(config) == ["wprime_3500_500_100", "wprime_4500_500_150", "wprime3p_5000_500_500"]
    # The signal region matters to qcd_sr only: changing it must not rerun the other processes.
    moved = _config()
    moved["regions"]["sr"] = {"low": 3.0, "high": 3.4}
    assert settings_for("qcd", moved) == settings_for("qcd", _config())
    assert settings_for("qcd_sr", moved) != settings_for("qcd_sr", _config())
    text = settings_for("qcd_sr", moved).to_json()
    assert settings_from_json(text) == settings_for("qcd_sr", moved)


def test_snakemake_dry_run_stops_on_impossible_masses(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("generation:\n  signal: {mwprime: 500, mx: 400, my: 200}\n")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-d", str(tmp_path / "work"),
                           "-s", str(ROOT / "Snakefile"), "resources/generated/features.h5", "--configfile", str(bad)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert "config error: generation.signal: mX + mY = 600 GeV must be below mW' = 500 GeV" in proc.stdout + proc.stderr


def test_mpi_setting_reaches_pythia_and_changes_the_events():
    """generation.mpi (default off, docs/data.md) switches Pythia's multi-parton interactions: the same seed
    gives events with far fewer final-state particles without them."""
    from hepad.events.pythia import PythiaGenerator, process_settings
    from hepad.events.settings import ChunkSettings

    assert ChunkSettings.from_config(_config()).mpi is False
    assert ChunkSettings.from_config(_config(mpi=True)).mpi is True
    qcd = parse_process("qcd")
    assert "PartonLevel:MPI = off" in process_settings(qcd, 1100.0, mpi=False)
    assert not any("MPI" in line for line in process_settings(qcd, 1100.0, mpi=True))
    counts = {}
    for mpi in (True, False):
        fs = PythiaGenerator(process_settings(qcd, 1100.0, mpi=mpi), seed=5).generate(20)
        counts[mpi] = np.diff(fs.offsets).mean()
    # the underlying event adds about 100 visible particles to a 1 TeV dijet event
    assert counts[False] < counts[True] - 50, counts


def test_batch_without_selected_events_gives_empty_tables():
    """A Pythia batch of qcd_sr can hold no SR event (about 1 in 10^4 batches of 100): the batch's tables
    are empty, not an error (a default-size run once stopped on it)."""
    from hepad.events.jets import cluster_leading_jets
    from hepad.events.substructure import EXTENDED_COLUMNS, dijet_substructure, extended_table

    rng = np.random.default_rng(1)
    pt, eta, phi = rng.uniform(10, 500, 30), rng.normal(0, 1, 30), rng.uniform(-3, 3, 30)
    four = (pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta))
    jets = cluster_leading_jets(np.array([0, 30]), *four, radius=1.0)
    sub = dijet_substructure(jets, np.array([], dtype=int), *four, pt, 1.0, "onepass_kt")
    table = extended_table(sub, np.zeros(0), np.zeros(0), 0, 0, np.zeros(0, dtype=int))
    assert table.shape == (0, len(EXTENDED_COLUMNS))
