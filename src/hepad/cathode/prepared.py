"""The prepared-set file: one HDF5 file per (dataset, nsig, seed) holding every split of docs/cathode.md.

Each split is a float64 dataset of shape (n, k) whose columns are named by the file's ``columns``
attribute: mjj first, the label last, the features of the set between them (mjj and masses in TeV;
``COLUMNS`` for the default set ``lhco4``, the others in ``hepad.cathode.feature_sets``);
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
FEATURES = COLUMNS[1:5]  # the four classifier / flow features of lhco4; mjj is the conditional variable
MJJ, LABEL = 0, -1  # mjj is the first column and the label the last in every feature set
FEATURE_COLUMNS = slice(1, -1)  # the features of any set: rows[:, FEATURE_COLUMNS]
SPLITS = [
    "sb_train", "sb_val", "sr_train", "sr_val", "test",
    "extra_bkg_train", "extra_bkg_val", "signal_train", "signal_val",
]


def write_prepared(splits: dict[str, np.ndarray], path, columns=None) -> None:
    """Write all splits atomically; no timestamps, so equal content gives byte-identical files.

    ``columns``: the names of the columns (default ``COLUMNS``, the set ``lhco4``)."""
    missing = [name for name in SPLITS if name not in splits]
    if missing:
        raise ValueError(f"prepared set {path} lacks splits {missing}")
    columns = list(COLUMNS if columns is None else columns)
    if columns[0] != "mjj" or columns[-1] != "label":
        raise ValueError(f"prepared columns must start with mjj and end with label, got {columns[:2]}...{columns[-1:]}")
    wrong = [name for name in SPLITS if np.shape(splits[name])[1:] != (len(columns),)]
    if wrong:
        raise ValueError(f"splits {wrong} of {path} do not have the {len(columns)} columns {columns[:3]}...")
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            out.attrs["columns"] = columns
            for name in SPLITS:
                out.create_dataset(name, data=np.asarray(splits[name], dtype=np.float64), track_times=False)


def read_columns(path) -> list[str]:
    """The column names of a prepared set (or of a samples file)."""
    try:
        with h5py.File(path, "r") as handle:
            return [str(c) for c in handle.attrs["columns"]]
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: cannot read the column names of a prepared set ({err})")


def load_split(path, name: str) -> np.ndarray:
    """Return one split as an (n, k) array with the columns of :func:`read_columns`."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; splits: {SPLITS}")
    try:
        with h5py.File(path, "r") as handle:
            if name not in handle:
                raise InputError(f"{path}: no split '{name}' (is it a prepared set?)")
            return handle[name][()]
    except OSError as err:
        raise InputError(f"{path}: cannot read prepared set ({err})")


def column(array: np.ndarray, name: str, columns=None) -> np.ndarray:
    """One named column of a split (``columns``: the file's, default ``COLUMNS``)."""
    return array[:, list(COLUMNS if columns is None else columns).index(name)]
