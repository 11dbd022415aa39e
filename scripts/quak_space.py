#!/usr/bin/env python
"""Map the calibration and test events of a QUAK sample file into QUAK space (one loss per prior: the
background prior first, then the signal priors in the order given) and evaluate every combination
(background prior alone, with each signal prior, all priors) on every held-out signal: hull ROC (boxes
chosen on calib, counted on test), the label-free nested selection, and the working point at
--target-bkg-eff. Writes the losses and ROC curves (--losses, HDF5) and the figures (--metrics, JSON).
"""

import argparse

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.io import InputError, run_main, setup_logging, write_json


def named_path(text):
    name, sep, path = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", required=True, help="QUAK sample file")
    p.add_argument("--prior", type=named_path, action="append", required=True,
                   help="NAME=PATH of a trained prior; the first must be 'background' (repeat)")
    p.add_argument("--target-bkg-eff", type=float, required=True, help="background efficiency of the working point")
    p.add_argument("--min-bkg-events", type=float, required=True, help="SIC points need this many test background events")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--losses", required=True, help="losses and curves (.h5)")
    p.add_argument("--metrics", required=True, help="figures of merit (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("quak_space")
    import h5py
    import numpy as np

    from hepad.io import atomic_output
    from hepad.quak.features import read_meta, read_sample
    from hepad.quak.priors import load_prior
    from hepad.quak.space import combinations, evaluate

    names = [n for n, _ in args.prior]
    if names[0] != "background" or len(set(names)) != len(names):
        raise InputError(f"priors must start with 'background' and be distinct, got {names}")
    meta = read_meta(args.samples)
    priors = {name: load_prior(path, threads=args.threads) for name, path in args.prior}
    signals = meta["signals"]
    losses = {}
    for sample in ["background", *signals]:
        losses[sample] = {}
        for split in ("calib", "test"):
            x = read_sample(args.samples, sample, split)
            losses[sample][split] = np.stack([priors[n].score(x) for n in names], axis=1)
            log.info("%s/%s: %d events mapped; median losses %s", sample, split, len(x),
                     np.round(np.median(losses[sample][split], 0), 3).tolist())
    summary, curves = evaluate(losses, names[1:], signals, args.target_bkg_eff, args.min_bkg_events)
    for signal in signals:
        for combo, s in summary[signal].items():
            log.info("%s | %s: hull AUC %.3f max SIC %s; nested AUC %.3f; working point eff_S %.3f eff_B %.4f",
                     signal, combo, s["hull"]["auc"], s["hull"]["max_sic"], s["nested"]["auc"],
                     s["working_point"]["sig_eff_test"], s["working_point"]["bkg_eff_test"])
    with atomic_output(args.losses) as tmp:
        with h5py.File(tmp, "w") as out:
            out.attrs["axes"] = names
            for sample, splits in losses.items():
                for split, arr in splits.items():
                    out.create_dataset(f"losses/{sample}/{split}", data=arr, track_times=False)
                    try:
                        mjj = read_sample(args.samples, sample, split, "mjj")
                        out.create_dataset(f"mjj/{sample}/{split}", data=mjj, track_times=False)
                    except KeyError:  # digits have no mjj
                        pass
            for signal, combos in curves.items():
                for combo, kinds in combos.items():
                    for kind, (fpr, tpr) in kinds.items():
                        out.create_dataset(f"curves/{signal}/{combo}/{kind}", data=np.stack([fpr, tpr]),
                                           track_times=False)
    n_bkg_test = len(losses["background"]["test"])
    families = sorted({prior.family for prior in priors.values()})
    write_json({"axes": names, "family": families[0] if len(families) == 1 else "mixed", "signals": signals,
                "combinations": combinations(names[1:]),
                "target_bkg_eff": args.target_bkg_eff, "min_bkg_events": args.min_bkg_events,
                "n_background_test": n_bkg_test, "sample_meta": meta, "results": summary}, args.metrics)


if __name__ == "__main__":
    run_main(main)
