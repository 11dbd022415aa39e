"""Jet clustering with FastJet's multi-event interface: whole batches go to C++ in one call.

Inputs are flat arrays with event offsets (as ``DetectorObjects``); outputs are numpy arrays. Jets use the
E-scheme (four-momentum sum), as FastJet's default and the LHCO R&D jets.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import awkward as ak
import numpy as np


def _jagged(offsets, px, py, pz, e) -> ak.Array:
    """An awkward array of Momentum4D records per event, the input type of ``fastjet.ClusterSequence``."""
    record = ak.contents.RecordArray(
        [ak.contents.NumpyArray(np.ascontiguousarray(a, dtype=np.float64)) for a in (px, py, pz, e)],
        ["px", "py", "pz", "E"],
        parameters={"__record__": "Momentum4D"},
    )
    return ak.Array(ak.contents.ListOffsetArray(ak.index.Index64(np.asarray(offsets, dtype=np.int64)), record))


def _flat_four(jets: ak.Array) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """(offsets, (px, py, pz, E)) of a jagged jet array returned by FastJet."""
    layout = jets.layout
    offsets = np.asarray(layout.offsets, dtype=np.int64)
    rec = layout.content
    start, stop = offsets[0], offsets[-1]
    four = tuple(np.asarray(rec.content(c).data)[start:stop] for c in ("px", "py", "pz", "E"))
    return offsets - start, four


@dataclass
class LeadingJets:
    """The two leading jets per event (ordered by pT) and their constituents.

    ``p4[k, j]`` = (px, py, pz, E) of jet j (0 = leading) of event k; events with fewer than two jets have
    ``has_two`` False and zeros. Constituent ``i`` of jet j of event k is object
    ``index[jet_offsets[2k + j] + i]`` of the input (indices into the flat input arrays). ``ht[k]`` is the
    scalar pT sum of all jets of event k above the clustering's ``min_pt`` (an HT trigger's variable).
    """

    p4: np.ndarray  # (n_events, 2, 4)
    has_two: np.ndarray  # (n_events,) bool
    jet_offsets: np.ndarray  # (2 n_events + 1,) int64
    index: np.ndarray  # flat indices of constituents into the flat input arrays
    ht: np.ndarray | None = None  # (n_events,) scalar sum of the pT of all jets above min_pt

    @property
    def pt(self) -> np.ndarray:
        return np.hypot(self.p4[..., 0], self.p4[..., 1])

    @property
    def mass(self) -> np.ndarray:
        return four_mass(self.p4)


def four_mass(p4: np.ndarray) -> np.ndarray:
    """Invariant mass of four-vectors (..., 4) = (px, py, pz, E); negative m^2 from rounding gives 0."""
    m2 = p4[..., 3] ** 2 - p4[..., 0] ** 2 - p4[..., 1] ** 2 - p4[..., 2] ** 2
    return np.sqrt(np.maximum(m2, 0.0))


def cluster_leading_jets(offsets, px, py, pz, e, radius: float = 1.0, min_pt: float = 20.0) -> LeadingJets:
    """Cluster anti-kT jets of radius ``radius`` in every event and keep the two leading ones by pT (and the
    HT of all jets above ``min_pt``)."""
    import fastjet

    n_events = len(offsets) - 1
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, float(radius))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FastJet's banner/warnings are not errors here
        seq = fastjet.ClusterSequence(_jagged(offsets, px, py, pz, e), jetdef)
        jets = seq.inclusive_jets(min_pt)
        cons = seq.constituent_index(min_pt)
    jet_ev_off, (jpx, jpy, jpz, je) = _flat_four(jets)
    n_jets = np.diff(jet_ev_off)
    jet_event = np.repeat(np.arange(n_events), n_jets)
    jet_pt = np.hypot(jpx, jpy)
    # Order jets by pT within each event (FastJet's inclusive jets come unordered).
    order = np.lexsort((-jet_pt, jet_event))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(jet_ev_off[:-1], n_jets)[order]

    has_two = n_jets >= 2
    p4 = np.zeros((n_events, 2, 4))
    lead = rank < 2
    p4[jet_event[lead], rank[lead]] = np.stack([jpx, jpy, jpz, je], axis=1)[lead]

    # Constituent indices: event -> jet -> local index into the event's objects.
    outer = cons.layout
    ev_off = np.asarray(outer.offsets, dtype=np.int64)
    inner = outer.content
    jet_off = np.asarray(inner.offsets, dtype=np.int64)
    local = np.asarray(inner.content.data)
    jet_off = jet_off[ev_off[0]:ev_off[-1] + 1]
    if not np.array_equal(np.diff(ev_off), n_jets):
        raise RuntimeError("FastJet returned constituents for a different set of jets than inclusive_jets")
    n_cons = np.diff(jet_off)
    # Global index = event offset + local index; keep the constituents of the two leading jets.
    glob = local[jet_off[0]:jet_off[-1]] + np.repeat(np.asarray(offsets[:-1])[jet_event], n_cons)
    slot = np.full(2 * n_events, -1, dtype=np.int64)  # jet slot 2k + j -> position in FastJet's list
    slot[2 * jet_event[lead] + rank[lead]] = np.flatnonzero(lead)
    counts = np.where(slot >= 0, n_cons[np.maximum(slot, 0)], 0)
    out_off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    src_start = np.where(slot >= 0, jet_off[np.maximum(slot, 0)] - jet_off[0], 0)
    # Gather constituent ranges slot by slot without a Python loop.
    within = np.arange(out_off[-1]) - np.repeat(out_off[:-1], counts)
    index = glob[np.repeat(src_start, counts) + within]
    ht = np.bincount(jet_event, weights=jet_pt, minlength=n_events)
    return LeadingJets(p4=p4, has_two=has_two, jet_offsets=out_off, index=index, ht=ht)
