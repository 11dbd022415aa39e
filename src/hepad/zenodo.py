"""The Zenodo files this workflow can download: record id and the folder under resources/ they go to."""

from __future__ import annotations

# file name -> (Zenodo record id, folder under resources/)
ZENODO_FILES: dict[str, tuple[int, str]] = {
    # LHC Olympics 2020 R&D (REFERENCE.md §1)
    "events_anomalydetection_v2.features.h5": (4536377, "lhco"),
    "events_anomalydetection_qcd_extra_inneronly_features.h5": (5759087, "lhco"),
    "events_anomalydetection_v2.h5": (6466204, "lhco"),
    # Interpretable mimickers (REFERENCE.md §5)
    "qcd_dijet.h5": (4641460, "mimickers"),
    "top_100k_01.h5": (4614656, "mimickers"),
    "W_100k_01.h5": (4614656, "mimickers"),
    "h3_m174_h80_100k_01.h5": (4614656, "mimickers"),
    "h3_m174_h20_100k_01.h5": (4614656, "mimickers"),
    "top_m80_100k_01_new.h5": (4614656, "mimickers"),
    "W_m120_100k_01.h5": (4614656, "mimickers"),
    "W_m174_100k_01.h5": (4614656, "mimickers"),
    "W_m59_100k_01.h5": (4614656, "mimickers"),
}

LHCO_FEATURES = "events_anomalydetection_v2.features.h5"
LHCO_EXTRA_QCD_SR = "events_anomalydetection_qcd_extra_inneronly_features.h5"


def resource_path(name: str) -> str:
    """Where a Zenodo file lands, relative to the workflow's directory."""
    _, folder = ZENODO_FILES[name]
    return f"resources/{folder}/{name}"
