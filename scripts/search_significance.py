#!/usr/bin/env python
"""Local and global significance of one method and data set of the bump hunt (docs/search.md), from the
counts of search_counts.

Per window and threshold: the local Z of N over b with σ² = (δ_sys · b)² + b_error² (the estimate's own
statistical error) and its p-value. With background-only runs (--null), b is first scaled by their bias
factor of its threshold (Σ N / Σ b without signal; the factor's error joins b_error; the uncorrected b is
kept as b_uncorrected); a background-only data set that is itself one of those runs gets the factor and
δ_sys measured on the other runs. δ_sys: the
configured --delta-sys, or `measured`: the value search_null measured from the background-only runs
(--null). Global: the fraction of background-only pseudo-experiments whose maximum local Z over all
windows and thresholds reaches the observed maximum, (1) from --n-toys count toys (key "global") and
(2) from the reruns of the whole chain on signal-free data sets, when --null is given (key
"global_reruns"); each says when it has too few pseudo-experiments to quote a global significance.
Writes one JSON (the counts with the significances added).
"""

import argparse
import json

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.search.significance import (correct_background, global_significance, local_significance, p_value,
                                      record_arrays, toy_max_significance)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", required=True, help="JSON of search_counts")
    p.add_argument("--null", help="JSON of search_null (the background-only runs of this method)")
    p.add_argument("--delta-sys", required=True, help="a number (configured) or `measured` (from --null)")
    p.add_argument("--n-toys", type=int, required=True)
    p.add_argument("--seed", type=int, required=True, help="seed of the pseudo-experiments")
    p.add_argument("--output", required=True, help="JSON")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_significance")
    with open(args.counts) as f:
        record = json.load(f)
    null = None
    if args.null:
        with open(args.null) as f:
            null = json.load(f)
        if null["technique"] != record["technique"]:
            raise InputError(f"{args.null} holds the background-only runs of {null['technique']}, "
                             f"not of {record['technique']}")
    if args.delta_sys == "measured":
        if null is None:
            raise InputError("--delta-sys measured needs --null (the output of search_null)")
        delta, source = null["delta_sys"], null["delta_sys_source"]
    else:
        delta, source = float(args.delta_sys), "configured (config search.delta_sys)"
    bias = None
    if null is not None:
        if null["efficiencies"] != record["efficiencies"]:
            raise InputError(f"{args.null} was measured at efficiencies {null['efficiencies']}, the counts use "
                             f"{record['efficiencies']}")
        own = null["leave_one_out"].get(str(record["seed"])) if record["nsig"] == 0 else None
        bias, bias_source = (own["bias"], own["from"]) if own else (null["bias"], "the background-only runs")
        if own and args.delta_sys == "measured":
            delta, source = own["delta_sys"], f"measured from {own['from']} (config search.delta_sys null)"
        record["bias_correction"] = {**bias, "source": bias_source}
        for window in record["windows"]:
            rows = window["thresholds"]
            b, b_error = correct_background([r["b"] for r in rows], [r.get("b_error") for r in rows],
                                            range(len(rows)), bias)
            for j, row in enumerate(rows):
                if row["b"] is None:
                    continue
                row["b_uncorrected"], row["b_error_uncorrected"] = row["b"], row.get("b_error")
                row["b"], row["b_error"] = float(b[j]), float(b_error[j])
                hist = row.get("hist")
                if hist:  # the drawn estimate corrected alike, the factor's error in its band
                    h_b, h_e = correct_background(hist["background"], hist["error"],
                                                  [j] * len(hist["background"]), bias)
                    hist["background"], hist["error"] = h_b.tolist(), h_e.tolist()
    for window in record["windows"]:
        for row in window["thresholds"]:
            if row["b"] is not None:
                row["z"] = float(local_significance(row["n_observed"], row["b"], delta, row.get("b_error")))
                row["p_value"] = float(p_value(row["z"]))
                log.info("window %.2f-%.2f TeV, ε = %g: N = %d, b = %.2f ± %.2f (stat), Z = %.2f", window["low"],
                         window["high"], row["efficiency"], row["n_observed"], row["b"], row.get("b_error") or 0.0,
                         row["z"])
    b_matrix, e_matrix, z_matrix = record_arrays(record)
    z_matrix = np.nan_to_num(z_matrix, nan=0.0)  # a threshold without an estimate has no excess
    w, e = np.unravel_index(np.argmax(z_matrix), z_matrix.shape)
    observed = float(z_matrix[w, e])
    windows = record["windows"]
    record.update(delta_sys=delta, delta_sys_source=source,
                  max_local={"z": observed, "window": [windows[w]["low"], windows[w]["high"]],
                             "efficiency": record["efficiencies"][e],
                             # each threshold as its own analysis: the largest Z over the windows
                             "per_threshold": [{"efficiency": eff, "z": float(z_matrix[i, j]),
                                                "window": [windows[i]["low"], windows[i]["high"]]}
                                               for j, eff in enumerate(record["efficiencies"])
                                               for i in [int(np.argmax(z_matrix[:, j]))]]},
                  **{"global": global_significance(observed, toy_max_significance(b_matrix, delta, args.n_toys,
                                                                                  args.seed, e_matrix))})
    if null is not None:
        reruns = [r["max_local_z"] for r in null["runs"]]
        record["global_reruns"] = global_significance(observed, reruns, "background-only reruns")
        record["global_reruns"]["seeds"] = [r["seed"] for r in null["runs"]]
    write_json(record, args.output)
    glob = record["global"]
    log.info("δ_sys = %.3g (%s); max local Z = %.2f (window %s, ε = %g); global: %s", delta, source, observed,
             windows[w]["low"], record["efficiencies"][e],
             glob["message"] or f"p = {glob['p_value']:.3g}, Z = {glob['z']:.2f}")
    if null is not None:
        rr = record["global_reruns"]
        log.info("global from %d reruns: %s", rr["n_toys"],
                 rr["message"] or f"p = {rr['p_value']:.3g}, Z = {rr['z']:.2f}")


if __name__ == "__main__":
    run_main(main)
