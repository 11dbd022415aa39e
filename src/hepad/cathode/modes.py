"""Training sets of CATHODE and its benchmarks, built from one prepared set (``hepad.cathode.prepared``).

Every classifier mode separates a "label 1" sample from a "label 0" sample on the features of the
prepared set (every column between mjj and the label: mj1, dmj, tau21j1, tau21j2 for the default set
``lhco4``, ``hepad.cathode.feature_sets`` for the others); mjj is not an input, so no mode can learn
the SR/SB split:

=============  ===================================================  =================================================
mode           label 1                                              label 0
=============  ===================================================  =================================================
``cathode``    SR data (``sr_train`` / ``sr_val``)                  flow samples in the SR (``train`` / ``val`` of the
                                                                    samples file, split like the SR data)
``cwola``      SR data (``sr_train`` / ``sr_val``)                  SB data inside ``regions.cwola_sb`` (from
                                                                    ``sb_train`` + ``sb_val``, re-split like the SR)
``iad``        SR data (``sr_train`` / ``sr_val``)                  true SR background (``extra_bkg_train`` / ``_val``)
``supervised`` true SR signal (``signal_train`` / ``signal_val``)   true SR background (``extra_bkg_train`` / ``_val``)
``lacathode``  SR data mapped to the SB flow's latent space         standard-normal draws (the flow's base
               (``sr_train`` / ``sr_val`` of the latent file)       distribution; ``samples_train`` / ``_val``)
=============  ===================================================  =================================================

``anode`` and ``ranode`` have no classifier: their scores are density ratios, log p_SR(x|m) - log p_SB(x|m)
of two flows (``hepad.cathode.density``) and log p_sig(x|m) - log p_SB(x|m) of R-ANODE's signal flow
(``hepad.cathode.ranode``). All modes are scored on the same ``test`` split; ``lacathode`` scores its
latent points (the same events, in the same order; events the flow cannot map get the lowest score).

The latent file (:func:`write_latent`, made by ``scripts/latent_sr.py``) holds ``sr_train``, ``sr_val``,
``test`` and ``sb_val`` with the prepared columns, the four features replaced by the latent point z (NaN
where the event lies outside the flow's feature range), and the base-distribution draws.

Besides the test set, every classifier is applied to the ``sb_val`` split (the sideband events the flow
did not train on): with the test set's SR background they give the background mjj spectrum over the SB and
the SR, on which ``hepad.metrics.sculpting`` checks whether a selection sculpts it.

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

import logging
from dataclasses import dataclass

import h5py
import numpy as np

from hepad.cathode.prepared import COLUMNS, FEATURE_COLUMNS, LABEL, MJJ, load_split, read_columns
from hepad.io import InputError, atomic_output

log = logging.getLogger(__name__)

CLASSIFIER_MODES = ("cathode", "cwola", "iad", "supervised", "lacathode")
DENSITY_MODES = ("anode", "ranode")  # scored by a density ratio, no classifier
MODES = CLASSIFIER_MODES + DENSITY_MODES
LATENT_SPLITS = ("sr_train", "sr_val", "test", "sb_val")
FEATURE_INDEX = FEATURE_COLUMNS  # rows[:, FEATURE_INDEX]: the features of a prepared set of any feature set


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


def write_samples(train: np.ndarray, val: np.ndarray, path, columns=None) -> None:
    """Flow samples as arrays with the prepared columns (label 0), datasets ``train``/``val``.

    ``columns``: those of the prepared set the flow was trained on (default ``COLUMNS``, ``lhco4``)."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            out.attrs["columns"] = list(COLUMNS if columns is None else columns)
            for name, rows in (("train", train), ("val", val)):
                out.create_dataset(name, data=np.asarray(rows, dtype=np.float64), track_times=False)


def write_latent(splits: dict, samples: tuple[np.ndarray, np.ndarray], path, columns=None) -> None:
    """LaCATHODE's inputs (module docstring): the latent ``LATENT_SPLITS`` and the base draws, atomically;
    ``columns`` those of the prepared set (default ``COLUMNS``, the set ``lhco4``)."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            out.attrs["columns"] = list(COLUMNS if columns is None else columns)
            for name in LATENT_SPLITS:
                out.create_dataset(name, data=np.asarray(splits[name], np.float64), track_times=False)
            for name, rows in zip(("samples_train", "samples_val"), samples):
                out.create_dataset(name, data=np.asarray(rows, np.float64), track_times=False)


def read_latent(path, name: str) -> np.ndarray:
    """One dataset of a latent file (a split of ``LATENT_SPLITS`` or ``samples_train`` / ``samples_val``)."""
    try:
        with h5py.File(path, "r") as handle:
            return handle[name][()]
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: cannot read '{name}' of the latent sets ({err}); rerun latent_sr")


def _mapped(rows: np.ndarray) -> np.ndarray:
    """The rows the flow could map (finite latent features)."""
    return rows[np.isfinite(rows[:, FEATURE_INDEX]).all(axis=1)]


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
    mode : {"cathode", "cwola", "iad", "supervised", "lacathode"}
    prepared : path of a prepared set
    samples : path of the SR flow samples (``cathode``) or of the latent file (``lacathode``)
    sr, cwola_sb : (low, high) in TeV; used by ``cwola`` only
    """
    if mode not in CLASSIFIER_MODES:
        raise ValueError(f"mode must be one of {CLASSIFIER_MODES} ({' and '.join(DENSITY_MODES)} have no "
                         f"classifier), got {mode!r}")
    if mode == "lacathode":
        if samples is None:
            raise ValueError("mode 'lacathode' needs the latent file")
        return _make(_mapped(read_latent(samples, "sr_train")), read_latent(samples, "samples_train"),
                     _mapped(read_latent(samples, "sr_val")), read_latent(samples, "samples_val"))
    sr_train, sr_val = load_split(prepared, "sr_train"), load_split(prepared, "sr_val")
    if mode == "cathode":
        if samples is None:
            raise ValueError("mode 'cathode' needs the flow samples")
        s_train, s_val = read_samples(samples)
        if s_train.shape[1] != sr_train.shape[1]:
            raise InputError(f"{samples}: samples of {s_train.shape[1] - 2} features, but {prepared} holds "
                             f"{sr_train.shape[1] - 2} ({read_columns(prepared)[1:-1][:4]}...); rerun sample_sr")
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


def _split_set(prepared, name: str, latent=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = load_split(prepared, name)
    if latent is not None:
        mapped = read_latent(latent, name)
        if len(mapped) != len(rows) or not np.array_equal(mapped[:, MJJ], rows[:, MJJ]):
            raise InputError(f"{latent}: its '{name}' split is not that of {prepared}; rerun latent_sr")
        rows = mapped
    return rows[:, FEATURE_INDEX], rows[:, MJJ], rows[:, LABEL].astype(np.int64)


def evaluation_set(prepared, latent=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, mjj, truth labels) of the ``test`` split, the same events for every mode; with ``latent``
    (LaCATHODE) the features are the events' latent points (NaN where unmapped)."""
    return _split_set(prepared, "test", latent)


def sideband_set(prepared, latent=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, mjj, truth labels) of the ``sb_val`` split, for the sculpting check (module docstring)."""
    return _split_set(prepared, "sb_val", latent)


def lowest_for_unmapped(scores: np.ndarray, what: str = "events") -> np.ndarray:
    """Scores with NaN entries (events without features, e.g. outside the flow's range) set to the lowest
    finite score minus one: ranked least signal-like, as ANODE ranks events outside its range."""
    scores = np.asarray(scores, np.float64).copy()
    bad = ~np.isfinite(scores)
    if bad.all():
        raise InputError(f"no {what} could be scored")
    if bad.any():
        log.info("%d of %d %s have no score (outside the flow's range): lowest score", int(bad.sum()), len(bad), what)
        scores[bad] = scores[~bad].min() - 1.0
    return scores


def write_scores(scores: np.ndarray, labels: np.ndarray, mjj: np.ndarray, path, sideband=None, **attrs) -> None:
    """Test-set scores (larger = more signal-like), truth labels and mjj of one run, atomically; ``sideband``:
    optional (scores, labels, mjj) of the ``sb_val`` split, in the group ``sideband``."""
    parts = {"": (scores, labels, mjj)}
    if sideband is not None:
        parts["sideband/"] = sideband
    for prefix, (values, _, _) in parts.items():
        values = np.asarray(values, dtype=np.float64)
        if not np.isfinite(values).all():
            raise InputError(f"{int((~np.isfinite(values)).sum())} {prefix or 'test '}scores are NaN or infinite: "
                             "the model is broken")
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            for key, value in attrs.items():
                out.attrs[key] = value
            for prefix, (values, truth, masses) in parts.items():
                for name, column in (("scores", np.asarray(values, np.float64)), ("labels", np.asarray(truth, np.int64)),
                                     ("mjj", np.asarray(masses, np.float64))):
                    out.create_dataset(prefix + name, data=column, track_times=False)


def read_background_mjj(path) -> tuple[np.ndarray, np.ndarray] | None:
    """(scores, mjj) of the background events of the test set and of the sideband group of a scores file, or
    None when the file has no sideband scores (the density modes)."""
    try:
        with h5py.File(path, "r") as handle:
            if "sideband" not in handle:
                return None
            groups = [handle, handle["sideband"]]
            scores = np.concatenate([g["scores"][()] for g in groups])
            labels = np.concatenate([g["labels"][()] for g in groups])
            mjj = np.concatenate([g["mjj"][()] for g in groups])
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: cannot read test scores ({err})")
    return scores[labels == 0], mjj[labels == 0]


def read_scores(path) -> tuple[np.ndarray, np.ndarray]:
    """(scores, labels) of a scores file."""
    try:
        with h5py.File(path, "r") as handle:
            return handle["scores"][()], handle["labels"][()]
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: cannot read test scores ({err})")
