"""The signal-region background features of generated QCD with both N-subjettiness axes, beside LHCO R&D.

Reads a generated process's features and constituents (default resources/generated/qcd_sr.*), recomputes
tau1 and tau2 of both jets from the constituents with every axes choice of hepad.events.nsubjettiness
(exclusive-kT, one-pass minimised, winner-take-all), keeps the signal-region events (3.3 < mjj < 3.7 TeV) and prints the 10th,
50th and 90th percentiles of the four CATHODE features next to the published LHCO R&D ones. The kT
recomputation must give back the file's own tau columns: that checks the constituents are read right.

    python bench/bench_nsubjettiness_axes.py [--process-prefix resources/generated/qcd_sr] [--record]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

# LHCO R&D signal-region background (3.3-3.7 TeV, jets ordered by mass): 10th / 50th / 90th percentiles.
LHCO = {"lighter jet mass [GeV]": (49, 108, 261), "mass difference [GeV]": (20, 126, 398),
        "tau21 lighter jet": (0.327, 0.600, 0.793), "tau21 heavier jet": (0.213, 0.491, 0.727)}


def taus(ncons, flat, axes):
    """(n, 2, 2): tau1, tau2 (beta 1) of both jets of every event, recomputed from the constituents."""
    from hepad.events.nsubjettiness import nsubjettiness

    pt, eta, phi = (np.asarray(flat[k], dtype=float) for k in ("pt", "eta", "phi"))
    px, py, pz, e = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)
    offsets = np.concatenate([[0], np.cumsum(ncons.ravel())])
    out = nsubjettiness(offsets, px, py, pz, e, n_max=2, betas=(1.0,), r0=1.0, axes=axes)[:, :, 0]
    return out.reshape(len(ncons), 2, 2)


def percentiles(frame):
    from hepad.cathode.prepare import cathode_features

    feats = cathode_features(frame)  # mjj, mj1, delta m [TeV], tau21 lighter, tau21 heavier
    sr = (feats[:, 0] > 3.3) & (feats[:, 0] < 3.7)
    f = feats[sr]
    values = {"lighter jet mass [GeV]": 1000 * f[:, 1], "mass difference [GeV]": 1000 * f[:, 2],
              "tau21 lighter jet": f[:, 3], "tau21 heavier jet": f[:, 4]}
    return int(sr.sum()), {k: np.percentile(v, [10, 50, 90]) for k, v in values.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--process-prefix", default="resources/generated/qcd_sr")
    p.add_argument("--record", action="store_true")
    args = p.parse_args()
    from hepad.events.formats import read_lhco_features
    from hepad.events.merge import read_constituents
    from hepad.events.nsubjettiness import AXES

    frame = read_lhco_features(f"{args.process_prefix}.features.h5")
    ncons, flat = read_constituents(f"{args.process_prefix}.constituents.h5")
    results, agreement = {}, {}
    file_taus = frame[["tau1j1", "tau2j1", "tau1j2", "tau2j2"]].to_numpy().reshape(-1, 2, 2)
    for axes in AXES:
        t0 = time.process_time()
        t = taus(ncons, flat, axes)
        cpu = time.process_time() - t0
        rel = np.abs(t - file_taus) / np.maximum(file_taus, 1e-9)
        agreement[axes] = (np.median(rel), np.percentile(rel, 99))
        f = frame.copy()
        f["tau1j1"], f["tau2j1"], f["tau1j2"], f["tau2j2"] = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
        results[axes] = percentiles(f) + (cpu,)
    # The file's taus were made with one of the axes: recomputing with those must give them back (a check
    # that the constituents are read right).
    same = min(agreement, key=lambda a: agreement[a][0])
    check = (f"{same} axes recomputed from the stored (float32, massless) constituents give back the file's taus: "
             f"relative difference median {agreement[same][0]:.1e}, 99th percentile {agreement[same][1]:.1e}")
    print(check)
    n_sr = results["kt"][0]
    lines = ["| feature | LHCO R&D | " + " | ".join(f"generated, {axes} axes" for axes in AXES) + " |",
             "| --- | --- |" + " --- |" * len(AXES)]
    for key, ref in LHCO.items():
        fmt = (lambda v: f"{v:.0f}") if "GeV" in key else (lambda v: f"{v:.3f}")
        cells = [" / ".join(fmt(v) for v in ref)]
        for axes in AXES:
            cells.append(" / ".join(fmt(v) for v in results[axes][1][key]))
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(f"{n_sr} signal-region events of {args.process_prefix}; 10th / 50th / 90th percentiles:\n{table}")
    cpu = ", ".join(f"{axes} {results[axes][2]:.1f} s" for axes in AXES)
    print(f"tau CPU time: {cpu}")
    if args.record:
        from results_file import heading, record

        text = (f"{heading()}\n\n`python bench/bench_nsubjettiness_axes.py --process-prefix "
                f"{args.process_prefix}`: {n_sr} signal-region QCD events, tau recomputed from the stored "
                f"constituents with each axes choice (CPU: {cpu}). {check}.\n\n{table}")
        record(ROOT / "bench/RESULTS.md", "## N-subjettiness axes and the LHCO R&D features (bench/bench_nsubjettiness_axes.py)",
               text)


if __name__ == "__main__":
    main()
