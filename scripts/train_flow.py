#!/usr/bin/env python
"""Train the conditional density p(features | mjj) of CATHODE/ANODE on one region of a prepared set.

--region sb: the sideband flow (CATHODE's background model; ANODE's denominator), scalers fitted here.
--region sr: ANODE's signal-region flow; it takes the scalers of the SB model given by --scalers-from, so
             both densities share one space. Writes flow.pt, scaler.npz, condition.json and history.json
             into --output (a folder). Every epoch is logged; a checkpoint per epoch (--checkpoint) lets a
             killed job resume and give the result of an uninterrupted run.

The density estimator is chosen by --param kind=maf|nsf|cfm (config cathode.flow.kind): the MAF in the
implementation --param implementation=made|nflows|zuko, zuko's neural spline flow, or the conditional
flow-matching model (hepad.models.flows, hepad.models.cfm).
"""

import argparse
import time
from pathlib import Path

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ
from hepad.cathode.prepared import load_split
from hepad.io import InputError, parse_param, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--region", choices=["sb", "sr"], required=True, help="train on sb_train/sb_val or sr_train/sr_val")
    p.add_argument("--scalers-from", help="SB model folder whose scalers the SR model uses (required for --region sr)")
    p.add_argument("--output", required=True, help="model folder")
    p.add_argument("--checkpoint", help="per-epoch checkpoint file (resumed if compatible; deleted at the end)")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="a ConditionalFlow setting (hepad.models.flows), YAML value; repeatable; the workflow "
                        "passes every key of config cathode.flow (patience 0 = never stop early; kind=maf|nsf|cfm "
                        "chooses the density estimator)")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation and batch order")
    p.add_argument("--threads", type=int, default=1, help="torch threads on the CPU")
    p.add_argument("--device", default=None, help="torch device (default: the GPU when torch sees one)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_flow")
    from hepad.cathode.density import ConditionalDensity
    from hepad.models.flows import ConditionalFlow

    if args.region == "sr" and not args.scalers_from:
        raise InputError("--region sr needs --scalers-from <SB model folder> (ANODE compares densities in one space)")
    train = load_split(args.data, f"{args.region}_train")
    val = load_split(args.data, f"{args.region}_val")
    log.info("%s: %d training and %d validation events from %s", args.region.upper(), len(train), len(val), args.data)
    params = dict(args.param)
    if params.get("patience") == 0:
        params["patience"] = None
    try:
        flow = ConditionalFlow(n_features=train.shape[1] - 2, seed=args.seed, threads=args.threads,
                               device=args.device, **params)
    except (TypeError, ValueError) as err:  # an unknown setting or value: one line, not a traceback
        raise InputError(f"bad --param: {err}") from None
    log.info("density estimator: %s %s", flow.backend, flow.kind)
    scalers = ConditionalDensity.load(args.scalers_from, threads=args.threads) if args.scalers_from else None
    t0 = time.perf_counter()
    model = ConditionalDensity(flow).fit(train[:, FEATURE_INDEX], train[:, MJJ], val[:, FEATURE_INDEX], val[:, MJJ],
                                         checkpoint_path=args.checkpoint, scalers_from=scalers)
    seconds = time.perf_counter() - t0
    model.save(args.output)
    write_json({"region": args.region, "history": flow.timed_history(), "best_val_nll": flow.best_val_nll_,
                "ensemble_epochs": flow.ensemble_epochs_, "ensemble_val_nll": flow.ensemble_val_nll_,
                "dropped_outside_range": model.n_dropped_, "n_train": len(train), "n_val": len(val),
                "seconds": seconds, "params": flow.get_params()}, Path(args.output) / "history.json")
    if args.checkpoint and Path(args.checkpoint).exists():
        Path(args.checkpoint).unlink()  # the model is saved: the checkpoint has done its job
    log.info("done in %.0f s: best validation NLL %.5f, ensemble epochs %s", seconds, flow.best_val_nll_,
             flow.ensemble_epochs_)


if __name__ == "__main__":
    run_main(main)
