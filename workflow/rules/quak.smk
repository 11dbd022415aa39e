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
include: "quak_helpers.smk"


use rule generate_events as quak_generate_events with:
    output:
        f"{QUAK_RADIUS_GENERATED}/chunks/{{process}}/chunk{{chunk}}.h5",
    log:
        log_file("quak_generate_events", "{process}/chunk{chunk}"),
    benchmark:
        bench_file("quak_generate_events", "{process}/chunk{chunk}")
    params:
        script=script("generate_events"),
        events=generation_chunk_events,
        settings=quak_generation_settings,


use rule merge_events as quak_merge_events with:
    input:
        quak_generation_chunks,
    output:
        features=f"{QUAK_RADIUS_GENERATED}/{{process}}.features.h5",
        extended=f"{QUAK_RADIUS_GENERATED}/{{process}}.extended.h5",
        constituents=f"{QUAK_RADIUS_GENERATED}/{{process}}.constituents.h5",
        summary=f"{QUAK_RADIUS_GENERATED}/{{process}}.summary.json",
    log:
        log_file("quak_merge_events", "{process}"),
    benchmark:
        bench_file("quak_merge_events", "{process}")
    params:
        missing=missing_inputs("quak_merge_events"),
        upstream=settings_digest(data_keys("generated") + ["quak.jet_radius"]),
        script=script("merge_events"),


wildcard_constraints:
    qset="generated|lhco|digits|mnist",
    quak_family=r"flow|vae(?:_beta[0-9.e+-]+)?",
    sample=r"background|wprime(?:3p)?_\d+_\d+_\d+|digit\d",


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
        radius=QUAK_RADIUS,
    shell:
        "python {params.script} --particles {input} --max-events {params.max_events} --radius {params.radius}"
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
        family=lambda wildcards: quak_family_base(wildcards.quak_family),
        seed=QUAK["seed"],
    shell:
        "python {params.script} --samples {input} --sample {wildcards.sample} --family {params.family}"
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
        windows=json.dumps(QUAK["signal_windows"], sort_keys=True),
    shell:
        "python {params.script} --samples {input.samples} {params.priors} --target-bkg-eff {params.target}"
        " --min-bkg-events {params.min_bkg} --signal-windows {params.windows:q} --threads {threads} --losses {output.losses}"
        " --metrics {output.metrics} > {log} 2>&1"


rule quak_beta_scan:
    """The VAE beta scan (quak.vae.beta a list): the background-prior-alone AUC per beta on every signal
    sample, on all its events and inside its window, beside the paper's figures; and the prior
    combinations' AUC on the held-out signals. results/quak/{qset}/quak_beta_scan/table.md and .json."""
    input:
        unpack(quak_beta_scan_files),
    output:
        table=f"{QUAK_DIR}/quak_beta_scan/table.md",
        json=f"{QUAK_DIR}/quak_beta_scan/table.json",
    log:
        log_file("quak_beta_scan", "{qset}"),
    wildcard_constraints:
        qset="generated|lhco",
    conda:
        "../../envs/quak.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        missing=missing_inputs("quak_beta_scan"),
        upstream=quak_upstream("scan"),
        script=script("quak_beta_scan"),
        metrics=quak_beta_scan_options,
    shell:
        "python {params.script} {params.metrics} --table {output.table} --json {output.json} > {log} 2>&1"


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
