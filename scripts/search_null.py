#!/usr/bin/env python
"""The background-only runs of one method of the bump hunt (docs/search.md): δ_sys measured from their
counts, and their maximum local significances, the look-elsewhere pseudo-experiments that rerun the whole
chain (every flow and classifier retrained on a signal-free data set: nsig = 0, one seed per run).

--delta-sys: the configured value, or `measured` (config search.delta_sys null): then the measured δ_sys
is the one in force, here and in every search_significance of this method. Writes one JSON: the
measurement (hepad.search.significance.measure_delta_sys), the δ_sys in force and where it comes from,
and per run the maximum local Z over all windows and thresholds under that δ_sys.
"""

import argparse
import json

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.search.significance import max_local_significance, measure_delta_sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", nargs="+", required=True, help="JSONs of search_counts of the nsig = 0 runs")
    p.add_argument("--delta-sys", required=True, help="a number (configured) or `measured`")
    p.add_argument("--output", required=True, help="JSON")
    return p.parse_args(argv)


def _entries(record):
    """Observed counts, expected backgrounds (None: no estimate) and their statistical errors of a run."""
    rows = [row for window in record["windows"] for row in window["thresholds"]]
    return (np.array([row.get("n_observed", 0) for row in rows], float), [row["b"] for row in rows],
            np.array([row.get("b_error") or 0.0 for row in rows], float))


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
    n = np.concatenate([_entries(r)[0] for r in records])
    b = np.array([np.nan if v is None else v for r in records for v in _entries(r)[1]], float)
    b_error = np.concatenate([_entries(r)[2] for r in records])
    try:
        measured = measure_delta_sys(n, b, b_error)
    except ValueError as err:
        if args.delta_sys == "measured":
            raise InputError(f"search.delta_sys is null (measured), but {err} in {len(records)} background-only "
                             "runs (config search.null_seeds); add seeds or set search.delta_sys")
        measured = {"delta_sys": None, "note": str(err)}
    if args.delta_sys == "measured":
        delta, source = measured["delta_sys"], "measured from the background-only runs (config search.delta_sys null)"
    else:
        delta, source = float(args.delta_sys), "configured (config search.delta_sys)"
    runs = []
    for r in records:
        n_run, b_run, e_run = _entries(r)
        runs.append({"seed": r["seed"], "max_local_z": max_local_significance(n_run, b_run, delta, e_run)})
    write_json({"technique": techniques.pop(), "delta_sys": delta, "delta_sys_source": source, "measured": measured,
                "runs": runs}, args.output)
    log.info("δ_sys = %.4g (%s); measured %s from %d counts of %d runs; max local Z of the runs: %s",
             delta, source, measured.get("delta_sys"), measured.get("n_entries", 0), len(records),
             ", ".join(f"{r['max_local_z']:.2f}" for r in runs))


if __name__ == "__main__":
    run_main(main)
