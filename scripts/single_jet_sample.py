#!/usr/bin/env python
"""One named sample of the mimicker study as a jet-sample file: from generated chunks (concatenated)
or from a Zenodo file (leading jets, (E, px, py, pz) checked); jets outside the pT window dropped,
at most --max-jets kept (in order)."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--source", choices=["generated", "zenodo"], required=True)
    p.add_argument("--inputs", nargs="+", required=True, help="chunk files (generated) or one Zenodo file")
    p.add_argument("--sample", required=True, help="sample name, stored in the file")
    p.add_argument("--pt-window", type=float, nargs=2, default=(550.0, 650.0), metavar=("LOW", "HIGH"))
    p.add_argument("--max-jets", type=int, default=0, help="keep at most this many jets (0: all)")
    p.add_argument("--output", required=True)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("single_jet_sample")
    from hepad.events.mimicker_io import (concatenate, pt_window, read_jet_sample, read_zenodo, write_jet_sample,
                                          zenodo_size)

    if args.source == "zenodo":
        if len(args.inputs) != 1:
            raise InputError("--source zenodo takes exactly one input file")
        # read blocks until enough jets are in the pT window (the files hold 100k events or more)
        total = zenodo_size(args.inputs[0])
        block = max(4 * args.max_jets, 10000) if args.max_jets else total
        parts, start, n_in = [], 0, 0
        while start < total and (not args.max_jets or n_in < args.max_jets):
            part = pt_window(read_zenodo(args.inputs[0], max_jets=block, start=start), *args.pt_window)
            parts.append(part)
            n_in += part.n_jets
            start += block
        sample, n_read = concatenate(parts), min(start, total)
    else:
        sample = concatenate([read_jet_sample(p) for p in args.inputs])
        n_read = sample.n_jets
        sample = pt_window(sample, *args.pt_window)
    if args.max_jets and sample.n_jets > args.max_jets:
        sample = sample.head(args.max_jets)
    elif args.max_jets and sample.n_jets < args.max_jets:
        log.warning("%s: only %d jets in the pT window (%d requested)", args.sample, sample.n_jets, args.max_jets)
    if sample.n_jets < 10:
        raise InputError(f"{args.sample}: only {sample.n_jets} jets with {args.pt_window[0]} <= pT <= "
                         f"{args.pt_window[1]} GeV among {n_read}; check the input files and mimickers.pt_window")
    sample.attrs["sample"] = args.sample
    write_jet_sample(sample, args.output)
    log.info("%s: %d of %d jets in the pT window written", args.sample, sample.n_jets, n_read)


if __name__ == "__main__":
    run_main(main)
