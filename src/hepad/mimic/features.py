"""Feature files of the mimicker study and the background splits.

Feature file (one per sample): ``images`` (n, side, side) float32, unit sum; ``features`` (n, 103) with
attribute ``names`` = m, pt, the 101 EFPs (``hepad.events.efps.feature_names``); optional ``nsub``.

Background splits (contiguous, in file order; the events are in generation order, i.e. random):
the first ``train_fraction`` (default 2/3, the paper's standardisation and training share) trains the
auto-encoder and the mimickers; the rest is cut in two: the first ``select_fraction`` of it chooses the
observables (misordered pairs), the remainder is the test set of every reported ADO and AUC.
Signals are only ever test events.

Mimicker inputs are log(observable): EFPs, m and pT are positive and span decades, so the logarithm
makes the standardised inputs well-conditioned for the networks; it is monotonic, so the ADO of a
candidate observable, the selection and the interpretation are unchanged. Zero values (an EFP of a jet
with too few constituents) are floored at the smallest positive value of the background training jets
(:func:`log_floor`), fitted once and applied to every array.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from hepad.io import InputError, atomic_output
from hepad.hdf5 import create_compressed


def hardest_constituents(sample, n_max: int):
    """The same jets with only their ``n_max`` highest-pT constituents (all if ``n_max`` <= 0)."""
    from hepad.events.mimicker_io import JetSample

    if n_max <= 0:
        return sample
    off = sample.offsets
    jet = np.repeat(np.arange(sample.n_jets), np.diff(off))
    order = np.lexsort((-sample.pt, jet))
    rank = np.arange(len(order)) - np.repeat(off[:-1], np.diff(off))
    keep = order[rank < n_max]
    keep.sort()
    counts = np.minimum(np.diff(off), n_max)
    new_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return JetSample(new_off, sample.pt[keep], sample.y[keep], sample.phi[keep], sample.mass[keep],
                     sample.nsub, dict(sample.attrs))


def write_features(path, images, features, nsub=None, sample: str = "") -> None:
    from hepad.events.efps import feature_names

    names = feature_names()
    if features.shape[1] != len(names):
        raise ValueError(f"{features.shape[1]} feature columns, expected {len(names)}")
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        create_compressed(f, "images", np.asarray(images, dtype=np.float32))
        d = f.create_dataset("features", data=np.asarray(features, dtype=np.float64), track_times=False)
        d.attrs["names"] = names
        if nsub is not None:
            f.create_dataset("nsub", data=np.asarray(nsub), track_times=False)
        f.attrs["sample"] = sample


def read_features(path, images: bool = True) -> tuple[np.ndarray | None, np.ndarray, list[str]]:
    """(images or None, features, names) of a feature file."""
    try:
        with h5py.File(path, "r") as f:
            feats = f["features"][()]
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["features"].attrs["names"]]
            return (f["images"][()] if images else None), feats, names
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a feature file of jet_features ({err}); delete it and rerun")


# Observables of the jet image that no EFP carries (docs/mimic.md, "What the EFPs cannot carry"): the sum
# of squared pixel values (the image's pT dispersion, like a one-vertex EFP with kappa = 2) and the number
# of non-empty pixels (a multiplicity, kappa = 0). Both are infrared- or collinear-unsafe.
IMAGE_OBSERVABLES = ("sum_p2", "n_pixels")


def image_observables(images) -> np.ndarray:
    """(n, 2) array of :data:`IMAGE_OBSERVABLES` of unit-sum images (n, side, side); both are positive for any
    jet with a constituent, so :func:`mimicker_inputs` takes their log like the EFPs'."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return np.column_stack([(flat ** 2).sum(axis=1), (flat > 0).sum(axis=1).astype(np.float64)])


def with_image_observables(path, images: bool) -> tuple[np.ndarray, list[str]]:
    """(features, names) of a feature file, with the :data:`IMAGE_OBSERVABLES` appended when ``images``."""
    imgs, feats, names = read_features(path, images=images)
    if not images:
        return feats, names
    return np.column_stack([feats, image_observables(imgs)]), names + list(IMAGE_OBSERVABLES)


@dataclass(frozen=True)
class Splits:
    train: slice
    select: slice
    test: slice


def background_splits(n: int, train_fraction: float = 2 / 3, select_fraction: float = 0.5) -> Splits:
    """Contiguous train / select / test slices of ``n`` background events (module docstring)."""
    n_train = int(round(train_fraction * n))
    n_select = int(round(select_fraction * (n - n_train)))
    if min(n_train, n_select, n - n_train - n_select) < 10:
        raise InputError(f"{n} background jets give too small splits (train {n_train}, select {n_select}, "
                         f"test {n - n_train - n_select}); generate more background jets")
    return Splits(slice(0, n_train), slice(n_train, n_train + n_select), slice(n_train + n_select, n))


def log_floor(features: np.ndarray) -> np.ndarray:
    """Per column, the smallest positive value of ``features`` (1 for a column without one): the floor of
    :func:`mimicker_inputs`. Fit it once, on the background training jets, and apply it to every array."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"log_floor needs an (n >= 1, d) array, got shape {x.shape}")
    floor = np.where(x > 0, x, np.inf).min(axis=0)
    return np.where(np.isfinite(floor), floor, 1.0)


def mimicker_inputs(features: np.ndarray, floor: np.ndarray | None = None) -> np.ndarray:
    """log(max(observable, floor)) per column.

    ``floor`` comes from :func:`log_floor` of the background training jets and is the same for every
    array (training, selection, test, each signal), so one jet gets the same input whichever array holds
    it; values below the floor (zero for empty jets) are set to it. Without ``floor`` it is fitted on
    ``features`` itself (only right when ``features`` is the training array)."""
    x = np.asarray(features, dtype=np.float64)
    floor = log_floor(x) if floor is None else np.asarray(floor, dtype=np.float64)
    if floor.shape != x.shape[1:]:
        raise ValueError(f"floor has shape {floor.shape}, the features {x.shape[1:]} per jet")
    return np.log(np.maximum(x, floor))
