#!/usr/bin/env python
"""Draw whether cuts on the anomaly score keep the background mjj spectrum (hepad.cathode.plot_sculpting):
per --panel (a title and the scores files of train_classifier / train_ranode on one data set) the selected
share per mjj bin over the efficiency, for each method and each --efficiencies value."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--panel", nargs="+", action="append", required=True, metavar=("TITLE", "SCORES"),
                   help="a panel title and its scores files (repeat for more panels)")
    p.add_argument("--efficiencies", type=float, nargs="+", required=True, help="background efficiencies of the cuts")
    p.add_argument("--bins", type=int, required=True, help="equal-population mjj bins")
    p.add_argument("--sr", type=float, nargs=2, required=True, metavar=("LOW", "HIGH"), help="[TeV]")
    p.add_argument("--title", default="")
    p.add_argument("--output", nargs="+", required=True, help="plot files; the suffix sets the format (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_sculpting")
    from hepad.cathode.plot_sculpting import load_background, plot_sculpting
    from hepad.io import InputError
    from hepad.plots.style import save_figure, use_style

    panels = []
    for title, *files in args.panel:
        if not files:
            raise InputError(f"--panel {title!r} names no scores file")
        panels.append((title, [load_background(path) for path in files]))
    use_style()
    written = save_figure(plot_sculpting(panels, args.efficiencies, args.bins, tuple(args.sr), args.title), args.output)
    log.info("wrote %s", ", ".join(written))


if __name__ == "__main__":
    run_main(main)
