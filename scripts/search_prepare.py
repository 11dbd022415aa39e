#!/usr/bin/env python
"""Prepare one window of the bump hunt (docs/search.md): inject --nsig signal events with --seed (the same
pseudo-data for every window), then take the window's SR events and the events outside it, and give each
of them its k-fold number. Stops if the window or its sidebands (everything outside the window, or within
--sideband-margin of its edges) are empty; the SB flow (search_train_flow) takes its sidebands from the
events outside.

Writes one HDF5 file: datasets sr, outside (rows of hepad.cathode.prepared.COLUMNS), sr_fold, outside_fold,
sr_index, outside_index (rows of the injected data), attrs window, k, seed, nsig, index.
"""

import argparse

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.prepare import cathode_features
from hepad.events.formats import read_lhco_features
from hepad.io import atomic_output, run_main, setup_logging
from hepad.search.kfold import fold_ids
from hepad.search.windows import Window, inject, window_split


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", required=True, help="LHCO-format file with background and signal")
    p.add_argument("--nsig", type=int, required=True, help="signal events to inject (whole mjj range)")
    p.add_argument("--seed", type=int, required=True, help="seed of the injection and of the folds")
    p.add_argument("--window", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--index", type=int, default=0, help="the window's place in the scan (seeds its folds)")
    p.add_argument("--sideband-margin", type=float, default=None, help="[TeV]; default: all outside")
    p.add_argument("--k", type=int, required=True, help="folds")
    p.add_argument("--output", required=True, help="window file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_prepare")
    window = Window(args.index, *args.window)
    features = cathode_features(read_lhco_features(args.features))
    data = inject(features, args.nsig, args.seed)
    split = window_split(data, window, args.sideband_margin)
    sr = data[split["sr"]]
    outside_index = np.flatnonzero(~np.isin(np.arange(len(data)), split["sr"]))
    seed = 1000 * args.seed + args.index
    with atomic_output(args.output) as tmp, h5py.File(tmp, "w", track_order=True) as out:
        out.attrs["window"] = [window.low, window.high]
        out.attrs.update(k=args.k, seed=args.seed, nsig=args.nsig, index=args.index)
        for name, rows in (("sr", sr), ("outside", data[outside_index])):
            out.create_dataset(name, data=rows, track_times=False)
        out.create_dataset("sr_index", data=split["sr"], track_times=False)
        out.create_dataset("outside_index", data=outside_index, track_times=False)
        out.create_dataset("sr_fold", data=fold_ids(len(sr), args.k, seed), track_times=False)
        out.create_dataset("outside_fold", data=fold_ids(len(outside_index), args.k, seed + 500), track_times=False)
    log.info("window %s: %d SR events (%d signal), %d sideband events, %d outside", window.label, len(sr),
             int(sr[:, 5].sum()), len(split["sb"]), len(outside_index))


if __name__ == "__main__":
    run_main(main)
