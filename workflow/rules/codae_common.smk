# Helpers of the CoDAE stage (codae.smk): config look-ups, input functions, target lists. No rules.
import json
import shutil

from hepad.events.dark_showers import DARK_PROCESS_REGEX, svj_process_name
from hepad.events.process import chunk_sizes

CODAE = config["codae"]
DARK = "resources/dark_showers"
CODAE_OUT = "results/codae"
CODAE_SIGNALS = [svj_process_name(m) for m in CODAE["generation"]["masses"]]


def codae_process_events(process):
    gen = CODAE["generation"]
    return gen["qcd_events"] if process == "qcd" else gen["signal_events"]


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
    return " ".join(f"{prefix} '{key}={json.dumps(value)}'" for key, value in sorted(CODAE[section].items()))


def codae_model_params():
    # The plain auto-encoder shares the CoDAE's architecture; only its training settings are its own.
    arch = {k: CODAE["model"][k] for k in ("encoder_channels", "latent_channels", "decoder_channels", "augment")}
    ae = " ".join(f"--ae-param '{k}={json.dumps(v)}'" for k, v in sorted({**arch, **CODAE["conv_ae"]}.items()))
    return f"{ae} {codae_params('cnn', '--cnn-param')}"


def codae_split_options(signal=True):
    s = CODAE["split"]
    opts = f"--qcd-test-fraction {s['qcd_test_fraction']} --val-fraction {s['val_fraction']}"
    if signal:
        opts = f"{opts} --signal-train-fraction {s['signal_train_fraction']}"
    return opts


def codae_gpu():
    setting = CODAE["gpu"]
    if setting == "auto":
        return int(shutil.which("nvidia-smi") is not None)
    return int(bool(setting))


def codae_images(processes):
    return [f"{CODAE_OUT}/images/{p}.h5" for p in processes]


def codae_plot_outputs():
    return [f"results/codae_roc.{ext}" for ext in config["plots"]["formats"]]
