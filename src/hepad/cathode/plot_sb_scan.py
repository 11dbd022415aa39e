"""Max SIC against the injected S/B, per method: median and 16-84 % band over seeds and runs."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from hepad.cathode.plot_sic import group_by_method
from hepad.plots.style import FAMILY_LINESTYLES, MODE_COLORS, SB_LABEL, method_label, split_method


def scan_points(records: list[dict]) -> dict[int, tuple[float, float]]:
    """Per injection nsig: median S/B and S/sqrt(B) over the prepared sets (seeds) behind ``records``."""
    per = defaultdict(dict)
    for r in records:
        per[r["nsig"]][(r["dataset"], r["seed"])] = (r["s_over_b"], r["s_over_sqrt_b"])
    return {nsig: (float(np.median([v[0] for v in d.values()])), float(np.median([v[1] for v in d.values()])))
            for nsig, d in sorted(per.items())}


def scan_table(records: list[dict]) -> dict[str, list[dict]]:
    """Per method, per injection: S/B and the median / 16 % / 84 % of max SIC (NaN runs count as 0: a
    method with no usable SIC point found nothing)."""
    points = scan_points(records)
    table = {}
    for method, recs in group_by_method(records).items():
        rows = []
        for nsig in points:
            vals = np.array([r["max_sic"] if r["max_sic"] is not None else 0.0 for r in recs if r["nsig"] == nsig])
            if len(vals) == 0:
                continue
            q50, q16, q84 = np.percentile(vals, [50, 16, 84])
            rows.append({"nsig": nsig, "s_over_b": points[nsig][0], "s_over_sqrt_b": points[nsig][1],
                         "median": float(q50), "q16": float(q16), "q84": float(q84), "n": int(len(vals))})
        table[method] = rows
    return table


def plot_sb_scan(records: list[dict], title: str = ""):
    import matplotlib.pyplot as plt

    table = scan_table(records)
    families = {split_method(m)[1] for m in table if split_method(m)[1]}
    fig, ax = plt.subplots(figsize=(10, 8))
    for method, rows in table.items():
        mode, family = split_method(method)
        x = np.array([100 * r["s_over_b"] for r in rows])
        order = np.argsort(x)
        med = np.array([r["median"] for r in rows])[order]
        lo = np.array([r["q16"] for r in rows])[order]
        hi = np.array([r["q84"] for r in rows])[order]
        color = MODE_COLORS.get(mode)
        ax.plot(x[order], med, marker="o", color=color, linestyle=FAMILY_LINESTYLES.get(family, "-"), lw=2,
                label=method_label(method, len(families) > 1))
        ax.fill_between(x[order], lo, hi, color=color, alpha=0.2, lw=0)
    ax.axhline(1.0, color="gray", linestyle=":", lw=1.5, label="no improvement (SIC = 1)")
    points = scan_points(records)
    ax.set_xlabel(SB_LABEL)
    ax.set_ylabel(r"max SIC")
    top = max([r["q84"] for rows in table.values() for r in rows] + [1.0])
    ax.set_xlim(0, 1.1 * max(100 * v[0] for v in points.values()))
    ax.set_ylim(0, 1.6 * top)  # room for the legend above the points
    # Top axis: S/sqrt(B) of each scan point, so both figures of the injection can be read off.
    sec = ax.secondary_xaxis("top")
    sec.set_xticks([100 * v[0] for v in points.values()])
    sec.set_xticklabels([f"{v[1]:.1f}" for v in points.values()], fontsize="x-small")
    sec.set_xlabel(r"S/$\sqrt{B}$", fontsize="small")
    n_seeds = max(len({r["seed"] for r in records if r["nsig"] == n}) for n in points)
    n_runs = max(len({r["run"] for r in records if r["method"] == m}) for m in table)
    ax.legend(title=f"median, band 16-84 % over {n_seeds} seed{'s' * (n_seeds > 1)} x up to {n_runs} "
              f"run{'s' * (n_runs > 1)}", fontsize="x-small", title_fontsize="x-small", loc="upper left", ncol=2)
    if title:
        ax.set_title(title, fontsize="small", loc="left", pad=32)
    fig.tight_layout()
    return fig
