"""ROC curves of the CoDAE study: one panel per signal process, every CoDAE score and the baselines."""

from __future__ import annotations

import numpy as np

from hepad.codae.data import signal_processes, signal_title
from hepad.metrics.sic import auc, roc_curve
from hepad.plots.style import save_figure, use_style

# Score name -> (label, colour, line style). CoDAE scores solid, baselines dashed/dotted.
SCORE_STYLES = {
    "codae_bce": ("CoDAE BCE", "tab:red", "-"),
    "codae_mse": ("CoDAE MSE", "tab:orange", "-"),
    "codae_dice": ("CoDAE Dice", "tab:olive", "-"),
    "codae_energy_diff": (r"CoDAE $\Delta E$ (hits $-$ expected)", "tab:brown", "-"),
    "codae_zm1": (r"CoDAE $Z_{m,1}$", "tab:blue", "-"),
    "codae_zm2": (r"CoDAE $Z_{m,2}$", "tab:cyan", "-"),
    "codae_zm_dist": (r"CoDAE $|Z_m|$ (Mahalanobis)", "tab:purple", "-"),
    "codae_kl": (r"CoDAE KL($Z$)", "tab:pink", "-"),
    "ntracks": ("number of tracks", "black", "--"),
    "track_pt_sum": (r"track $\sum p_T$", "dimgrey", "--"),
    "conv_ae_bce": ("conv. AE BCE", "tab:green", "--"),
    "conv_ae_mse": ("conv. AE MSE", "yellowgreen", "--"),
    "conv_ae_dice": ("conv. AE Dice", "darkkhaki", "--"),
    "conv_ae_energy_diff": (r"conv. AE $\Delta E$", "tan", "--"),
    "cnn": ("supervised CNN", "grey", ":"),
}


def plot_rocs(scores: dict, events: dict, outputs, tpr_mark: float = 0.4) -> list[str]:
    """Background efficiency against signal efficiency (log scale) per signal process; AUC in the legend."""
    use_style()
    import matplotlib.pyplot as plt

    label = np.asarray(events["label"])
    process, signals = signal_processes(events)
    names = [n for n in SCORE_STYLES if n in scores] + sorted(n for n in scores if n not in SCORE_STYLES)
    ncols = min(3, len(signals))  # three panels a row: the nine published signals make 3 x 3
    nrows = -(-len(signals) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.5 * ncols, 7.5 * nrows), squeeze=False)
    for ax in axes.flat[len(signals):]:
        ax.set_visible(False)
    for ax, signal in zip(axes.flat, signals):
        sel = (label == 0) | (process == signal)
        n_bkg = int((label[sel] == 0).sum())
        for name in names:
            text, colour, style = SCORE_STYLES.get(name, (name, None, "-."))
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
