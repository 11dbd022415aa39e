#!/usr/bin/env python
"""R-ANODE: fit a signal density and the signal fraction w to the SR data beside the frozen SB flow, and
score the test set with log p_sig(x|m) - log p_bkg(x|m) (hepad.cathode.ranode, docs/cathode.md).

--w-mode learned: w starts at --w and is learned with the signal flow (the default of the workflow);
fixed: w = --w; true: w = the injected S / (S + B) of the SR data (from --summary; a reference only, it
needs the truth); scan: one signal flow per value of --w-scan, keeping the one with the lowest validation
NLL of the mixture (the profile likelihood in w). --param sets the signal flow (hepad.models.flows
.ConditionalFlow settings; the workflow passes config cathode.flow overridden by cathode.ranode.flow).
Writes the signal flow (flow.pt, fit.json) into --output and the test-set scores to --scores (with the
sideband validation events scored too, for the sculpting check).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import FEATURE_INDEX, MJJ, evaluation_set, sideband_set, write_scores
from hepad.cathode.prepared import load_split
from hepad.io import InputError, parse_param, run_main, setup_logging, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared set (.h5)")
    p.add_argument("--summary", required=True, help="JSON sidecar of the prepared set (for --w-mode true)")
    p.add_argument("--flow-sb", required=True, help="SB model folder (train_flow --region sb)")
    p.add_argument("--w-mode", choices=["learned", "fixed", "scan", "true"], required=True)
    p.add_argument("--w", type=float, required=True, help="fixed w, or the start of the learned one")
    p.add_argument("--w-scan", type=float, nargs="+", required=True, help="the values of w of --w-mode scan")
    p.add_argument("--param", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                   help="a ConditionalFlow setting of the signal flow (repeatable; patience 0 = never stop early)")
    p.add_argument("--seed", type=int, required=True, help="seed of the signal flow")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default=None)
    p.add_argument("--output", required=True, help="model folder")
    p.add_argument("--scores", required=True, help="test-set scores (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("train_ranode")
    from hepad.cathode.density import ConditionalDensity, anode_scores
    from hepad.cathode.ranode import SignalFlow, fit_signal, true_fraction

    params = dict(args.param)
    if params.get("patience") == 0:
        params["patience"] = None
    if args.w_mode == "scan":
        candidates = [(w, False) for w in args.w_scan]
    elif args.w_mode == "true":
        try:
            summary = json.loads(Path(args.summary).read_text())
        except (OSError, ValueError) as err:
            raise InputError(f"{args.summary}: cannot read the prepared set's summary ({err})")
        candidates = [(true_fraction(summary), False)]
    else:
        candidates = [(args.w, args.w_mode == "learned")]
    background = ConditionalDensity.load(args.flow_sb, device=args.device, threads=args.threads)
    train, val = load_split(args.data, "sr_train"), load_split(args.data, "sr_val")
    log.info("SR: %d training and %d validation events; w %s: %s", len(train), len(val), args.w_mode,
             [w for w, _ in candidates])
    fits = []
    t0 = time.perf_counter()
    for w, learn in candidates:
        try:
            flow = SignalFlow(w=w, learn_w=learn, n_features=train[:, FEATURE_INDEX].shape[1], seed=args.seed,
                              threads=args.threads, device=args.device, **params)
        except (TypeError, ValueError) as err:
            raise InputError(f"bad --param or w: {err}") from None
        model = fit_signal(flow, background, train[:, FEATURE_INDEX], train[:, MJJ], val[:, FEATURE_INDEX],
                           val[:, MJJ])
        fits.append((flow.best_val_nll_, w, model))
        log.info("w %s %.4g: best validation NLL of the mixture %.5f, w of the kept epochs %s",
                 "from" if learn else "=", w, flow.best_val_nll_, np.round(flow.signal_fractions_, 5).tolist())
    seconds = time.perf_counter() - t0
    best_nll, best_w, model = min(fits, key=lambda item: item[0])
    flow = model.flow
    Path(args.output).mkdir(parents=True, exist_ok=True)
    flow.save(Path(args.output) / "flow.pt")
    write_json({"w_mode": args.w_mode, "w_start": best_w, "learn_w": flow.learn_w,
                "w_kept_epochs": flow.signal_fractions_, "best_val_nll": best_nll,
                "scan": [{"w": w, "best_val_nll": nll} for nll, w, _ in fits],
                "history": flow.timed_history(), "ensemble_epochs": flow.ensemble_epochs_,
                "dropped_outside_range": model.n_dropped_, "seconds": seconds, "params": flow.get_params()},
               Path(args.output) / "fit.json")
    x, mjj, labels = evaluation_set(args.data)
    x_sb, mjj_sb, labels_sb = sideband_set(args.data)
    write_scores(anode_scores(model, background, x, mjj), labels, mjj, args.scores, mode="ranode", family="flow",
                 seed=args.seed, sideband=(anode_scores(model, background, x_sb, mjj_sb), labels_sb, mjj_sb))
    log.info("done in %.0f s: w %.5f (mean of the kept epochs); scored %d test events (%d signal)", seconds,
             float(np.mean(flow.signal_fractions_)), len(labels), int(labels.sum()))


if __name__ == "__main__":
    run_main(main)
