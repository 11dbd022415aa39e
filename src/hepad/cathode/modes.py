"""Training sets of CATHODE and its benchmarks, built from one prepared set (``hepad.cathode.prepared``).

Every classifier mode separates a "label 1" sample from a "label 0" sample on the four features
(``FEATURES``: mj1, dmj, tau21j1, tau21j2; mjj is not an input, so no mode can learn the SR/SB split):

=============  ===================================================  =================================================
mode           label 1                                              label 0
=============  ===================================================  =================================================
``cathode``    SR data (``sr_train`` / ``sr_val``)                  flow samples in the SR (``train`` / ``val`` of the
                                                                    samples file, split like the SR data)
``cwola``      SR data (``sr_train`` / ``sr_val``)                  SB data inside ``regions.cwola_sb`` (from
                                                                    ``sb_train`` + ``sb_val``, re-split like the SR)
``iad``        SR data (``sr_train`` / ``sr_val``)                  true SR background (``extra_bkg_train`` / ``_val``)
``supervised`` true SR signal (``signal_train`` / ``signal_val``)   true SR background (``extra_bkg_train`` / ``_val``)
=============  ===================================================  =================================================

``anode`` has no classifier: its score is log p_SR(x|m) - log p_SB(x|m) of two flows (see
``hepad.cathode.density``). All modes are scored on the same ``test`` split.

Class balance: every mode gets per-event sample weights, in training and in validation alike; the
classifiers are therefore built with ``class_weight=None`` so the balance is applied once.

- ``cathode``, ``iad``, ``supervised``: both classes carry the same total weight (w = N / (2 N_class),
  i.e. scikit-learn's "balanced"; :func:`balanced_weights`).
- ``cwola``: as published, the SR class carries half of the total weight and each sideband band a
  quarter: the lower band (cwola_low < mjj < sr_low) and the upper band (sr_high < mjj < cwola_high),
  split at the SR edges (:func:`cwola_weights`). On a falling mjj spectrum the lower band holds many more
  events; equal band weights centre the background class on the SR in mjj, so the classifier cannot
  learn the mjj dependence of the features instead of the signal.

In every mode the mean weight is 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from hepad.cathode.prepared import COLUMNS, FEATURES, load_split
from hepad.io import InputError, atomic_output

CLASSIFIER_MODES = ("cathode", "cwola", "iad", "supervised")
MODES = CLASSIFIER_MODES + ("anode",)
FEATURE_INDEX = [COLUMNS.index(name) for name in FEATURES]
MJJ, LABEL = COLUMNS.index("mjj"), COLUMNS.index("label")


@dataclass
class TrainingSet:
    """Inputs of one classifier training: features, 0/1 targets and balancing weights (train and val)."""

    x_train: np.ndarray
    y_train: np.ndarray
    w_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    w_val: np.ndarray

    def describe(self) -> str:
        def part(y):
            return f"{int((y == 1).sum())} label-1 / {int((y == 0).sum())} label-0"
        return f"train {part(self.y_train)}, val {part(self.y_val)}"


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """w = N / (2 N_class): both classes carry half the total weight, the mean weight is 1."""
    y = np.asarray(y)
    n1, n0 = int((y == 1).sum()), int((y == 0).sum())
    if n1 == 0 or n0 == 0:
        raise InputError(f"a class is empty ({n1} label-1, {n0} label-0 events): nothing to learn")
    return np.where(y == 1, len(y) / (2.0 * n1), len(y) / (2.0 * n0))


def cwola_weights(y: np.ndarray, mjj: np.ndarray, sr: tuple[float, float]) -> np.ndarray:
    """CWoLa's published weights: label 1 (SR) carries N/2, label-0 events below ``sr[0]`` (lower band)
    N/4 and those above ``sr[1]`` (upper band) N/4, each spread evenly over its events; N = len(y)."""
    y, mjj = np.asarray(y), np.asarray(mjj, np.float64)
    groups = {"SR": y == 1, "lower band": (y == 0) & (mjj < sr[0]), "upper band": (y == 0) & (mjj > sr[1])}
    if not (groups["SR"] | groups["lower band"] | groups["upper band"]).all():
        raise ValueError(f"label-0 events inside the SR {sr[0]}-{sr[1]} TeV: not CWoLa sideband events")
    counts = {name: int(mask.sum()) for name, mask in groups.items()}
    empty = [name for name, count in counts.items() if count == 0]
    if empty:
        raise InputError(f"CWoLa: the {' and the '.join(empty)} hold no events ({counts}); widen regions.cwola_sb")
    w = np.empty(len(y))
    for (name, mask), share in zip(groups.items(), (0.5, 0.25, 0.25)):
        w[mask] = share * len(y) / counts[name]
    return w


def _stack(ones: np.ndarray, zeros: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([ones[:, FEATURE_INDEX], zeros[:, FEATURE_INDEX]])
    y = np.r_[np.ones(len(ones)), np.zeros(len(zeros))]
    return x, y


def _make(ones_train, zeros_train, ones_val, zeros_val) -> TrainingSet:
    x_train, y_train = _stack(ones_train, zeros_train)
    x_val, y_val = _stack(ones_val, zeros_val)
    return TrainingSet(x_train, y_train, balanced_weights(y_train), x_val, y_val, balanced_weights(y_val))


def val_fraction(train: np.ndarray, val: np.ndarray) -> float:
    """Share of validation events in a train/val pair (the samples and CWoLa's SB are split alike)."""
    return len(val) / (len(train) + len(val))


def split_like(rows: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, val): the first round(n * fraction) rows are validation, like ``prepare`` does.

    The rows come from a shuffled prepared set or from independent flow samples, so taking the first
    ones is a random split that needs no seed.
    """
    n_val = int(round(len(rows) * fraction))
    return rows[n_val:], rows[:n_val]


def cwola_sidebands(sb: np.ndarray, sr: tuple[float, float], cwola_sb: tuple[float, float]) -> np.ndarray:
    """SB events with cwola_low < mjj < sr_low or sr_high < mjj < cwola_high."""
    mjj = sb[:, MJJ]
    return sb[((mjj > cwola_sb[0]) & (mjj < sr[0])) | ((mjj > sr[1]) & (mjj < cwola_sb[1]))]


def write_samples(train: np.ndarray, val: np.ndarray, path) -> None:
    """Flow samples as (n, 6) arrays with the prepared columns (label 0), datasets ``train``/``val``."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            out.attrs["columns"] = COLUMNS
            for name, rows in (("train", train), ("val", val)):
                out.create_dataset(name, data=np.asarray(rows, dtype=np.float64), track_times=False)


def read_samples(path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with h5py.File(path, "r") as handle:
            return handle["train"][()], handle["val"][()]
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: cannot read flow samples ({err}); rerun sample_sr")


def training_set(mode: str, prepared, *, samples=None, sr=(3.3, 3.7), cwola_sb=(3.1, 3.9)) -> TrainingSet:
    """The training and validation data of a classifier mode (see the module docstring).

    Parameters
    ----------
    mode : {"cathode", "cwola", "iad", "supervised"}
    prepared : path of a prepared set
    samples : path of the SR flow samples (``cathode`` only)
    sr, cwola_sb : (low, high) in TeV; used by ``cwola`` only
    """
    if mode not in CLASSIFIER_MODES:
        raise ValueError(f"mode must be one of {CLASSIFIER_MODES} (anode has no classifier), got {mode!r}")
    sr_train, sr_val = load_split(prepared, "sr_train"), load_split(prepared, "sr_val")
    if mode == "cathode":
        if samples is None:
            raise ValueError("mode 'cathode' needs the flow samples")
        s_train, s_val = read_samples(samples)
        return _make(sr_train, s_train, sr_val, s_val)
    if mode == "cwola":
        sb = np.concatenate([load_split(prepared, "sb_train"), load_split(prepared, "sb_val")])
        side = cwola_sidebands(sb, sr, cwola_sb)
        if len(side) < 2:
            raise InputError(f"{prepared}: only {len(side)} events in the CWoLa sidebands {cwola_sb[0]}-{sr[0]} "
                             f"and {sr[1]}-{cwola_sb[1]} TeV; widen regions.cwola_sb")
        sb_train, sb_val = split_like(side, val_fraction(sr_train, sr_val))
        ts = _make(sr_train, sb_train, sr_val, sb_val)
        ts.w_train = cwola_weights(ts.y_train, np.r_[sr_train[:, MJJ], sb_train[:, MJJ]], sr)
        ts.w_val = cwola_weights(ts.y_val, np.r_[sr_val[:, MJJ], sb_val[:, MJJ]], sr)
        return ts
    bkg_train, bkg_val = load_split(prepared, "extra_bkg_train"), load_split(prepared, "extra_bkg_val")
    if mode == "iad":
        return _make(sr_train, bkg_train, sr_val, bkg_val)
    sig_train, sig_val = load_split(prepared, "signal_train"), load_split(prepared, "signal_val")
    return _make(sig_train, bkg_train, sig_val, bkg_val)


def evaluation_set(prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, mjj, truth labels) of the ``test`` split, the same for every mode."""
    test = load_split(prepared, "test")
    return test[:, FEATURE_INDEX], test[:, MJJ], test[:, LABEL].astype(np.int64)


def write_scores(scores: np.ndarray, labels: np.ndarray, mjj: np.ndarray, path, **attrs) -> None:
    """Test-set scores (larger = more signal-like), truth labels and mjj of one run, atomically."""
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).all():
        raise InputError(f"{int((~np.isfinite(scores)).sum())} test scores are NaN or infinite: the model is broken")
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            for key, value in attrs.items():
                out.attrs[key] = value
            for name, values in (("scores", scores), ("labels", np.asarray(labels, np.int64)),
                                 ("mjj", np.asarray(mjj, np.float64))):
                out.create_dataset(name, data=values, track_times=False)


def read_scores(path) -> tuple[np.ndarray, np.ndarray]:
    """(scores, labels) of a scores file."""
    try:
        with h5py.File(path, "r") as handle:
            return handle["scores"][()], handle["labels"][()]
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: cannot read test scores ({err})")
