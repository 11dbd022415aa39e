#!/usr/bin/env python
"""Merge generated events.

Three modes:

- ``process``: the chunk files of one process -> {process}.features.h5 (LHCO format),
  {process}.extended.h5, {process}.constituents.h5 and {process}.summary.json;
- ``dataset``: QCD + the configured signal -> features.h5 (LHCO format, what `prepare` reads) and
  features_extended.h5 (same rows);
- ``extra-sr``: the SR-enriched QCD -> extra_qcd_sr.h5 with only signal-region events.

    python scripts/merge_events.py process --features qcd.features.h5 --extended qcd.extended.h5 \\
        --constituents qcd.constituents.h5 --summary qcd.summary.json chunk0.h5 chunk1.h5
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("process", help="merge the chunks of one process")
    p.add_argument("chunks", nargs="+", help="chunk files, in chunk order")
    p.add_argument("--features", required=True)
    p.add_argument("--extended", required=True)
    p.add_argument("--constituents", required=True)
    p.add_argument("--summary", required=True)
    d = sub.add_parser("dataset", help="QCD + signal -> features.h5 and features_extended.h5")
    d.add_argument("--qcd-features", required=True)
    d.add_argument("--qcd-extended", required=True)
    d.add_argument("--signal-features", required=True)
    d.add_argument("--signal-extended", required=True)
    d.add_argument("--features", required=True, help="output: LHCO-format features")
    d.add_argument("--extended", required=True, help="output: extended features, same rows")
    e = sub.add_parser("extra-sr", help="SR-enriched QCD -> extra_qcd_sr.h5 (SR events only)")
    e.add_argument("--qcd-sr-features", required=True)
    e.add_argument("--sr-low", type=float, required=True, help="signal region low edge in mjj [TeV]")
    e.add_argument("--sr-high", type=float, required=True, help="signal region high edge in mjj [TeV]")
    e.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    log = setup_logging("merge_events")

    from hepad.events import merge

    if args.mode == "process":
        summary = merge.merge_chunks(args.chunks, args.features, args.extended, args.constituents, args.summary)
        log.info("%s: %d chunks, %d accepted of %d generated events (acceptance %.3f), sigma %.4g fb after selection",
                 summary["process"], summary["n_chunks"], summary["n_accepted"], summary["n_generated"],
                 summary["acceptance"], summary["sigma_accepted_fb"])
    elif args.mode == "dataset":
        counts = merge.build_dataset(args.qcd_features, args.signal_features, args.qcd_extended,
                                     args.signal_extended, args.features, args.extended)
        log.info("wrote %s: %d background and %d signal events", args.features, counts["n_background"],
                 counts["n_signal"])
    else:
        if not args.sr_low < args.sr_high:
            raise InputError(f"--sr-low {args.sr_low} must be below --sr-high {args.sr_high}")
        counts = merge.build_extra_sr(args.qcd_sr_features, (args.sr_low, args.sr_high), args.output)
        log.info("wrote %s: %d of %d events inside the signal region", args.output, counts["n_sr"], counts["n_input"])


if __name__ == "__main__":
    run_main(main)
