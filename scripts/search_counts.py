#!/usr/bin/env python
"""Cut and count in every window of the bump hunt (docs/search.md): thresholds, expected and observed
counts, local significance and p-value per window and background efficiency, and the global significance
from background-only pseudo-experiments.

Thresholds at the background efficiencies --efficiencies: for --technique cathode the score quantiles of
the background template (b = ε_template · N_SR); for cwola the quantiles of the scores of the events
outside the window, whose selected mjj spectrum is fitted with the dijet function outside the window
(b = the fit integrated over the window). σ = --delta-sys · b. Writes one JSON.
"""

import argparse
from collections import defaultdict

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.search.fit import TooFewEvents, fit_dijet
from hepad.search.kfold import check_out_of_fold
from hepad.search.significance import global_significance, local_significance, p_value, toy_max_significance
from hepad.search.windows import Window

TEMPLATE_BINS = 8  # bins of the selected spectrum inside a window (CATHODE's plot)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--technique", choices=["cathode", "cwola"], required=True)
    p.add_argument("--data", nargs="+", required=True, help="window files (search_prepare), one per window")
    p.add_argument("--scores", nargs="+", required=True, help="fold score files (search_kfold_scores)")
    p.add_argument("--templates", nargs="*", default=[], help="templates (search_train_flow), for cathode")
    p.add_argument("--efficiencies", type=float, nargs="+", required=True)
    p.add_argument("--delta-sys", type=float, required=True)
    p.add_argument("--n-toys", type=int, required=True)
    p.add_argument("--fit-range", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--bin-width", type=float, required=True, help="[TeV]")
    p.add_argument("--min-events", type=int, required=True, help="fewest selected events outside to fit")
    p.add_argument("--seed", type=int, default=0, help="seed of the pseudo-experiments")
    p.add_argument("--output", required=True, help="JSON")
    return p.parse_args(argv)


def _key(attrs):
    return tuple(round(float(v), 6) for v in attrs["window"])


def _gather(paths, what):
    """Window -> the out-of-fold scores of ``what`` (all folds together, by row)."""
    by_window = defaultdict(list)
    for path in paths:
        with h5py.File(path, "r") as f:
            if f"{what}_rows" in f:
                by_window[_key(f.attrs)].append((f[f"{what}_rows"][()], f[f"{what}_scores"][()],
                                                 f["sr_trained_rows"][()]))
    return by_window


def _assemble(parts, n, name, window):
    scores = np.full(n, np.nan)
    for rows, values, _ in parts:
        scores[rows] = values
    if np.isnan(scores).any():
        raise InputError(f"window {window.label}: {int(np.isnan(scores).sum())} of {n} {name} events have no score "
                         "(a fold's score file is missing)")
    return scores


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_significance")
    efficiencies = sorted(args.efficiencies, reverse=True)  # loosest first
    sr_parts, out_parts, tpl_parts = _gather(args.scores, "sr"), _gather(args.scores, "outside"), _gather(args.scores, "template")
    templates = {}
    for path in args.templates:
        with h5py.File(path, "r") as f:
            templates[_key(f.attrs)] = f["template"][()]
    windows_out, b_matrix, z_matrix = [], [], []
    for index, path in enumerate(sorted(args.data, key=_window_sort)):
        with h5py.File(path, "r") as f:
            sr, outside = f["sr"][()], f["outside"][()]
            window = Window(int(f.attrs["index"]), *(float(v) for v in f.attrs["window"]))
            key = _key(f.attrs)
        sr_scores = _assemble(sr_parts[key], len(sr), "SR", window)
        # the check of docs/search.md: no SR event is scored by a model that trained on it
        check_out_of_fold([p[2] for p in sr_parts[key]], [p[0] for p in sr_parts[key]], len(sr))
        truth = {"signal": int(sr[:, 5].sum()), "background": int(len(sr) - sr[:, 5].sum())}
        rows = []
        if args.technique == "cathode":
            template = templates[key]
            tpl_scores = _assemble(tpl_parts[key], len(template), "template", window)
            edges = np.linspace(window.low, window.high, TEMPLATE_BINS + 1)
            for eff in efficiencies:
                row = {"efficiency": eff}
                if eff * len(template) < 1:
                    row.update(b=None, note=f"the template holds {len(template)} samples, too few for ε = {eff:g}")
                else:
                    thr = float(np.quantile(tpl_scores, 1 - eff))
                    sel, tsel = sr_scores > thr, tpl_scores > thr
                    scale = len(sr) / len(template)
                    b = float(tsel.sum() * scale)
                    tpl_hist = np.histogram(template[tsel, 0], edges)[0]
                    row.update(threshold=thr, n_observed=int(sel.sum()), b=b, b_stat_error=float(np.sqrt(tsel.sum()) * scale),
                               selected_signal=int(sr[sel, 5].sum()),
                               hist={"edges": edges.tolist(), "data": np.histogram(sr[sel, 0], edges)[0].tolist(),
                                     "background": (tpl_hist * scale).tolist(),
                                     "error": (np.sqrt(tpl_hist) * scale).tolist()})
                rows.append(row)
        else:
            out_scores = _assemble(out_parts[key], len(outside), "outside", window)
            in_range = (outside[:, 0] > args.fit_range[0]) & (outside[:, 0] < args.fit_range[1])
            edges = np.arange(args.fit_range[0], args.fit_range[1] + 1e-9, args.bin_width)
            for eff in efficiencies:
                thr = float(np.quantile(out_scores[in_range], 1 - eff))
                sel = sr_scores > thr
                row = {"efficiency": eff, "threshold": thr, "n_observed": int(sel.sum()),
                       "selected_signal": int(sr[sel, 5].sum())}
                selected_out = outside[in_range & (out_scores > thr), 0]
                try:
                    fit = fit_dijet(selected_out, window, edges, min_events=args.min_events)
                except TooFewEvents as err:  # a statement about the data, not a failure: no estimate
                    row.update(b=None, note=str(err))
                    rows.append(row)
                    continue
                _, _, b, b_err = fit.expected_with_error([window.low, window.high], seed=args.seed)
                mean, err = fit.expected(edges), fit.expected_with_error(edges, seed=args.seed)[1]
                data_hist = np.histogram(np.r_[selected_out, sr[sel, 0]], edges)[0]
                row.update(b=b, b_fit_error=b_err, fit_params=fit.params.tolist(),
                           hist={"edges": edges.tolist(), "data": data_hist.tolist(), "background": mean.tolist(),
                                 "error": err.tolist()})
                rows.append(row)
        for row in rows:
            if row["b"] is not None:
                row["z"] = float(local_significance(row["n_observed"], row["b"], args.delta_sys))
                row["p_value"] = float(p_value(row["z"]))
                log.info("window %s, ε = %g: N = %d, b = %.2f, Z = %.2f", window.label, row["efficiency"],
                         row["n_observed"], row["b"], row["z"])
            else:
                log.info("window %s, ε = %g: no estimate (%s)", window.label, row["efficiency"], row["note"])
        b_matrix.append([np.nan if r["b"] is None else r["b"] for r in rows])
        z_matrix.append([r.get("z", 0.0) for r in rows])
        windows_out.append({"index": window.index, "low": window.low, "high": window.high, "n_sr": len(sr),
                            "truth": truth, "thresholds": rows})
    b_matrix, z_matrix = np.array(b_matrix), np.array(z_matrix)
    w, e = np.unravel_index(np.argmax(z_matrix), z_matrix.shape)
    observed = float(z_matrix[w, e])
    toys = toy_max_significance(b_matrix, args.delta_sys, args.n_toys, args.seed)
    result = global_significance(observed, toys)
    signal_window = max(windows_out, key=lambda x: x["truth"]["signal"])
    s, b = signal_window["truth"]["signal"], max(signal_window["truth"]["background"], 1)
    summary = {
        "technique": args.technique, "efficiencies": efficiencies, "delta_sys": args.delta_sys,
        "windows": windows_out,
        "max_local": {"z": observed, "window": [windows_out[w]["low"], windows_out[w]["high"]],
                      "efficiency": efficiencies[e]},
        "global": result,
        "injected": {"window": [signal_window["low"], signal_window["high"]], "signal": s,
                     "s_over_b": s / b, "s_over_sqrt_b": s / np.sqrt(b)},
    }
    write_json(summary, args.output)
    log.info("max local Z = %.2f (window %s, ε = %g); global: %s", observed, windows_out[w]["low"], efficiencies[e],
             result["message"] or f"p = {result['p_value']:.3g}, Z = {result['z']:.2f}")


def _window_sort(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["index"])


if __name__ == "__main__":
    run_main(main)
