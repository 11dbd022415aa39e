"""SIC curves of several methods: median and 16-84 % band over seeds and runs (per signal efficiency)."""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict

import numpy as np

from hepad.io import InputError

from hepad.plots.style import (EFF_LABEL, MODE_COLORS, SIC_LABEL, FAMILY_LINESTYLES, method_label, method_sort_key,
                               split_method)


def quantile_band(values: np.ndarray, min_fraction: float = 0.5):
    """(median, q16, q84) along axis 0 ignoring NaN; NaN where fewer than ``min_fraction`` of the rows
    are finite (a curve's tail held by one lucky run is not drawn as a band)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    finite = np.isfinite(values).sum(axis=0)
    ok = finite >= max(1, int(np.ceil(min_fraction * values.shape[0])))
    out = np.full((3, values.shape[1]), np.nan)
    if ok.any():
        out[:, ok] = np.nanpercentile(values[:, ok], [50, 16, 84], axis=0)
    return out[0], out[1], out[2]


def load_metrics(paths) -> list[dict]:
    """The metrics JSON files written by evaluate."""
    records = []
    for path in paths:
        try:
            with open(path) as handle:
                records.append(json.load(handle))
        except (OSError, ValueError) as err:
            raise InputError(f"{path}: cannot read metrics ({err}); rerun evaluate")
    if not records:
        raise InputError("no metrics files given")
    return records


def group_by_method(records: list[dict]) -> dict[str, list[dict]]:
    groups = defaultdict(list)
    for rec in records:
        groups[rec["method"]].append(rec)
    return dict(sorted(groups.items(), key=lambda item: method_sort_key(item[0])))


def injection_text(records: list[dict]) -> str:
    """'S/B = 0.61 %, S/sqrt(B) = 2.1' from the prepared sets behind the records (median over seeds)."""
    per_seed = {(r["dataset"], r["nsig"], r["seed"]): (r["s_over_b"], r["s_over_sqrt_b"]) for r in records}
    sb = np.median([v[0] for v in per_seed.values()])
    ssb = np.median([v[1] for v in per_seed.values()])
    return rf"S/B = {100 * sb:.2f} %, S/$\sqrt{{B}}$ = {ssb:.2f}"


def plot_sic(records: list[dict], title: str = ""):
    """Figure of SIC against signal efficiency for every method among ``records`` (evaluate's JSON)."""
    import matplotlib.pyplot as plt

    groups = group_by_method(records)
    families = {split_method(m)[1] for m in groups if split_method(m)[1]}
    fig, ax = plt.subplots(figsize=(10, 8))
    top = 1.0
    for method, recs in groups.items():
        mode, family = split_method(method)
        grid = np.asarray(recs[0]["tpr_grid"])
        curves = np.array([r["sic_grid"] for r in recs], dtype=float)
        med, lo, hi = quantile_band(curves)
        best = np.array([r["max_sic"] if r["max_sic"] is not None else np.nan for r in recs])
        n_seeds = len({r["seed"] for r in recs})
        n_runs = len(recs) // max(n_seeds, 1)
        label = (f"{method_label(method, len(families) > 1)}: max SIC {np.nanmedian(best):.1f}"
                 f" [{np.nanpercentile(best, 16):.1f}, {np.nanpercentile(best, 84):.1f}]"
                 f" ({n_seeds} seed{'s' * (n_seeds > 1)} x {n_runs} run{'s' * (n_runs > 1)})")
        color = MODE_COLORS.get(mode)
        ax.plot(grid, med, color=color, linestyle=FAMILY_LINESTYLES.get(family, "-"), lw=2, label=label)
        ax.fill_between(grid, lo, hi, color=color, alpha=0.2, lw=0)
        # The max SIC point (median over runs): visible even where the curve is cut at low statistics.
        at = np.array([r["tpr_at_max_sic"] if r["tpr_at_max_sic"] is not None else np.nan for r in recs])
        if np.isfinite(best).any():
            ax.plot(np.nanmedian(at), np.nanmedian(best), marker="*", markersize=14, color=color, lw=0, clip_on=False)
            top = max(top, np.nanpercentile(best, 84))
        if np.isfinite(hi).any():
            top = max(top, np.nanmax(hi))
    eff = np.linspace(0, 1, 101)
    ax.plot(eff, np.sqrt(eff), color="gray", linestyle=":", lw=1.5, label="random classifier")
    ax.set_xlim(0, 1)
    # Room for the legend above the curves: about 6 % of the axes' height per legend line (entries:
    # one per method, the random line and the star; two title lines).
    legend_lines = len(groups) + 4
    ax.set_ylim(0, top / (0.95 - min(0.6, 0.06 * legend_lines)))
    ax.set_xlabel(EFF_LABEL)
    ax.set_ylabel(SIC_LABEL)
    ax.plot([], [], marker="*", markersize=12, color="gray", lw=0, label="max SIC (median)")
    ax.legend(title=injection_text(records) + "\nmedian, band 16-84 %", fontsize="x-small",
              title_fontsize="x-small", loc="best")
    if title:
        # wrapped: the shifted set's title ran past the right edge on one line
        ax.set_title(textwrap.fill(title, 60), fontsize="small", loc="left")
    fig.tight_layout()
    return fig
