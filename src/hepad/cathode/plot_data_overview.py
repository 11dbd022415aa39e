"""The data-overview figure: what went into the analysis (mjj, jet masses, tau21; SR marked)."""

from __future__ import annotations

import numpy as np

from hepad.cathode.prepared import COLUMNS

BACKGROUND_STYLE = {"color": "tab:blue", "label": "background (QCD)"}
SIGNAL_STYLE = {"color": "tab:red", "label": "signal"}
EXTRA_STYLE = {"color": "tab:gray", "label": "extra background (SR only)", "linestyle": "--"}


def _hist(ax, values, bins, style):
    if len(values):
        ax.hist(values, bins=bins, histtype="step", density=True, linewidth=1.5, **style)


def plot_data_overview(features: np.ndarray, extra_bkg: np.ndarray, sr: tuple[float, float], title: str):
    """Return a matplotlib figure of the prepared-column arrays (``COLUMNS``) of the main and extra files."""
    import matplotlib.pyplot as plt

    col = {name: i for i, name in enumerate(COLUMNS)}
    bkg, sig = features[features[:, col["label"]] == 0], features[features[:, col["label"]] == 1]
    fig, axes = plt.subplots(2, 3, figsize=(21, 12.5), constrained_layout=True)

    # mjj on a log scale: the QCD spectrum falls smoothly, the signal peaks near the W' mass.
    ax = axes[0, 0]
    lo = min(np.quantile(features[:, 0], 0.001), sr[0] - 0.5)
    hi = max(np.quantile(features[:, 0], 0.999), sr[1] + 0.5)
    bins = np.linspace(lo, hi, 81)
    for rows, style in ((bkg, BACKGROUND_STYLE), (sig, SIGNAL_STYLE), (extra_bkg, EXTRA_STYLE)):
        _hist(ax, rows[:, 0], bins, style)
    ax.set_yscale("log")
    ax.set_xlabel(r"$m_{jj}$ [TeV]")
    ax.set_ylabel(r"$1/N\; dN/dm_{jj}$ [1/TeV]")

    per_gev, per_unit = r"$1/N\; dN/dm$ [1/GeV]", r"$1/N\; dN/d\tau_{21}$"
    panels = [
        (axes[0, 1], col["mj1"], 1000.0, np.linspace(0, 1000, 81), r"lighter jet mass $m_{j_1}$ [GeV]", per_gev),
        (axes[0, 2], None, 1000.0, np.linspace(0, 1000, 81), r"heavier jet mass $m_{j_2}$ [GeV]", per_gev),
        (axes[1, 0], col["dmj"], 1000.0, np.linspace(0, 1000, 81), r"$\Delta m = m_{j_2} - m_{j_1}$ [GeV]", per_gev),
        (axes[1, 1], col["tau21j1"], 1.0, np.linspace(0, 1.2, 61), r"$\tau_{21}$ of the lighter jet", per_unit),
        (axes[1, 2], col["tau21j2"], 1.0, np.linspace(0, 1.2, 61), r"$\tau_{21}$ of the heavier jet", per_unit),
    ]
    for ax, index, scale, bins, label, ylabel in panels:
        for rows, style in ((bkg, BACKGROUND_STYLE), (sig, SIGNAL_STYLE)):
            values = rows[:, col["mj1"]] + rows[:, col["dmj"]] if index is None else rows[:, index]
            _hist(ax, values * scale, bins, style)
        ax.set_xlabel(label)
        ax.set_ylabel(ylabel)

    # Mark the signal region where the classifiers look.
    axes[0, 0].axvspan(*sr, color="gold", alpha=0.25, label=f"SR {sr[0]:g}-{sr[1]:g} TeV")
    axes[0, 0].set_ylim(top=axes[0, 0].get_ylim()[1] * 30)  # room for the legend above the curves
    axes[0, 0].legend(fontsize="x-small", loc="upper right")
    axes[0, 1].legend(fontsize="small", loc="upper right")
    n_sr = int(((bkg[:, 0] > sr[0]) & (bkg[:, 0] < sr[1])).sum())
    fig.suptitle(f"{title}\n{len(bkg)} background (of which {n_sr} in the SR), {len(sig)} signal, "
                 f"{len(extra_bkg)} extra SR background events")
    return fig
