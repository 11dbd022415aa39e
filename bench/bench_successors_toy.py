"""CATHODE, LaCATHODE and R-ANODE side by side on the Gaussian toy of tests/test_cathode_toy.py (a known
bump), on the same events, SB flow, seeds and test set, at several injected signal counts.

    python bench/bench_successors_toy.py --n-bkg 80000 --nsig 400 100 --seeds 0 1 2

Prints per (nsig, seed) the SR S/B, each method's max SIC and CPU seconds, then the median per nsig.
The toy is easier than collider data (the signal sits in the tail of every feature); it ranks the methods'
machinery, not their published figures.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from hepad.cathode.classify import StandardisedClassifier  # noqa: E402
from hepad.cathode.density import ConditionalDensity, anode_scores  # noqa: E402
from hepad.cathode.kde import LogitKDE  # noqa: E402
from hepad.cathode.modes import balanced_weights  # noqa: E402
from hepad.cathode.ranode import SignalFlow, fit_signal  # noqa: E402
from hepad.metrics.sic import summarize  # noqa: E402
from hepad.models.flows import ConditionalFlow  # noqa: E402
from test_cathode_toy import SR, background, in_sr, signal  # noqa: E402

FLOW = dict(n_features=4, n_blocks=4, hidden=32, batch_size=1024, lr=3e-3, max_epochs=15, patience=4, n_ensemble=5,
            implementation="made", lr_schedule="cosine", warmup_epochs=1)


def classify(x1, x0, x_test, seed, threads):
    """HGB (3 members) of label 1 against label 0, half of each for validation; scores of x_test."""
    h1, h0 = len(x1) // 2, len(x0) // 2
    xt, yt = np.r_[x1[:h1], x0[:h0]], np.r_[np.ones(h1), np.zeros(h0)]
    xv, yv = np.r_[x1[h1:], x0[h0:]], np.r_[np.ones(len(x1) - h1), np.zeros(len(x0) - h0)]
    clf = StandardisedClassifier("hgb", {"n_models": 3, "max_iter": 200, "max_leaf_nodes": 31, "seed": seed,
                                         "threads": threads, "class_weight": None})
    clf.fit(xt, yt, xv, yv, sample_weight=balanced_weights(yt), sample_weight_val=balanced_weights(yv))
    return clf.predict_proba(x_test)


def run(n_bkg, nsig, seed, threads):
    rng = np.random.default_rng(seed)
    mjj_b, x_b = background(n_bkg, rng)
    mjj_s, x_s = signal(nsig, rng)
    mjj, x = np.r_[mjj_b, mjj_s], np.r_[x_b, x_s]
    sr = in_sr(mjj)
    s, b = int(sr[n_bkg:].sum()), int(sr[:n_bkg].sum())
    sb = rng.permutation(np.flatnonzero(~sr))
    n_val = len(sb) // 5
    model = ConditionalDensity(ConditionalFlow(seed=seed, threads=threads, **FLOW)).fit(
        x[sb[n_val:]], mjj[sb[n_val:]], x[sb[:n_val]], mjj[sb[:n_val]])
    idx = rng.permutation(np.flatnonzero(sr))
    mjj_tb, x_tb = background(100_000, rng)
    inside = in_sr(mjj_tb)
    mjj_ts, x_ts = signal(2000, rng)
    x_test, mjj_test = np.r_[x_tb[inside], x_ts], np.r_[mjj_tb[inside], mjj_ts]
    y_test = np.r_[np.zeros(inside.sum()), np.ones(len(x_ts))].astype(int)
    out = {"s_over_b": s / b}

    t0 = time.process_time()
    samples = model.sample(LogitKDE(0.01).fit(mjj[idx], *SR).sample(4 * len(idx), seed=seed), seed=seed)
    out["cathode"] = (summarize(classify(x[idx], samples, x_test, seed, threads), y_test)["max_sic"],
                      time.process_time() - t0)

    t0 = time.process_time()
    z = model.latent(x[idx], mjj[idx])
    z = z[np.isfinite(z).all(axis=1)]
    z_test = model.latent(x_test, mjj_test)
    mapped = np.isfinite(z_test).all(axis=1)
    scores = np.full(len(z_test), -1.0)
    scores[mapped] = classify(z, rng.standard_normal((4 * len(z), 4)), z_test[mapped], seed, threads)
    out["lacathode"] = (summarize(scores, y_test)["max_sic"], time.process_time() - t0)

    t0 = time.process_time()
    half = len(idx) // 2
    flow = SignalFlow(w=0.01, learn_w=True, n_features=4, n_blocks=4, hidden=64, batch_size=256, lr=1e-3,
                      max_epochs=100, patience=10, n_ensemble=10, seed=seed, threads=threads, implementation="made")
    signal_model = fit_signal(flow, model, x[idx[:half]], mjj[idx[:half]], x[idx[half:]], mjj[idx[half:]])
    out["ranode"] = (summarize(anode_scores(signal_model, model, x_test, mjj_test), y_test)["max_sic"],
                     time.process_time() - t0)
    out["ranode_w"] = float(np.mean(flow.signal_fractions_))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-bkg", type=int, default=80_000)
    p.add_argument("--nsig", type=int, nargs="+", default=[400, 100])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    table = {}
    for nsig in args.nsig:
        for seed in args.seeds:
            r = run(args.n_bkg, nsig, seed, args.threads)
            table.setdefault(nsig, []).append(r)
            print(f"nsig {nsig} seed {seed}: S/B {100 * r['s_over_b']:.2f} %; " + ", ".join(
                f"{m} {r[m][0]:.2f} ({r[m][1]:.0f} CPU s)" for m in ("cathode", "lacathode", "ranode"))
                + f"; R-ANODE w {r['ranode_w']:.4f}", flush=True)
    for nsig, rows in table.items():
        print(f"nsig {nsig} (S/B {100 * np.median([r['s_over_b'] for r in rows]):.2f} %), median max SIC over "
              f"{len(rows)} seeds: " + ", ".join(f"{m} {np.median([r[m][0] for r in rows]):.2f}"
                                                 for m in ("cathode", "lacathode", "ranode")))


if __name__ == "__main__":
    main()
