#!/usr/bin/env python
"""The published CoDAE images (.npz files of a test and a train folder) as one image file per process.

Replaces make_images when ``codae.dataset: external``: each file must hold ``images`` (N, 72, 58, 3), ``labels``,
``masses`` (mass codes) and ``n_tracks`` (N, 1), as the paper's authors published them (hepad.codae.external);
a file in another layout stops the run with a message naming it and the missing key or wrong shape. Per
process, the test folder's events come first (the chain's test split takes the first events).
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.codae.external import CHANNELS, convert_external, npz_files
from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--test-folder", required=True, help="folder of the published test .npz files")
    p.add_argument("--train-folder", required=True, help="folder of the published train .npz files")
    p.add_argument("--channels", nargs="+", default=list(CHANNELS), choices=CHANNELS)
    p.add_argument("--processes", nargs="+", required=True, help="process names (qcd, suep_<mH>, svj_<m>)")
    p.add_argument("--outputs", nargs="+", required=True, help="one image file (.h5) per process, same order")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("convert_external")
    if len(args.processes) != len(args.outputs):
        raise InputError(f"{len(args.processes)} processes but {len(args.outputs)} outputs")
    files = npz_files(args.test_folder)
    train = npz_files(args.train_folder)
    files += [f for f in train if f not in files]  # the same folder twice: each file once
    counts = convert_external(files, dict(zip(args.processes, args.outputs)), channels=args.channels)
    log.info("converted %d .npz files: %s", len(files), counts)


if __name__ == "__main__":
    run_main(main)
