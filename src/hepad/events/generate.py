"""The chunk pipeline: Pythia 8 -> detector response -> anti-kT jets -> N-subjettiness -> arrays to write.

One chunk = one seeded Pythia instance generating events in batches until it has a requested number of
accepted events (trigger: leading jet pT above ``trigger_pt``; for ``qcd_sr`` also mjj inside the signal
region). Everything after Pythia is vectorised over the batch. The same settings and seed give the same
events in the same order; the chunk file records the number of generated events and the cross section.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import h5py
import numpy as np

from hepad.events.detector import Detector
from hepad.events.formats import LHCO_COLUMNS
from hepad.events.jets import cluster_leading_jets
from hepad.events.nsubjettiness import DEFAULT_BETAS
from hepad.events.substructure import (  # noqa: F401  (column names re-exported: the chunk layout)
    BETA_NAMES, EXTENDED_COLUMNS, JET_COLUMNS, N_TAU, TAU_COLUMNS, channel_counts, dijet_substructure,
    extended_table, mjj_of)
from hepad.events.process import Process, chunk_seed, detector_seed, parse_process
from hepad.events.settings import ChunkSettings  # noqa: F401  (re-exported: the chunk's settings)
from hepad.events.pythia import PythiaGenerator, process_settings
from hepad.hdf5 import create_compressed, row_chunks
from hepad.io import InputError, atomic_output

# Events per Pythia batch: fixed, because it decides where a chunk stops generating (reproducibility).
BATCH_EVENTS = 100
# A chunk gives up when Pythia made this many events per requested event without filling the chunk.
MAX_TRIES_PER_EVENT = 1000

CONSTITUENT_FIELDS = {"pt": np.float32, "eta": np.float32, "phi": np.float32, "channel": np.int8, "charge": np.int8}


@dataclass
class ChunkResult:
    """Accepted events of a chunk: LHCO features, extended features, constituents, and bookkeeping."""

    features: np.ndarray  # (n, 15), LHCO_COLUMNS
    extended: np.ndarray  # (n, len(EXTENDED_COLUMNS))
    n_constituents: np.ndarray  # (n, 2) int32
    constituents: dict  # flat arrays, CONSTITUENT_FIELDS
    meta: dict

    @property
    def n_events(self) -> int:
        return len(self.features)


class _Timer:
    def __init__(self):
        self.seconds = {}

    def add(self, name, t0):
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


class ChunkGenerator:
    """Generates one chunk batch by batch: ``step()`` runs one Pythia batch through the whole chain.

    ``generate_chunk`` loops ``step()`` until the chunk is full; the benchmark interleaves ``step()`` with
    bare Pythia to compare the two in the same conditions.
    """

    def __init__(self, process_name: str, chunk: int, settings: ChunkSettings):
        try:
            self.process = parse_process(process_name)
            self.detector = Detector.from_config(settings.detector) if settings.detector else Detector()
        except ValueError as err:
            raise InputError(str(err))
        self.chunk = int(chunk)
        self.settings = settings
        self.seed = chunk_seed(settings.seed, self.process.name, chunk)
        self.pythia_lines = process_settings(self.process, settings.pthat_min, settings.qcd_sr_mhat, mpi=settings.mpi)
        self.generator = PythiaGenerator(self.pythia_lines, self.seed)
        self.rng = np.random.default_rng(detector_seed(settings.seed, self.process.name, chunk))
        self.timer = _Timer()
        self.parts = []
        self.n_generated = 0
        self.n_accepted = 0

    def step(self) -> int:
        """Generate and process one batch; return the number of accepted events in it."""
        t0 = time.perf_counter()
        fs = self.generator.generate(BATCH_EVENTS)
        self.timer.add("pythia", t0)
        part = _process_batch(fs, self.process, self.detector, self.settings, self.rng, self.chunk,
                              self.n_generated, self.timer)
        self.n_generated += fs.n_events
        self.n_accepted += len(part["features"])
        self.parts.append(part)
        return len(part["features"])

    def result(self, n_keep: int) -> ChunkResult:
        """The first ``n_keep`` accepted events with the chunk's bookkeeping."""
        result = _concatenate(self.parts, n_keep)
        sigma, sigma_err = self.generator.cross_section()
        result.meta = {
            "process": self.process.name, "chunk": self.chunk, "pythia_seed": int(self.seed),
            "n_generated": int(self.n_generated), "n_accepted": int(result.n_events),
            "sigma_mb": sigma, "sigma_err_mb": sigma_err,
            "pythia_settings": self.pythia_lines, "settings": self.settings.to_json(),
        }
        return result


def generate_chunk(process_name: str, chunk: int, n_accept: int, settings: ChunkSettings,
                   log: logging.Logger | None = None) -> ChunkResult:
    """Generate one chunk of ``n_accept`` accepted events of ``process_name``.

    Raises ``InputError`` if the process is unknown or practically never passes the selection.
    """
    log = log or logging.getLogger(__name__)
    gen = ChunkGenerator(process_name, chunk, settings)
    name = gen.process.name
    t_start = time.perf_counter()
    n_steps = 0
    while gen.n_accepted < n_accept:
        if gen.n_generated >= MAX_TRIES_PER_EVENT * n_accept + 10_000:
            raise InputError(
                f"{name}: only {gen.n_accepted} of {gen.n_generated} generated events pass the selection "
                f"(trigger_pt = {settings.trigger_pt} GeV{', signal region' if gen.process.kind == 'qcd_sr' else ''}); "
                "the requested sample cannot be made. Lower generation.trigger_pt or change the process masses.")
        gen.step()
        n_steps += 1
        if n_steps % 20 == 0:
            elapsed = time.perf_counter() - t_start
            log.info("%s chunk %d: %d generated, %d of %d accepted, %.1f generated events/s", name, chunk,
                     gen.n_generated, gen.n_accepted, n_accept, gen.n_generated / elapsed)
    result = gen.result(n_accept)
    elapsed = time.perf_counter() - t_start
    log.info("%s chunk %d: %d accepted of %d generated in %.1f s (%.1f generated events/s); time per step: %s",
             name, chunk, result.n_events, gen.n_generated, elapsed, gen.n_generated / elapsed,
             ", ".join(f"{k} {v:.1f} s" for k, v in gen.timer.seconds.items()))
    return result


def _process_batch(fs, process: Process, detector: Detector, settings: ChunkSettings, rng, chunk: int,
                   first_event: int, timer: _Timer) -> dict:
    """Detector, jets, selection, N-subjettiness and constituents of one Pythia batch."""
    t0 = time.perf_counter()
    obj = detector.respond(fs.offsets, fs.px, fs.py, fs.pz, fs.e, fs.pid, fs.charge, rng)
    timer.add("detector", t0)
    t0 = time.perf_counter()
    opx, opy, opz, oe = obj.four_momenta()
    jets = cluster_leading_jets(obj.offsets, opx, opy, opz, oe, radius=settings.jet_radius)
    timer.add("jets", t0)

    t0 = time.perf_counter()
    pt = jets.pt
    mjj = mjj_of(jets.p4) / 1000.0  # TeV, as regions.sr
    passed = jets.has_two & (pt[:, 0] > settings.trigger_pt)
    if process.kind == "qcd_sr":
        passed &= (mjj > settings.sr[0]) & (mjj < settings.sr[1])
    sel = np.flatnonzero(passed)
    n = len(sel)
    sub = dijet_substructure(jets, sel, opx, opy, opz, oe, obj.pt, settings.jet_radius, settings.nsubjettiness_axes)
    timer.add("nsubjettiness", t0)

    p4, mass, taus, cidx = sub.p4, sub.mass, sub.taus, sub.cidx
    b1 = DEFAULT_BETAS.index(1.0)
    features = np.empty((n, len(LHCO_COLUMNS)))
    for j in range(2):
        base = 7 * j
        features[:, base:base + 3] = p4[:, j, :3]
        features[:, base + 3] = mass[:, j]
        features[:, base + 4:base + 7] = taus[:, j, :3, b1]
    features[:, 14] = process.label

    extended = extended_table(sub, mjj[sel] * 1000.0, fs.mhat[sel], process.label, chunk, first_event + sel,
                              per_channel=channel_counts(sub, obj.channel))
    constituents = {
        "pt": obj.pt[cidx], "eta": obj.eta[cidx], "phi": obj.phi[cidx],
        "channel": obj.channel[cidx], "charge": obj.charge[cidx],
    }
    return {"features": features, "extended": extended, "n_constituents": sub.ncons.astype(np.int32),
            "constituents": constituents}


def _concatenate(parts: list[dict], n_keep: int) -> ChunkResult:
    """Join batch results and keep the first ``n_keep`` events (in generation order)."""
    features = np.concatenate([p["features"] for p in parts])[:n_keep]
    extended = np.concatenate([p["extended"] for p in parts])[:n_keep]
    ncons = np.concatenate([p["n_constituents"] for p in parts])[:n_keep]
    n_flat = int(ncons.sum())
    constituents = {k: np.concatenate([p["constituents"][k] for p in parts])[:n_flat].astype(dtype)
                    for k, dtype in CONSTITUENT_FIELDS.items()}
    return ChunkResult(features=features, extended=extended, n_constituents=ncons,
                       constituents=constituents, meta={})


# ---------------------------------------------------------------------------------------------- chunk files

def write_chunk(result: ChunkResult, path) -> None:
    """One HDF5 file per chunk, no timestamps (same content, same bytes), written atomically."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            for key, value in result.meta.items():
                out.attrs[key] = value
            out.create_dataset("features", data=result.features, track_times=False).attrs["columns"] = LHCO_COLUMNS
            out.create_dataset("extended", data=result.extended, track_times=False).attrs["columns"] = EXTENDED_COLUMNS
            write_constituents_group(out.create_group("constituents", track_order=True), result.n_constituents,
                                     result.constituents)


def write_constituents_group(group: h5py.Group, n_constituents: np.ndarray, flat: dict) -> None:
    """Ragged constituents: ``n_constituents`` (n, 2) and flat per-constituent arrays, gzip-compressed."""
    group.attrs["layout"] = (
        "event-major, jet 1 then jet 2, constituents by decreasing pT; jet j of event k starts at "
        "cumsum(n_constituents.ravel())[2k + j - 1]; channel 0 track, 1 ECAL cell, 2 HCAL cell; "
        "pt in GeV, massless (y = eta)")
    create_compressed(group, "n_constituents", np.asarray(n_constituents, dtype=np.int32))
    for key, dtype in CONSTITUENT_FIELDS.items():
        data = np.asarray(flat[key], dtype=dtype)
        create_compressed(group, key, data, chunks=row_chunks(len(data)))


def read_chunk(path) -> ChunkResult:
    """Read a chunk file written by ``write_chunk``; ``InputError`` if it is not one."""
    try:
        with h5py.File(path, "r") as f:
            meta = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.attrs.items()}
            if list(f["extended"].attrs["columns"]) != EXTENDED_COLUMNS:
                raise InputError(f"{path}: extended columns differ from this version's; regenerate the chunk")
            cons = f["constituents"]
            return ChunkResult(
                features=f["features"][()], extended=f["extended"][()],
                n_constituents=cons["n_constituents"][()],
                constituents={k: cons[k][()] for k in CONSTITUENT_FIELDS}, meta=meta)
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a readable chunk file ({err}); delete it and rerun")
