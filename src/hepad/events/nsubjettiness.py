"""N-subjettiness with exclusive-kT axes, vectorised over many jets.

For a jet with constituents i (transverse momentum pT_i, rapidity y_i, azimuth phi_i) and N axes k,

    tau_N^beta = sum_i pT_i * min_k (Delta R_ik)^beta / sum_i pT_i * R0^beta,

with Delta R_ik^2 = (y_i - y_k)^2 + (phi_i - phi_k)^2 (phi difference wrapped into [-pi, pi)). This is the
"normalized measure" of Thaler and Van Tilburg (arXiv:1011.2268, 1108.2701) with R0 the jet radius.
The axes are the exclusive-kT axes: the jet's constituents are reclustered with the kT algorithm
(E-scheme) until N subjets remain; their momenta are the axes (no further minimisation). A jet with
N or fewer constituents has tau_N = 0. tau_N decreases with N for these axes in practice, and
tau_{N}/tau_{N-1} small means the jet has N prongs (e.g. tau21 = tau_2/tau_1 small for two prongs).
"""

from __future__ import annotations

import warnings

import numpy as np

# kT reclustering radius: large enough that no constituent merges with the beam before one subjet is left
# (pairwise distances in an R <= 2 jet are below 4 < KT_RECLUSTER_R).
KT_RECLUSTER_R = 10.0
DEFAULT_BETAS = (0.5, 1.0, 2.0)
MISSING_AXIS_Y = 1.0e3


def rapidity(pz: np.ndarray, e: np.ndarray) -> np.ndarray:
    """y = 1/2 ln((E + pz) / (E - pz)); finite for massive and massless objects away from the beam."""
    return 0.5 * np.log((e + pz) / (e - pz))


def delta_phi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b wrapped into [-pi, pi)."""
    return (a - b + np.pi) % (2 * np.pi) - np.pi


def tau_from_axes(pt, y, phi, counts, axes_y, axes_phi, betas=DEFAULT_BETAS, r0: float = 1.0,
                  wrap: bool = True) -> np.ndarray:
    """tau^beta of many jets for given axes.

    Parameters
    ----------
    pt, y, phi : (C,) arrays
        Constituents of all jets, flat and grouped by jet (jet 0's first, then jet 1's, ...).
    counts : (n_jets,) int array
        Number of constituents of each jet.
    axes_y, axes_phi : (n_jets, N) arrays
        Axes per jet; a missing axis (jet with fewer than N constituents) must be placed far away
        (e.g. y = 1e3): every constituent of such a jet is an axis itself and contributes 0.
    betas : sequence of float
        Angular exponents.
    r0 : float
        Characteristic jet radius of the normalisation.
    wrap : bool
        Wrap phi differences into [-pi, pi). ``nsubjettiness`` passes phi relative to the jet axis, where no
        difference can exceed pi, and skips it for speed.

    Returns
    -------
    (n_jets, len(betas)) array; 0 for jets without constituents.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_jets = len(counts)
    # One axis at a time over all constituents: long 1-d vector operations, far faster than (C, N) blocks.
    min_dr2 = None
    for k in range(axes_y.shape[1]):
        dy = np.repeat(axes_y[:, k], counts)
        np.subtract(y, dy, out=dy)
        dy *= dy
        dphi = np.repeat(axes_phi[:, k], counts)
        np.subtract(phi, dphi, out=dphi)
        if wrap:
            dphi = delta_phi(dphi, 0.0)
        dphi *= dphi
        dy += dphi
        if min_dr2 is None:
            min_dr2 = dy
        else:
            np.minimum(min_dr2, dy, out=min_dr2)
    if min_dr2 is None:
        min_dr2 = np.zeros(len(pt))
    owner = np.repeat(np.arange(n_jets), counts)
    norm = np.bincount(owner, weights=pt, minlength=n_jets)
    out = np.empty((n_jets, len(betas)))
    for j, beta in enumerate(betas):
        if beta == 2.0:
            dist = min_dr2
        elif beta == 1.0:
            dist = np.sqrt(min_dr2)
        elif beta == 0.5:
            dist = np.sqrt(np.sqrt(min_dr2))
        else:
            dist = min_dr2 ** (0.5 * beta)
        num = np.bincount(owner, weights=pt * dist, minlength=n_jets)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(norm > 0, num / (norm * r0 ** beta), 0.0)
    return out


def exclusive_kt_axes(jet_offsets, px, py, pz, e, n_max: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Exclusive-kT axes of every jet for N = 1..n_max, each as (y, phi) arrays of shape (n_jets, N).

    All jets go to FastJet's multi-event interface at once (one C++ call per N); a missing axis (jet with
    fewer than N constituents) has y = MISSING_AXIS_Y, far from every constituent.
    """
    import fastjet

    from hepad.events.jets import _flat_four, _jagged

    n_jets = len(jet_offsets) - 1
    jetdef = fastjet.JetDefinition(fastjet.kt_algorithm, KT_RECLUSTER_R)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq = fastjet.ClusterSequence(_jagged(jet_offsets, px, py, pz, e), jetdef)
        result = []
        for n in range(1, n_max + 1):
            off, (apx, apy, apz, ae) = _flat_four(seq.exclusive_jets_up_to(n))
            counts = np.diff(off)
            owner = np.repeat(np.arange(n_jets), counts)
            slot = np.arange(len(apx)) - np.repeat(off[:-1], counts)
            ay = np.full((n_jets, n), MISSING_AXIS_Y)
            aphi = np.zeros((n_jets, n))
            ay[owner, slot] = rapidity(apz, ae)
            aphi[owner, slot] = np.arctan2(apy, apx)
            result.append((ay, aphi))
    return result


def nsubjettiness(jet_offsets, px, py, pz, e, n_max: int = 9, betas=DEFAULT_BETAS, r0: float = 1.0) -> np.ndarray:
    """tau_N^beta for N = 1..n_max and every beta, of many jets given flat constituent four-momenta.

    ``jet_offsets`` (n_jets + 1) delimit the jets in the flat arrays. Returns an array of shape
    (n_jets, n_max, len(betas)); ``[:, N - 1, b]`` is tau_N for ``betas[b]``.
    """
    jet_offsets = np.asarray(jet_offsets, dtype=np.int64)
    n_jets = len(jet_offsets) - 1
    counts = np.diff(jet_offsets)
    owner = np.repeat(np.arange(n_jets), counts)
    sl = slice(jet_offsets[0], jet_offsets[-1])
    px, py, pz, e = (np.asarray(a, dtype=np.float64)[sl] for a in (px, py, pz, e))
    pt = np.hypot(px, py)
    y = rapidity(pz, e)
    phi = np.arctan2(py, px)
    taus = np.zeros((n_jets, n_max, len(betas)))
    if n_jets == 0:
        return taus
    axes = exclusive_kt_axes(jet_offsets - jet_offsets[0], px, py, pz, e, n_max)
    # Azimuths relative to each jet's one-subjet axis (the jet direction): then no difference between a
    # constituent and an axis of its jet exceeds pi (for jet radii up to 1.5), so no wrapping per pair.
    phi_ref = axes[0][1][:, 0]
    phi_rel = delta_phi(phi, phi_ref[owner])
    for n, (ay, aphi) in enumerate(axes):
        aphi_rel = delta_phi(aphi, phi_ref[:, None])
        taus[:, n] = tau_from_axes(pt, y, phi_rel, counts, ay, aphi_rel, betas, r0, wrap=False)
    return taus
