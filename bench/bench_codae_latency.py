#!/usr/bin/env python
"""Batch-1 CPU latency of the CoDAE's trigger model f_m (image -> Z_m) in onnxruntime on one core.

Exports f_m of a trained model (--model, e.g. results/codae/train_codae/codae.pt) or of an untrained one with the
default architecture (the latency does not depend on the weights), checks the ONNX outputs against torch
(max |difference| over --n-check images, one by one), then times --runs single-image inferences with one
intra-op thread, the process pinned to one core. Prints median, mean, 90 % and 99 % quantiles in ms.
Reference (docs/codae.md): the paper's fp16 TF-Lite f_m takes 3.0 ms per image on a CPU.
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.codae.model import CoDAE, export_fm_onnx, onnx_session  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="trained CoDAE (.pt); default: untrained, default architecture")
    p.add_argument("--runs", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--n-check", type=int, default=200)
    p.add_argument("--core", type=int, default=0, help="CPU core the process is pinned to")
    p.add_argument("--occupancy", type=float, default=0.03, help="fraction of hit pixels of the test images")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import onnxruntime
    import torch

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    torch.set_num_threads(1)
    if args.model:
        model = CoDAE.load(args.model)
        model.device = "cpu"
    else:
        model = CoDAE(device="cpu")
        model.image_shape_ = (1, 72, 58)
        model._net = model._build(model.image_shape_)
    rng = np.random.default_rng(0)
    images = (rng.random((args.n_check,) + tuple(model.image_shape_)) < args.occupancy).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f_m.onnx"
        export_fm_onnx(model, path)
        size_kb = path.stat().st_size / 1024
        session = onnx_session(path, threads=1)
        onnx_zm = np.concatenate([session.run(None, {"image": images[i:i + 1]})[0] for i in range(len(images))])
        diff = float(np.abs(onnx_zm - model.encode_m(images)).max())
        for i in range(args.warmup):
            session.run(None, {"image": images[i % len(images)][None]})
        times = np.empty(args.runs)
        for i in range(args.runs):
            x = images[i % len(images)][None]
            t0 = time.perf_counter()
            session.run(None, {"image": x})
            times[i] = time.perf_counter() - t0
        # torch eager batch-1 for comparison (same core, one thread)
        net = model._net.f_m.eval()
        t_torch = []
        with torch.no_grad():
            for i in range(min(args.runs, 500)):
                x = torch.from_numpy(images[i % len(images)][None])
                t0 = time.perf_counter()
                net(x)
                t_torch.append(time.perf_counter() - t0)
    ms = 1e3 * times
    n_params = sum(p.numel() for p in model._net.f_m.parameters())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; onnxruntime {onnxruntime.__version__}, torch {torch.__version__}")
    print(f"f_m: {n_params} parameters, ONNX file {size_kb:.1f} kB, input {tuple(model.image_shape_)}")
    print(f"ONNX vs torch: max |Z_m difference| {diff:.2e} over {len(images)} images (batch 1)")
    print(f"onnxruntime batch-1 latency, 1 thread on core {args.core}, {args.runs} runs: median {np.median(ms):.3f} ms, "
          f"mean {ms.mean():.3f} ms, p90 {np.percentile(ms, 90):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms")
    print(f"torch eager batch-1 latency, 1 thread: median {1e3 * np.median(t_torch):.3f} ms")


if __name__ == "__main__":
    main()
