#!/usr/bin/env python
"""Generate one chunk of boosted single jets (leading jet in a pT window) for the mimicker study:
Pythia 8 -> detector response -> anti-kT jets, as in hepad.events.single_jets. Writes a jet-sample file."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--process", required=True, help="qcd, top_<mt>_<mW> or w_<mW> (GeV)")
    p.add_argument("--chunk", type=int, required=True, help="chunk number (with --seed, decides the Pythia seed)")
    p.add_argument("--jets", type=int, required=True, help="accepted jets in this chunk")
    p.add_argument("--seed", type=int, default=1, help="generation seed of the config")
    p.add_argument("--pt-window", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"))
    p.add_argument("--pthat", type=float, nargs=2, required=True, metavar=("MIN", "MAX"),
                   help="Pythia hard-process pT window [GeV]")
    p.add_argument("--radius", type=float, required=True, help="anti-kT radius")
    p.add_argument("--mass-window", type=float, required=True, help="resonances within m (1 -+ this)")
    p.add_argument("--detector", default="", help="detector settings as JSON (config generation.detector); "
                   "default: hepad.events.detector defaults")
    p.add_argument("--output", required=True, help="jet-sample file (.h5)")
    p.add_argument("--meta", help="JSON with the chunk's bookkeeping (default: output with .json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("generate_single_jets")
    from hepad.events.mimicker_io import write_jet_sample
    from hepad.events.single_jets import SingleJetSettings, generate_single_jets

    settings = SingleJetSettings(seed=args.seed, pt_min=args.pt_window[0], pt_max=args.pt_window[1],
                                 pthat_min=args.pthat[0], pthat_max=args.pthat[1], jet_radius=args.radius,
                                 mass_window=args.mass_window)
    detector = None
    if args.detector:
        import json

        from hepad.events.detector import Detector

        try:
            detector = Detector.from_config(json.loads(args.detector))
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"--detector: {err}")
    sample, meta = generate_single_jets(args.process, args.chunk, args.jets, settings, detector=detector, log=log)
    write_jet_sample(sample, args.output)
    write_json(meta, args.meta or args.output.rsplit(".", 1)[0] + ".json")


if __name__ == "__main__":
    run_main(main)
