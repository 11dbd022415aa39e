#!/usr/bin/env python
"""How the size of the background class limits a weakly supervised classifier: CATHODE trained with its
flow samples subsampled to N events per split, beside the idealized AD (its true background class as it
is), with the classifier settings of the main job (tree ensemble, stopped on the validation split).

If CATHODE with N samples falls to the IAD's level when N is the IAD's number of true background events,
the IAD's lower max SIC comes from the statistics of its background class, not from the method.

    python bench/bench_template_size.py results/cathode/generated --nsig 240 --sizes 3750 11500 23000

Reads the prepared sets and flow samples of a finished main job (prepare/, nsig*_seed*/sample_sr/); prints
median max SIC (16-84 %) and AUC per variant over seeds x runs, and appends them to bench/RESULTS.md.
"""

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from hepad.cathode.classify import StandardisedClassifier  # noqa: E402
from hepad.cathode.modes import _make, evaluation_set, read_samples, training_set  # noqa: E402
from hepad.cathode.prepared import load_split  # noqa: E402
from hepad.metrics.sic import auc, max_sic  # noqa: E402
from results_file import record  # noqa: E402

SECTION = "## Background-class size of the weakly supervised classifiers (bench/bench_template_size.py)"
# The main job's tree ensemble (cathode.classifier.hgb defaults).
HGB = dict(n_models=10, max_iter=200, max_leaf_nodes=31, early_stopping="val", bootstrap=True)


def subsample(rows: np.ndarray, n: int, rng) -> np.ndarray:
    if n > len(rows):
        raise SystemExit(f"--sizes {n}: only {len(rows)} flow samples in a split")
    return rows[rng.permutation(len(rows))[:n]]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="results/cathode/<dataset> of a finished main job")
    p.add_argument("--nsig", type=int, default=240)
    p.add_argument("--sizes", type=int, nargs="+", default=[3750, 11500, 23000], help="flow samples per split")
    p.add_argument("--runs", type=int, default=2, help="classifier runs per seed")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = p.parse_args(argv)
    folder = Path(args.folder)
    prepared = sorted(folder.glob(f"prepare/nsig{args.nsig}_seed*.h5"))
    if not prepared:
        raise SystemExit(f"no {folder}/prepare/nsig{args.nsig}_seed*.h5: run the main job first")
    t0 = time.process_time()
    results, counts = {}, {}
    for prep in prepared:
        seed = int(prep.stem.split("seed")[1])
        x_test, _, y_test = evaluation_set(prep)
        s_train, s_val = read_samples(folder / prep.stem / "sample_sr" / "sr_samples.h5")
        sr_train, sr_val = load_split(prep, "sr_train"), load_split(prep, "sr_val")
        rng = np.random.default_rng(seed)
        variants = {"iad": training_set("iad", prep)}
        counts["iad"] = len(load_split(prep, "extra_bkg_train"))
        for n in args.sizes + [len(s_train)]:
            name = f"cathode, {n} samples" if n in args.sizes else "cathode, all samples (as in the main job)"
            variants[name] = _make(sr_train, subsample(s_train, n, rng), sr_val,
                                   subsample(s_val, min(n, len(s_val)), rng))
        for name, data in variants.items():
            for run in range(args.runs):
                params = dict(HGB, seed=1000 * seed + run, threads=args.threads)
                clf = StandardisedClassifier("hgb", params).fit(data.x_train, data.y_train, data.x_val, data.y_val,
                                                                sample_weight=data.w_train,
                                                                sample_weight_val=data.w_val)
                scores = clf.predict_proba(x_test)
                results.setdefault(name, []).append((max_sic(scores, y_test), auc(scores, y_test)))
        print(f"seed {seed} done ({time.process_time() - t0:.0f} s CPU)", flush=True)
    lines = [f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, `python bench/bench_template_size.py {args.folder} "
             f"--nsig {args.nsig} --sizes {' '.join(map(str, args.sizes))} --runs {args.runs}`: {len(prepared)} "
             f"seeds x {args.runs} runs, the IAD with {counts['iad']} true background events per seed to train on; "
             f"{time.process_time() - t0:.0f} s CPU.", "",
             "| background class | median max SIC (16-84 %) | median AUC |", "| --- | ---: | ---: |"]
    for name, vals in results.items():
        vals = np.array(vals)
        q16, q84 = np.percentile(vals[:, 0], [16, 84])
        label = f"IAD, {counts['iad']} true background" if name == "iad" else name
        lines.append(f"| {label} | {np.median(vals[:, 0]):.2f} ({q16:.2f}-{q84:.2f}) | {np.median(vals[:, 1]):.3f} |")
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record(ROOT / "bench" / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
