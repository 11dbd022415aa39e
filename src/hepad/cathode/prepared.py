"""The prepared-set file: one HDF5 file per (dataset, nsig, seed) holding every split of docs/cathode.md.

Each split is a float64 dataset of shape (n, 6) with the columns of ``COLUMNS`` (mjj and masses in TeV);
label 1 = signal, 0 = background. Splits:

- ``sb_train``, ``sb_val``: sideband data (background + injected signal), for the SB density estimator;
- ``sr_train``, ``sr_val``: signal-region data (background + injected signal);
- ``test``: extra SR background (test part) + SR signal never injected;
- ``extra_bkg_train``, ``extra_bkg_val``: the rest of the extra SR background (idealized AD, supervised);
- ``signal_train``, ``signal_val``: SR signal neither injected nor in the test set (supervised).
"""

from __future__ import annotations

import h5py
import numpy as np

from hepad.io import InputError, atomic_output

COLUMNS = ["mjj", "mj1", "dmj", "tau21j1", "tau21j2", "label"]
FEATURES = COLUMNS[1:5]  # the four classifier / flow features; mjj is the conditional variable
SPLITS = [
    "sb_train", "sb_val", "sr_train", "sr_val", "test",
    "extra_bkg_train", "extra_bkg_val", "signal_train", "signal_val",
]


def write_prepared(splits: dict[str, np.ndarray], path) -> None:
    """Write all splits atomically; no timestamps, so equal content gives byte-identical files."""
    missing = [name for name in SPLITS if name not in splits]
    if missing:
        raise ValueError(f"prepared set {path} lacks splits {missing}")
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            out.attrs["columns"] = COLUMNS
            for name in SPLITS:
                out.create_dataset(name, data=np.asarray(splits[name], dtype=np.float64), track_times=False)


def load_split(path, name: str) -> np.ndarray:
    """Return one split as an (n, 6) array with the columns of ``COLUMNS``."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; splits: {SPLITS}")
    try:
        with h5py.File(path, "r") as handle:
            if name not in handle:
                raise InputError(f"{path}: no split '{name}' (is it a prepared set?)")
            return handle[name][()]
    except OSError as err:
        raise InputError(f"{path}: cannot read prepared set ({err})")


def column(array: np.ndarray, name: str) -> np.ndarray:
    """One named column of a split."""
    return array[:, COLUMNS.index(name)]
