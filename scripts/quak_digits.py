#!/usr/bin/env python
"""The QUAK samples of the handwritten-digits test (the paper's MNIST test): some classes as background,
one signal prior per class of --priors, held-out --anomalies; principal components of the background,
standardised. Same sample-file layout as quak_features, so the same prior and QUAK-space rules follow.

--source sklearn uses the 8x8 digits scikit-learn ships (no download); --source mnist reads --mnist
(an mnist.npz with x_train, y_train, x_test, y_test).
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=["sklearn", "mnist"], default="sklearn")
    p.add_argument("--mnist", help="mnist.npz (with --source mnist)")
    p.add_argument("--background", type=int, nargs="+", required=True, help="background digit classes")
    p.add_argument("--priors", type=int, nargs="+", required=True, help="one signal prior per class")
    p.add_argument("--anomalies", type=int, nargs="+", required=True, help="held-out classes")
    p.add_argument("--n-components", type=int, required=True, help="principal components kept")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--output", required=True, help="sample file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("quak_digits")
    from hepad.quak.digits import digit_samples, load_mnist, load_sklearn_digits
    from hepad.quak.features import write_samples

    if args.source == "mnist":
        if not args.mnist:
            raise InputError("--source mnist needs --mnist <mnist.npz>")
        images, labels, grey = *load_mnist(args.mnist), 255
    else:
        images, labels, grey = *load_sklearn_digits(), 16
    log.info("%s: %d images of %d pixels", args.source, *images.shape)
    sets, meta = digit_samples(images, labels, args.background, args.priors, args.anomalies,
                               n_components=args.n_components, seed=args.seed, grey_levels=grey)
    meta["source"] = args.source
    log.info("%d principal components keep %.1f %% of the background variance", args.n_components,
             100 * meta["explained_variance"])
    for sample, counts in meta["counts"].items():
        log.info("%s: %s", sample, ", ".join(f"{k} {v}" for k, v in counts.items()))
    write_samples(args.output, sets, meta)


if __name__ == "__main__":
    run_main(main)
