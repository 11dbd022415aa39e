#!/usr/bin/env python
"""Generate one chunk of a dark-shower study process (qcd, svj_<mass> or suep_<mass>) with its event-level
detector objects.

Pythia 8 (Hidden Valley for svj_<mass>; gg -> scalar for suep_<mass>, the scalar decayed by
hepad.events.suep) -> the parametrised detector -> anti-kT jets -> trigger on the leading jet pT or HT. Writes every detector object of the accepted events and per-event columns (label, mass,
number of tracks, jet pT, missing pT); see hepad.events.dark_showers.
"""

import argparse
import json

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.events.dark_showers import TRIGGERS, DarkChunkSettings, DarkSector, generate_dark_chunk, write_dark_chunk
from hepad.events.suep import SuepParams
from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--process", required=True, help="qcd, svj_<Z' mass in GeV> or suep_<scalar mass in GeV>")
    p.add_argument("--chunk", type=int, required=True, help="chunk number (picks the seeds)")
    p.add_argument("--events", type=int, required=True, help="accepted events to make")
    p.add_argument("--seed", type=int, default=1, help="config seed of the dark-shower samples")
    p.add_argument("--qcd-pthat-min", type=float, required=True, help="PhaseSpace:pTHatMin of qcd [GeV]")
    p.add_argument("--qcd-bias-power", type=float, required=True,
                   help="PhaseSpace:bias2SelectionPow of qcd (0 = unbiased pT-hat spectrum)")
    p.add_argument("--trigger", choices=TRIGGERS, required=True, help="trigger variable: leading-jet pT or HT")
    p.add_argument("--trigger-pt", type=float, required=True, help="trigger threshold [GeV]")
    p.add_argument("--jet-radius", type=float, required=True)
    p.add_argument("--dark-sector", default="{}", help="JSON of hepad.events.dark_showers.DarkSector arguments")
    p.add_argument("--suep-pthat-min", type=float, required=True,
                   help="suep_<mass>: 0 = g g -> H; > 0 = H + parton above this pT-hat [GeV]")
    p.add_argument("--suep", default="{}", help="JSON of hepad.events.suep.SuepParams arguments")
    p.add_argument("--detector", default="{}", help="JSON of the generation.detector config ({} = defaults)")
    p.add_argument("--output", required=True, help="chunk file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("generate_dark_showers")
    if args.events < 1:
        raise InputError(f"--events must be positive, got {args.events}")
    try:
        sector = DarkSector(**json.loads(args.dark_sector))
        suep = SuepParams(**json.loads(args.suep))
        detector = json.loads(args.detector) or None
    except (TypeError, ValueError) as err:
        raise InputError(f"codae.generation.dark_sector / codae.generation.suep / generation.detector: {err}")
    settings = DarkChunkSettings(seed=args.seed, qcd_pthat_min=args.qcd_pthat_min, trigger_pt=args.trigger_pt,
                                 jet_radius=args.jet_radius, sector=sector, detector=detector, trigger=args.trigger,
                                 qcd_bias_power=args.qcd_bias_power, suep=suep,
                                 suep_pthat_min=args.suep_pthat_min)
    chunk = generate_dark_chunk(args.process, args.chunk, args.events, settings, log)
    write_dark_chunk(chunk, args.output)
    log.info("wrote %d events (%d objects) to %s", chunk.n_events, int(chunk.n_objects.sum()), args.output)


if __name__ == "__main__":
    run_main(main)
