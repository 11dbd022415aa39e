"""The methods a bump hunt can search with (docs/search.md), by name, and the background each one uses.

A method is a weakly supervised mode of hepad.cathode.modes run window by window: the classifier of each
fold separates the window's SR data (label 1) from a background class (label 0). Where that background
class is a *template* of the window's background (the SB flow's samples, or true background), the
thresholds are its score quantiles and the expected background is the template's selected fraction times
the window's events. Without a template (CWoLa's neighbouring bands), the thresholds come from the scores
of the events outside the window and the background from the dijet fit of their selected spectrum.
Adding a method: one entry here (and the enum of config `search.methods`), plus where its label-0 events
come from in scripts/search_kfold_scores.py.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Method", "METHODS", "method", "template_methods", "CLASSIFIER_FAMILIES"]

# the classifier families of hepad.cathode.classify (config cathode.classifier.<family>)
CLASSIFIER_FAMILIES = ("hgb", "mlp")


@dataclass(frozen=True)
class Method:
    """One search method: its ``name`` (a mode of hepad.cathode.modes), whether its background class is a
    template of the window's background (``template``), and where that background comes from."""

    name: str
    template: bool
    background: str


METHODS = {
    "cathode": Method("cathode", True, "the SB flow's samples in the window (search_train_flow)"),
    "iad": Method("iad", True, "true background in the window: the extra SR QCD (search_iad_template); "
                               "only windows inside the range it was selected in (regions.sr)"),
    "cwola": Method("cwola", False, "the events in bands of search.cwola_band next to the window; "
                                    "b from the dijet fit outside the window"),
}


def method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown search method {name!r}; known: {', '.join(METHODS)}")
    return METHODS[name]


def template_methods() -> tuple[str, ...]:
    return tuple(name for name, m in METHODS.items() if m.template)


def iad_windows(windows: list[dict], sr: dict) -> list[int]:
    """Indices of the windows the idealized AD searches: those inside ``regions.sr``, where its true
    background (the extra SR QCD) exists. Asked for only when a search job needs them, so a config whose
    SR holds no window still runs every other target; the search itself then stops with this message."""
    from hepad.config import ConfigError

    inside = [i for i, w in enumerate(windows) if sr["low"] - 1e-9 <= w["low"] and w["high"] <= sr["high"] + 1e-9]
    if not inside:
        raise ConfigError(f"config error: search.methods has iad, whose true background exists only in regions.sr = "
                          f"{sr['low']}-{sr['high']} TeV, but no window of search.windows lies inside it; add one or "
                          "drop iad")
    return inside
