"""Toy single jets in the Zenodo layout of the mimicker study (objects/jets/constituents, obs): a few
prongs of massless particles around the jet axis, pT 550-650 GeV. QCD-like jets have one hard prong
with a soft, wide spray; signal jets have two or three prongs at a separation set by the mass."""

from __future__ import annotations

import numpy as np

from hepad.events.mimicker_io import write_zenodo_layout


def toy_jets(n: int, prongs: int, mass: float, seed: int, pt_range=(540.0, 660.0)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    jets = []
    for _ in range(n):
        pt = rng.uniform(*pt_range)
        eta0, phi0 = rng.uniform(-1.5, 1.5), rng.uniform(-np.pi, np.pi)
        if prongs == 1:
            fractions = np.array([1.0])
            centres = np.zeros((1, 2))
            width = rng.uniform(0.05, 0.25)
        else:
            fractions = rng.dirichlet(np.full(prongs, 4.0))
            dr = 2 * mass / pt * rng.uniform(0.8, 1.2)
            angle = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(prongs) / prongs
            centres = 0.5 * dr * np.column_stack([np.cos(angle), np.sin(angle)])
            width = 0.04
        parts = []
        for f, (ce, cp) in zip(fractions, centres):
            m = rng.integers(8, 20)
            z = rng.dirichlet(np.ones(m)) * f * pt
            parts.append(np.column_stack([z, eta0 + ce + rng.normal(0, width, m), phi0 + cp + rng.normal(0, width, m)]))
        p = np.concatenate(parts)
        px, py, pz = p[:, 0] * np.cos(p[:, 2]), p[:, 0] * np.sin(p[:, 2]), p[:, 0] * np.sinh(p[:, 1])
        e = p[:, 0] * np.cosh(p[:, 1])
        jets.append(np.column_stack([e, px, py, pz]))
    return jets


def write_toy_zenodo(path, n: int, prongs: int, mass: float, seed: int) -> None:
    jets = toy_jets(n, prongs, mass, seed)
    obs = np.random.default_rng(seed + 1).uniform(0, 1, (n, 10))
    write_zenodo_layout(path, jets, obs=obs, extra=0.0)
