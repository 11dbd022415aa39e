#!/usr/bin/env python
"""Draw the bump hunt of one method and injection (docs/search.md): per window the selected mjj spectrum
at every threshold with its background estimate and band, and the local significance per window and
threshold. Reads the JSON of search_significance; writes every file of --output (format from the suffix).
"""

import argparse
import json

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging
from hepad.plots.style import save_figure
from hepad.search.plots import plot_bumphunt


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--significance", required=True, help="JSON of search_significance")
    p.add_argument("--title", default="")
    p.add_argument("--output", nargs="+", required=True, help="plot files (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_bumphunt")
    with open(args.significance) as f:
        record = json.load(f)
    fig = plot_bumphunt(record, args.title)
    log.info("wrote %s", ", ".join(save_figure(fig, args.output)))


if __name__ == "__main__":
    run_main(main)
