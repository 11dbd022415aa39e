# QUAK (REFERENCE.md section 3): one density model ("prior") per class, events mapped to the space of
# their losses, box selections there.
#
#   lhco_extended      LHCO R&D particle-level file -> resources/lhco/{qcd,wprime_3500_500_100}.extended.h5
#   quak_features      QCD + signal-prior + held-out-signal events -> results/quak/{generated,lhco}/samples.h5
#                      (generated: all generated; lhco: QCD and held-out signal from LHCO, priors generated)
#   quak_digits        handwritten digits (sklearn 8x8 or MNIST)              -> results/quak/{digits,mnist}/samples.h5
#   train_quak_prior   one prior per sample and family   -> results/quak/{qset}/priors/{family}/{sample}.pt
#   quak_space         losses of every prior, ROC/SIC of the combinations -> results/quak/{qset}/space_{family}/
#   plot_quak          results/quak_space.pdf, results/roc_quak.pdf (of the sample set named by `dataset`)
#   plot_quak_digits   results/quak_digits.pdf
include: "quak_common.smk"


rule lhco_extended:
    """Jets, N-subjettiness and constituent counts of the official LHCO R&D events (the generation stage's
    extended features), from the particle-level file, split by label."""
    input:
        resource_path(LHCO_PARTICLES),
    output:
        qcd=quak_lhco_extended("qcd"),
        signal=quak_lhco_extended(LHCO_SIGNAL),
    params:
        script=script("lhco_extended"),
        max_events=QUAK["lhco"]["max_events"],
    log:
        f"{LOGS}/lhco_extended/lhco_extended.log",
    benchmark:
        f"{BENCH}/lhco_extended/lhco_extended.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        "../../envs/generate.yaml"
    shell:
        "python {params.script} --particles {input} --max-events {params.max_events}"
        " --qcd-output {output.qcd} --signal-output {output.signal} > {log} 2>&1"


rule quak_features:
    """The 12 QUAK inputs of QCD, the signal priors and the held-out signals; splits; background scaling."""
    input:
        unpack(quak_features_inputs),
    output:
        f"{QUAK_DIR}/samples.h5",
    params:
        script=script("quak_features"),
        processes=quak_features_options,
        mjj_min=QUAK["mjj_min"],
        max_background=QUAK["max_background"],
        max_signal=QUAK["max_signal"],
        seed=QUAK["seed"],
    wildcard_constraints:
        qset="generated|lhco",
    log:
        f"{LOGS}/quak_features/{{qset}}.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../../envs/quak.yaml"
    shell:
        "python {params.script} {params.processes} --mjj-min {params.mjj_min}"
        " --max-background {params.max_background} --max-signal {params.max_signal} --seed {params.seed}"
        " --output {output} > {log} 2>&1"


rule quak_digits:
    """QUAK samples of handwritten digits: background classes, one prior per class, held-out classes."""
    input:
        unpack(quak_digits_inputs),
    output:
        f"{QUAK_DIR}/samples.h5",
    params:
        script=script("quak_digits"),
        source=quak_digits_source,
        background=" ".join(map(str, QUAK["digits"]["background"])),
        priors=" ".join(map(str, QUAK["digits"]["priors"])),
        anomalies=" ".join(map(str, QUAK["digits"]["anomalies"])),
        n_components=QUAK["digits"]["n_components"],
        seed=QUAK["seed"],
    wildcard_constraints:
        qset="digits|mnist",
    log:
        f"{LOGS}/quak_digits/{{qset}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../../envs/quak.yaml"
    shell:
        "python {params.script} {params.source} --background {params.background} --priors {params.priors}"
        " --anomalies {params.anomalies} --n-components {params.n_components} --seed {params.seed}"
        " --output {output} > {log} 2>&1"


rule train_quak_prior:
    """One QUAK prior: a density model of one class (flow: -log p; vae: MSE + beta KL with a flow prior)."""
    input:
        f"{QUAK_DIR}/samples.h5",
    output:
        model=f"{QUAK_DIR}/priors/{{quak_family}}/{{sample}}.pt",
        history=f"{QUAK_DIR}/priors/{{quak_family}}/{{sample}}.json",
    params:
        script=script("train_quak_prior"),
        options=quak_train_options,
        seed=QUAK["seed"],
    log:
        f"{LOGS}/train_quak_prior/{{qset}}_{{quak_family}}_{{sample}}.log",
    benchmark:
        f"{BENCH}/train_quak_prior/{{qset}}_{{quak_family}}_{{sample}}.tsv"
    threads: QUAK["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=quak_gpu(),
    conda:
        "../../envs/quak.yaml"
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
        losses=f"{QUAK_DIR}/space_{{quak_family}}/losses.h5",
        metrics=f"{QUAK_DIR}/space_{{quak_family}}/metrics.json",
    params:
        script=script("quak_space"),
        priors=quak_prior_options,
        target=quak_space_setting("target_bkg_eff"),
        min_bkg=quak_space_setting("min_bkg_events"),
    log:
        f"{LOGS}/quak_space/{{qset}}_{{quak_family}}.log",
    benchmark:
        f"{BENCH}/quak_space/{{qset}}_{{quak_family}}.tsv"
    threads: QUAK["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../../envs/quak.yaml"
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
        other_formats=quak_other_formats("quak_space") + quak_other_formats("roc_quak"),
    params:
        script=script("plot_quak"),
        space_other=quak_other_of("quak_space"),
        roc_other=quak_other_of("roc_quak"),
        y_prior=QUAK["plot_prior"] or QUAK["priors"][0],
        title=quak_plot_title(),
    log:
        f"{LOGS}/plot_quak/plot_quak.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../../envs/plot.yaml"
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
        other_formats=quak_other_formats("quak_digits"),
    params:
        script=script("plot_quak_digits"),
    log:
        f"{LOGS}/plot_quak_digits/plot_quak_digits.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../../envs/plot.yaml"
    shell:
        "python {params.script} --losses {input.losses} --metrics {input.metrics}"
        " --output {output.plot} {output.other_formats} > {log} 2>&1"
