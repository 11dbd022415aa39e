"""Pythia 8 settings per process and a batch event loop that returns final-state particles as numpy arrays.

``pythia8mc`` (8.317) exposes ``Pythia.nextBatch``, which generates a batch of events in C++ and hands
them over as one awkward array; the final-state selection below is done with numpy on its flat buffers, so
no Python code runs per particle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepad.events.process import PYTHIA_SEED_MAX, Process

SQRT_S_GEV = 13000.0

# Quiet Pythia: the chunk log gets our own one-line summaries instead of the long init tables.
_COMMON = [
    f"Beams:eCM = {SQRT_S_GEV:g}",
    "Print:quiet = on",
    "Random:setSeed = on",
]


def _hadronic(pid: int, mass: float, window: float) -> list[str]:
    """Redefine a resonance's mass with a mass window and close every decay but those to quarks (no top)."""
    return [
        f"{pid}:m0 = {mass:g}",
        f"{pid}:mMin = {mass * (1 - window):g}",
        f"{pid}:mMax = {mass * (1 + window):g}",
        f"{pid}:onMode = off",
        f"{pid}:onIfAny = 1 2 3 4 5",
        f"{pid}:offIfAny = 6",
    ]


def process_settings(process: Process, pthat_min: float, qcd_sr_mhat: tuple[float, float] | None = None,
                     resonance_window: float = 0.5, mpi: bool = True) -> list[str]:
    """The Pythia ``readString`` lines of a process (without the seed).

    Parameters
    ----------
    process : Process
        What to generate (see ``hepad.events.process``).
    pthat_min : float
        ``PhaseSpace:pTHatMin`` of the QCD samples [GeV]; it must lie safely below the trigger threshold.
    qcd_sr_mhat : (float, float)
        Hard-process mass window of ``qcd_sr`` [GeV].
    resonance_window : float
        X and Y masses are generated within ``m (1 -+ window)`` around their pole mass.
    mpi : bool
        Pythia's multi-parton interactions (its own default: on). The LHCO R&D features are matched
        without them (docs/data.md), which is what ``generation.mpi`` sets for the generation stage.
    """
    lines = _process_lines(process, pthat_min, qcd_sr_mhat, resonance_window)
    return lines if mpi else lines + ["PartonLevel:MPI = off"]


def _process_lines(process: Process, pthat_min: float, qcd_sr_mhat, resonance_window: float) -> list[str]:
    if process.kind == "qcd":
        return _COMMON + ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {pthat_min:g}"]
    if process.kind == "qcd_sr":
        if qcd_sr_mhat is None:
            raise ValueError("qcd_sr needs the hard-process mass window qcd_sr_mhat")
        low, high = qcd_sr_mhat
        lines = _COMMON + ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {pthat_min:g}"]
        # Only a real restriction goes to Pythia (mHat >= 2 pTHatMin anyway; 13 TeV is the beam energy).
        if low > 2 * pthat_min:
            lines.append(f"PhaseSpace:mHatMin = {low:g}")
        if high < SQRT_S_GEV:
            lines.append(f"PhaseSpace:mHatMax = {high:g}")
        return lines
    # W' -> W Z with the W and Z redefined as X (mass mX) and Y (mass mY), both hadronic (docs/data.md).
    lines = _COMMON + [
        "NewGaugeBoson:ffbar2Wprime = on",
        f"34:m0 = {process.mwprime:g}",
        "Wprime:coup2WZ = 1",
        "34:onMode = off",
        "34:onIfAll = 24 23",
    ]
    lines += _hadronic(23, process.my, resonance_window)
    if process.prongs == 2:
        lines += _hadronic(24, process.mx, resonance_window)
    else:
        # X -> qqq: the W+ (charge +1) decays to u u d, a colour singlet of three quarks joined by a string
        # junction, isotropic in phase space (meMode 100: branching ratio as given). Its width is fixed
        # at the two-prong value so the line shape matches the two-prong sample.
        width = 2.085 * process.mx / 80.385
        lines += [
            f"24:m0 = {process.mx:g}",
            f"24:mWidth = {width:g}",
            f"24:mMin = {process.mx * (1 - resonance_window):g}",
            f"24:mMax = {process.mx * (1 + resonance_window):g}",
            "24:oneChannel = 1 1.0 100 2 2 1",
        ]
    return lines


@dataclass
class FinalState:
    """Visible final-state particles of a batch of events, flat, with event offsets.

    Particle ``i`` of event ``k`` sits at ``offsets[k] + i``; ``charge`` is in units of e.
    """

    offsets: np.ndarray  # (n_events + 1,) int64
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    pid: np.ndarray  # int32 PDG id
    charge: np.ndarray  # float64
    mhat: np.ndarray  # (n_events,) hard-process mass [GeV]

    @property
    def n_events(self) -> int:
        return len(self.offsets) - 1


class PythiaGenerator:
    """A seeded Pythia 8 instance that generates batches of events as ``FinalState`` arrays.

    Parameters
    ----------
    settings : list of str
        ``readString`` lines (``process_settings``); the seed is added here.
    seed : int
        ``Random:seed`` in 1..900000000.
    """

    def __init__(self, settings: list[str], seed: int):
        import pythia8mc  # imported here so the rest of the package works without it

        if not 1 <= int(seed) <= PYTHIA_SEED_MAX:
            raise ValueError(f"Pythia seed {seed} outside 1..{PYTHIA_SEED_MAX}")
        self.pythia = pythia8mc.Pythia("", False)
        for line in list(settings) + [f"Random:seed = {int(seed)}"]:
            if not self.pythia.readString(line):
                raise ValueError(f"Pythia rejected the setting {line!r}")
        if not self.pythia.init():
            raise RuntimeError("Pythia initialisation failed (see the messages above); check the process settings")
        self._data = self.pythia.particleData
        self._known_ids = np.zeros(0, dtype=np.int32)
        self._known_charge = np.zeros(0)
        self._known_visible = np.zeros(0, dtype=bool)

    def _lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Charge and visibility per particle, from a small table of PDG ids kept sorted."""
        pos = np.searchsorted(self._known_ids, ids)
        pos_c = np.minimum(pos, len(self._known_ids) - 1) if len(self._known_ids) else pos
        hit = (pos < len(self._known_ids)) & (self._known_ids[pos_c] == ids) if len(self._known_ids) else np.zeros(len(ids), bool)
        if not hit.all():
            new = np.unique(ids[~hit])
            ids_all = np.concatenate([self._known_ids, new.astype(np.int32)])
            charge = np.concatenate([self._known_charge, [self._data.charge(int(i)) for i in new]])
            visible = np.concatenate([self._known_visible, [bool(self._data.isVisible(int(i))) for i in new]])
            order = np.argsort(ids_all)
            self._known_ids, self._known_charge, self._known_visible = ids_all[order], charge[order], visible[order]
            pos = np.searchsorted(self._known_ids, ids)
        return self._known_charge[pos], self._known_visible[pos]

    def generate(self, n_events: int) -> FinalState:
        """Generate ``n_events`` events (failed ones are skipped by Pythia) and return their visible final state."""
        return self.generate_with_stable(n_events, ())[0]

    def generate_with_stable(self, n_events: int, stable_ids) -> tuple[FinalState, FinalState]:
        """Like ``generate``, and also the final-state particles whose PDG id is in ``stable_ids`` (particles
        kept undecayed with ``<id>:mayDecay = off``, e.g. a scalar decayed by our own code), as a second
        ``FinalState`` over the same events (its ``charge`` is Pythia's; they are left out of the first)."""
        import awkward as ak

        batch = self.pythia.nextBatch(int(n_events), "skip")
        prt = batch.prt.layout
        offsets = np.asarray(prt.offsets, dtype=np.int64)
        record = prt.content
        # Flat particle buffers of the whole batch; offsets may not start at 0.
        start, stop = offsets[0], offsets[-1]
        status = np.asarray(record.content("status").data)[start:stop]
        ids = np.asarray(record.content("id").data)[start:stop]
        mom = record.content("p")
        px, py, pz, e = (np.asarray(mom.content(c).data)[start:stop] for c in ("px", "py", "pz", "e"))
        n = len(offsets) - 1
        event_of = np.repeat(np.arange(n), np.diff(offsets))
        mhat = ak.to_numpy(batch.info.mHat).astype(np.float64)
        final = status > 0
        special = final & np.isin(ids, np.asarray(list(stable_ids), dtype=ids.dtype))
        final &= ~special
        charge, visible = self._lookup(ids[final])
        keep = np.flatnonzero(final)[visible]

        def pick(rows, q):
            counts = np.bincount(event_of[rows], minlength=n)
            return FinalState(offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                              px=px[rows], py=py[rows], pz=pz[rows], e=e[rows], pid=ids[rows].astype(np.int32),
                              charge=q, mhat=mhat)

        rows = np.flatnonzero(special)
        return pick(keep, charge[visible]), pick(rows, self._lookup(ids[rows])[0])

    def cross_section(self) -> tuple[float, float]:
        """Estimated cross section and its error so far [mb]."""
        info = self.pythia.infoPython()
        return float(info.sigmaGen()), float(info.sigmaErr())

    def n_tried(self) -> int:
        return int(self.pythia.infoPython().nAccepted())
