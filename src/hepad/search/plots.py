"""Figures of the bump hunt (docs/search.md), in the mplhep style of hepad.plots.style.

- :func:`plot_bumphunt`: per window the selected mjj spectrum at every threshold with its background
  estimate and band, and a last panel with the local significance per window and threshold;
- :func:`plot_significance_vs_injection`: the maximum local (and the global) significance against the
  injected S/B, median and 16–84 % band over seeds, per method.
"""

from __future__ import annotations

import math

import numpy as np

from hepad.plots.style import MODE_COLORS, MODE_LABELS, use_style

__all__ = ["plot_bumphunt", "plot_local_significance", "plot_significance_vs_injection", "global_statement"]

_EFF_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]


def _eff_label(eff: float) -> str:
    return rf"$\epsilon_B$ = {eff:g}"


def plot_local_significance(ax, record: dict) -> None:
    """Local Z per window (x: window centre) and threshold (one line per background efficiency)."""
    centres = [0.5 * (w["low"] + w["high"]) for w in record["windows"]]
    for j, eff in enumerate(record["efficiencies"]):
        z = [w["thresholds"][j].get("z", np.nan) for w in record["windows"]]
        ax.plot(centres, z, "o-", color=_EFF_COLORS[j % len(_EFF_COLORS)], label=_eff_label(eff))
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(r"window centre $m_{jj}$ [TeV]")
    ax.set_ylabel("local significance Z")
    ax.legend(fontsize="x-small")


def global_statement(glob: dict, what: str) -> str:
    """"global (count toys, n = 100): Z = ..., p = ...", or that too few exist to quote it and the bound."""
    head = f"global ({what}, n = {glob['n_toys']})"
    if glob["p_value"] is None:
        return f"{head}: too few to quote; Z > {glob['resolvable_z']:.2f}"
    return f"{head}: Z = {glob['z']:.2f}, p = {glob['p_value']:.3g}"


def plot_bumphunt(record: dict, title: str = ""):
    """The bump-hunt figure of one significance record (the JSON of search_significance)."""
    use_style()
    import matplotlib.pyplot as plt

    windows = record["windows"]
    n_panels = len(windows) + 1
    cols = min(3, n_panels)
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 5.5 * rows), squeeze=False)
    axes = axes.ravel()
    for ax, window in zip(axes, windows):
        for j, row in enumerate(window["thresholds"]):
            color = _EFF_COLORS[j % len(_EFF_COLORS)]
            hist = row.get("hist")
            if not hist:
                continue
            edges = np.array(hist["edges"])
            centres = 0.5 * (edges[1:] + edges[:-1])
            data, bkg, err = (np.array(hist[k], float) for k in ("data", "background", "error"))
            band = np.sqrt(err**2 + (record["delta_sys"] * bkg) ** 2)
            ax.stairs(bkg, edges, color=color, lw=1.2)
            ax.stairs(bkg + band, edges, baseline=np.clip(bkg - band, 0, None), fill=True, color=color, alpha=0.25)
            ax.errorbar(centres, data, yerr=np.sqrt(data), fmt="o", ms=3, color=color,
                        label=f"{_eff_label(row['efficiency'])}: N = {row['n_observed']}, b = {row['b']:.1f}, "
                              f"Z = {row.get('z', 0):.1f}")
        ax.axvspan(window["low"], window["high"], color="grey", alpha=0.12)
        ax.set_yscale("log")
        ax.set_ylim(top=ax.get_ylim()[1] * 10)  # room for the legend above the spectrum
        ax.set_xlabel(r"$m_{jj}$ [TeV]")
        ax.set_ylabel("selected events / bin")
        ax.set_title(f"window {window['low']:.2f}-{window['high']:.2f} TeV", fontsize="small")
        ax.legend(fontsize="xx-small", loc="upper right")
    plot_local_significance(axes[len(windows)], record)
    text = f"max local Z = {record['max_local']['z']:.2f}, δ_sys = {record['delta_sys']:.3g}\n"
    expected = record["global"].get("toy_max_local_z_16_50_84")
    if expected:  # what the look-elsewhere effect alone gives (count toys without signal)
        text += f"background only: max local Z {expected[1]:.2f} [{expected[0]:.2f}-{expected[2]:.2f}]\n"
    text += "\n".join(
        global_statement(record[key], what) for key, what in (("global", "count toys"),
                                                              ("global_reruns", "reruns"))
        if key in record)
    axes[len(windows)].set_title(text, fontsize="x-small")
    for ax in axes[n_panels:]:
        ax.axis("off")
    label = MODE_LABELS.get(record["technique"], record["technique"])
    fig.suptitle(f"{label} bump hunt{': ' + title if title else ''}", fontsize="medium")
    fig.tight_layout()
    return fig


def plot_significance_vs_injection(records: list[dict], title: str = ""):
    """Max local Z (solid) and global Z (dashed, where the toys resolve it; open triangles: the bound it
    lies above where they do not) against the injected S/B [%]: median over seeds with the 16–84 % band,
    one colour per method; dotted: the max local Z the count toys give without signal (look-elsewhere)."""
    use_style()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 7))
    # Grouped by the injection (nsig): the seeds of one injection draw other signal events, so their S/B
    # differ a little; the point sits at their median S/B.
    by_method: dict[str, dict[int, list[tuple[float, float, float, float]]]] = {}
    for rec in records:
        points = by_method.setdefault(rec["technique"], {})
        glob = rec["global"]
        points.setdefault(rec["nsig"], []).append(
            (rec["max_local"]["z"], np.nan if glob["z"] is None else glob["z"],
             glob["resolvable_z"] if glob["z"] is None else np.nan, 100 * rec["injected"]["s_over_b"]))
    for method, by_nsig in sorted(by_method.items()):
        s_over_b = {nsig: float(np.median([p[3] for p in runs])) for nsig, runs in by_nsig.items()}
        order = sorted(by_nsig, key=s_over_b.get)
        xs = np.array([s_over_b[nsig] for nsig in order])
        runs = [by_nsig[nsig] for nsig in order]
        local = [np.array([p[0] for p in r]) for r in runs]
        glob = [np.array([p[1] for p in r]) for r in runs]
        color = MODE_COLORS.get(method, None)
        med = np.array([np.median(v) for v in local])
        lo, hi = np.array([np.quantile(v, 0.16) for v in local]), np.array([np.quantile(v, 0.84) for v in local])
        ax.plot(xs, med, "o-", color=color, label=f"{MODE_LABELS.get(method, method)}: max local Z")
        ax.fill_between(xs, lo, hi, color=color, alpha=0.25)
        gmed = np.array([np.nanmedian(v) if np.isfinite(v).any() else np.nan for v in glob])
        if np.isfinite(gmed).any():
            ax.plot(xs, gmed, "s--", color=color, label=f"{MODE_LABELS.get(method, method)}: global Z")
        # toys that cannot resolve the global Z: its lower bound, Φ⁻¹(1 − 1/n_toys)
        bound = np.array([np.nanmax([p[2] for p in r]) if all(np.isnan([p[1] for p in r])) else np.nan
                          for r in runs])
        if np.isfinite(bound).any():
            ax.plot(xs, bound, "^", color=color, mfc="none",
                    label=f"{MODE_LABELS.get(method, method)}: global Z >, too few toys")
    # The look-elsewhere expectation: the median over records of the count toys' median max local Z
    # without signal, per method (records written before it was stored have none).
    for method in sorted(by_method):
        expected = [rec["global"]["toy_max_local_z_16_50_84"][1] for rec in records
                    if rec["technique"] == method and rec["global"].get("toy_max_local_z_16_50_84")]
        if expected:
            ax.axhline(np.median(expected), color=MODE_COLORS.get(method, None), ls=":", lw=1.2,
                       label=f"{MODE_LABELS.get(method, method)}: max local Z expected without signal")
    ax.set_xlabel(r"injected S/B in the signal window [%]")
    ax.set_ylabel("significance Z")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]), top=ax.get_ylim()[1] * 1.6)  # room for the legend
    ax.legend(fontsize="x-small", loc="upper left")
    if title:
        ax.set_title(title, fontsize="small")
    fig.tight_layout()
    return fig
