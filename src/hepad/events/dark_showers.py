"""Dark showers for the CoDAE trigger study: semi-visible jets (SVJ) from Pythia 8's Hidden Valley module
and soft unclustered energy patterns (SUEP) against QCD dijets, with the event-level detector response
kept for images.

Processes (names are file names and wildcards):

- ``qcd``: QCD dijets (``HardQCD:all``, ``PhaseSpace:pTHatMin``), the trigger setting's background;
- ``svj_{mass}``: a heavy Z' (Hidden Valley ``Zv``, id 4900023) of ``mass`` GeV produced in q qbar
  annihilation and decaying to a dark quark pair (4900101); the dark sector showers and hadronises
  (SU(N) with ``n_colors`` colours, running coupling set by ``lambda_dark``) into dark pions and rho
  mesons (4900111, 4900113). These decay invisibly, into a pair of stable dark-matter particles (51 or
  53), with probability ``r_inv``, and otherwise back to a Standard-Model quark pair that Pythia
  hadronises. The off-diagonal dark mesons (4900211, 4900213) are stable and invisible. This is the
  common semi-visible-jet recipe (Cohen, Lisanti, Lou, PRL 115 171804; the CMS SVJ samples).
- ``suep_{mass}``: a scalar of ``mass`` GeV made in gluon fusion (Pythia's ``HiggsSM:gg2H`` with the Higgs
  mass changed, a narrow forced width and ``25:mayDecay = off``), so Pythia generates its initial-state
  radiation, the underlying event and the hadronisation of everything else, and hands the undecayed
  scalar over. :func:`attach_suep_decays` decays it with ``hepad.events.suep`` in its rest frame (thermal
  dark mesons, φ → A'A', A' → e+e−, μ+μ−, π+π−), boosts the products to the scalar's lab momentum and puts
  them into the event's final state. The products are electrons, muons and charged pions, which Pythia
  keeps stable too, so nothing of them is left for Pythia to hadronise or decay; this is why they are not
  handed back to its event record (``pythia.event.append`` and ``forceHadronLevel`` would do that, one
  Python call per particle, for an identical final state) (docs/codae.md).

The selection is the trigger only - no signal-region cut: ``trigger: leading_jet`` keeps events whose
leading anti-kT jet (radius ``jet_radius``) of the detector objects is above ``trigger_pt``, ``trigger:
ht`` those whose HT (the scalar pT sum of all those jets above 20 GeV) is, as the published images'
``ScalarHT > 500 GeV``. A chunk keeps every detector object (tracks, ECAL and
HCAL cells; see ``hepad.events.detector``) of the accepted events, so images of any resolution can be
made from it, and per event the label (0 QCD, 1 SVJ or SUEP), the mediator mass, the number of tracks, the two
leading jets' pT and the missing transverse momentum of the visible objects.

Generation reuses the generation stage's pieces (``PythiaGenerator``, ``Detector``,
``cluster_leading_jets``, ``chunk_seed``/``detector_seed``); only the process table is ours.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass

import h5py
import numpy as np

from hepad.events.detector import TRACK, Detector
from hepad.events.jets import cluster_leading_jets
from hepad.events.process import Process, chunk_seed, detector_seed
from hepad.events.pythia import FinalState, PythiaGenerator, process_settings
from hepad.events.suep import MaxwellJuttner, SuepParams, decay_suep
from hepad.hdf5 import create_compressed, row_chunks
from hepad.io import InputError, atomic_output

# Snakemake wildcard constraint of the process names of this module.
DARK_PROCESS_REGEX = r"qcd|svj_[0-9]+|suep_[0-9]+"
_SVJ_RE = re.compile(r"svj_([0-9]+)")
_SUEP_RE = re.compile(r"suep_([0-9]+)")
SCALAR_ID = 25  # the SUEP mediator: Pythia's Higgs with its mass changed
SCALAR_WIDTH_FRACTION = 1e-3  # its forced width over its mass (narrow; the decay uses each event's own mass)
TRIGGERS = ("leading_jet", "ht")
HT_JET_PT_MIN = 20.0  # GeV, jets counted in HT (the published Delphes card's jet threshold)
# Events per Pythia batch: fixed, because it decides where a chunk stops (reproducibility).
BATCH_EVENTS = 100
MAX_TRIES_PER_EVENT = 1000
# Ids that never reach a detector: neutrinos, the dark-matter states and every Hidden-Valley particle.
_INVISIBLE_IDS = np.array([12, 14, 16, 18, 51, 52, 53], dtype=np.int64)
_HV_MIN_ID = 4_900_000
OBJECT_FIELDS = {"pt": np.float32, "eta": np.float32, "phi": np.float32, "channel": np.int8}
EVENT_FIELDS = ["label", "mass", "ntracks", "jet1_pt", "jet2_pt", "met"]


@dataclass(frozen=True)
class DarkSector:
    """Hidden-Valley parameters of the semi-visible-jet signal.

    Parameters
    ----------
    r_inv : float
        Invisible fraction: probability that a dark meson decays to stable dark matter (default 0.3).
    n_colors : int
        Number of dark colours N of the SU(N) gauge group (``HiddenValley:Ngauge``, default 2).
    n_flavours : int
        Dark quark flavours (``HiddenValley:nFlav``, default 1).
    m_dark_quark : float
        Dark quark mass [GeV] (default 10).
    m_dark_meson : float
        Mass of the dark pions and rho mesons [GeV] (default 20).
    lambda_dark : float
        Confinement scale of the running dark coupling [GeV] (``HiddenValley:Lambda``, default 20); the dark
        shower stops at 1.1 lambda_dark.
    prob_vector : float
        Fraction of dark mesons made as vector (rho) rather than pseudoscalar mesons (default 0.75).
    mediator_width : float
        Z' width as a fraction of its mass (default 0.01).
    """

    r_inv: float = 0.3
    n_colors: int = 2
    n_flavours: int = 1
    m_dark_quark: float = 10.0
    m_dark_meson: float = 20.0
    lambda_dark: float = 20.0
    prob_vector: float = 0.75
    mediator_width: float = 0.01

    def __post_init__(self):
        if not 0.0 <= self.r_inv <= 1.0:
            raise ValueError(f"r_inv = {self.r_inv} must lie in [0, 1]")
        if self.m_dark_meson <= 0 or self.m_dark_quark <= 0 or self.lambda_dark <= 0:
            raise ValueError("dark masses and lambda_dark must be positive")
        if self.m_dark_meson < 2 * 5.0:
            raise ValueError(f"m_dark_meson = {self.m_dark_meson} GeV must be at least 10 GeV so that the visible "
                             "decay to a b quark pair is open")
        if self.n_colors < 2:
            raise ValueError(f"n_colors = {self.n_colors} must be at least 2")
        if not 0.0 <= self.prob_vector <= 1.0:
            raise ValueError(f"prob_vector = {self.prob_vector} must lie in [0, 1]")


@dataclass(frozen=True)
class DarkProcess:
    """A process of this module: ``kind`` "qcd", "svj" or "suep", ``mass`` the Z' or scalar mass in GeV (0 for
    QCD)."""

    name: str
    kind: str
    mass: int = 0

    @property
    def label(self) -> int:
        return int(self.kind in ("svj", "suep"))


def svj_process_name(mass: int) -> str:
    return f"svj_{int(mass)}"


def parse_dark_process(name: str) -> DarkProcess:
    """Parse ``qcd``, ``svj_<mass in GeV>`` or ``suep_<mass in GeV>``; ``ValueError`` names the allowed forms."""
    if name == "qcd":
        return DarkProcess(name=name, kind="qcd")
    suep = _SUEP_RE.fullmatch(name)
    if suep:
        mass = int(suep.group(1))
        if not 20 <= mass <= 5000:
            raise ValueError(f"process {name}: the SUEP scalar mass must lie in 20..5000 GeV, got {mass}")
        return DarkProcess(name=name, kind="suep", mass=mass)
    match = _SVJ_RE.fullmatch(name)
    if not match:
        raise ValueError(f"unknown dark-shower process {name!r}; allowed: qcd, svj_<Z' mass in GeV>, "
                         "suep_<scalar mass in GeV>")
    mass = int(match.group(1))
    if not 500 <= mass <= 12000:
        raise ValueError(f"process {name}: the Z' mass must lie in 500..12000 GeV, got {mass}")
    return DarkProcess(name=name, kind="svj", mass=mass)


def svj_settings(mass: float, sector: DarkSector) -> list[str]:
    """Pythia ``readString`` lines of q qbar -> Z' -> dark quarks with the dark shower (without the seed)."""
    base = process_settings(Process(name="qcd", kind="qcd"), pthat_min=0.0)[:3]  # beams, quiet, seeding
    width = sector.mediator_width * mass
    r = sector.r_inv
    lines = base + [
        "HiddenValley:ffbar2Zv = on",
        f"4900023:m0 = {mass:g}",
        f"4900023:mWidth = {width:g}",
        f"4900023:mMin = {mass - 5 * width:g}",
        f"4900023:mMax = {mass + 5 * width:g}",
        "4900023:onMode = off",
        "4900023:onIfAny = 4900101",
        f"HiddenValley:Ngauge = {sector.n_colors}",
        f"HiddenValley:nFlav = {sector.n_flavours}",
        "HiddenValley:fragment = on",
        "HiddenValley:FSR = on",
        "HiddenValley:alphaOrder = 1",
        f"HiddenValley:Lambda = {sector.lambda_dark:g}",
        f"HiddenValley:pTminFSR = {1.1 * sector.lambda_dark:g}",
        "HiddenValley:spinFv = 0",
        f"HiddenValley:probVector = {sector.prob_vector:g}",
        f"4900101:m0 = {sector.m_dark_quark:g}",
        # Diagonal mesons decay (visible or not); off-diagonal ones are stable dark matter.
        f"4900111:m0 = {sector.m_dark_meson:g}",
        f"4900113:m0 = {sector.m_dark_meson:g}",
        f"4900211:m0 = {sector.m_dark_meson - 0.01:g}",
        f"4900213:m0 = {sector.m_dark_meson - 0.01:g}",
        "51:m0 = 0.0", "51:isResonance = false",
        "53:m0 = 0.0", "53:isResonance = false",
        # meMode 91: the quark pair is hadronised by Pythia's string model.
        f"4900111:oneChannel = 1 {r:.6g} 0 51 -51",
        f"4900111:addChannel = 1 {1 - r:.6g} 91 -3 3",
        f"4900113:oneChannel = 1 {r:.6g} 0 53 -53",
    ]
    lines += [f"4900113:addChannel = 1 {(1 - r) / 5:.6g} 91 -{q} {q}" for q in range(1, 6)]
    return lines


def suep_settings(mass: float, pthat_min: float = 0.0) -> list[str]:
    """Pythia ``readString`` lines of g g -> scalar (mass ``mass``), the scalar left undecayed (without the seed).

    ``pthat_min`` > 0 generates the scalar with a hard parton instead (g g -> H g, q g -> H q, q qbar -> H g
    with the top loop, ``PhaseSpace:pTHatMin``): the high-pT tail that an HT trigger keeps, generated
    directly rather than from gg -> H's initial-state radiation at a per-mille efficiency."""
    base = process_settings(Process(name="qcd", kind="qcd"), pthat_min=0.0)[:3]  # beams, quiet, seeding
    width = SCALAR_WIDTH_FRACTION * mass
    if pthat_min > 0:
        production = ["HiggsSM:gg2Hg(l:t) = on", "HiggsSM:qg2Hq(l:t) = on", "HiggsSM:qqbar2Hg(l:t) = on",
                      f"PhaseSpace:pTHatMin = {pthat_min:g}"]
    else:
        production = ["HiggsSM:gg2H = on"]
    return base + production + [
        f"{SCALAR_ID}:m0 = {mass:g}",
        f"{SCALAR_ID}:doForceWidth = on",
        f"{SCALAR_ID}:mWidth = {width:g}",
        f"{SCALAR_ID}:mMin = {mass - 10 * width:g}",
        f"{SCALAR_ID}:mMax = {mass + 10 * width:g}",
        f"{SCALAR_ID}:mayDecay = off",
    ]


def qcd_settings(pthat_min: float, bias_power: float = 0.0) -> list[str]:
    """QCD dijets above ``pthat_min``; ``bias_power`` > 0 samples pT-hat with the extra weight
    (pT-hat / pthat_min)^power (``PhaseSpace:bias2Selection``, as the published QCD: power 4.5 from 200 GeV).
    The events are used unweighted, so the sample holds more hard events than the physical spectrum."""
    lines = process_settings(Process(name="qcd", kind="qcd"), pthat_min=pthat_min)
    if bias_power > 0:
        lines += ["PhaseSpace:bias2Selection = on", f"PhaseSpace:bias2SelectionPow = {bias_power:g}",
                  f"PhaseSpace:bias2SelectionRef = {pthat_min:g}"]
    return lines


def pythia_settings(process: DarkProcess, sector: DarkSector, qcd_pthat_min: float,
                    qcd_bias_power: float = 0.0, suep_pthat_min: float = 0.0) -> list[str]:
    if process.kind == "qcd":
        return qcd_settings(qcd_pthat_min, qcd_bias_power)
    if process.kind == "suep":
        return suep_settings(process.mass, suep_pthat_min)
    return svj_settings(process.mass, sector)


def _lepton_pion_charge(pid: np.ndarray) -> np.ndarray:
    """Charges of e, μ (id > 0: negative) and π (id > 0: positive), the SUEP decay products."""
    sign = np.sign(pid).astype(np.float64)
    return np.where(np.abs(pid) == 211, sign, -sign)


def attach_suep_decays(fs: FinalState, scalars: FinalState, params: SuepParams, rng: np.random.Generator,
                       sampler: MaxwellJuttner | None = None) -> tuple[FinalState, np.ndarray, np.ndarray]:
    """Decay the undecayed scalar of every event (exactly one each, ``scalars``) with ``hepad.events.suep`` at
    its own mass, boosted to its lab four-momentum, and append the products to the event's particles.

    Returns the new final state and, per event, the scalar's four-momentum and the sum of its decay
    products, both (n, 4) as (E, px, py, pz), so the caller can check conservation."""
    counts = np.diff(scalars.offsets)
    if not (counts == 1).all():
        raise RuntimeError(f"expected one undecayed scalar per event, found counts {sorted(set(counts.tolist()))}")
    sampler = sampler or MaxwellJuttner(params.temperature, params.m_meson)
    p4 = np.column_stack([scalars.e, scalars.px, scalars.py, scalars.pz])
    mass = np.sqrt(np.maximum(p4[:, 0] ** 2 - (p4[:, 1:] ** 2).sum(axis=1), 0.0))
    keys = ("px", "py", "pz", "e", "pid", "charge")
    pieces = {k: [] for k in keys}
    sums, n_new = np.zeros_like(p4), np.zeros(fs.n_events, dtype=np.int64)
    for k in range(fs.n_events):
        lo, hi = fs.offsets[k], fs.offsets[k + 1]
        for key in keys:
            pieces[key].append(getattr(fs, key)[lo:hi])
        d = decay_suep(mass[k], params, rng, scalar=p4[k], sampler=sampler)
        sums[k] = d.final.sum(axis=0)
        n_new[k] = len(d.pid)
        for key, col in (("e", 0), ("px", 1), ("py", 2), ("pz", 3)):
            pieces[key].append(d.final[:, col])
        pieces["pid"].append(d.pid.astype(np.int32))
        pieces["charge"].append(_lepton_pion_charge(d.pid))
    offsets = np.concatenate([[0], np.cumsum(np.diff(fs.offsets) + n_new)]).astype(np.int64)
    flat = {k: (np.concatenate(v) if v else getattr(fs, k)[:0]) for k, v in pieces.items()}
    out = FinalState(offsets=offsets, px=flat["px"], py=flat["py"], pz=flat["pz"], e=flat["e"],
                     pid=flat["pid"].astype(np.int32), charge=flat["charge"].astype(np.float64), mhat=fs.mhat)
    return out, p4, sums


def visible_only(fs: FinalState) -> FinalState:
    """Drop particles no detector sees even if Pythia's visibility table lets them through (dark states)."""
    pid = np.abs(fs.pid.astype(np.int64))
    keep = ~(np.isin(pid, _INVISIBLE_IDS) | (pid >= _HV_MIN_ID))
    if keep.all():
        return fs
    event = np.repeat(np.arange(fs.n_events), np.diff(fs.offsets))
    counts = np.bincount(event[keep], minlength=fs.n_events)
    return FinalState(offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                      px=fs.px[keep], py=fs.py[keep], pz=fs.pz[keep], e=fs.e[keep], pid=fs.pid[keep],
                      charge=fs.charge[keep], mhat=fs.mhat)


@dataclass
class DarkChunkSettings:
    """Everything that decides a chunk's content (config sections ``codae.generation`` and
    ``generation.detector``)."""

    seed: int = 1
    qcd_pthat_min: float = 450.0
    trigger_pt: float = 500.0
    jet_radius: float = 0.8
    sector: DarkSector = DarkSector()
    detector: dict | None = None
    trigger: str = "leading_jet"
    qcd_bias_power: float = 0.0
    suep: SuepParams = SuepParams()
    suep_pthat_min: float = 0.0

    def __post_init__(self):
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger {self.trigger!r} unknown; allowed: {', '.join(TRIGGERS)}")

    def to_json(self) -> str:
        d = asdict(self)
        return json.dumps(d, sort_keys=True)


@dataclass
class DarkChunk:
    """Accepted events: per-event arrays (``EVENT_FIELDS``), the objects' counts and flat object arrays."""

    events: dict
    n_objects: np.ndarray  # (n,) int32
    objects: dict  # flat arrays, OBJECT_FIELDS
    meta: dict

    @property
    def n_events(self) -> int:
        return len(self.n_objects)

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.n_objects)]).astype(np.int64)


def _select_batch(fs: FinalState, process: DarkProcess, detector: Detector, settings: DarkChunkSettings,
                  rng: np.random.Generator) -> dict:
    """Detector response, leading jets and trigger of one batch; the accepted events' objects."""
    fs = visible_only(fs)
    obj = detector.respond(fs.offsets, fs.px, fs.py, fs.pz, fs.e, fs.pid, fs.charge, rng)
    opx, opy, opz, oe = obj.four_momenta()
    jets = cluster_leading_jets(obj.offsets, opx, opy, opz, oe, radius=settings.jet_radius, min_pt=HT_JET_PT_MIN)
    pt = jets.pt
    variable = jets.ht if settings.trigger == "ht" else pt[:, 0]
    sel = np.flatnonzero(variable > settings.trigger_pt)
    counts = np.diff(obj.offsets)
    event = np.repeat(np.arange(obj.n_events), counts)
    keep = np.isin(event, sel)
    n = obj.n_events
    ntracks = np.bincount(event, weights=obj.channel == TRACK, minlength=n)
    metx = -np.bincount(event, weights=opx, minlength=n)
    mety = -np.bincount(event, weights=opy, minlength=n)
    events = {
        "label": np.full(len(sel), process.label, dtype=np.int8),
        "mass": np.full(len(sel), process.mass, dtype=np.float32),
        "ntracks": ntracks[sel].astype(np.int32),
        "jet1_pt": pt[sel, 0].astype(np.float32),
        "jet2_pt": pt[sel, 1].astype(np.float32),
        "met": np.hypot(metx, mety)[sel].astype(np.float32),
    }
    objects = {"pt": obj.pt[keep], "eta": obj.eta[keep], "phi": obj.phi[keep], "channel": obj.channel[keep]}
    return {"events": events, "n_objects": counts[sel].astype(np.int32), "objects": objects}


def generate_dark_chunk(process_name: str, chunk: int, n_accept: int, settings: DarkChunkSettings,
                        log: logging.Logger | None = None) -> DarkChunk:
    """Generate ``n_accept`` triggered events of ``process_name`` (chunk ``chunk``, seeded from the config
    seed, the process and the chunk, independently of the generation stage's samples)."""
    log = log or logging.getLogger(__name__)
    try:
        process = parse_dark_process(process_name)
        detector = Detector.from_config(settings.detector) if settings.detector else Detector()
    except (ValueError, TypeError, KeyError) as err:
        raise InputError(str(err))
    # A distinct seed stream from the generation stage's own qcd chunks ("dark/" prefix).
    seed = chunk_seed(settings.seed, f"dark/{process.name}", chunk)
    lines = pythia_settings(process, settings.sector, settings.qcd_pthat_min, settings.qcd_bias_power,
                            settings.suep_pthat_min)
    generator = PythiaGenerator(lines, seed)
    rng = np.random.default_rng(detector_seed(settings.seed, f"dark/{process.name}", chunk))
    # The SUEP decays draw from their own stream, so the detector's numbers do not depend on them.
    decay_rng = np.random.default_rng(detector_seed(settings.seed, f"dark/{process.name}/suep", chunk))
    sampler = MaxwellJuttner(settings.suep.temperature, settings.suep.m_meson) if process.kind == "suep" else None
    max_violation = 0.0
    parts, n_generated, n_accepted, t0 = [], 0, 0, time.perf_counter()
    while n_accepted < n_accept:
        if n_generated >= MAX_TRIES_PER_EVENT * n_accept + 10_000:
            raise InputError(f"{process.name}: only {n_accepted} of {n_generated} events pass the trigger "
                             f"({settings.trigger} > {settings.trigger_pt} GeV); lower codae.generation.trigger_pt")
        if process.kind == "suep":
            fs, scalars = generator.generate_with_stable(BATCH_EVENTS, (SCALAR_ID,))
            fs, p4, sums = attach_suep_decays(fs, scalars, settings.suep, decay_rng, sampler)
            if len(p4):
                max_violation = max(max_violation, float(np.abs(sums - p4).max()) / process.mass)
        else:
            fs = generator.generate(BATCH_EVENTS)
        part = _select_batch(fs, process, detector, settings, rng)
        n_generated += fs.n_events
        n_accepted += len(part["n_objects"])
        parts.append(part)
        if len(parts) % 20 == 0:
            log.info("%s chunk %d: %d generated, %d of %d accepted, %.1f events/s", process.name, chunk,
                     n_generated, n_accepted, n_accept, n_generated / (time.perf_counter() - t0))
    n_objects = np.concatenate([p["n_objects"] for p in parts])[:n_accept]
    n_flat = int(n_objects.sum())
    result = DarkChunk(
        events={k: np.concatenate([p["events"][k] for p in parts])[:n_accept] for k in EVENT_FIELDS},
        n_objects=n_objects,
        objects={k: np.concatenate([p["objects"][k] for p in parts])[:n_flat].astype(t)
                 for k, t in OBJECT_FIELDS.items()},
        meta={},
    )
    sigma, sigma_err = generator.cross_section()
    result.meta = {"process": process.name, "chunk": int(chunk), "pythia_seed": int(seed),
                   "n_generated": int(n_generated), "n_accepted": int(result.n_events),
                   "sigma_mb": sigma, "sigma_err_mb": sigma_err, "pythia_settings": lines,
                   "settings": settings.to_json()}
    if process.kind == "suep":
        # Largest |Σ products − scalar| over the chunk, in units of the scalar mass (the decay conserves it).
        result.meta["suep_max_p4_violation"] = max_violation
    log.info("%s chunk %d: %d accepted of %d generated in %.1f s", process.name, chunk, result.n_events,
             n_generated, time.perf_counter() - t0)
    return result


def write_dark_chunk(chunk: DarkChunk, path) -> None:
    """Chunk file: attributes = meta, ``events/<field>``, ``objects/{n_objects, pt, eta, phi, channel}``
    (gzip), written atomically."""
    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            for key, value in chunk.meta.items():
                out.attrs[key] = value
            ev = out.create_group("events")
            for key in EVENT_FIELDS:
                ev.create_dataset(key, data=chunk.events[key], track_times=False)
            grp = out.create_group("objects", track_order=True)
            grp.attrs["layout"] = ("event-major flat arrays; event k owns n_objects[k] objects; channel 0 track, "
                                   "1 ECAL cell, 2 HCAL cell; pt in GeV, massless")
            # n_objects has always been written without the shuffle filter: kept, so the files stay the same.
            create_compressed(grp, "n_objects", chunk.n_objects, shuffle=False)
            for key, dtype in OBJECT_FIELDS.items():
                data = np.asarray(chunk.objects[key], dtype=dtype)
                create_compressed(grp, key, data, chunks=row_chunks(len(data)))


def read_dark_chunk(path) -> DarkChunk:
    """Read a chunk written by ``write_dark_chunk``; ``InputError`` if it is not one."""
    try:
        with h5py.File(path, "r") as f:
            meta = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.attrs.items()}
            return DarkChunk(events={k: f["events"][k][()] for k in EVENT_FIELDS},
                             n_objects=f["objects/n_objects"][()],
                             objects={k: f["objects"][k][()] for k in OBJECT_FIELDS}, meta=meta)
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a readable dark-shower chunk ({err}); delete it and rerun")
