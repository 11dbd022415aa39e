"""Small files in the exact layout of the LHCO R&D particle-level file (events_anomalydetection_v2.h5):
pandas fixed format, key ``df``, 2101 integer-named columns: 700 particles x (pT [GeV], eta, phi),
zero-padded, then the label (0 QCD, 1 signal)."""

import numpy as np
import pandas as pd

N_PARTICLES = 700


def particle_row(particles, label) -> np.ndarray:
    """One row: ``particles`` = list of (pt, eta, phi), zero-padded to 700, then the label."""
    row = np.zeros(3 * N_PARTICLES + 1)
    flat = np.asarray(particles, dtype=np.float64).ravel()
    row[:len(flat)] = flat
    row[-1] = label
    return row


def _jet(rng, pt, eta, phi, prongs, n_particles):
    """Particles of a jet with prongs at (eta, phi) offsets, each prong a narrow spray of particles."""
    out = []
    shares = rng.dirichlet(np.ones(len(prongs)) * 5)
    for (deta, dphi), share in zip(prongs, shares):
        k = max(2, n_particles // len(prongs))
        frac = rng.dirichlet(np.ones(k))
        for f in frac:
            out.append((pt * share * f, eta + deta + rng.normal(0, 0.02), phi + dphi + rng.normal(0, 0.02)))
    return out


def toy_events(n_bkg: int, n_sig: int, seed: int = 1) -> np.ndarray:
    """Rows of QCD-like (one broad prong per jet) and W'-like (two prongs per jet) dijet events, shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, n in ((0, n_bkg), (1, n_sig)):
        for _ in range(n):
            pt = rng.uniform(1300, 1900)
            phi = rng.uniform(-np.pi, np.pi)
            etas = rng.uniform(-1.0, 1.0, size=2)
            particles = []
            for j, (eta, jphi) in enumerate(zip(etas, (phi, phi + np.pi))):
                if label:
                    half = (0.3 if j == 0 else 0.07) / 2  # X (500 GeV) and Y (100 GeV) at pT ~ 1.6 TeV
                    prongs = [(half, 0.0), (-half, 0.0)]
                else:
                    prongs = [(rng.normal(0, 0.05), rng.normal(0, 0.05)) for _ in range(rng.integers(1, 4))]
                particles += _jet(rng, pt * rng.uniform(0.9, 1.0), eta, jphi, prongs, int(rng.integers(20, 60)))
            particles = [(p, e, (f + np.pi) % (2 * np.pi) - np.pi) for p, e, f in particles]
            rows.append(particle_row(particles, label))
    rows = np.array(rows)
    return rows[rng.permutation(len(rows))]


def write_particle_file(path, rows) -> None:
    """``rows`` in the layout of events_anomalydetection_v2.h5."""
    pd.DataFrame(rows).to_hdf(path, key="df", mode="w", format="fixed")
