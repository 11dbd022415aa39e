#!/usr/bin/env python
"""The leaderboard (hepad.cathode.leaderboard, docs/cathode.md): per method x density estimator x
classifier x feature set and injection, max SIC (median, 16-84 % band over seeds x runs), SIC at signal
efficiencies 0.2 and 0.5, AUC, the template-fidelity AUC and the CPU time of the training, as CSV and as a
plot. --entries holds one run per line as JSON (labels, its evaluate JSON, its template fidelity and its
benchmark files); the workflow writes them to stdin (a here-document: no command-line length limit).
"""

import argparse
import sys

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--entries", required=True, metavar="FILE",
                   help='runs, one JSON per line: {"dataset", "features", "flow", "family", "method", "metrics", '
                        '"fidelity", "benchmarks"}; - reads stdin')
    p.add_argument("--title", default="")
    p.add_argument("--csv", required=True, help="the table (.csv)")
    p.add_argument("--output", nargs="+", required=True, help="plot files; the suffix sets the format (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("leaderboard")
    from hepad.cathode.leaderboard import leaderboard_rows, plot_leaderboard, read_entries, row_label, write_csv
    from hepad.plots.style import save_figure, use_style

    try:
        handle = sys.stdin if args.entries == "-" else open(args.entries)
    except OSError as err:
        raise InputError(f"--entries {args.entries}: {err}")
    with handle:
        texts = [line for line in handle.read().splitlines() if line.strip()]
    rows = leaderboard_rows(read_entries(texts))
    if not rows:
        raise InputError("no runs in the leaderboard: check config cathode.leaderboard")
    write_csv(rows, args.csv)
    for r in rows:
        log.info("nsig %5d %-40s max SIC %.2f [%.2f, %.2f] (%d runs), AUC %.3f, template AUC %.3f, CPU %.0f s",
                 r["nsig"], row_label(r), r["max_sic"], r["max_sic_q16"], r["max_sic_q84"], r["n_runs"], r["auc"],
                 r["template_auc"], r["cpu_s"])
    use_style()
    written = save_figure(plot_leaderboard(rows, args.title), args.output)
    log.info("wrote %s and %s", args.csv, ", ".join(written))


if __name__ == "__main__":
    run_main(main)
