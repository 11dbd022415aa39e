#!/usr/bin/env python
"""Print the figures of issue 15's goals from finished bump hunts: per method and injection, each run's
largest local Z (window, efficiency), the signal window's own largest Z and its rank among the windows, the
global Z of the count toys; then the median over seeds of every window's largest Z (goal: the signal window
first where CATHODE's max SIC is at least 3) and, for the background-only runs (nsig 0), the median maximum
local Z over all windows and thresholds and per threshold over the windows (goal: below 2), beside the count
toys' own expectation without signal, and the sculpting check at full size: per threshold whether the local
p-values of all windows and runs are uniform (p_value_uniformity), and how many runs have a window above 3σ
against what the count toys predict (toy_exceedance).

    python bench/search_summary.py results/search/generated [--method cathode ...]
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import poisson

from hepad.search.significance import p_value_uniformity, record_arrays, toy_exceedance


def window_max(record: dict) -> dict[tuple[float, float], float]:
    """The largest local Z of each window over its thresholds (0 where no threshold has an estimate)."""
    return {(w["low"], w["high"]): max((r.get("z", 0.0) for r in w["thresholds"]), default=0.0)
            for w in record["windows"]}


def describe(record: dict) -> str:
    best, inj, glob = record["max_local"], record["injected"], record["global"]
    text = (f"  seed {record['seed']}: max local Z {best['z']:.2f} ({best['window'][0]:.1f}-{best['window'][1]:.1f} "
            f"TeV, ε {best['efficiency']:g})")
    if record["nsig"]:
        zs = window_max(record)
        own = zs.get(tuple(inj["window"]))
        if own is not None:
            rank = 1 + sum(z > own for z in zs.values())
            text += f"; signal window {own:.2f}, rank {rank} of {len(zs)}"
    g = f"{glob['z']:.2f}" if glob["z"] is not None else f"> {glob['resolvable_z']:.2f}"
    return text + f"; global Z {g}"


def sculpting(recs: list[dict], n_toys: int = 20000) -> None:
    """The sculpting check of tests/test_search.py on the background-only runs at full size."""
    mats = [record_arrays(r) for r in recs]
    for j, eff in enumerate(recs[0]["efficiencies"]):
        z = np.concatenate([m[2][:, j] for m in mats])
        z = z[np.isfinite(z)]
        if not len(z):
            print(f"  sculpting, ε {eff:g}: no estimate in any window and run")
            continue
        ks, binomial = p_value_uniformity(z)
        print(f"  sculpting, ε {eff:g}: {len(z)} local p-values (windows x runs), {int((z > 0).sum())} above b; "
              f"uniform below 1/2: KS p {ks:.3f}, half below 1/2: binomial p {binomial:.3f}")
    expected = [toy_exceedance(b, r["delta_sys"], n_toys, 1000 + r["seed"], e) for r, (b, e, _) in zip(recs, mats)]
    observed = sum(bool(np.nanmax(m[2], initial=0.0) > 3) for m in mats)
    mean = sum(x[0] for x in expected)
    print(f"  runs with a window above 3σ: {observed} of {len(recs)}; the count toys expect {mean:.2f} "
          f"(Poisson, 99 % quantile {poisson.ppf(0.99, mean):.0f})")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="results/search/<dataset>")
    p.add_argument("--method", nargs="*", help="methods to show (default: all found)")
    args = p.parse_args(argv)
    records = defaultdict(lambda: defaultdict(list))
    for path in sorted(Path(args.folder).glob("nsig*_seed*/search_significance/*.json")):
        rec = json.loads(path.read_text())
        if not args.method or rec["technique"] in args.method:
            records[rec["technique"]][rec["nsig"]].append(rec)
    if not records:
        sys.exit(f"no significance records under {args.folder}/nsig*_seed*/search_significance/")
    for method, by_nsig in sorted(records.items()):
        print(f"## {method}")
        for nsig in sorted(by_nsig, reverse=True):
            recs = sorted(by_nsig[nsig], key=lambda r: r["seed"])
            s_b = np.median([100 * r["injected"]["s_over_b"] for r in recs])
            print(f"nsig {nsig} (S/B {s_b:.2f} %), {len(recs)} seed{'s' if len(recs) > 1 else ''}:")
            for rec in recs:
                print(describe(rec))
            if nsig:
                per_window = defaultdict(list)
                for rec in recs:
                    for window, z in window_max(rec).items():
                        per_window[window].append(z)
                medians = {w: float(np.median(z)) for w, z in per_window.items()}
                print("  median over seeds of each window's largest Z: " + ", ".join(
                    f"{lo:.1f}-{hi:.1f}: {z:.2f}" for (lo, hi), z in sorted(medians.items())))
                continue
            overall = np.median([r["max_local"]["z"] for r in recs])
            print(f"  median max local Z (all windows and thresholds): {overall:.2f}")
            if all("per_threshold" in r["max_local"] for r in recs):
                for j, eff in enumerate(recs[0]["efficiencies"]):
                    zs = [r["max_local"]["per_threshold"][j]["z"] for r in recs]
                    print(f"  ε {eff:g}: max over windows {' / '.join(f'{z:.2f}' for z in zs)}, "
                          f"median {np.median(zs):.2f}")
            toys = [r["global"].get("toy_max_local_z_16_50_84") for r in recs]
            if all(toys):
                mid = np.median([t[1] for t in toys])
                print(f"  count toys without signal: median max local Z {mid:.2f} (per run "
                      + ", ".join(f"{t[1]:.2f} [{t[0]:.2f}-{t[2]:.2f}]" for t in toys) + ")")
            sculpting(recs)


if __name__ == "__main__":
    main()
