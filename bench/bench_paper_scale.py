#!/usr/bin/env python
"""The CATHODE paper's scale on this machine: a synthetic data set of the official LHCO R&D size in its
layout (1.1M events: 1M background, 100k signal; 612k extra SR background), the `config/lhco.yaml` chain
for one seed (every mode of `results/sic_comparison.pdf`), wall time and peak memory per rule, and the
projected total for ten seeds on a SLURM cluster.

    python bench/bench_paper_scale.py WORKDIR [--cores 2] [--flow-epochs N] [--classifier-epochs N]

With --flow-epochs / --classifier-epochs the flows and the MLPs stop after N epochs (a run that fits in an
afternoon); each training rule's time is then projected to the published epochs from its measured time per
epoch (times the ratio of epochs), the rest is taken as measured. The projection for the cluster: the ten
seeds' jobs are independent, so the total is the larger of (sum of core-seconds of ten seeds / cluster
cores) and one seed's critical path (prepare, the SB flow, sampling, the slowest classifier, evaluation).
Events come from bench/toy_data.py through bench/cathode_lhco_toy.py (the physics is the toy's: the
figure measured here is cost, not SIC). Appends the table to bench/RESULTS.md.
"""

import argparse
import csv
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

import cathode_lhco_toy  # noqa: E402
from results_file import record  # noqa: E402

from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path  # noqa: E402

SECTION = "## Paper scale: the config/lhco.yaml chain on a data set of the official size (bench/bench_paper_scale.py)"
PUBLISHED_EPOCHS = {"train_flow": 100, "train_classifier": 100}  # the reference flow recipe, the paper's MLP
CRITICAL_PATH = ("prepare", "train_flow", "sample_sr", "train_classifier", "evaluate")


def write_data(work: Path, seed: int) -> None:
    if (work / resource_path(LHCO_FEATURES)).exists() and (work / resource_path(LHCO_EXTRA_QCD_SR)).exists():
        print("data set already written", flush=True)
        return
    cathode_lhco_toy.main([str(work), "--n-bkg", "1000000", "--n-sig", "100000", "--n-extra-sr", "612000",
                           "--seed", str(seed)])


def override(work: Path, flow_epochs, classifier_epochs) -> Path:
    lines = ["injection:", "  seeds: [1]", "  scan_seeds: [1]"]
    cathode = []
    if flow_epochs:
        cathode += ["  flow:", f"    max_epochs: {flow_epochs}"]
    if classifier_epochs:
        cathode += ["  classifier:", "    mlp:", f"      epochs: {classifier_epochs}"]
    if cathode:
        lines += ["cathode:"] + cathode
    path = work / "paper_scale.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_benchmarks(work: Path) -> dict:
    """rule -> list of (wall s, cpu s, max RSS MB) of its jobs."""
    out = defaultdict(list)
    for tsv in sorted((work / "results" / "benchmarks").rglob("*.tsv")):
        rule = tsv.relative_to(work / "results" / "benchmarks").parts[0]
        with tsv.open() as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        rss = row.get("max_rss", "0")
        rss_mb = float(rss) if rss not in ("", "-") else 0.0
        out[rule].append((float(row["s"]), float(row.get("cpu_time", 0) or 0), rss_mb))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workdir")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--flow-epochs", type=int, help="stop every flow after this many epochs (projected to 100)")
    p.add_argument("--classifier-epochs", type=int, help="stop every MLP after this many epochs (projected to 100)")
    p.add_argument("--seeds", type=int, default=10, help="seeds of the projection")
    p.add_argument("--cluster-cores", type=int, default=100)
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic events")
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args(argv)
    work = Path(args.workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    write_data(work, args.seed)
    t_data = time.time() - t0
    # The target goes before --configfile, which takes every path after it as a config file.
    cmd = ["snakemake", "--cores", str(args.cores), "-s", str(ROOT / "Snakefile"), "--directory", str(work),
           "results/sic_comparison.pdf", "--configfile", str(ROOT / "config" / "lhco.yaml"),
           str(override(work, args.flow_epochs, args.classifier_epochs))]
    print(" ".join(cmd), flush=True)
    t1 = time.time()
    subprocess.run(cmd, check=True)
    t_chain = time.time() - t1
    bench = read_benchmarks(work)
    scale = {"train_flow": PUBLISHED_EPOCHS["train_flow"] / args.flow_epochs if args.flow_epochs else 1.0,
             "train_classifier": (PUBLISHED_EPOCHS["train_classifier"] / args.classifier_epochs
                                  if args.classifier_epochs else 1.0)}
    lines = [f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, `python bench/bench_paper_scale.py WORKDIR --cores "
             f"{args.cores}" + (f" --flow-epochs {args.flow_epochs}" if args.flow_epochs else "")
             + (f" --classifier-epochs {args.classifier_epochs}" if args.classifier_epochs else "")
             + f"`: data written in {t_data:.0f} s, one seed's chain in {t_chain / 60:.1f} min wall on "
             f"{args.cores} cores.", "",
             "| rule | jobs | wall per job [s], measured | peak RSS [MB] | "
             "core-seconds, projected to the published epochs |",
             "| --- | ---: | ---: | ---: | ---: |"]
    core_seconds, longest = 0.0, {}
    for rule, jobs in sorted(bench.items()):
        walls = [j[0] for j in jobs]
        cpu = sum(max(j[1], j[0]) for j in jobs) * scale.get(rule, 1.0)  # a job holds its core while it waits
        core_seconds += cpu
        longest[rule] = max(walls) * scale.get(rule, 1.0)
        lines.append(f"| {rule} | {len(jobs)} | {min(walls):.0f}-{max(walls):.0f} | {max(j[2] for j in jobs):.0f} | "
                     f"{cpu:.0f} |")
    path = sum(longest.get(rule, 0.0) for rule in CRITICAL_PATH)
    cluster = max(core_seconds * args.seeds / args.cluster_cores, path)
    lines += ["", f"One seed: {core_seconds / 3600:.2f} core-hours projected; critical path {path / 3600:.2f} h. "
              f"{args.seeds} seeds on {args.cluster_cores} cores: {cluster / 3600:.2f} h "
              f"(max of {core_seconds * args.seeds / args.cluster_cores / 3600:.2f} h of work spread over the cores "
              f"and the critical path)."]
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        record(ROOT / "bench" / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
