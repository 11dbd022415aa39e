"""Energy flow polynomials (EFPs) of single jets, plus jet mass and pT: the mimickers' observables.

The set is energyflow's ``EFPSet(('d<=', 5), measure='hadr', beta=1, kappa=1)``: the 102 multigraphs
with at most five edges. For a jet with constituents i (transverse momentum fraction z_i = pT_i / sum pT,
rapidity y_i, azimuth phi_i) and a multigraph G with vertices V and edges E,

    EFP_G = sum_{i_1 .. i_|V|} z_{i_1} ... z_{i_|V|} prod_{(k, l) in E} theta_{i_k i_l},
    theta_ij = ((y_i - y_j)^2 + (phi_i - phi_j)^2)^(beta / 2)        (beta = 1, kappa = 1).

The first graph (no edges) is the constant 1 and is dropped: 101 EFPs. Features are then
(m, pT, EFP_1 .. EFP_101), named ``m``, ``pt`` and ``efp_n{n}_d{d}_k{k}`` (vertices, edges, index of the
graph among those with the same n and d in energyflow's order, with a running number for uniqueness).
"""

from __future__ import annotations

import contextlib
import io
import sys
import types

import numpy as np

D_MAX = 5
MEASURE = "hadr"
BETA = 1
KAPPA = 1


def import_energyflow():
    """Import energyflow 1.4, which imports ``wasserstein`` (EMD only) at top level.

    wasserstein 1.0.1's compiled module fails to import under numpy 2 (built against numpy 1); the
    EFPs never touch it, so a placeholder module is put in its place when that happens.
    """
    try:
        # numpy prints a long "compiled using NumPy 1.x" notice before failing: keep the logs readable
        with contextlib.redirect_stderr(io.StringIO()):
            import energyflow
        return energyflow
    except ImportError as err:
        if "wasserstein" not in repr(err) and "numpy.core.multiarray" not in str(err):
            raise
    for name in [m for m in sys.modules if m == "wasserstein" or m.startswith("wasserstein.")
                 or m == "energyflow" or m.startswith("energyflow.")]:
        del sys.modules[name]
    stub = types.ModuleType("wasserstein")
    stub.__doc__ = "placeholder: the compiled wasserstein module does not load with this numpy (EMD unavailable)"
    sys.modules["wasserstein"] = stub
    import energyflow
    return energyflow


def efp_set():
    """The energyflow EFPSet of the paper: d <= 5, measure 'hadr', beta = 1, kappa = 1."""
    ef = import_energyflow()
    return ef.EFPSet(("d<=", D_MAX), measure=MEASURE, beta=BETA, kappa=KAPPA)


def efp_specs() -> np.ndarray:
    """energyflow's spec rows (n, e, d, v, k, c, p, h) of the 101 non-constant EFPs."""
    return np.asarray(efp_set().specs)[1:]


def efp_names() -> list[str]:
    """Feature names of the 101 EFPs, in order: ``efp_n{n}_d{d}_k{k}``."""
    names = []
    for n, _, d, _, k, *_ in efp_specs():
        names.append(f"efp_n{int(n)}_d{int(d)}_k{int(k)}")
    seen: dict[str, int] = {}
    unique = []
    for name in names:  # (n, d, k) repeats for composite graphs: number the repeats
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def feature_names() -> list[str]:
    """``m``, ``pt``, then the 101 EFP names."""
    return ["m", "pt"] + efp_names()


def efp_graphs() -> list[list[tuple[int, int]]]:
    """Edge lists of the 101 EFP multigraphs (a repeated edge is a multi-edge), for drawing."""
    return [[tuple(map(int, e)) for e in g] for g in efp_set().graphs()[1:]]


def jet_mass_pt(offsets, pt, eta, phi, mass=None) -> tuple[np.ndarray, np.ndarray]:
    """Jet mass and pT from the four-momentum sum of ragged constituents (massless unless ``mass``)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    jet = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    pt = np.asarray(pt, dtype=np.float64)
    m = np.zeros_like(pt) if mass is None else np.asarray(mass, dtype=np.float64)
    mt = np.sqrt(pt ** 2 + m ** 2)
    comps = (pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(eta), mt * np.cosh(eta))
    px, py, pz, e = (np.bincount(jet, weights=c, minlength=len(offsets) - 1) for c in comps)
    m2 = e ** 2 - px ** 2 - py ** 2 - pz ** 2
    return np.sqrt(np.maximum(m2, 0.0)), np.hypot(px, py)


def compute_efps(offsets, pt, eta, phi, mass=None, n_jobs: int = 1) -> np.ndarray:
    """The 101 EFPs (n_jets, 101) of ragged constituents; ``eta`` is the rapidity for massive inputs.

    energyflow's batch computation (``n_jobs`` processes) on per-jet (pT, y, phi[, m]) arrays.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    if len(offsets) < 2:
        return np.zeros((0, 101))
    cols = [pt, eta, phi] + ([] if mass is None else [mass])
    flat = np.stack([np.asarray(c, dtype=np.float64) for c in cols], axis=1)
    jets = np.split(flat, offsets[1:-1] - offsets[0])
    values = efp_set().batch_compute(jets, n_jobs=max(1, int(n_jobs)))
    # energyflow returns a 1-d array for a single jet
    return np.asarray(values, dtype=np.float64).reshape(len(jets), -1)[:, 1:]


def jet_features(offsets, pt, eta, phi, mass=None, n_jobs: int = 1) -> np.ndarray:
    """(n_jets, 103): m, pT, then the 101 EFPs (``feature_names()``)."""
    m, jet_pt = jet_mass_pt(offsets, pt, eta, phi, mass)
    return np.column_stack([m, jet_pt, compute_efps(offsets, pt, eta, phi, mass, n_jobs=n_jobs)])
