"""The files this workflow can download and the folder under resources/ each goes to: Zenodo files (record
id; md5 from the record's API) and files at a plain URL (sha256 pinned here)."""

from __future__ import annotations

from dataclasses import dataclass

# file name -> (Zenodo record id, folder under resources/)
ZENODO_FILES: dict[str, tuple[int, str]] = {
    # LHC Olympics 2020 R&D (docs/data.md)
    "events_anomalydetection_v2.features.h5": (4536377, "lhco"),
    "events_anomalydetection_qcd_extra_inneronly_features.h5": (5759087, "lhco"),
    "events_anomalydetection_v2.h5": (6466204, "lhco"),
    # Interpretable mimickers (docs/mimic.md)
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
LHCO_PARTICLES = "events_anomalydetection_v2.h5"


@dataclass(frozen=True)
class UrlFile:
    """A file outside Zenodo, fetched from ``<base URL of its source>/<name>``.

    ``source`` names the config key of the base URL (``downloads.<source>_base_url``); ``sha256`` is
    pinned because no record publishes a checksum; ``offline`` is what a user without network can set.
    """

    source: str
    sha256: str
    folder: str
    offline: str


# file name -> UrlFile
URL_FILES: dict[str, UrlFile] = {
    # MNIST as Keras ships it (x_train, y_train, x_test, y_test; uint8 28x28), QUAK's digits test;
    # the sha256 is the one Keras pins for this file.
    "mnist.npz": UrlFile(
        source="keras",
        sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        folder="mnist",
        offline="to run without network set `quak.digits.source: digits` (the 8x8 digits of scikit-learn, "
                "no download)",
    ),
}


def resource_path(name: str) -> str:
    """Where a downloaded file lands, relative to the workflow's directory."""
    folder = ZENODO_FILES[name][1] if name in ZENODO_FILES else URL_FILES[name].folder
    return f"resources/{folder}/{name}"
