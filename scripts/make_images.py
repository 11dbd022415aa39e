#!/usr/bin/env python
"""Event-level (eta, phi) detector images of one dark-shower process from its generated chunks.

Each event's tracks, ECAL cells and HCAL cells are binned on the fine grid (default 286 x 360) and summed
over blocks (default x5, eta zero-padded to a multiple: 72 x 58); see hepad.events.images. The output holds
the images (gzip) with the per-event label, signal mass, number of tracks, jet pT and missing pT.
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.events.dark_showers import read_dark_chunk
from hepad.events.images import ImageGrid, event_images, write_images
from hepad.io import InputError, run_main, setup_logging

BLOCK = 2000  # events binned at once (memory: BLOCK x channels x 72 x 58 floats)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chunks", nargs="+", required=True, help="chunk files of generate_dark_showers, in order")
    p.add_argument("--eta-max", type=float, required=True)
    p.add_argument("--n-eta", type=int, required=True)
    p.add_argument("--n-phi", type=int, required=True)
    p.add_argument("--factor", type=int, required=True, help="fine pixels summed per coarse pixel and axis")
    p.add_argument("--channels", nargs="+", required=True)
    p.add_argument("--output", required=True, help="image file (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("make_images")
    try:
        grid = ImageGrid(eta_max=args.eta_max, n_eta=args.n_eta, n_phi=args.n_phi, factor=args.factor,
                         channels=tuple(args.channels))
    except ValueError as err:
        raise InputError(f"codae.images: {err}")
    chunks = [read_dark_chunk(path) for path in args.chunks]
    processes = {c.meta["process"] for c in chunks}
    if len(processes) != 1:
        raise InputError(f"chunks of several processes given ({sorted(processes)}); one image file per process")
    n_events = sum(c.n_events for c in chunks)

    def pieces():
        for chunk in chunks:
            off = chunk.offsets
            for lo in range(0, chunk.n_events, BLOCK):
                hi = min(lo + BLOCK, chunk.n_events)
                a, b = off[lo], off[hi]
                o = chunk.objects
                images = event_images(off[lo:hi + 1] - a, o["pt"][a:b], o["eta"][a:b], o["phi"][a:b],
                                      o["channel"][a:b], grid)
                yield images, {k: v[lo:hi] for k, v in chunk.events.items()}

    meta = {"process": processes.pop(), "n_chunks": len(chunks)}
    write_images(args.output, pieces(), grid, meta, n_events)
    log.info("wrote %d images %s of %s to %s", n_events, grid.shape, meta["process"], args.output)


if __name__ == "__main__":
    run_main(main)
