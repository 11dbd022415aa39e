#!/usr/bin/env python
"""Print the physics figures of a finished CATHODE run: per injection and method the median max SIC with
its 16-84 % range over seeds and runs, how many runs peak at the test set's cut (capped SIC), the paper's ordering (supervised > IAD >= CATHODE > CWoLa, ANODE)
and the ratio CATHODE / IAD of the medians (goal >= 0.9; the paper has 13.99 / 15.08 = 0.93).

    python bench/cathode_summary.py results/cathode/generated [--family hgb]
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="results/<dataset>")
    p.add_argument("--family", default="hgb")
    args = p.parse_args(argv)
    table = defaultdict(lambda: defaultdict(list))
    at_cut = defaultdict(lambda: defaultdict(int))
    sb = defaultdict(dict)
    for path in sorted(Path(args.folder).glob("nsig*_seed*/evaluate/*.json")):
        rec = json.loads(path.read_text())
        if "method" not in rec:  # template_fidelity_<family>.json lies beside the metrics
            continue
        mode, _, family = rec["method"].partition("_")
        if family and family != args.family:
            continue
        table[rec["nsig"]][mode].append(rec["max_sic"] if rec["max_sic"] is not None else 0.0)
        at_cut[rec["nsig"]][mode] += bool(rec.get("max_sic_at_cut"))
        sb[rec["nsig"]][rec["seed"]] = (rec["s_over_b"], rec["s_over_sqrt_b"])
    if not table:
        sys.exit(f"no metrics under {args.folder}/nsig*_seed*/evaluate/")
    for nsig in sorted(table, reverse=True):
        s_b = np.median([v[0] for v in sb[nsig].values()])
        s_sqrt_b = np.median([v[1] for v in sb[nsig].values()])
        print(f"nsig {nsig}: S/B = {100 * s_b:.3f} %, S/sqrt(B) = {s_sqrt_b:.2f}, seeds {sorted(sb[nsig])}")
        med = {}
        for mode in ("supervised", "iad", "cathode", "cwola", "anode"):
            vals = table[nsig].get(mode)
            if not vals:
                continue
            med[mode] = float(np.median(vals))
            q16, q84 = np.percentile(vals, [16, 84])
            print(f"  {mode:<11} max SIC {med[mode]:6.2f} [{q16:6.2f}, {q84:6.2f}]  ({len(vals)} runs, "
                  f"{at_cut[nsig][mode]} with the peak at the test-set cut)")
        if {"supervised", "iad", "cathode", "cwola", "anode"} <= med.keys():
            order = (med["supervised"] > med["iad"] >= med["cathode"] > max(med["cwola"], med["anode"]))
            print(f"  ordering supervised > IAD >= CATHODE > CWoLa, ANODE: {'holds' if order else 'does NOT hold'}")
        if {"iad", "cathode"} <= med.keys() and med["iad"] > 0:
            print(f"  CATHODE / IAD = {med['cathode'] / med['iad']:.2f} (goal >= 0.9)")


if __name__ == "__main__":
    main()
