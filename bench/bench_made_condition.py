#!/usr/bin/env python
"""Validation NLL of the hand-written MAF before and after the conditional-MADE fix, on the same data.

Before: the MADE of nflows (and of the original CATHODE code), where the condition enters the first
hidden layer only, so the first feature of every block gets a shift and scale that ignore mjj. After: the
condition also reaches every output (hepad.models.flows._MADEAffine, ``condition_output=True``). Same
architecture, seeds, data and training otherwise. Two data sets:

- a toy where the first feature depends strongly on the condition (x1 = 1.5 m + 0.2 e1, the others
  depend on x1 and m; ``toy`` below);
- with --prepared, the SB split of a small prepared set: scripts/prepare.py on tests/lhco_toy.py events
  (made here in a temporary folder unless --prepared-file names one), scaled as the workflow does
  (LogitScaler on the features, standardised mjj).

    python bench/bench_made_condition.py [--prepared] [--seeds 0 1 2] [--n-blocks 4] [--record]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench"), str(ROOT / "tests")]

from hepad.models import flows  # noqa: E402
from hepad.models.flows import ConditionalFlow  # noqa: E402
from results_file import record  # noqa: E402

SECTION = "## Conditional MADE: the condition at every output (bench/bench_made_condition.py)"
SETTINGS = dict(implementation="made", n_blocks=4, hidden=64, batch_size=512, lr=3e-3, lr_schedule="cosine",
                warmup_epochs=1, max_epochs=30, patience=None, n_ensemble=1, threads=1, device="cpu")


class LegacyMADEFlow(ConditionalFlow):
    """The hand-written MAF as it was before the fix: no condition term in the MADE output layer."""

    def _build(self, n_cond):
        return flows._MAF(self.n_features, n_cond, self.n_blocks, self.hidden, self.batch_norm,
                          condition_output=False)


def toy(n: int, seed: int = 0):
    """x | m with a first feature that is mostly the condition: (x of shape (n, 4), m of shape (n,))."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal(n)
    e = rng.standard_normal((n, 4))
    x1 = 1.5 * m + 0.2 * e[:, 0]
    x2 = 0.5 * x1**2 - m + 0.3 * e[:, 1]
    x3 = np.tanh(x2) + 0.3 * m + 0.2 * e[:, 2]
    x4 = (0.3 + 0.2 * np.abs(m)) * e[:, 3]
    return np.column_stack([x1, x2, x3, x4]), m


def toy_data(n_train: int, n_val: int, seed: int = 0):
    x, m = toy(n_train + n_val, seed)
    return x[:n_train], m[:n_train], x[n_train:], m[n_train:]


def prepared_data(path=None):
    """SB training and validation split of a prepared set, scaled as the workflow does."""
    from hepad.cathode.prepared import FEATURES, column, load_split
    from hepad.cathode.scaling import LogitScaler

    if path is None:
        from lhco_toy import write_toy_lhco

        folder = Path(tempfile.mkdtemp(prefix="bench_made_"))
        write_toy_lhco(folder / "features.h5", n_bkg=40_000, n_sig=400, seed=1)
        write_toy_lhco(folder / "extra.h5", n_bkg=4000, n_sig=0, seed=2, sr_only=True)
        subprocess.run([sys.executable, str(ROOT / "scripts/prepare.py"), "--features", str(folder / "features.h5"),
                        "--extra-bkg", str(folder / "extra.h5"), "--nsig", "100", "--seed", "1",
                        "--n-test-signal", "100", "--sr", "3.3", "3.7", "--sb-val-fraction", "0.2",
                        "--sr-val-fraction", "0.5", "--extra-bkg-test-fraction", "0.5",
                        "--output", str(folder / "prep.h5"), "--summary", str(folder / "prep.json")],
                       check=True, capture_output=True)
        path = folder / "prep.h5"
    train, val = load_split(path, "sb_train"), load_split(path, "sb_val")
    x = np.column_stack([column(train, f) for f in FEATURES])
    xv = np.column_stack([column(val, f) for f in FEATURES])
    m, mv = column(train, "mjj"), column(val, "mjj")
    scaler = LogitScaler().fit(x)
    keep = scaler.in_domain(xv)
    mean, std = m.mean(), m.std()
    return scaler.transform(x), (m - mean) / std, scaler.transform(xv[keep]), (mv[keep] - mean) / std


def fit(cls, data, seed, **overrides):
    x, m, xv, mv = data
    flow = cls(n_features=x.shape[1], seed=seed, **{**SETTINGS, **overrides})
    cpu = time.process_time()
    flow.fit(x, m, xv, mv)
    return flow.best_val_nll_, (time.process_time() - cpu) / len(flow.history_)


def compare(name, data, seeds):
    rows = []
    for seed in seeds:
        before, t_before = fit(LegacyMADEFlow, data, seed)
        after, t_after = fit(ConditionalFlow, data, seed)
        rows.append((seed, before, after, t_before, t_after))
        print(f"{name}, seed {seed}: val NLL before {before:.4f}, after {after:.4f} (diff {after - before:+.4f}); "
              f"CPU s/epoch {t_before:.2f} vs {t_after:.2f}", flush=True)
    b, a = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    print(f"{name}: mean over seeds before {b.mean():.4f}, after {a.mean():.4f}, diff {(a - b).mean():+.4f}")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-train", type=int, default=20_000)
    p.add_argument("--n-val", type=int, default=10_000)
    p.add_argument("--n-blocks", type=int, default=SETTINGS["n_blocks"],
                   help="MADE blocks (1 shows the caveat undiluted: no later block can make up for it)")
    p.add_argument("--prepared", action="store_true", help="also the SB split of a small prepared set")
    p.add_argument("--prepared-file", help="a prepared set (.h5) instead of making one from tests/lhco_toy.py")
    p.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = p.parse_args()
    SETTINGS["n_blocks"] = args.n_blocks

    sets = {f"toy ({args.n_train} train, {args.n_val} val)": toy_data(args.n_train, args.n_val)}
    if args.prepared or args.prepared_file:
        data = prepared_data(args.prepared_file)
        sets[f"prepared set, SB ({len(data[0])} train, {len(data[2])} val)"] = data
    results = {name: compare(name, data, args.seeds) for name, data in sets.items()}

    settings = ", ".join(f"{k} {v}" for k, v in SETTINGS.items() if k not in ("threads", "device"))
    lines = [f"{datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores, shared), 1 thread; "
             f"`python bench/bench_made_condition.py {' '.join(sys.argv[1:])}`; hand-written MAF, {settings}; "
             "best-epoch validation NLL (nats per event), before = condition in the first hidden layer only, "
             "after = also in every output:", "",
             "| data | seed | NLL before | NLL after | after - before | CPU s/epoch before, after |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, rows in results.items():
        for seed, before, after, tb, ta in rows:
            lines.append(f"| {name} | {seed} | {before:.4f} | {after:.4f} | {after - before:+.4f} | {tb:.2f}, {ta:.2f} |")
        diff = np.mean([r[2] - r[1] for r in rows])
        lines.append(f"| {name} | mean | {np.mean([r[1] for r in rows]):.4f} | {np.mean([r[2] for r in rows]):.4f} "
                     f"| {diff:+.4f} | |")
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(ROOT / "bench/RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
