#!/usr/bin/env python
"""Jet images (centred, rotated, reflected, unit sum) and the observables (m, pT, 101 EFPs) of one
jet sample of the mimicker study."""

import argparse
import time

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import run_main, setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jets", required=True, help="jet-sample file (.h5)")
    p.add_argument("--n-pixels", type=int, required=True)
    p.add_argument("--width", type=float, required=True, help="image side in eta-phi")
    p.add_argument("--center", choices=["ptscheme", "hardest"], required=True)
    p.add_argument("--efp-max-constituents", type=int, required=True,
                   help="EFPs from the hardest N constituents only (0: all)")
    p.add_argument("--threads", type=int, default=1, help="processes of the EFP computation")
    p.add_argument("--output", required=True)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("jet_features")
    import numpy as np

    from hepad.events.efps import jet_features
    from hepad.events.jet_images import jet_images
    from hepad.events.mimicker_io import read_jet_sample
    from hepad.mimic.features import hardest_constituents, write_features

    sample = read_jet_sample(args.jets)
    t0 = time.perf_counter()
    images = jet_images(sample.offsets, sample.pt, sample.y, sample.phi, n_pixels=args.n_pixels,
                        width=args.width, center=args.center)
    log.info("%d images in %.1f s", len(images), time.perf_counter() - t0)
    t0 = time.perf_counter()
    efp_in = hardest_constituents(sample, args.efp_max_constituents)
    feats = jet_features(efp_in.offsets, efp_in.pt, efp_in.y, efp_in.phi, efp_in.mass, n_jobs=args.threads)
    # m and pT always from all constituents
    feats[:, :2] = np.column_stack(sample.jet_kinematics())
    log.info("EFPs of %d jets in %.1f s", len(feats), time.perf_counter() - t0)
    write_features(args.output, images, feats, nsub=sample.nsub, sample=sample.attrs.get("sample", ""))


if __name__ == "__main__":
    run_main(main)
