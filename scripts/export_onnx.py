#!/usr/bin/env python
"""Export the CoDAE's small encoder f_m (the trigger-time model: image -> Z_m) to ONNX and check it.

The check runs onnxruntime on QCD test images, one at a time (batch 1, as at the trigger), and fails if
any Z_m component differs from torch's by more than --tolerance, in units of max(1, |Z_m|): absolute for
components below 1, relative above. Z_m components of tens are common, and there float32 itself rounds at
a few 1e-6 (torch and onnxruntime each differ from a float64 evaluation by up to 1e-5 absolute). Writes the
.onnx file and a JSON record of the check.
"""

import argparse

import numpy as np

import _bootstrap  # noqa: F401  (puts ../src on sys.path)

from hepad.events.images import image_count
from hepad.io import InputError, run_main, setup_logging, write_json
from hepad.codae.data import Splits, load_masks


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="CoDAE model of train_codae")
    p.add_argument("--qcd", required=True, help="QCD image file (test split used for the check)")
    p.add_argument("--qcd-test-fraction", type=float, required=True)
    p.add_argument("--mask-threshold", type=float, required=True,
                   help="summed track pT [GeV] above which a pixel is hit in the binarised mask")
    p.add_argument("--n-check", type=int, default=200, help="test images compared one by one")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest |ONNX - torch| / max(1, |torch|)")
    p.add_argument("--output", required=True, help="ONNX file")
    p.add_argument("--check", required=True, help="JSON record of the comparison")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    log = setup_logging("export_onnx")
    import onnxruntime

    from hepad.codae.model import CoDAE, export_fm_onnx, onnx_session

    model = CoDAE.load(args.model)
    model.device = "cpu"
    export_fm_onnx(model, args.output)
    rows = Splits(qcd_test_fraction=args.qcd_test_fraction).qcd(image_count(args.qcd))["test"][:args.n_check]
    x, _ = load_masks(args.qcd, rows, args.mask_threshold)
    x = x.astype(np.float32)
    session = onnx_session(args.output, threads=1)
    onnx_zm = np.concatenate([session.run(None, {"image": x[i:i + 1]})[0] for i in range(len(x))])
    torch_zm = model.encode_m(x)
    abs_diff = np.abs(onnx_zm - torch_zm)
    diff = float(abs_diff.max()) if len(x) else 0.0
    scaled = float((abs_diff / np.maximum(1.0, np.abs(torch_zm))).max()) if len(x) else 0.0
    record = {"n_images": len(x), "max_abs_diff": diff, "max_scaled_diff": scaled,
              "max_abs_zm": float(np.abs(torch_zm).max()) if len(x) else 0.0, "tolerance": args.tolerance,
              "onnxruntime": onnxruntime.__version__, "passed": scaled <= args.tolerance}
    write_json(record, args.check)
    if scaled > args.tolerance:
        raise InputError(f"ONNX f_m differs from torch by {scaled:.2e} (in units of max(1, |Z_m|); "
                         f"{diff:.2e} absolute) > {args.tolerance:.0e}")
    log.info("ONNX f_m matches torch on %d images (max |diff| %.2e, %.2e in units of max(1, |Z_m|))",
             len(x), diff, scaled)


if __name__ == "__main__":
    run_main(main)
