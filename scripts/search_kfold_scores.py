#!/usr/bin/env python
"""One fold of one window of the bump hunt (docs/search.md): train a classifier on the other folds, score
this fold.

--technique cathode: SR data against the background template (both from the other folds); scores the SR
events and the template samples of this fold. --technique cwola: SR data against the events of the bands
of --cwola-band TeV next to the window (other folds); scores this fold's SR events and its events outside
the window (for the dijet fit). Classes balanced by sample weights; a share --val-fraction of the training
events validates. Writes the scores with their row numbers and the rows trained on (HDF5).
"""

import argparse

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ, balanced_weights
from hepad.io import InputError, atomic_output, parse_param, run_main, setup_logging
from hepad.search.kfold import fold_split


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="window file (search_prepare)")
    p.add_argument("--template", help="background template (search_train_flow), for --technique cathode")
    p.add_argument("--technique", choices=["cathode", "cwola"], required=True)
    p.add_argument("--fold", type=int, required=True)
    p.add_argument("--family", choices=["mlp", "hgb"], default="hgb")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of the family (config cathode.classifier.<family>); repeatable")
    p.add_argument("--cwola-band", type=float, default=0.2, help="[TeV], for --technique cwola")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output", required=True, help="scores (.h5)")
    return p.parse_args(argv)


def _split(rows, fraction, rng):
    rows = rows[rng.permutation(len(rows))]
    n_val = int(round(len(rows) * fraction))
    return rows[n_val:], rows[:n_val]


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_kfold_scores")
    from hepad.cathode.classify import StandardisedClassifier

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
    if args.technique == "cathode":
        if not args.template:
            raise InputError("--technique cathode needs --template (the output of search_train_flow)")
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
    rng = np.random.default_rng(args.seed)
    ones_t, ones_v = _split(sr[sr_train], args.val_fraction, rng)
    zeros_t, zeros_v = _split(zeros, args.val_fraction, rng)

    def stack(a, b):
        x = np.concatenate([a, b])[:, FEATURE_INDEX]
        y = np.r_[np.ones(len(a)), np.zeros(len(b))]
        return x, y, balanced_weights(y)

    x, y, w = stack(ones_t, zeros_t)
    xv, yv, wv = stack(ones_v, zeros_v)
    params = dict(args.param)
    params.update(seed=args.seed, threads=args.threads, class_weight=None)
    clf = StandardisedClassifier(args.family, params).fit(x, y, xv, yv, sample_weight=w, sample_weight_val=wv)
    with atomic_output(args.output) as tmp, h5py.File(tmp, "w") as out:
        out.attrs.update(technique=args.technique, fold=args.fold, k=k)
        out.attrs["window"] = [low, high]
        out.create_dataset("sr_trained_rows", data=sr_train)
        out.create_dataset("background_trained_rows", data=trained_zero)
        for name, rows in scored.items():
            source = {"sr": sr, "outside": outside}[name] if name != "template" else template
            out.create_dataset(f"{name}_rows", data=rows)
            out.create_dataset(f"{name}_scores", data=clf.predict_proba(source[rows][:, FEATURE_INDEX]))
    log.info("%s, window %.2f-%.2f TeV, fold %d/%d: trained on %d SR and %d background-class events; scored %s",
             args.technique, low, high, args.fold, k, len(sr_train), len(zeros),
             ", ".join(f"{len(r)} {n}" for n, r in scored.items()))


if __name__ == "__main__":
    run_main(main)
