#!/usr/bin/env python
"""Draw the bump hunt's significance against the injected S/B (docs/search.md): the maximum local Z and,
where the pseudo-experiments resolve it, the global Z, median and 16-84 % band over seeds, per method.
Reads the JSONs of search_significance; writes every file of --output (format from the suffix).
"""

import argparse
import json

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging
from hepad.plots.style import save_figure
from hepad.search.plots import plot_significance_vs_injection


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--significance", nargs="+", required=True, help="JSONs of search_significance")
    p.add_argument("--title", default="")
    p.add_argument("--output", nargs="+", required=True, help="plot files (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_significance_vs_injection")
    records = []
    for path in args.significance:
        with open(path) as f:
            records.append(json.load(f))
    fig = plot_significance_vs_injection(records, args.title)
    log.info("wrote %s", ", ".join(save_figure(fig, args.output)))


if __name__ == "__main__":
    run_main(main)
