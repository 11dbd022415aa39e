"""Training time of the CATHODE flow: the reference settings against the fast defaults, same data.

Reference (REFERENCE.md §2): nflows MAF, 15 blocks x 128, batch 256, Adam lr 1e-4, 100 epochs, the best
epochs by validation loss kept. Fast: the defaults recommended for ``cathode.flow`` (see FAST below).
Both train on the same scaled sideband data (a prepared set's sb_train/sb_val with --data, otherwise
the toy of bench/toy_data.py with LHCO-like structure) and report the best validation NLL per event.

Running the reference for its full 100 epochs takes over an hour here, so by default it runs
``--ref-epochs`` epochs: its time for 100 epochs is then extrapolated from the measured seconds per
epoch, and its best NLL is the one after the epochs it ran (an upper bound on its 100-epoch NLL: say
so when comparing). ``--ref-epochs 100`` runs it in full. Times are wall-clock and CPU (process) time;
the load average is printed, because the machine may be shared.

    python bench/bench_flow_training.py [--data results/generated/prepared/nsig1000_seed1.h5]
        [--n-train 500000] [--ref-epochs 5] [--threads 2] [--record]
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from hepad.data.scaling import LogitScaler  # noqa: E402
from hepad.models.flows import ConditionalFlow  # noqa: E402

REFERENCE = dict(implementation="nflows", n_blocks=15, hidden=128, batch_size=256, lr=1e-4,
                 weight_decay=1e-6, max_epochs=100, patience=None, n_ensemble=10)
FAST = dict(implementation="made", n_blocks=15, hidden=128, batch_size=4096, lr=2e-3, weight_decay=1e-6,
            lr_schedule="cosine", warmup_epochs=1, max_epochs=40, patience=10, n_ensemble=10)

SECTION = "## Flow training speed (bench/bench_flow_training.py)"


def load_data(args):
    """(x, cond, x_val, cond_val) scaled as the workflow does: LogitScaler on features, standardised mjj."""
    if args.data:
        from hepad.data.prepared import FEATURES, column, load_split

        train, val = load_split(args.data, "sb_train"), load_split(args.data, "sb_val")
        source = f"prepared set {args.data}"
        def split(a):
            return np.column_stack([column(a, f) for f in FEATURES]), column(a, "mjj")
    else:
        import toy_data

        events = toy_data.sidebands(args.n_train + args.n_val, seed=args.seed)
        train, val = events[:args.n_train], events[args.n_train:]
        source = f"toy (bench/toy_data.py, seed {args.seed})"
        def split(a):
            return a[:, 1:5], a[:, 0]
    x, m = split(train[:args.n_train])
    xv, mv = split(val[:args.n_val])
    scaler = LogitScaler().fit(x)
    keep = scaler.in_domain(xv)
    mean, std = m.mean(), m.std()
    return (scaler.transform(x), (m - mean) / std, scaler.transform(xv[keep]), (mv[keep] - mean) / std,
            source)


def run(settings, data, threads, label):
    x, c, xv, cv = data
    flow = ConditionalFlow(threads=threads, device="cpu", seed=0, **settings)
    wall, cpu = time.perf_counter(), time.process_time()
    flow.fit(x, c, xv, cv)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_epoch = np.array([h["seconds"] for h in flow.history_])
    print(f"{label}: {len(flow.history_)} epochs, {wall:.0f} s wall ({cpu:.0f} s CPU), "
          f"median {np.median(per_epoch):.1f} s/epoch, best val NLL {flow.best_val_nll_:.4f} "
          f"(epoch {flow.ensemble_epochs_[0]})", flush=True)
    return {"epochs": len(flow.history_), "wall": wall, "cpu": cpu, "s_per_epoch": float(np.median(per_epoch)),
            "cpu_per_epoch": cpu / len(flow.history_), "best": flow.best_val_nll_,
            "val_curve": [round(h["val_nll"], 4) for h in flow.history_]}


def record(path, text):
    """Append ``text`` to this benchmark's section of bench/RESULTS.md (made if missing)."""
    path = Path(path)
    content = path.read_text() if path.exists() else "# Benchmark results\n"
    if SECTION not in content:
        content = content.rstrip("\n") + f"\n\n{SECTION}\n"
    head, tail = content.split(SECTION, 1)
    nxt = tail.find("\n## ")
    body, rest = (tail, "") if nxt < 0 else (tail[:nxt], tail[nxt:])
    path.write_text(head + SECTION + body.rstrip("\n") + "\n\n" + text.strip("\n") + "\n" + rest)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="prepared set (.h5); default: the toy")
    parser.add_argument("--n-train", type=int, default=500_000, help="training events (default %(default)s)")
    parser.add_argument("--n-val", type=int, default=100_000, help="validation events (default %(default)s)")
    parser.add_argument("--ref-epochs", type=int, default=5,
                        help="epochs of the reference actually run (100 = in full; default %(default)s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="toy seed")
    parser.add_argument("--fast", default="{}", help="JSON overrides of the fast settings")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    *data, source = load_data(args)
    fast = {**FAST, **json.loads(args.fast)}
    load0 = os.getloadavg()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"data: {source}, {len(data[0])} training / {len(data[2])} validation events; "
          f"load average {load0[0]:.1f}", flush=True)
    out = {"fast": run(fast, data, args.threads, "fast")}
    if not args.skip_reference:
        ref = dict(REFERENCE, max_epochs=args.ref_epochs)
        out["reference"] = run(ref, data, args.threads, f"reference ({args.ref_epochs} epochs)")
    load1 = os.getloadavg()
    lines = [f"`python bench/bench_flow_training.py {' '.join(sys.argv[1:])}` — "
             f"{datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores), {args.threads} threads; "
             f"{source}, {len(data[0])} training / {len(data[2])} validation events; "
             f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end.",
             f"- fast {json.dumps(fast)}: {out['fast']['epochs']} epochs, {out['fast']['wall'] / 60:.1f} min wall "
             f"({out['fast']['cpu'] / 60:.1f} min CPU), best val NLL {out['fast']['best']:.4f}."]
    if "reference" in out:
        r = out["reference"]
        full = r["s_per_epoch"] * 100
        kind = "measured" if args.ref_epochs >= 100 else f"extrapolated from {r['epochs']} epochs"
        lines.append(f"- reference (nflows, batch 256, lr 1e-4): {r['s_per_epoch']:.1f} s/epoch "
                     f"({r['cpu_per_epoch']:.1f} s CPU/epoch); 100 epochs = {full / 60:.0f} min ({kind}); "
                     f"best val NLL after {r['epochs']} epochs {r['best']:.4f}.")
        lines.append(f"- time ratio reference(100 epochs) / fast = {full / out['fast']['wall']:.1f} (wall), "
                     f"{r['cpu_per_epoch'] * 100 / out['fast']['cpu']:.1f} (CPU); NLL fast - reference = "
                     f"{out['fast']['best'] - r['best']:+.4f} nats/event"
                     + ("" if args.ref_epochs >= 100 else f" (reference after only {r['epochs']} epochs)") + ".")
        lines.append(f"- reference val NLL per epoch: {r['val_curve']}")
    lines.append(f"- fast val NLL per epoch: {out['fast']['val_curve']}")
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(args.results, text)


if __name__ == "__main__":
    main()
