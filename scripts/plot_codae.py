#!/usr/bin/env python
"""ROC curves of the CoDAE scores and the baselines, one panel per signal mass (results/codae_roc.pdf)."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging
from hepad.codae.data import read_scores


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scores", nargs="+", required=True, help="score files over the same test events")
    p.add_argument("--tpr", type=float, default=0.4, help="signal efficiency marked in the plot")
    p.add_argument("--output", nargs="+", required=True, help="plot files (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_codae")
    from hepad.codae.plots import plot_rocs

    scores, events = read_scores(args.scores)
    written = plot_rocs(scores, events, args.output, tpr_mark=args.tpr)
    log.info("wrote %s", ", ".join(written))


if __name__ == "__main__":
    run_main(main)
