"""Reading the Zenodo mimicker layout and jet-sample files."""

import numpy as np
import pytest

from hepad.events.mimicker_io import (concatenate, pt_window, read_jet_sample, read_zenodo, write_jet_sample,
                                      write_zenodo_layout)
from hepad.io import InputError
from mimic_toy import toy_jets, write_toy_zenodo


def test_zenodo_layout_round_trip(tmp_path):
    path = tmp_path / "top.h5"
    write_toy_zenodo(path, n=50, prongs=3, mass=173.0, seed=3)
    jets = toy_jets(50, 3, 173.0, 3)
    sample = read_zenodo(path)
    assert sample.n_jets == 50
    assert sample.nsub.shape == (50, 6)  # obs[:, 0, 4:]
    m, pt = sample.jet_kinematics()
    p4 = np.array([j.sum(axis=0) for j in jets])
    assert np.allclose(pt, np.hypot(p4[:, 1], p4[:, 2]), rtol=1e-9)
    assert np.allclose(m, np.sqrt(np.maximum(p4[:, 0] ** 2 - (p4[:, 1:] ** 2).sum(1), 0)), rtol=1e-6, atol=1e-6)
    inside = pt_window(sample, 550, 650)
    assert inside.n_jets == int(((pt >= 550) & (pt <= 650)).sum())
    write_jet_sample(inside, tmp_path / "s.h5")
    back = read_jet_sample(tmp_path / "s.h5")
    assert np.array_equal(back.offsets, inside.offsets)
    assert np.allclose(back.jet_kinematics()[1], inside.jet_kinematics()[1], rtol=1e-5)
    both = concatenate([back, back])
    assert both.n_jets == 2 * back.n_jets


def test_zenodo_wrong_column_order_is_refused(tmp_path):
    jets = [j[:, [1, 2, 3, 0]] for j in toy_jets(20, 2, 80.0, 1)]  # (px, py, pz, E): E no longer first
    write_zenodo_layout(tmp_path / "bad.h5", jets)
    with pytest.raises(InputError, match="column order"):
        read_zenodo(tmp_path / "bad.h5")


def test_zenodo_not_that_layout(tmp_path):
    import h5py

    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["something"] = [1]
    with pytest.raises(InputError, match="objects/jets/constituents"):
        read_zenodo(tmp_path / "x.h5")


def test_zenodo_read_in_blocks(tmp_path):
    write_toy_zenodo(tmp_path / "w.h5", n=30, prongs=2, mass=80.0, seed=4)
    whole = read_zenodo(tmp_path / "w.h5")
    parts = concatenate([read_zenodo(tmp_path / "w.h5", max_jets=7, start=s) for s in range(0, 30, 7)])
    assert np.array_equal(parts.offsets, whole.offsets) and np.array_equal(parts.pt, whole.pt)
    assert np.array_equal(parts.nsub, whole.nsub)
