#!/usr/bin/env python
"""Figures of merit of one run on the SR test set: max SIC, SIC at signal efficiencies 0.2 and 0.5, AUC,
FPR at 40 % TPR, and the SIC curve on a fixed grid of signal efficiencies (for the plots), as JSON.
When the scores file holds the sideband events too (the classifier modes and R-ANODE), `mjj_sculpting`
gives, for cuts keeping --sculpt-efficiencies of the background events of the test set and the sideband
validation split, whether the selected mjj spectrum keeps the inclusive shape (chi2 / ndf over
--sculpt-bins equal-population mjj bins and a KS test; hepad.metrics.sculpting).

SIC points with fewer than --min-bkg-events selected test background events are dropped
(hepad.metrics.sic); with --sic-min-fpr, points with FPR <= that value are dropped instead (the paper's cut). The injection's S/B and S/sqrt(B) are copied from the prepared set's sidecar.
"""

import argparse
import json

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import read_background_mjj, read_scores
from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.metrics.sculpting import mjj_sculpting
from hepad.metrics.sic import MIN_BKG_EVENTS, sic_on_grid, summarize

TPR_GRID = np.round(np.linspace(0.01, 1.0, 100), 2)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scores", required=True, help="test-set scores (.h5) of train_classifier or score_anode")
    p.add_argument("--summary", required=True, help="JSON sidecar of the prepared set")
    p.add_argument("--method", required=True, help="e.g. cathode_hgb or anode")
    p.add_argument("--dataset", required=True)
    p.add_argument("--nsig", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--min-bkg-events", type=float, default=MIN_BKG_EVENTS)
    p.add_argument("--sic-min-fpr", type=float, default=None,
                   help="keep SIC points with FPR > this instead of the --min-bkg-events cut (paper: 1.84e-5)")
    p.add_argument("--sculpt-efficiencies", type=float, nargs="+", required=True,
                   help="background efficiencies of the mjj sculpting check")
    p.add_argument("--sculpt-bins", type=int, required=True, help="mjj bins of the sculpting check")
    p.add_argument("--output", required=True, help="metrics (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("evaluate")
    scores, labels = read_scores(args.scores)
    try:
        sr = json.loads(open(args.summary).read())["signal_region"]
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"{args.summary}: cannot read the prepared set's summary ({err})")
    try:
        metrics = summarize(scores, labels, args.min_bkg_events, args.sic_min_fpr)
    except ValueError as err:
        raise InputError(f"{args.scores}: {err}")
    sic = sic_on_grid(scores, labels, TPR_GRID, args.min_bkg_events, args.sic_min_fpr)
    metrics.update(
        method=args.method, dataset=args.dataset, nsig=args.nsig, seed=args.seed, run=args.run,
        s_over_b=sr["s_over_b"], s_over_sqrt_b=sr["s_over_sqrt_b"],
        tpr_grid=TPR_GRID.tolist(), sic_grid=[None if np.isnan(v) else float(v) for v in sic],
    )
    background = read_background_mjj(args.scores)
    if background is not None:
        try:
            metrics["mjj_sculpting"] = mjj_sculpting(*background, args.sculpt_efficiencies, args.sculpt_bins)
        except ValueError as err:
            raise InputError(f"{args.scores}: mjj sculpting check: {err}")
        for entry in metrics["mjj_sculpting"]:
            log.info("mjj sculpting at background efficiency %g: chi2/ndf %.2f (p %.3g), KS p %.3g",
                     entry["efficiency"], entry["chi2_ndf"], entry["p_value"], entry["ks_p_value"])
    write_json(metrics, args.output)
    log.info("%s (%s, nsig %d, seed %d, run %d): max SIC %s, AUC %.4f, SIC(0.2) %s, SIC(0.5) %s", args.method,
             args.dataset, args.nsig, args.seed, args.run, metrics["max_sic"], metrics["auc"],
             metrics["sic_at_eff_0.2"], metrics["sic_at_eff_0.5"])


if __name__ == "__main__":
    run_main(main)
