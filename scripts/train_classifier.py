#!/usr/bin/env python
"""Train one classifier of CATHODE, LaCATHODE or a benchmark (cathode, lacathode, cwola, iad, supervised) and
score the test set.

The training data of each mode are described in hepad.cathode.modes; the classes are balanced with sample
weights (CWoLa: the SR class half of the total weight, each sideband band a quarter). LaCATHODE trains and
scores in the SB flow's latent space (--latent, the output of latent_sr); test events the flow cannot map
get the lowest score. Writes the model into --output (a folder) and the test-set scores, labels and mjj
to --scores, with the sideband validation events scored too (group `sideband`, for the sculpting check).
"""

import argparse

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import (CLASSIFIER_MODES, evaluation_set, lowest_for_unmapped, sideband_set, training_set,
                                 write_scores)
from hepad.io import InputError, parse_param, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--mode", choices=CLASSIFIER_MODES, required=True)
    p.add_argument("--samples", help="SR flow samples (.h5), for --mode cathode")
    p.add_argument("--latent", help="latent sets (.h5) of latent_sr, for --mode lacathode")
    p.add_argument("--family", choices=["mlp", "hgb"], required=True, help="classifier family")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of the family (repeat); see hepad.models.classifiers")
    p.add_argument("--sr", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--cwola-sb", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"),
                   help="outer edges of CWoLa's sidebands [TeV]")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None, help="torch device for the MLP (default: GPU if visible)")
    p.add_argument("--output", required=True, help="model folder")
    p.add_argument("--scores", required=True, help="test-set scores (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_classifier")
    from hepad.cathode.classify import StandardisedClassifier

    if args.mode == "cathode" and not args.samples:
        raise InputError("--mode cathode needs --samples (the output of sample_sr)")
    if args.mode == "lacathode" and not args.latent:
        raise InputError("--mode lacathode needs --latent (the output of latent_sr)")
    latent = args.latent if args.mode == "lacathode" else None
    data = training_set(args.mode, args.data, samples=latent or args.samples, sr=tuple(args.sr),
                        cwola_sb=tuple(args.cwola_sb))
    log.info("%s: %s", args.mode, data.describe())
    params = dict(args.param)
    params.update(seed=args.seed, threads=args.threads)
    if args.family == "mlp":
        params["device"] = args.device
    log.info("%s classifier with %s", args.family, params)
    clf = StandardisedClassifier(args.family, params).fit(data.x_train, data.y_train, data.x_val, data.y_val,
                                                          sample_weight=data.w_train, sample_weight_val=data.w_val)
    clf.save(args.output)
    scored = []
    for what, (x, mjj, y) in (("test events", evaluation_set(args.data, latent)),
                              ("sideband events", sideband_set(args.data, latent))):
        scores = np.full(len(x), np.nan)
        mapped = np.isfinite(x).all(axis=1)
        scores[mapped] = clf.predict_proba(x[mapped])
        scored.append((lowest_for_unmapped(scores, what), y, mjj))
    (scores, y_test, mjj_test), sideband = scored
    write_scores(scores, y_test, mjj_test, args.scores, mode=args.mode, family=args.family, seed=args.seed,
                 sideband=sideband)
    log.info("scored %d test events (%d signal)", len(y_test), int(y_test.sum()))


if __name__ == "__main__":
    run_main(main)
