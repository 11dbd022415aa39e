#!/usr/bin/env python
"""Iterative selection of observables for one mimicker (hln or pnn): train on (m, pT) plus the chosen
EFPs, add each round the EFP with the best ADO on the pairs the mimicker misorders; record the ADO with
the auto-encoder and the AUC per signal after every round (hepad.mimic.selection). With --image-observables
the candidates include two image quantities no EFP carries (hepad.mimic.features.IMAGE_OBSERVABLES; not in
the paper, docs/mimic.md)."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, parse_param, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kind", choices=["hln", "pnn"], required=True)
    p.add_argument("--background", required=True, help="background feature file (jet_features)")
    p.add_argument("--signals", nargs="*", default=[], metavar="NAME=FILE", help="signal feature files")
    p.add_argument("--ae-scores", required=True, help="scores of train_image_ae (.h5)")
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--min-gain", type=float, required=True,
                   help="stop when a round raises the selection-split ADO by less than this (0: never)")
    p.add_argument("--train-fraction", type=float, required=True)
    p.add_argument("--select-fraction", type=float, required=True, help="share of the held-out background used to select")
    p.add_argument("--image-observables", action="store_true",
                   help="add the image's sum of squared pixels and its number of non-empty pixels to the candidates")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="mimicker hyperparameter (repeat); see hepad.mimic.mimickers")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--output", required=True, help="selection record (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_logging("select_mimicker")
    import h5py

    from hepad.mimic.features import background_splits, log_floor, mimicker_inputs, with_image_observables
    from hepad.mimic.selection import SelectionData, iterative_selection
    from hepad.mimic.mimickers import make_mimicker

    with h5py.File(args.ae_scores, "r") as f:
        ae = {k: f[k][()] for k in f}
    feats, names = with_image_observables(args.background, args.image_observables)
    if len(feats) != len(ae["background"]):
        raise InputError(f"{args.ae_scores} has {len(ae['background'])} background scores, {args.background} "
                         f"{len(feats)} jets; rerun train_image_ae")
    sp = background_splits(len(feats), args.train_fraction, args.select_fraction)
    floor = log_floor(feats[sp.train])  # fitted on the background training jets, applied to every array
    x = mimicker_inputs(feats, floor)
    signals = {}
    for item in args.signals:
        name, _, path = item.partition("=")
        if name not in ae:
            raise InputError(f"no auto-encoder scores for signal {name!r} in {args.ae_scores}; rerun train_image_ae")
        signals[name] = (mimicker_inputs(with_image_observables(path, args.image_observables)[0], floor), ae[name])
    bkg = ae["background"]
    data = SelectionData(names, x[sp.train], bkg[sp.train], x[sp.select], bkg[sp.select], x[sp.test], bkg[sp.test],
                         signals)
    params = dict(args.param)
    params.update(seed=args.seed, threads=args.threads, device=args.device)
    params.pop("n_pairs" if args.kind == "hln" else "target", None)  # the setting of the other mimicker
    result = iterative_selection(data, lambda: make_mimicker(args.kind, **params), n_rounds=args.rounds,
                                 min_gain=args.min_gain)
    result.update(kind=args.kind, image_observables=args.image_observables,
                  params={k: v for k, v in params.items() if k != "device"})
    write_json(result, args.output)


if __name__ == "__main__":
    run_main(main)
