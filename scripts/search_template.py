#!/usr/bin/env python
"""Sample the CATHODE background template of one window of the bump hunt (docs/search.md) from the SB flow
of its flow group (search_train_flow): --oversampling x (SR events) samples, mjj from the logit KDE of the
window's SR mjj, features from the flow. Every sample gets a fold number, so that the template is scored
out of fold like the data. Writes datasets template and fold, attrs window.
"""

import argparse

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ
from hepad.cathode.prepared import COLUMNS
from hepad.io import atomic_output, run_main, setup_logging
from hepad.search.kfold import fold_ids


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="window file (search_prepare)")
    p.add_argument("--flow", required=True, help="model folder of the window's flow group (search_train_flow)")
    p.add_argument("--output", required=True, help="background template (.h5)")
    p.add_argument("--oversampling", type=float, required=True, help="template samples per SR event")
    p.add_argument("--kde-bandwidth", type=float, required=True, help="KDE bandwidth in logit(mjj) space")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_template")
    from hepad.cathode.density import ConditionalDensity
    from hepad.cathode.kde import LogitKDE

    with h5py.File(args.data, "r") as f:
        sr = f["sr"][()]
        low, high = (float(v) for v in f.attrs["window"])
        k = int(f.attrs["k"])
    model = ConditionalDensity.load(args.flow, device=args.device, threads=args.threads)
    rng = np.random.default_rng(args.seed)
    n = int(round(args.oversampling * len(sr)))
    mjj = LogitKDE(bandwidth=args.kde_bandwidth).fit(sr[:, MJJ], low, high).sample(n, seed=int(rng.integers(2**31)))
    rows = np.zeros((n, len(COLUMNS)))
    rows[:, MJJ] = mjj
    rows[:, FEATURE_INDEX] = model.sample(mjj, seed=int(rng.integers(2**31)))
    with atomic_output(args.output) as tmp, h5py.File(tmp, "w") as out:
        out.attrs["window"] = [low, high]
        out.create_dataset("template", data=rows, track_times=False)
        out.create_dataset("fold", data=fold_ids(n, k, args.seed + 7), track_times=False)
    log.info("window %.2f-%.2f TeV: %d template samples from %s", low, high, n, args.flow)


if __name__ == "__main__":
    run_main(main)
