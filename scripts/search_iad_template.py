#!/usr/bin/env python
"""The background template of the idealized AD in one window of the bump hunt (docs/search.md): the events
of the extra background (true SR background, e.g. the extra SR QCD) inside the window, each with its
k-fold number, so that the template is scored out of fold like the data.

The extra background exists only in the mjj range it was selected in; a window it does not cover stops
with an error naming the window (the workflow plans the idealized AD only for windows inside regions.sr).
Writes the template (HDF5, datasets template and fold, attrs window) in the format of search_train_flow's.
"""

import argparse

import h5py
import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.cathode.modes import LABEL, MJJ
from hepad.cathode.prepare import cathode_features, in_window
from hepad.events.formats import read_lhco_features
from hepad.io import InputError, atomic_output, run_main, setup_logging
from hepad.search.kfold import fold_ids
from hepad.search.windows import Window

# the extra background must reach this close to both window edges [share of the window's width]
EDGE_TOLERANCE = 0.05


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="window file (search_prepare): window, folds, seed")
    p.add_argument("--extra-bkg", required=True, help="extra background, LHCO format (e.g. extra_qcd_sr.h5)")
    p.add_argument("--output", required=True, help="template (.h5)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("search_iad_template")
    with h5py.File(args.data, "r") as f:
        window = Window(int(f.attrs["index"]), *(float(v) for v in f.attrs["window"]))
        k, seed = int(f.attrs["k"]), int(f.attrs["seed"])
    extra = cathode_features(read_lhco_features(args.extra_bkg))
    extra = extra[extra[:, LABEL] == 0]
    mjj = extra[:, MJJ]
    tolerance = EDGE_TOLERANCE * (window.high - window.low)
    if not len(mjj) or mjj.min() > window.low + tolerance or mjj.max() < window.high - tolerance:
        span = f"{mjj.min():.3f}-{mjj.max():.3f} TeV" if len(mjj) else "no events"
        raise InputError(f"{args.extra_bkg}: the extra background ({span}) does not cover window {window.label}; "
                         "the idealized AD searches only windows inside the range it was selected in (regions.sr)")
    template = extra[in_window(mjj, window.low, window.high)]
    if len(template) < 2 * k:
        raise InputError(f"{args.extra_bkg}: {len(template)} events in window {window.label}, too few for {k} folds")
    with atomic_output(args.output) as tmp, h5py.File(tmp, "w") as out:
        out.attrs["window"] = [window.low, window.high]
        out.create_dataset("template", data=template, track_times=False)
        out.create_dataset("fold", data=fold_ids(len(template), k, 1000 * seed + window.index + 7), track_times=False)
    log.info("window %s: %d true background events of %s as the idealized AD's template (mean mjj %.3f TeV)",
             window.label, len(template), args.extra_bkg, float(np.mean(template[:, MJJ])))


if __name__ == "__main__":
    run_main(main)
