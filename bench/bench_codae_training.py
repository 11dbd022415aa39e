#!/usr/bin/env python
"""CoDAE training throughput (images per second, wall and CPU) and the extrapolated time of 100k images x
30 epochs.

Trains the default-architecture CoDAE (or the one of --param options) for --epochs on --n images: QCD
track masks from an image file of make_images (--images) or random masks of the given occupancy. Prints
images/s per epoch and the extrapolation; the issue's goal is <= 30 min for 100k images x 30 epochs on
2 cores. Say in bench/RESULTS.md what else ran on the machine: the figure scales with the free CPU.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.codae.model import CoDAE  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", help="image file of make_images (QCD); default: random masks")
    p.add_argument("--n", type=int, default=4096, help="training images")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val", type=int, default=0, help="validation images after the training ones (prints the best loss)")
    p.add_argument("--mask-threshold", type=float, default=5.0, help="pixel pT threshold of the masks [GeV]")
    p.add_argument("--occupancy", type=float, default=0.025)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="CoDAE hyperparameter (YAML value)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.images:
        from hepad.codae.data import load_masks

        x, _ = load_masks(args.images, np.arange(args.n + args.val), args.mask_threshold)
    else:
        x = (np.random.default_rng(0).random((args.n + args.val, 1, 72, 58)) < args.occupancy).astype(np.uint8)
    x, x_val = x[:args.n], x[args.n:]
    params = dict(p.split("=", 1) for p in args.param)
    params = {k: yaml.safe_load(v) for k, v in params.items()}
    model = CoDAE(**params, epochs=args.epochs, threads=args.threads, seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(x, x_val if args.val else None)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    rates = [len(x) / s for s in model.epoch_seconds_]
    best = max(rates)
    n_params = sum(p.numel() for p in model._net.parameters())
    print(f"CoDAE {n_params} parameters, {len(x)} images x {args.epochs} epochs on {args.threads} threads, "
          f"load average {os.getloadavg()[0]:.1f}: {total:.1f} s in all")
    if args.val:
        print(f"best validation loss (BCE per pixel, {args.val} images): {min(h['val_loss'] for h in model.history_):.5f}")
    print("images/s per epoch: " + ", ".join(f"{r:.0f}" for r in rates))
    print(f"100k images x 30 epochs at the best epoch's rate: {3e6 / best / 60:.0f} min "
          f"(at the mean rate: {3e6 / np.mean(rates) / 60:.0f} min)")
    # CPU time counts what the process really got: on a shared machine the wall-clock rate understates it.
    per_cpu = len(x) * args.epochs / cpu
    print(f"CPU time {cpu:.1f} s ({cpu / total:.2f} cores busy on average): {per_cpu:.0f} images per CPU-second; "
          f"100k x 30 epochs = {3e6 / per_cpu / 3600:.1f} CPU-hours, {3e6 / per_cpu / 60 / args.threads:.0f} min "
          f"on {args.threads} free cores if the threads scale perfectly")


if __name__ == "__main__":
    main()
