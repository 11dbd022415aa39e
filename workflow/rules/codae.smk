# Dark showers and conditional dual auto-encoders (CoDAE, docs/codae.md):
#   generate_dark_showers (QCD, SUEP per scalar mass, SVJ per Z' mass; chunks) -> make_images (per process) ->
#   train_codae and score_codae (per auto-encoder of codae.variants), train_image_baselines -> evaluate_codae
#   (results/codae_metrics.csv), plot_codae (results/codae_roc.pdf); export_onnx (each f_m for the trigger,
#   results/codae/export_onnx/<variant>/f_m.onnx; bench/bench_codae_latency.py times it).
#   With codae.dataset: external, convert_external (the paper's published .npz images, one image file per
#   process) replaces generate_dark_showers and make_images; the rest is shared.
include: "codae_helpers.smk"


if CODAE_EXTERNAL:

    rule convert_external:
        """The paper's published .npz images (codae.external) as one image file per process (qcd and each signal)."""
        input:
            codae_external_files,
        output:
            codae_images(["qcd"] + CODAE_SIGNALS),
        log:
            log_file("convert_external"),
        benchmark:
            bench_file("convert_external")
        conda:
            "../../envs/codae.yaml"
        threads: 1
        resources:
            mem_mb=8000,
            runtime=60,
        params:
            missing=missing_inputs("convert_external"),
            upstream=settings_digest(CODAE_IMAGE_KEYS),
            script=script("convert_external"),
            test=CODAE["external"]["test"],
            train=CODAE["external"]["train"],
            processes=" ".join(["qcd"] + CODAE_SIGNALS),
            channels=" ".join(CODAE["images"]["channels"]),
        shell:
            "python {params.script} --test-folder {params.test:q} --train-folder {params.train:q}"
            " --channels {params.channels} --processes {params.processes} --outputs {output} > {log} 2>&1"

else:

    rule generate_dark_showers:
        """One chunk of QCD, semi-visible-jet (Pythia 8 Hidden Valley) or SUEP events with every detector object."""
        output:
            f"{DARK}/{{dark_process}}/chunk{{chunk}}.h5",
        log:
            log_file("generate_dark_showers", "{dark_process}/chunk{chunk}"),
        benchmark:
            bench_file("generate_dark_showers", "{dark_process}/chunk{chunk}")
        wildcard_constraints:
            dark_process=DARK_PROCESS_REGEX,
            chunk=r"\d+",
        conda:
            "../../envs/codae.yaml"
        threads: 1
        resources:
            mem_mb=3000,
            runtime=120,
        params:
            upstream=settings_digest(CODAE_IMAGE_KEYS[:2]),
            script=script("generate_dark_showers"),
            events=codae_chunk_events,
            seed=CODAE["generation"]["seed"],
            pthat=CODAE["generation"]["qcd_pthat_min"],
            trigger=CODAE["generation"]["trigger_pt"],
            radius=CODAE["generation"]["jet_radius"],
            sector=json.dumps(CODAE["generation"]["dark_sector"], sort_keys=True),
            suep=json.dumps(CODAE["generation"]["suep"], sort_keys=True),
            trigger_kind=CODAE["generation"]["trigger"],
            bias=CODAE["generation"]["qcd_bias_power"],
            suep_pthat=CODAE["generation"]["suep_pthat_min"],
            detector=codae_detector(),
        shell:
            "python {params.script} --process {wildcards.dark_process} --chunk {wildcards.chunk}"
            " --events {params.events} --seed {params.seed} --qcd-pthat-min {params.pthat}"
            " --qcd-bias-power {params.bias} --trigger {params.trigger_kind} --trigger-pt {params.trigger}"
            " --jet-radius {params.radius} --dark-sector {params.sector:q} --suep {params.suep:q}"
            " --suep-pthat-min {params.suep_pthat}"
            " --detector {params.detector:q} --output {output} > {log} 2>&1"

    rule make_images:
        """Event images (track pT, ECAL, HCAL) of one process, 286 x 360 summed x5 to 72 x 58 by default."""
        input:
            codae_chunks,
        output:
            f"{CODAE_OUT}/make_images/{{dark_process}}.h5",
        log:
            log_file("make_images", "{dark_process}"),
        benchmark:
            bench_file("make_images", "{dark_process}")
        wildcard_constraints:
            dark_process=DARK_PROCESS_REGEX,
        conda:
            "../../envs/codae.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=60,
        params:
            missing=missing_inputs("make_images"),
            upstream=settings_digest(CODAE_IMAGE_KEYS),
            script=script("make_images"),
            eta_max=CODAE["images"]["eta_max"],
            n_eta=CODAE["images"]["n_eta"],
            n_phi=CODAE["images"]["n_phi"],
            factor=CODAE["images"]["factor"],
            channels=" ".join(CODAE["images"]["channels"]),
        shell:
            "python {params.script} --chunks {input} --eta-max {params.eta_max} --n-eta {params.n_eta}"
            " --n-phi {params.n_phi} --factor {params.factor} --channels {params.channels}"
            " --output {output} > {log} 2>&1"


rule train_codae:
    """One auto-encoder of codae.variants (CoDAE, CoDVAE) on QCD track masks (training split), best validation epoch."""
    input:
        qcd=f"{CODAE_OUT}/make_images/qcd.h5",
    output:
        model=f"{CODAE_OUT}/train_codae/{{codae_variant}}.pt",
        card=f"{CODAE_OUT}/train_codae/{{codae_variant}}.json",
    log:
        log_file("train_codae", "{codae_variant}"),
    benchmark:
        bench_file("train_codae", "{codae_variant}")
    wildcard_constraints:
        codae_variant=CODAE_VARIANT_REGEX,
    conda:
        "../../envs/codae.yaml"
    threads: CODAE["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpu_request("codae"),
    params:
        missing=missing_inputs("train_codae"),
        upstream=settings_digest(CODAE_MODEL_KEYS),
        script=script("train_codae"),
        options=codae_params("model"),
        split=codae_split_options(signal=False),
        mask=CODAE["mask_threshold"],
        seed=CODAE["generation"]["seed"],
    shell:
        "python {params.script} --qcd {input.qcd} {params.options} --param variant={wildcards.codae_variant}"
        " {params.split} --mask-threshold {params.mask} --seed {params.seed} --threads {threads}"
        " --output {output.model} --card {output.card} > {log} 2>&1"


rule score_codae:
    """Every score of one auto-encoder (<variant>_<score>) on the common test set (QCD and signal test splits)."""
    input:
        model=f"{CODAE_OUT}/train_codae/{{codae_variant}}.pt",
        qcd=f"{CODAE_OUT}/make_images/qcd.h5",
        signals=codae_images(CODAE_SIGNALS),
    output:
        f"{CODAE_OUT}/score_codae/{{codae_variant}}.h5",
    log:
        log_file("score_codae", "{codae_variant}"),
    wildcard_constraints:
        codae_variant=CODAE_VARIANT_REGEX,
    conda:
        "../../envs/codae.yaml"
    threads: CODAE["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        missing=missing_inputs("score_codae"),
        upstream=settings_digest(CODAE_MODEL_KEYS),
        script=script("score_codae"),
        split=codae_split_options(),
        mask=CODAE["mask_threshold"],
    shell:
        "python {params.script} --model {input.model} --qcd {input.qcd} --signals {input.signals}"
        " {params.split} --mask-threshold {params.mask} --threads {threads} --output {output} > {log} 2>&1"


rule train_image_baselines:
    """Baselines: number of tracks, plain conv auto-encoder (QCD), supervised CNN (upper bound); test scores."""
    input:
        qcd=f"{CODAE_OUT}/make_images/qcd.h5",
        signals=codae_images(CODAE_SIGNALS),
    output:
        model=directory(f"{CODAE_OUT}/train_image_baselines/model"),
        scores=f"{CODAE_OUT}/train_image_baselines/scores.h5",
    log:
        log_file("train_image_baselines"),
    benchmark:
        bench_file("train_image_baselines")
    conda:
        "../../envs/codae.yaml"
    threads: CODAE["threads"]
    resources:
        mem_mb=12000,
        runtime=240,
        gpu=gpu_request("codae"),
    params:
        missing=missing_inputs("train_image_baselines"),
        upstream=settings_digest(CODAE_SCORE_KEYS),
        script=script("train_image_baselines"),
        options=codae_model_params(),
        split=codae_split_options(),
        mask=CODAE["mask_threshold"],
        seed=CODAE["generation"]["seed"],
    shell:
        "python {params.script} --qcd {input.qcd} --signals {input.signals} {params.options} {params.split}"
        " --mask-threshold {params.mask} --seed {params.seed} --threads {threads} --output {output.model}"
        " --scores {output.scores} > {log} 2>&1"


rule evaluate_codae:
    """AUC and FPR at the configured signal efficiency of every score per SUEP and SVJ mass."""
    input:
        codae_score_files(),
        f"{CODAE_OUT}/train_image_baselines/scores.h5",
    output:
        report("results/codae_metrics.csv", caption="../report/codae_metrics.rst", category="CoDAE"),
    log:
        log_file("evaluate_codae"),
    conda:
        "../../envs/codae.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("evaluate_codae"),
        upstream=settings_digest(CODAE_SCORE_KEYS),
        script=script("evaluate_codae"),
        tpr=CODAE["tpr"],
    shell:
        "python {params.script} --scores {input} --tpr {params.tpr} --output {output} > {log} 2>&1"


rule plot_codae:
    """ROC curves of each auto-encoder's main scores and the baselines per SUEP and SVJ mass."""
    input:
        codae_score_files(),
        f"{CODAE_OUT}/train_image_baselines/scores.h5",
    output:
        pdf=report("results/codae_roc.pdf", caption="../report/codae_roc.rst", category="CoDAE"),
        others=plot_formats("results/codae_roc"),
    log:
        log_file("plot_codae"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_codae"),
        upstream=settings_digest(CODAE_SCORE_KEYS),
        script=script("plot_codae"),
        tpr=CODAE["tpr"],
    shell:
        "python {params.script} --scores {input} --tpr {params.tpr} --output {output} > {log} 2>&1"


rule export_onnx:
    """One auto-encoder's f_m (image -> Z_m, the trigger-time model) to ONNX, checked against torch to 1e-5."""
    input:
        model=f"{CODAE_OUT}/train_codae/{{codae_variant}}.pt",
        qcd=f"{CODAE_OUT}/make_images/qcd.h5",
    output:
        onnx=f"{CODAE_OUT}/export_onnx/{{codae_variant}}/f_m.onnx",
        check=f"{CODAE_OUT}/export_onnx/{{codae_variant}}/check.json",
    log:
        log_file("export_onnx", "{codae_variant}"),
    wildcard_constraints:
        codae_variant=CODAE_VARIANT_REGEX,
    conda:
        "../../envs/codae.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        missing=missing_inputs("export_onnx"),
        upstream=settings_digest(CODAE_MODEL_KEYS),
        script=script("export_onnx"),
        test_fraction=CODAE["split"]["qcd_test_fraction"],
        mask=CODAE["mask_threshold"],
    shell:
        "python {params.script} --model {input.model} --qcd {input.qcd} --qcd-test-fraction {params.test_fraction}"
        " --mask-threshold {params.mask} --output {output.onnx} --check {output.check} > {log} 2>&1"
