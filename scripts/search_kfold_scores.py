#!/usr/bin/env python
"""One fold of one window of the bump hunt (docs/search.md): train a classifier on the other folds, score
this fold.

The methods (hepad.search.methods): --technique cathode or iad: SR data against the background template
(the SB flow's samples, or true background; both from the other folds); scores the SR events and the
template events of this fold. --technique cwola: SR data against the events of the bands of --cwola-band
TeV next to the window (other folds); scores this fold's SR events and its events outside the window (for
the dijet fit). The classifier (--family: the tree ensemble or CATHODE's MLP, hepad.cathode.classify)
balances the classes by sample weights; a share --val-fraction of the training events validates. Writes
the scores with their row numbers and the rows trained on (HDF5).
"""

import argparse

import h5py

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ
from hepad.io import InputError, atomic_output, parse_param, run_main, setup_logging
from hepad.search.kfold import fold_classifier, fold_split
from hepad.search.methods import CLASSIFIER_FAMILIES, METHODS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="window file (search_prepare)")
    p.add_argument("--template", help="background template (search_train_flow or search_iad_template), for the "
                                      "template methods")
    p.add_argument("--technique", choices=list(METHODS), required=True)
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("--family", choices=list(CLASSIFIER_FAMILIES), required=True)
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of the family (config cathode.classifier.<family>); repeatable")
    p.add_argument("--cwola-band", type=float, required=True, help="[TeV], for --technique cwola")
    p.add_argument("--val-fraction", type=float, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output", required=True, help="scores (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_kfold_scores")
    with h5py.File(args.data, "r") as f:
        sr, sr_fold = f["sr"][()], f["sr_fold"][()]
        outside, outside_fold = f["outside"][()], f["outside_fold"][()]
        low, high = (float(v) for v in f.attrs["window"])
        k = int(f.attrs["k"])
    if not 0 <= args.fold < k:
        raise InputError(f"--fold {args.fold}: the window file has {k} folds")
    sr_train, sr_scored = fold_split(sr_fold, args.fold)
    out_train, out_scored = fold_split(outside_fold, args.fold)
    scored = {"sr": sr_scored}
    if METHODS[args.technique].template:
        if not args.template:
            raise InputError(f"--technique {args.technique} needs --template ({METHODS[args.technique].background})")
        with h5py.File(args.template, "r") as f:
            template, template_fold = f["template"][()], f["fold"][()]
        t_train, t_scored = fold_split(template_fold, args.fold)
        zeros, scored["template"] = template[t_train], t_scored
        trained_zero = t_train
    else:
        mjj = outside[out_train, MJJ]
        band = ((mjj > low - args.cwola_band) & (mjj < low)) | ((mjj > high) & (mjj < high + args.cwola_band))
        trained_zero = out_train[band]
        zeros = outside[trained_zero]
        scored["outside"] = out_scored
    if len(zeros) < 2 or len(sr_train) < 2:
        raise InputError(f"window {low:.2f}-{high:.2f} TeV, fold {args.fold}: too few training events "
                         f"({len(sr_train)} SR, {len(zeros)} background class)")
    clf = fold_classifier(sr[sr_train], zeros, args.family, dict(args.param), args.val_fraction, args.seed,
                          args.threads)
    with atomic_output(args.output) as tmp, h5py.File(tmp, "w") as out:
        out.attrs.update(technique=args.technique, fold=args.fold, k=k, family=args.family)
        out.attrs["window"] = [low, high]
        out.create_dataset("sr_trained_rows", data=sr_train)
        out.create_dataset("background_trained_rows", data=trained_zero)
        for name, rows in scored.items():
            source = {"sr": sr, "outside": outside}[name] if name != "template" else template
            out.create_dataset(f"{name}_rows", data=rows)
            out.create_dataset(f"{name}_scores", data=clf.predict_proba(source[rows][:, FEATURE_INDEX]))
    log.info("%s (%s), window %.2f-%.2f TeV, fold %d/%d: trained on %d SR and %d background-class events; scored %s",
             args.technique, args.family, low, high, args.fold, k, len(sr_train), len(zeros),
             ", ".join(f"{len(r)} {n}" for n, r in scored.items()))


if __name__ == "__main__":
    run_main(main)
