#!/usr/bin/env python
"""Template fidelity of one prepared set: a classifier two-sample test between the density estimator's SR
samples (sample_sr, CATHODE's background template) and the true SR background (the prepared set's extra SR
QCD: extra_bkg_train, extra_bkg_val and the background of the test split). Equal numbers of each, halved:
the classifier (--family, --param as train_classifier) trains on one half and its AUC on the other is
written as JSON; 0.5 is a perfect template (hepad.cathode.fidelity, docs/cathode.md).
"""

import argparse

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, LABEL, read_samples
from hepad.cathode.prepared import load_split
from hepad.io import InputError, parse_param, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--samples", required=True, help="SR samples of the density estimator (.h5, sample_sr)")
    p.add_argument("--family", choices=["mlp", "hgb"], required=True, help="classifier family")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of the family (repeat); see hepad.models.classifiers")
    p.add_argument("--seed", type=int, required=True, help="seed of the split and the classifier")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--output", required=True, help="metrics (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("template_fidelity")
    from hepad.cathode.fidelity import template_auc

    train, val = read_samples(args.samples)
    samples = np.concatenate([train, val])[:, FEATURE_INDEX]
    test = load_split(args.data, "test")
    background = np.concatenate([load_split(args.data, "extra_bkg_train"), load_split(args.data, "extra_bkg_val"),
                                 test[test[:, LABEL] == 0]])[:, FEATURE_INDEX]
    if samples.shape[1] != background.shape[1]:
        raise InputError(f"{args.samples}: samples of {samples.shape[1]} features, but {args.data} holds "
                         f"{background.shape[1]}; rerun sample_sr")
    params = dict(args.param)
    params.update(threads=args.threads)
    try:
        result = template_auc(samples, background, args.family, params, seed=args.seed)
    except ValueError as err:
        raise InputError(f"{args.data}, {args.samples}: {err}")
    result.update(family=args.family, seed=args.seed, samples=args.samples, data=args.data)
    write_json(result, args.output)
    log.info("template fidelity (%s): AUC %.4f on %d held-out events (%d per class available: samples %d, "
             "true background %d)", args.family, result["auc"], result["n_test"], result["n_per_class"],
             result["n_samples_available"], result["n_background_available"])


if __name__ == "__main__":
    run_main(main)
