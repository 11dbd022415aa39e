"""The LHCO R&D particle-level file (docs/data.md) turned into extended features.

``events_anomalydetection_v2.h5`` is a pandas HDF DataFrame with one row per event: 700 particles x
(pT [GeV], eta, phi) in columns 0..2099, zero-padded (a particle with pT = 0 is padding), and the label
in column 2100 (0 QCD, 1 the W' -> XY signal with (3500, 500, 100) GeV). The particles are Delphes
particle-flow objects; they are taken as massless, (px, py, pz, E) = pT (cos phi, sin phi, sinh eta,
cosh eta), and go through the same jets and N-subjettiness code as the generated events
(:mod:`hepad.events.substructure`): anti-kT R = 1.0, the two leading jets by pT.

:func:`extended_from_particles` gives one row of :data:`EXTENDED_COLUMNS` per input event, in input
order: ``event`` = the row number in the particle file, ``label`` from column 2100, ``mhat``, ``chunk`` and
the per-channel counts NaN (no meaning for recorded events), and everything NaN but ``event`` and
``label`` for an event with fewer than two jets (it fails every mjj cut).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepad.events.jets import cluster_leading_jets
from hepad.events.substructure import EXTENDED_COLUMNS, dijet_substructure, extended_table, mjj_of
from hepad.io import InputError

N_PARTICLES = 700
N_COLUMNS = 3 * N_PARTICLES + 1  # pT, eta, phi per particle, then the label
LABEL_COLUMN = 3 * N_PARTICLES
JET_RADIUS = 1.0  # the LHCO R&D jets


def particle_objects(rows) -> tuple[np.ndarray, ...]:
    """Flat massless four-momenta of the non-padding particles of ``rows`` (n, >= 2100).

    Returns (offsets (n + 1,), px, py, pz, e, pt), the particles of event k at offsets[k]:offsets[k + 1].
    """
    rows = np.asarray(rows, dtype=np.float64)
    part = rows[:, :LABEL_COLUMN].reshape(len(rows), N_PARTICLES, 3)
    real = part[..., 0] > 0
    offsets = np.concatenate([[0], np.cumsum(real.sum(1))]).astype(np.int64)
    pt, eta, phi = (part[..., k][real] for k in range(3))
    return offsets, pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta), pt


def extended_from_particles(rows, first_event: int = 0, radius: float = JET_RADIUS) -> np.ndarray:
    """Extended features (n, len(EXTENDED_COLUMNS)) of a block of particle-file rows.

    Parameters
    ----------
    rows : (n, 2101) array
        Rows of the particle-level file (see the module docstring).
    first_event : int
        Row number of ``rows[0]`` in the file (the ``event`` column).
    radius : float
        Anti-kT radius (1.0 as the LHCO R&D jets).
    """
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != N_COLUMNS:
        raise InputError(f"particle-level rows must have {N_COLUMNS} columns (700 x pT, eta, phi and the "
                         f"label), got shape {rows.shape}; is this events_anomalydetection_v2.h5?")
    n = len(rows)
    label = rows[:, LABEL_COLUMN]
    bad = ~np.isin(label, (0.0, 1.0))
    if bad.any():
        raise InputError(f"column {LABEL_COLUMN} (the label) holds values other than 0 and 1 "
                         f"(e.g. {label[bad][0]!r} in event {first_event + int(np.flatnonzero(bad)[0])})")
    offsets, px, py, pz, e, pt = particle_objects(rows)
    jets = cluster_leading_jets(offsets, px, py, pz, e, radius=radius)
    sel = np.flatnonzero(jets.has_two)
    sub = dijet_substructure(jets, sel, px, py, pz, e, pt, radius)
    out = np.full((n, len(EXTENDED_COLUMNS)), np.nan)
    out[sel] = extended_table(sub, mjj_of(sub.p4), np.nan, label[sel], np.nan,
                              first_event + sel)
    out[:, EXTENDED_COLUMNS.index("label")] = label
    out[:, EXTENDED_COLUMNS.index("event")] = first_event + np.arange(n)
    return out


def particle_file_events(path, key: str | None = None) -> tuple[str, int]:
    """(key, number of events) of a particle-level file; ``InputError`` if it is not one."""
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = store.keys()
            if key is None:
                if len(keys) != 1:
                    raise InputError(f"{path}: holds {len(keys)} tables {keys}; name one with --key")
                key = keys[0]
            storer = store.get_storer(key)
            if storer is None:
                raise InputError(f"{path}: no table {key!r} (tables: {keys})")
            n_rows = int(storer.nrows if storer.is_table else storer.shape[0])
            n_cols = int(storer.ncols if storer.is_table else storer.shape[1])
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable pandas HDF file ({err}); delete it and download it again")
    if n_cols != N_COLUMNS:
        raise InputError(f"{path}: {n_cols} columns instead of {N_COLUMNS} (700 particles x pT, eta, phi and "
                         "the label); is this the particle-level file events_anomalydetection_v2.h5?")
    return key, n_rows


def iter_particle_blocks(path, block_events: int, max_events: int | None = None, key: str | None = None):
    """Yield (first_event, rows) blocks of at most ``block_events`` rows: the file is never read whole."""
    if block_events < 1:
        raise ValueError(f"block_events must be >= 1, got {block_events}")
    key, n_rows = particle_file_events(path, key)
    stop = n_rows if not max_events else min(n_rows, max_events)
    with pd.HDFStore(path, mode="r") as store:
        for start in range(0, stop, block_events):
            block = store.select(key, start=start, stop=min(start + block_events, stop))
            yield start, block.to_numpy(dtype=np.float64)
