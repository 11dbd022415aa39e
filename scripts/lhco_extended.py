#!/usr/bin/env python
r"""Extended features of the official LHCO R&D events, from the particle-level file.

Reads events_anomalydetection_v2.h5 (700 particles x (pT, eta, phi) per event and the label, docs/data.md)
block by block, clusters anti-kT jets of radius --radius (1.0 as the LHCO R&D jets; QUAK uses 0.8) and
computes the same N-subjettiness and constituent counts as the generation stage
(hepad.events.substructure), and writes the QCD events
(label 0) and the signal events (label 1) to two extended-features files in the generation stage's layout
(pandas fixed, key df, hepad.events.substructure.EXTENDED_COLUMNS; row order of the particle file).

Example:
    python scripts/lhco_extended.py --particles resources/lhco/events_anomalydetection_v2.h5 \
        --qcd-output resources/lhco/qcd.extended.h5 \
        --signal-output resources/lhco/wprime_3500_500_100.extended.h5 --max-events 200000
"""

import argparse
import time

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--particles", required=True, help="the particle-level file (pandas HDF, 2101 columns)")
    p.add_argument("--key", default=None, help="table in the file (default: its only one)")
    p.add_argument("--qcd-output", required=True, help="extended features of the label-0 events (.h5)")
    p.add_argument("--signal-output", required=True, help="extended features of the label-1 events (.h5)")
    p.add_argument("--max-events", type=int, default=0, help="read at most this many events, the first ones "
                   "of the file (0: all, %(default)s)")
    p.add_argument("--radius", type=float, default=1.0, help="anti-kT radius (%(default)s)")
    p.add_argument("--block-events", type=int, default=10000,
                   help="events read and processed at a time (memory grows with it, about 50 kB per event; %(default)s)")
    args = p.parse_args(argv)
    if args.max_events < 0 or args.block_events < 1 or not 0 < args.radius <= 2:
        p.error("--max-events must be >= 0, --block-events >= 1 and --radius in (0, 2]")
    return args


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("lhco_extended")
    import numpy as np
    import pandas as pd

    from hepad.events.lhco_particles import extended_from_particles, iter_particle_blocks, particle_file_events
    from hepad.events.merge import write_extended
    from hepad.events.substructure import EXTENDED_COLUMNS

    key, n_rows = particle_file_events(args.particles, args.key)
    total = n_rows if not args.max_events else min(n_rows, args.max_events)
    log.info("%s (table %s): %d events, reading %d in blocks of %d; anti-kT R = %g", args.particles, key, n_rows,
             total, args.block_events, args.radius)
    label = EXTENDED_COLUMNS.index("label")
    parts = {0: [], 1: []}
    t0 = time.perf_counter()
    done = 0
    for first, rows in iter_particle_blocks(args.particles, args.block_events, args.max_events, key):
        ext = extended_from_particles(rows, first_event=first, radius=args.radius)
        for value, out in parts.items():
            out.append(ext[ext[:, label] == value])
        done += len(rows)
        elapsed = time.perf_counter() - t0
        log.info("%d of %d events (%.0f %%), %.0f events/s", done, total, 100 * done / total, done / elapsed)
    tables = {value: np.concatenate(out) if out else np.empty((0, len(EXTENDED_COLUMNS)))
              for value, out in parts.items()}
    if len(tables[0]) == 0 or len(tables[1]) == 0:
        raise InputError(f"the first {total} events hold {len(tables[0])} QCD and {len(tables[1])} signal events; "
                         "both are needed (raise the number of events read, quak.lhco.max_events)")
    mjj = tables[0][:, EXTENDED_COLUMNS.index("mjj")]
    log.info("QCD: %d events (%d with fewer than two jets); signal: %d events", len(tables[0]),
             int(np.isnan(mjj).sum()), len(tables[1]))
    for value, path in ((0, args.qcd_output), (1, args.signal_output)):
        write_extended(pd.DataFrame(tables[value], columns=EXTENDED_COLUMNS), path)
        log.info("wrote %s", path)


if __name__ == "__main__":
    run_main(main)
