#!/usr/bin/env python
"""Plots and summary of the mimicker study: ADO with the auto-encoder against round (HLN and PNN, the
chosen observable named at each step), AUC per signal against round, the chosen EFPs as multigraphs,
and one JSON with both selections and the final ADO/AUC table."""

import argparse
import json

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--selections", nargs="+", required=True, metavar="KIND=FILE", help="select_mimicker outputs")
    p.add_argument("--formats", nargs="*", default=[], help="extra formats besides PDF (png, svg)")
    p.add_argument("--ado-plot", required=True)
    p.add_argument("--auc-plot", required=True)
    p.add_argument("--efp-plot", required=True)
    p.add_argument("--summary", required=True, help="JSON of both selections and the final table")
    return p.parse_args(argv)


def with_formats(path, formats):
    base = path.rsplit(".", 1)[0]
    return [path] + [f"{base}.{fmt}" for fmt in formats]


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_mimickers")
    from hepad.events.efps import efp_graphs, efp_names
    from hepad.mimic.plots import plot_ado, plot_auc, plot_efps, summary_table

    selections = {}
    for item in args.selections:
        kind, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"--selections expects KIND=FILE, got {item!r}")
        try:
            selections[kind] = json.loads(open(path).read())
        except (OSError, ValueError) as err:
            raise InputError(f"{path}: cannot read the selection ({err}); rerun select_mimicker")
    graphs = dict(zip(efp_names(), efp_graphs()))
    plot_ado(selections, with_formats(args.ado_plot, args.formats))
    plot_auc(selections, with_formats(args.auc_plot, args.formats))
    plot_efps(selections, graphs, with_formats(args.efp_plot, args.formats))
    summary = summary_table(selections)
    write_json({"summary": summary, "selections": selections}, args.summary)
    for kind in selections:
        log.info("%s: final ADO %.4f; matches or beats the AE on %s", kind, summary[kind]["ado_test"],
                 summary[kind]["signals_matched_or_beaten"])


if __name__ == "__main__":
    run_main(main)
