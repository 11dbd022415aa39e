#!/usr/bin/env python
"""Train one QUAK prior (a density model of one class) on the train/val splits of one sample of a QUAK
sample file: a normalizing flow (--family flow, loss -log p) or the VAE with a flow prior in its latent
space (--family vae, loss MSE + beta KL). Hyperparameters as --param key=<json value>
(see hepad.quak.priors). Writes the model (--output) and its training history (--history, JSON).
"""

import argparse
import time

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, parse_param, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", required=True, help="QUAK sample file (quak_features or quak_digits)")
    p.add_argument("--sample", required=True, help="sample to model: 'background' or a signal-prior name")
    p.add_argument("--family", choices=["flow", "vae"], required=True)
    p.add_argument("--param", type=parse_param, action="append", default=[], metavar="KEY=VALUE",
                   help="a hyperparameter of hepad.quak.priors, JSON or YAML value; repeatable")
    p.add_argument("--max-train", type=int, default=None, help="use at most this many training events")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None, help="torch device (default: the GPU when torch sees one)")
    p.add_argument("--output", required=True, help="model file (.pt)")
    p.add_argument("--history", required=True, help="training history (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_quak_prior")
    from hepad.quak.features import input_signature, read_meta, read_sample
    from hepad.quak.priors import make_prior

    meta = read_meta(args.samples)
    if args.sample != "background" and args.sample not in meta["priors"]:
        raise InputError(f"{args.sample!r} is not a prior of {args.samples} (priors: {meta['priors']}); "
                         "add it to the config's prior list")
    x = read_sample(args.samples, args.sample, "train")[: args.max_train]
    x_val = read_sample(args.samples, args.sample, "val")
    log.info("%s prior of %s: %d training, %d validation events, %d features", args.family, args.sample,
             len(x), len(x_val), x.shape[1])
    prior = make_prior(args.family, dict(args.param), seed=args.seed, threads=args.threads, device=args.device)
    t0 = time.perf_counter()
    prior.fit(x, x_val)
    seconds = time.perf_counter() - t0
    log.info("trained in %.1f s", seconds)
    prior.inputs_ = input_signature(meta)  # the input list and scaling: checked where the prior is applied
    prior.save(args.output)
    write_json({"sample": args.sample, "family": args.family, "n_train": len(x), "n_val": len(x_val),
                "features": meta["features"],
                "seconds": seconds, "params": {k: v for k, v in prior.get_params().items() if k not in ("device",)},
                "history": prior.timed_history()}, args.history)


if __name__ == "__main__":
    run_main(main)
