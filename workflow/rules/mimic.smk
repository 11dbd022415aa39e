# Interpretable mimickers of an image auto-encoder (docs/mimic.md):
#   single jets (generated chunks or Zenodo files) -> single_jet_sample -> jet_features (images, m, pT, EFPs)
#   -> train_image_ae (black box, scores of every jet) -> select_mimicker (hln, pnn: iterative choice of EFPs)
#   -> plot_mimickers: results/mimic_ado.pdf, results/mimic_auc.pdf, results/mimic_efps.pdf, results/mimic_selection.json
include: "mimic_helpers.smk"


rule generate_single_jets:
    """One chunk of boosted single jets: Pythia 8 -> detector response -> leading anti-kT jet in the pT window."""
    output:
        jets="resources/single_jets/{sj_process}/chunk{sj_chunk}.h5",
        meta="resources/single_jets/{sj_process}/chunk{sj_chunk}.json",
    log:
        log_file("generate_single_jets", "{sj_process}_chunk{sj_chunk}"),
    benchmark:
        bench_file("generate_single_jets", "{sj_process}_chunk{sj_chunk}")
    wildcard_constraints:
        sj_process=SINGLE_JET_PROCESS_REGEX,
        sj_chunk=r"\d+",
    conda:
        "../../envs/mimickers.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        upstream=settings_digest(MIMIC_JET_KEYS),
        script=script("generate_single_jets"),
        jets=single_jets_chunk_jets,
        seed=MIMIC["generation"]["seed"],
        pt_low=MIMIC["pt_window"]["low"],
        pt_high=MIMIC["pt_window"]["high"],
        pthat_min=MIMIC["generation"]["pthat_min"],
        pthat_max=MIMIC["generation"]["pthat_max"],
        radius=MIMIC["generation"]["jet_radius"],
        mass_window=MIMIC["generation"]["mass_window"],
        detector=json.dumps(config["generation"]["detector"], sort_keys=True),
    shell:
        "python {params.script} --process {wildcards.sj_process} --chunk {wildcards.sj_chunk}"
        " --jets {params.jets} --seed {params.seed} --pt-window {params.pt_low} {params.pt_high}"
        " --pthat {params.pthat_min} {params.pthat_max} --radius {params.radius}"
        " --mass-window {params.mass_window} --detector '{params.detector}'"
        " --output {output.jets} --meta {output.meta} > {log} 2>&1"


rule single_jet_sample:
    """One named sample (background or a signal) in the pT window, from generated chunks or a Zenodo file."""
    input:
        single_jet_sample_inputs,
    output:
        f"{MIMIC_DIR}/single_jet_sample/{{mimic_sample}}.h5",
    log:
        log_file("single_jet_sample", "{mimic_sample}"),
    wildcard_constraints:
        mimic_sample=MIMIC_SAMPLE_REGEX,
    conda:
        "../../envs/mimickers.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        missing=missing_inputs("single_jet_sample"),
        upstream=settings_digest(MIMIC_JET_KEYS),
        script=script("single_jet_sample"),
        source=MIMIC["source"],
        pt_low=MIMIC["pt_window"]["low"],
        pt_high=MIMIC["pt_window"]["high"],
        max_jets=single_jet_max_jets,
    shell:
        "python {params.script} --source {params.source} --inputs {input} --sample {wildcards.mimic_sample}"
        " --pt-window {params.pt_low} {params.pt_high} --max-jets {params.max_jets} --output {output} > {log} 2>&1"


rule jet_features:
    """Jet images and the observables (m, pT, 101 EFPs) of one sample."""
    input:
        f"{MIMIC_DIR}/single_jet_sample/{{mimic_sample}}.h5",
    output:
        f"{MIMIC_DIR}/jet_features/{{mimic_sample}}.h5",
    log:
        log_file("jet_features", "{mimic_sample}"),
    benchmark:
        bench_file("jet_features", "{mimic_sample}")
    wildcard_constraints:
        mimic_sample=MIMIC_SAMPLE_REGEX,
    conda:
        "../../envs/mimickers.yaml"
    threads: MIMIC["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        missing=missing_inputs("jet_features"),
        upstream=settings_digest(MIMIC_FEATURE_KEYS),
        script=script("jet_features"),
        n_pixels=MIMIC["images"]["n_pixels"],
        width=MIMIC["images"]["width"],
        center=MIMIC["images"]["center"],
        efp_max=MIMIC["efp_max_constituents"],
    shell:
        "python {params.script} --jets {input} --n-pixels {params.n_pixels} --width {params.width}"
        " --center {params.center} --efp-max-constituents {params.efp_max} --threads {threads}"
        " --output {output} > {log} 2>&1"


rule train_image_ae:
    """The black box: convolutional image auto-encoder on the background training split; MSE of every jet."""
    input:
        background=mimic_features("qcd"),
        signals=[mimic_features(name) for name in MIMIC_SIGNALS],
    output:
        model=f"{MIMIC_DIR}/train_image_ae/model.pt",
        scores=f"{MIMIC_DIR}/train_image_ae/scores.h5",
        history=f"{MIMIC_DIR}/train_image_ae/history.json",
    log:
        log_file("train_image_ae"),
    benchmark:
        bench_file("train_image_ae")
    conda:
        "../../envs/mimickers.yaml"
    threads: MIMIC["threads"]
    resources:
        mem_mb=6000,
        runtime=120,
        gpu=gpu_request("mimickers"),
    params:
        missing=missing_inputs("train_image_ae"),
        upstream=settings_digest(MIMIC_AE_KEYS),
        script=script("train_image_ae"),
        signals=mimic_signal_args,
        train_fraction=MIMIC["train_fraction"],
        options=param_options(MIMIC["image_ae"]),
        seed=MIMIC["seed"],
    shell:
        "python {params.script} --background {input.background} --signals {params.signals}"
        " --train-fraction {params.train_fraction} {params.options}"
        " --seed {params.seed} --threads {threads} --model {output.model} --scores {output.scores}"
        " --history {output.history} > {log} 2>&1"


rule select_mimicker:
    """Iterative choice of EFPs for one mimicker (hln or pnn), with its ADO and AUCs after every round."""
    input:
        background=mimic_features("qcd"),
        signals=[mimic_features(name) for name in MIMIC_SIGNALS],
        scores=f"{MIMIC_DIR}/train_image_ae/scores.h5",
    output:
        f"{MIMIC_DIR}/select_mimicker/{{mimic_kind}}.json",
    log:
        log_file("select_mimicker", "{mimic_kind}"),
    benchmark:
        bench_file("select_mimicker", "{mimic_kind}")
    wildcard_constraints:
        mimic_kind="hln|pnn",
    conda:
        "../../envs/mimickers.yaml"
    threads: MIMIC["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=gpu_request("mimickers"),
    params:
        missing=missing_inputs("select_mimicker"),
        upstream=settings_digest(MIMIC_SELECTION_KEYS),
        script=script("select_mimicker"),
        signals=mimic_signal_args,
        options=mimicker_options,
        rounds=MIMIC["rounds"],
        min_gain=MIMIC["min_ado_gain"],
        train_fraction=MIMIC["train_fraction"],
        select_fraction=MIMIC["select_fraction"],
        seed=MIMIC["seed"],
        image_observables="--image-observables" if MIMIC["image_observables"] else "",
    shell:
        "python {params.script} --kind {wildcards.mimic_kind} --background {input.background}"
        " --signals {params.signals} --ae-scores {input.scores} --rounds {params.rounds} --min-gain {params.min_gain}"
        " --train-fraction {params.train_fraction} --select-fraction {params.select_fraction}"
        " {params.image_observables} {params.options} --seed {params.seed} --threads {threads}"
        " --output {output} > {log} 2>&1"


rule plot_mimickers:
    """ADO and AUC against round for both mimickers, the chosen EFPs as multigraphs, and the summary JSON."""
    input:
        hln=f"{MIMIC_DIR}/select_mimicker/hln.json",
        pnn=f"{MIMIC_DIR}/select_mimicker/pnn.json",
    output:
        ado=report("results/mimic_ado.pdf", caption="../report/mimic_ado.rst", category="Mimickers"),
        auc=report("results/mimic_auc.pdf", caption="../report/mimic_auc.rst", category="Mimickers"),
        efps=report("results/mimic_efps.pdf", caption="../report/mimic_efps.rst", category="Mimickers"),
        summary="results/mimic_selection.json",
        other_formats=[f for stem in ("mimic_ado", "mimic_auc", "mimic_efps") for f in plot_formats(f"results/{stem}")],
    log:
        log_file("plot_mimickers"),
    conda:
        "../../envs/mimickers.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_mimickers"),
        upstream=settings_digest(MIMIC_SELECTION_KEYS),
        script=script("plot_mimickers"),
        formats=" ".join(config["plots"]["formats"]),
    shell:
        "python {params.script} --selections hln={input.hln} pnn={input.pnn} --formats {params.formats}"
        " --ado-plot {output.ado} --auc-plot {output.auc} --efp-plot {output.efps}"
        " --summary {output.summary} > {log} 2>&1"


rule mimickers:
    """All outputs of the mimicker study."""
    input:
        rules.plot_mimickers.output,
