"""Robustness to uninformative inputs: HGB ensemble against the MLP, idealized anomaly detection.

Idealized AD (docs/cathode.md): a classifier separates signal-region data (background plus a little
signal) from true background; its score, evaluated on a labelled test set, ranks signal first. Each
classifier runs twice: on the 4 features, and with 10 Gaussian noise features appended (the same noise
distribution in every class, so they carry no information). Finke et al. (arXiv:2309.13111) found that
the boosted trees keep their max SIC (about 16 -> 15) while the MLP collapses (about 14 -> 1.7).

By default the events come from the toy of bench/toy_data.py (LHCO-like background in the SR, a W'-like
signal at S/B 0.6 %, the IAD's on the LHCO R&D set); --signal-width 2.5 (the default) makes its signal
as hard to isolate as the LHCO one (IAD max SIC about 15; width 1, the original toy, gives about 45 and
hides the trees' loss). With --data, from a prepared set (sr_train/sr_val data against
extra_bkg_train/extra_bkg_val, scored on test). --hgb and --mlp take classifier settings (key=value).
Reported per setting: the median max SIC, the boosting iterations of the HGB members, the MLP's kept
epochs, and the CPU time (time.process_time).

    python bench/bench_noise_robustness.py [--data PREPARED.h5] [--n-models 50] [--mlp-epochs 100]
        [--hgb early_stopping=train] [--threads 2] [--record]
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from hepad.io import parse_param  # noqa: E402
from hepad.metrics.sic import max_sic  # noqa: E402
from hepad.models.classifiers import make_classifier  # noqa: E402
from results_file import record  # noqa: E402

SECTION = "## Noise robustness, HGB ensemble vs MLP (bench/bench_noise_robustness.py)"


def toy_sets(args):
    """Idealized-AD sets from the toy: (x_train, y_train, x_val, y_val, x_test, y_test) and a description."""
    import toy_data

    n_sig = int(round(args.sb * args.n_data))
    width = args.signal_width
    data = np.concatenate([toy_data.signal_region(args.n_data, seed=args.seed),
                           toy_data.signal(n_sig, seed=args.seed + 1, width=width)])
    bkg = toy_data.signal_region(args.n_bkg, seed=args.seed + 100)
    test = np.concatenate([toy_data.signal_region(args.n_test, seed=args.seed + 200),
                           toy_data.signal(args.n_test_sig, seed=args.seed + 201, width=width)])
    sets = _iad(data, bkg, test, np.random.default_rng(args.seed))
    return sets, (f"toy (bench/toy_data.py, seed {args.seed}, signal width {width}): {args.n_data} SR background + {n_sig} signal "
                  f"(S/B {100 * args.sb:.2f} %) vs {args.n_bkg} background, half of each for validation; "
                  f"test {args.n_test} background + {args.n_test_sig} signal")


def prepared_sets(args):
    from hepad.cathode.prepared import load_split

    data = np.concatenate([load_split(args.data, "sr_train"), load_split(args.data, "sr_val")])
    bkg = np.concatenate([load_split(args.data, "extra_bkg_train"), load_split(args.data, "extra_bkg_val")])
    test = load_split(args.data, "test")
    sets = _iad(data, bkg, test, np.random.default_rng(args.seed))
    return sets, f"prepared set {args.data}: {len(data)} SR data vs {len(bkg)} extra background; test {len(test)}"


def _iad(data, bkg, test, rng):
    """Class 1 = SR data, class 0 = background; random halves for training and validation; balanced
    weights (as hepad.cathode.modes gives them) are applied by the classifiers' class_weight."""
    x = np.concatenate([data[:, 1:5], bkg[:, 1:5]])
    y = np.r_[np.ones(len(data)), np.zeros(len(bkg))]
    order = rng.permutation(len(x))
    half = len(x) // 2
    tr, va = order[:half], order[half:]
    return x[tr], y[tr], x[va], y[va], test[:, 1:5], test[:, -1]


def with_noise(sets, n_noise, seed):
    rng = np.random.default_rng(seed)
    return tuple(np.column_stack([a, rng.standard_normal((len(a), n_noise))]) if i % 2 == 0 else a
                 for i, a in enumerate(sets))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="prepared set (.h5); default: the toy")
    parser.add_argument("--n-data", type=int, default=120_000, help="toy SR background in the data class")
    parser.add_argument("--sb", type=float, default=0.006, help="toy injected S/B (default %(default)s)")
    parser.add_argument("--signal-width", type=float, default=2.5,
                        help="toy signal width factor (bench/toy_data.signal; default %(default)s)")
    parser.add_argument("--hgb", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                        help="HGB ensemble setting (repeat), e.g. early_stopping=train")
    parser.add_argument("--mlp", action="append", default=[], type=parse_param, metavar="KEY=VALUE",
                        help="MLP setting (repeat), e.g. weight_decay=0.01")
    parser.add_argument("--n-bkg", type=int, default=240_000, help="toy true-background class")
    parser.add_argument("--n-test", type=int, default=200_000, help="toy test background")
    parser.add_argument("--n-test-sig", type=int, default=10_000, help="toy test signal")
    parser.add_argument("--n-noise", type=int, default=10)
    parser.add_argument("--n-models", type=int, default=50, help="HGB ensemble size (default %(default)s)")
    parser.add_argument("--mlp-epochs", type=int, default=100)
    parser.add_argument("--mlp-batch", type=int, default=128)
    parser.add_argument("--mlp-lr", type=float, default=1e-3)
    parser.add_argument("--runs", type=int, default=1, help="classifier seeds per setting")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["hgb", "mlp"], help="run one family only")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    sets, source = prepared_sets(args) if args.data else toy_sets(args)
    noisy = with_noise(sets, args.n_noise, args.seed + 7)
    params = {"hgb": dict(n_models=args.n_models, **dict(args.hgb)),
              "mlp": dict(epochs=args.mlp_epochs, batch_size=args.mlp_batch, lr=args.mlp_lr, **dict(args.mlp))}
    load0 = os.getloadavg()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores; load average {load0[0]:.1f}; data: {source}",
          flush=True)
    results = {}
    for kind in ("hgb", "mlp"):
        if args.only and kind != args.only:
            continue
        for label, (xt, yt, xv, yv, xs, ys) in (("4 features", sets), (f"+{args.n_noise} noise", noisy)):
            sics, cpus = [], []
            for run in range(args.runs):
                start = time.process_time()
                clf = make_classifier(kind, seed=run, threads=args.threads, **params[kind]).fit(xt, yt, xv, yv)
                sics.append(max_sic(clf.predict_proba(xs), ys))
                cpus.append(time.process_time() - start)
                detail = (f"iterations {[h['n_iter'] for h in clf.history_]}" if kind == "hgb"
                          else f"kept epochs {sorted(clf.kept_epochs_)}")
                print(f"{kind} {label} run {run}: max SIC {sics[-1]:.2f}, {detail}, {cpus[-1]:.0f} CPU s", flush=True)
            results[kind, label] = float(np.median(sics))
            results[kind, label, "cpu"] = float(np.median(cpus))
    lines = [f"`python bench/bench_noise_robustness.py {' '.join(sys.argv[1:])}` — {datetime.date.today()}, "
             f"{platform.node()} ({os.cpu_count()} cores), {args.threads} threads, load average "
             f"{load0[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end; {source}.",
             f"HGB ensemble {params['hgb']}; MLP 3x64 {params['mlp']}; median max SIC over {args.runs} run(s) "
             "(median CPU s of one training):"]
    for kind in ("hgb", "mlp"):
        clean, noise = results.get((kind, "4 features")), results.get((kind, f"+{args.n_noise} noise"))
        if clean is not None:
            lines.append(f"- {kind}: 4 features {clean:.2f} ({results[kind, '4 features', 'cpu']:.0f} s), "
                         f"+{args.n_noise} noise features {noise:.2f} "
                         f"({results[kind, f'+{args.n_noise} noise', 'cpu']:.0f} s; kept {100 * noise / clean:.0f} %)")
    text = "\n".join(lines)
    print(text)
    if args.record:
        record(args.results, SECTION, text)


if __name__ == "__main__":
    main()
