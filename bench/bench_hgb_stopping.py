#!/usr/bin/env python
"""Is the tree ensemble's stopping rule what limits the idealized AD on other feature sets? Every rule from
one fit: each member boosts --max-iter iterations without early stopping (Poisson(1) bootstrap weights, as
in the main job), and its staged predictions on the validation and test splits give

- ``fixedN``: the first N iterations of every member;
- ``patience10``: scikit-learn's rule with the validation data of the main job (stop when none of the last
  10 iterations improves on the loss 10 iterations earlier; the default ``early_stopping: val``);
- ``best``: every member rolled back to its iteration of lowest validation loss.

    python bench/bench_hgb_stopping.py results/cathode/generated results/cathode/generated_tau56 \\
        results/cathode/generated_lhco4_noise10 --nsig 240

Reads the prepared sets (prepare/nsig*_seed*.h5) of finished IAD runs, one folder per feature set; the tree
settings (--learning-rate, --max-leaf-nodes, --min-samples-leaf) apply to every member. Prints the median max
SIC over seeds per rule and appends the table to bench/RESULTS.md.
"""

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from hepad.cathode.modes import evaluation_set, training_set  # noqa: E402
from hepad.metrics.sic import max_sic  # noqa: E402
from hepad.models.classifier_base import _weighted_log_loss  # noqa: E402
from results_file import record  # noqa: E402

SECTION = "## Stopping rules of the tree ensemble, idealized AD (bench/bench_hgb_stopping.py)"
FIXED = (10, 25, 50, 100, 200)
PATIENCE = 10


def patience_stop(val_loss: np.ndarray) -> int:
    """Index of the last iteration scikit-learn keeps with n_iter_no_change = PATIENCE and tol 1e-7."""
    for k in range(PATIENCE, len(val_loss)):
        if val_loss[k - PATIENCE + 1:k + 1].min() > val_loss[k - PATIENCE] - 1e-7:
            return k
    return len(val_loss) - 1


def member_rules(data, x_test, seed: int, args) -> dict:
    """Test scores of one ensemble (--members members) under every rule; and the iterations chosen."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    scores, chosen = {}, {"best": [], "patience10": []}
    with threadpool_limits(args.threads, "openmp"):
        for member_seed in np.random.SeedSequence(seed).generate_state(args.members):
            member = HistGradientBoostingClassifier(
                max_iter=args.max_iter, early_stopping=False, learning_rate=args.learning_rate,
                max_leaf_nodes=args.max_leaf_nodes, min_samples_leaf=args.min_samples_leaf,
                random_state=int(member_seed))
            weights = data.w_train * np.random.default_rng(int(member_seed)).poisson(1.0, len(data.w_train))
            member.fit(data.x_train, data.y_train, sample_weight=weights)
            val = [p[:, 1] for p in member.staged_predict_proba(data.x_val)]
            test = np.array([p[:, 1] for p in member.staged_predict_proba(x_test)])
            loss = np.array([_weighted_log_loss(p, data.y_val, data.w_val) for p in val])
            picks = {"best": int(np.argmin(loss)), "patience10": patience_stop(loss)}
            picks.update({f"fixed{n}": n - 1 for n in FIXED if n <= args.max_iter})
            for rule, k in picks.items():
                scores.setdefault(rule, []).append(test[k])
            for rule in chosen:
                chosen[rule].append(picks[rule] + 1)
    return {rule: np.mean(s, axis=0) for rule, s in scores.items()}, chosen


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", help="results/cathode/<dataset> folders, one per feature set")
    p.add_argument("--nsig", type=int, default=240)
    p.add_argument("--members", type=int, default=10, help="ensemble members (the main job's 10)")
    p.add_argument("--max-iter", type=int, default=200)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--max-leaf-nodes", type=int, default=31)
    p.add_argument("--min-samples-leaf", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = p.parse_args(argv)
    t0 = time.process_time()
    table = {}
    for folder in map(Path, args.folders):
        prepared = sorted(folder.glob(f"prepare/nsig{args.nsig}_seed*.h5"))
        if not prepared:
            raise SystemExit(f"no {folder}/prepare/nsig{args.nsig}_seed*.h5: run the IAD on that data set first")
        for prep in prepared:
            seed = int(prep.stem.split("seed")[1])
            x_test, _, y_test = evaluation_set(prep)
            scores, chosen = member_rules(training_set("iad", prep), x_test, 1000 * seed, args)
            for rule, s in scores.items():
                table.setdefault(folder.name, {}).setdefault(rule, []).append(max_sic(s, y_test))
            print(f"{folder.name} seed {seed}: iterations kept, best {chosen['best']}, patience10 "
                  f"{chosen['patience10']} ({time.process_time() - t0:.0f} s CPU)", flush=True)
    rules = ["patience10", "best"] + [f"fixed{n}" for n in FIXED if n <= args.max_iter]
    lines = [f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, `python bench/bench_hgb_stopping.py "
             f"{' '.join(args.folders)} --nsig {args.nsig} --members {args.members} --max-iter {args.max_iter} "
             f"--learning-rate {args.learning_rate} --max-leaf-nodes {args.max_leaf_nodes} --min-samples-leaf "
             f"{args.min_samples_leaf}`: IAD, median max SIC over {len(prepared)} seeds (one ensemble each); "
             f"{time.process_time() - t0:.0f} s CPU.", "",
             "| data set | " + " | ".join(rules) + " |", "| --- |" + " ---: |" * len(rules)]
    for name, per_rule in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{np.median(per_rule[r]):.2f}" for r in rules) + " |")
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record(ROOT / "bench" / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
