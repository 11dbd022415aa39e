#!/usr/bin/env python
"""AUC and FPR at a fixed signal efficiency (default 40 %) of every CoDAE and baseline score, per signal mass.

Writes a CSV table: signal, mass_gev, score, auc, fpr_at_<tpr>tpr, n_signal, n_background.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import atomic_output, run_main, setup_logging
from hepad.codae.data import metrics_table, read_scores


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scores", nargs="+", required=True, help="score files over the same test events")
    p.add_argument("--tpr", type=float, default=0.4, help="signal efficiency of the FPR column")
    p.add_argument("--output", required=True, help="metrics table (.csv)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("evaluate_codae")
    scores, events = read_scores(args.scores)
    table = metrics_table(scores, events, tpr=args.tpr)
    with atomic_output(args.output) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    best = table.loc[table.groupby("signal")["auc"].idxmax(), ["signal", "score", "auc"]]
    log.info("best AUC per signal:\n%s", best.to_string(index=False))


if __name__ == "__main__":
    run_main(main)
