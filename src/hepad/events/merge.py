"""Merging chunk files into per-process files, and per-process files into the data set files.

Per process (rows in chunk order, then generation order):

- ``{process}.features.h5``: LHCO R&D format (pandas fixed, key ``df``, ``LHCO_COLUMNS``);
- ``{process}.extended.h5``: pandas fixed, key ``df``, ``EXTENDED_COLUMNS`` (same rows): mjj, the truth
  mhat, per jet pT, eta, phi, mass, energy, constituent counts per channel, tau_N^beta for N = 1..9 and
  beta = 0.5, 1, 2;
- ``{process}.constituents.h5``: the two leading jets' constituents, ragged and gzip-compressed (see
  ``hepad.events.generate.write_constituents_group``);
- ``{process}.summary.json``: events generated and accepted, cross section, seeds.

Data set (what ``prepare`` reads): ``features.h5`` = QCD (label 0) + the configured signal (label 1);
``features_extended.h5`` with the same rows; ``extra_qcd_sr.h5`` = the SR-enriched QCD, SR events only.
All outputs are atomic and byte-stable.
"""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd

from hepad.events.formats import LHCO_COLUMNS, dijet_mass, read_lhco_features, write_lhco_features
from hepad.events.generate import CONSTITUENT_FIELDS, EXTENDED_COLUMNS, read_chunk
from hepad.events.stable_hdf5 import no_hdf5_timestamps
from hepad.hdf5 import ROW_CHUNK, create_compressed
from hepad.io import InputError, atomic_output, write_json

EXTENDED_KEY = "df"


def write_extended(frame: pd.DataFrame, path) -> None:
    """Extended features (pandas fixed format, key ``df``), byte-stable and atomic."""
    with atomic_output(path) as tmp, no_hdf5_timestamps():
        frame.reset_index(drop=True).to_hdf(tmp, key=EXTENDED_KEY, mode="w", format="fixed")


def read_extended(path) -> pd.DataFrame:
    try:
        frame = pd.read_hdf(path, key=EXTENDED_KEY)
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"{path}: not a readable extended-features file ({err})")
    missing = [c for c in EXTENDED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing extended columns {missing[:5]}...; regenerate it")
    return frame


def merge_chunks(chunk_paths, features_path, extended_path, constituents_path, summary_path) -> dict:
    """Merge a process's chunk files (in the given order) into its per-process files; return the summary."""
    if not chunk_paths:
        raise InputError("no chunk files to merge (is the number of events of this process 0?)")
    features, extended, metas = [], [], []
    with atomic_output(constituents_path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            datasets = _create_constituent_datasets(out)
            for path in chunk_paths:
                chunk = read_chunk(path)
                features.append(chunk.features)
                extended.append(chunk.extended)
                metas.append(chunk.meta)
                _append(datasets["n_constituents"], chunk.n_constituents)
                for key in CONSTITUENT_FIELDS:
                    _append(datasets[key], chunk.constituents[key])
            processes = {m["process"] for m in metas}
            if len(processes) != 1:
                raise InputError(f"chunks of different processes given to one merge: {sorted(processes)}")
            out.attrs["process"] = metas[0]["process"]
    write_lhco_features(pd.DataFrame(np.concatenate(features), columns=LHCO_COLUMNS), features_path)
    write_extended(pd.DataFrame(np.concatenate(extended), columns=EXTENDED_COLUMNS), extended_path)
    n_gen = sum(m["n_generated"] for m in metas)
    n_acc = sum(m["n_accepted"] for m in metas)
    # Cross sections of the chunks are estimates of the same number: weight by generated events.
    sigma = sum(m["sigma_mb"] * m["n_generated"] for m in metas) / n_gen
    summary = {
        "process": metas[0]["process"],
        "n_chunks": len(metas),
        "n_generated": int(n_gen),
        "n_accepted": int(n_acc),
        "acceptance": n_acc / n_gen,
        "sigma_generated_mb": sigma,
        "sigma_accepted_fb": sigma * n_acc / n_gen * 1e12,
        "pythia_seeds": [int(m["pythia_seed"]) for m in metas],
        "pythia_settings": list(metas[0]["pythia_settings"]),
        "settings": metas[0]["settings"],
    }
    write_json(summary, summary_path)
    return summary


def _create_constituent_datasets(group: h5py.Group) -> dict:
    group.attrs["layout"] = (
        "rows as in the process's features file; n_constituents[k] = (jet 1, jet 2) counts; flat arrays "
        "event-major, jet 1 then jet 2, constituents by decreasing pT; channel 0 track, 1 ECAL cell, "
        "2 HCAL cell; pt in GeV, massless (y = eta)")
    # Resizable (appended chunk file by chunk file), so with fixed chunk shapes.
    datasets = {"n_constituents": create_compressed(group, "n_constituents", shape=(0, 2), maxshape=(None, 2),
                                                    dtype=np.int32, chunks=(1 << 14, 2))}
    for key, dtype in CONSTITUENT_FIELDS.items():
        datasets[key] = create_compressed(group, key, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(ROW_CHUNK,))
    return datasets


def _append(dataset: h5py.Dataset, values: np.ndarray) -> None:
    n = dataset.shape[0]
    dataset.resize(n + len(values), axis=0)
    dataset[n:] = values


def read_constituents(path, rows=None) -> tuple[np.ndarray, dict]:
    """(n_constituents (n, 2), flat arrays) of a constituents file; all rows, or a slice ``rows``."""
    with h5py.File(path, "r") as f:
        ncons = f["n_constituents"][()]
        starts = np.concatenate([[0], np.cumsum(ncons.sum(axis=1))])
        if rows is None:
            rows = slice(0, len(ncons))
        lo, hi = starts[rows.start], starts[rows.stop]
        return ncons[rows], {k: f[k][lo:hi] for k in CONSTITUENT_FIELDS}


def build_dataset(qcd_features, signal_features, qcd_extended, signal_extended, features_path,
                  extended_path) -> dict:
    """``features.h5`` = QCD then signal (LHCO format, sorted by label) and the extended file, same rows."""
    frames = [read_lhco_features(qcd_features), read_lhco_features(signal_features)]
    if (frames[0]["label"] != 0).any() or (frames[1]["label"] != 1).any():
        raise InputError(f"{qcd_features} must hold label 0 only and {signal_features} label 1 only")
    ext = [read_extended(qcd_extended), read_extended(signal_extended)]
    for f, e, path in zip(frames, ext, (qcd_extended, signal_extended)):
        if len(f) != len(e):
            raise InputError(f"{path}: {len(e)} rows but its features file has {len(f)}; rerun the merge")
    # QCD (label 0) first, then signal: write_lhco_features' stable sort by label keeps this order.
    write_lhco_features(pd.concat(frames, ignore_index=True), features_path)
    write_extended(pd.concat(ext, ignore_index=True), extended_path)
    return {"n_background": len(frames[0]), "n_signal": len(frames[1])}


def build_extra_sr(qcd_sr_features, sr: tuple[float, float], out_path) -> dict:
    """``extra_qcd_sr.h5``: the SR-enriched QCD with only events of sr[0] < mjj < sr[1] [TeV]."""
    frame = read_lhco_features(qcd_sr_features)
    mjj = dijet_mass(frame) / 1000.0
    keep = (mjj > sr[0]) & (mjj < sr[1])
    write_lhco_features(frame[keep].reset_index(drop=True), out_path)
    return {"n_input": len(frame), "n_sr": int(keep.sum())}
