"""Plausibility checks of generation parameters, standard library only (the rule files import them at
parse time; the detector uses them when it is built)."""

from __future__ import annotations

import math


def detector_problem(tracker: dict, ecal: dict, hcal: dict) -> str | None:
    """The first unphysical detector parameter, as a message naming it, or None."""
    if not 0 <= tracker["efficiency"] <= 1:
        return f"tracker.efficiency = {tracker['efficiency']} must lie in [0, 1]"
    for name in ("eta_max", "pt_min", "resolution_const", "resolution_slope"):
        if tracker[name] < 0:
            return f"tracker.{name} = {tracker[name]} must not be negative"
    for label, calo in (("ecal", ecal), ("hcal", hcal)):
        for name in ("eta_max", "cell_eta", "cell_phi"):
            if calo[name] <= 0:
                return f"{label}.{name} = {calo[name]} must be positive"
        for name in ("stochastic", "constant", "noise", "threshold", "significance_min"):
            if calo[name] < 0:
                return f"{label}.{name} = {calo[name]} must not be negative"
        if calo["cell_phi"] > math.pi:
            return f"{label}.cell_phi = {calo['cell_phi']} is larger than pi; use at most pi"
        if calo["cell_eta"] > 2 * calo["eta_max"]:
            return f"{label}.cell_eta = {calo['cell_eta']} exceeds the whole acceptance 2 * eta_max"
    return None
