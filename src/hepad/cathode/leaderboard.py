"""The leaderboard: every method × density estimator × classifier × feature set at each injection, on the
same prepared sets, seeds and test split (docs/cathode.md, leaderboard).

Its input is one *entry* per run: the run's evaluate JSON (``scripts/evaluate.py``), the template-fidelity
JSON of its prepared set where the method has a template (``hepad.cathode.fidelity``), the Snakemake
benchmark files of the jobs that trained it, and its labels::

    {"dataset": "generated", "features": "lhco4", "flow": "maf", "family": "hgb", "method": "cathode",
     "metrics": ".../evaluate/cathode_hgb_run0.json", "fidelity": ".../evaluate/template_fidelity_hgb.json",
     "benchmarks": [".../train_flow/...sb.tsv", ".../sample_sr/....tsv", ".../train_classifier/....tsv"]}

``flow`` is empty for methods that use no density estimator (CWoLa, IAD, supervised), ``family`` for
those without a classifier (ANODE, R-ANODE). One row per (features, flow, family, method, nsig): the
median and 16–84 % band of max SIC over seeds × runs (a run with no valid SIC point counts as 0, as in the
S/B scan), the medians of SIC at signal efficiencies 0.2 and 0.5 and of the AUC, the median and band of the
template-fidelity AUC over the prepared sets (seeds), and the median CPU time of a run's training: the
``cpu_time`` of its benchmark files summed (a density estimator shared by several methods counts fully in
each of them).
"""

from __future__ import annotations

import csv
import json
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np

from hepad.io import InputError, atomic_output

__all__ = ["CSV_COLUMNS", "read_entries", "read_cpu_seconds", "leaderboard_rows", "write_csv", "read_csv",
           "plot_leaderboard"]

log = logging.getLogger(__name__)

KEY = ["dataset", "features", "flow", "family", "method", "nsig"]
CSV_COLUMNS = KEY + [
    "s_over_b", "s_over_sqrt_b", "n_runs",
    "max_sic", "max_sic_q16", "max_sic_q84", "sic_at_eff_0.2", "sic_at_eff_0.5", "auc",
    "template_auc", "template_auc_q16", "template_auc_q84", "n_templates", "cpu_s",
]


def read_entries(texts: list[str]) -> list[dict]:
    """Entries from their JSON texts (one per run, see the module docstring), with the evaluate JSON read."""
    entries = []
    for text in texts:
        try:
            entry = json.loads(text)
            with open(entry["metrics"]) as handle:
                entry["result"] = json.load(handle)
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"leaderboard entry {text[:200]!r}: {err}")
        except OSError as err:
            raise InputError(f"leaderboard entry: cannot read the metrics file ({err}); rerun evaluate")
        entries.append(entry)
    return entries


def read_cpu_seconds(path) -> float:
    """CPU seconds of a Snakemake benchmark file (``cpu_time``, mean over its repeats); NaN if it is missing."""
    path = Path(path)
    if not path.exists():
        log.warning("%s is missing: the CPU time of this run is unknown", path)
        return float("nan")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    try:
        values = [float(row["cpu_time"]) for row in rows]
    except (KeyError, ValueError) as err:
        raise InputError(f"{path}: not a Snakemake benchmark file with a cpu_time column ({err})")
    return float(np.mean(values)) if values else float("nan")


def _band(values) -> tuple[float, float, float]:
    values = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    q50, q16, q84 = np.percentile(values, [50, 16, 84])
    return float(q50), float(q16), float(q84)


def _median(values) -> float:
    return _band(values)[0]


def leaderboard_rows(entries: list[dict]) -> list[dict]:
    """One row per (dataset, features, flow, family, method, nsig), in the order the entries first name
    them; the columns of ``CSV_COLUMNS``."""
    groups = defaultdict(list)
    for entry in entries:
        key = tuple(entry["result"]["nsig"] if k == "nsig" else (entry.get(k) or "") for k in KEY)
        groups[key].append(entry)
    rows = []
    for key, members in groups.items():
        results = [m["result"] for m in members]
        row = dict(zip(KEY, key))
        sets = {(r["dataset"], r["seed"]): r for r in results}
        row["s_over_b"] = _median([r["s_over_b"] for r in sets.values()])
        row["s_over_sqrt_b"] = _median([r["s_over_sqrt_b"] for r in sets.values()])
        row["n_runs"] = len(results)
        row["max_sic"], row["max_sic_q16"], row["max_sic_q84"] = _band(
            [0.0 if r["max_sic"] is None else r["max_sic"] for r in results])
        for name in ("sic_at_eff_0.2", "sic_at_eff_0.5", "auc"):
            row[name] = _median([r.get(name) for r in results])
        fidelity = {}
        for m in members:
            if m.get("fidelity"):
                try:
                    fidelity[m["fidelity"]] = json.loads(Path(m["fidelity"]).read_text())["auc"]
                except (OSError, ValueError, KeyError) as err:
                    raise InputError(f"{m['fidelity']}: cannot read the template fidelity ({err}); rerun it")
        row["template_auc"], row["template_auc_q16"], row["template_auc_q84"] = _band(list(fidelity.values()))
        row["n_templates"] = len(fidelity)
        row["cpu_s"] = _median([sum(read_cpu_seconds(b) for b in m.get("benchmarks", [])) for m in members])
        rows.append(row)
    return rows


def _format(value) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.6g}"
    return str(value)


def write_csv(rows: list[dict], path) -> None:
    """The rows as CSV with the header ``CSV_COLUMNS``; empty cells where a value does not exist (NaN)."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in rows:
                writer.writerow([_format(row[c]) for c in CSV_COLUMNS])


def read_csv(path) -> list[dict]:
    """The rows of a leaderboard CSV, numbers as floats (NaN for empty cells)."""
    text_columns = {"dataset", "features", "flow", "family", "method"}
    with open(path, newline="") as handle:
        return [{k: (v if k in text_columns else (float(v) if v else float("nan"))) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def row_label(row: dict) -> str:
    """e.g. "CATHODE, MAF, BDT, lhco4"."""
    from hepad.plots.style import FAMILY_LABELS, MODE_LABELS

    parts = [MODE_LABELS.get(row["method"], row["method"])]
    if row["flow"]:
        parts.append(row["flow"].upper())
    if row["family"]:
        parts.append(FAMILY_LABELS.get(row["family"], row["family"]))
    parts.append(row["features"])
    return ", ".join(parts)


def plot_leaderboard(rows: list[dict], title: str = ""):
    """One panel per injection (stacked, highest first): median max SIC with its 16–84 % band per row, best
    at the top, and the row's AUC, template-fidelity AUC and training CPU time written beside it."""
    import matplotlib.pyplot as plt

    from hepad.plots.style import MODE_COLORS

    injections = sorted({int(r["nsig"]) for r in rows}, reverse=True)
    per = {n: sorted([r for r in rows if int(r["nsig"]) == n], key=lambda r: np.nan_to_num(r["max_sic"]))
           for n in injections}
    heights = [1.6 + 0.5 * len(per[n]) for n in injections]
    fig, axes = plt.subplots(len(injections), 1, figsize=(16, sum(heights) + 0.8), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    top = max([np.nan_to_num(r["max_sic_q84"]) for r in rows] + [1.0])
    for ax, nsig in zip(axes[:, 0], injections):
        sub = per[nsig]
        for i, r in enumerate(sub):
            med, lo, hi = (np.nan_to_num(r[k]) for k in ("max_sic", "max_sic_q16", "max_sic_q84"))
            ax.errorbar([med], [i], xerr=[[med - lo], [hi - med]], fmt="o", capsize=4, lw=2, ms=8,
                        color=MODE_COLORS.get(r["method"], "tab:gray"))
            notes = [f"AUC {r['auc']:.3f}"] + [f"SIC({eff}) {r[f'sic_at_eff_{eff}']:.1f}" for eff in (0.2, 0.5)
                                               if not np.isnan(r[f"sic_at_eff_{eff}"])]
            if not np.isnan(r["template_auc"]):
                notes.append(f"template AUC {r['template_auc']:.3f}")
            if not np.isnan(r["cpu_s"]):
                notes.append(f"{r['cpu_s']:.0f} CPU s")
            ax.text(1.02, i, ", ".join(notes), transform=ax.get_yaxis_transform(), fontsize=12, va="center")
        ax.set_yticks(np.arange(len(sub)), [row_label(r) for r in sub], fontsize=12)
        ax.axvline(1.0, color="gray", linestyle=":", lw=1.5)
        ax.set_xlim(0, 1.1 * top)
        ax.set_ylim(-0.7, len(sub) - 0.3)
        ax.tick_params(axis="x", labelsize=13)
        ax.tick_params(axis="y", which="minor", left=False, right=False)
        s_b = _median([r["s_over_b"] for r in sub])
        s_sqrt_b = _median([r["s_over_sqrt_b"] for r in sub])
        ax.set_title(f"nsig {nsig}: S/B {100 * s_b:.2f} %, S/√B {s_sqrt_b:.2f}", fontsize=14, loc="left")
    axes[-1, 0].set_xlabel("max SIC (median, bar: 16–84 % over seeds × runs)", fontsize=14)
    if title:
        fig.suptitle(title, fontsize=15)
    fig.subplots_adjust(left=0.27, right=0.64, top=1 - 0.5 / (sum(heights) + 0.8), bottom=0.6 / (sum(heights) + 0.8),
                        hspace=0.6)
    return fig
