"""A parametrised detector response in the spirit of Delphes, vectorised over a batch of events.

Model (every number is a constructor argument, documented in config/README.md):

- Tracker: charged particles with |eta| < ``eta_max`` and pT > ``pt_min`` are reconstructed with
  probability ``efficiency``; their pT is smeared with relative resolution
  ``sigma(pT)/pT = sqrt(const^2 + (slope * pT)^2)`` (multiple scattering and curvature terms); direction
  unchanged. Muons leave only a track.
- Calorimeters: photons and electrons (without a track) hit the ECAL, every other visible particle without
  a track (neutral hadrons, and charged hadrons the tracker missed) the HCAL. Beyond the ECAL acceptance
  the (forward) HCAL takes electromagnetic particles too. Energies are summed in cells of
  ``cell_eta x cell_phi``; a cell's energy is smeared with ``sigma(E)^2 = stochastic^2 E + constant^2 E^2
  + noise^2`` (log-normal with that mean and width, so never negative); cells below ``threshold`` or
  below ``significance_min`` times sigma (evaluated at the smeared energy, as Delphes'
  ``EnergySignificanceMin``) are dropped. A cell becomes a massless object at a point drawn uniformly
  inside the cell (``smear_position``, Delphes' ``SmearTowerCenter``) or at its centre.
- Charged particles that have a track deposit nothing in the calorimeters: an ideal particle-flow
  subtraction, so no energy is counted twice. Magnetic bending and pile-up are not modelled.

Output objects (tracks, ECAL cells, HCAL cells) are massless, with ``channel`` 0, 1, 2 respectively; they
are the inputs of the jet clustering, as Delphes' energy-flow objects are for the LHCO R&D jets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TRACK, ECAL, HCAL = 0, 1, 2
CHANNEL_NAMES = {TRACK: "track", ECAL: "ecal", HCAL: "hcal"}


@dataclass(frozen=True)
class Tracker:
    """Charged-particle tracking.

    Parameters
    ----------
    eta_max : float
        Tracker acceptance |eta| < eta_max (default 2.5).
    pt_min : float
        Minimum pT of a reconstructed track [GeV] (default 0.5).
    efficiency : float
        Probability that a charged particle inside the acceptance gives a track (default 0.95).
    resolution_const : float
        Constant term of sigma(pT)/pT (default 0.01).
    resolution_slope : float
        Term growing with pT [1/GeV]: sigma(pT)/pT includes slope * pT (default 1.5e-4, 15 % at 1 TeV).
    """

    eta_max: float = 2.5
    pt_min: float = 0.5
    efficiency: float = 0.95
    resolution_const: float = 0.01
    resolution_slope: float = 1.5e-4


@dataclass(frozen=True)
class Calorimeter:
    """One calorimeter: acceptance, cell size and energy resolution.

    Parameters
    ----------
    eta_max : float
        Acceptance |eta| < eta_max.
    cell_eta, cell_phi : float
        Cell size in eta and in phi [rad]; phi is split into round(2 pi / cell_phi) equal cells.
    stochastic : float
        Stochastic term a of sigma(E) = sqrt(a^2 E + b^2 E^2 + c^2) [sqrt(GeV)].
    constant : float
        Constant term b.
    noise : float
        Noise term c [GeV] (applied to cells with a deposit only).
    threshold : float
        Cells with a smeared energy below this are dropped [GeV].
    significance_min : float
        Cells whose smeared energy E is below ``significance_min * sigma(E)`` are dropped too (Delphes'
        ``EnergySignificanceMin``, 2 in its CMS and ATLAS cards; 0 keeps every cell above ``threshold``).
    smear_position : bool
        Place a cell's object at a uniformly drawn point inside the cell (Delphes' ``SmearTowerCenter``, on
        in its CMS and ATLAS cards), not at the cell centre.
    """

    eta_max: float
    cell_eta: float
    cell_phi: float
    stochastic: float
    constant: float
    noise: float
    threshold: float
    significance_min: float
    smear_position: bool

    def sigma(self, energy: np.ndarray) -> np.ndarray:
        """Energy resolution sigma(E) [GeV] of a cell with energy E [GeV]."""
        return np.sqrt(self.stochastic ** 2 * energy + (self.constant * energy) ** 2 + self.noise ** 2)

    @property
    def n_eta(self) -> int:
        return int(np.ceil(2 * self.eta_max / self.cell_eta - 1e-9))

    @property
    def n_phi(self) -> int:
        return max(1, int(round(2 * np.pi / self.cell_phi)))


DEFAULT_ECAL = Calorimeter(eta_max=3.0, cell_eta=0.0174, cell_phi=0.0174, stochastic=0.10, constant=0.01,
                           noise=0.0, threshold=0.5, significance_min=2.0,
                           smear_position=True)
DEFAULT_HCAL = Calorimeter(eta_max=5.0, cell_eta=0.087, cell_phi=0.087, stochastic=1.0, constant=0.05,
                           noise=0.0, threshold=1.0, significance_min=2.0,
                           smear_position=True)


@dataclass
class DetectorObjects:
    """Reconstructed objects of a batch of events, flat with event offsets; massless (y = eta)."""

    offsets: np.ndarray  # (n_events + 1,) int64
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    channel: np.ndarray  # int8: 0 track, 1 ECAL cell, 2 HCAL cell
    charge: np.ndarray  # int8: track charge, 0 for cells

    @property
    def n_events(self) -> int:
        return len(self.offsets) - 1

    def four_momenta(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(px, py, pz, E) of the massless objects."""
        return (self.pt * np.cos(self.phi), self.pt * np.sin(self.phi),
                self.pt * np.sinh(self.eta), self.pt * np.cosh(self.eta))


def lognormal_smear(mean: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw log-normal values with the given means and standard deviations (positive, unbiased mean)."""
    s2 = np.log1p((sigma / mean) ** 2)
    return mean * np.exp(np.sqrt(s2) * rng.standard_normal(len(mean)) - 0.5 * s2)


@dataclass(frozen=True)
class Detector:
    """The detector response: ``respond(final_state, rng)`` turns particles into reconstructed objects.

    Parameters
    ----------
    tracker : Tracker
    ecal : Calorimeter
        Default: |eta| < 3.0, cells 0.0174 x 0.0174, sigma(E)/E = 10 %/sqrt(E) (+) 1 %, threshold 0.5 GeV
        and 2 sigma.
    hcal : Calorimeter
        Default: |eta| < 5.0, cells 0.087 x 0.087, sigma(E)/E = 100 %/sqrt(E) (+) 5 %, threshold 1 GeV
        and 2 sigma (so about 4 GeV).
    """

    tracker: Tracker = field(default_factory=Tracker)
    ecal: Calorimeter = DEFAULT_ECAL
    hcal: Calorimeter = DEFAULT_HCAL

    def __post_init__(self):
        check_detector(self)

    @classmethod
    def from_config(cls, cfg: dict) -> "Detector":
        """Build from the ``generation.detector`` config mapping (keys as the constructor arguments)."""
        return cls(tracker=Tracker(**cfg["tracker"]), ecal=Calorimeter(**cfg["ecal"]), hcal=Calorimeter(**cfg["hcal"]))

    def respond(self, offsets, px, py, pz, e, pid, charge, rng: np.random.Generator) -> DetectorObjects:
        """Reconstructed objects of a batch of events given flat visible final-state particle arrays.

        ``offsets`` (n_events + 1) delimit the events in the flat arrays. Every random number comes from
        ``rng`` in a fixed order, so a seed reproduces the output exactly.
        """
        n_events = len(offsets) - 1
        event = np.repeat(np.arange(n_events), np.diff(offsets))
        pt = np.hypot(px, py)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.where(pt > 0, np.arcsinh(pz / np.where(pt > 0, pt, 1.0)), np.sign(pz) * np.inf)
        phi = np.arctan2(py, px)
        abs_pid = np.abs(pid)
        charged = charge != 0
        trk = self.tracker

        u_eff = rng.random(len(pt))
        tracked = charged & (np.abs(eta) < trk.eta_max) & (pt > trk.pt_min) & (u_eff < trk.efficiency)
        t_pt = pt[tracked]
        t_sigma = t_pt * np.sqrt(trk.resolution_const ** 2 + (trk.resolution_slope * t_pt) ** 2)
        t_pt = lognormal_smear(t_pt, t_sigma, rng)

        # Muons leave no calorimeter energy worth modelling; neutrinos nothing at all (callers normally
        # pass visible particles only, this is a safety net).
        invisible = (abs_pid == 12) | (abs_pid == 14) | (abs_pid == 16)
        untracked = ~tracked & (abs_pid != 13) & ~invisible
        em = untracked & ((abs_pid == 22) | (abs_pid == 11))
        in_ecal = em & (np.abs(eta) < self.ecal.eta_max)
        in_hcal = untracked & ~in_ecal & (np.abs(eta) < self.hcal.eta_max)

        parts = [(event[tracked], t_pt, eta[tracked], phi[tracked], TRACK, np.sign(charge[tracked]))]
        for calo, sel, chan in ((self.ecal, in_ecal, ECAL), (self.hcal, in_hcal, HCAL)):
            c_event, c_pt, c_eta, c_phi = self._cells(calo, event[sel], e[sel], eta[sel], phi[sel], n_events, rng)
            parts.append((c_event, c_pt, c_eta, c_phi, chan, np.zeros(len(c_pt))))

        all_event = np.concatenate([p[0] for p in parts])
        order = np.argsort(all_event, kind="stable")
        counts = np.bincount(all_event, minlength=n_events)
        return DetectorObjects(
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            pt=np.concatenate([p[1] for p in parts])[order],
            eta=np.concatenate([p[2] for p in parts])[order],
            phi=np.concatenate([p[3] for p in parts])[order],
            channel=np.concatenate([np.full(len(p[1]), p[4], dtype=np.int8) for p in parts])[order],
            charge=np.concatenate([p[5] for p in parts]).astype(np.int8)[order],
        )

    @staticmethod
    def _cells(calo: Calorimeter, event, energy, eta, phi, n_events, rng):
        """Sum energies into cells, smear, apply the thresholds; return (event, pT, eta, phi) of the cells."""
        n_eta, n_phi = calo.n_eta, calo.n_phi
        i_eta = np.clip(((eta + calo.eta_max) / (2 * calo.eta_max) * n_eta).astype(np.int64), 0, n_eta - 1)
        i_phi = (((phi + np.pi) / (2 * np.pi) * n_phi).astype(np.int64)) % n_phi
        key = (event.astype(np.int64) * n_eta + i_eta) * n_phi + i_phi
        cells, inverse = np.unique(key, return_inverse=True)
        e_true = np.bincount(inverse, weights=energy, minlength=len(cells))
        e_meas = lognormal_smear(e_true, calo.sigma(e_true), rng)
        # Delphes compares the smeared energy with the resolution at that energy.
        keep = (e_meas > calo.threshold) & (e_meas >= calo.significance_min * calo.sigma(e_meas))
        cells, e_meas = cells[keep], e_meas[keep]
        c_phi_idx = cells % n_phi
        c_eta_idx = (cells // n_phi) % n_eta
        c_event = cells // (n_phi * n_eta)
        # Where in the cell the object sits: drawn uniformly (Delphes' SmearTowerCenter) or the centre.
        u_eta, u_phi = (rng.random((2, len(cells))) if calo.smear_position else np.full((2, len(cells)), 0.5))
        c_eta = -calo.eta_max + (c_eta_idx + u_eta) * (2 * calo.eta_max / n_eta)
        c_phi = -np.pi + (c_phi_idx + u_phi) * (2 * np.pi / n_phi)
        return c_event, e_meas / np.cosh(c_eta), c_eta, c_phi


def check_detector(det: Detector) -> None:
    """Raise ``ValueError`` naming the first unphysical detector parameter."""
    from dataclasses import asdict

    from hepad.events.checks import detector_problem

    problem = detector_problem(asdict(det.tracker), asdict(det.ecal), asdict(det.hcal))
    if problem:
        raise ValueError(problem)
