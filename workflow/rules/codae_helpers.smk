# Helpers of workflow/rules/codae.smk: config look-ups, the stage's settings digests, input and params
# functions. Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
import json
from pathlib import Path

from hepad.events.dark_showers import DARK_PROCESS_REGEX, svj_process_name
from hepad.events.process import chunk_sizes
from hepad.events.suep import suep_process_name

CODAE = config["codae"]
DARK = "resources/dark_showers"
CODAE_OUT = "results/codae"
CODAE_EXTERNAL = CODAE["dataset"] == "external"
CODAE_VARIANTS = list(CODAE["variants"])
# hepad.codae.model.VARIANTS (not imported: it would load torch into every Snakemake run).
CODAE_VARIANT_REGEX = "codae|codvae|gaussian_vae"
if CODAE_EXTERNAL:
    CODAE_SIGNALS = list(CODAE["external"]["signals"])
else:
    # SUEP first, then SVJ, each by mass (the order of the metrics table and the ROC panels).
    CODAE_SIGNALS = [suep_process_name(m) for m in sorted(CODAE["generation"]["suep_masses"])] + [
        svj_process_name(m) for m in sorted(CODAE["generation"]["masses"])
    ]
    if not CODAE_SIGNALS:
        raise ValueError("codae.generation: masses and suep_masses are both empty; the study needs at least one signal")


# Settings behind each stage's outputs, its own and every earlier stage's (see settings_digest).
if CODAE_EXTERNAL:
    CODAE_IMAGE_KEYS = ["codae.dataset", "codae.external", "codae.images.channels"]
else:
    CODAE_IMAGE_KEYS = ["codae.generation", "generation.detector", "codae.images"]
CODAE_MODEL_KEYS = CODAE_IMAGE_KEYS + ["codae.split", "codae.mask_threshold", "codae.model"]
CODAE_SCORE_KEYS = CODAE_MODEL_KEYS + ["codae.conv_ae", "codae.cnn", "codae.tpr"]


def codae_process_events(process):
    gen = CODAE["generation"]
    if process == "qcd":
        return gen["qcd_events"]
    return gen["suep_events"] if process.startswith("suep_") else gen["signal_events"]


def codae_chunks(wildcards):
    """Chunk files of one process (config codae.generation.*_events and chunk_events)."""
    n = len(chunk_sizes(codae_process_events(wildcards.dark_process), CODAE["generation"]["chunk_events"]))
    return [f"{DARK}/{wildcards.dark_process}/chunk{i}.h5" for i in range(n)]


def codae_chunk_events(wildcards):
    sizes = chunk_sizes(codae_process_events(wildcards.dark_process), CODAE["generation"]["chunk_events"])
    chunk = int(wildcards.chunk)
    if chunk >= len(sizes):
        raise ValueError(f"{wildcards.dark_process} has only {len(sizes)} chunks (codae.generation)")
    return sizes[chunk]


def codae_detector():
    """generation.detector as JSON ({} = the detector's defaults) for the chunk script."""
    return json.dumps(config.get("generation", {}).get("detector", {}), sort_keys=True)


def codae_params(section, prefix="--param"):
    """'--param key=value' options (YAML values) of a config section."""
    return param_options(CODAE[section], prefix)


def codae_model_params():
    # The plain auto-encoder shares the CoDAE's architecture; only its training settings are its own.
    arch = {k: CODAE["model"][k] for k in ("encoder_channels", "latent_channels", "decoder_channels", "augment")}
    ae = param_options({**arch, **CODAE["conv_ae"]}, "--ae-param")
    return f"{ae} {codae_params('cnn', '--cnn-param')}"


def codae_split_options(signal=True):
    s = CODAE["split"]
    opts = f"--qcd-test-fraction {s['qcd_test_fraction']} --val-fraction {s['val_fraction']}"
    if signal:
        opts = f"{opts} --signal-train-fraction {s['signal_train_fraction']}"
    return opts


def codae_score_files():
    """The score file of each auto-encoder in codae.variants."""
    return [f"{CODAE_OUT}/score_codae/{v}.h5" for v in CODAE_VARIANTS]


def codae_images(processes):
    return [f"{CODAE_OUT}/make_images/{p}.h5" for p in processes]


def codae_external_files(wildcards):
    """The .npz files of codae.external.test and .train (an empty or missing folder is an error)."""
    files = []
    for key in ("test", "train"):
        folder = Path(CODAE["external"][key])
        found = sorted(str(p) for p in folder.glob("*.npz")) if folder.is_dir() else []
        if not found:
            raise ValueError(f"codae.external.{key}: no .npz files in {folder} (codae.dataset: external)")
        files += [f for f in found if f not in files]
    return files
