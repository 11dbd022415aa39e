"""Single-jet samples of the mimicker study: the Zenodo layout (input) and our jet-sample files.

Zenodo layout (records 4641460 background, 4614656 signals; docs/mimic.md), as read by the paper's
code: HDF5 dataset ``objects/jets/constituents`` of shape (n_events, n_jets), each element a variable-
length float array of 5 numbers per constituent; jet 0 (the leading jet) is used. ``objects/jets/obs``
has shape (n_events, n_jets, n_obs); its entries from index 4 on are N-subjettiness values (the paper's
``obs[:, 0, 4:]``).

Order of the five numbers: the paper passes the first four to energyflow with ``coords='epxpypz'`` and
to ``pts_from_p4s``/``ms_from_p4s``, which take (E, px, py, pz); so constituent = (E, px, py, pz, x5)
with x5 unused. ``read_zenodo`` checks this on the data: physical four-momenta have E >= |p| (up to
rounding); if more than 1 % of the constituents violate it, the file is not in that order and reading
stops with an error instead of producing nonsense.

Jet-sample file (what both input paths produce, one per sample): flat per-constituent datasets
``pt, y, phi, mass`` (float32; y = rapidity, massless objects have y = eta) with ``offsets``
(n_jets + 1, int64), ``jet_pt``/``jet_mass`` (float64, from the constituent four-momentum sum) and an
optional ``nsub`` (n_jets, k); attributes ``source`` and ``sample``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py
import numpy as np

from hepad.io import InputError, atomic_output
from hepad.hdf5 import create_compressed, row_chunks

ZENODO_CONSTITUENTS = "objects/jets/constituents"
ZENODO_OBS = "objects/jets/obs"
ZENODO_NSUB_START = 4
VALUES_PER_CONSTITUENT = 5
MAX_UNPHYSICAL_FRACTION = 0.01


@dataclass
class JetSample:
    """Ragged constituents of single jets (one jet per row) with jet kinematics."""

    offsets: np.ndarray
    pt: np.ndarray
    y: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    nsub: np.ndarray | None = None
    attrs: dict = field(default_factory=dict)

    @property
    def n_jets(self) -> int:
        return len(self.offsets) - 1

    def jet_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mass, pT) of every jet from the four-momentum sum of its constituents."""
        from hepad.events.efps import jet_mass_pt

        return jet_mass_pt(self.offsets, self.pt, self.y, self.phi, self.mass)

    def select(self, keep: np.ndarray) -> "JetSample":
        """The jets where boolean ``keep`` is True, in order."""
        keep = np.asarray(keep, dtype=bool)
        counts = np.diff(self.offsets)
        flat = np.repeat(keep, counts)
        new_off = np.concatenate([[0], np.cumsum(counts[keep])]).astype(np.int64)
        return JetSample(new_off, self.pt[flat], self.y[flat], self.phi[flat], self.mass[flat],
                         None if self.nsub is None else self.nsub[keep], dict(self.attrs))

    def head(self, n: int) -> "JetSample":
        keep = np.zeros(self.n_jets, dtype=bool)
        keep[:n] = True
        return self.select(keep)


def pt_window(sample: JetSample, pt_min: float, pt_max: float) -> JetSample:
    """Jets with pt_min <= pT <= pt_max (the paper's 550-650 GeV)."""
    _, pt = sample.jet_kinematics()
    return sample.select((pt >= pt_min) & (pt <= pt_max))


def concatenate(samples: list[JetSample]) -> JetSample:
    """Jets of several samples one after the other."""
    if not samples:
        raise ValueError("nothing to concatenate")
    offsets = [np.zeros(1, dtype=np.int64)]
    shift = 0
    for s in samples:
        offsets.append(s.offsets[1:] + shift)
        shift += s.offsets[-1]
    nsub = None if any(s.nsub is None for s in samples) else np.concatenate([s.nsub for s in samples])
    return JetSample(np.concatenate(offsets), *(np.concatenate([getattr(s, k) for s in samples])
                                                for k in ("pt", "y", "phi", "mass")),
                     nsub=nsub, attrs=dict(samples[0].attrs))


def from_p4(offsets, e, px, py, pz) -> JetSample:
    """JetSample from flat (E, px, py, pz) constituents; zero-momentum padding is dropped."""
    offsets = np.asarray(offsets, dtype=np.int64)
    pt = np.hypot(px, py)
    keep = (pt > 0) & (e > 0)
    jet = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    counts = np.bincount(jet[keep], minlength=len(offsets) - 1)
    new_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    e, px, py, pz, pt = e[keep], px[keep], py[keep], pz[keep], pt[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        y = 0.5 * np.log((e + pz) / np.maximum(e - pz, 1e-12))
    m2 = e ** 2 - px ** 2 - py ** 2 - pz ** 2
    return JetSample(new_off, pt, y, np.arctan2(py, px), np.sqrt(np.maximum(m2, 0.0)))


def zenodo_size(path) -> int:
    """Number of events in a Zenodo mimicker file."""
    try:
        with h5py.File(path, "r") as f:
            return int(f[ZENODO_CONSTITUENTS].shape[0])
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: no dataset {ZENODO_CONSTITUENTS!r} ({err}); not a file of Zenodo records "
                         "4641460/4614656 (delete it and download again)")


def read_zenodo(path, max_jets: int | None = None, start: int = 0) -> JetSample:
    """Leading jets of events ``start .. start + max_jets`` of a Zenodo mimicker file (module docstring),
    with the E >= |p| order check."""
    try:
        with h5py.File(path, "r") as f:
            if ZENODO_CONSTITUENTS not in f:
                raise InputError(f"{path}: no dataset {ZENODO_CONSTITUENTS!r}; not a file of Zenodo records "
                                 "4641460/4614656 (delete it and download again)")
            dset = f[ZENODO_CONSTITUENTS]
            stop = dset.shape[0] if max_jets is None else min(start + int(max_jets), dset.shape[0])
            n = max(stop - start, 0)
            raw = dset[start:stop, 0] if dset.ndim == 2 else dset[start:stop]
            nsub = None
            if ZENODO_OBS in f:
                obs = f[ZENODO_OBS]
                nsub = np.asarray(obs[start:stop, 0, ZENODO_NSUB_START:] if obs.ndim == 3
                                  else obs[start:stop, ZENODO_NSUB_START:], dtype=np.float64)
    except OSError as err:
        raise InputError(f"{path}: cannot read as HDF5 ({err}); delete it and download again")
    lengths = np.array([len(r) for r in raw], dtype=np.int64)
    if np.any(lengths % VALUES_PER_CONSTITUENT):
        raise InputError(f"{path}: constituent arrays are not multiples of {VALUES_PER_CONSTITUENT} numbers")
    flat = np.concatenate(list(raw)).reshape(-1, VALUES_PER_CONSTITUENT) if n else np.zeros((0, 5))
    offsets = np.concatenate([[0], np.cumsum(lengths // VALUES_PER_CONSTITUENT)]).astype(np.int64)
    e, px, py, pz = (flat[:, i].astype(np.float64) for i in range(4))
    nonzero = e != 0
    p = np.sqrt(px ** 2 + py ** 2 + pz ** 2)
    bad = nonzero & (e < p * (1 - 1e-4) - 1e-6)
    if nonzero.any() and bad.sum() > MAX_UNPHYSICAL_FRACTION * nonzero.sum():
        raise InputError(f"{path}: {bad.sum()} of {nonzero.sum()} constituents have E < |p| when read as "
                         "(E, px, py, pz, x); the file does not have the expected column order")
    sample = from_p4(offsets, e, px, py, pz)
    sample.nsub = nsub
    sample.attrs = {"source": f"zenodo:{path}"}
    return sample


def write_zenodo_layout(path, p4s: list[np.ndarray], obs: np.ndarray | None = None, extra: float = 0.0) -> None:
    """Write jets (each an (M, 4) array of E, px, py, pz) in the Zenodo layout, as leading jets of one-jet
    events: for test inputs and toy data."""
    vlen = h5py.vlen_dtype(np.dtype("float64"))
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        cons = f.create_dataset(ZENODO_CONSTITUENTS, shape=(len(p4s), 1), dtype=vlen)
        for i, p4 in enumerate(p4s):
            rows = np.column_stack([p4, np.full(len(p4), extra)])
            cons[i, 0] = rows.ravel()
        if obs is not None:
            f.create_dataset(ZENODO_OBS, data=np.asarray(obs)[:, None, :])


def write_jet_sample(sample: JetSample, path) -> None:
    """Write a JetSample (module docstring), gzip-compressed, atomically."""
    m, pt = sample.jet_kinematics()
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("offsets", data=np.asarray(sample.offsets, dtype=np.int64), track_times=False)
        for key in ("pt", "y", "phi", "mass"):
            data = np.asarray(getattr(sample, key), dtype=np.float32)
            create_compressed(f, key, data, chunks=row_chunks(len(data)))
        f.create_dataset("jet_pt", data=pt, track_times=False)
        f.create_dataset("jet_mass", data=m, track_times=False)
        if sample.nsub is not None:
            f.create_dataset("nsub", data=np.asarray(sample.nsub, dtype=np.float64), track_times=False)
        for key, value in sample.attrs.items():
            f.attrs[key] = value


def read_jet_sample(path) -> JetSample:
    """Read a file written by ``write_jet_sample``; ``InputError`` if it is not one."""
    try:
        with h5py.File(path, "r") as f:
            return JetSample(
                f["offsets"][()], *(f[k][()].astype(np.float64) for k in ("pt", "y", "phi", "mass")),
                nsub=f["nsub"][()] if "nsub" in f else None,
                attrs={k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()})
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a jet-sample file ({err}); delete it and rerun")
