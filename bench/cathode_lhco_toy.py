#!/usr/bin/env python
"""Write the LHCO-like toy of bench/toy_data.py as LHCO R&D-format files, so the real CATHODE chain can run
on it without event generation or a download (a stand-in for physics checks at a chosen scale):

    python bench/cathode_lhco_toy.py WORKDIR --n-bkg 300000 --n-sig 20000 --n-extra-sr 60000
    snakemake -s Snakefile --directory WORKDIR --config dataset=lhco injection='{nsig: 600, seeds: [1,2,3]}' \
        --cores 2 results/sic_cathode.pdf

Jets are back to back with no longitudinal momentum, so mjj = E1 + E2 reproduces the toy's mjj exactly;
tau1 is drawn per jet and tau2 = tau21 * tau1 (tau21 of the toy).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]

from hepad.events.formats import LHCO_COLUMNS, write_lhco_features  # noqa: E402
from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path  # noqa: E402
from toy_data import background, signal, signal_region  # noqa: E402


def to_lhco(rows: np.ndarray, seed: int) -> pd.DataFrame:
    """Prepared-column rows (mjj, mj1, dmj, tau21j1, tau21j2, label in TeV) as an LHCO frame in GeV."""
    rng = np.random.default_rng(seed)
    mjj, m1, m2 = rows[:, 0] * 1000, rows[:, 1] * 1000, (rows[:, 1] + rows[:, 2]) * 1000
    # Two-body momentum: |p| = sqrt((M^2 - (m1+m2)^2)(M^2 - (m1-m2)^2)) / 2M.
    p = np.sqrt(np.clip((mjj**2 - (m1 + m2) ** 2) * (mjj**2 - (m1 - m2) ** 2), 0, None)) / (2 * mjj)
    phi = rng.uniform(-np.pi, np.pi, len(rows))
    tau1 = rng.uniform(0.2, 0.6, (len(rows), 2))
    frame = pd.DataFrame({
        "pxj1": p * np.cos(phi), "pyj1": p * np.sin(phi), "pzj1": 0.0, "mj1": m1,
        "tau1j1": tau1[:, 0], "tau2j1": rows[:, 3] * tau1[:, 0], "tau3j1": 0.5 * rows[:, 3] * tau1[:, 0],
        "pxj2": -p * np.cos(phi), "pyj2": -p * np.sin(phi), "pzj2": 0.0, "mj2": m2,
        "tau1j2": tau1[:, 1], "tau2j2": rows[:, 4] * tau1[:, 1], "tau3j2": 0.5 * rows[:, 4] * tau1[:, 1],
        "label": rows[:, 5],
    })
    return frame[LHCO_COLUMNS]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workdir")
    p.add_argument("--n-bkg", type=int, default=300000)
    p.add_argument("--n-sig", type=int, default=20000)
    p.add_argument("--n-extra-sr", type=int, default=60000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    work = Path(args.workdir)
    rows = np.concatenate([background(args.n_bkg, seed=args.seed), signal(args.n_sig, seed=args.seed + 1)])
    write_lhco_features(to_lhco(rows, args.seed + 2), work / resource_path(LHCO_FEATURES))
    extra = signal_region(args.n_extra_sr, seed=args.seed + 3)
    write_lhco_features(to_lhco(extra, args.seed + 4), work / resource_path(LHCO_EXTRA_QCD_SR))
    sr = (rows[:, 0] > 3.3) & (rows[:, 0] < 3.7)
    print(f"wrote {len(rows)} events ({args.n_sig} signal; {int((sr & (rows[:, 5] == 0)).sum())} background in the SR) "
          f"and {len(extra)} extra SR background events under {work}/resources/lhco/")


if __name__ == "__main__":
    main()
