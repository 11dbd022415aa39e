# Helpers of the QUAK stage (quak.smk): config look-ups, input functions, target lists. No rules.
import json
import shutil

from hepad import config as hepad_config
from hepad.quak.checks import LHCO_SIGNAL, check_quak_config
from hepad.zenodo import LHCO_PARTICLES

# Multi-key checks: registered for later validations, and run now (the Snakefile validated the config
# before this file was read), so `snakemake -n` already stops with the message.
if check_quak_config not in hepad_config.CROSS_CHECKS:
    hepad_config.CROSS_CHECKS.append(check_quak_config)
try:
    check_quak_config(config)
except hepad_config.ConfigError as err:
    sys.exit(str(err))

QUAK = config["quak"]
QUAK_DIR = "results/quak/{qset}"
QUAK_GENERATED = "resources/generated"
QUAK_MNIST = resource_path("mnist.npz")
# Sample sets of jets: 'generated' (everything generated here) and 'lhco' (background and held-out
# signal = the official LHCO R&D events, signal priors generated, as in the paper: priors trained on
# simulations, tested on the LHCO data). The others ('digits', 'mnist') are images.
QUAK_PHYSICS = ("generated", "lhco")
# The LHCO R&D events as QUAK processes: extended features made from the particle-level file.
QUAK_LHCO = "resources/lhco"


wildcard_constraints:
    qset="generated|lhco|digits|mnist",
    quak_family="flow|vae",
    sample=r"background|wprime(?:3p)?_\d+_\d+_\d+|digit\d",


def quak_extended(process):
    """Merged extended features of a generated process (made by the generation stage's chunked chain)."""
    return f"{QUAK_GENERATED}/{process}.extended.h5"


def quak_lhco_extended(process):
    """Extended features of the LHCO R&D events of one label (rule lhco_extended)."""
    return f"{QUAK_LHCO}/{process}.extended.h5"


def quak_signal_names(qset):
    """Held-out signals of a physics sample set."""
    return [LHCO_SIGNAL] if qset == "lhco" else QUAK["signals"]


def quak_features_inputs(wildcards):
    """Extended-features file per process: background and held-out signals of the set, generated priors."""
    data = quak_lhco_extended if wildcards.qset == "lhco" else quak_extended
    inputs = {name: data(name) for name in ["qcd", *quak_signal_names(wildcards.qset)]}
    inputs.update({name: quak_extended(name) for name in QUAK["priors"]})
    return inputs


def quak_features_options(wildcards, input):
    opts = [f"--background qcd={input.qcd}"]
    opts += [f"--prior {p}={input[p]}" for p in QUAK["priors"]]
    opts += [f"--signal {s}={input[s]}" for s in quak_signal_names(wildcards.qset)]
    return " ".join(opts)


def quak_digits_inputs(wildcards):
    """MNIST arrives through the download stage; the 8x8 digits ship with scikit-learn (no input)."""
    return {"mnist": QUAK_MNIST} if wildcards.qset == "mnist" else {}


def quak_digits_source(wildcards, input):
    return f"--source mnist --mnist {input.mnist}" if wildcards.qset == "mnist" else "--source sklearn"


def quak_sample_names(qset):
    """Priors of a QUAK space: the background first, then the signal priors."""
    if qset in QUAK_PHYSICS:
        return ["background", *QUAK["priors"]]
    return ["background", *[f"digit{d}" for d in QUAK["digits"]["priors"]]]


def quak_prior_files(wildcards):
    return {name: f"{QUAK_DIR}/priors/{{quak_family}}/{name}.pt".format(**wildcards)
            for name in quak_sample_names(wildcards.qset)}


def quak_prior_options(wildcards, input):
    return " ".join(f"--prior {name}={input[name]}" for name in quak_sample_names(wildcards.qset))


def quak_train_options(wildcards):
    """--param key=<json> options of the family's hyperparameters (digits: smaller batches, more epochs)."""
    params = dict(QUAK[wildcards.quak_family])
    if wildcards.qset not in QUAK_PHYSICS:
        for key in ("batch_size", "max_epochs", "patience"):
            params[key] = QUAK["digits"][key]
    if params.get("patience") == 0:
        params["patience"] = None
    return " ".join(f"--param '{key}={json.dumps(value)}'" for key, value in sorted(params.items()))


def quak_space_setting(key):
    """quak.<key> for the physics space, quak.digits.<key> for digits (an input function of qset)."""

    def lookup(wildcards):
        return QUAK[key] if wildcards.qset in QUAK_PHYSICS else QUAK["digits"][key]

    return lookup


def quak_gpu():
    setting = QUAK["gpu"]
    if setting == "auto":
        return int(shutil.which("nvidia-smi") is not None)
    return int(bool(setting))


def quak_other_formats(stem):
    """The plot in the formats of config plots.formats (besides the PDF)."""
    return [f"results/{stem}.{ext}" for ext in config["plots"]["formats"]]


def quak_plot_title():
    """Text before the panel titles of results/quak_space.pdf and results/roc_quak.pdf."""
    data = " on LHCO R&D data" if config["dataset"] == "lhco" else ""
    return f"QUAK ({QUAK['family']} priors){data}:"


def quak_space_files(qset, family):
    return {"losses": f"results/quak/{qset}/space_{family}/losses.h5",
            "metrics": f"results/quak/{qset}/space_{family}/metrics.json"}


def quak_other_of(stem):
    """params function: the other-format outputs of plot ``stem`` (taken from the rule's outputs)."""

    def other(wildcards, output):
        return " ".join(path for path in output.other_formats if Path(path).stem == stem)

    return other
