# Helpers of workflow/rules/mimic.smk: config look-ups, input and params functions, target lists.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
import json
import math
import re

from hepad.events.single_jets import PROCESS_REGEX as SINGLE_JET_PROCESS_REGEX

MIMIC = config["mimickers"]
MIMIC_DIR = "results/mimic"
# Sample name -> {process, zenodo}; the background is always called qcd in the outputs.
MIMIC_SAMPLES = {"qcd": MIMIC["background"], **MIMIC["signals"]}
MIMIC_SIGNALS = list(MIMIC["signals"])
MIMIC_KINDS = ["hln", "pnn"]
MIMIC_SAMPLE_REGEX = "|".join(re.escape(name) for name in MIMIC_SAMPLES)
if "qcd" in MIMIC["signals"]:
    sys.exit("config mimickers.signals: 'qcd' is the background's name; rename that signal")


# Settings behind each stage's outputs, its own and every earlier stage's (see settings_digest).
MIMIC_JET_KEYS = ["generation.detector"] + [
    f"mimickers.{key}"
    for key in ("source", "generation", "pt_window", "background", "signals", "n_background", "n_signal")
]
MIMIC_FEATURE_KEYS = MIMIC_JET_KEYS + ["mimickers.images", "mimickers.efp_max_constituents"]
MIMIC_AE_KEYS = MIMIC_FEATURE_KEYS + ["mimickers.train_fraction", "mimickers.image_ae", "mimickers.seed"]
MIMIC_SELECTION_KEYS = MIMIC_AE_KEYS + [
    "mimickers.mimicker",
    "mimickers.rounds",
    "mimickers.min_ado_gain",
    "mimickers.select_fraction",
    "mimickers.image_observables",
]


def mimic_n_jets(sample):
    return MIMIC["n_background"] if sample == "qcd" else MIMIC["n_signal"]


def single_jets_chunk_size(process):
    """Jets per chunk of a process: config chunk_jets, or fewer when no sample needs that many."""
    needed = max(mimic_n_jets(name) for name, spec in MIMIC_SAMPLES.items() if spec["process"] == process)
    return min(MIMIC["generation"]["chunk_jets"], needed)


def single_jets_chunk_jets(wildcards):
    return single_jets_chunk_size(wildcards.sj_process)


def mimic_zenodo_path(name):
    return resource_path(name) if name in ZENODO_FILES else f"resources/mimickers/{name}"


def single_jet_sample_inputs(wildcards):
    """The Zenodo file of a sample, or the generated chunks that hold enough jets for it."""
    spec = MIMIC_SAMPLES[wildcards.mimic_sample]
    if MIMIC["source"] == "zenodo":
        return [mimic_zenodo_path(spec["zenodo"])]
    n_chunks = math.ceil(mimic_n_jets(wildcards.mimic_sample) / single_jets_chunk_size(spec["process"]))
    return [f"resources/single_jets/{spec['process']}/chunk{chunk}.h5" for chunk in range(n_chunks)]


def single_jet_max_jets(wildcards):
    return mimic_n_jets(wildcards.mimic_sample)


def mimic_features(sample):
    return f"{MIMIC_DIR}/jet_features/{sample}.h5"


def mimic_signal_args(wildcards, input):
    """--signals NAME=FILE ... of the signal feature files."""
    return " ".join(f"{name}={path}" for name, path in zip(MIMIC_SIGNALS, input.signals))


def mimicker_options(wildcards):
    """--param key=value of config mimickers.mimicker (YAML values, as the script parses them)."""
    return param_options(MIMIC["mimicker"])
