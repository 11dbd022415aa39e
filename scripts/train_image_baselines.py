#!/usr/bin/env python
"""The CoDAE study's baselines on the common test set: the number of tracks, a plain convolutional
auto-encoder (track mask, QCD only) and a supervised CNN on the full images (signal labels: an upper bound).

Writes both models into --output (a folder: conv_ae.pt, cnn.pt) and the test-set scores ntracks,
track_pt_sum (scalar sum of the track pT in the image), conv_ae_{bce,mse,dice,energy_diff} and cnn to --scores.
"""

import argparse

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.events.images import image_count
from hepad.io import InputError, parse_param, run_main, setup_logging
from hepad.events.images import binarise
from hepad.codae.data import Splits, evaluation_set, load_full, load_masks, load_track_pt, write_scores


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qcd", required=True, help="QCD image file")
    p.add_argument("--signals", nargs="+", required=True, help="signal image files")
    p.add_argument("--qcd-test-fraction", type=float, required=True)
    p.add_argument("--val-fraction", type=float, required=True)
    p.add_argument("--signal-train-fraction", type=float, required=True)
    p.add_argument("--mask-threshold", type=float, required=True,
                   help="summed track pT [GeV] above which a pixel is hit in the binarised mask")
    p.add_argument("--ae-param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of hepad.codae.baselines.ConvAutoEncoder (repeat)")
    p.add_argument("--cnn-param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="hyperparameter of hepad.codae.baselines.CNNClassifier (repeat)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--output", required=True, help="model folder")
    p.add_argument("--scores", required=True, help="score file (.h5)")
    return p.parse_args(argv)


def supervised_sets(qcd, signals, splits, part):
    """QCD rows of the AE train (or val) split and each signal's supervised train (or val) rows: images, labels."""
    pieces = [load_full(qcd, splits.qcd(image_count(qcd))[part])]
    pieces += [load_full(p, splits.signal(image_count(p))[part]) for p in signals]
    x = np.concatenate([p[0] for p in pieces])
    y = np.concatenate([p[1]["label"] for p in pieces]).astype(float)
    return x, y


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_image_baselines")
    from pathlib import Path

    from hepad.codae.baselines import CNNClassifier, ConvAutoEncoder, n_tracks_score

    splits = Splits(args.qcd_test_fraction, args.val_fraction, args.signal_train_fraction)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    common = dict(seed=args.seed, threads=args.threads, device=args.device)
    try:
        ae = ConvAutoEncoder(**dict(args.ae_param), **common)
        cnn = CNNClassifier(**dict(args.cnn_param), **common)
    except TypeError as err:
        raise InputError(f"codae.conv_ae / codae.cnn: {err}")

    rows = splits.qcd(image_count(args.qcd))
    log.info("plain conv auto-encoder on %d QCD track masks", len(rows["train"]))
    ae.fit(load_masks(args.qcd, rows["train"], args.mask_threshold)[0],
           load_masks(args.qcd, rows["val"], args.mask_threshold)[0])
    ae.save(out / "conv_ae.pt")

    x_train, y_train = supervised_sets(args.qcd, args.signals, splits, "train")
    x_val, y_val = supervised_sets(args.qcd, args.signals, splits, "val")
    log.info("supervised CNN on %d images (%d signal)", len(x_train), int(y_train.sum()))
    cnn.fit(x_train, y_train, x_val, y_val)
    cnn.save(out / "cnn.pt")
    del x_train, x_val

    track_pt, events = evaluation_set(args.qcd, args.signals, splits, loader=load_track_pt)
    # Track pT sum: a second physics baseline; the auto-encoders see hit masks, not pT.
    scores = {"ntracks": n_tracks_score(events["ntracks"]), "track_pt_sum": track_pt.sum(axis=(1, 2, 3))}
    scores.update({f"conv_ae_{k}": v for k, v in ae.score_samples(binarise(track_pt, args.mask_threshold)).items()})
    del track_pt
    full, _ = evaluation_set(args.qcd, args.signals, splits, loader=load_full)
    scores["cnn"] = cnn.predict_proba(full)
    write_scores(args.scores, scores, events)
    log.info("scored %d test events: %s", len(full), sorted(scores))


if __name__ == "__main__":
    run_main(main)
