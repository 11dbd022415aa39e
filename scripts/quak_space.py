#!/usr/bin/env python
"""Map the calibration and test events of a QUAK sample file into QUAK space (one loss per prior: the
background prior first, then the signal priors in the order given) and evaluate every combination
(background prior alone, with each signal prior, all priors) on every held-out signal: hull ROC (boxes
chosen on calib, counted on test), the label-free nested selection, and the working point at
--target-bkg-eff. A held-out signal with an evaluation window (--signal-windows, JSON: name -> {mj1, mj2,
mjj: [low, high]}, jet masses in GeV ordered by mass, mjj in TeV) is evaluated twice: on all its events
(``results``) and on those inside the window (``results_in_window``). The background prior alone is also
scored on every signal sample, priors included (``background_prior``: AUC of all events and, with a window,
of those inside it), the figure the paper quotes. Every prior must have been trained on the sample file's
input list and scaling (checked). Writes the losses and ROC curves (--losses, HDF5) and the figures
(--metrics, JSON).
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
    p.add_argument("--signal-windows", default="{}",
                   help="JSON: signal -> {mj1: [lo, hi], mj2: [lo, hi], mjj: [lo, hi]} (GeV, GeV, TeV); default none")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--losses", required=True, help="losses and curves (.h5)")
    p.add_argument("--metrics", required=True, help="figures of merit (.json)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("quak_space")
    import json

    import h5py
    import numpy as np

    from hepad.io import atomic_output
    from hepad.quak.features import check_inputs, read_meta, read_sample, window_mask
    from hepad.quak.priors import load_prior
    from hepad.quak.space import background_prior_auc, combinations, evaluate, restrict

    names = [n for n, _ in args.prior]
    if names[0] != "background" or len(set(names)) != len(names):
        raise InputError(f"priors must start with 'background' and be distinct, got {names}")
    try:
        windows = json.loads(args.signal_windows)
    except json.JSONDecodeError as err:
        raise InputError(f"--signal-windows is not JSON ({err})")
    meta = read_meta(args.samples)
    priors = {name: load_prior(path, threads=args.threads) for name, path in args.prior}
    for name, path in args.prior:  # the same inputs, meaning the same, as in training
        check_inputs(getattr(priors[name], "inputs_", None), meta, where=f"prior {name} ({path})")
    signals = meta["signals"]
    signal_priors = list(meta.get("priors", []))
    physics = "mjj_min_tev" in meta

    def kinematics(sample, split):
        try:
            return read_sample(args.samples, sample, split, "mj"), read_sample(args.samples, sample, split, "mjj")
        except KeyError:
            raise InputError(f"{args.samples} has no raw jet masses (mj); rerun quak_features")

    losses, masks = {}, {}
    for sample in ["background", *signals]:
        losses[sample] = {}
        for split in ("calib", "test"):
            x = read_sample(args.samples, sample, split)
            losses[sample][split] = np.stack([priors[n].score(x) for n in names], axis=1)
            log.info("%s/%s: %d events mapped; median losses %s", sample, split, len(x),
                     np.round(np.median(losses[sample][split], 0), 3).tolist())
            if sample in windows and physics:
                masks.setdefault(sample, {})[split] = window_mask(*kinematics(sample, split), windows[sample])
    summary, curves = evaluate(losses, names[1:], signals, args.target_bkg_eff, args.min_bkg_events)
    for signal in signals:
        for combo, s in summary[signal].items():
            log.info("%s | %s: hull AUC %.3f max SIC %s; nested AUC %.3f; working point eff_S %.3f eff_B %.4f",
                     signal, combo, s["hull"]["auc"], s["hull"]["max_sic"], s["nested"]["auc"],
                     s["working_point"]["sig_eff_test"], s["working_point"]["bkg_eff_test"])
    # The held-out signals with an evaluation window, on their events inside it (boxes chosen on the
    # calibration events inside it, counted on the test events inside it).
    summary_win, curves_win, window_counts = {}, {}, {}
    for signal, split_masks in masks.items():
        counts = {split: int(m.sum()) for split, m in split_masks.items()}
        window_counts[signal] = counts
        if min(counts.values()) < 2:
            log.warning("%s: %s events in its window (calib, test); no windowed figures", signal, counts)
            continue
        s_win, c_win = evaluate(restrict(losses, {signal: split_masks}), names[1:], [signal],
                                args.target_bkg_eff, args.min_bkg_events)
        summary_win.update(s_win)
        curves_win.update(c_win)
        for combo, s in s_win[signal].items():
            log.info("%s in window | %s: hull AUC %.3f (all events %.3f)", signal, combo, s["hull"]["auc"],
                     summary[signal][combo]["hull"]["auc"])
    # The background prior alone on every signal sample (priors: every event, the background prior saw
    # none of them), against the background test events.
    bkg_test = losses["background"]["test"][:, 0]
    background_only = {}
    for sample in [*signal_priors, *signals]:
        splits = ("train", "val") if sample in signal_priors else ("calib", "test")
        xs = [read_sample(args.samples, sample, split) for split in splits]
        loss = priors["background"].score(np.concatenate(xs))
        mask = None
        if sample in windows and physics:
            mask = np.concatenate([window_mask(*kinematics(sample, split), windows[sample]) for split in splits])
        background_only[sample] = background_prior_auc(bkg_test, loss, mask)
        log.info("background prior alone on %s: %s", sample, background_only[sample])
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
            for sample, splits in masks.items():
                for split, mask in splits.items():
                    out.create_dataset(f"in_window/{sample}/{split}", data=mask, track_times=False)
            for group, all_curves in (("curves", curves), ("curves_in_window", curves_win)):
                for signal, combos in all_curves.items():
                    for combo, kinds in combos.items():
                        for kind, (fpr, tpr) in kinds.items():
                            out.create_dataset(f"{group}/{signal}/{combo}/{kind}", data=np.stack([fpr, tpr]),
                                               track_times=False)
    n_bkg_test = len(losses["background"]["test"])
    families = sorted({prior.family for prior in priors.values()})
    write_json({"axes": names, "family": families[0] if len(families) == 1 else "mixed", "signals": signals,
                "combinations": combinations(names[1:]),
                "target_bkg_eff": args.target_bkg_eff, "min_bkg_events": args.min_bkg_events,
                "n_background_test": n_bkg_test, "sample_meta": meta, "results": summary,
                "signal_windows": windows, "window_counts": window_counts, "results_in_window": summary_win,
                "background_prior": background_only}, args.metrics)


if __name__ == "__main__":
    run_main(main)
