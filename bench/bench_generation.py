"""Speed of the generation chain against bare Pythia 8, measured in the same run, interleaved.

Bare Pythia = ``pythia.next()`` in a loop with the QCD settings of the chain (13 TeV, HardQCD:all,
pTHatMin 1100 GeV, default MPI and hadronisation). Chain = the real chunk pipeline (``ChunkGenerator``:
Pythia batch, detector, anti-kT R=1.0 jets, trigger, N-subjettiness tau_1..9 for three betas,
constituents) plus writing the chunk file. Rounds alternate between the two so that a machine shared
with other jobs slows both alike; CPU time (process time) is printed besides wall time because it is
less sensitive to other jobs. Initialisation (imports, Pythia init) is reported separately: it is paid
once per chunk.

    python bench/bench_generation.py --rounds 10 --events 100
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--events", type=int, default=100,
                        help="Pythia events per round and side; the chain uses batches of BATCH_EVENTS (default 100)")
    parser.add_argument("--process", default="qcd", help="process of the chain (default qcd)")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)

    from hepad.events import generate as G
    from hepad.events.pythia import PythiaGenerator

    settings = G.ChunkSettings(seed=args.seed)
    t0 = time.perf_counter()
    chain = G.ChunkGenerator(args.process, 0, settings)
    t_init_chain = time.perf_counter() - t0
    t0 = time.perf_counter()
    bare = PythiaGenerator(chain.pythia_lines, chain.seed)  # same seed: the very same events
    t_init_bare = time.perf_counter() - t0
    steps = max(1, args.events // G.BATCH_EVENTS)

    # Warm up both (first events, caches) on the same events.
    for _ in range(G.BATCH_EVENTS):
        bare.pythia.next()
    chain.step()
    chain.parts.clear()
    chain.n_generated = chain.n_accepted = 0
    chain.timer.seconds.clear()

    wall = {"bare": 0.0, "chain": 0.0}
    cpu = {"bare": 0.0, "chain": 0.0}
    n = {"bare": 0, "chain": 0}
    for r in range(args.rounds):
        order = ("bare", "chain") if r % 2 == 0 else ("chain", "bare")
        for side in order:
            w0, c0 = time.perf_counter(), time.process_time()
            if side == "bare":
                for _ in range(steps * G.BATCH_EVENTS):
                    bare.pythia.next()
                n["bare"] += steps * G.BATCH_EVENTS
            else:
                before = chain.n_generated
                for _ in range(steps):
                    chain.step()
                n["chain"] += chain.n_generated - before
            wall[side] += time.perf_counter() - w0
            cpu[side] += time.process_time() - c0
    # Writing the chunk is part of the chain.
    w0, c0 = time.perf_counter(), time.process_time()
    result = chain.result(chain.n_accepted)
    with tempfile.TemporaryDirectory() as tmp:
        G.write_chunk(result, os.path.join(tmp, "chunk.h5"))
        size = os.path.getsize(os.path.join(tmp, "chunk.h5"))
    wall["chain"] += time.perf_counter() - w0
    cpu["chain"] += time.process_time() - c0
    t_write = time.perf_counter() - w0

    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at end {os.getloadavg()[0]:.2f}")
    print(f"process {args.process}, {args.rounds} interleaved rounds of {steps * G.BATCH_EVENTS} events per side")
    for side in ("bare", "chain"):
        print(f"{side:>5}: {n[side]} events, wall {n[side] / wall[side]:7.1f} events/s, "
              f"CPU {n[side] / cpu[side]:7.1f} events/s")
    print(f"ratio chain/bare: wall {n['chain'] / wall['chain'] / (n['bare'] / wall['bare']):.3f}, "
          f"CPU {n['chain'] / cpu['chain'] / (n['bare'] / cpu['bare']):.3f}")
    acc = chain.n_accepted / max(chain.n_generated, 1)
    print(f"chain: {chain.n_accepted} of {chain.n_generated} events accepted ({acc:.1%}); "
          f"chunk file {size / max(chain.n_accepted, 1) / 1024:.2f} kB per accepted event, write {t_write:.2f} s")
    steps_s = chain.timer.seconds
    total = sum(steps_s.values())
    print("chain time per step (wall): " + ", ".join(
        f"{k} {1000 * v / n['chain']:.2f} ms/event ({v / total:.1%})" for k, v in steps_s.items()))
    print(f"init (once per chunk): chain {t_init_chain:.2f} s (imports + Pythia init), bare Pythia init {t_init_bare:.2f} s")


if __name__ == "__main__":
    main()
