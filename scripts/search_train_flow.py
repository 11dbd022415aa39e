#!/usr/bin/env python
"""Train the SB density of one window of the bump hunt and sample its background template (docs/search.md).

The conditional flow p(features | mjj) of CATHODE (hepad.cathode.density, settings --param as for
train_flow) is trained on the window's sidebands; the template is --oversampling x (SR events) samples:
mjj from the logit KDE of the window's SR mjj, features from the flow. Every sample gets a fold number, so
that the template is scored out of fold like the data. Writes the model (flow.pt, scaler.npz,
condition.json, history.json) into --output and the template to --template.
"""

import argparse
import time
from pathlib import Path

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ
from hepad.cathode.prepared import COLUMNS
from hepad.io import atomic_output, parse_param, run_main, setup_logging, write_json
from hepad.search.kfold import fold_ids


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="window file (search_prepare)")
    p.add_argument("--output", required=True, help="model folder")
    p.add_argument("--template", required=True, help="background template (.h5)")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="a ConditionalFlow setting (config cathode.flow); repeatable")
    p.add_argument("--oversampling", type=float, required=True, help="template samples per SR event")
    p.add_argument("--kde-bandwidth", type=float, required=True, help="KDE bandwidth in logit(mjj) space")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_train_flow")
    from hepad.cathode.density import ConditionalDensity
    from hepad.cathode.kde import LogitKDE
    from hepad.models.flows import ConditionalFlow

    with h5py.File(args.data, "r") as f:
        train, val, sr = f["sb_train"][()], f["sb_val"][()], f["sr"][()]
        low, high = (float(v) for v in f.attrs["window"])
        k = int(f.attrs["k"])
    params = dict(args.param)
    if params.get("patience") == 0:
        params["patience"] = None
    flow = ConditionalFlow(n_features=train.shape[1] - 2, seed=args.seed, threads=args.threads, device=args.device,
                           **params)
    t0 = time.perf_counter()
    model = ConditionalDensity(flow).fit(train[:, FEATURE_INDEX], train[:, MJJ], val[:, FEATURE_INDEX], val[:, MJJ])
    model.save(args.output)
    write_json({"window": [low, high], "best_val_nll": flow.best_val_nll_, "history": flow.history_,
                "n_train": len(train), "n_val": len(val), "seconds": time.perf_counter() - t0},
               Path(args.output) / "history.json")
    rng = np.random.default_rng(args.seed)
    n = int(round(args.oversampling * len(sr)))
    mjj = LogitKDE(bandwidth=args.kde_bandwidth).fit(sr[:, MJJ], low, high).sample(n, seed=int(rng.integers(2**31)))
    rows = np.zeros((n, len(COLUMNS)))
    rows[:, MJJ] = mjj
    rows[:, FEATURE_INDEX] = model.sample(mjj, seed=int(rng.integers(2**31)))
    with atomic_output(args.template) as tmp, h5py.File(tmp, "w") as out:
        out.attrs["window"] = [low, high]
        out.create_dataset("template", data=rows, track_times=False)
        out.create_dataset("fold", data=fold_ids(n, k, args.seed + 7), track_times=False)
    log.info("window %.2f-%.2f TeV: flow on %d SB events (best validation NLL %.4f), %d template samples",
             low, high, len(train), flow.best_val_nll_, n)


if __name__ == "__main__":
    run_main(main)
