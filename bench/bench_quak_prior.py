#!/usr/bin/env python
"""Time to train one QUAK prior on many events with the default config's hyperparameters (issue goal:
500k events in at most 10 minutes on 2 cores). The events are a 12-dimensional toy with the shapes of
the QUAK inputs after standardisation (skewed masses, bounded ratios, correlated jets, dequantised
counts); the training cost depends on the number of events, features and the model, not on the
physics. Prints events, epochs run, seconds per epoch, total seconds, and the validation loss.

    python bench/bench_quak_prior.py --events 500000 --threads 2 --family flow
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from hepad.config import validate_config  # noqa: E402
from hepad.quak.features import Standardizer  # noqa: E402
from hepad.quak.priors import make_prior  # noqa: E402


def toy_inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    cols = []
    for j in range(2):
        mass = np.exp(4.0 + 0.6 * latent[:, j] + 0.2 * rng.normal(size=n))
        ratios = [1 / (1 + np.exp(-(0.8 * latent[:, 2] + rng.normal(size=n)))) for _ in range(3)]
        sqrt_ratio = np.abs(1.5 + 0.4 * latent[:, 3] + 0.3 * rng.normal(size=n))
        ncons = rng.poisson(np.clip(40 + 15 * latent[:, j], 2, None)) + rng.uniform(-0.5, 0.5, n)
        cols += [mass, *ratios, sqrt_ratio, ncons]
    return Standardizer().fit(np.stack(cols, 1)).transform(np.stack(cols, 1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=500_000, help="training events")
    p.add_argument("--val-fraction", type=float, default=0.2, help="validation events relative to training")
    p.add_argument("--family", choices=["flow", "vae"], default="flow")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-epochs", type=int, default=None, help="override the config default")
    args = p.parse_args()
    params = dict(validate_config({})["quak"][args.family])
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    n_val = int(args.events * args.val_fraction)
    x = toy_inputs(args.events + n_val).astype(np.float32)
    prior = make_prior(args.family, params, seed=1, threads=args.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    prior.fit(x[: args.events], x[args.events:])
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    hist = prior.history_
    per_epoch = np.mean(prior.epoch_seconds_)
    key = "val_nll" if args.family == "flow" else "val_loss"
    print(f"family {args.family}, params {params}")
    print(f"events {args.events} (+{n_val} validation), threads {args.threads}: {len(hist)} epochs, "
          f"{per_epoch:.1f} s per epoch, {total:.0f} s in all ({total / 60:.1f} min); "
          f"best validation loss {min(h[key] for h in hist):.4f}")
    # On a shared machine the wall time includes waiting for the cores; the CPU time does not.
    print(f"CPU time {cpu:.0f} s ({cpu / len(hist):.1f} s per epoch); load average at end {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    prior.score(x[:100_000])
    print(f"scoring: {100_000 / (time.perf_counter() - t0):.0f} events/s")


if __name__ == "__main__":
    main()
