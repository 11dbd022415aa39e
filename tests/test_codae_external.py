"""The paper's published image format as CoDAE input (codae.dataset: external, hepad.codae.external): small
files written here in the published layout -> per-process image files -> the whole chain under Snakemake."""

import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

from hepad.codae.data import Splits, evaluation_set, load_masks, metrics_table
from hepad.codae.external import convert_external, process_names, read_npz
from hepad.io import InputError

SCRIPTS = __import__("pathlib").Path(__file__).resolve().parents[1] / "scripts"


def write_published(path, labels, codes, seed=0, override=None):
    """A file in the authors' layout: images (N, 72, 58, 3) [track, ECAL, HCAL], labels, masses, n_tracks."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    images = np.zeros((n, 72, 58, 3), np.float32)
    n_tracks = np.zeros((n, 1), np.int64)
    for i, label in enumerate(labels):
        k = 20 + 30 * int(label > 0)  # signals: more hit pixels
        rows, cols = rng.integers(0, 72, k), rng.integers(0, 58, k)
        images[i, rows, cols, 0] = rng.exponential(8.0, k)
        images[i, rows, cols, 1] = rng.exponential(5.0, k)
        images[i, :, :, 2] = rng.exponential(0.1, (72, 58)) * (rng.random((72, 58)) < 0.05)
        n_tracks[i, 0] = k
    data = {"images": images, "labels": np.asarray(labels), "masses": np.asarray(codes, dtype=np.float32),
            "n_tracks": n_tracks}
    data.update(override or {})
    np.savez(path, **{k: v for k, v in data.items() if v is not None})
    return data


def published_folders(root, n_qcd=(60, 200), n_signal=(40, 40)):
    """Test and train folders: QCD, SUEP 125 GeV (code 1) and SVJ 2.1 TeV (code 5)."""
    (root / "test").mkdir(parents=True)
    (root / "train").mkdir(parents=True)
    labels = [0] * n_qcd[0] + [1] * n_signal[0] + [2] * n_signal[1]
    codes = [0] * n_qcd[0] + [1] * n_signal[0] + [5] * n_signal[1]
    write_published(root / "test/part0.npz", labels, codes, seed=1)
    write_published(root / "train/qcd.npz", [0] * n_qcd[1], [0] * n_qcd[1], seed=2)
    return root / "test", root / "train"


def test_process_names_from_labels_and_mass_codes():
    names = process_names(np.array([0, 1, 1, 2, 2, 2]), np.array([0, 1, 6, 5, 6, 7]))
    assert names.tolist() == ["qcd", "suep_125", "suep_1000", "svj_2100", "svj_3100", "svj_4100"]


def test_conversion_keeps_images_counts_and_order(tmp_path):
    test, train = published_folders(tmp_path / "in")
    files = sorted(test.glob("*.npz")) + sorted(train.glob("*.npz"))
    out = {p: tmp_path / f"{p}.h5" for p in ("qcd", "suep_125", "svj_2100")}
    counts = convert_external(files, out)
    assert counts == {"qcd": 260, "suep_125": 40, "svj_2100": 40}
    published = np.load(test / "part0.npz")
    with h5py.File(out["suep_125"], "r") as f:
        assert f["images"].shape == (40, 3, 72, 58)
        # (N, phi, eta, channel) -> (N, channel, phi, eta), track first.
        np.testing.assert_array_equal(f["images"][0], published["images"][60].transpose(2, 0, 1))
        assert (f["events/label"][()] == 1).all() and (f["events/mass"][()] == 125).all()
        np.testing.assert_array_equal(f["events/ntracks"][()], published["n_tracks"][60:100, 0])
        assert f.attrs["process"] == "suep_125" and list(f.attrs["channels"]) == ["track", "ecal", "hcal"]
    with h5py.File(out["qcd"], "r") as f:  # test-folder QCD first, then the train folder's
        np.testing.assert_array_equal(f["images"][59], published["images"][59].transpose(2, 0, 1))
        assert (f["events/mass"][()] == 0).all() and (f["events/label"][()] == 0).all()
    # The chain's test set names each signal by its process, SUEP and SVJ apart.
    x, events = evaluation_set(out["qcd"], [out["suep_125"], out["svj_2100"]], Splits(0.25, 0.1, 0.5), load_masks)
    scores = {"hits": x.reshape(len(x), -1).sum(1).astype(float)}
    table = metrics_table(scores, events)
    assert table["signal"].tolist() == ["suep_125", "svj_2100"] and table["mass_gev"].tolist() == [125, 2100]
    assert (table["n_background"] == 65).all() and (table["auc"] > 0.9).all()


@pytest.mark.parametrize("override, message", [
    ({"labels": None}, "missing key 'labels'"),
    ({"n_tracks": None}, "missing key 'n_tracks'"),
    ({"images": np.zeros((3, 58, 72, 3), np.float32)}, "'images' has shape (3, 58, 72, 3), expected (N, 72, 58, 3)"),
    ({"masses": np.zeros((2,))}, "'masses' has shape (2,), expected (3,)"),
    ({"masses": np.array([0, 9, 0])}, "SUEP code(s) [9]"),
    ({"labels": np.array([0, 3, 0])}, "'labels' holds [3]"),
])
def test_other_layouts_stop_with_one_message(tmp_path, override, message):
    path = tmp_path / "bad.npz"
    write_published(path, [0, 1, 0], [0, 1, 0], override=override)
    with pytest.raises(InputError) as err:
        read_npz(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_script_names_the_bad_file(tmp_path):
    test, train = published_folders(tmp_path / "in", n_qcd=(4, 4), n_signal=(2, 2))
    write_published(train / "z_bad.npz", [0, 0], [0, 0], override={"n_tracks": None})
    outs = [str(tmp_path / f"{p}.h5") for p in ("qcd", "svj_2100")]
    result = subprocess.run([sys.executable, str(SCRIPTS / "convert_external.py"), "--test-folder", str(test),
                             "--train-folder", str(train), "--processes", "qcd", "svj_2100", "--outputs", *outs],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (f"error: {train / 'z_bad.npz'}: not in the published CoDAE "
                                                      "layout: missing key 'n_tracks' (needs images, labels, "
                                                      "masses, n_tracks)")
    assert not any(__import__("os").path.exists(o) for o in outs)  # checked before anything is written


def test_configured_signal_without_events_is_an_error(tmp_path):
    test, train = published_folders(tmp_path / "in", n_qcd=(4, 4), n_signal=(2, 2))
    files = sorted(test.glob("*.npz"))
    with pytest.raises(InputError, match="no events of svj_4100"):
        convert_external(files, {"qcd": tmp_path / "q.h5", "svj_4100": tmp_path / "s.h5"})


@pytest.mark.workflow
def test_chain_on_published_files(repo_root, tmp_path):
    test, train = published_folders(tmp_path / "published")
    work = tmp_path / "work"
    cfg = tmp_path / "external.yaml"
    cfg.write_text(f"codae:\n  dataset: external\n  external: {{test: {test}, train: {train},"
                   " signals: [suep_125, svj_2100]}\n")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(work),
           "--cores", "2", "results/codae_metrics.csv", "results/codae_roc.pdf", "--configfile", str(repo_root / "tests/config/tiny.yaml"),
           str(cfg)]
    result = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "generate_dark_showers" not in result.stdout + result.stderr
    table = pd.read_csv(work / "results/codae_metrics.csv")
    assert set(table["signal"]) == {"suep_125", "svj_2100"}
    # QCD test split: 25 % of 260; signal test split: half of 40.
    assert (table["n_background"] == 65).all() and (table["n_signal"] == 20).all()
    assert table["auc"].between(0, 1).all()
    assert (work / "results/codae_roc.pdf").stat().st_size > 5000


def test_signal_titles_and_order():
    from hepad.codae.data import signal_processes, signal_title

    events = {"label": np.array([0, 1, 1, 1]), "mass": np.array([0, 4100, 125, 1000]),
              "process": np.array([b"qcd", b"svj_4100", b"suep_125", b"suep_1000"])}
    assert signal_processes(events)[1] == ["suep_125", "suep_1000", "svj_4100"]
    assert signal_title("suep_125") == "SUEP, $m_H$ = 125 GeV" and signal_title("svj_2100").endswith("2.1 TeV")
    # Score files of before the process column: signals are semi-visible jets.
    old = {"label": np.array([0, 1]), "mass": np.array([0, 2100])}
    assert signal_processes(old)[1] == ["svj_2100"]
