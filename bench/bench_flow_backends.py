#!/usr/bin/env python
"""The density estimators side by side at equal size: hand-written MAF, zuko MAF, zuko NSF.

Same layout for all (``n_blocks`` blocks of two hidden layers of ``hidden`` ReLU units, batch norm and a
reverse permutation after each), same training (hepad.models.training.train via ConditionalFlow), seeds
and data: the toy of bench/bench_made_condition.py, whose first feature depends strongly on the condition.
Reported per back-end: CPU seconds per epoch (time.process_time over the fit, divided by the epochs, one
torch thread), the best-epoch validation NLL, and the number of weights. Optionally (--nflows) the nflows
MAF too, which keeps the conditional-MADE caveat.

    python bench/bench_flow_backends.py [--seeds 0 1] [--nflows] [--size 15 128 4096 40] [--record]
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

SECTION = "## Flow back-ends: hand-written MAF, zuko MAF, zuko NSF (bench/bench_flow_backends.py)"
BACKENDS = {"hand-written MAF": dict(implementation="made"), "zuko MAF": dict(implementation="zuko"),
            "zuko NSF (8 bins)": dict(kind="nsf")}


def fit(data, seed, **kw):
    x, m, xv, mv = data
    flow = ConditionalFlow(n_features=x.shape[1], seed=seed, **{**SETTINGS, **kw})
    cpu = time.process_time()
    flow.fit(x, m, xv, mv)
    cpu = (time.process_time() - cpu) / len(flow.history_)
    n_weights = sum(p.numel() for p in flow._build(m.reshape(len(m), -1).shape[1]).parameters())  # masked ones too
    return flow.best_val_nll_, cpu, n_weights


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-val", type=int, default=10_000)
    p.add_argument("--nflows", action="store_true", help="include the nflows MAF")
    p.add_argument("--size", nargs=4, type=int, metavar=("BLOCKS", "HIDDEN", "BATCH", "EPOCHS"),
                   help="other n_blocks, hidden, batch_size, max_epochs (e.g. the workflow's 15 128 4096 40)")
    p.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = p.parse_args()
    if args.size:
        SETTINGS.update(zip(("n_blocks", "hidden", "batch_size", "max_epochs"), args.size))
    backends = dict(BACKENDS)
    if args.nflows:
        backends["nflows MAF (caveat)"] = dict(implementation="nflows")
    data = toy_data(args.n_train, args.n_val)
    rows = []
    for name, kw in backends.items():
        nll, cpu, weights = zip(*(fit(data, seed, **kw) for seed in args.seeds))
        rows.append((name, np.mean(nll), np.min(nll), np.max(nll), np.median(cpu), weights[0]))
        print(f"{name}: val NLL mean {rows[-1][1]:.4f} [{rows[-1][2]:.4f}, {rows[-1][3]:.4f}], "
              f"CPU {rows[-1][4]:.2f} s/epoch, {weights[0]} weights", flush=True)
    load = os.getloadavg()[0]
    settings = ", ".join(f"{k} {v}" for k, v in SETTINGS.items() if k not in ("threads", "device", "implementation"))
    lines = [f"{datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores, shared; load average "
             f"{load:.1f} at the end), 1 thread; `python bench/bench_flow_backends.py {' '.join(sys.argv[1:])}`; "
             f"toy of bench_made_condition.py, {args.n_train} training and {args.n_val} validation events; "
             f"{settings}; seeds {args.seeds}:", "",
             "| back-end | val NLL, mean [min, max] over seeds | CPU s per epoch (median) | weights |",
             "| --- | ---: | ---: | ---: |"]
    for name, mean, lo, hi, cpu, weights in rows:
        lines.append(f"| {name} | {mean:.4f} [{lo:.4f}, {hi:.4f}] | {cpu:.2f} | {weights} |")
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(ROOT / "bench/RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
