#!/usr/bin/env python
"""Generate one chunk of events: Pythia 8 -> detector response -> anti-kT jets -> N-subjettiness.

Writes one HDF5 chunk file (LHCO features, extended features, constituents of the two leading jets, and
the chunk's bookkeeping), atomically. The chunk's seeds derive from the settings' seed, the process and
the chunk index, so the same command gives a byte-identical file.

    python scripts/generate_events.py --process qcd --chunk 0 --events 1000 --output chunk0.h5
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--process", required=True,
                        help="qcd, qcd_sr, wprime_<mW>_<mX>_<mY> or wprime3p_<mW>_<mX>_<mY> (GeV)")
    parser.add_argument("--chunk", type=int, required=True, help="chunk index (decides the seeds)")
    parser.add_argument("--events", type=int, required=True, help="accepted events to make")
    parser.add_argument("--settings", default=None,
                        help="JSON of the chunk settings (seed, pthat_min, trigger_pt, jet_radius, qcd_sr_mhat, sr, "
                             "detector); default: the config schema's defaults")
    parser.add_argument("--output", required=True, help="chunk file to write (.h5)")
    args = parser.parse_args(argv)
    log = setup_logging("generate_events")

    from hepad.events.generate import ChunkSettings, generate_chunk, write_chunk
    from hepad.events.settings import settings_from_json

    if args.events < 1:
        raise InputError(f"--events must be at least 1, got {args.events}")
    if args.settings:
        try:
            settings = settings_from_json(args.settings)
        except (ValueError, TypeError) as err:
            raise InputError(f"--settings is not valid chunk-settings JSON: {err}")
    else:
        from hepad.config import validate_config

        settings = ChunkSettings.from_config(validate_config({}))
    log.info("process %s, chunk %d, %d accepted events, settings %s", args.process, args.chunk, args.events,
             settings.to_json())
    result = generate_chunk(args.process, args.chunk, args.events, settings, log=log)
    write_chunk(result, args.output)
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    run_main(main)
