"""QUAK plots: the 2-d QUAK space with the selection box, and ROC + SIC of the prior combinations."""

from __future__ import annotations

import numpy as np

from hepad.plots.style import EFF_LABEL, SIC_LABEL

COMBO_COLORS = ["black", "tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown"]


def pretty(name: str) -> str:
    """Readable sample name: wprime_3500_500_100 -> W' (3500, 500, 100) 2-prong."""
    if name.startswith("wprime"):
        kind, *masses = name.split("_")
        prongs = "3-prong" if kind == "wprime3p" else "2-prong"
        return f"W' ({', '.join(masses)}) GeV {prongs}"
    if name.startswith("digit"):
        return f"digit {name[5:]}"
    return name


def combo_order(metrics: dict) -> list:
    """Combinations in reading order (background alone, with each signal prior, all): JSON sorts keys."""
    from hepad.quak.space import combinations

    return list(combinations(metrics["axes"][1:]))


def combo_label(combo: str) -> str:
    if combo == "background":
        return "background prior only"
    if combo == "all":
        return "all priors"
    return "background + " + pretty(combo.split("+", 1)[1])


def _smooth(h, passes: int = 2):
    """Separable [1, 2, 1]/4 smoothing of a 2-d histogram (edges padded with zeros), ``passes`` times."""
    for _ in range(passes):
        for axis in (0, 1):
            p = np.pad(h, [(1, 1) if a == axis else (0, 0) for a in (0, 1)])
            lo, mid, hi = (np.take(p, np.arange(k, k + h.shape[axis]), axis=axis) for k in (0, 1, 2))
            h = 0.25 * lo + 0.5 * mid + 0.25 * hi
    return h


def plot_space(ax, bkg, sig, box=None, labels=("background", "signal"), axis_names=("x", "y"), bins=50):
    """Background as a grey 2-d density (log colour), the signal as coloured density contours, the box."""
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    both = np.r_[bkg, sig]
    lo = np.quantile(both, 0.002, axis=0)
    hi = np.quantile(both, 0.998, axis=0)
    edges = [np.linspace(lo[a], hi[a], bins + 1) for a in range(2)]
    hb, _, _ = np.histogram2d(bkg[:, 0], bkg[:, 1], bins=edges, density=True)
    hs, _, _ = np.histogram2d(sig[:, 0], sig[:, 1], bins=edges, density=True)
    hs = _smooth(hs)  # contours of a few thousand events: smooth the bin-to-bin noise
    mesh = ax.pcolormesh(edges[0], edges[1], np.ma.masked_equal(hb.T, 0), cmap="Greys",
                         norm=LogNorm(), rasterized=True)
    centres = [0.5 * (e[1:] + e[:-1]) for e in edges]
    positive = hs[hs > 0]
    if len(positive) > 3:
        levels = np.unique(np.quantile(positive, [0.5, 0.75, 0.9, 0.97]))
        ax.contour(centres[0], centres[1], hs.T, levels=levels, colors="tab:red", linewidths=1.2)
    ax.plot([], [], color="tab:red", label=labels[1] + " (density contours)")
    ax.plot([], [], color="grey", lw=6, label=labels[0] + " (density)")
    if box is not None:
        x0 = max(box["bkg_min"], lo[0])
        y1 = min(box["sig_max"][0], hi[1])
        ax.add_patch(Rectangle((x0, lo[1]), hi[0] - x0, y1 - lo[1], fill=False, ec="tab:blue", lw=2,
                               label="selection (working point)"))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    return mesh


def plot_roc_sic(ax_roc, ax_sic, curves: dict, summary: dict, min_bkg: int, n_bkg: int, kind: str = "hull"):
    """ROC (1/FPR vs TPR, log) and SIC of each combination of one signal; AUC and max SIC in the legend."""
    for k, (combo, c) in enumerate(curves.items()):
        fpr, tpr = (np.asarray(v) for v in c[kind])
        color = COMBO_COLORS[k % len(COMBO_COLORS)]
        s = summary[combo][kind]
        ok = (fpr > 0) & (fpr * n_bkg >= min_bkg - 1e-9)
        label = f"{combo_label(combo)}: AUC {s['auc']:.3f}"
        ax_roc.plot(tpr[fpr > 0], 1.0 / fpr[fpr > 0], color=color, label=label)
        msic = s["max_sic"]
        ax_sic.plot(tpr[ok], tpr[ok] / np.sqrt(fpr[ok]), color=color,
                    label=f"{combo_label(combo)}: max SIC {msic:.2f}" if msic is not None else combo_label(combo))
    ax_roc.plot([0, 1], [1, 1], alpha=0)
    grid = np.linspace(0.01, 1, 100)
    ax_roc.plot(grid, 1 / grid, color="grey", ls=":", label="random")
    ax_roc.set_yscale("log")
    ax_roc.set_xlabel(EFF_LABEL)
    ax_roc.set_ylabel(r"background rejection $1/\epsilon_B$")
    ax_sic.axhline(1.0, color="grey", ls=":")
    ax_sic.set_xlabel(EFF_LABEL)
    ax_sic.set_ylabel(SIC_LABEL)
    ax_roc.set_xlim(0, 1)
    ax_sic.set_xlim(0, 1)
    ax_roc.legend(fontsize="x-small", loc="upper right")
    ax_sic.legend(fontsize="x-small", loc="upper right")


def read_space(path, group: str = "curves") -> tuple[dict, dict]:
    """(losses {sample: {split: array}}, curves {signal: {combo: {kind: (fpr, tpr)}}}) of a quak_space file;
    ``group="curves_in_window"``: the curves of the held-out signals inside their evaluation windows."""
    import h5py

    losses, curves = {}, {}
    with h5py.File(path, "r") as f:
        for sample in f["losses"]:
            losses[sample] = {split: f["losses"][sample][split][()] for split in f["losses"][sample]}
        for signal in f.get(group, {}):
            curves[signal] = {}
            for combo in f[group][signal]:
                curves[signal][combo] = {kind: tuple(f[group][signal][combo][kind][()])
                                         for kind in f[group][signal][combo]}
    return losses, curves


def window_text(window: dict) -> str:
    """'450 < m_j1 < 550 GeV, ...' of an evaluation window."""
    parts = []
    for key, unit in (("mj1", "GeV"), ("mj2", "GeV"), ("mjj", "TeV")):
        if key in window:
            lo, hi = window[key]
            name = {"mj1": "$m_{j1}$", "mj2": "$m_{j2}$", "mjj": "$m_{jj}$"}[key]
            parts.append(f"{lo:g} < {name} < {hi:g} {unit}")
    return ", ".join(parts)


def roc_figure(metrics: dict, curves: dict, kind: str = "hull", title: str = "", curves_in_window: dict | None = None):
    """One row per held-out signal: ROC (rejection vs efficiency) and SIC of every prior combination; a
    second row for a signal with an evaluation window (``quak.signal_windows``): its events inside it."""
    import matplotlib.pyplot as plt

    rows = []
    for signal in metrics["signals"]:
        rows.append((signal, curves[signal], metrics["results"][signal], ""))
        windowed = metrics.get("results_in_window", {})
        if curves_in_window and signal in curves_in_window and signal in windowed:
            text = window_text(metrics["signal_windows"][signal])
            rows.append((signal, curves_in_window[signal], windowed[signal], f", in window {text}"))
        elif signal in metrics.get("signal_windows", {}):
            rows[-1] = rows[-1][:3] + (", all events (too few in its window)",)
        elif metrics.get("signal_windows"):
            rows[-1] = rows[-1][:3] + (", all events",)
    fig, axes = plt.subplots(len(rows), 2, figsize=(20, 8.5 * len(rows)), squeeze=False)
    what = "best box cuts chosen on calibration, counted on test" if kind == "hull" else "nested selection fixed on background"
    for row, (signal, sig_curves, results, where) in enumerate(rows):
        ordered = {c: sig_curves[c] for c in combo_order(metrics) if c in sig_curves}
        plot_roc_sic(axes[row, 0], axes[row, 1], ordered, results, metrics["min_bkg_events"],
                     metrics["n_background_test"], kind)
        axes[row, 0].set_title(f"{title}held-out {pretty(signal)}{where}\n({what})", fontsize="small", loc="left")
    fig.tight_layout()
    return fig


def space_figure(losses: dict, metrics: dict, y_prior: str, combo: str | None = None, title: str = ""):
    """One panel per held-out signal: background-prior loss vs ``y_prior`` loss, test events, with the
    working-point selection of the background + ``y_prior`` combination."""
    import matplotlib.pyplot as plt

    axes_names = metrics["axes"]
    if y_prior not in axes_names[1:]:
        raise ValueError(f"{y_prior!r} is not a signal prior of this QUAK space ({axes_names[1:]})")
    j = axes_names.index(y_prior)
    combo = combo or f"background+{y_prior}"
    signals = metrics["signals"]
    fig, axs = plt.subplots(1, len(signals), figsize=(10.5 * len(signals), 9.5), squeeze=False)
    unit = r" $-\log p$" if metrics.get("family") == "flow" else ""
    for ax, signal in zip(axs[0], signals):
        bkg = losses["background"]["test"][:, [0, j]]
        sig = losses[signal]["test"][:, [0, j]]
        box = metrics["results"][signal][combo]["working_point"]["box"]
        plot_space(ax, bkg, sig, box, labels=("background", pretty(signal)),
                   axis_names=(f"background-prior loss{unit}", f"{pretty(y_prior)} prior loss{unit}"))
        wp = metrics["results"][signal][combo]["working_point"]
        ax.set_title(f"{title}working point: $\\epsilon_B$ = {wp['bkg_eff_test']:.3g}, "
                     f"$\\epsilon_S$ = {wp['sig_eff_test']:.3g}", fontsize="small", loc="left")
        ax.legend(fontsize="x-small", loc="best", framealpha=0.8)
    fig.tight_layout()
    return fig
