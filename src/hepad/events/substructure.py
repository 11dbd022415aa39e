"""The two leading jets' substructure and the extended-feature table, from reconstructed objects.

One piece of code for every source of events: the generation stage (objects after the detector
response) and the LHCO R&D particle-level file (its Delphes particle-flow objects) both go
objects -> :func:`hepad.events.jets.cluster_leading_jets` -> :func:`dijet_substructure` ->
:func:`extended_table`, so their extended files mean the same thing column by column.

Extended columns (:data:`EXTENDED_COLUMNS`): ``mjj`` [GeV], the truth ``mhat`` of the hard process,
``label``, ``chunk`` and ``event`` (where the event came from), per jet j = 1, 2 (pT order)
``pt eta phi m e ncons ntrack necal nhcal`` (GeV; constituents in all and per detector channel) and
``tau{N}j{j}_{beta}`` = N-subjettiness tau_N^beta for N = 1..9 and beta = 0.5, 1, 2
(:mod:`hepad.events.nsubjettiness`, normalised measure with R0 = the jet radius). A column without a
meaning for a source (``mhat`` of recorded data, channel counts without a channel) is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepad.events.jets import LeadingJets, four_mass
from hepad.events.nsubjettiness import DEFAULT_BETAS, nsubjettiness

N_TAU = 9
BETA_NAMES = {0.5: "beta05", 1.0: "beta1", 2.0: "beta2"}
JET_COLUMNS = ["pt", "eta", "phi", "m", "e", "ncons", "ntrack", "necal", "nhcal"]
TAU_COLUMNS = [f"tau{n}j{{j}}_{BETA_NAMES[b]}" for n in range(1, N_TAU + 1) for b in DEFAULT_BETAS]
EXTENDED_COLUMNS = (
    ["mjj", "mhat", "label", "chunk", "event"]
    + [f"{c}j{j}" for j in (1, 2) for c in JET_COLUMNS]
    + [c.format(j=j) for j in (1, 2) for c in TAU_COLUMNS]
)


def mjj_of(p4: np.ndarray) -> np.ndarray:
    """Dijet mass of the two jets (n, 2, 4) [same unit as p4]."""
    return four_mass(p4[:, 0] + p4[:, 1])


@dataclass
class DijetSubstructure:
    """The two leading jets of ``n`` selected events, their constituents and N-subjettiness.

    ``cidx`` indexes the input objects: the constituents of event k's jet 1, then its jet 2, each by
    decreasing pT; ``owner`` gives each the jet slot 2k + j.
    """

    p4: np.ndarray  # (n, 2, 4) px, py, pz, E
    mass: np.ndarray  # (n, 2)
    ncons: np.ndarray  # (n, 2) constituent counts
    taus: np.ndarray  # (n, 2, N_TAU, len(DEFAULT_BETAS))
    cidx: np.ndarray  # (C,) flat constituent indices into the input objects
    owner: np.ndarray  # (C,) jet slot of each constituent

    def __len__(self) -> int:
        return len(self.p4)


def dijet_substructure(jets: LeadingJets, sel, px, py, pz, e, pt, radius: float,
                       axes: str = "kt") -> DijetSubstructure:
    """Constituents (pT-ordered) and tau_N^beta of the two leading jets of the events ``sel``.

    Parameters
    ----------
    jets : LeadingJets
        Output of ``cluster_leading_jets`` on the flat objects ``px, py, pz, e``.
    sel : (n,) int array
        Events to keep (each must have two jets).
    px, py, pz, e, pt : flat arrays of the objects [GeV]
    radius : float
        Jet radius: R0 of the N-subjettiness normalisation.
    axes : str
        N-subjettiness axes, "kt", "onepass_kt" or "wta_kt" (:func:`hepad.events.nsubjettiness.nsubjettiness`).
    """
    sel = np.asarray(sel, dtype=np.int64)
    n = len(sel)
    # Constituents of the selected events' two jets, flat, jet-major (event k: jet 1 then jet 2).
    slots = (2 * sel[:, None] + np.arange(2)).ravel()
    counts = np.diff(jets.jet_offsets)[slots]
    starts = jets.jet_offsets[:-1][slots]
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cidx = jets.index[np.repeat(starts, counts) + within]
    new_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    owner = np.repeat(np.arange(2 * n), counts)
    # Constituents ordered by decreasing pT inside each jet.
    order = np.lexsort((-pt[cidx], owner))
    cidx = cidx[order]
    taus = nsubjettiness(new_off, px[cidx], py[cidx], pz[cidx], e[cidx], n_max=N_TAU,
                         betas=DEFAULT_BETAS, r0=radius, axes=axes)
    p4 = jets.p4[sel]
    return DijetSubstructure(p4=p4, mass=four_mass(p4), ncons=counts.reshape(n, 2),
                             taus=taus.reshape(n, 2, N_TAU, len(DEFAULT_BETAS)), cidx=cidx, owner=owner)


def channel_counts(sub: DijetSubstructure, channel: np.ndarray, n_channels: int = 3) -> list[np.ndarray]:
    """Per channel c = 0..n_channels-1, the (n, 2) number of constituents of each jet in channel c.

    ``channel`` is the channel of every input object (0 track, 1 ECAL cell, 2 HCAL cell).
    """
    n = len(sub)
    chan = channel[sub.cidx]
    return [np.bincount(sub.owner, weights=(chan == c), minlength=2 * n).reshape(n, 2) for c in range(n_channels)]


def extended_table(sub: DijetSubstructure, mjj, mhat, label, chunk, event, per_channel=None) -> np.ndarray:
    """The (n, len(EXTENDED_COLUMNS)) extended features of the events of ``sub``.

    ``mjj`` [GeV], ``mhat``, ``label``, ``chunk``, ``event``: arrays of length n or scalars.
    ``per_channel``: the three (n, 2) channel counts of :func:`channel_counts`, or None (NaN).
    """
    n = len(sub)
    p4 = sub.p4
    if per_channel is None:
        per_channel = [np.full((n, 2), np.nan)] * 3
    n_tau_columns = int(np.prod(sub.taus.shape[2:]))
    jpt = np.hypot(p4[..., 0], p4[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        jeta = np.arcsinh(p4[..., 2] / jpt)
    jphi = np.arctan2(p4[..., 1], p4[..., 0])
    per_jet = np.stack([jpt, jeta, jphi, sub.mass, p4[..., 3], sub.ncons, *per_channel], axis=-1)  # (n, 2, 9)
    event_columns = [np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for v in (mjj, mhat, label, chunk, event)]
    return np.concatenate([
        np.stack(event_columns, axis=1),
        per_jet[:, 0], per_jet[:, 1],
        # explicit width: a batch without selected events (n = 0) has no -1 to infer
        sub.taus[:, 0].reshape(n, n_tau_columns), sub.taus[:, 1].reshape(n, n_tau_columns),
    ], axis=1)
