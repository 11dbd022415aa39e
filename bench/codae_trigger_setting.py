#!/usr/bin/env python
"""Our generated dark-shower events against the published example QCD images (docs/codae.md, trigger setting).

For each setting (name=key:value,... over hepad.events.dark_showers.DarkChunkSettings fields, plus
``track_pt_min`` for the tracker threshold) generates --events triggered events of --process and prints the
trigger efficiency, the CPU time per 1000 triggered events, the mean number of tracks, the mean number of
non-zero track pixels of the 72 x 58 image (and its occupancy), and the mean track pT sum. The published
example QCD images have about 94 tracks and 81 non-zero track pixels (1.9 %) per event.

Example (the comparison of docs/codae.md):
    python bench/codae_trigger_setting.py --events 300 \\
        old=trigger:leading_jet,trigger_pt:500,jet_radius:0.8,qcd_pthat_min:450,qcd_bias_power:0 \\
        new=trigger:ht,trigger_pt:500,jet_radius:0.4,qcd_pthat_min:200,qcd_bias_power:4.5
"""

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hepad.events.dark_showers import DarkChunkSettings, generate_dark_chunk  # noqa: E402
from hepad.events.detector import Detector  # noqa: E402
from hepad.events.images import ImageGrid, event_images  # noqa: E402

GRID = ImageGrid(eta_max=2.5, n_eta=286, n_phi=360, factor=5, channels=("track", "ecal", "hcal"))


def parse_setting(text: str) -> tuple[str, dict]:
    name, _, body = text.partition("=")
    values = {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition(":")
        values[key] = value if key == "trigger" else float(value)
    return name, values


def measure(process: str, n: int, values: dict, seed: int) -> str:
    values = dict(values)
    detector = None
    if "track_pt_min" in values:
        detector = asdict(Detector())
        detector["tracker"]["pt_min"] = values.pop("track_pt_min")
    settings = DarkChunkSettings(seed=seed, detector=detector, **values)
    t0 = time.process_time()
    chunk = generate_dark_chunk(process, 0, n, settings)
    cpu = time.process_time() - t0
    o = chunk.objects
    images = event_images(chunk.offsets, o["pt"], o["eta"], o["phi"], o["channel"], GRID)
    pixels = (images[:, 0] > 0).sum(axis=(1, 2))
    n_pixels = images.shape[2] * images.shape[3]
    return (f"efficiency {chunk.n_events / chunk.meta['n_generated']:.2f}, CPU {1000 * cpu / chunk.n_events:.1f} s "
            f"per 1000, tracks {chunk.events['ntracks'].mean():.1f}, track pixels {pixels.mean():.1f} "
            f"({100 * pixels.mean() / n_pixels:.2f} %), track pT sum {images[:, 0].sum(axis=(1, 2)).mean():.0f} GeV")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("settings", nargs="+", help="name=key:value,key:value,...")
    p.add_argument("--process", default="qcd")
    p.add_argument("--events", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    for text in args.settings:
        name, values = parse_setting(text)
        print(f"{args.process} {name}: {measure(args.process, args.events, values, args.seed)}", flush=True)


if __name__ == "__main__":
    main()
