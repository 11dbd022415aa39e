#!/usr/bin/env python
"""QUAK plots of one QUAK space: the 2-d space (background-prior loss vs one signal prior's loss, test
background and held-out signals as densities, the working-point selection drawn) and the ROC and SIC of
every prior combination on every held-out signal, with AUC and max SIC in the legends; a held-out signal
with an evaluation window (quak.signal_windows) gets a second ROC row with its events inside the window.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--losses", required=True, help="losses file of quak_space")
    p.add_argument("--metrics", required=True, help="metrics JSON of quak_space")
    p.add_argument("--y-prior", help="signal prior on the vertical axis (default: the first)")
    p.add_argument("--kind", choices=["hull", "nested"], default="hull", help="ROC of the hull or the nested selection")
    p.add_argument("--title", default="", help="text before each panel title")
    p.add_argument("--space-output", nargs="+", required=True, help="QUAK-space plot files (pdf, png, svg)")
    p.add_argument("--roc-output", nargs="+", required=True, help="ROC/SIC plot files")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_quak")
    import json

    import matplotlib.pyplot as plt

    from hepad.plots.style import save_figure, use_style
    from hepad.quak.plots import read_space, roc_figure, space_figure

    use_style()
    with open(args.metrics) as handle:
        metrics = json.load(handle)
    losses, curves = read_space(args.losses)
    title = f"{args.title} " if args.title else ""
    fig = space_figure(losses, metrics, args.y_prior or metrics["axes"][1], title=title)
    log.info("wrote %s", save_figure(fig, args.space_output))
    plt.close(fig)
    _, curves_in_window = read_space(args.losses, "curves_in_window")
    fig = roc_figure(metrics, curves, args.kind, title=title, curves_in_window=curves_in_window)
    log.info("wrote %s", save_figure(fig, args.roc_output))


if __name__ == "__main__":
    run_main(main)
