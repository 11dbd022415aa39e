"""What moves the generated signal-region QCD features toward LHCO R&D: detector and multi-parton interactions.

Generates QCD dijets (the generation's Pythia settings) in a hard-process mass window around the SR, for
each variant of (jet inputs: our detector's objects or the visible final-state particles) x (Pythia's
multi-parton interactions on or off), clusters anti-kT R = 1.0 jets, applies the trigger (leading jet pT
> 1.2 TeV) and the SR (3.3 < mjj < 3.7 TeV), and prints the 10th / 50th / 90th percentiles of the four
CATHODE features with tau21 from both N-subjettiness axes (exclusive kT, and one-pass minimised) beside
the published LHCO R&D ones (docs/data.md). Every variant uses the same Pythia seed.

    python bench/bench_sr_features.py [--events 6000] [--record]
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_nsubjettiness_axes import LHCO as PUBLISHED  # noqa: E402  (the published percentiles, kept once)

# The same LHCO R&D percentiles under this table's short names.
LHCO = dict(zip(("mj1 [GeV]", "dmj [GeV]", "tau21 j1", "tau21 j2"), PUBLISHED.values()))
MHAT_WINDOW = (2500.0, 5000.0)  # GeV: wide around the SR, so that the SR's mjj distribution is not cut
VARIANTS = {"detector, MPI on (default)": (True, True), "detector, MPI off": (True, False),
            "particles, MPI on": (False, True), "particles, MPI off": (False, False)}


def sr_features(n_events: int, detector_on: bool, mpi: bool, seed: int = 7):
    """(features per SR event, CPU seconds): mj1, dmj [GeV], tau21 j1, j2 with kT and one-pass axes."""
    from hepad.events.detector import Detector
    from hepad.events.jets import cluster_leading_jets
    from hepad.events.nsubjettiness import nsubjettiness
    from hepad.events.process import parse_process
    from hepad.events.pythia import PythiaGenerator, process_settings
    from hepad.events.jets import four_mass
    from hepad.events.substructure import mjj_of

    t0 = time.process_time()
    lines = process_settings(parse_process("qcd"), 1100.0) + [f"PhaseSpace:mHatMin = {MHAT_WINDOW[0]:g}",
                                                             f"PhaseSpace:mHatMax = {MHAT_WINDOW[1]:g}"]
    if not mpi:
        lines.append("PartonLevel:MPI = off")
    gen = PythiaGenerator(lines, seed)
    detector, rng = Detector(), np.random.default_rng(seed)
    rows = []
    for _ in range(n_events // 100):
        fs = gen.generate(100)
        if detector_on:
            obj = detector.respond(fs.offsets, fs.px, fs.py, fs.pz, fs.e, fs.pid, fs.charge, rng)
            offsets, (px, py, pz, e) = obj.offsets, obj.four_momenta()
        else:
            offsets, px, py, pz, e = fs.offsets, fs.px, fs.py, fs.pz, fs.e
        jets = cluster_leading_jets(offsets, px, py, pz, e, radius=1.0)
        mjj = mjj_of(jets.p4) / 1000.0
        sel = np.flatnonzero(jets.has_two & (jets.pt[:, 0] > 1200.0) & (mjj > 3.3) & (mjj < 3.7))
        if len(sel) == 0:
            continue
        mass = four_mass(jets.p4[sel])  # (n, 2)
        # constituents of the selected events' two jets, jet by jet
        slots = (2 * sel[:, None] + np.arange(2)).ravel()
        starts, stops = jets.jet_offsets[slots], jets.jet_offsets[slots + 1]
        idx = np.concatenate([jets.index[a:b] for a, b in zip(starts, stops)])
        cons_off = np.concatenate([[0], np.cumsum(stops - starts)])
        taus = {axes: nsubjettiness(cons_off, px[idx], py[idx], pz[idx], e[idx], n_max=2, betas=(1.0,), r0=1.0,
                                    axes=axes)[:, :, 0].reshape(len(sel), 2, 2) for axes in ("kt", "onepass_kt")}
        light = np.argmin(mass, axis=1)
        heavy = 1 - light
        k = np.arange(len(sel))
        row = [mass[k, light], mass[k, heavy] - mass[k, light]]
        for axes in ("kt", "onepass_kt"):
            t21 = taus[axes][..., 1] / (taus[axes][..., 0] + 1e-5)
            row += [t21[k, light], t21[k, heavy]]
        rows.append(np.column_stack(row))
    return np.concatenate(rows), time.process_time() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=6000, help="generated events per variant")
    p.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = p.parse_args()
    names = list(LHCO)
    lines = [f"| variant | SR events | CPU s | {' | '.join(names[:2])} | tau21 j1 (kT / one-pass) | "
             "tau21 j2 (kT / one-pass) | worst miss |", "| --- | ---: | ---: | --- | --- | --- | --- | --- |"]
    fmt = lambda q, d: " / ".join(f"{v:.{d}f}" for v in q)  # noqa: E731
    lines.append(f"| LHCO R&D (published) | | | {fmt(LHCO['mj1 [GeV]'], 0)} | {fmt(LHCO['dmj [GeV]'], 0)} | "
                 f"{fmt(LHCO['tau21 j1'], 3)} | {fmt(LHCO['tau21 j2'], 3)} | |")
    for name, (det, mpi) in VARIANTS.items():
        f, cpu = sr_features(args.events, det, mpi)
        q = np.percentile(f, [10, 50, 90], axis=0)  # (3, 6)
        mass_miss = max(np.max(np.abs(q[:, i] / np.array(LHCO[names[i]]) - 1)) for i in range(2))
        tau_miss = max(np.max(np.abs(q[:, 4 + j] - np.array(LHCO[names[2 + j]]))) for j in range(2))
        lines.append(f"| {name} | {len(f)} | {cpu:.0f} | {fmt(q[:, 0], 0)} | {fmt(q[:, 1], 0)} | "
                     f"{fmt(q[:, 2], 3)} / {fmt(q[:, 4], 3)} | {fmt(q[:, 3], 3)} / {fmt(q[:, 5], 3)} | "
                     f"mass {100 * mass_miss:.0f} %, one-pass tau21 {tau_miss:.3f} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.record:
        head = (f"\n## SR QCD features: detector and MPI (bench/bench_sr_features.py)\n\n`python bench/bench_sr_features.py "
                f"--events {args.events} --record` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                f"{platform.node()} ({os.cpu_count()} cores, shared with other work: CPU seconds are the fair "
                f"figure). Hard-process mass window {MHAT_WINDOW[0]:g}-{MHAT_WINDOW[1]:g} GeV, trigger pT,j1 > "
                "1.2 TeV, SR 3.3-3.7 TeV; percentiles 10 / 50 / 90 %; worst miss: largest relative miss of the "
                "six mass percentiles and largest absolute miss of the six one-pass tau21 percentiles.\n\n")
        with open(ROOT / "bench/RESULTS.md", "a") as out:
            out.write(head + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
