#!/usr/bin/env python
"""Prepare the CATHODE inputs: features in TeV, SR/SB, signal injection by count and seed, all splits.

--shift makes the shifted (correlated) data set of the CATHODE paper: mj1 and dmj += shift * mjj.
Writes one HDF5 file with every split (hepad.cathode.prepared) and a JSON sidecar with the counts,
S/B and S/sqrt(B) in the signal region.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.prepare import cathode_features, prepare_sets
from hepad.cathode.prepared import write_prepared
from hepad.events.formats import read_lhco_features
from hepad.io import run_main, setup_logging, write_json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--features", required=True, help="LHCO-format file with background and signal")
    parser.add_argument("--extra-bkg", required=True, help="LHCO-format file with extra SR background")
    parser.add_argument("--nsig", type=int, required=True, help="signal events to inject (whole mjj range)")
    parser.add_argument("--seed", type=int, required=True, help="seed of the injection and the splits")
    parser.add_argument("--sr", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"),
                        help="signal region in mjj [TeV]")
    parser.add_argument("--sb-val-fraction", type=float, required=True)
    parser.add_argument("--sr-val-fraction", type=float, required=True)
    parser.add_argument("--extra-bkg-test-fraction", type=float, required=True)
    parser.add_argument("--n-test-signal", type=int, required=True)
    parser.add_argument("--shift", type=float, default=0.0,
                        help="the shifted data set: mj1 and dmj += SHIFT * mjj in every split (all in TeV)")
    parser.add_argument("--output", required=True, help="prepared set (.h5)")
    parser.add_argument("--summary", required=True, help="JSON sidecar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("prepare")
    log.info("reading %s and %s", args.features, args.extra_bkg)
    features = cathode_features(read_lhco_features(args.features))
    extra = cathode_features(read_lhco_features(args.extra_bkg))
    log.info("%d events (%d signal), %d extra background", len(features), int(features[:, 5].sum()), len(extra))
    if args.shift:
        log.info("shifted data set: mj1 and dmj += %g * mjj", args.shift)
    splits, summary = prepare_sets(
        features, extra, nsig=args.nsig, seed=args.seed, sr=tuple(args.sr),
        sb_val_fraction=args.sb_val_fraction, sr_val_fraction=args.sr_val_fraction,
        extra_bkg_test_fraction=args.extra_bkg_test_fraction, n_test_signal=args.n_test_signal, shift=args.shift,
    )
    summary["inputs"] = {"features": str(args.features), "extra_bkg": str(args.extra_bkg)}
    for name, count in summary["counts"].items():
        log.info("%-16s %8d events (%d signal)", name, count["total"], count["signal"])
    sr = summary["signal_region"]
    log.info("SR: S = %d, B = %d, S/B = %.3f %%, S/sqrt(B) = %.2f", sr["signal"], sr["background"],
             100 * sr["s_over_b"], sr["s_over_sqrt_b"])
    write_prepared(splits, args.output)
    write_json(summary, args.summary)


if __name__ == "__main__":
    run_main(main)
