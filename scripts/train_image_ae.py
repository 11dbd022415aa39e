#!/usr/bin/env python
"""Train the convolutional image auto-encoder (the black box of the mimicker study) on the background
training split and write its anomaly score (per-image MSE) for every jet of every sample."""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, parse_param, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--background", required=True, help="feature file of the background (jet_features)")
    p.add_argument("--signals", nargs="*", default=[], metavar="NAME=FILE", help="signal feature files")
    p.add_argument("--train-fraction", type=float, required=True, help="background share that trains the AE")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="an ImageAutoEncoder setting (hepad.mimic.image_ae), YAML value; repeatable; the workflow "
                        "passes every key of config mimickers.image_ae")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None, help="torch device (default: GPU if visible)")
    p.add_argument("--model", required=True, help="output model (.pt)")
    p.add_argument("--scores", required=True, help="output scores (.h5): one dataset per sample")
    p.add_argument("--history", required=True, help="output training history (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_image_ae")
    import h5py
    import numpy as np

    from hepad.io import atomic_output
    from hepad.mimic.features import read_features
    from hepad.mimic.image_ae import ImageAutoEncoder

    signals = {}
    for item in args.signals:
        name, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"--signals expects NAME=FILE, got {item!r}")
        signals[name] = path
    images, _, _ = read_features(args.background)
    n_train = int(round(args.train_fraction * len(images)))
    log.info("training on %d of %d background images", n_train, len(images))
    ae = ImageAutoEncoder(seed=args.seed, device=args.device, threads=args.threads, **dict(args.param))
    ae.fit(images[:n_train])
    ae.save(args.model)
    scores = {"background": ae.predict(images)}
    for name, path in signals.items():
        scores[name] = ae.predict(read_features(path)[0])
    with atomic_output(args.scores) as tmp, h5py.File(tmp, "w") as f:
        for name, s in scores.items():
            f.create_dataset(name, data=s, track_times=False)
        f.attrs["n_train"] = n_train
    test = scores["background"][n_train:]
    for name in signals:
        log.info("%s: median MSE %.3g (background test %.3g)", name, np.median(scores[name]), np.median(test))
    write_json({"history": ae.timed_history(), "params": ae.get_params(), "n_train": n_train}, args.history)


if __name__ == "__main__":
    run_main(main)
