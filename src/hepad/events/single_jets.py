"""Boosted single jets for the mimicker study, generated with the chain of the generation stage:
Pythia 8 (``hepad.events.pythia.PythiaGenerator``) -> detector response (``hepad.events.detector``) ->
anti-kT jets (``hepad.events.jets``) -> the leading jet if 550 <= pT <= 650 GeV (configurable).

Process names (the masses are part of the name, so samples with other masses coexist as files):

- ``qcd``: QCD 2 -> 2 (``HardQCD:all``), the background;
- ``top_{mt}_{mw}``: t tbar with t -> b W, W -> q q' (three prongs), top mass mt and W mass mw in GeV.
  The paper's h3 samples (a light scalar h3 of 174 GeV decaying to three partons through an
  intermediate h2 of 80 or 20 GeV) are generated with this same cascade: h3 -> q h2, h2 -> q q' has
  the three-parton, two-step mass structure of those samples (a colour-singlet h3 cannot go to a
  colour-singlet h2 plus one parton in Pythia's string model; spin correlations of the original are
  not reproduced);
- ``w_{mw}``: W+ W- pairs (``WeakDoubleBoson:ffbar2WW``), W -> q q' (two prongs), W mass mw in GeV.

All processes use the same hard-process window ``pthat_min .. pthat_max`` around the jet pT window, so
the leading jet is the boosted object of interest (tops and Ws are produced in pairs, back to back).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import numpy as np

from hepad.events.mimicker_io import JetSample
from hepad.io import InputError

PROCESS_REGEX = r"qcd|top_[0-9]+_[0-9]+|w_[0-9]+"
_TOP = re.compile(r"top_([0-9]+)_([0-9]+)")
_W = re.compile(r"w_([0-9]+)")
BATCH_EVENTS = 100
MAX_TRIES_PER_EVENT = 200
B_MASS = 4.8


@dataclass(frozen=True)
class SingleJetSettings:
    """What decides a chunk's content (the ``mimickers.generation`` config section)."""

    seed: int = 1
    pt_min: float = 550.0
    pt_max: float = 650.0
    pthat_min: float = 450.0
    pthat_max: float = 750.0
    jet_radius: float = 1.0
    mass_window: float = 0.3  # resonances generated within m (1 -+ window)


def _hadronic_w(mw: float, window: float) -> list[str]:
    return [f"24:m0 = {mw:g}", f"24:mMin = {mw * (1 - window):g}", f"24:mMax = {mw * (1 + window):g}",
            "24:onMode = off", "24:onIfAny = 1 2 3 4 5", "24:offIfAny = 6"]


def process_settings(name: str, settings: SingleJetSettings) -> list[str]:
    """Pythia ``readString`` lines of a single-jet process (without the seed); ``ValueError`` if unknown."""
    common = ["Beams:eCM = 13000", "Print:quiet = on", "Random:setSeed = on",
              f"PhaseSpace:pTHatMin = {settings.pthat_min:g}", f"PhaseSpace:pTHatMax = {settings.pthat_max:g}"]
    w = settings.mass_window
    if name == "qcd":
        return common + ["HardQCD:all = on"]
    match = _TOP.fullmatch(name)
    if match:
        mt, mw = map(float, match.groups())
        if mw + B_MASS >= mt * (1 - w) or mw < 10:
            raise ValueError(f"process {name}: need 10 <= mW and mW + m_b < mt (1 - {w}) so t -> b W is open")
        return common + ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", f"6:m0 = {mt:g}",
                         f"6:mMin = {mt * (1 - w):g}", f"6:mMax = {mt * (1 + w):g}",
                         "6:onMode = off", "6:onIfAll = 5 24"] + _hadronic_w(mw, min(w, 0.9 * (1 - (mw + B_MASS) / mt)))
    match = _W.fullmatch(name)
    if match:
        mw = float(match.group(1))
        if mw < 10:
            raise ValueError(f"process {name}: the W mass must be at least 10 GeV")
        return common + ["WeakDoubleBoson:ffbar2WW = on"] + _hadronic_w(mw, w)
    raise ValueError(f"unknown single-jet process {name!r}; allowed: qcd, top_<mt>_<mW>, w_<mW> (GeV)")


def generate_single_jets(process: str, chunk: int, n_jets: int, settings: SingleJetSettings,
                         detector=None, log: logging.Logger | None = None) -> tuple[JetSample, dict]:
    """``n_jets`` leading jets in the pT window from one seeded chunk; (sample, metadata)."""
    from hepad.events.detector import Detector
    from hepad.events.jets import cluster_leading_jets
    from hepad.events.process import chunk_seed, detector_seed
    from hepad.events.pythia import PythiaGenerator

    log = log or logging.getLogger(__name__)
    try:
        lines = process_settings(process, settings)
    except ValueError as err:
        raise InputError(str(err))
    detector = detector or Detector()
    seed = chunk_seed(settings.seed, f"single_jets/{process}", chunk)
    gen = PythiaGenerator(lines, seed)
    rng = np.random.default_rng(detector_seed(settings.seed, f"single_jets/{process}", chunk))
    parts: list[JetSample] = []
    n_generated = n_accepted = 0
    t0 = time.perf_counter()
    while n_accepted < n_jets:
        if n_generated > MAX_TRIES_PER_EVENT * n_jets + 10_000:
            raise InputError(f"{process}: only {n_accepted} of {n_generated} events have a leading jet with "
                             f"{settings.pt_min} <= pT <= {settings.pt_max} GeV; widen the pT window or "
                             "move pthat_min/pthat_max around it")
        fs = gen.generate(BATCH_EVENTS)
        n_generated += fs.n_events
        obj = detector.respond(fs.offsets, fs.px, fs.py, fs.pz, fs.e, fs.pid, fs.charge, rng)
        px, py, pz, e = obj.four_momenta()
        jets = cluster_leading_jets(obj.offsets, px, py, pz, e, radius=settings.jet_radius)
        lead_pt = jets.pt[:, 0]
        passed = np.flatnonzero((lead_pt >= settings.pt_min) & (lead_pt <= settings.pt_max))
        slots = 2 * passed  # the leading jet of each passing event
        counts = np.diff(jets.jet_offsets)[slots]
        starts = jets.jet_offsets[:-1][slots]
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        idx = jets.index[np.repeat(starts, counts) + within]
        off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        parts.append(JetSample(off, obj.pt[idx], obj.eta[idx], obj.phi[idx], np.zeros(len(idx))))
        n_accepted += len(passed)
        if len(parts) % 20 == 0:
            log.info("%s chunk %d: %d generated, %d accepted, %.1f events/s", process, chunk, n_generated,
                     n_accepted, n_generated / (time.perf_counter() - t0))
    from hepad.events.mimicker_io import concatenate

    sample = concatenate(parts).head(n_jets)
    sigma, sigma_err = gen.cross_section()
    meta = {"process": process, "chunk": int(chunk), "pythia_seed": int(seed), "n_generated": int(n_generated),
            "n_accepted": int(sample.n_jets), "sigma_mb": sigma, "sigma_err_mb": sigma_err,
            "seconds": time.perf_counter() - t0}
    sample.attrs = {"source": f"generated:{process}", "pythia_settings": "\n".join(lines)}
    log.info("%s chunk %d: %d jets from %d events in %.1f s", process, chunk, sample.n_jets, n_generated,
             meta["seconds"])
    return sample, meta
