#!/usr/bin/env python
"""LaCATHODE's inputs: map the SR data, the test set and the sideband validation events through the SB flow
(best epoch, each event at its own mjj) to the flow's latent space, and draw --oversampling x (SR data)
standard-normal points, the background template there (their mjj from CATHODE's KDE of the SR mjj,
bandwidth --kde-bandwidth). Events outside the flow's training range get NaN latent features. Writes one
HDF5 file (hepad.cathode.modes.write_latent; method: hepad.cathode.lacathode, docs/cathode.md).
"""

import argparse

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, write_latent
from hepad.cathode.prepared import read_columns
from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--flow", required=True, help="SB model folder (train_flow --region sb)")
    p.add_argument("--sr", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--oversampling", type=float, required=True, help="base draws per SR data event")
    p.add_argument("--kde-bandwidth", type=float, required=True, help="KDE bandwidth in logit(mjj) space")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--output", required=True, help="latent sets (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("latent_sr")
    from hepad.cathode.density import ConditionalDensity
    from hepad.cathode.lacathode import latent_sets

    if args.oversampling <= 0:
        raise InputError(f"--oversampling must be > 0, got {args.oversampling}")
    model = ConditionalDensity.load(args.flow, device=args.device, threads=args.threads)
    splits, (train, val) = latent_sets(model, args.data, sr=tuple(args.sr), oversampling=args.oversampling,
                                       kde_bandwidth=args.kde_bandwidth, seed=args.seed)
    for name in ("sr_train", "sr_val"):
        z = splits[name][:, FEATURE_INDEX]
        z = z[np.isfinite(z).all(axis=1)]
        log.info("%s: latent mean %s, std %s (standard normal for pure background)", name,
                 np.round(z.mean(axis=0), 3).tolist(), np.round(z.std(axis=0), 3).tolist())
    write_latent(splits, (train, val), args.output, columns=read_columns(args.data))
    log.info("wrote the latent sets and %d + %d base draws to %s", len(train), len(val), args.output)


if __name__ == "__main__":
    run_main(main)
