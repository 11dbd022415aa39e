"""Does a cut on the anomaly score sculpt the background mjj spectrum? One panel per data set (e.g. the
standard and the shifted one, background only), per method and background efficiency the selected share
of the background events in each mjj bin over the efficiency (1 everywhere when the shape is kept), with
its binomial error and the chi^2 / ndf of ``hepad.metrics.sculpting`` in the legend (docs/cathode.md)."""

from __future__ import annotations

import h5py
import numpy as np

from hepad.cathode.modes import read_background_mjj
from hepad.io import InputError
from hepad.metrics.sculpting import equal_population_edges, mjj_sculpting, selection_by_bin
from hepad.plots.style import MODE_COLORS, method_label, method_sort_key

MARKERS = ["o", "s", "^", "D"]


def load_background(path) -> tuple[str, np.ndarray, np.ndarray]:
    """(method, scores, mjj) of the background events of a scores file with sideband scores."""
    try:
        with h5py.File(path, "r") as handle:
            mode, family = str(handle.attrs.get("mode", "?")), str(handle.attrs.get("family", ""))
    except OSError as err:
        raise InputError(f"{path}: cannot read test scores ({err})")
    background = read_background_mjj(path)
    if background is None:
        raise InputError(f"{path}: no sideband scores (rerun the training of this method)")
    return (mode if family in ("", "flow") else f"{mode}_{family}"), *background


def plot_sculpting(panels: list[tuple[str, list]], efficiencies, n_bins: int, sr: tuple[float, float], title=""):
    """``panels``: (title, [(method, scores, mjj), ...]) per data set."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(9 * len(panels), 8), squeeze=False, sharey=True)
    for ax, (panel_title, entries) in zip(axes[0], panels):
        for method, scores, mjj in sorted(entries, key=lambda e: method_sort_key(e[0])):
            edges = equal_population_edges(mjj, n_bins)
            centres = 0.5 * (edges[1:] + edges[:-1])
            stats = mjj_sculpting(scores, mjj, efficiencies, n_bins)
            color = MODE_COLORS.get(method.partition("_")[0])
            for k, (eff, stat) in enumerate(zip(efficiencies, stats)):
                kept, total, _ = selection_by_bin(scores, mjj, eff, edges)
                eps = kept.sum() / total.sum()
                ratio = kept / (eps * total)
                error = np.sqrt(eps * (1 - eps) / total) / eps
                ax.errorbar(centres, ratio, yerr=error, xerr=0.5 * np.diff(edges), color=color,
                            marker=MARKERS[k % len(MARKERS)], markersize=5, lw=1, ls="none",
                            label=f"{method_label(method, True)}, $\\epsilon_B$ = {eff:g}: "
                                  f"$\\chi^2$/ndf = {stat['chi2_ndf']:.2f}")
        ax.axvspan(*sr, color="gray", alpha=0.15, lw=0, label="signal region")
        ax.axhline(1.0, color="gray", ls=":", lw=1)
        ax.set_xlabel(r"$m_{jj}$ [TeV]")
        ax.set_title(panel_title, fontsize="small", loc="left")
        ax.legend(fontsize="xx-small", loc="upper left")
    axes[0][0].set_ylabel(r"selected / ($\epsilon_B$ $\times$ inclusive)")
    low, high = axes[0][0].get_ylim()
    axes[0][0].set_ylim(min(low, 0.5), max(high, 1.5) * 1.3)
    if title:
        fig.suptitle(title, fontsize="small")
    fig.tight_layout()
    return fig
