"""The ``generation`` config section: event counts per process, per-process settings, and the checks that
JSON schema cannot express (they stop ``snakemake -n`` before any job).

Light on purpose (standard library only besides hepad.config): the rule files import it at parse time,
so drawing the DAG needs no physics package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hepad.config import ConfigError
from hepad.events.checks import detector_problem
from hepad.events.process import check_signal_masses, chunk_sizes, parse_process, signal_process_name


@dataclass
class ChunkSettings:
    """Everything that decides a chunk's content (the ``generation`` config section plus the SR)."""

    seed: int = 1
    pthat_min: float = 1100.0
    trigger_pt: float = 1200.0
    jet_radius: float = 1.0
    nsubjettiness_axes: str = "wta_kt"
    mpi: bool = False
    qcd_sr_mhat: tuple[float, float] = (0.0, 13000.0)
    sr: tuple[float, float] = (3.3, 3.7)  # TeV, regions.sr
    detector: dict = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict) -> "ChunkSettings":
        gen = config["generation"]
        return cls(
            seed=gen["seed"], pthat_min=gen["pthat_min"], trigger_pt=gen["trigger_pt"],
            jet_radius=gen["jet_radius"], nsubjettiness_axes=gen["nsubjettiness_axes"], mpi=gen["mpi"],
            qcd_sr_mhat=(gen["qcd_sr_mhat"]["low"], gen["qcd_sr_mhat"]["high"]),
            sr=(config["regions"]["sr"]["low"], config["regions"]["sr"]["high"]),
            detector=gen["detector"],
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def signal_name(signal: dict) -> str:
    """Process name of a ``generation.signal``-like mapping (mwprime, mx, my, prongs)."""
    return signal_process_name(signal["mwprime"], signal["mx"], signal["my"], signal.get("prongs", 2))


def configured_signals(config: dict) -> list[str]:
    """The main signal first, then the extra signals, as process names (no repeats)."""
    gen = config["generation"]
    names = [signal_name(gen["signal"])] + [signal_name(s) for s in gen["extra_signals"]]
    return list(dict.fromkeys(names))


def events_for(process: str, config: dict) -> int:
    """Accepted events requested for a process (signals share ``generation.events.signal``)."""
    kind = parse_process(process).kind
    events = config["generation"]["events"]
    return int(events["signal"] if kind == "wprime" else events[kind])


def chunk_events_for(process: str, config: dict) -> int:
    """Accepted events per chunk of a process."""
    kind = parse_process(process).kind
    return int(config["generation"]["chunk_events"]["signal" if kind == "wprime" else kind])


def process_chunks(process: str, config: dict) -> list[int]:
    """Accepted events of each chunk of a process."""
    return chunk_sizes(events_for(process, config), chunk_events_for(process, config))


def settings_for(process: str, config: dict) -> ChunkSettings:
    """The chunk settings of a process, with the keys that do not affect it set to their defaults, so a
    change of e.g. the signal region reruns only ``qcd_sr``."""
    full = ChunkSettings.from_config(config)
    default = ChunkSettings()
    kind = parse_process(process).kind
    if kind != "qcd_sr":
        full.qcd_sr_mhat, full.sr = default.qcd_sr_mhat, default.sr
    if kind == "wprime":
        full.pthat_min = default.pthat_min
    return full


def settings_json(process: str, config: dict) -> str:
    return settings_for(process, config).to_json()


def settings_from_json(text: str) -> ChunkSettings:
    data = json.loads(text)
    for key in ("qcd_sr_mhat", "sr"):
        if key in data:
            data[key] = tuple(data[key])
    return ChunkSettings(**data)


def check_generation_config(config: dict) -> None:
    """Multi-key checks of the ``generation`` section; raise ``ConfigError`` naming the keys and the fix."""
    gen = config["generation"]
    for where, sig in [("generation.signal", gen["signal"])] + [
            (f"generation.extra_signals[{i}]", s) for i, s in enumerate(gen["extra_signals"])]:
        try:
            check_signal_masses(sig["mwprime"], sig["mx"], sig["my"], where=where)
        except ValueError as err:
            raise ConfigError(f"config error: {err}")
    if gen["pthat_min"] > gen["trigger_pt"]:
        raise ConfigError(
            f"config error: generation.pthat_min = {gen['pthat_min']} GeV is above generation.trigger_pt = "
            f"{gen['trigger_pt']} GeV; the generator cut would shape the triggered sample. Keep pthat_min "
            "about 100 GeV below trigger_pt")
    low, high = gen["qcd_sr_mhat"]["low"], gen["qcd_sr_mhat"]["high"]
    sr = config["regions"]["sr"]
    if not (low < 1000 * sr["low"] and 1000 * sr["high"] < high):
        raise ConfigError(
            f"config error: generation.qcd_sr_mhat = [{low}, {high}] GeV must enclose regions.sr = "
            f"[{sr['low']}, {sr['high']}] TeV with room on both sides (dijet masses differ from the hard-process "
            "mass by tens of percent); the default [0, 13000] restricts nothing")
    det = gen["detector"]
    problem = detector_problem(det["tracker"], det["ecal"], det["hcal"])
    if problem:
        raise ConfigError(f"config error: generation.detector.{problem}")
