#!/usr/bin/env python
"""Train the SB density of one flow group of the bump hunt (docs/search.md, config search.flow_groups).

The conditional flow p(features | mjj) of CATHODE (hepad.cathode.density, settings --param as for
train_flow) is trained on the group's sidebands: the events outside every window of the group (--data,
one window file per window of the group; with --sideband-margin only those within the margin of one of
them). The first --sb-val-fraction of them validate it. Writes the model (flow.pt, scaler.npz,
condition.json, history.json) into --output; search_template samples each window's template from it.
"""

import argparse
import time
from pathlib import Path

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ
from hepad.io import InputError, parse_param, run_main, setup_logging, write_json
from hepad.search.windows import Window, flow_groups, group_sidebands


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, nargs="+", help="window files (search_prepare) of the group's windows")
    p.add_argument("--output", required=True, help="model folder")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="a ConditionalFlow setting (config cathode.flow); repeatable")
    p.add_argument("--sideband-margin", type=float, default=None, help="[TeV]; default: all outside")
    p.add_argument("--sb-val-fraction", type=float, required=True, help="share of the sidebands validating the flow")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    return p.parse_args(argv)


def group_sideband_rows(paths, margin):
    """The group's windows and its sideband rows, from the events outside the first window (all window files
    of a data set hold the same injected events)."""
    windows, injections = [], set()
    for path in paths:
        with h5py.File(path, "r") as f:
            windows.append(Window(int(f.attrs["index"]), *(float(v) for v in f.attrs["window"])))
            injections.add((int(f.attrs["nsig"]), int(f.attrs["seed"])))
            if path == paths[0]:
                outside = f["outside"][()]
    if len(injections) != 1:
        raise InputError(f"the window files of one flow group come from different injections {sorted(injections)}")
    try:
        flow_groups(windows, 1)  # the windows sharing this flow must lie apart
    except ValueError as err:  # hepad.config.ConfigError
        raise InputError(f"{' '.join(paths)}: {err}") from None
    sb = outside[group_sidebands(outside[:, MJJ], windows, margin)]
    if len(sb) < 2:
        raise InputError(f"the sidebands of windows {[w.label for w in windows]} hold {len(sb)} events")
    return windows, sb


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_train_flow")
    from hepad.cathode.density import ConditionalDensity
    from hepad.models.flows import ConditionalFlow

    windows, sb = group_sideband_rows(args.data, args.sideband_margin)
    n_val = int(round(len(sb) * args.sb_val_fraction))
    train, val = sb[n_val:], sb[:n_val]
    params = dict(args.param)
    if params.get("patience") == 0:
        params["patience"] = None
    flow = ConditionalFlow(n_features=train.shape[1] - 2, seed=args.seed, threads=args.threads, device=args.device,
                           **params)
    t0 = time.perf_counter()
    model = ConditionalDensity(flow).fit(train[:, FEATURE_INDEX], train[:, MJJ], val[:, FEATURE_INDEX], val[:, MJJ])
    model.save(args.output)
    write_json({"windows": [[w.low, w.high] for w in windows], "best_val_nll": flow.best_val_nll_,
                "history": flow.history_, "n_train": len(train), "n_val": len(val),
                "seconds": time.perf_counter() - t0}, Path(args.output) / "history.json")
    log.info("windows %s: flow on %d sideband events (%d validate it), best validation NLL %.4f",
             ", ".join(w.label for w in windows), len(train), len(val), flow.best_val_nll_)


if __name__ == "__main__":
    run_main(main)
