#!/usr/bin/env python
"""Score the common test set (QCD test split + each signal's test split) with every CoDAE score.

Writes label, mass, number of tracks and the scores bce, mse, dice, energy_diff, zm1, zm2, zm_dist and
(codvae, gaussian_vae) kl, each prefixed with the model's variant ('codae_bce', 'codvae_kl'); see
hepad.codae.model and hepad.codae.data.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from functools import partial

from hepad.io import run_main, setup_logging
from hepad.codae.data import Splits, evaluation_set, load_masks, write_scores


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="CoDAE model of train_codae")
    p.add_argument("--qcd", required=True, help="QCD image file")
    p.add_argument("--signals", nargs="+", required=True, help="signal image files")
    p.add_argument("--qcd-test-fraction", type=float, required=True)
    p.add_argument("--val-fraction", type=float, required=True)
    p.add_argument("--signal-train-fraction", type=float, required=True)
    p.add_argument("--mask-threshold", type=float, required=True,
                   help="summed track pT [GeV] above which a pixel is hit in the binarised mask")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--output", required=True, help="score file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("score_codae")
    from hepad.codae.model import CoDAE
    from hepad.models.flows import set_threads

    set_threads(args.threads)
    splits = Splits(args.qcd_test_fraction, args.val_fraction, args.signal_train_fraction)
    model = CoDAE.load(args.model)
    model.device = args.device
    masks, events = evaluation_set(args.qcd, args.signals, splits,
                                   loader=partial(load_masks, threshold=args.mask_threshold))
    scores = {f"{model.variant}_{k}": v for k, v in model.score_samples(masks).items()}
    write_scores(args.output, scores, events, meta={"model": str(args.model)})
    log.info("scored %d test events (%d signal) with %s", len(masks), int(events["label"].sum()), sorted(scores))


if __name__ == "__main__":
    run_main(main)
