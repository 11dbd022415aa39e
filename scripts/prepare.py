#!/usr/bin/env python
"""Prepare the CATHODE inputs: features in TeV, SR/SB, signal injection by count and seed, all splits.

--feature-set picks the features (hepad.cathode.feature_sets): lhco4, lhco4_dr and lhco4_noise10 read
LHCO-format files, tau56 extended-features files (several are concatenated, e.g. the QCD and the signal
file of the LHCO R&D particle-level path). --shift makes the shifted (correlated) data set of the CATHODE
paper: mj1 and dmj += shift * mjj. Writes one HDF5 file with every split (hepad.cathode.prepared) and a
JSON sidecar with the counts, S/B and S/sqrt(B) in the signal region.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode import feature_sets
from hepad.cathode.prepare import prepare_sets
from hepad.cathode.prepared import write_prepared
from hepad.events.formats import read_lhco_features
from hepad.io import run_main, setup_logging, write_json


def read_rows(paths, feature_set, rng):
    """Rows of the feature set from one or more files (LHCO format, or extended features for tau56)."""
    import numpy as np

    if feature_sets.needs_extended(feature_set):
        from hepad.events.merge import read_extended

        return np.concatenate([feature_sets.rows_from_extended(read_extended(p)) for p in paths])
    return np.concatenate([feature_sets.rows_from_lhco(read_lhco_features(p), feature_set, rng) for p in paths])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--features", required=True, nargs="+",
                        help="file(s) with background and signal: LHCO format, extended features for tau56")
    parser.add_argument("--extra-bkg", required=True, nargs="+", help="file(s) with extra SR background, the same kind")
    parser.add_argument("--feature-set", required=True, choices=feature_sets.FEATURE_SETS,
                        help="the features (hepad.cathode.feature_sets)")
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
    rng = feature_sets.noise_rng(args.seed)
    features = read_rows(args.features, args.feature_set, rng)
    extra = read_rows(args.extra_bkg, args.feature_set, rng)
    columns = feature_sets.columns(args.feature_set)
    log.info("feature set %s: %d features (%s ...)", args.feature_set, len(columns) - 2, ", ".join(columns[1:5]))
    log.info("%d events (%d signal), %d extra background", len(features), int(features[:, -1].sum()), len(extra))
    if args.shift:
        log.info("shifted data set: mj1 and dmj += %g * mjj", args.shift)
    splits, summary = prepare_sets(
        features, extra, nsig=args.nsig, seed=args.seed, sr=tuple(args.sr),
        sb_val_fraction=args.sb_val_fraction, sr_val_fraction=args.sr_val_fraction,
        extra_bkg_test_fraction=args.extra_bkg_test_fraction, n_test_signal=args.n_test_signal, shift=args.shift,
    )
    summary["inputs"] = {key: str(paths[0]) if len(paths) == 1 else [str(p) for p in paths]
                         for key, paths in (("features", args.features), ("extra_bkg", args.extra_bkg))}
    if args.feature_set != "lhco4":  # the default set's sidecar stays as it was
        summary["feature_set"] = args.feature_set
    for name, count in summary["counts"].items():
        log.info("%-16s %8d events (%d signal)", name, count["total"], count["signal"])
    sr = summary["signal_region"]
    log.info("SR: S = %d, B = %d, S/B = %.3f %%, S/sqrt(B) = %.2f", sr["signal"], sr["background"],
             100 * sr["s_over_b"], sr["s_over_sqrt_b"])
    write_prepared(splits, args.output, columns=columns)
    write_json(summary, args.summary)


if __name__ == "__main__":
    run_main(main)
