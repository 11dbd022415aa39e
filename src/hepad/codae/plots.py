"""ROC curves of the CoDAE study: one panel per signal process, the main scores of each auto-encoder and the
baselines (every score is in the metrics table)."""

from __future__ import annotations

import numpy as np

from hepad.codae.data import signal_processes, signal_title
from hepad.metrics.sic import auc, roc_curve
from hepad.plots.style import save_figure, use_style

# Score kinds (colour, label) and models (line style, label). Score names are "<model>_<kind>" or a baseline.
KIND_STYLES = {
    "bce": ("tab:red", "BCE"),
    "mse": ("tab:orange", "MSE"),
    "dice": ("tab:olive", "Dice"),
    "energy_diff": ("tab:brown", r"$\Delta E$ (hits $-$ expected)"),
    "zm1": ("tab:blue", r"$Z_{m,1}$"),
    "zm2": ("tab:cyan", r"$Z_{m,2}$"),
    "zm_dist": ("tab:purple", r"$|Z_m|$ (Mahalanobis)"),
    "kl": ("tab:pink", r"KL($Z$)"),
}
MODEL_STYLES = {"codae": ("-", "CoDAE"), "codvae": ("-.", "CoDVAE"), "gaussian_vae": ((0, (5, 1)), "Gaussian VAE"),
                "conv_ae": ("--", "conv. AE")}
BASELINE_STYLES = {
    "ntracks": ("number of tracks", "black", "--"),
    "track_pt_sum": (r"track $\sum p_T$", "dimgrey", "--"),
    "cnn": ("supervised CNN", "grey", ":"),
}
# Drawn by default: with two auto-encoders every score would put 23 curves in a panel; the metrics table
# holds them all. MSE follows BCE within 0.01 and Z_m,1 and Z_m,2 are carried by the Mahalanobis distance.
PLOTTED_KINDS = ("bce", "energy_diff", "zm_dist", "kl")


def score_style(name: str) -> tuple[str, str | None, object]:
    """(legend label, colour, line style) of a score name."""
    if name in BASELINE_STYLES:
        return BASELINE_STYLES[name]
    for model, (style, model_label) in MODEL_STYLES.items():
        kind = name[len(model) + 1:] if name.startswith(model + "_") else None
        if kind in KIND_STYLES:
            colour, kind_label = KIND_STYLES[kind]
            return f"{model_label} {kind_label}", colour, style
    return name, None, (0, (3, 1, 1, 1))


def plotted_scores(names) -> list[str]:
    """The baselines, then per model (in MODEL_STYLES order) the kinds of PLOTTED_KINDS that exist."""
    out = [n for n in ("ntracks", "track_pt_sum") if n in names]
    for model in MODEL_STYLES:
        out += [f"{model}_{k}" for k in PLOTTED_KINDS if f"{model}_{k}" in names]
    return out + [n for n in ("cnn",) if n in names]


def plot_rocs(scores: dict, events: dict, outputs, tpr_mark: float = 0.4) -> list[str]:
    """Background efficiency against signal efficiency (log scale) per signal process; AUC in the legend."""
    use_style()
    import matplotlib.pyplot as plt

    label = np.asarray(events["label"])
    process, signals = signal_processes(events)
    names = plotted_scores(scores)
    ncols = min(3, len(signals))  # three panels a row: the nine published signals make 3 x 3
    nrows = -(-len(signals) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.5 * ncols, 7.5 * nrows), squeeze=False)
    for ax in axes.flat[len(signals):]:
        ax.set_visible(False)
    for ax, signal in zip(axes.flat, signals):
        sel = (label == 0) | (process == signal)
        n_bkg = int((label[sel] == 0).sum())
        for name in names:
            text, colour, style = score_style(name)
            fpr, tpr, _ = roc_curve(scores[name][sel], label[sel])
            keep = fpr > 0
            ax.plot(tpr[keep], fpr[keep], color=colour, ls=style, lw=1.6,
                    label=f"{text} (AUC {auc(scores[name][sel], label[sel]):.3f})")
        grid = np.linspace(1.0 / n_bkg, 1, 200)
        ax.plot(grid, grid, color="lightgrey", lw=1, label="random")
        ax.axvline(tpr_mark, color="lightgrey", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_ylim(0.5 / n_bkg, 1.0)
        ax.set_xlim(0, 1)
        ax.set_xlabel(r"signal efficiency $\epsilon_S$")
        ax.set_ylabel(r"background efficiency $\epsilon_B$")
        ax.set_title(f"{signal_title(signal)} ({int((label[sel] == 1).sum())} S, {n_bkg} QCD)", fontsize=16)
        ax.legend(fontsize=9, loc="lower right", ncol=1, framealpha=0.8)
    fig.tight_layout()
    written = save_figure(fig, outputs)
    plt.close(fig)
    return written
