"""Common look of the method plots: the mplhep (CMS-like) style, method names, colours and units."""

from __future__ import annotations

import logging
from pathlib import Path

from hepad.io import atomic_output

log = logging.getLogger(__name__)

# Method keys are "<mode>_<family>" (classifier modes) or "anode" / "ranode" (no classifier).
MODE_LABELS = {
    "supervised": "Supervised",
    "iad": "Idealized AD",
    "cathode": "CATHODE",
    "cwola": "CWoLa Hunting",
    "anode": "ANODE",
    "lacathode": "LaCATHODE",
    "ranode": "R-ANODE",
}
MODE_COLORS = {
    "supervised": "black",
    "iad": "tab:green",
    "cathode": "tab:red",
    "cwola": "tab:blue",
    "anode": "tab:purple",
    "lacathode": "tab:orange",
    "ranode": "tab:brown",
}
MODE_ORDER = ["supervised", "iad", "cathode", "lacathode", "cwola", "anode", "ranode"]
FAMILY_LABELS = {"mlp": "NN", "hgb": "BDT"}
FAMILY_LINESTYLES = {"mlp": "-", "hgb": "-", None: "-"}

SIC_LABEL = r"SIC = $\epsilon_S / \sqrt{\epsilon_B}$"
EFF_LABEL = r"signal efficiency $\epsilon_S$"
SB_LABEL = r"injected S/B in the signal region [%]"


def split_method(method: str) -> tuple[str, str | None]:
    """("cathode", "hgb") from "cathode_hgb"; ("anode", None) from "anode"."""
    mode, _, family = method.partition("_")
    return mode, (family or None)


def method_label(method: str, with_family: bool) -> str:
    mode, family = split_method(method)
    label = MODE_LABELS.get(mode, mode)
    if with_family and family:
        label += f" ({FAMILY_LABELS.get(family, family)})"
    return label


def method_sort_key(method: str):
    mode, family = split_method(method)
    return (MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER), family or "")


def use_style():
    """Apply the mplhep CMS style (falls back to matplotlib's default if mplhep is missing)."""
    import matplotlib

    matplotlib.use("Agg")
    try:
        import mplhep

        mplhep.style.use("CMS")
    except ImportError:  # plots still work, only the look differs
        log.warning("mplhep not installed: using the matplotlib default style")


# Metadata that would differ between two identical runs is left out, so that the same figure gives the
# same bytes: the creation date (PDF, SVG) and the software version (PNG). SVG ids are salted with a
# fixed string instead of a random one.
STABLE_METADATA = {"pdf": {"CreationDate": None}, "png": {"Software": None}, "svg": {"Date": None}}
SVG_HASH_SALT = "hepad"


def save_figure(fig, outputs) -> list[str]:
    """Write ``fig`` to every path of ``outputs``, each in the format of its suffix (pdf, png, svg),
    atomically and byte-stable (the same figure gives the same file)."""
    import matplotlib

    written = []
    for path in map(Path, outputs):
        fmt = path.suffix.lstrip(".").lower()
        if fmt not in ("pdf", "png", "svg"):
            raise ValueError(f"{path}: unknown plot format {fmt!r} (pdf, png or svg)")
        with atomic_output(path) as tmp, matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
            fig.savefig(tmp, format=fmt, dpi=150, metadata=STABLE_METADATA[fmt])
        written.append(str(path))
    return written
