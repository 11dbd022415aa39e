#!/usr/bin/env python
"""The density estimators side by side: hand-written MAF, zuko MAF, zuko NSF and the flow-matching CFM.

The MAFs and the NSF share one layout (``n_blocks`` blocks of two hidden layers of ``hidden`` ReLU units,
batch norm and a reverse permutation after each); the CFM is its own network, at the workflow's default
size (config cathode.flow.cfm_hidden, cfm_layers, cfm_tol). All get the same training (the loop of
hepad.models.training.train via ConditionalFlow: optimiser, learning rate, batch size, epochs), seeds and
data: the toy of bench/bench_made_condition.py, whose first feature depends strongly on the condition.
Reported per back-end: the best epoch's validation NLL (for the CFM from its ODE, which ConditionalFlow
computes after training), CPU seconds per epoch (time.process_time over the fit divided by the epochs, one
torch thread; for the CFM without its final validation NLL, timed apart), the CPU seconds of log_prob and
of sampling per 10^5 events, and the number of weights. Optionally (--nflows) the nflows MAF too, which
keeps the conditional-MADE caveat; --only runs a subset.

    python bench/bench_flow_backends.py [--seeds 0 1] [--nflows] [--size 15 128 4096 40] [--only CFM] [--record]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from bench_made_condition import SETTINGS, toy_data  # noqa: E402
from hepad.models.flows import ConditionalFlow  # noqa: E402
from results_file import record  # noqa: E402

SECTION = "## Flow back-ends: hand-written MAF, zuko MAF, zuko NSF, CFM (bench/bench_flow_backends.py)"
BACKENDS = {"hand-written MAF": dict(implementation="made"), "zuko MAF": dict(implementation="zuko"),
            "zuko NSF (8 bins)": dict(kind="nsf"), "CFM": dict(kind="cfm")}
N_TIMED = 100_000  # events of the timed log_prob and sampling


def fit(data, seed, **kw):
    x, m, xv, mv = data
    flow = ConditionalFlow(n_features=x.shape[1], seed=seed, **{**SETTINGS, **kw})
    cpu = time.process_time()
    flow.fit(x, m, xv, mv)
    cpu = time.process_time() - cpu
    t0 = time.process_time()
    nll = -flow.log_prob(xv, mv, ensemble=False).mean()  # what fit computes at its end for the CFM
    val_cpu = time.process_time() - t0
    if flow.kind == "cfm":
        assert abs(nll - flow.best_val_nll_) < 1e-9
        cpu -= val_cpu
    rows = np.resize(np.arange(len(mv)), N_TIMED)  # 10^5 events (the validation set, repeated)
    t0 = time.process_time()
    flow.log_prob(xv[rows], mv[rows])
    lp_cpu = time.process_time() - t0
    t0 = time.process_time()
    flow.sample(mv[rows], seed=seed)
    sample_cpu = time.process_time() - t0
    n_weights = sum(p.numel() for p in flow._build(m.reshape(len(m), -1).shape[1]).parameters())  # masked ones too
    return flow.best_val_nll_, cpu / len(flow.history_), lp_cpu, sample_cpu, n_weights


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-val", type=int, default=10_000)
    p.add_argument("--nflows", action="store_true", help="include the nflows MAF")
    p.add_argument("--size", nargs=4, type=int, metavar=("BLOCKS", "HIDDEN", "BATCH", "EPOCHS"),
                   help="other n_blocks, hidden, batch_size, max_epochs (e.g. the workflow's 15 128 4096 40)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these back-ends (names as printed)")
    p.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = p.parse_args()
    if args.size:
        SETTINGS.update(zip(("n_blocks", "hidden", "batch_size", "max_epochs"), args.size))
    backends = dict(BACKENDS)
    if args.nflows:
        backends["nflows MAF (caveat)"] = dict(implementation="nflows")
    if args.only:
        backends = {name: kw for name, kw in backends.items() if name in args.only}
    data = toy_data(args.n_train, args.n_val)
    rows = []
    for name, kw in backends.items():
        nll, cpu, lp_cpu, sample_cpu, weights = zip(*(fit(data, seed, **kw) for seed in args.seeds))
        rows.append((name, np.mean(nll), np.min(nll), np.max(nll), np.median(cpu), np.median(lp_cpu),
                     np.median(sample_cpu), weights[0]))
        print(f"{name}: val NLL mean {rows[-1][1]:.4f} [{rows[-1][2]:.4f}, {rows[-1][3]:.4f}], "
              f"CPU {rows[-1][4]:.2f} s/epoch, log_prob {rows[-1][5]:.1f} s and sampling {rows[-1][6]:.1f} s "
              f"per 1e5 events, {weights[0]} weights", flush=True)
    load = os.getloadavg()[0]
    settings = ", ".join(f"{k} {v}" for k, v in SETTINGS.items() if k not in ("threads", "device", "implementation"))
    cfm = ConditionalFlow()
    settings += f"; CFM: MLP {cfm.cfm_layers} x {cfm.cfm_hidden}, ODE tolerance {cfm.cfm_tol:g}"
    lines = [f"{datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores, shared; load average "
             f"{load:.1f} at the end), 1 thread; `python bench/bench_flow_backends.py {' '.join(sys.argv[1:])}`; "
             f"toy of bench_made_condition.py, {args.n_train} training and {args.n_val} validation events; "
             f"{settings}; seeds {args.seeds}:", "",
             "| back-end | val NLL, mean [min, max] over seeds | CPU s per epoch (median) | CPU s of log_prob, 1e5 "
             "events | CPU s of sampling, 1e5 events | weights |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, mean, lo, hi, cpu, lp_cpu, sample_cpu, weights in rows:
        lines.append(f"| {name} | {mean:.4f} [{lo:.4f}, {hi:.4f}] | {cpu:.2f} | {lp_cpu:.1f} | {sample_cpu:.1f} | "
                     f"{weights} |")
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(ROOT / "bench/RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
