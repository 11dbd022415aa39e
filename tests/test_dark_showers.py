"""Dark-shower processes (Hidden Valley settings, names, visibility) and the CoDAE study's splits and metrics."""

import numpy as np
import pytest

from hepad.events.dark_showers import (DarkChunkSettings, DarkSector, generate_dark_chunk, parse_dark_process,
                                       read_dark_chunk, svj_settings, visible_only, write_dark_chunk)
from hepad.events.pythia import FinalState
from hepad.codae.data import Splits, metrics_table, read_scores, write_scores


def test_process_names():
    assert parse_dark_process("qcd").label == 0
    svj = parse_dark_process("svj_3100")
    assert (svj.kind, svj.mass, svj.label) == ("svj", 3100, 1)
    for bad in ("svj", "svj_x", "wprime_3500_500_100", "svj_100"):
        with pytest.raises(ValueError):
            parse_dark_process(bad)


def test_svj_settings_carry_the_invisible_fraction_and_mass():
    lines = svj_settings(2100, DarkSector(r_inv=0.4))
    assert "4900023:m0 = 2100" in lines and "HiddenValley:ffbar2Zv = on" in lines
    assert "4900111:oneChannel = 1 0.4 0 51 -51" in lines
    visible = [float(line.split()[3]) for line in lines if line.startswith("4900113:addChannel")]
    assert len(visible) == 5 and sum(visible) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="r_inv"):
        DarkSector(r_inv=1.5)


def test_visible_only_drops_dark_states_per_event():
    fs = FinalState(offsets=np.array([0, 3, 5]), px=np.arange(5.0), py=np.zeros(5), pz=np.zeros(5), e=np.ones(5),
                    pid=np.array([211, 51, 4900211, 22, -12], dtype=np.int32), charge=np.array([1., 0, 0, 0, 0]),
                    mhat=np.zeros(2))
    out = visible_only(fs)
    np.testing.assert_array_equal(out.offsets, [0, 1, 2])
    np.testing.assert_array_equal(out.pid, [211, 22])


def test_a_small_svj_chunk(tmp_path):
    pytest.importorskip("pythia8mc")
    settings = DarkChunkSettings(seed=3, trigger_pt=300.0)
    chunk = generate_dark_chunk("svj_2100", 0, 12, settings)
    assert chunk.n_events == 12
    assert (chunk.events["label"] == 1).all() and (chunk.events["mass"] == 2100).all()
    assert (chunk.events["jet1_pt"] > 300).all()
    tracks = np.add.reduceat(chunk.objects["channel"] == 0, chunk.offsets[:-1])
    np.testing.assert_array_equal(tracks, chunk.events["ntracks"])
    # Semi-visible: invisible dark matter leaves missing pT well above a QCD event's resolution.
    assert np.median(chunk.events["met"]) > 50
    write_dark_chunk(chunk, tmp_path / "c.h5")
    back = read_dark_chunk(tmp_path / "c.h5")
    np.testing.assert_array_equal(back.objects["pt"], chunk.objects["pt"].astype(np.float32))
    assert back.meta["process"] == "svj_2100" and back.meta["n_accepted"] == 12


def test_splits_are_disjoint_and_complete():
    s = Splits(qcd_test_fraction=0.25, val_fraction=0.1, signal_train_fraction=0.5)
    q = s.qcd(1000)
    assert len(q["test"]) == 250 and len(q["val"]) == 75 and len(q["train"]) == 675
    assert sorted(np.concatenate(list(q.values()))) == list(range(1000))
    sig = s.signal(300)
    assert len(sig["test"]) == 150 and len(sig["train"]) + len(sig["val"]) == 150
    assert sorted(np.concatenate(list(sig.values()))) == list(range(300))


def test_metrics_table_per_mass(tmp_path):
    label = np.array([0] * 4 + [1] * 2 + [1] * 2)
    mass = np.array([0] * 4 + [2100] * 2 + [4100] * 2)
    events = {"label": label, "mass": mass, "ntracks": np.arange(8)}
    perfect = np.array([0, 1, 2, 3, 10, 11, 12, 13], float)
    write_scores(tmp_path / "a.h5", {"perfect": perfect}, events)
    write_scores(tmp_path / "b.h5", {"reversed": -perfect}, events)
    scores, ev = read_scores([tmp_path / "a.h5", tmp_path / "b.h5"])
    table = metrics_table(scores, ev, tpr=0.4).set_index(["signal", "score"])
    assert table.loc[("svj_2100", "perfect"), "auc"] == 1.0
    assert table.loc[("svj_4100", "reversed"), "auc"] == 0.0
    assert table.loc[("svj_2100", "perfect"), "fpr_at_40tpr"] == 0.0
    assert table.loc[("svj_2100", "perfect"), "n_background"] == 4
