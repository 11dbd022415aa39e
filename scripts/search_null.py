#!/usr/bin/env python
"""The background-only runs of one method of the bump hunt (docs/search.md): the bias of the background
estimate and δ_sys measured from their counts, and their maximum local significances, the look-elsewhere
pseudo-experiments that rerun the whole chain (every flow and classifier retrained on a signal-free data
set: nsig = 0, one seed per run).

Bias: per threshold the factor Σ N / Σ b over the runs' windows (hepad.search.significance.measure_bias);
every significance of this method scales b by it. δ_sys is then measured around the corrected b.
--delta-sys: the configured value, or `measured` (config search.delta_sys null): then the measured δ_sys
is the one in force, here and in every search_significance of this method. Each run's own maximum local Z
uses the bias and δ_sys measured on the other runs (leave one out, so that a run does not correct itself;
with a single run its own, said in the JSON). Writes one JSON: the measurements, the δ_sys in force and
where it comes from, per run the maximum local Z, and per seed the leave-one-out bias and δ_sys that a
significance of that background-only data set uses.
"""

import argparse
import json

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.search.significance import correct_background, max_local_significance, measure_bias, measure_delta_sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", nargs="+", required=True, help="JSONs of search_counts of the nsig = 0 runs")
    p.add_argument("--delta-sys", required=True, help="a number (configured) or `measured`")
    p.add_argument("--output", required=True, help="JSON")
    return p.parse_args(argv)


def entries(record):
    """Observed counts, expected backgrounds (NaN: no estimate), their statistical errors (0: none known) and
    the threshold index of every (window, threshold) of a run."""
    rows = [(j, row) for window in record["windows"] for j, row in enumerate(window["thresholds"])]
    return (np.array([row.get("n_observed", 0) for _, row in rows], float),
            np.array([np.nan if row["b"] is None else row["b"] for _, row in rows], float),
            np.array([row.get("b_error") or 0.0 for _, row in rows], float), np.array([j for j, _ in rows]))


def measure(records) -> dict:
    """Bias per threshold and δ_sys around the corrected b, from the counts of ``records``."""
    n, b, e, j = (np.concatenate(parts) for parts in zip(*(entries(r) for r in records)))
    bias = measure_bias(n, b, e, j)
    try:
        delta = measure_delta_sys(n, *correct_background(b, e, j, bias))
    except ValueError as err:  # too few entries with an estimate
        delta = {"delta_sys": None, "note": str(err)}
    return {"bias": bias, "delta_sys": delta}


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_null")
    records = []
    for path in args.counts:
        with open(path) as f:
            record = json.load(f)
        if record["nsig"] != 0:
            raise InputError(f"{path}: a background-only run must have nsig = 0, not {record['nsig']}")
        records.append(record)
    techniques = {r["technique"] for r in records}
    if len(techniques) != 1:
        raise InputError(f"--counts mixes methods {sorted(techniques)}")
    efficiencies = records[0]["efficiencies"]

    measured = measure(records)
    if args.delta_sys == "measured":
        if measured["delta_sys"]["delta_sys"] is None:
            raise InputError(f"search.delta_sys is null (measured), but {measured['delta_sys']['note']} in "
                             f"{len(records)} background-only runs (config search.null_seeds); add seeds or set "
                             "search.delta_sys")
        delta = measured["delta_sys"]["delta_sys"]
        source = "measured from the background-only runs (config search.delta_sys null)"
    else:
        delta, source = float(args.delta_sys), "configured (config search.delta_sys)"
    # Each run's max local Z with the bias and δ_sys of the other runs (its own with a single run).
    runs, leave_one_out = [], {}
    for k, r in enumerate(records):
        others = [o for i, o in enumerate(records) if i != k]
        m = measure(others) if others else measured
        d = delta if args.delta_sys != "measured" else m["delta_sys"]["delta_sys"]
        if d is None:  # too few entries in the other runs to measure δ_sys: that of all runs
            d = delta
        n_run, b_run, e_run, j_run = entries(r)
        b_corr, e_corr = correct_background(b_run, e_run, j_run, m["bias"])
        runs.append({"seed": r["seed"], "max_local_z": max_local_significance(n_run, b_corr, d, e_corr),
                     "max_local_z_uncorrected": max_local_significance(n_run, b_run, delta, e_run)})
        leave_one_out[str(r["seed"])] = {"bias": m["bias"], "delta_sys": d,
                                         "from": "the other background-only runs" if others else "this run itself"}
    write_json({"technique": techniques.pop(), "efficiencies": efficiencies, "delta_sys": delta,
                "delta_sys_source": source, "bias": measured["bias"], "measured": measured["delta_sys"],
                "runs": runs, "leave_one_out": leave_one_out}, args.output)
    log.info("bias N/b per threshold (ε %s): %s; δ_sys = %.4g (%s); measured %s from %d counts of %d runs; max local "
             "Z of the runs: %s", ", ".join(f"{e:g}" for e in efficiencies),
             ", ".join(f"{f:.3f} ± {df:.3f}" for f, df in zip(measured["bias"]["factor"], measured["bias"]["error"])),
             delta, source, measured["delta_sys"].get("delta_sys"), measured["delta_sys"].get("n_entries", 0),
             len(records), ", ".join(f"{r['max_local_z']:.2f}" for r in runs))


if __name__ == "__main__":
    run_main(main)
