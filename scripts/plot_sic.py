#!/usr/bin/env python
"""Draw SIC against signal efficiency for the methods of the given metrics files (evaluate's JSON):
per method the median and 16-84 % band over seeds and runs; legend with max SIC, S/B and S/sqrt(B)."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--metrics", nargs="+", required=True, help="metrics JSON files (any methods, seeds, runs)")
    p.add_argument("--title", default="")
    p.add_argument("--output", nargs="+", required=True, help="plot files; the suffix sets the format (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_sic")
    from hepad.cathode.plot_sic import group_by_method, load_metrics, plot_sic
    from hepad.plots.style import save_figure, use_style

    records = load_metrics(args.metrics)
    use_style()
    for method, recs in group_by_method(records).items():
        vals = sorted(r["max_sic"] or 0.0 for r in recs)
        log.info("%-16s %d runs, max SIC %s", method, len(recs), " ".join(f"{v:.2f}" for v in vals))
    written = save_figure(plot_sic(records, args.title), args.output)
    log.info("wrote %s", ", ".join(written))


if __name__ == "__main__":
    run_main(main)
