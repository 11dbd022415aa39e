#!/usr/bin/env python
"""How the pixel threshold of the CoDAE's binarised track mask decides what the mask can tell.

For each --thresholds value [GeV of summed track pT per pixel] prints the occupancy of the QCD test masks and
the AUC of the number of hit pixels per SVJ mass, next to the number-of-tracks baseline. With --train-epochs N
it also trains a CoDAE (default architecture, QCD training split only) per threshold and prints the AUC of
every score. With --supervised-epochs N it trains the supervised CNN (labels: QCD against the pooled SVJ
masses, each signal's supervised split) on the masks of each threshold and once on the track-pT image the
masks are cut from: an upper bound of any score the CoDAE's input can give, beside the track-pT sum. Reads
the image files of make_images (results/codae/make_images by default) with the workflow's default splits.
"""

import argparse
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.events.images import image_count  # noqa: E402
from hepad.codae.data import Splits, evaluation_set, load_masks, load_track_pt, metrics_table  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", default="results/codae/make_images", help="folder with qcd.h5 and svj_<mass>.h5")
    p.add_argument("--thresholds", type=float, nargs="+", default=[0, 1, 2, 5, 10, 20])
    p.add_argument("--train-epochs", type=int, default=0, help="also train a CoDAE per threshold (0: no)")
    p.add_argument("--supervised-epochs", type=int, default=0,
                   help="also train the supervised CNN on each threshold's masks and on the track-pT image (0: no)")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def auc_table(scores: dict, events: dict) -> str:
    table = metrics_table(scores, events).pivot(index="score", columns="signal", values="auc")
    return table.round(3).to_string()


def supervised_scores(loader, qcd, signals, splits, x_test, args) -> np.ndarray:
    """Test scores of the workflow's CNN trained on ``loader``'s images of QCD and the pooled signals."""
    from hepad.codae.baselines import CNNClassifier

    def labelled(part):
        pieces = [loader(qcd, splits.qcd(image_count(qcd))[part])]
        pieces += [loader(s, splits.signal(image_count(s))[part]) for s in signals]
        return (np.concatenate([x for x, _ in pieces]),
                np.concatenate([ev["label"] for _, ev in pieces]).astype(float))

    cnn = CNNClassifier(channels=(8, 16, 32), hidden=32, epochs=args.supervised_epochs, threads=args.threads)
    cnn.progress = False
    cnn.fit(*labelled("train"), *labelled("val"))
    return cnn.predict_proba(x_test)


def main(argv=None):
    args = parse_args(argv)
    folder = Path(args.images)
    qcd = folder / "qcd.h5"
    signals = sorted(folder.glob("svj_*.h5"))
    if not qcd.exists() or not signals:
        raise SystemExit(f"{folder} needs qcd.h5 and svj_<mass>.h5 (run make_images first)")
    splits = Splits()
    for threshold in args.thresholds:
        loader = partial(load_masks, threshold=threshold)
        x, events = evaluation_set(qcd, signals, splits, loader=loader)
        hits = x.reshape(len(x), -1).sum(1).astype(float)
        background = x[events["label"] == 0]
        print(f"\n== pixel threshold {threshold:g} GeV: QCD test occupancy {background.mean():.4f}")
        scores = {"hit_pixels": hits, "ntracks": events["ntracks"].astype(float)}
        if threshold == args.thresholds[0]:
            track_pt = evaluation_set(qcd, signals, splits, loader=load_track_pt)[0]
            scores["track_pt_sum"] = track_pt.sum(axis=(1, 2, 3))
            if args.supervised_epochs:
                scores["cnn_on_track_pt"] = supervised_scores(load_track_pt, qcd, signals, splits, track_pt, args)
            del track_pt
        if args.supervised_epochs:
            scores["cnn_on_mask"] = supervised_scores(loader, qcd, signals, splits, x, args)
        if args.train_epochs:
            from hepad.codae.model import CoDAE

            rows = splits.qcd(image_count(qcd))
            model = CoDAE(epochs=args.train_epochs, threads=args.threads, seed=0)
            model.progress = False
            model.fit(loader(qcd, rows["train"])[0], loader(qcd, rows["val"])[0])
            scores.update({f"codae_{k}": v for k, v in model.score_samples(x).items()})
        print(auc_table(scores, events))


if __name__ == "__main__":
    main()
