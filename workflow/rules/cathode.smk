# CATHODE and its benchmarks (REFERENCE.md §2): SB flow -> SR samples -> classifiers -> metrics -> plots.
#
# Per prepared set results/{dataset}/nsig{nsig}_seed{seed}/ holds
#   flow_sb/, flow_sr/            density models (flow.pt, scaler.npz, condition.json, history.json)
#   samples/sr_samples.h5         SB flow sampled in the SR (CATHODE's background template)
#   classifier/{mode}_{family}_run{run}/   model/ and scores.h5 (test set)
#   anode/scores.h5               ANODE's density-ratio scores (no classifier)
#   metrics/{method}_run{run}.json   method = {mode}_{family} or anode
include: "cathode_common.smk"


rule train_flow:
    """Conditional MAF of the 4 features given mjj: on the sidebands (CATHODE, ANODE) or the SR (ANODE)."""
    input:
        unpack(train_flow_inputs),
    output:
        flow=f"{SET}/flow_{{region}}/flow.pt",
        scaler=f"{SET}/flow_{{region}}/scaler.npz",
        condition=f"{SET}/flow_{{region}}/condition.json",
        history=f"{SET}/flow_{{region}}/history.json",
    params:
        script=script("train_flow"),
        options=flow_options(),
        scalers=scalers_option,
        folder=output_folder("flow"),
        # Not an output: Snakemake would delete it before a rerun; the script removes it when done.
        checkpoint=f"{SET}/checkpoints/flow_{{region}}.pt",
    log:
        f"{LOGS}/{{dataset}}/train_flow/nsig{{nsig}}_seed{{seed}}_{{region}}.log",
    benchmark:
        f"{BENCH}/{{dataset}}/train_flow/nsig{{nsig}}_seed{{seed}}_{{region}}.tsv"
    # The flows are the long pole of the DAG (flow -> samples -> CATHODE classifiers): start them first.
    priority: 10
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpu_requested(),
    conda:
        "../../envs/torch.yaml"
    shell:
        "python {params.script} --data {input.data} --region {wildcards.region} {params.scalers}"
        " {params.options} --seed {wildcards.seed} --threads {threads}"
        " --checkpoint {params.checkpoint} --output {params.folder} > {log} 2>&1"


rule sample_sr:
    """CATHODE's background template: mjj from a KDE of the SR data, features from the SB flow."""
    input:
        data="results/{dataset}/prepared/nsig{nsig}_seed{seed}.h5",
        flow=f"{SET}/flow_sb/flow.pt",
    output:
        f"{SET}/samples/sr_samples.h5",
    params:
        script=script("sample_sr"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        oversampling=CATHODE["sampling"]["oversampling"],
        bandwidth=CATHODE["sampling"]["kde_bandwidth"],
        folder=input_folder("flow"),
    log:
        f"{LOGS}/{{dataset}}/sample_sr/nsig{{nsig}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/{{dataset}}/sample_sr/nsig{{nsig}}_seed{{seed}}.tsv"
    priority: 5
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/torch.yaml"
    shell:
        "python {params.script} --data {input.data} --flow {params.folder} --sr {params.sr_low} {params.sr_high}"
        " --oversampling {params.oversampling} --kde-bandwidth {params.bandwidth} --seed {wildcards.seed}"
        " --threads {threads} --output {output} > {log} 2>&1"


rule train_classifier:
    """One classifier run of CATHODE, CWoLa, idealized AD or supervised, and its test-set scores."""
    input:
        unpack(train_classifier_inputs),
    output:
        model=directory(f"{SET}/classifier/{{mode}}_{{family}}_run{{run}}/model"),
        scores=f"{SET}/classifier/{{mode}}_{{family}}_run{{run}}/scores.h5",
    params:
        script=script("train_classifier"),
        options=classifier_options,
        samples=samples_option,
        seed=classifier_seed,
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        cwola_low=config["regions"]["cwola_sb"]["low"],
        cwola_high=config["regions"]["cwola_sb"]["high"],
    log:
        f"{LOGS}/{{dataset}}/train_classifier/nsig{{nsig}}_seed{{seed}}_{{mode}}_{{family}}_run{{run}}.log",
    benchmark:
        f"{BENCH}/{{dataset}}/train_classifier/nsig{{nsig}}_seed{{seed}}_{{mode}}_{{family}}_run{{run}}.tsv"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=classifier_gpu,
    conda:
        "../../envs/torch.yaml"
    shell:
        "python {params.script} --data {input.data} --mode {wildcards.mode} {params.samples}"
        " --family {wildcards.family} {params.options} --sr {params.sr_low} {params.sr_high}"
        " --cwola-sb {params.cwola_low} {params.cwola_high} --seed {params.seed} --threads {threads}"
        " --output {output.model} --scores {output.scores} > {log} 2>&1"


rule score_anode:
    """ANODE: log p_SR(x|m) - log p_SB(x|m) on the test set."""
    input:
        data="results/{dataset}/prepared/nsig{nsig}_seed{seed}.h5",
        flow_sr=f"{SET}/flow_sr/flow.pt",
        flow_sb=f"{SET}/flow_sb/flow.pt",
    output:
        f"{SET}/anode/scores.h5",
    params:
        script=script("score_anode"),
        sr=input_folder("flow_sr"),
        sb=input_folder("flow_sb"),
    log:
        f"{LOGS}/{{dataset}}/score_anode/nsig{{nsig}}_seed{{seed}}.log",
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../../envs/torch.yaml"
    shell:
        "python {params.script} --data {input.data} --flow-sr {params.sr} --flow-sb {params.sb}"
        " --threads {threads} --scores {output} > {log} 2>&1"


rule evaluate:
    """SIC, max SIC, SIC at fixed signal efficiencies, AUC of one run, as JSON."""
    input:
        scores=scores_file,
        summary="results/{dataset}/prepared/nsig{nsig}_seed{seed}.json",
    output:
        f"{SET}/metrics/{{method}}_run{{run}}.json",
    params:
        script=script("evaluate"),
        min_bkg_events=CATHODE["min_bkg_events"],
    log:
        f"{LOGS}/{{dataset}}/evaluate/nsig{{nsig}}_seed{{seed}}_{{method}}_run{{run}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/data.yaml"
    shell:
        "python {params.script} --scores {input.scores} --summary {input.summary} --method {wildcards.method}"
        " --dataset {wildcards.dataset} --nsig {wildcards.nsig} --seed {wildcards.seed} --run {wildcards.run}"
        " --min-bkg-events {params.min_bkg_events} --output {output} > {log} 2>&1"


rule plot_sic:
    """SIC curves (median, 16-84 % band over seeds and runs): CATHODE with IAD and supervised, or all modes."""
    input:
        sic_metrics,
    output:
        plot_outputs("results/{dataset}/plots/sic_{selection}_{family}_nsig{nsig}"),
    params:
        script=script("plot_sic"),
        title="{dataset} data, {nsig} injected signal events, classifier: {family}",
    log:
        f"{LOGS}/{{dataset}}/plot_sic/{{selection}}_{{family}}_nsig{{nsig}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/plot.yaml"
    shell:
        "python {params.script} --metrics {input} --title '{params.title}' --output {output} > {log} 2>&1"


rule plot_sb_scan:
    """Max SIC against injected S/B for every mode (scan points and seeds from config injection)."""
    input:
        sb_scan_metrics,
    output:
        plot_outputs("results/{dataset}/plots/sb_scan_{family}"),
    params:
        script=script("plot_sb_scan"),
        title="{dataset} data, classifier: {family}",
    log:
        f"{LOGS}/{{dataset}}/plot_sb_scan/{{family}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/plot.yaml"
    shell:
        "python {params.script} --metrics {input} --title '{params.title}' --output {output} > {log} 2>&1"


rule sic_cathode:
    """results/sic_cathode.pdf: CATHODE, idealized AD and supervised on the configured data and injection."""
    input:
        main_plot("sic_cathode"),
    output:
        report_outputs("sic_cathode"),
    log:
        f"{LOGS}/sic_cathode.log",
    localrule: True
    conda:
        "../../envs/plot.yaml"
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"


rule sic_comparison:
    """results/sic_comparison.pdf: every mode of config cathode.modes on the configured injection."""
    input:
        main_plot("sic_comparison"),
    output:
        report_outputs("sic_comparison"),
    log:
        f"{LOGS}/sic_comparison.log",
    localrule: True
    conda:
        "../../envs/plot.yaml"
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"


rule sb_scan:
    """results/sb_scan.pdf: max SIC against injected S/B (config injection.scan_nsig, scan_seeds)."""
    input:
        main_plot("sb_scan"),
    output:
        report_outputs("sb_scan"),
    log:
        f"{LOGS}/sb_scan.log",
    localrule: True
    conda:
        "../../envs/plot.yaml"
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"
