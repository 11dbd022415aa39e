"""The signal-region windows of the sliding bump hunt, the signal injection and each window's SR and sidebands.

A window is an mjj interval (TeV); its sidebands are every event outside it, or, with a margin m, only
the events within m of its edges. The injection is done once per (nsig, seed), identically for every
window, so that all windows see the same pseudo-data, as in a real search.

Windows that do not overlap can share one SB flow (config ``search.flow_groups``, docs/search.md): window
i belongs to flow group i mod G, and the group's flow trains on the events outside every window of the
group, so no window's template comes from a flow that saw the window's events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepad.io import InputError

__all__ = ["Window", "DEFAULT_WINDOWS", "sliding_windows", "windows_from_config", "inject", "window_split",
           "flow_groups", "group_sidebands"]


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

    def contains(self, mjj: np.ndarray) -> np.ndarray:
        """Events with low < mjj < high: the convention of hepad.cathode.prepare.in_window, written here
        because the Snakefile imports this module and must not need pandas (hepad.cathode.prepare)."""
        return (mjj > self.low) & (mjj < self.high)


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
    sr = window.contains(mjj)
    sb = group_sidebands(mjj, [window], margin)
    if not sr.any():
        raise InputError(f"window {window.label} holds no events (data mjj {mjj.min():.3f}-{mjj.max():.3f} TeV)")
    if sb.sum() < 2:
        raise InputError(f"the sidebands of window {window.label} hold {int(sb.sum())} events; at least 2 are needed")
    return {"sr": np.flatnonzero(sr), "sb": np.flatnonzero(sb)}


def flow_groups(windows, n_groups: int) -> list[list[Window]]:
    """The windows of each flow group: window i is in group i mod ``n_groups`` (config ``search.flow_groups``).

    The windows of one group must lie apart, with sidebands between them: the group's flow is trained
    outside all of them, and two windows that touch or overlap would make one hole twice as wide that the
    flow has to bridge (an event inside two of them would be in both SRs and neither's sidebands).
    Raises ConfigError (the Snakefile checks the config's groups when it is read)."""
    windows = list(windows)
    from hepad.config import ConfigError

    if n_groups < 1:
        raise ConfigError(f"config error: search.flow_groups must be at least 1, got {n_groups}")
    groups = [windows[g::n_groups] for g in range(min(n_groups, len(windows)))]
    for members in groups:
        ordered = sorted(members, key=lambda w: w.low)
        for a, b in zip(ordered, ordered[1:]):
            if b.low <= a.high:
                raise ConfigError(f"config error: search.flow_groups {n_groups}: windows {a.index} ({a.label}) "
                                  f"and {b.index} ({b.label}) share a flow but are not apart; raise "
                                  "search.flow_groups so that windows sharing a flow have sidebands between them")
    return groups


def group_sidebands(mjj: np.ndarray, windows, margin: float | None = None) -> np.ndarray:
    """Events of a flow group's sidebands: outside every window of the group and, with a margin, within
    ``margin`` TeV of the edges of one of them. For a single window, its sidebands (:func:`window_split`)."""
    outside = np.ones(len(mjj), dtype=bool)
    near = np.zeros(len(mjj), dtype=bool) if margin is not None else outside
    for window in windows:
        outside &= ~window.contains(mjj)
        if margin is not None:
            near = near | ((mjj > window.low - margin) & (mjj < window.high + margin))
    return outside & near
