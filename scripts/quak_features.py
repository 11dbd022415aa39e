#!/usr/bin/env python
"""The QUAK samples of generated events: the 12 inputs (hepad.quak.features, less those of --drop) of the background process,
every signal-prior process and every held-out signal process, mjj cut, splits, standardised with the
background's training mean and std. Writes one HDF5 sample file (layout in hepad.quak.features).

Each process is given as NAME=PATH of its merged extended-features file (same row order as its LHCO file).
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def named_path(text):
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--background", type=named_path, required=True, help="NAME=PATH of the background process")
    p.add_argument("--prior", type=named_path, action="append", default=[], help="NAME=PATH of a signal prior (repeat)")
    p.add_argument("--signal", type=named_path, action="append", default=[], help="NAME=PATH of a held-out signal (repeat)")
    p.add_argument("--mjj-min", type=float, required=True, help="dijet-mass cut [TeV]")
    p.add_argument("--max-background", type=int, default=None, help="at most this many background events")
    p.add_argument("--max-signal", type=int, default=None, help="at most this many events per signal process")
    p.add_argument("--seed", type=int, default=1, help="seed of the splits and the dequantisation")
    p.add_argument("--drop", action="append", default=[],
                   help="an input left out: a per-jet name (ncons: both jets) or one jet's (ncons_j1); repeat")
    p.add_argument("--output", required=True, help="sample file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("quak_features")
    from hepad.quak.features import physics_samples, read_extended, write_samples

    if not args.signal:
        raise InputError("at least one held-out signal (--signal NAME=PATH) is needed")
    processes = dict([args.background] + args.prior + args.signal)
    extended = {}
    for name, path in processes.items():
        extended[name] = read_extended(path)
        log.info("%s: %d events from %s", name, len(extended[name]), path)
    sets, meta = physics_samples(
        extended, args.background[0], [n for n, _ in args.prior], [n for n, _ in args.signal],
        mjj_min_tev=args.mjj_min, seed=args.seed, max_background=args.max_background, max_signal=args.max_signal,
        drop_inputs=args.drop)
    log.info("inputs: %s%s", ", ".join(meta["features"]),
             f" (dropped: {', '.join(meta['dropped'])})" if meta["dropped"] else "")
    for sample, counts in meta["counts"].items():
        log.info("%s: %s", sample, ", ".join(f"{k} {v}" for k, v in counts.items()))
    write_samples(args.output, sets, meta)
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    run_main(main)
