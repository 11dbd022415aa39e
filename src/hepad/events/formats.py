"""The LHCO R&D file format: pandas fixed-format HDF5, key ``df``, 15 float columns in GeV.

Both downloaded (Zenodo) and generated events are written in this format, so everything after it is
shared. Rows are sorted by label (background first), as in the published file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from hepad.events.stable_hdf5 import no_hdf5_timestamps
from hepad.io import InputError, atomic_output

LHCO_KEY = "df"
LHCO_COLUMNS = [
    "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
    "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
    "label",
]


def _hdf5_problem(err: Exception) -> str:
    """The gist of an HDF5 / PyTables error in one line (its message holds HDF5's whole back trace)."""
    text = str(err)
    truncated = re.search(r"truncated file: eof = (\d+).*?stored_eof = (\d+)", text)
    if truncated:
        return f"truncated: {truncated[1]} of its {truncated[2]} bytes are there"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # PyTables puts HDF5's back trace first and its own summary last.
    return lines[-1] if lines else type(err).__name__


def _remedy(path) -> str:
    """What to do about a damaged file: downloads are fetched again, the rest is rebuilt by its rule."""
    from hepad.zenodo import URL_FILES, ZENODO_FILES

    if Path(path).name in ZENODO_FILES or Path(path).name in URL_FILES:
        return "delete it and rerun to download it again"
    return "delete it and rerun; it is rebuilt from the chunks"


def read_lhco_features(path, columns=LHCO_COLUMNS) -> pd.DataFrame:
    """Read an LHCO-format features file and check it: key, columns, no NaN or infinity, labels 0/1.

    Raises ``InputError`` naming the file and what is wrong.
    """
    try:
        frame = pd.read_hdf(path, key=LHCO_KEY)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found")
    except KeyError:
        with pd.HDFStore(path, mode="r") as store:
            keys = list(store.keys())
        raise InputError(f"{path}: no key '{LHCO_KEY}' in the HDF5 file (keys found: {keys or 'none'})")
    except (OSError, ValueError, TypeError, RuntimeError) as err:  # PyTables raises HDF5ExtError (a RuntimeError)
        # One line: what is wrong and what to do; HDF5's back trace stays on the chained exception, which
        # hepad.io.run_main writes to the rule's log only.
        raise InputError(f"{path}: not a readable pandas HDF5 file ({_hdf5_problem(err)}); {_remedy(path)}") from err
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing} (expected the LHCO columns {columns})")
    frame = frame[columns]
    values = frame.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        bad_cols = [c for c, b in zip(columns, bad.any(axis=0)) if b]
        raise InputError(f"{path}: {int(bad.any(axis=1).sum())} rows with NaN or infinite values in {bad_cols}")
    if "label" in columns:
        labels = set(np.unique(frame["label"]).tolist())
        if not labels <= {0.0, 1.0}:
            raise InputError(f"{path}: column 'label' must hold 0 (background) or 1 (signal), found {sorted(labels)}")
    return frame


def write_lhco_features(frame: pd.DataFrame, path) -> None:
    """Write ``frame`` in the LHCO layout (fixed format, key ``df``), atomically."""
    missing = [c for c in LHCO_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"cannot write LHCO file {path}: missing columns {missing}")
    frame = frame[LHCO_COLUMNS].astype(np.float64)
    frame = frame.sort_values("label", kind="stable").reset_index(drop=True)
    with atomic_output(path) as tmp, no_hdf5_timestamps():  # byte-stable: same frame, same file
        frame.to_hdf(tmp, key=LHCO_KEY, mode="w", format="fixed")


def dijet_mass(frame: pd.DataFrame) -> np.ndarray:
    """Invariant mass of the two jets in GeV, with E = sqrt(p^2 + m^2) per jet."""
    p1 = frame[["pxj1", "pyj1", "pzj1"]].to_numpy(np.float64)
    p2 = frame[["pxj2", "pyj2", "pzj2"]].to_numpy(np.float64)
    e1 = np.sqrt((p1**2).sum(axis=1) + frame["mj1"].to_numpy(np.float64) ** 2)
    e2 = np.sqrt((p2**2).sum(axis=1) + frame["mj2"].to_numpy(np.float64) ** 2)
    m2 = (e1 + e2) ** 2 - ((p1 + p2) ** 2).sum(axis=1)
    return np.sqrt(np.clip(m2, 0.0, None))
