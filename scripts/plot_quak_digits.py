#!/usr/bin/env python
"""The QUAK digits test in one figure: per held-out digit class, the 2-d QUAK space (background-prior
loss vs the first digit prior's loss, with the working point) and the ROC and SIC of every prior
combination, AUC and max SIC in the legends.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--losses", required=True, help="losses file of quak_space (digits)")
    p.add_argument("--metrics", required=True, help="metrics JSON of quak_space (digits)")
    p.add_argument("--output", nargs="+", required=True, help="plot files (pdf, png, svg)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("plot_quak_digits")
    import json

    import matplotlib.pyplot as plt

    from hepad.plots.style import save_figure, use_style
    from hepad.quak.plots import combo_order, plot_roc_sic, plot_space, pretty, read_space

    use_style()
    with open(args.metrics) as handle:
        metrics = json.load(handle)
    losses, curves = read_space(args.losses)
    y_prior = metrics["axes"][1]
    combo = f"background+{y_prior}"
    meta = metrics["sample_meta"]
    signals = metrics["signals"]
    fig, axes = plt.subplots(len(signals), 3, figsize=(30, 9 * len(signals)), squeeze=False)
    for row, signal in enumerate(signals):
        res = metrics["results"][signal]
        plot_space(axes[row, 0], losses["background"]["test"][:, [0, 1]], losses[signal]["test"][:, [0, 1]],
                   res[combo]["working_point"]["box"], labels=("background digits", pretty(signal)),
                   axis_names=("background-prior loss", f"{pretty(y_prior)} prior loss"), bins=15)
        axes[row, 0].legend(fontsize="x-small", loc="best", framealpha=0.8)
        axes[row, 0].set_title(f"background digits {meta['background_classes']}, priors {meta['prior_classes']}, "
                               f"anomaly {pretty(signal)}", fontsize="small", loc="left")
        ordered = {c: curves[signal][c] for c in combo_order(metrics)}
        plot_roc_sic(axes[row, 1], axes[row, 2], ordered, res, metrics["min_bkg_events"],
                     metrics["n_background_test"], "hull")
    fig.tight_layout()
    log.info("wrote %s", save_figure(fig, args.output))


if __name__ == "__main__":
    run_main(main)
