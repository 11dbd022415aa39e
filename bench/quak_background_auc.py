#!/usr/bin/env python
"""AUC of the QUAK background prior alone on one signal (the issue's goal: 0.77-0.84 on W' (4500, 500, 150)),
plus the single-feature AUCs that explain it.

    python bench/quak_background_auc.py --qcd resources/generated/qcd.extended.h5 \\
        --signal resources/generated/wprime_4500_500_150.extended.h5 --family vae --param beta=0.1

The QCD is split as in the workflow (hepad.quak.features.physics_samples, seed 1); the prior is trained on
the background training split with the given hyperparameters (schema defaults otherwise) on one thread.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.quak.features import FEATURES, physics_samples, quak_features, read_extended  # noqa: E402
from hepad.quak.priors import make_prior  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qcd", required=True, help="extended-features file of the QCD")
    p.add_argument("--signal", required=True, help="extended-features file of the signal")
    p.add_argument("--family", choices=["flow", "vae"], default="flow")
    p.add_argument("--param", action="append", default=[], metavar="KEY=JSON", help="prior hyperparameter")
    args = p.parse_args(argv)
    params = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.param)}
    ext = {"qcd": read_extended(args.qcd), "signal": read_extended(args.signal)}

    q, _, _ = quak_features(ext["qcd"])
    s, _, _ = quak_features(ext["signal"])
    y = np.r_[np.zeros(len(q)), np.ones(len(s))]
    print("single features (AUC of a cut from above; < 0.5: the signal sits low):")
    for i, name in enumerate(FEATURES):
        print(f"  {name:26s} AUC {roc_auc_score(y, np.r_[q[:, i], s[:, i]]):.3f}   QCD median {np.median(q[:, i]):8.3f}"
              f"  p99 {np.percentile(q[:, i], 99):8.3f}   signal median {np.median(s[:, i]):8.3f}")

    # The signal enters as a held-out sample: its calib and test splits are both scored here.
    sets, _ = physics_samples(ext, "qcd", [], ["signal"], seed=1)
    bkg, sig = sets["background"], sets["signal"]
    x_sig = np.concatenate([sig["calib"]["x"], sig["test"]["x"]])
    prior = make_prior(args.family, params, seed=1, threads=1)
    t0 = time.perf_counter()
    prior.fit(bkg["train"]["x"], bkg["val"]["x"])
    sb, ss = prior.score(bkg["test"]["x"]), prior.score(x_sig)
    auc = roc_auc_score(np.r_[np.zeros(len(sb)), np.ones(len(ss))], np.r_[sb, ss])
    print(f"{args.family} {params}: background-prior-only AUC {auc:.3f} ({len(bkg['train']['x'])} training, "
          f"{len(sb)} QCD and {len(ss)} signal test events; {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
