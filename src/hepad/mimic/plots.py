"""Plots of the mimicker study: ADO against round, AUC per signal against round, the chosen EFP graphs."""

from __future__ import annotations

import numpy as np

from hepad.plots.style import save_figure, use_style

KIND_LABELS = {"hln": "High-Level Network", "pnn": "Paired Neural Network"}
KIND_COLORS = {"hln": "tab:blue", "pnn": "tab:red"}
PAPER_ADO = 0.83


def short_name(name: str) -> str:
    """'efp_n3_d4_k2' -> 'EFP(3,4,2)' (vertices, edges, index); m, pT and the image observables as symbols."""
    symbols = {"m": "$m$", "pt": r"$p_T$", "sum_p2": r"$\sum_i p_i^2$", "n_pixels": r"$N_\mathrm{pix}$"}
    if name in symbols:
        return symbols[name]
    if name.startswith("efp_"):
        parts = name[4:].split("_")
        n, d, k = (p[1:] for p in parts[:3])
        return f"EFP({n},{d},{k})" + (f"'{parts[3]}" if len(parts) > 3 else "")
    return name


def summary_table(selections: dict) -> dict:
    """Final ADO and AUC per signal for the auto-encoder and each mimicker (last round)."""
    out = {"autoencoder_auc": next(iter(selections.values()))["autoencoder_auc"]}
    for kind, sel in selections.items():
        last = sel["rounds"][-1]
        out[kind] = {"ado_test": last["ado_test"], "auc": last["auc"], "features": last["features"],
                     "ado_round0": sel["rounds"][0]["ado_test"], "final_round": last["round"]}
        if "stopped" in sel:
            out[kind]["stopped"] = {k: sel["stopped"][k] for k in ("round", "added", "ado_select") if k in sel["stopped"]}
        ae = out["autoencoder_auc"]
        out[kind]["signals_matched_or_beaten"] = sorted(s for s in ae if last["auc"][s] >= ae[s] - 0.005)
        # the goal: within 0.01 of the AE's AUC, or above it
        out[kind]["signals_within_0.01"] = sorted(s for s in ae if last["auc"][s] >= ae[s] - 0.01)
    return out


def plot_ado(selections: dict, outputs) -> list[str]:
    use_style()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 8))
    for j, (kind, sel) in enumerate(selections.items()):
        rounds = [r["round"] for r in sel["rounds"]]
        ados = [r["ado_test"] for r in sel["rounds"]]
        ax.plot(rounds, ados, "o-", color=KIND_COLORS.get(kind), label=KIND_LABELS.get(kind, kind))
        for r in sel["rounds"][1:]:
            # the observable added before this round's training, written next to its point
            ax.annotate(short_name(r["features"][-1]), (r["round"], r["ado_test"]), rotation=60, fontsize=9,
                        color=KIND_COLORS.get(kind), xytext=(3, 6 if j == 0 else -14), textcoords="offset points",
                        ha="left", va="bottom" if j == 0 else "top")
    ax.axhline(PAPER_ADO, color="grey", ls="--", lw=1, label=f"paper's agreement ({PAPER_ADO})")
    ax.set_xlabel("round (observables added to $m$, $p_T$)")
    ax.set_ylabel("ADO with the auto-encoder")
    first = next(iter(selections.values()))
    ax.set_title(f"background test set: {first['n_test']} jets", fontsize=14, loc="right")
    ax.legend(loc="lower right", fontsize=13)
    lo = min(min(r["ado_test"] for r in s["rounds"]) for s in selections.values())
    ax.set_ylim(min(lo - 0.03, 0.8), 1.0)
    ax.set_xticks(range(0, max(len(s["rounds"]) for s in selections.values())))
    fig.tight_layout()
    written = save_figure(fig, outputs)
    plt.close(fig)
    return written


def plot_auc(selections: dict, outputs) -> list[str]:
    use_style()
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    first = next(iter(selections.values()))
    signals = list(first["autoencoder_auc"])
    ncol = min(4, len(signals))
    nrow = int(np.ceil(len(signals) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.5 * ncol, 4 * nrow), squeeze=False, sharex=True)
    for ax, sig in zip(axes.flat, signals):
        for kind, sel in selections.items():
            ax.plot([r["round"] for r in sel["rounds"]], [r["auc"][sig] for r in sel["rounds"]], "o-", ms=3,
                    color=KIND_COLORS.get(kind), label=kind.upper())
        ax.axhline(first["autoencoder_auc"][sig], color="black", ls="--", lw=1.2, label="auto-encoder")
        ax.set_title(sig, fontsize=13)
        ax.tick_params(labelsize=10)
        ax.set_ylabel("AUC", fontsize=12)
        ax.set_xlabel("round", fontsize=12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(signals):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=10)
    fig.tight_layout()
    written = save_figure(fig, outputs)
    plt.close(fig)
    return written


def draw_multigraph(ax, edges, title=""):
    """A multigraph on a circle of vertices; k parallel edges are drawn as k arcs of different bend."""
    from matplotlib.patches import FancyArrowPatch

    n = 1 + max(max(e) for e in edges) if edges else 1
    angle = np.pi / 2 + 2 * np.pi * np.arange(n) / n
    pos = np.column_stack([np.cos(angle), np.sin(angle)]) if n > 1 else np.zeros((1, 2))
    counts: dict = {}
    for e in edges:
        key = tuple(sorted(e))
        counts[key] = counts.get(key, 0) + 1
    for (i, j), k in counts.items():
        bends = np.linspace(-0.25 * (k - 1), 0.25 * (k - 1), k) if k > 1 else [0.0]
        for b in bends:
            ax.add_patch(FancyArrowPatch(pos[i], pos[j], connectionstyle=f"arc3,rad={b}", arrowstyle="-",
                                         lw=1.5, color="black"))
    ax.scatter(pos[:, 0], pos[:, 1], s=60, color="tab:blue", zorder=3)
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def plot_efps(selections: dict, graphs_by_name: dict, outputs) -> list[str]:
    """Every EFP chosen by any mimicker, in order of first choice, with the rounds that chose it."""
    use_style()
    import matplotlib.pyplot as plt

    chosen: dict = {}
    for kind, sel in selections.items():
        for r in sel["rounds"]:
            if "added" in r and r["added"] in graphs_by_name:
                chosen.setdefault(r["added"], []).append(f"{kind.upper()} {r['round'] + 1}")
    names = list(chosen) or []
    ncol = min(5, max(1, len(names)))
    nrow = max(1, int(np.ceil(len(names) / ncol)))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.8 * ncol, 3.0 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names):
        draw_multigraph(ax, graphs_by_name[name], f"{short_name(name)}\n{', '.join(chosen[name])}")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    if not names:
        axes.flat[0].text(0.5, 0.5, "no EFP chosen", ha="center")
    fig.suptitle("EFPs chosen (mimicker and round)", fontsize=13)
    fig.tight_layout()
    written = save_figure(fig, outputs)
    plt.close(fig)
    return written
