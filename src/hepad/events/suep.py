"""Soft unclustered energy patterns (SUEP): the thermal decay of a heavy scalar into dark mesons (docs/codae.md).

The model of the CoDAE paper's SUEP signals (sample names ``h{mass}_phi2_dp0p7_dt2``), after the SUEP
generator of Knapen, Pagan Griso, Papucci, Robinson, "Triggering soft bombs at the LHC", arXiv:1612.00850:

1. **Thermal dark mesons.** A scalar of mass M decays, in its rest frame, into dark mesons φ of mass
   ``m_meson`` whose momenta follow the Maxwell–Jüttner distribution at temperature T,
   f(p) ∝ p² exp(−√(p² + m²) / T), with isotropic directions. Momenta are drawn until their energies
   exceed M; the set is kept (the last meson dropped if the masses alone would exceed M). Four-momentum is
   then conserved exactly as in the generator: the mean momentum is subtracted from every meson (Σ p = 0)
   and all momenta are scaled by the one factor x solving Σ √(m² + x² |p_i|²) = M (Brent's method).
2. **Dark photons.** Each φ → A' A' (mass ``m_dark_photon``), isotropic in the φ rest frame.
3. **Standard-model pairs.** Each A' decays like a kinetically mixed dark photon of its mass, isotropically in
   its rest frame, to e+e−, μ+μ− or π+π− (:func:`dark_photon_branching_ratios`):

   - Γ(A' → ℓ+ℓ−) ∝ (1 + 2 m_ℓ²/m²) √(1 − 4 m_ℓ²/m²) (the ε² α m / 3 prefactor cancels in ratios);
   - Γ(A' → hadrons) = Γ(A' → μ+μ−, massless) · R(m²), with R = σ(e+e− → hadrons) / σ_pt(e+e− → μ+μ−);
     below 1 GeV only π+π− counts here: R_ππ(s) = β_π³ |F_π(s)|² / 4 with the ρ(770) Breit–Wigner form
     factor |F_π|² = m_ρ⁴ / ((m_ρ² − s)² + m_ρ² Γ_ρ²) (m_ρ = 0.775 GeV, Γ_ρ = 0.149 GeV; no ω–ρ
     interference, no 3π through the ω, no KK, 4π: a table for 2 m_e < m ≤ 1 GeV).

   The table at the paper's m_A' = 0.7 GeV (what this gives; printed by ``python -m hepad.events.suep``):

   | decay | e+e− | μ+μ− | π+π− |
   | --- | --- | --- | --- |
   | BR at 0.7 GeV | 0.212 | 0.211 | 0.577 |

Defaults: T = 2 GeV, m_φ = 2 GeV, m_A' = 0.7 GeV (the paper's ``phi2_dp0p7_dt2``). Four-vectors are arrays
(n, 4) of (E, px, py, pz) in GeV. ``hepad.events.dark_showers`` uses it for the ``suep_<mH>`` processes:
Pythia makes the scalar (undecayed) with the rest of the event, :func:`decay_suep` decays it at its
own four-momentum (``scalar=``) and the products join the event's final state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import kve

M_E, M_MU, M_PI = 0.000511, 0.105658, 0.139570  # GeV
M_RHO, GAMMA_RHO = 0.775, 0.149  # GeV
PAIRS = {"e": (11, M_E), "mu": (13, M_MU), "pi": (211, M_PI)}  # decay -> (PDG id of one daughter, mass); the other: -id
SUEP_MASSES = (125, 200, 300, 400, 700, 1000)  # the paper's mH [GeV]


def suep_process_name(mass: int) -> str:
    return f"suep_{int(mass)}"


@dataclass(frozen=True)
class SuepParams:
    """The dark sector: temperature T, dark-meson mass m_φ and dark-photon mass m_A' [GeV]."""

    temperature: float = 2.0
    m_meson: float = 2.0
    m_dark_photon: float = 0.7

    def __post_init__(self):
        if not (self.temperature > 0 and self.m_meson > 0 and self.m_dark_photon > 0):
            raise ValueError(f"SUEP parameters must be positive: {self}")
        if self.m_meson <= 2 * self.m_dark_photon:
            raise ValueError(f"φ → A'A' needs m_meson > 2 m_dark_photon, got {self.m_meson} and {self.m_dark_photon}")
        if not 2 * M_E < self.m_dark_photon <= 1.0:
            raise ValueError(f"the dark-photon decay table covers 2 m_e < m_A' <= 1 GeV, got {self.m_dark_photon}")


# ------------------------------------------------------------------------------------------ Maxwell–Jüttner

def mj_mean_momentum(temperature: float, mass: float) -> float:
    """<|p|> of the Maxwell–Jüttner distribution, closed form: ∫ p³ e^{−E/T} dp / ∫ p² e^{−E/T} dp.

    Numerator (p dp = E dE): ∫_m^∞ (E³ − m² E) e^{−E/T} dE, with ∫_m^∞ E^n e^{−E/T} dE = T e^{−m/T}
    Σ_k n!/(n−k)! m^{n−k} T^k; denominator m² T K₂(m/T)."""
    t, m = float(temperature), float(mass)

    def moment(n):
        return t * sum(math.factorial(n) / math.factorial(n - k) * m ** (n - k) * t ** k for k in range(n + 1))

    # Both integrals carry e^{−m/T}; K₂ is scaled by it too (kn(2, x) e^{x}) so that large m/T stays finite.
    numerator = moment(3) - m * m * moment(1)
    denominator = m * m * t * kve(2, m / t)
    return numerator / denominator


class MaxwellJuttner:
    """Sampler of |p| from f(p) ∝ p² exp(−√(p² + m²)/T) by the inverse of its tabulated CDF (fine grid up to
    where the tail is below 1e-14)."""

    def __init__(self, temperature: float, mass: float, points: int = 20001):
        t, m = float(temperature), float(mass)
        p_max = 40.0 * t + 4.0 * math.sqrt(m * t) + 1.0
        p = np.linspace(0.0, p_max, points)
        e = np.sqrt(p * p + m * m)
        pdf = p * p * np.exp(-(e - m) / t)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(p))])
        self.p, self.cdf = p, cdf / cdf[-1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.interp(rng.random(n), self.cdf, self.p)


def isotropic(n: int, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors, uniform on the sphere."""
    cos = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    sin = np.sqrt(1.0 - cos * cos)
    return np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=1)


def meson_momenta(mass: float, params: SuepParams, rng: np.random.Generator, sampler=None) -> np.ndarray:
    """Dark-meson four-momenta (n, 4) in the scalar's rest frame, summing to (M, 0, 0, 0) to rounding."""
    m = params.m_meson
    if mass <= 2 * m:
        raise ValueError(f"a scalar of {mass} GeV cannot decay to two or more dark mesons of {m} GeV")
    sampler = sampler or MaxwellJuttner(params.temperature, m)
    # Draws in blocks of about the expected count, kept up to the first whose energy sum reaches M (the same
    # sequence of independent draws as one at a time).
    block = int(mass / (m + 3 * params.temperature)) + 8
    momenta = np.zeros((0, 3))
    energy = np.zeros(0)
    while energy.sum() < mass:
        p = sampler.sample(block, rng)
        momenta = np.vstack([momenta, p[:, None] * isotropic(block, rng)])
        energy = np.concatenate([energy, np.sqrt(p * p + m * m)])
    n = int(np.searchsorted(np.cumsum(energy), mass)) + 1  # the first n reach M
    if n * m >= mass or n < 2:  # the masses alone would use up M: drop the last one
        n -= 1
    q = momenta[:n]
    if len(q) < 2:
        q = np.vstack([q, -q]) if len(q) else np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])
    q = q - q.mean(axis=0)  # Σ p = 0
    p2 = np.einsum("ij,ij->i", q, q)

    def excess(x):
        return np.sqrt(m * m + x * x * p2).sum() - mass

    hi = 1.0
    while excess(hi) < 0:
        hi *= 2.0
    x = brentq(excess, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
    q = x * q
    return np.column_stack([np.sqrt(m * m + np.einsum("ij,ij->i", q, q)), q])


# ------------------------------------------------------------------------------------------ decays

def boost(p4: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Boost four-vectors ``p4`` (n, 4), given in the rest frame of ``frame`` (n, 4) or (4,), to the frame in
    which ``frame`` has its four-momentum."""
    p4 = np.atleast_2d(p4)
    frame = np.broadcast_to(np.asarray(frame, float), p4.shape)
    mass = np.sqrt(np.maximum(frame[:, 0] ** 2 - np.einsum("ij,ij->i", frame[:, 1:], frame[:, 1:]), 0.0))
    beta = frame[:, 1:] / frame[:, :1]
    gamma = frame[:, 0] / mass
    bp = np.einsum("ij,ij->i", beta, p4[:, 1:])
    b2 = np.einsum("ij,ij->i", beta, beta)
    coef = np.where(b2 > 0, (gamma - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    energy = gamma * (p4[:, 0] + bp)
    vec = p4[:, 1:] + (coef * bp + gamma * p4[:, 0])[:, None] * beta
    return np.column_stack([energy, vec])


def two_body_decay(parents: np.ndarray, m1: float, m2: float, rng: np.random.Generator):
    """Isotropic decays of ``parents`` (n, 4) to masses m1, m2: the two daughters' four-momenta (n, 4) each."""
    parents = np.atleast_2d(parents)
    n = len(parents)
    mass = np.sqrt(np.maximum(parents[:, 0] ** 2 - np.einsum("ij,ij->i", parents[:, 1:], parents[:, 1:]), 0.0))
    if (mass <= m1 + m2).any():
        raise ValueError(f"a parent of mass {mass.min()} cannot decay to {m1} + {m2}")
    p = np.sqrt((mass ** 2 - (m1 + m2) ** 2) * (mass ** 2 - (m1 - m2) ** 2)) / (2 * mass)
    direction = isotropic(n, rng) * p[:, None]
    d1 = np.column_stack([np.sqrt(m1 * m1 + p * p), direction])
    d2 = np.column_stack([np.sqrt(m2 * m2 + p * p), -direction])
    return boost(d1, parents), boost(d2, parents)


def dark_photon_branching_ratios(m: float) -> dict:
    """BR(A' → e+e−, μ+μ−, π+π−) of a kinetically mixed dark photon of mass ``m`` [GeV] (module docstring)."""
    if not 2 * M_E < m <= 1.0:
        raise ValueError(f"the dark-photon decay table covers 2 m_e < m <= 1 GeV, got {m}")
    s = m * m

    def lepton(ml):
        r = 4 * ml * ml / s
        return (1 + r / 2) * math.sqrt(1 - r) if r < 1 else 0.0

    r_pi = 4 * M_PI ** 2 / s
    form = M_RHO ** 4 / ((M_RHO ** 2 - s) ** 2 + M_RHO ** 2 * GAMMA_RHO ** 2)
    widths = {"e": lepton(M_E), "mu": lepton(M_MU), "pi": 0.25 * (1 - r_pi) ** 1.5 * form if r_pi < 1 else 0.0}
    total = sum(widths.values())
    return {k: v / total for k, v in widths.items()}


@dataclass
class SuepDecay:
    """One SUEP decay: the dark mesons, the dark photons and the final SM particles (four-momenta (n, 4), in
    the frame of the scalar's four-momentum given to :func:`decay_suep`) with the PDG ids of the last."""

    mesons: np.ndarray
    dark_photons: np.ndarray
    final: np.ndarray
    pid: np.ndarray


def decay_suep(mass: float, params: SuepParams = SuepParams(), rng: np.random.Generator | None = None,
               scalar: np.ndarray | None = None, sampler=None) -> SuepDecay:
    """The whole cascade H → φ…φ → (A'A')… → SM pairs of a scalar of ``mass``; ``scalar`` (E, px, py, pz)
    boosts it from the rest frame to the frame where the scalar has that four-momentum."""
    rng = rng if rng is not None else np.random.default_rng()
    mesons = meson_momenta(mass, params, rng, sampler)
    a1, a2 = two_body_decay(mesons, params.m_dark_photon, params.m_dark_photon, rng)
    photons = np.concatenate([a1, a2])
    br = dark_photon_branching_ratios(params.m_dark_photon)
    names = list(br)
    choice = rng.choice(len(names), size=len(photons), p=[br[k] for k in names])
    final, pid = [], []
    for k, name in enumerate(names):
        sel = choice == k
        if not sel.any():
            continue
        code, m = PAIRS[name]
        f1, f2 = two_body_decay(photons[sel], m, m, rng)
        final += [f1, f2]
        pid += [np.full(len(f1), code), np.full(len(f2), -code)]
    final, pid = np.concatenate(final), np.concatenate(pid)
    if scalar is not None:
        mesons, photons, final = (boost(x, scalar) for x in (mesons, photons, final))
    return SuepDecay(mesons=mesons, dark_photons=photons, final=final, pid=pid)


if __name__ == "__main__":  # pragma: no cover - prints the table of the module docstring
    for mass in (0.3, 0.5, 0.7, 1.0):
        print(mass, {k: round(v, 3) for k, v in dark_photon_branching_ratios(mass).items()})
    print("<|p|> of the MJ distribution at T = 2, m = 2 GeV:", mj_mean_momentum(2.0, 2.0))
