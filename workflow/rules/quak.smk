# QUAK (docs/quak.md): one density model ("prior") per class, events mapped to the space of
# their losses, box selections there.
#
#   lhco_extended      LHCO R&D particle-level file -> resources/lhco/{qcd,wprime_3500_500_100}.extended.h5
#   quak_features      QCD + signal-prior + held-out-signal events -> results/quak/{generated,lhco}/samples.h5
#                      (generated: all generated; lhco: QCD and held-out signal from LHCO, priors generated)
#   quak_digits        handwritten digits (sklearn 8x8 or MNIST)              -> results/quak/{digits,mnist}/samples.h5
#   train_quak_prior   one prior per sample and family   -> results/quak/{qset}/train_quak_prior/{family}/{sample}.pt
#   quak_space         losses of every prior, ROC/SIC of the combinations -> results/quak/{qset}/quak_space/{family}/
#   plot_quak          results/quak_space.pdf, results/roc_quak.pdf (of the sample set named by `dataset`)
#   plot_quak_digits   results/quak_digits.pdf

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


# Settings behind each stage's outputs, its own and every earlier stage's (see settings_digest).
QUAK_SAMPLE_KEYS = data_keys("generated") + [
    f"quak.{key}" for key in ("priors", "signals", "mjj_min", "max_background", "max_signal", "seed", "lhco", "digits")
]
QUAK_SPACE_KEYS = ["quak.target_bkg_eff", "quak.min_bkg_events"]


def quak_upstream(stage):
    """A params function: the digest of the settings behind a QUAK stage for this sample set and family."""

    def upstream(wildcards):
        keys = list(QUAK_SAMPLE_KEYS)
        if stage != "samples":
            keys += [f"quak.{wildcards.get('quak_family', QUAK['family'])}"]
        if stage in ("space", "plot"):
            keys += QUAK_SPACE_KEYS
        if stage == "plot":
            keys += ["quak.plot_prior", "quak.family"]
        return settings_digest(keys)

    return upstream


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
    return {
        name: f"{QUAK_DIR}/train_quak_prior/{{quak_family}}/{name}.pt".format(**wildcards)
        for name in quak_sample_names(wildcards.qset)
    }


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
    return param_options(params)


def quak_space_setting(key):
    """quak.<key> for the physics space, quak.digits.<key> for digits (an input function of qset)."""

    def lookup(wildcards):
        return QUAK[key] if wildcards.qset in QUAK_PHYSICS else QUAK["digits"][key]

    return lookup


def quak_plot_title():
    """Text before the panel titles of results/quak_space.pdf and results/roc_quak.pdf."""
    data = " on LHCO R&D data" if config["dataset"] == "lhco" else ""
    return f"QUAK ({QUAK['family']} priors){data}:"


def quak_space_files(qset, family):
    return {
        "losses": f"results/quak/{qset}/quak_space/{family}/losses.h5",
        "metrics": f"results/quak/{qset}/quak_space/{family}/metrics.json",
    }


def quak_other_of(stem):
    """params function: the other-format outputs of plot ``stem`` (taken from the rule's outputs)."""

    def other(wildcards, output):
        return " ".join(path for path in output.other_formats if Path(path).stem == stem)

    return other


rule lhco_extended:
    """Jets, N-subjettiness and constituent counts of the official LHCO R&D events (the generation stage's
    extended features), from the particle-level file, split by label."""
    input:
        resource_path(LHCO_PARTICLES),
    output:
        qcd=quak_lhco_extended("qcd"),
        signal=quak_lhco_extended(LHCO_SIGNAL),
    log:
        log_file("lhco_extended"),
    benchmark:
        bench_file("lhco_extended")
    conda:
        "../../envs/generate.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        missing=missing_inputs("lhco_extended"),
        upstream=quak_upstream("samples"),
        script=script("lhco_extended"),
        max_events=QUAK["lhco"]["max_events"],
    shell:
        "python {params.script} --particles {input} --max-events {params.max_events}"
        " --qcd-output {output.qcd} --signal-output {output.signal} > {log} 2>&1"


rule quak_features:
    """The 12 QUAK inputs of QCD, the signal priors and the held-out signals; splits; background scaling.
    Output: results/quak/{qset}/samples.h5 (the sample file of a set, whichever rule makes it)."""
    input:
        unpack(quak_features_inputs),
    output:
        f"{QUAK_DIR}/samples.h5",
    log:
        log_file("quak_features", "{qset}"),
    wildcard_constraints:
        qset="generated|lhco",
    conda:
        "../../envs/quak.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        missing=missing_inputs("quak_features"),
        upstream=quak_upstream("samples"),
        script=script("quak_features"),
        processes=quak_features_options,
        mjj_min=QUAK["mjj_min"],
        max_background=QUAK["max_background"],
        max_signal=QUAK["max_signal"],
        seed=QUAK["seed"],
    shell:
        "python {params.script} {params.processes} --mjj-min {params.mjj_min}"
        " --max-background {params.max_background} --max-signal {params.max_signal} --seed {params.seed}"
        " --output {output} > {log} 2>&1"


rule quak_digits:
    """QUAK samples of handwritten digits: background classes, one prior per class, held-out classes.
    Output: results/quak/{qset}/samples.h5, the same sample-file layout as quak_features."""
    input:
        unpack(quak_digits_inputs),
    output:
        f"{QUAK_DIR}/samples.h5",
    log:
        log_file("quak_digits", "{qset}"),
    wildcard_constraints:
        qset="digits|mnist",
    conda:
        "../../envs/quak.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        missing=missing_inputs("quak_digits"),
        upstream=quak_upstream("samples"),
        script=script("quak_digits"),
        source=quak_digits_source,
        background=" ".join(map(str, QUAK["digits"]["background"])),
        priors=" ".join(map(str, QUAK["digits"]["priors"])),
        anomalies=" ".join(map(str, QUAK["digits"]["anomalies"])),
        n_components=QUAK["digits"]["n_components"],
        seed=QUAK["seed"],
    shell:
        "python {params.script} {params.source} --background {params.background} --priors {params.priors}"
        " --anomalies {params.anomalies} --n-components {params.n_components} --seed {params.seed}"
        " --output {output} > {log} 2>&1"


rule train_quak_prior:
    """One QUAK prior: a density model of one class (flow: -log p; vae: MSE + beta KL with a flow prior)."""
    input:
        f"{QUAK_DIR}/samples.h5",
    output:
        model=f"{QUAK_DIR}/train_quak_prior/{{quak_family}}/{{sample}}.pt",
        history=f"{QUAK_DIR}/train_quak_prior/{{quak_family}}/{{sample}}.json",
    log:
        log_file("train_quak_prior", "{qset}_{quak_family}_{sample}"),
    benchmark:
        bench_file("train_quak_prior", "{qset}_{quak_family}_{sample}")
    conda:
        "../../envs/quak.yaml"
    threads: QUAK["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpu_request("quak"),
    params:
        missing=missing_inputs("train_quak_prior"),
        upstream=quak_upstream("prior"),
        script=script("train_quak_prior"),
        options=quak_train_options,
        seed=QUAK["seed"],
    shell:
        "python {params.script} --samples {input} --sample {wildcards.sample} --family {wildcards.quak_family}"
        " {params.options} --seed {params.seed} --threads {threads} --output {output.model}"
        " --history {output.history} > {log} 2>&1"


rule quak_space:
    """Every calibration and test event mapped to QUAK space; ROC/SIC of each prior combination per signal."""
    input:
        unpack(quak_prior_files),
        samples=f"{QUAK_DIR}/samples.h5",
    output:
        losses=f"{QUAK_DIR}/quak_space/{{quak_family}}/losses.h5",
        metrics=f"{QUAK_DIR}/quak_space/{{quak_family}}/metrics.json",
    log:
        log_file("quak_space", "{qset}_{quak_family}"),
    benchmark:
        bench_file("quak_space", "{qset}_{quak_family}")
    conda:
        "../../envs/quak.yaml"
    threads: QUAK["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        missing=missing_inputs("quak_space"),
        upstream=quak_upstream("space"),
        script=script("quak_space"),
        priors=quak_prior_options,
        target=quak_space_setting("target_bkg_eff"),
        min_bkg=quak_space_setting("min_bkg_events"),
    shell:
        "python {params.script} --samples {input.samples} {params.priors} --target-bkg-eff {params.target}"
        " --min-bkg-events {params.min_bkg} --threads {threads} --losses {output.losses}"
        " --metrics {output.metrics} > {log} 2>&1"


rule plot_quak:
    """results/quak_space.pdf (2-d QUAK space with the selection) and results/roc_quak.pdf (ROC and SIC)."""
    input:
        **quak_space_files(config["dataset"], QUAK["family"]),
    output:
        space=report("results/quak_space.pdf", caption="../report/quak_space.rst", category="QUAK"),
        roc=report("results/roc_quak.pdf", caption="../report/roc_quak.rst", category="QUAK"),
        other_formats=plot_formats("results/quak_space") + plot_formats("results/roc_quak"),
    log:
        log_file("plot_quak"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        missing=missing_inputs("plot_quak"),
        upstream=quak_upstream("plot"),
        script=script("plot_quak"),
        space_other=quak_other_of("quak_space"),
        roc_other=quak_other_of("roc_quak"),
        y_prior=QUAK["plot_prior"] or QUAK["priors"][0],
        title=quak_plot_title(),
    shell:
        "python {params.script} --losses {input.losses} --metrics {input.metrics} --y-prior {params.y_prior}"
        " --title {params.title:q} --space-output {output.space} {params.space_other}"
        " --roc-output {output.roc} {params.roc_other} > {log} 2>&1"


rule plot_quak_digits:
    """results/quak_digits.pdf: QUAK on handwritten digits (space, ROC and SIC per held-out class)."""
    input:
        **quak_space_files(QUAK["digits"]["source"], QUAK["family"]),
    output:
        plot=report("results/quak_digits.pdf", caption="../report/quak_digits.rst", category="QUAK"),
        other_formats=plot_formats("results/quak_digits"),
    log:
        log_file("plot_quak_digits"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        missing=missing_inputs("plot_quak_digits"),
        upstream=quak_upstream("plot"),
        script=script("plot_quak_digits"),
    shell:
        "python {params.script} --losses {input.losses} --metrics {input.metrics}"
        " --output {output.plot} {output.other_formats} > {log} 2>&1"
