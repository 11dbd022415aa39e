#!/usr/bin/env python
"""Why the mimickers fall short of the auto-encoder (docs/mimic.md, "Why the mimickers fell short").

Reads the workflow's feature files and auto-encoder scores and measures, on the background test split and
every signal (the splits of the workflow):

- the AE's AUC, the best single observable's AUC among m, pT and the 101 EFPs (either orientation: an upper
  bound of what one of them can do), and the AUC of the mass alone;
- two infrared-unsafe image quantities the AE can see and no EFP carries: the sum of squared pixel values
  (sum p^2, the image's pT dispersion) and the number of non-empty pixels, with their ADO with the AE;
- with ``--full``: an HLN trained on all 103 observables at once, with log-MSE and with rank targets, plus a
  PNN on all 103: their ADO and AUCs say what the EFPs of degree <= 5 can carry at best, whatever the
  selection picks; with ``--image-quantities`` too, the rank HLN and the PNN again on the 103 plus
  log sum p^2 and log(number of non-empty pixels): whether what the AE flags and the EFPs miss is carried
  by these infrared-unsafe image sums;
- with ``--selection``: per round of a select_mimicker record, the selection-split ADO and the mean AUC,
  and the round at which the ADO on the selection split first stops rising by more than ``--min-gain``.

    python bench/mimic_diagnostics.py --features results/mimic/jet_features \\
        --scores results/mimic/train_image_ae/scores.h5 --full \\
        --selection results/mimic/select_mimicker/hln.json --output diagnostics.json

CPU seconds (time.process_time) are printed for the trainings; the machine may be shared.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.metrics.ado import ado  # noqa: E402
from hepad.mimic.features import (IMAGE_OBSERVABLES, background_splits, image_observables, log_floor,  # noqa: E402
                                  mimicker_inputs, read_features)
from hepad.mimic.mimickers import make_mimicker  # noqa: E402
from hepad.mimic.selection import signal_aucs  # noqa: E402


def image_quantities(images):
    return dict(zip(IMAGE_OBSERVABLES, image_observables(images).T))


def best_single(x_bkg, x_sig, names):
    """(name, AUC) of the observable with the highest AUC in either orientation."""
    best = ("", 0.5)
    for j, name in enumerate(names):
        a = signal_aucs(x_bkg[:, j], {"s": x_sig[:, j]})["s"]
        a = max(a, 1 - a)
        if a > best[1]:
            best = (name, a)
    return best


def stop_round(rounds, min_gain):
    """First round whose successor raises the selection-split ADO by no more than ``min_gain``."""
    for r, nxt in zip(rounds, rounds[1:]):
        if "ado_select" in r and "ado_select" in nxt and nxt["ado_select"] - r["ado_select"] <= min_gain:
            return r["round"]
    return rounds[-1]["round"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--features", required=True, help="folder of the jet_features files (qcd.h5 and the signals)")
    p.add_argument("--scores", required=True, help="scores.h5 of train_image_ae")
    p.add_argument("--train-fraction", type=float, default=0.6667)
    p.add_argument("--select-fraction", type=float, default=0.5)
    p.add_argument("--full", action="store_true", help="train HLN (log, rank) and PNN on all 103 observables")
    p.add_argument("--image-quantities", action="store_true",
                   help="with --full: also the rank HLN and the PNN on the 103 plus log sum p^2 and log n_pixels")
    p.add_argument("--selection", nargs="*", default=[], help="select_mimicker records to summarise")
    p.add_argument("--min-gain", type=float, default=0.001)
    p.add_argument("--output", help="JSON of every figure")
    args = p.parse_args(argv)

    with h5py.File(args.scores, "r") as f:
        ae = {k: f[k][()] for k in f}
    images, feats, names = read_features(Path(args.features) / "qcd.h5")
    sp = background_splits(len(feats), args.train_fraction, args.select_fraction)
    floor = log_floor(feats[sp.train])
    x = mimicker_inputs(feats, floor)
    img_q = image_quantities(images)
    del images
    sig_names = [k for k in ae if k != "background"]
    sig = {}
    for name in sig_names:
        im, fs, _ = read_features(Path(args.features) / f"{name}.h5")
        sig[name] = {"x": mimicker_inputs(fs, floor), "ae": ae[name], **image_quantities(im)}
    out = {"n_train": int(sp.train.stop), "n_test": int(sp.test.stop - sp.test.start), "signals": {}}
    ae_test = ae["background"][sp.test]
    out["ado_with_ae"] = {q: ado(img_q[q][sp.test], ae_test) for q in img_q}
    out["ado_with_ae"]["m"] = ado(x[sp.test, 0], ae_test)
    efp_ados = [max(a, 1 - a) for a in (ado(x[sp.test, j], ae_test) for j in range(x.shape[1]))]
    j_best = int(np.argmax(efp_ados))
    out["ado_with_ae"]["best_observable"] = [names[j_best], efp_ados[j_best]]
    print(f"background test {out['n_test']} jets; ADO with the AE: " +
          ", ".join(f"{k} {v if isinstance(v, float) else v[1]:.3f}" for k, v in out["ado_with_ae"].items()) +
          f" ({names[j_best]})")
    print(f"{'signal':14s} {'AE':>6s} {'best obs':>9s} {'(which)':14s} {'m':>6s} {'sum p2':>7s} {'n pix':>6s}")
    for name in sig_names:
        s = sig[name]
        row = {"ae": signal_aucs(ae_test, {"s": s["ae"]})["s"]}
        row["best_observable"], row["best_observable_auc"] = best_single(x[sp.test], s["x"], names)
        row["m"] = signal_aucs(x[sp.test, 0], {"s": s["x"][:, 0]})["s"]
        for q in img_q:
            a = signal_aucs(img_q[q][sp.test], {"s": s[q]})["s"]
            row[q] = a
        out["signals"][name] = row
        print(f"{name:14s} {row['ae']:6.3f} {row['best_observable_auc']:9.3f} {row['best_observable']:14s} "
              f"{row['m']:6.3f} {row['sum_p2']:7.3f} {row['n_pixels']:6.3f}")

    if args.full:
        base = dict(hidden=(50, 50, 50, 50), epochs=200, patience=10, lr_patience=5, val_fraction=0.15, seed=1,
                    threads=1)
        variants = {"hln_log": ("hln", {"target": "log"}, False), "hln_rank": ("hln", {"target": "rank"}, False),
                    "pnn": ("pnn", {"n_pairs": 50000}, False)}
        if args.image_quantities:
            variants["hln_rank_plus_image"] = ("hln", {"target": "rank"}, True)
            variants["pnn_plus_image"] = ("pnn", {"n_pairs": 50000}, True)
        # the image sums as the selection's inputs: log, with the floor of the background training jets
        raw_img = np.column_stack([img_q[q] for q in IMAGE_OBSERVABLES])
        floor_img = log_floor(raw_img[sp.train])
        x_img = np.column_stack([x, mimicker_inputs(raw_img, floor_img)])
        sig_img = {k: np.column_stack([v["x"], mimicker_inputs(np.column_stack([v[q] for q in IMAGE_OBSERVABLES]),
                                                               floor_img)]) for k, v in sig.items()}
        out["all_observables"] = {}
        for label, (kind, extra, with_image) in variants.items():
            xs, xsig = (x_img, sig_img) if with_image else (x, {k: v["x"] for k, v in sig.items()})
            t0 = time.process_time()
            model = make_mimicker(kind, **base, **extra).fit(xs[sp.train], ae["background"][sp.train])
            s_test = model.predict(xs[sp.test])
            rec = {"ado_test": ado(s_test, ae_test), "epochs": len(model.history_), "n_inputs": xs.shape[1],
                   "auc": signal_aucs(s_test, {k: model.predict(v) for k, v in xsig.items()}),
                   "cpu_seconds": time.process_time() - t0}
            rec["within_0.01"] = sum(rec["auc"][k] >= out["signals"][k]["ae"] - 0.01 for k in rec["auc"])
            out["all_observables"][label] = rec
            print(f"{label} on {xs.shape[1]} inputs: ADO {rec['ado_test']:.3f}, "
                  + ", ".join(f"{k} {v:.3f}" for k, v in rec["auc"].items())
                  + f"; within 0.01 of the AE or above on {rec['within_0.01']} of {len(rec['auc'])}"
                  + f" ({rec['epochs']} epochs, {rec['cpu_seconds']:.0f} CPU s)")

    for path in args.selection:
        rec = json.loads(Path(path).read_text())
        rounds = rec["rounds"]
        ae_auc = rec["autoencoder_auc"]
        stop = stop_round(rounds, args.min_gain)
        rows = []
        for r in rounds:
            n_ok = sum(r["auc"][k] >= ae_auc[k] - 0.01 for k in ae_auc)
            rows.append({"round": r["round"], "ado_test": r["ado_test"], "ado_select": r.get("ado_select"),
                         "mean_auc": float(np.mean(list(r["auc"].values()))), "within_0.01": int(n_ok)})
        out.setdefault("selections", {})[path] = {"rounds": rows, "stop_round": stop,
                                                  "ae_mean_auc": float(np.mean(list(ae_auc.values())))}
        print(f"{path}: AE mean AUC {np.mean(list(ae_auc.values())):.3f}; stop (select ADO gain <= "
              f"{args.min_gain}) at round {stop}")
        for row in rows:
            sel = f"{row['ado_select']:.4f}" if row["ado_select"] is not None else "  -   "
            print(f"  round {row['round']:2d}: ADO test {row['ado_test']:.4f} select {sel} mean AUC "
                  f"{row['mean_auc']:.3f} within 0.01 of the AE: {row['within_0.01']}")
    if args.output:
        Path(args.output).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
