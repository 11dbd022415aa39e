"""Training time of the CATHODE flow: the reference settings against the fast defaults, same data.

Reference (docs/cathode.md): nflows MAF, 15 blocks x 128, batch 256, Adam lr 1e-4, 100 epochs, the best
epochs by validation loss kept. Fast: the defaults recommended for ``cathode.flow`` (see FAST below).
Both train on the same scaled sideband data (a prepared set's sb_train/sb_val with --data, otherwise
the toy of bench/toy_data.py with LHCO-like structure) and report the best validation NLL per event.

Running the reference for its full 100 epochs takes over an hour here, so by default it runs
``--ref-epochs`` epochs: its time for 100 epochs is then extrapolated from the measured seconds per
epoch, and its best NLL is the one after the epochs it ran (an upper bound on its 100-epoch NLL: say
so when comparing). ``--ref-epochs 100`` runs it in full. Times are wall-clock and CPU (process) time;
the load average is printed, because the machine may be shared.

    python bench/bench_flow_training.py [--data results/cathode/generated/prepare/nsig1000_seed1.h5]
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

from hepad.cathode.scaling import LogitScaler  # noqa: E402
from hepad.models.flows import ConditionalFlow  # noqa: E402
from results_file import record  # noqa: E402

REFERENCE = dict(implementation="nflows", n_blocks=15, hidden=128, batch_size=256, lr=1e-4,
                 weight_decay=1e-6, max_epochs=100, patience=None, n_ensemble=10)
FAST = dict(implementation="made", n_blocks=15, hidden=128, batch_size=4096, lr=2e-3, weight_decay=1e-6,
            lr_schedule="cosine", warmup_epochs=1, max_epochs=40, patience=10, n_ensemble=10)

SECTION = "## Flow training speed (bench/bench_flow_training.py)"


def load_data(args):
    """(x, cond, x_val, cond_val) scaled as the workflow does: LogitScaler on features, standardised mjj."""
    if args.data:
        from hepad.cathode.prepared import FEATURES, column, load_split

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


def run(settings, data, threads, label, checkpoint=None):
    x, c, xv, cv = data
    flow = ConditionalFlow(threads=threads, device="cpu", seed=0, **settings)
    wall, cpu = time.perf_counter(), time.process_time()
    flow.fit(x, c, xv, cv, checkpoint_path=checkpoint)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_epoch = np.array(flow.epoch_seconds_)
    print(f"{label}: {len(flow.history_)} epochs, {wall:.0f} s wall ({cpu:.0f} s CPU), "
          f"median {np.median(per_epoch):.1f} s/epoch, best val NLL {flow.best_val_nll_:.4f} "
          f"(epoch {flow.ensemble_epochs_[0]})", flush=True)
    return {"epochs": len(flow.history_), "wall": wall, "cpu": cpu, "s_per_epoch": float(np.median(per_epoch)),
            "cpu_per_epoch": cpu / len(flow.history_), "best": flow.best_val_nll_,
            "val_curve": [round(h["val_nll"], 4) for h in flow.history_]}


def step_timing(settings, threads, n_train, n_val, repeats=7, steps=10):
    """Seconds per epoch from the fastest of ``repeats`` timings of ``steps`` optimisation steps.

    On a shared machine other processes only ever add time, so the minimum over repeats removes short
    interruptions (the convention of timeit); under a sustained load every repeat is slowed and the
    figures are those of the loaded machine (compare the printed load average). Validation (a forward pass over ``n_val``
    events) is timed the same way and added.
    """
    import torch

    from hepad.models.flows import IMPLEMENTATIONS

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = IMPLEMENTATIONS[settings["implementation"]](4, 1, settings["n_blocks"], settings["hidden"], True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-5, foreach=True)
    bs = settings["batch_size"]
    x, c = torch.randn(bs, 4), torch.randn(bs, 1)

    def step():
        loss = -model.log_prob(x, c).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    best = min(_timed(step, steps) for _ in range(repeats)) / steps
    xv, cv = torch.randn(65536, 4), torch.randn(65536, 1)

    def val():
        with torch.inference_mode():
            model.eval()
            model.log_prob(xv, cv)
            model.train()

    best_val = min(_timed(val, 1) for _ in range(3)) / 65536
    return best * max(1, round(n_train / bs)) + best_val * n_val, best


def _timed(fn, n):
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def timing_main(args, fast):
    """Per-epoch times of the reference and the fast settings from minimum step times."""
    load0 = os.getloadavg()
    ref = dict(REFERENCE, implementation="nflows")
    rows = []
    for label, settings in (("reference nflows", ref), ("reference made", dict(ref, implementation="made")),
                            ("fast", fast)):
        epoch, step = step_timing(settings, args.threads, args.n_train, args.n_val)
        rows.append((label, settings, epoch, step))
        print(f"{label}: {1e3 * step:.1f} ms/step (batch {settings['batch_size']}), "
              f"{epoch:.1f} s/epoch on {args.n_train} + {args.n_val} validation events", flush=True)
    ref_total = rows[0][2] * 100
    fast_epochs = args.fast_epochs or fast["max_epochs"]
    fast_total = rows[2][2] * fast_epochs
    text = "\n".join([
        f"`python bench/bench_flow_training.py {' '.join(sys.argv[1:])}` — {datetime.date.today()}, "
        f"{platform.node()} ({os.cpu_count()} cores), {args.threads} threads, load average {load0[0]:.1f} at "
        f"start, {os.getloadavg()[0]:.1f} at end; step times = minimum over 7 repeats of 10 steps, "
        f"epochs of {args.n_train} training + {args.n_val} validation events:",
        *[f"- {label} (batch {st['batch_size']}, {st['n_blocks']}x{st['hidden']}): {1e3 * step:.1f} ms/step, "
          f"{epoch:.1f} s/epoch" for label, st, epoch, step in rows],
        f"- reference 100 epochs: {ref_total / 60:.0f} min; fast {fast_epochs} epochs: {fast_total / 60:.1f} min; "
        f"ratio {ref_total / fast_total:.1f} (times extrapolated from step times, not a full run)."])
    print(text)
    if args.record:
        record(args.results, SECTION, text)


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
    parser.add_argument("--ref-implementation", default="nflows", choices=["nflows", "made"],
                        help="implementation of the reference architecture (same maths; default %(default)s)")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-fast", action="store_true")
    parser.add_argument("--checkpoint-dir", help="checkpoint both trainings here (a killed run resumes; "
                        "times then cover the resumed part only)")
    parser.add_argument("--timing-only", action="store_true",
                        help="only time optimisation steps (min over repeats) and extrapolate epochs")
    parser.add_argument("--fast-epochs", type=int, help="with --timing-only: epochs of the fast run "
                        "(default: its max_epochs)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    fast = {**FAST, **json.loads(args.fast)}
    if args.timing_only:
        return timing_main(args, fast)
    *data, source = load_data(args)
    load0 = os.getloadavg()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"data: {source}, {len(data[0])} training / {len(data[2])} validation events; "
          f"load average {load0[0]:.1f}", flush=True)

    def ckpt(name):
        return str(Path(args.checkpoint_dir) / f"{name}.ckpt") if args.checkpoint_dir else None

    out = {}
    if not args.skip_fast:
        out["fast"] = run(fast, data, args.threads, "fast", ckpt("fast"))
    if not args.skip_reference:
        ref = dict(REFERENCE, max_epochs=args.ref_epochs, implementation=args.ref_implementation)
        out["reference"] = run(ref, data, args.threads, f"reference ({args.ref_epochs} epochs)", ckpt("reference"))
    load1 = os.getloadavg()
    lines = [f"`python bench/bench_flow_training.py {' '.join(sys.argv[1:])}` — "
             f"{datetime.date.today()}, {platform.node()} ({os.cpu_count()} cores), {args.threads} threads; "
             f"{source}, {len(data[0])} training / {len(data[2])} validation events; "
             f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end."]
    if "fast" in out:
        lines.append(f"- fast {json.dumps(fast)}: {out['fast']['epochs']} epochs, {out['fast']['wall'] / 60:.1f} min "
                     f"wall ({out['fast']['cpu'] / 60:.1f} min CPU), best val NLL {out['fast']['best']:.4f}.")
    if "reference" in out:
        r = out["reference"]
        full = r["s_per_epoch"] * 100
        kind = "measured" if args.ref_epochs >= 100 else f"extrapolated from {r['epochs']} epochs"
        lines.append(f"- reference ({args.ref_implementation}, batch 256, lr 1e-4): {r['s_per_epoch']:.1f} s/epoch "
                     f"({r['cpu_per_epoch']:.1f} s CPU/epoch); 100 epochs = {full / 60:.0f} min ({kind}); "
                     f"best val NLL after {r['epochs']} epochs {r['best']:.4f}.")
    if "reference" in out and "fast" in out:
        lines.append(f"- time ratio reference(100 epochs) / fast = {full / out['fast']['wall']:.1f} (wall), "
                     f"{r['cpu_per_epoch'] * 100 / out['fast']['cpu']:.1f} (CPU); NLL fast - reference = "
                     f"{out['fast']['best'] - r['best']:+.4f} nats/event"
                     + ("" if args.ref_epochs >= 100 else f" (reference after only {r['epochs']} epochs)") + ".")
    if "reference" in out:
        lines.append(f"- reference val NLL per epoch: {out['reference']['val_curve']}")
    if "fast" in out:
        lines.append(f"- fast val NLL per epoch: {out['fast']['val_curve']}")
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(args.results, SECTION, text)


if __name__ == "__main__":
    main()
