"""From LHCO-format events to the CATHODE inputs (docs/cathode.md): features, regions, injection, splits.

The only randomness is a ``numpy.random.default_rng(seed)`` (and, for the noise features of
``lhco4_noise10``, ``hepad.cathode.feature_sets.noise_rng(seed)``), so a seed reproduces the output exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hepad.cathode.feature_sets import rows_from_lhco
from hepad.cathode.prepared import LABEL, SPLITS
from hepad.io import InputError


def cathode_features(frame: pd.DataFrame) -> np.ndarray:
    """The (n, 6) array of ``hepad.cathode.prepared.COLUMNS``: mjj [TeV], lighter jet mass mj1 [TeV],
    mass difference dmj [TeV], tau21 of the lighter and of the heavier jet, label (the set ``lhco4``).

    Jets are ordered by mass: j1 is the lighter jet, whatever the file's order.
    """
    return rows_from_lhco(frame, "lhco4")


def in_window(mjj: np.ndarray, low: float, high: float) -> np.ndarray:
    """Events with low < mjj < high (TeV)."""
    return (mjj > low) & (mjj < high)


def shift_masses(rows: np.ndarray, shift: float) -> np.ndarray:
    """The shifted (correlated) data set of the CATHODE paper: mj1 += shift * mjj and dmj += shift * mjj
    (all three in TeV; a copy). The jet masses then depend on mjj, which the SB flow must interpolate
    and which CWoLa's sidebands cannot hide. mj1 and dmj are columns 1 and 2 in every feature set."""
    out = np.array(rows, dtype=np.float64, copy=True)
    out[:, 1] += shift * out[:, 0]
    out[:, 2] += shift * out[:, 0]
    return out


def _split(rows: np.ndarray, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) with the first round(n * val_fraction) rows as validation."""
    n_val = int(round(len(rows) * val_fraction))
    return rows[n_val:], rows[:n_val]


def prepare_sets(features: np.ndarray, extra_bkg: np.ndarray, *, nsig: int, seed: int,
                 sr: tuple[float, float], sb_val_fraction: float, sr_val_fraction: float,
                 extra_bkg_test_fraction: float, n_test_signal: int, shift: float = 0.0) -> tuple[dict, dict]:
    """Inject ``nsig`` signal events into the background and split everything.

    ``features``: background and signal (label 0/1) from the main file; ``extra_bkg``: extra
    signal-region background; rows of any feature set (mjj first, label last:
    ``hepad.cathode.feature_sets``). ``shift``: :func:`shift_masses` on every event of both (0: the standard
    set); it changes no split, the same seed selects the same events. Returns ``(splits, summary)``: the arrays of
    ``hepad.cathode.prepared.SPLITS`` and a JSON-ready summary (counts, S/B and S/sqrt(B) in the SR).
    """
    rng = np.random.default_rng(seed)
    low, high = sr
    if shift:
        features, extra_bkg = shift_masses(features, shift), shift_masses(extra_bkg, shift)
    label = features[:, LABEL]
    background, signal = features[label == 0], features[label == 1]
    if nsig > len(signal):
        raise InputError(f"cannot inject {nsig} signal events: the input holds only {len(signal)} "
                         f"(lower injection.nsig or generate more signal)")
    signal = signal[rng.permutation(len(signal))]
    injected, unused = signal[:nsig], signal[nsig:]

    data = np.concatenate([background, injected])
    data = data[rng.permutation(len(data))]
    sr_mask = in_window(data[:, 0], low, high)
    sr_data, sb_data = data[sr_mask], data[~sr_mask]
    if len(sr_data) == 0:
        raise InputError(f"the signal region {low}-{high} TeV holds no events out of {len(data)} "
                         f"(mjj of the data spans {data[:, 0].min():.3f}-{data[:, 0].max():.3f} TeV)")
    if len(sb_data) == 0:
        raise InputError(f"the sidebands (outside {low}-{high} TeV) hold no events out of {len(data)}")

    splits = {}
    splits["sb_train"], splits["sb_val"] = _split(sb_data, sb_val_fraction)
    splits["sr_train"], splits["sr_val"] = _split(sr_data, sr_val_fraction)

    # Test signal and the supervised benchmark's signal: SR signal never injected.
    unused_sr = unused[in_window(unused[:, 0], low, high)]
    n_test_sig = min(n_test_signal, len(unused_sr) // 2)
    test_signal, supervised_signal = unused_sr[:n_test_sig], unused_sr[n_test_sig:]
    splits["signal_train"], splits["signal_val"] = _split(supervised_signal, sr_val_fraction)

    extra_sr = extra_bkg[in_window(extra_bkg[:, 0], low, high) & (extra_bkg[:, LABEL] == 0)]
    if len(extra_sr) < 4:
        raise InputError(f"the extra background holds {len(extra_sr)} background events in the signal region "
                         f"{low}-{high} TeV out of {len(extra_bkg)}; at least 4 are needed")
    extra_sr = extra_sr[rng.permutation(len(extra_sr))]
    n_test_bkg = int(round(len(extra_sr) * extra_bkg_test_fraction))
    test = np.concatenate([extra_sr[:n_test_bkg], test_signal])
    splits["test"] = test[rng.permutation(len(test))]
    splits["extra_bkg_train"], splits["extra_bkg_val"] = _split(extra_sr[n_test_bkg:], sr_val_fraction)

    summary = summarize(splits, nsig=nsig, seed=seed, sr=sr, n_signal_available=len(signal),
                        n_extra_outside_sr=len(extra_bkg) - len(extra_sr))
    summary["shift"] = shift
    return splits, summary


def _counts(rows: np.ndarray) -> dict:
    n_sig = int((rows[:, LABEL] == 1).sum())
    return {"total": len(rows), "signal": n_sig, "background": len(rows) - n_sig}


def summarize(splits: dict, *, nsig: int, seed: int, sr, n_signal_available: int, n_extra_outside_sr: int) -> dict:
    """Counts per split and the SR signal-to-background figures of the injected data."""
    counts = {name: _counts(splits[name]) for name in SPLITS}
    s = counts["sr_train"]["signal"] + counts["sr_val"]["signal"]
    b = counts["sr_train"]["background"] + counts["sr_val"]["background"]
    return {
        "nsig": nsig,
        "seed": seed,
        "signal_region_tev": list(sr),
        "counts": counts,
        "signal_region": {
            "signal": s,
            "background": b,
            "s_over_b": s / b if b else math.inf,
            "s_over_sqrt_b": s / math.sqrt(b) if b else math.inf,
        },
        "signal_available": n_signal_available,
        "extra_background_dropped_outside_sr": n_extra_outside_sr,
    }
