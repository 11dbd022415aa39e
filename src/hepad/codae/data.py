"""The CoDAE study's data sets, score files and metrics (glue between images, models and plots).

Splits (deterministic, by position in the image files; events are independent and in generation order):

- QCD: the first ``qcd_test_fraction`` of the events are the test set; of the rest, the last
  ``val_fraction`` validate (epoch choice) and the others train the auto-encoders (QCD only).
- Each signal: the first ``signal_train_fraction`` of the events may be used by the supervised CNN (the
  upper bound; split again by ``val_fraction``), the rest are test events. Auto-encoders never see signal.

Score files (HDF5): ``label`` (0 QCD, 1 signal), ``mass`` (signal mass in GeV, 0 for QCD), ``ntracks``,
``process`` (the process name of each event: ``qcd``, ``svj_<m>``, ``suep_<mH>``; older files lack it and
their signals are read as ``svj_<mass>``) and one dataset per score under ``scores/``, all over the same test
events in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import h5py
import numpy as np
import pandas as pd

from hepad.events.images import binarise, image_count, read_images
from hepad.io import InputError, atomic_output
from hepad.metrics.sic import auc, fpr_at_tpr, roc_curve

TRACK_CHANNEL = "track"


@dataclass(frozen=True)
class Splits:
    """Fractions of the deterministic splits (see the module docstring)."""

    qcd_test_fraction: float = 0.25
    val_fraction: float = 0.1
    signal_train_fraction: float = 0.5

    def __post_init__(self):
        for name in ("qcd_test_fraction", "val_fraction", "signal_train_fraction"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise InputError(f"codae.split.{name} = {value} must lie strictly between 0 and 1")

    def qcd(self, n: int) -> dict:
        """Row indices of the QCD train, val and test sets."""
        n_test = int(round(n * self.qcd_test_fraction))
        rest = np.arange(n_test, n)
        n_val = int(round(len(rest) * self.val_fraction))
        return {"train": rest[:len(rest) - n_val], "val": rest[len(rest) - n_val:], "test": np.arange(n_test)}

    def signal(self, n: int) -> dict:
        """Row indices of a signal's supervised train and val sets and its test set."""
        n_sup = int(round(n * self.signal_train_fraction))
        n_val = int(round(n_sup * self.val_fraction))
        return {"train": np.arange(n_sup - n_val), "val": np.arange(n_sup - n_val, n_sup),
                "test": np.arange(n_sup, n)}


def load_masks(path, rows, threshold: float = 0.0) -> tuple[np.ndarray, dict]:
    """Binarised track masks (n, 1, H, W) uint8 (pixels with summed track pT above ``threshold`` GeV) and event
    columns of the given rows of an image file."""
    data = read_images(path, channels=[TRACK_CHANNEL], index=rows, transform=partial(binarise, threshold=threshold))
    return data.images, data.events


def load_track_pt(path, rows) -> tuple[np.ndarray, dict]:
    """Track-pT images (n, 1, H, W) float32 (their binarisation is the CoDAE input) and event columns."""
    data = read_images(path, channels=[TRACK_CHANNEL], index=rows)
    return data.images, data.events


def load_full(path, rows) -> tuple[np.ndarray, dict]:
    """All channels (pT images, float32) and event columns of the given rows."""
    data = read_images(path, index=rows)
    return data.images, data.events


def image_process(path) -> str:
    """The process name an image file was made for (its ``process`` attribute)."""
    with h5py.File(path, "r") as f:
        return str(f.attrs.get("process", ""))


def evaluation_set(qcd_path, signal_paths, splits: Splits, loader=load_masks) -> tuple[np.ndarray, dict]:
    """The common test set: QCD test rows, then each signal's test rows; images and event columns (with
    ``process``, the name of each event's process)."""
    pieces = [loader(qcd_path, splits.qcd(image_count(qcd_path))["test"])]
    pieces += [loader(p, splits.signal(image_count(p))["test"]) for p in signal_paths]
    images = np.concatenate([p[0] for p in pieces])
    events = {k: np.concatenate([p[1][k] for p in pieces]) for k in pieces[0][1]}
    names = []
    for path, piece in zip([qcd_path, *signal_paths], pieces):
        name = image_process(path) or ("qcd" if path == qcd_path else f"svj_{int(piece[1]['mass'][0])}")
        names.append(np.full(len(piece[0]), name, dtype=object))
    events["process"] = np.concatenate(names).astype("S")
    return images, events


def write_scores(path, scores: dict, events: dict, meta: dict | None = None) -> None:
    """A score file (see the module docstring), written atomically."""
    n = len(events["label"])
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w") as out:
            for key, value in (meta or {}).items():
                out.attrs[key] = value
            for key in ("label", "mass", "ntracks"):
                out.create_dataset(key, data=np.asarray(events[key]))
            if "process" in events:
                out.create_dataset("process", data=np.asarray(events["process"]).astype("S"))
            grp = out.create_group("scores")
            for name, values in scores.items():
                values = np.asarray(values, dtype=np.float64)
                if values.shape != (n,):
                    raise ValueError(f"score {name} has shape {values.shape}, expected ({n},)")
                grp.create_dataset(name, data=values)


def read_scores(paths) -> tuple[dict, dict]:
    """Merge score files over the same test events: (scores by name, event columns); checks the events match."""
    scores, events = {}, None
    for path in paths:
        try:
            with h5py.File(path, "r") as f:
                ev = {k: f[k][()] for k in ("label", "mass", "ntracks", "process") if k in f}
                file_scores = {k: f["scores"][k][()] for k in f["scores"]}
        except (OSError, KeyError) as err:
            raise InputError(f"{path}: not a readable score file ({err}); rerun the step that wrote it")
        if events is None:
            events = ev
        elif set(events) != set(ev) or any(not np.array_equal(events[k], ev[k]) for k in ev):
            raise InputError(f"{path} scores different test events than {paths[0]}; rerun both with one config")
        for name, values in file_scores.items():
            if name in scores:
                raise InputError(f"score {name!r} appears in two score files")
            scores[name] = values
    return scores, events


def signal_processes(events: dict) -> tuple[np.ndarray, list]:
    """(process name per event, the signal processes in order: SUEP then SVJ, each by mass)."""
    label, mass = np.asarray(events["label"]), np.asarray(events["mass"])
    if "process" in events:
        process = np.array([p.decode() if isinstance(p, bytes) else str(p) for p in events["process"]])
    else:  # score files of before the process column: every signal a semi-visible jet
        process = np.array(["qcd" if lab == 0 else f"svj_{int(m)}" for lab, m in zip(label, mass)])
    signals = sorted(set(process[label == 1].tolist()), key=lambda p: (p.split("_")[0], int(mass[process == p][0])))
    return process, signals


def signal_title(process: str) -> str:
    """A signal process for plot titles: 'SVJ, m_Z' = 2.1 TeV', 'SUEP, m_H = 125 GeV'."""
    kind, _, mass = process.partition("_")
    if kind == "suep":
        return f"SUEP, $m_H$ = {int(mass)} GeV"
    if kind == "svj":
        return f"SVJ, $m_{{Z'}}$ = {int(mass) / 1000:.1f} TeV"
    return process


def metrics_table(scores: dict, events: dict, tpr: float = 0.4) -> pd.DataFrame:
    """AUC and FPR at ``tpr`` signal efficiency of every score per signal mass (QCD test events as background)."""
    rows = []
    label, mass = np.asarray(events["label"]), np.asarray(events["mass"])
    process, signals = signal_processes(events)
    if not signals:
        raise InputError("the score files hold no signal test events")
    for signal in signals:
        sel = (label == 0) | (process == signal)
        m = int(mass[process == signal][0])
        for name, values in scores.items():
            rows.append({"signal": signal, "mass_gev": m, "score": name,
                         "auc": auc(values[sel], label[sel]),
                         f"fpr_at_{int(round(100 * tpr))}tpr": fpr_at_tpr(values[sel], label[sel], tpr),
                         "n_signal": int((label[sel] == 1).sum()), "n_background": int((label[sel] == 0).sum())})
    return pd.DataFrame(rows)


def roc_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fpr, tpr, _ = roc_curve(scores, labels)
    return fpr, tpr
