#!/usr/bin/env python
"""How the pixel threshold of the CoDAE's binarised track mask decides what the mask can tell.

For each --thresholds value [GeV of summed track pT per pixel] prints the occupancy of the QCD test masks and
the AUC of the number of hit pixels per SVJ mass, next to the number-of-tracks baseline. With --train-epochs N
it also trains a CoDAE (default architecture, QCD training split only) per threshold and prints the AUC of
every score. Reads the image files of make_images (results/codae/make_images by default) with the workflow's
default splits.
"""

import argparse
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.events.images import image_count  # noqa: E402
from hepad.codae.data import Splits, evaluation_set, load_masks, metrics_table  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", default="results/codae/make_images", help="folder with qcd.h5 and svj_<mass>.h5")
    p.add_argument("--thresholds", type=float, nargs="+", default=[0, 1, 2, 5, 10, 20])
    p.add_argument("--train-epochs", type=int, default=0, help="also train a CoDAE per threshold (0: no)")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def auc_table(scores: dict, events: dict) -> str:
    table = metrics_table(scores, events).pivot(index="score", columns="signal", values="auc")
    return table.round(3).to_string()


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
