#!/usr/bin/env python
"""Draw what went into the analysis: mjj, jet masses and tau21 for background and signal, SR marked."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

import numpy as np

from hepad.cathode.prepare import cathode_features
from hepad.events.formats import read_lhco_features
from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--features", required=True, help="LHCO-format file with background and signal")
    parser.add_argument("--extra-bkg", required=True, help="LHCO-format file with extra SR background")
    parser.add_argument("--sr", type=float, nargs=2, default=(3.3, 3.7), metavar=("LOW", "HIGH"), help="[TeV]")
    parser.add_argument("--max-events", type=int, default=200000, help="at most this many events per class")
    parser.add_argument("--title", default="data set")
    parser.add_argument("--output", required=True, help="PDF file")
    parser.add_argument("--formats", nargs="*", default=["png"], help="extra formats written beside the PDF")
    return parser.parse_args(argv)


def _subsample(rows, n, rng):
    return rows if len(rows) <= n else rows[rng.choice(len(rows), n, replace=False)]


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_data_overview")
    from hepad.cathode.plot_data_overview import plot_data_overview
    from hepad.plots.style import save_figure, use_style

    use_style()

    features = cathode_features(read_lhco_features(args.features))
    extra = cathode_features(read_lhco_features(args.extra_bkg))
    rng = np.random.default_rng(0)
    bkg = _subsample(features[features[:, 5] == 0], args.max_events, rng)
    sig = _subsample(features[features[:, 5] == 1], args.max_events, rng)
    extra = _subsample(extra, args.max_events, rng)
    log.info("drawing %d background, %d signal, %d extra background events", len(bkg), len(sig), len(extra))
    fig = plot_data_overview(np.concatenate([bkg, sig]), extra, tuple(args.sr), args.title)
    stem = args.output.rsplit(".", 1)[0]
    written = save_figure(fig, [args.output] + [f"{stem}.{fmt}" for fmt in args.formats])
    log.info("wrote %s", ", ".join(written))


if __name__ == "__main__":
    run_main(main)
