"""Average decision ordering: exact O(n log n) ADO on 100k events (5e9 pairs), and a check against the
naive pair count on 5k events (12.5M pairs).

    python bench/bench_ado.py [--n 100000] [--n-naive 5000] [--repeat 3]
"""

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.metrics.ado import MisorderedADO, ado, ado_bruteforce  # noqa: E402


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return value, min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="events of the timed exact ADO (default: %(default)s)")
    parser.add_argument("--n-naive", type=int, default=5000, help="events of the naive comparison (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept (default: %(default)s)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.machine()}, python {platform.python_version()}, numpy {np.__version__}")

    x = rng.normal(size=args.n)
    y = x + rng.normal(size=args.n)
    value, t = best_time(lambda: ado(x, y), args.repeat)
    print(f"exact ADO, n = {args.n} ({args.n * (args.n - 1) // 2:.3g} pairs), continuous scores: {value:.6f} in {t:.3f} s")
    xt, yt = np.round(x, 1), np.round(y, 1)  # many ties
    value, t = best_time(lambda: ado(xt, yt), args.repeat)
    print(f"exact ADO, n = {args.n}, scores rounded to 0.1 (heavy ties): {value:.6f} in {t:.3f} s")
    restricted = MisorderedADO(x, y)
    c = x + 0.5 * rng.normal(size=args.n)
    value, t = best_time(lambda: restricted(c), args.repeat)
    print(f"exact ADO on misordered pairs, one candidate, n = {args.n}: {value:.6f} in {t:.3f} s")

    n = args.n_naive
    for name, (a, b) in {"continuous": (x[:n], y[:n]), "rounded": (xt[:n], yt[:n])}.items():
        fast, t_fast = best_time(lambda: ado(a, b), 1)
        naive, t_naive = best_time(lambda: ado_bruteforce(a, b), 1)
        agree = abs(fast - naive) < 1e-12
        print(f"n = {n} {name}: exact {fast:.12f} ({t_fast * 1e3:.1f} ms), naive pair count {naive:.12f} "
              f"({t_naive:.2f} s): {'agree' if agree else 'DISAGREE'}")
        if not agree:
            sys.exit(1)


if __name__ == "__main__":
    main()
