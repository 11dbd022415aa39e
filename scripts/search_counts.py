#!/usr/bin/env python
"""Cut and count in every window of the bump hunt (docs/search.md): thresholds, expected background b and
observed count N per window and background efficiency, for one method and one data set (nsig, seed).

Thresholds at the background efficiencies --efficiencies: for the template methods (cathode, iad;
hepad.search.methods) the score quantiles of the background template (b = ε_template · N_SR); for cwola
the quantiles of the scores of the events outside the window, whose selected mjj spectrum is fitted with
the dijet function outside the window (b = the fit integrated over the window). Checks that every SR
event was scored out of fold. The significances follow in search_significance, once δ_sys is known
(it may be measured from the background-only runs' counts). Writes one JSON.
"""

import argparse
from collections import defaultdict

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.search.counting import fit_counts, template_counts
from hepad.search.kfold import check_out_of_fold
from hepad.search.methods import METHODS
from hepad.search.windows import Window


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--technique", choices=list(METHODS), required=True)
    p.add_argument("--data", nargs="+", required=True, help="window files (search_prepare), one per window")
    p.add_argument("--scores", nargs="+", required=True, help="fold score files (search_kfold_scores)")
    p.add_argument("--templates", nargs="*", default=[], help="templates of the template methods, one per window")
    p.add_argument("--efficiencies", type=float, nargs="+", required=True)
    p.add_argument("--fit-range", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--bin-width", type=float, required=True, help="[TeV]")
    p.add_argument("--min-events", type=int, required=True, help="fewest selected events outside to fit")
    p.add_argument("--seed", type=int, required=True, help="seed of the fit-uncertainty draws")
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
                                                 f["sr_trained_rows"][()], f.attrs.get("family", "hgb")))
    return by_window


def _assemble(parts, n, name, window):
    scores = np.full(n, np.nan)
    for rows, values, *_ in parts:
        scores[rows] = values
    if np.isnan(scores).any():
        raise InputError(f"window {window.label}: {int(np.isnan(scores).sum())} of {n} {name} events have no score "
                         "(a fold's score file is missing)")
    return scores


def _window_sort(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["index"])


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_counts")
    efficiencies = sorted(args.efficiencies, reverse=True)  # loosest first
    method = METHODS[args.technique]
    sr_parts, out_parts, tpl_parts = (_gather(args.scores, what) for what in ("sr", "outside", "template"))
    templates = {}
    for path in args.templates:
        with h5py.File(path, "r") as f:
            templates[_key(f.attrs)] = f["template"][()]
    windows_out, families = [], set()
    for path in sorted(args.data, key=_window_sort):
        with h5py.File(path, "r") as f:
            sr, outside = f["sr"][()], f["outside"][()]
            window = Window(int(f.attrs["index"]), *(float(v) for v in f.attrs["window"]))
            nsig, seed, key = int(f.attrs["nsig"]), int(f.attrs["seed"]), _key(f.attrs)
        sr_scores = _assemble(sr_parts[key], len(sr), "SR", window)
        # the check of docs/search.md: no SR event is scored by a model that trained on it
        check_out_of_fold([p[2] for p in sr_parts[key]], [p[0] for p in sr_parts[key]], len(sr))
        families |= {str(p[3]) for p in sr_parts[key]}
        truth = {"signal": int(sr[:, 5].sum()), "background": int(len(sr) - sr[:, 5].sum())}
        if method.template:
            if key not in templates:
                raise InputError(f"window {window.label}: no template among --templates ({method.background})")
            template = templates[key]
            rows = template_counts(window, sr, sr_scores, template,
                                   _assemble(tpl_parts[key], len(template), "template", window), efficiencies)
        else:
            rows = fit_counts(window, sr, sr_scores, outside, _assemble(out_parts[key], len(outside), "outside", window),
                              efficiencies, args.fit_range, args.bin_width, args.min_events, args.seed)
        for row in rows:
            if row["b"] is None:
                log.info("window %s, ε = %g: no estimate (%s)", window.label, row["efficiency"], row["note"])
            else:
                log.info("window %s, ε = %g: N = %d, b = %.2f", window.label, row["efficiency"], row["n_observed"],
                         row["b"])
        windows_out.append({"index": window.index, "low": window.low, "high": window.high, "n_sr": len(sr),
                            "truth": truth, "thresholds": rows})
    signal_window = max(windows_out, key=lambda x: x["truth"]["signal"])
    s, b = signal_window["truth"]["signal"], max(signal_window["truth"]["background"], 1)
    write_json({"technique": args.technique, "classifier": sorted(families), "nsig": nsig, "seed": seed,
                "efficiencies": efficiencies, "windows": windows_out,
                "injected": {"window": [signal_window["low"], signal_window["high"]], "signal": s,
                             "s_over_b": s / b, "s_over_sqrt_b": s / np.sqrt(b)}}, args.output)


if __name__ == "__main__":
    run_main(main)
