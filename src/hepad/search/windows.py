"""The signal-region windows of the sliding bump hunt, the signal injection and each window's SR and sidebands.

A window is an mjj interval (TeV); its sidebands are every event outside it, or, with a margin m, only
the events within m of its edges. The injection is done once per (nsig, seed), identically for every
window, so that all windows see the same pseudo-data, as in a real search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepad.cathode.prepare import in_window
from hepad.io import InputError

__all__ = ["Window", "DEFAULT_WINDOWS", "sliding_windows", "windows_from_config", "inject", "window_split"]


@dataclass(frozen=True)
class Window:
    """One SR window: ``index`` (its place in the scan), ``low`` < mjj < ``high`` in TeV."""

    index: int
    low: float
    high: float

    @property
    def label(self) -> str:
        return f"{self.low:.2f}-{self.high:.2f} TeV"

    @property
    def center(self) -> float:
        return 0.5 * (self.low + self.high)


def sliding_windows(start: float = 2.7, width: float = 0.4, step: float = 0.2, count: int = 9) -> list[Window]:
    """``count`` windows of ``width`` TeV, the first starting at ``start``, stepped by ``step``."""
    return [Window(i, round(start + i * step, 6), round(start + i * step + width, 6)) for i in range(count)]


# The nine windows of Das et al.: 2.7-3.1 up to 4.3-4.7 TeV, 400 GeV wide, stepped by 200 GeV.
DEFAULT_WINDOWS = sliding_windows()


def windows_from_config(windows) -> list[Window]:
    """Windows from the config list ``search.windows`` ([{low, high}, ...] or [[low, high], ...])."""
    out = []
    for i, item in enumerate(windows):
        low, high = (item["low"], item["high"]) if isinstance(item, dict) else item
        if not low < high:
            raise InputError(f"search.windows[{i}]: low {low} must be below high {high}")
        out.append(Window(i, float(low), float(high)))
    return out


def inject(features: np.ndarray, nsig: int, seed: int) -> np.ndarray:
    """Background plus ``nsig`` random signal events (rows of hepad.cathode.prepared.COLUMNS), shuffled.

    Deterministic from ``seed``; the same for every window."""
    rng = np.random.default_rng(seed)
    label = features[:, -1]
    background, signal = features[label == 0], features[label == 1]
    if nsig > len(signal):
        raise InputError(f"cannot inject {nsig} signal events: the input holds only {len(signal)}")
    injected = signal[rng.permutation(len(signal))[:nsig]]
    data = np.concatenate([background, injected])
    return data[rng.permutation(len(data))]


def window_split(data: np.ndarray, window: Window, margin: float | None = None) -> dict[str, np.ndarray]:
    """Row indices of ``data`` in the window (``sr``) and in its sidebands (``sb``: outside the window,
    within ``margin`` TeV of its edges if a margin is given)."""
    mjj = data[:, 0]
    sr = in_window(mjj, window.low, window.high)
    sb = ~sr
    if margin is not None:
        sb &= (mjj > window.low - margin) & (mjj < window.high + margin)
    if not sr.any():
        raise InputError(f"window {window.label} holds no events (data mjj {mjj.min():.3f}-{mjj.max():.3f} TeV)")
    if sb.sum() < 2:
        raise InputError(f"the sidebands of window {window.label} hold {int(sb.sum())} events; at least 2 are needed")
    return {"sr": np.flatnonzero(sr), "sb": np.flatnonzero(sb)}
