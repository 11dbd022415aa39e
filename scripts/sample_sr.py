#!/usr/bin/env python
"""Sample CATHODE's background model in the signal region: mjj from a KDE of the SR data's mjj (in logit
space, bandwidth --kde-bandwidth), features from the SB flow ensemble at those mjj, back in physical units.
A sample outside the range of the flow's training data is rejected and redrawn at the same mjj (never
clipped), so exactly the requested number is written (hepad.cathode.density.ConditionalDensity.sample). Writes --oversampling x (SR data) samples, split into train and
val in the proportion of sr_train / sr_val, as one HDF5 file (hepad.cathode.modes.write_samples).
"""

import argparse

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ, split_like, val_fraction, write_samples
from hepad.cathode.prepared import load_split, read_columns
from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--flow", required=True, help="SB model folder (train_flow --region sb)")
    p.add_argument("--sr", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--oversampling", type=float, required=True, help="samples per SR data event")
    p.add_argument("--kde-bandwidth", type=float, required=True, help="KDE bandwidth in logit(mjj) space")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--output", required=True, help="samples file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("sample_sr")
    from hepad.cathode.density import ConditionalDensity
    from hepad.cathode.kde import LogitKDE

    if args.oversampling <= 0:
        raise InputError(f"--oversampling must be > 0, got {args.oversampling}")
    sr_train, sr_val = load_split(args.data, "sr_train"), load_split(args.data, "sr_val")
    mjj = np.concatenate([sr_train[:, MJJ], sr_val[:, MJJ]])
    n = int(round(args.oversampling * len(mjj)))
    rng = np.random.default_rng(args.seed)
    kde = LogitKDE(bandwidth=args.kde_bandwidth).fit(mjj, *args.sr)
    mjj_samples = kde.sample(n, seed=int(rng.integers(2**31)))
    model = ConditionalDensity.load(args.flow, device=args.device, threads=args.threads)
    log.info("sampling %d events (%.3g x %d SR data events) from %s", n, args.oversampling, len(mjj), args.flow)
    features = model.sample(mjj_samples, seed=int(rng.integers(2**31)))
    log.info("%.3f %% of the flow's draws fell outside the training range and were redrawn",
             100 * (1 - model.acceptance_))
    columns = read_columns(args.data)
    rows = np.zeros((n, len(columns)))
    rows[:, MJJ] = mjj_samples
    rows[:, FEATURE_INDEX] = features
    train, val = split_like(rows, val_fraction(sr_train, sr_val))
    write_samples(train, val, args.output, columns=columns)
    for i, name in enumerate(columns[:-1]):
        log.info("%-8s data mean %.4f std %.4f | samples mean %.4f std %.4f", name,
                 np.r_[sr_train[:, i], sr_val[:, i]].mean(), np.r_[sr_train[:, i], sr_val[:, i]].std(),
                 rows[:, i].mean(), rows[:, i].std())
    log.info("wrote %d training and %d validation samples to %s", len(train), len(val), args.output)


if __name__ == "__main__":
    run_main(main)
