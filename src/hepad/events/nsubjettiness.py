"""N-subjettiness with exclusive-kT axes (E-scheme, optionally minimised in one pass, or winner-take-all),
vectorised over many jets.

For a jet with constituents i (transverse momentum pT_i, rapidity y_i, azimuth phi_i) and N axes k,

    tau_N^beta = sum_i pT_i * min_k (Delta R_ik)^beta / sum_i pT_i * R0^beta,

with Delta R_ik^2 = (y_i - y_k)^2 + (phi_i - phi_k)^2 (phi difference wrapped into [-pi, pi)). This is the
"normalized measure" of Thaler and Van Tilburg (arXiv:1011.2268, 1108.2701) with R0 the jet radius.
The axes are the exclusive-kT axes: the jet's constituents are reclustered with the kT algorithm
(E-scheme) until N subjets remain; their momenta are the axes. With ``axes="onepass_kt"`` (FastJet
contrib's OnePass_KT_Axes) these axes are then moved to the local minimum of tau_N^beta: particles are
assigned to their nearest axis and each axis moves to the weighted mean of its particles with weights
pT_i * Delta R_i^(beta - 2) (a Lloyd step for beta = 2, a Weiszfeld step of the geometric median for beta = 1),
until no axis of the jet moves by more than ``ONEPASS_TOLERANCE`` or after ``ONEPASS_MAX_ITERATIONS``; every beta
gets its own axes. With ``axes="wta_kt"`` (FastJet contrib's WTA_KT_Axes, the default of Delphes' FastJetFinder,
``AxisMode 1``) the kT reclustering uses the winner-take-all recombination: a merged pair takes the direction
of its harder member, so each axis points along a hard particle of its subjet; for beta = 1 these axes sit
near the minimum already (their tau agrees with the one-pass minimised wta axes on generated QCD, docs/data.md),
and they need no minimisation. The minimisation is done for N <= ``ONEPASS_MAX_N`` (3: tau1, tau2, tau3 of the
LHCO features and their ratios); larger N keep the exclusive-kT axes, because minimising every N up to 9 for three betas took
58 % of the CPU time of generating a QCD event (docs/data.md). A jet with N or fewer constituents has
tau_N = 0. tau_N decreases with N for these axes in practice, and tau_{N}/tau_{N-1} small means the jet has
N prongs (e.g. tau21 = tau_2/tau_1 small for two prongs).
"""

from __future__ import annotations

import warnings

import numpy as np

# kT reclustering radius: large enough that no constituent merges with the beam before one subjet is left
# (pairwise distances in an R <= 2 jet are below 4 < KT_RECLUSTER_R).
KT_RECLUSTER_R = 10.0
DEFAULT_BETAS = (0.5, 1.0, 2.0)
MISSING_AXIS_Y = 1.0e3
AXES = ("kt", "onepass_kt", "wta_kt")
# FastJet contrib Nsubjettiness' defaults for the one-pass minimisation: accuracy and iteration limit.
ONEPASS_TOLERANCE = 1.0e-4
ONEPASS_MAX_ITERATIONS = 100
# Largest N whose axes are minimised with axes="onepass_kt" (the LHCO features' tau1..tau3).
ONEPASS_MAX_N = 3
# Distances below this count as this (a Weiszfeld step is undefined on an axis sitting on a particle).
ONEPASS_MIN_DR = 1.0e-6


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


def _nearest_axis(y, phi, counts, axes_y, axes_phi) -> tuple[np.ndarray, np.ndarray]:
    """Per constituent: the index of its nearest axis and the squared distance to it (phi not wrapped)."""
    best = np.full(len(y), np.inf)
    nearest = np.zeros(len(y), dtype=np.int64)
    for k in range(axes_y.shape[1]):
        dr2 = (y - np.repeat(axes_y[:, k], counts)) ** 2 + (phi - np.repeat(axes_phi[:, k], counts)) ** 2
        closer = dr2 < best
        best[closer], nearest[closer] = dr2[closer], k
    return nearest, best


def one_pass_axes(pt, y, phi, counts, axes_y, axes_phi, beta: float,
                  tolerance: float = ONEPASS_TOLERANCE, max_iterations: int = ONEPASS_MAX_ITERATIONS):
    """Axes moved from ``axes_y, axes_phi`` (n_jets, N) to the local minimum of tau_N^beta, all jets at once.

    Each step assigns every constituent to its nearest axis and moves each axis to the mean of its
    constituents weighted by pT_i * Delta R_i^(beta - 2) (Delta R floored at ONEPASS_MIN_DR); missing axes
    (y = MISSING_AXIS_Y) and axes without constituents stay. ``phi`` must be relative to the jet, as in
    :func:`nsubjettiness` (no wrapping). Returns new (axes_y, axes_phi).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_jets, n_axes = axes_y.shape
    ay, aphi = axes_y.copy(), axes_phi.copy()
    present = ay < 0.5 * MISSING_AXIS_Y
    # Each jet stops on its own (as FastJet minimises jet by jet): only jets still moving are iterated,
    # so one slowly converging jet does not cost an iteration of every other jet.
    active = np.arange(n_jets)
    cons = np.arange(len(pt))
    for _ in range(max_iterations):
        n_act, c_act = len(active), counts[active]
        owner = np.repeat(np.arange(n_act), c_act)
        cy, cphi = y[cons], phi[cons]
        nearest, dr2 = _nearest_axis(cy, cphi, c_act, ay[active], aphi[active])
        dr = np.maximum(np.sqrt(dr2), ONEPASS_MIN_DR)
        weight = pt[cons] * dr ** (beta - 2.0)
        slot = owner * n_axes + nearest
        total = np.bincount(slot, weights=weight, minlength=n_act * n_axes).reshape(n_act, n_axes)
        sum_y = np.bincount(slot, weights=weight * cy, minlength=n_act * n_axes).reshape(n_act, n_axes)
        sum_phi = np.bincount(slot, weights=weight * cphi, minlength=n_act * n_axes).reshape(n_act, n_axes)
        old_y, old_phi = ay[active], aphi[active]
        move = present[active] & (total > 0)
        new_y = np.where(move, sum_y / np.where(move, total, 1.0), old_y)
        new_phi = np.where(move, sum_phi / np.where(move, total, 1.0), old_phi)
        ay[active], aphi[active] = new_y, new_phi
        moving = np.max(np.hypot(new_y - old_y, new_phi - old_phi), axis=1, initial=0.0) >= tolerance
        if not moving.any():
            break
        cons = cons[np.repeat(moving, c_act)]
        active = active[moving]
    return ay, aphi


def exclusive_kt_axes(jet_offsets, px, py, pz, e, n_max: int,
                      winner_take_all: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Exclusive-kT axes of every jet for N = 1..n_max, each as (y, phi) arrays of shape (n_jets, N), with
    the E-scheme recombination or (``winner_take_all``) FastJet's WTA_pt_scheme.

    All jets go to FastJet's multi-event interface at once (one C++ call per N); a missing axis (jet with
    fewer than N constituents) has y = MISSING_AXIS_Y, far from every constituent.
    """
    import fastjet

    from hepad.events.jets import _flat_four, _jagged

    n_jets = len(jet_offsets) - 1
    scheme = fastjet.WTA_pt_scheme if winner_take_all else fastjet.E_scheme
    jetdef = fastjet.JetDefinition(fastjet.kt_algorithm, KT_RECLUSTER_R, scheme)
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


def nsubjettiness(jet_offsets, px, py, pz, e, n_max: int = 9, betas=DEFAULT_BETAS, r0: float = 1.0,
                  axes: str = "kt") -> np.ndarray:
    """tau_N^beta for N = 1..n_max and every beta, of many jets given flat constituent four-momenta.

    ``jet_offsets`` (n_jets + 1) delimit the jets in the flat arrays; ``axes`` is "kt" (exclusive-kT
    axes), "onepass_kt" (those axes minimised for each beta, for N <= ``ONEPASS_MAX_N``) or "wta_kt" (the
    winner-take-all exclusive-kT axes). Returns an array of shape
    (n_jets, n_max, len(betas)); ``[:, N - 1, b]`` is tau_N for ``betas[b]``.
    """
    if axes not in AXES:
        raise ValueError(f"N-subjettiness axes {axes!r}: expected one of {', '.join(AXES)}")
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
    kt_axes = exclusive_kt_axes(jet_offsets - jet_offsets[0], px, py, pz, e, n_max, axes == "wta_kt")
    # Azimuths relative to each jet's one-subjet axis (the jet direction): then no difference between a
    # constituent and an axis of its jet exceeds pi (for jet radii up to 1.5), so no wrapping per pair.
    phi_ref = kt_axes[0][1][:, 0]
    phi_rel = delta_phi(phi, phi_ref[owner])
    for n, (ay, aphi) in enumerate(kt_axes):
        aphi_rel = delta_phi(aphi, phi_ref[:, None])
        if axes != "onepass_kt" or n + 1 > ONEPASS_MAX_N:
            taus[:, n] = tau_from_axes(pt, y, phi_rel, counts, ay, aphi_rel, betas, r0, wrap=False)
            continue
        for b, beta in enumerate(betas):
            my, mphi = one_pass_axes(pt, y, phi_rel, counts, ay, aphi_rel, beta)
            taus[:, n, b] = tau_from_axes(pt, y, phi_rel, counts, my, mphi, (beta,), r0, wrap=False)[:, 0]
    return taus
