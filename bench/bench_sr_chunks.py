"""The signal-region QCD features of generated chunks, one folder per detector setting, beside LHCO R&D.

Each folder holds `qcd_sr` (or `qcd`) chunk files of `scripts/generate_events.py`; chunks of the same name
share their Pythia events (a chunk's Pythia seed depends only on the seed, process and chunk index), so the
folders differ only by what their settings changed. Only the chunk names present in every folder are read.
Prints the 10th / 50th / 90th percentiles of the four CATHODE features and their distance from the
published LHCO R&D ones (the goal of docs/data.md: within 10 % in mass, 0.03 in tau21).

    python bench/bench_sr_chunks.py LABEL=FOLDER [LABEL=FOLDER ...] [--record]
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_nsubjettiness_axes import LHCO, percentiles  # noqa: E402  (the published percentiles, kept once)


def read_features(paths):
    import h5py
    import pandas as pd

    from hepad.events.formats import LHCO_COLUMNS

    rows = []
    for path in paths:
        with h5py.File(path, "r") as f:
            rows.append(f["features"][()])
    return pd.DataFrame(np.concatenate(rows), columns=LHCO_COLUMNS)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", help="LABEL=FOLDER")
    p.add_argument("--record", action="store_true")
    args = p.parse_args()
    variants = [tuple(arg.split("=", 1)) for arg in args.folders]
    if any(len(v) != 2 for v in variants):
        p.error("every folder is given as LABEL=FOLDER")
    names = set.intersection(*({f.name for f in Path(folder).glob("chunk*.h5")} for _, folder in variants))
    if not names:
        p.error("no chunk file name is present in every folder")
    names = sorted(names, key=lambda n: int(n[5:-3]))
    lines = ["| feature | LHCO R&D | " + " | ".join(label for label, _ in variants) + " |",
             "| --- | --- |" + " --- |" * len(variants)]
    results = [percentiles(read_features([Path(folder) / n for n in names])) for _, folder in variants]
    for key, ref in LHCO.items():
        mass = "GeV" in key
        cells = [" / ".join(f"{v:.0f}" if mass else f"{v:.3f}" for v in ref)]
        for _, q in results:
            dev = (" ".join(f"{100 * (a - b) / b:+.0f} %" for a, b in zip(q[key], ref)) if mass
                   else " ".join(f"{a - b:+.3f}" for a, b in zip(q[key], ref)))
            cells.append(" / ".join(f"{v:.0f}" if mass else f"{v:.3f}" for v in q[key]) + f" ({dev})")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{label} {n}" for (label, _), (n, _) in zip(variants, results))
    table = "\n".join(lines)
    print(f"{len(names)} chunks; signal-region events: {counts}\n{table}")
    if args.record:
        from results_file import heading, record

        cmd = " ".join(f"{label}={folder}" for label, folder in variants)
        text = (f"{heading()}\n\n`python bench/bench_sr_chunks.py {cmd}`: {len(names)} chunks "
                f"with the same Pythia events; signal-region events {counts}.\n\n{table}")
        record(ROOT / "bench/RESULTS.md", "## The detector's Delphes features and the LHCO R&D percentiles (bench/bench_sr_chunks.py)",
               text)


if __name__ == "__main__":
    main()
