# Event generation (dataset "generated"): Pythia 8 + detector response + anti-kT R=1.0 jets +
# N-subjettiness, in chunks that run as separate jobs, merged per process and into the data set files
# that `prepare` reads (resources/generated/features.h5, resources/generated/extra_qcd_sr.h5).
# Processes: qcd, qcd_sr, wprime_{mW}_{mX}_{mY} (X -> qq) and wprime3p_{mW}_{mX}_{mY} (X -> qqq), GeV.
include: "generate_helpers.smk"


wildcard_constraints:
    process=PROCESS_REGEX,
    chunk=r"\d+",


rule generate_events:
    output:
        f"{GENERATED}/chunks/{{process}}/chunk{{chunk}}.h5",
    log:
        log_file("generate_events", "{process}/chunk{chunk}"),
    benchmark:
        bench_file("generate_events", "{process}/chunk{chunk}")
    conda:
        "../../envs/generate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=generation_runtime,
    params:
        script=script("generate_events"),
        events=generation_chunk_events,
        settings=generation_settings,
    shell:
        "python {params.script} --process {wildcards.process} --chunk {wildcards.chunk}"
        " --events {params.events} --settings {params.settings:q} --output {output} > {log} 2>&1"


rule merge_events:
    input:
        generation_chunks,
    output:
        features=f"{GENERATED}/{{process}}.features.h5",
        extended=f"{GENERATED}/{{process}}.extended.h5",
        constituents=f"{GENERATED}/{{process}}.constituents.h5",
        summary=f"{GENERATED}/{{process}}.summary.json",
    log:
        log_file("merge_events", "{process}"),
    benchmark:
        bench_file("merge_events", "{process}")
    conda:
        "../../envs/generate.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        missing=missing_inputs("merge_events"),
        upstream=settings_digest(data_keys("generated")),
        script=script("merge_events"),
    shell:
        "python {params.script} process --features {output.features} --extended {output.extended}"
        " --constituents {output.constituents} --summary {output.summary} {input} > {log} 2>&1"


rule merge_events_dataset:
    """resources/generated/features.h5 = QCD (label 0) + the configured signal (label 1), and the extended
    features in the same rows (scripts/merge_events.py dataset)."""
    input:
        qcd_features=f"{GENERATED}/qcd.features.h5",
        qcd_extended=f"{GENERATED}/qcd.extended.h5",
        signal_features=f"{GENERATED}/{GENERATION_SIGNAL}.features.h5",
        signal_extended=f"{GENERATED}/{GENERATION_SIGNAL}.extended.h5",
    output:
        features=f"{GENERATED}/features.h5",
        extended=f"{GENERATED}/features_extended.h5",
    log:
        log_file("merge_events_dataset"),
    conda:
        "../../envs/generate.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        missing=missing_inputs("merge_events_dataset"),
        upstream=settings_digest(data_keys("generated")),
        script=script("merge_events"),
    shell:
        "python {params.script} dataset --qcd-features {input.qcd_features} --qcd-extended {input.qcd_extended}"
        " --signal-features {input.signal_features} --signal-extended {input.signal_extended}"
        " --features {output.features} --extended {output.extended} > {log} 2>&1"


rule merge_events_extra_sr:
    """resources/generated/extra_qcd_sr.h5, the extra background of the idealized AD, supervised and test
    sets: SR events of qcd_sr only (scripts/merge_events.py extra-sr)."""
    input:
        f"{GENERATED}/qcd_sr.features.h5",
    output:
        f"{GENERATED}/extra_qcd_sr.h5",
    log:
        log_file("merge_events_extra_sr"),
    conda:
        "../../envs/generate.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        missing=missing_inputs("merge_events_extra_sr"),
        upstream=settings_digest(data_keys("generated")),
        script=script("merge_events"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
    shell:
        "python {params.script} extra-sr --qcd-sr-features {input} --sr-low {params.sr_low}"
        " --sr-high {params.sr_high} --output {output} > {log} 2>&1"
