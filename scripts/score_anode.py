#!/usr/bin/env python
"""ANODE: score the test set with log p_SR(x|m) - log p_SB(x|m) of the SR and SB flows (no classifier).

A separate step from training so that evaluate reads every mode's scores in one format.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import evaluation_set, write_scores
from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--flow-sr", required=True, help="SR model folder (train_flow --region sr)")
    p.add_argument("--flow-sb", required=True, help="SB model folder (train_flow --region sb)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--scores", required=True, help="test-set scores (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("score_anode")
    from hepad.cathode.density import ConditionalDensity, anode_scores

    sr = ConditionalDensity.load(args.flow_sr, device=args.device, threads=args.threads)
    sb = ConditionalDensity.load(args.flow_sb, device=args.device, threads=args.threads)
    x, mjj, labels = evaluation_set(args.data)
    scores = anode_scores(sr, sb, x, mjj)
    write_scores(scores, labels, mjj, args.scores, mode="anode", family="flow")
    log.info("scored %d test events (%d signal)", len(labels), int(labels.sum()))


if __name__ == "__main__":
    run_main(main)
