"""CPU time of a flow training alone and three at once, with torch's waiting threads spinning or sleeping.

With `--cores 8` on a 2-core machine Snakemake started three 2-thread flow trainings at once; their
OpenMP threads spin while they wait for each other, so each took several times the CPU of a training
alone. The Snakefile now caps the cores of a local run at the CPUs the process may use (its affinity)
and sets OMP_WAIT_POLICY=PASSIVE for every job. This bench trains the same small flow (scripts/train_flow.py,
fixed number of epochs) alone and three at once, each with 2 threads, under both wait policies, and prints
the CPU seconds per training (user + system of the child, from os.wait4).

    python bench/bench_threads.py [--events 60000] [--epochs 3] [--record]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def make_set(folder: Path, events: int) -> Path:
    from lhco_toy import write_toy_lhco

    write_toy_lhco(folder / "features.h5", n_bkg=events, n_sig=200, seed=1)
    write_toy_lhco(folder / "extra.h5", n_bkg=2000, n_sig=0, seed=2, sr_only=True)
    subprocess.run([sys.executable, str(ROOT / "scripts/prepare.py"), "--features", str(folder / "features.h5"),
                    "--extra-bkg", str(folder / "extra.h5"), "--nsig", "100", "--seed", "1", "--sr", "3.3", "3.7",
                    "--sb-val-fraction", "0.2", "--sr-val-fraction", "0.5", "--extra-bkg-test-fraction", "0.5",
                    "--n-test-signal", "100", "--output", str(folder / "prep.h5"), "--summary",
                    str(folder / "prep.json")], check=True, capture_output=True)
    return folder / "prep.h5"


def trainings(prepared: Path, folder: Path, n: int, epochs: int, policy: str) -> tuple[list[float], float]:
    """Start n trainings at once; CPU seconds of each and the wall time of all."""
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    params = ["n_blocks=4", "hidden=64", "batch_size=256", f"max_epochs={epochs}", "patience=0", "n_ensemble=1"]
    procs = []
    start = time.perf_counter()
    for i in range(n):
        cmd = [sys.executable, str(ROOT / "scripts/train_flow.py"), "--data", str(prepared), "--region", "sb",
               "--threads", "2", "--seed", str(i), "--output", str(folder / f"{policy}_{n}_{i}")]
        for p in params:
            cmd += ["--param", p]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    cpu = []
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"a training failed (exit status {status})")
        cpu.append(usage.ru_utime + usage.ru_stime)
    return cpu, time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=60000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = p.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepared = make_set(folder, args.events)
        for policy in ("ACTIVE", "PASSIVE"):
            for n in (1, 3):
                cpu, wall = trainings(prepared, folder, n, args.epochs, policy)
                line = (f"OMP_WAIT_POLICY={policy}, {n} at once x 2 threads: CPU {sum(cpu) / n:.1f} s per training "
                        f"(each: {', '.join(f'{c:.1f}' for c in cpu)}), wall {wall:.1f} s for all")
                print(line, flush=True)
                lines.append(f"- {line}")
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f}")
    if args.record:
        from results_file import heading, record

        text = (f"{heading()}, load average {load:.1f} at "
                f"the end\n\n`python bench/bench_threads.py --events {args.events} --epochs {args.epochs}` "
                f"(flow 4 x 64, {args.epochs} epochs, 2 torch threads per training):\n\n" + "\n".join(lines))
        record(ROOT / "bench/RESULTS.md", "## Threads: one flow training alone and three at once (bench/bench_threads.py)",
               text)


if __name__ == "__main__":
    main()
