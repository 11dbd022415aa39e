#!/usr/bin/env python
"""What the bump hunt's jobs cost: wall seconds per search rule from the benchmark files of a finished run
(results/benchmarks/search_*/), and the default scan projected from them.

    python bench/search_cost.py results/benchmarks --dataset generated --data-sets 1 --wall-minutes 16.2

--data-sets: how many data sets (nsig, seed) the run holds; the projection multiplies the per-data-set job
seconds by the number of data sets of the default scan (injection.scan_nsig x scan_seeds, plus the
background-only search.null_seeds, counted once) and divides by the jobs that run at once (cores / threads
per job, --threads: search.threads of the run). --wall-minutes: the run's measured
wall time, printed beside the sum of its job times (their ratio is how well the cores were used). Snakemake's
cpu_time column undercounts; the wall seconds (``s``) are used.
"""

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RULES = ("search_prepare", "search_train_flow", "search_template", "search_iad_template", "search_kfold_scores")


def job_seconds(folder: Path, rule: str, dataset: str) -> list[float]:
    seconds = []
    for path in sorted((folder / rule / dataset).glob("*.tsv")):
        with path.open() as handle:
            seconds += [float(row["s"]) for row in csv.DictReader(handle, delimiter="\t")][-1:]
    return seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("benchmarks", help="results/benchmarks of a finished search run")
    p.add_argument("--dataset", default="generated")
    p.add_argument("--data-sets", type=int, required=True, help="data sets (nsig, seed) the run searched")
    p.add_argument("--wall-minutes", type=float, default=None, help="the run's measured wall time")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="threads per job of the run (config search.threads)")
    args = p.parse_args(argv)
    import yaml

    from hepad.config import validate_config

    config = validate_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()))
    scan = len(config["injection"]["scan_nsig"]) * len(config["injection"]["scan_seeds"])
    null = [s for s in config["search"]["null_seeds"]
            if not (0 in config["injection"]["scan_nsig"] and s in config["injection"]["scan_seeds"])]
    default_sets = scan + len(null)
    at_once = max(1, args.cores // args.threads)
    total = 0.0
    print(f"| rule | jobs | job seconds | mean [s] |\n| --- | ---: | ---: | ---: |")
    for rule in RULES:
        seconds = job_seconds(Path(args.benchmarks), rule, args.dataset)
        if seconds:
            total += sum(seconds)
            print(f"| {rule} | {len(seconds)} | {sum(seconds):.0f} | {sum(seconds) / len(seconds):.1f} |")
    per_set = total / args.data_sets
    print(f"\njob seconds per data set {per_set:.0f} ({per_set / 60:.1f} min)", end="")
    if args.wall_minutes:
        print(f"; the run: {args.wall_minutes:.1f} min wall for {total / 60:.1f} job-minutes "
              f"({total / 60 / args.wall_minutes:.2f} jobs at a time on average)", end="")
    print(f"\ndefault scan: {default_sets} data sets ({scan} injections x seeds + {len(null)} background-only), "
          f"{default_sets * per_set / 60:.0f} job-minutes, about {default_sets * per_set / 60 / at_once:.0f} min "
          f"on {args.cores} cores with {args.threads} thread(s) per job; methods "
          f"{', '.join(config['search']['methods'])}")


if __name__ == "__main__":
    main()
