"""Process names of the generation stage, their chunking and their seeds.

A process name says everything about the physics of a sample, so several signal hypotheses can coexist
as files side by side:

- ``qcd``: QCD dijets with the LHCO R&D trigger;
- ``qcd_sr``: QCD dijets with the hard-process mass restricted around the signal region, only
  signal-region events kept (the extra background of the idealized AD and supervised benchmarks);
- ``wprime_{mW}_{mX}_{mY}``: W' -> X Y, X -> qq, Y -> qq (two-prong jets), masses in GeV;
- ``wprime3p_{mW}_{mX}_{mY}``: the same with X -> qqq (a three-prong X jet).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Snakemake wildcard constraint: the same grammar as parse_process.
PROCESS_REGEX = r"qcd|qcd_sr|wprime(?:3p)?_[0-9]+_[0-9]+_[0-9]+"
_SIGNAL_RE = re.compile(r"wprime(3p)?_([0-9]+)_([0-9]+)_([0-9]+)")

# Pythia accepts Random:seed in 1..900000000.
PYTHIA_SEED_MAX = 900_000_000


@dataclass(frozen=True)
class Process:
    """One generated process; ``label`` is 0 for background, 1 for signal (the LHCO column)."""

    name: str
    kind: str  # "qcd", "qcd_sr" or "wprime"
    mwprime: int = 0
    mx: int = 0
    my: int = 0
    prongs: int = 2

    @property
    def label(self) -> int:
        return 1 if self.kind == "wprime" else 0

    @property
    def is_signal(self) -> bool:
        return self.kind == "wprime"


def check_signal_masses(mwprime: float, mx: float, my: float, where: str = "") -> None:
    """Raise ``ValueError`` unless W' -> X Y is kinematically open with quark decays of X and Y."""
    prefix = f"{where}: " if where else ""
    if min(mwprime, mx, my) <= 0:
        raise ValueError(f"{prefix}masses must be positive, got mW'={mwprime}, mX={mx}, mY={my} GeV")
    if mx + my >= mwprime:
        raise ValueError(f"{prefix}mX + mY = {mx + my} GeV must be below mW' = {mwprime} GeV "
                         "(W' -> X Y is closed otherwise); lower mX or mY or raise mW'")
    # X and Y decay to light quarks (and b): below ~10 GeV hadronisation makes no sense of 'prongs'.
    if min(mx, my) < 10:
        raise ValueError(f"{prefix}mX and mY must be at least 10 GeV to decay into resolvable quarks, got {mx}, {my} GeV")


def signal_process_name(mwprime: int, mx: int, my: int, prongs: int = 2) -> str:
    """Name of a W' process: ``wprime_3500_500_100`` (two-prong) or ``wprime3p_...`` (X -> qqq)."""
    if prongs not in (2, 3):
        raise ValueError(f"prongs must be 2 or 3, got {prongs}")
    prefix = "wprime" if prongs == 2 else "wprime3p"
    return f"{prefix}_{int(mwprime)}_{int(mx)}_{int(my)}"


def parse_process(name: str) -> Process:
    """Parse a process name; raise ``ValueError`` naming the allowed forms or the impossible masses."""
    if name in ("qcd", "qcd_sr"):
        return Process(name=name, kind=name)
    match = _SIGNAL_RE.fullmatch(name)
    if not match:
        raise ValueError(f"unknown process {name!r}; allowed: qcd, qcd_sr, wprime_<mW>_<mX>_<mY>, "
                         "wprime3p_<mW>_<mX>_<mY> (masses in GeV, integers)")
    three, mw, mx, my = match.groups()
    mw, mx, my = int(mw), int(mx), int(my)
    check_signal_masses(mw, mx, my, where=f"process {name}")
    return Process(name=name, kind="wprime", mwprime=mw, mx=mx, my=my, prongs=3 if three else 2)


def chunk_sizes(n_events: int, chunk_events: int) -> list[int]:
    """Accepted events per chunk: full chunks of ``chunk_events`` and a last, smaller one."""
    if n_events <= 0:
        return []
    full, rest = divmod(int(n_events), int(chunk_events))
    return [int(chunk_events)] * full + ([rest] if rest else [])


def chunk_seed(config_seed: int, process: str, chunk: int) -> int:
    """Pythia ``Random:seed`` of one chunk, in 1..900000000.

    A hash of (config seed, process) picks a start, and chunks of a process take consecutive seeds from
    there (modulo the range), so two chunks of one process never share a seed. Different processes
    land at unrelated places of the range.
    """
    digest = hashlib.sha256(f"hepad-generation/{int(config_seed)}/{process}".encode()).digest()
    start = int.from_bytes(digest[:8], "little") % PYTHIA_SEED_MAX
    return 1 + (start + int(chunk)) % PYTHIA_SEED_MAX


def detector_seed(config_seed: int, process: str, chunk: int) -> list[int]:
    """Entropy for the numpy generator of the detector response of one chunk (independent of Pythia's)."""
    digest = hashlib.sha256(f"hepad-detector/{int(config_seed)}/{process}/{int(chunk)}".encode()).digest()
    return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
