"""Event-level (eta, phi) detector images (CoDAE, docs/codae.md).

An event is binned on a fine grid of ``n_eta x n_phi`` pixels covering ``|eta| < eta_max`` and the full
phi circle, one channel per detector-object kind (track pT, ECAL cell pT, HCAL cell pT, in GeV), and then
summed over blocks of ``factor x factor`` pixels. The paper's grid is 286 x 360 with factor 5, giving
72 x 58: 360 / 5 = 72 phi pixels exactly, but 286 / 5 = 57.2 in eta. The convention here: the fine eta
axis is zero-padded to the next multiple of ``factor`` (286 -> 290), half the padding on each side (extra
pixel, if odd, at high eta), so the coarse image has ceil(n / factor) pixels per axis (58 in eta) and its
pixels keep whole fine pixels. The padding holds no energy (it lies outside the acceptance), so the sum
preserves every event's total.

Array layout: ``(n_events, n_channels, n_phi_coarse, n_eta_coarse)`` = (n, C, 72, 58): height phi,
width eta, as the paper's 72 x 58 images. Objects outside ``|eta| < eta_max`` are dropped; phi is taken
modulo 2 pi with pixel 0 starting at phi = -pi.

``event_images`` bins straight into the coarse grid through the fine pixel index (the same numbers as
``downsample(fine_images(...))`` without allocating the fine images); both are vectorised with
``np.bincount`` over all objects of a batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h5py
import numpy as np

from hepad.io import InputError, atomic_output
from hepad.hdf5 import create_compressed

CHANNELS = {"track": 0, "ecal": 1, "hcal": 2}  # detector-object channel of each image channel
EVENT_COLUMNS = ["label", "mass", "ntracks", "jet1_pt", "jet2_pt", "met"]


@dataclass(frozen=True)
class ImageGrid:
    """Pixelisation of the (eta, phi) plane.

    Parameters
    ----------
    eta_max : float
        Images cover |eta| < eta_max (default 2.5, the tracker acceptance).
    n_eta : int
        Fine pixels in eta (default 286, about the ECAL granularity 0.0174).
    n_phi : int
        Fine pixels in phi over 2 pi (default 360).
    factor : int
        Fine pixels summed per coarse pixel along each axis (default 5: 286 x 360 -> 58 x 72).
    channels : tuple of str
        Image channels, each a detector-object kind: 'track', 'ecal', 'hcal' (default all three).
    """

    eta_max: float = 2.5
    n_eta: int = 286
    n_phi: int = 360
    factor: int = 5
    channels: tuple = ("track", "ecal", "hcal")

    def __post_init__(self):
        if self.eta_max <= 0 or self.n_eta < 1 or self.n_phi < 1 or self.factor < 1:
            raise ValueError(f"invalid image grid {self}: eta_max, n_eta, n_phi and factor must be positive")
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown or not self.channels or len(set(self.channels)) != len(self.channels):
            raise ValueError(f"image channels {list(self.channels)}: use distinct names of {list(CHANNELS)}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, phi, eta) of the coarse images."""
        return (len(self.channels), math.ceil(self.n_phi / self.factor), math.ceil(self.n_eta / self.factor))

    @property
    def pad(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Zero padding ((phi low, phi high), (eta low, eta high)) of the fine grid before the sum."""
        out = []
        for n in (self.n_phi, self.n_eta):
            total = math.ceil(n / self.factor) * self.factor - n
            out.append((total // 2, total - total // 2))
        return tuple(out)

    def fine_index(self, eta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fine (phi, eta) pixel of each object, and whether it lies inside the acceptance."""
        eta = np.asarray(eta, dtype=np.float64)
        inside = np.abs(eta) < self.eta_max
        i_eta = np.floor((eta + self.eta_max) / (2 * self.eta_max) * self.n_eta).astype(np.int64)
        i_eta = np.clip(i_eta, 0, self.n_eta - 1)
        turns = (np.asarray(phi, dtype=np.float64) + np.pi) / (2 * np.pi)
        i_phi = np.floor((turns - np.floor(turns)) * self.n_phi).astype(np.int64) % self.n_phi
        return i_phi, i_eta, inside

    def channel_index(self, object_channel: np.ndarray) -> np.ndarray:
        """Image channel of each object (-1 for kinds not imaged)."""
        lookup = np.full(max(CHANNELS.values()) + 1, -1, dtype=np.int64)
        for k, name in enumerate(self.channels):
            lookup[CHANNELS[name]] = k
        return lookup[np.asarray(object_channel, dtype=np.int64)]


def _event_of(offsets) -> np.ndarray:
    offsets = np.asarray(offsets, dtype=np.int64)
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def fine_images(offsets, pt, eta, phi, channel, grid: ImageGrid) -> np.ndarray:
    """Fine images (n, C, n_phi, n_eta) float32: per pixel the summed pT [GeV] of the objects in it."""
    n = len(offsets) - 1
    event = _event_of(offsets)
    i_phi, i_eta, inside = grid.fine_index(eta, phi)
    chan = grid.channel_index(channel)
    ok = inside & (chan >= 0)
    c = len(grid.channels)
    flat = ((event * c + chan) * grid.n_phi + i_phi) * grid.n_eta + i_eta
    out = np.bincount(flat[ok], weights=np.asarray(pt, dtype=np.float64)[ok], minlength=n * c * grid.n_phi * grid.n_eta)
    return out.reshape(n, c, grid.n_phi, grid.n_eta).astype(np.float32)


def downsample(images: np.ndarray, grid: ImageGrid) -> np.ndarray:
    """Sum fine images (..., n_phi, n_eta) over factor x factor blocks after the zero padding of ``grid``."""
    (p0, p1), (e0, e1) = grid.pad
    f = grid.factor
    padded = np.pad(images, [(0, 0)] * (images.ndim - 2) + [(p0, p1), (e0, e1)])
    h, w = padded.shape[-2] // f, padded.shape[-1] // f
    return padded.reshape(*images.shape[:-2], h, f, w, f).sum(axis=(-3, -1))


def event_images(offsets, pt, eta, phi, channel, grid: ImageGrid) -> np.ndarray:
    """Coarse images (n, C, H, W) float32, equal to ``downsample(fine_images(...))`` but binned directly."""
    n = len(offsets) - 1
    event = _event_of(offsets)
    i_phi, i_eta, inside = grid.fine_index(eta, phi)
    chan = grid.channel_index(channel)
    ok = inside & (chan >= 0)
    (p0, _), (e0, _) = grid.pad
    c, h, w = grid.shape
    j_phi = (i_phi + p0) // grid.factor
    j_eta = (i_eta + e0) // grid.factor
    flat = ((event * c + chan) * h + j_phi) * w + j_eta
    out = np.bincount(flat[ok], weights=np.asarray(pt, dtype=np.float64)[ok], minlength=n * c * h * w)
    return out.reshape(n, c, h, w).astype(np.float32)


# ------------------------------------------------------------------------------------------ image files

def write_images(path, images_iter, grid: ImageGrid, meta: dict, n_events: int, block: int = 256) -> None:
    """Write images and per-event columns to an HDF5 file, gzip-compressed, atomically.

    ``images_iter`` yields ``(images (m, C, H, W), events dict of EVENT_COLUMNS)`` pieces in order, so a
    large sample never sits in memory at once; ``n_events`` is their total.
    """
    c, h, w = grid.shape
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as out:
            for key, value in meta.items():
                out.attrs[key] = value
            out.attrs["grid"] = repr(grid)
            out.attrs["channels"] = list(grid.channels)
            out.attrs["layout"] = "images (n, channel, phi, eta), pixel = summed pT [GeV]; events/<column> per image"
            dset = create_compressed(out, "images", shape=(n_events, c, h, w), dtype=np.float32,
                                     chunks=(min(block, max(n_events, 1)), c, h, w))
            cols = {k: [] for k in EVENT_COLUMNS}
            pos = 0
            for images, events in images_iter:
                dset[pos:pos + len(images)] = images
                pos += len(images)
                for k in EVENT_COLUMNS:
                    cols[k].append(np.asarray(events[k]))
            if pos != n_events:
                raise RuntimeError(f"expected {n_events} images, got {pos}")
            grp = out.create_group("events")
            for k in EVENT_COLUMNS:
                grp.create_dataset(k, data=np.concatenate(cols[k]) if cols[k] else np.zeros(0), track_times=False)


@dataclass
class ImageSet:
    """Images (or one channel of them) with their event columns (``events[column]``)."""

    images: np.ndarray
    events: dict
    channels: list

    def __len__(self) -> int:
        return len(self.images)


def read_images(path, channels=None, index=None, transform=None, block: int = 4096) -> ImageSet:
    """Read an image file block by block.

    ``channels`` (names) selects channels, ``index`` (a slice or sorted event indices) events, and
    ``transform`` (e.g. binarisation to uint8) is applied per block, so a large file never needs its float
    images in memory at once.
    """
    try:
        with h5py.File(path, "r") as f:
            names = [str(c) for c in f.attrs["channels"]]
            try:
                chans = list(range(len(names))) if channels is None else [names.index(c) for c in channels]
            except ValueError:
                raise InputError(f"{path}: channels {list(channels)} requested, the file has {names}; "
                                 "rerun make_images with those channels")
            dset = f["images"]
            n = dset.shape[0]
            rows = np.arange(n)[index] if index is not None else np.arange(n)
            pieces = []
            for lo in range(0, len(rows), block):
                part = rows[lo:lo + block]
                if len(part) and part[-1] - part[0] + 1 == len(part):  # contiguous: one hyperslab read
                    data = dset[part[0]:part[-1] + 1]
                else:
                    data = dset[part] if len(part) else np.zeros((0,) + dset.shape[1:], np.float32)
                data = data[:, chans]
                pieces.append(transform(data) if transform is not None else data)
            shape = (0, len(chans)) + dset.shape[2:]
            images = np.concatenate(pieces) if pieces else np.zeros(shape, np.float32)
            events = {k: f["events"][k][()][rows] for k in EVENT_COLUMNS}
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a readable image file ({err}); delete it and rerun make_images")
    return ImageSet(images=images, events=events, channels=[names[c] for c in chans])


def binarise(images: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """The CoDAE input: 1 where a pixel's summed pT exceeds ``threshold`` [GeV] (0: any deposit), else 0 (uint8)."""
    return (images > threshold).astype(np.uint8)


def image_count(path) -> int:
    with h5py.File(path, "r") as f:
        return int(f["images"].shape[0])
