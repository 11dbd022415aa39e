#!/usr/bin/env python
"""Train the conditional dual auto-encoder on the binarised track masks of QCD images (training split only).

The validation split picks the best epoch. Writes the model (torch file, hepad.codae.model.CoDAE.load) and a
JSON card with its hyperparameters and training history.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.events.images import image_count
from hepad.io import InputError, parse_param, run_main, setup_logging
from hepad.codae.data import Splits, load_masks


def parse_args(argv=None, description=__doc__):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qcd", required=True, help="QCD image file of make_images")
    p.add_argument("--qcd-test-fraction", type=float, required=True)
    p.add_argument("--val-fraction", type=float, required=True)
    p.add_argument("--mask-threshold", type=float, required=True,
                   help="summed track pT [GeV] above which a pixel is hit in the binarised mask")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of hepad.codae.model.CoDAE (repeat)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None, help="torch device (default: the GPU if visible)")
    p.add_argument("--output", required=True, help="model file (.pt)")
    p.add_argument("--card", required=True, help="JSON with hyperparameters and history")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_codae")
    from hepad.codae.model import CoDAE, write_model_card

    splits = Splits(qcd_test_fraction=args.qcd_test_fraction, val_fraction=args.val_fraction)
    rows = splits.qcd(image_count(args.qcd))
    x_train, _ = load_masks(args.qcd, rows["train"], args.mask_threshold)
    x_val, _ = load_masks(args.qcd, rows["val"], args.mask_threshold)
    log.info("QCD track masks: %d train, %d val, occupancy %.4f", len(x_train), len(x_val), x_train.mean())
    try:
        model = CoDAE(**dict(args.param), seed=args.seed, threads=args.threads, device=args.device)
    except TypeError as err:
        raise InputError(f"codae.model: {err}")
    model.fit(x_train, x_val)
    model.save(args.output)
    write_model_card(model, args.card)
    log.info("saved %s", args.output)


if __name__ == "__main__":
    run_main(main)
