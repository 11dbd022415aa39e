#!/usr/bin/env python
"""Draw max SIC against the injected S/B for every method of the given metrics files (evaluate's JSON):
median and 16-84 % band over seeds and runs at each injection (the table is printed to the log)."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--metrics", nargs="+", required=True, help="metrics JSON files (methods x injections x seeds x runs)")
    p.add_argument("--title", default="")
    p.add_argument("--output", nargs="+", required=True, help="plot files; the suffix sets the format (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_sb_scan")
    from hepad.cathode.plot_sb_scan import plot_sb_scan, scan_table
    from hepad.cathode.plot_sic import load_metrics
    from hepad.plots.style import save_figure, use_style

    records = load_metrics(args.metrics)
    table = scan_table(records)
    for method, rows in table.items():
        for r in rows:
            log.info("%-16s nsig %6d S/B %.3f %% max SIC %.2f [%.2f, %.2f] (%d runs)", method, r["nsig"],
                     100 * r["s_over_b"], r["median"], r["q16"], r["q84"], r["n"])
    use_style()
    written = save_figure(plot_sb_scan(records, args.title), args.output)
    log.info("wrote %s", ", ".join(written))


if __name__ == "__main__":
    run_main(main)
