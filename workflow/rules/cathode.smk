# CATHODE and its benchmarks (docs/cathode.md): prepare -> SB flow -> SR samples -> classifiers -> metrics
# -> plots. Every output lies under results/cathode/{dataset}{variant}/, in a folder named after its rule; the
# variant is "" (the data set as configured, features lhco4), "_<features>" for another feature set
# (lhco4_dr, tau56, lhco4_noise10: hepad.cathode.feature_sets; cathode.features picks the top-level plots'),
# then optionally "_shift<s>", the shifted data set with mj1 and dmj += s * mjj (prepare --shift; the
# paper's s = 0.1 makes the sic_comparison_shifted plot of results/cathode/{dataset}/):
#
#   prepare/nsig{nsig}_seed{seed}.h5, .json       the prepared set (all splits) and its counts
#   nsig{nsig}_seed{seed}/                        one prepared set's chain:
#     train_flow/{sb,sr}/                         density models (flow.pt, scaler.npz, condition.json, history.json)
#     sample_sr/sr_samples.h5                     SB flow sampled in the SR (CATHODE's background template)
#     latent_sr/latent.h5                         SR, test and SB events in the SB flow's latent space (LaCATHODE)
#     train_classifier/{mode}_{family}_run{run}/  model/ and scores.h5 (test set, and the SB validation events)
#     score_anode/scores.h5                       ANODE's density-ratio scores (no classifier)
#     train_ranode/run{run}/                      R-ANODE's signal flow (flow.pt, fit.json) and scores.h5
#     evaluate/{method}_run{run}.json             metrics; method = {mode}_{family}, anode or ranode
#   plot_sic/, plot_sb_scan/, plot_sculpting/,
#   plot_data_overview/                           the plots; `publish` copies the configured ones to results/
include: "cathode_helpers.smk"


wildcard_constraints:
    region="sb|sr",
    mode="cathode|cwola|iad|supervised|lacathode",
    family="mlp|hgb",
    method="(?:cathode|cwola|iad|supervised|lacathode)_(?:mlp|hgb)|anode|ranode",
    selection="cathode|comparison|comparison_shifted",
    run=r"\d+",
    published="sic_cathode|sic_comparison|sic_comparison_shifted|sb_scan|sculpting|data_overview",
    variant=VARIANT_REGEX,


rule prepare:
    """From events to the CATHODE inputs of a feature set: regions, injection by {nsig} and {seed}, splits."""
    input:
        unpack(prepare_inputs),
    output:
        data=f"{PREPARED}.h5",
        summary=f"{PREPARED}.json",
    log:
        log_file("prepare", SET_LOG),
    benchmark:
        bench_file("prepare", SET_LOG)
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        missing=missing_inputs("prepare"),
        upstream=cathode_upstream("prepare"),
        script=script("prepare"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        split=config["prepare"],
        shift=shift_of,
        feature_set=feature_set_of,
    shell:
        "python {params.script} --features {input.features} --extra-bkg {input.extra_bkg}"
        " --nsig {wildcards.nsig} --seed {wildcards.seed} --sr {params.sr_low} {params.sr_high}"
        " --sb-val-fraction {params.split[sb_val_fraction]} --sr-val-fraction {params.split[sr_val_fraction]}"
        " --extra-bkg-test-fraction {params.split[extra_bkg_test_fraction]}"
        " --n-test-signal {params.split[n_test_signal]} --shift {params.shift} --feature-set {params.feature_set}"
        " --output {output.data} --summary {output.summary} > {log} 2>&1"


rule train_flow:
    """Conditional flow of the set's features given mjj: on the sidebands (CATHODE, ANODE) or the SR (ANODE)."""
    input:
        unpack(train_flow_inputs),
    output:
        flow=f"{SET}/train_flow/{{region}}/flow.pt",
        scaler=f"{SET}/train_flow/{{region}}/scaler.npz",
        condition=f"{SET}/train_flow/{{region}}/condition.json",
        history=f"{SET}/train_flow/{{region}}/history.json",
    log:
        log_file("train_flow", f"{SET_LOG}_{{region}}"),
    benchmark:
        bench_file("train_flow", f"{SET_LOG}_{{region}}")
    # The flows are the long pole of the DAG (flow -> samples -> CATHODE classifiers): start them first.
    priority: 10
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpu_request("cathode"),
    params:
        missing=missing_inputs("train_flow"),
        upstream=cathode_upstream("flow"),
        script=script("train_flow"),
        options=flow_options,
        scalers=scalers_option,
        folder=output_folder("flow"),
        # Not an output: Snakemake would delete it before a rerun; the script removes it when done.
        checkpoint=f"{SET}/checkpoints/train_flow_{{region}}.pt",
    shell:
        "python {params.script} --data {input.data} --region {wildcards.region} {params.scalers}"
        " {params.options} --seed {wildcards.seed} --threads {threads}"
        " --checkpoint {params.checkpoint} --output {params.folder} > {log} 2>&1"


rule sample_sr:
    """CATHODE's background template: mjj from a KDE of the SR data, features from the SB flow."""
    input:
        data=f"{PREPARED}.h5",
        flow=f"{SET}/train_flow/sb/flow.pt",
    output:
        f"{SET}/sample_sr/sr_samples.h5",
    log:
        log_file("sample_sr", SET_LOG),
    benchmark:
        bench_file("sample_sr", SET_LOG)
    priority: 5
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        missing=missing_inputs("sample_sr"),
        upstream=cathode_upstream("samples"),
        script=script("sample_sr"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        oversampling=CATHODE["sampling"]["oversampling"],
        bandwidth=CATHODE["sampling"]["kde_bandwidth"],
        folder=input_folder("flow"),
    shell:
        "python {params.script} --data {input.data} --flow {params.folder} --sr {params.sr_low} {params.sr_high}"
        " --oversampling {params.oversampling} --kde-bandwidth {params.bandwidth} --seed {wildcards.seed}"
        " --threads {threads} --output {output} > {log} 2>&1"


rule latent_sr:
    """LaCATHODE's inputs: SR, test and SB validation events mapped to the SB flow's latent space, and
    standard-normal draws as the background template there."""
    input:
        data=f"{PREPARED}.h5",
        flow=f"{SET}/train_flow/sb/flow.pt",
    output:
        f"{SET}/latent_sr/latent.h5",
    log:
        log_file("latent_sr", SET_LOG),
    benchmark:
        bench_file("latent_sr", SET_LOG)
    priority: 5
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        missing=missing_inputs("latent_sr"),
        upstream=cathode_upstream("samples"),
        script=script("latent_sr"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        oversampling=CATHODE["sampling"]["oversampling"],
        bandwidth=CATHODE["sampling"]["kde_bandwidth"],
        folder=input_folder("flow"),
    shell:
        "python {params.script} --data {input.data} --flow {params.folder} --sr {params.sr_low} {params.sr_high}"
        " --oversampling {params.oversampling} --kde-bandwidth {params.bandwidth} --seed {wildcards.seed}"
        " --threads {threads} --output {output} > {log} 2>&1"


rule train_classifier:
    """One classifier run of CATHODE, LaCATHODE, CWoLa, idealized AD or supervised, and its test-set scores."""
    input:
        unpack(train_classifier_inputs),
    output:
        model=directory(f"{SET}/train_classifier/{{mode}}_{{family}}_run{{run}}/model"),
        scores=f"{SET}/train_classifier/{{mode}}_{{family}}_run{{run}}/scores.h5",
    log:
        log_file("train_classifier", f"{SET_LOG}_{{mode}}_{{family}}_run{{run}}"),
    benchmark:
        bench_file("train_classifier", f"{SET_LOG}_{{mode}}_{{family}}_run{{run}}")
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=classifier_gpu,
    params:
        missing=missing_inputs("train_classifier"),
        upstream=cathode_upstream("classifier"),
        script=script("train_classifier"),
        options=classifier_options,
        samples=samples_option,
        seed=classifier_seed,
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        cwola_low=config["regions"]["cwola_sb"]["low"],
        cwola_high=config["regions"]["cwola_sb"]["high"],
    shell:
        "python {params.script} --data {input.data} --mode {wildcards.mode} {params.samples}"
        " --family {wildcards.family} {params.options} --sr {params.sr_low} {params.sr_high}"
        " --cwola-sb {params.cwola_low} {params.cwola_high} --seed {params.seed} --threads {threads}"
        " --output {output.model} --scores {output.scores} > {log} 2>&1"


rule score_anode:
    """ANODE: log p_SR(x|m) - log p_SB(x|m) on the test set."""
    input:
        data=f"{PREPARED}.h5",
        flow_sr=f"{SET}/train_flow/sr/flow.pt",
        flow_sb=f"{SET}/train_flow/sb/flow.pt",
    output:
        f"{SET}/score_anode/scores.h5",
    log:
        log_file("score_anode", SET_LOG),
    benchmark:
        bench_file("score_anode", SET_LOG)
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        missing=missing_inputs("score_anode"),
        upstream=cathode_upstream("flow"),
        script=script("score_anode"),
        sr=input_folder("flow_sr"),
        sb=input_folder("flow_sb"),
    shell:
        "python {params.script} --data {input.data} --flow-sr {params.sr} --flow-sb {params.sb}"
        " --threads {threads} --scores {output} > {log} 2>&1"


rule train_ranode:
    """R-ANODE: a signal flow and the signal fraction fitted in the SR beside the frozen SB flow; scores."""
    input:
        data=f"{PREPARED}.h5",
        summary=f"{PREPARED}.json",
        flow_sb=f"{SET}/train_flow/sb/flow.pt",
    output:
        flow=f"{SET}/train_ranode/run{{run}}/flow.pt",
        fit=f"{SET}/train_ranode/run{{run}}/fit.json",
        scores=f"{SET}/train_ranode/run{{run}}/scores.h5",
    log:
        log_file("train_ranode", f"{SET_LOG}_run{{run}}"),
    benchmark:
        bench_file("train_ranode", f"{SET_LOG}_run{{run}}")
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpu_request("cathode"),
    params:
        missing=missing_inputs("train_ranode"),
        upstream=cathode_upstream("ranode"),
        script=script("train_ranode"),
        options=ranode_options,
        seed=classifier_seed,
        w_mode=CATHODE["ranode"]["w_mode"],
        w=CATHODE["ranode"]["w"],
        w_scan=" ".join(str(w) for w in CATHODE["ranode"]["w_scan"]),
        sb=input_folder("flow_sb"),
        folder=output_folder("flow"),
    shell:
        "python {params.script} --data {input.data} --summary {input.summary} --flow-sb {params.sb}"
        " --w-mode {params.w_mode} --w {params.w} --w-scan {params.w_scan} {params.options}"
        " --seed {params.seed} --threads {threads} --output {params.folder} --scores {output.scores} > {log} 2>&1"


rule evaluate:
    """SIC, max SIC, SIC at fixed signal efficiencies, AUC of one run, and the mjj sculpting check, as JSON."""
    input:
        scores=scores_file,
        summary=f"{PREPARED}.json",
    output:
        f"{SET}/evaluate/{{method}}_run{{run}}.json",
    log:
        log_file("evaluate", f"{SET_LOG}_{{method}}_run{{run}}"),
    benchmark:
        bench_file("evaluate", f"{SET_LOG}_{{method}}_run{{run}}")
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("evaluate"),
        upstream=cathode_upstream("evaluate"),
        script=script("evaluate"),
        min_bkg_events=CATHODE["min_bkg_events"],
        sic_min_fpr=sic_min_fpr_option,
        sculpt_effs=" ".join(str(e) for e in CATHODE["sculpting"]["efficiencies"]),
        sculpt_bins=CATHODE["sculpting"]["bins"],
    shell:
        "python {params.script} --scores {input.scores} --summary {input.summary} --method {wildcards.method}"
        " --dataset {wildcards.dataset}{wildcards.variant} --nsig {wildcards.nsig} --seed {wildcards.seed}"
        " --run {wildcards.run} --min-bkg-events {params.min_bkg_events} {params.sic_min_fpr}"
        " --sculpt-efficiencies {params.sculpt_effs} --sculpt-bins {params.sculpt_bins}"
        " --output {output} > {log} 2>&1"


rule template_fidelity:
    """CATHODE's template against the true SR background: a classifier two-sample test (AUC; 0.5 is perfect)."""
    input:
        data=f"{PREPARED}.h5",
        samples=f"{SET}/sample_sr/sr_samples.h5",
    output:
        TEMPLATE_FIDELITY,
    log:
        log_file("template_fidelity", f"{SET_LOG}_{{family}}"),
    benchmark:
        bench_file("template_fidelity", f"{SET_LOG}_{{family}}")
    conda:
        "../../envs/torch.yaml"
    threads: CATHODE["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=classifier_gpu,
    params:
        missing=missing_inputs("template_fidelity"),
        upstream=fidelity_upstream,
        script=script("template_fidelity"),
        options=classifier_options,
    shell:
        "python {params.script} --data {input.data} --samples {input.samples} --family {wildcards.family}"
        " {params.options} --seed {wildcards.seed} --threads {threads} --output {output} > {log} 2>&1"


rule leaderboard:
    """Every method x flow kind x classifier x feature set of config cathode.leaderboard at each injection:
    max SIC (median, 16-84 %), SIC at efficiencies 0.2 and 0.5, AUC, template fidelity, training CPU time."""
    input:
        leaderboard_inputs,
    output:
        csv=report("results/cathode/leaderboard.csv", caption="../report/leaderboard.rst", category="Leaderboard"),
        pdf=report("results/cathode/leaderboard.pdf", caption="../report/leaderboard.rst", category="Leaderboard"),
        others=plot_formats("results/cathode/leaderboard"),
    log:
        log_file("leaderboard"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("leaderboard"),
        upstream=leaderboard_upstream,
        script=script("leaderboard"),
        entries=leaderboard_lines,
        title=f"{config['dataset']} data",
    # The runs go to stdin as a here-document: thousands of them would not fit on a command line.
    shell:
        "python {params.script} --entries - --title '{params.title}' --csv {output.csv}"
        " --output {output.pdf} {output.others} > {log} 2>&1 <<'ENTRIES'\n{params.entries}\nENTRIES"


rule plot_sic:
    """SIC curves (median, 16-84 % band over seeds and runs): CATHODE with IAD and supervised, or all modes
    (``comparison_shifted``: all modes on the shifted data set, mj1 and dmj += 0.1 mjj)."""
    input:
        sic_metrics,
    output:
        report(
            f"{CATHODE_DIR}/plot_sic/sic_{{selection}}_{{family}}_nsig{{nsig}}.pdf",
            caption="../report/sic.rst",
            category="CATHODE and benchmarks",
        ),
        plot_formats(f"{CATHODE_DIR}/plot_sic/sic_{{selection}}_{{family}}_nsig{{nsig}}"),
    log:
        log_file("plot_sic", "{dataset}{variant}/sic_{selection}_{family}_nsig{nsig}"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_sic"),
        upstream=cathode_upstream("plot"),
        script=script("plot_sic"),
        title=sic_title,
    shell:
        "python {params.script} --metrics {input} --title '{params.title}' --output {output} > {log} 2>&1"


rule plot_sb_scan:
    """Max SIC against injected S/B for every mode (scan points and seeds from config injection)."""
    input:
        sb_scan_metrics,
    output:
        report(
            f"{CATHODE_DIR}/plot_sb_scan/sb_scan_{{family}}.pdf",
            caption="../report/sb_scan.rst",
            category="CATHODE and benchmarks",
        ),
        plot_formats(f"{CATHODE_DIR}/plot_sb_scan/sb_scan_{{family}}"),
    log:
        log_file("plot_sb_scan", "{dataset}{variant}/sb_scan_{family}"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_sb_scan"),
        upstream=cathode_upstream("plot"),
        script=script("plot_sb_scan"),
        title="{dataset}{variant} data, classifier: {family}",
    shell:
        "python {params.script} --metrics {input} --title '{params.title}' --output {output} > {log} 2>&1"


rule plot_sculpting:
    """Do cuts on the score keep the background mjj spectrum? CATHODE, LaCATHODE and CWoLa on the standard
    and the shifted set (mj1, dmj += 0.1 mjj), first injection seed, run 0; nsig 0: background only."""
    input:
        unpack(sculpting_scores),
    output:
        report(
            f"{DATA_DIR}/plot_sculpting/sculpting_{{family}}_nsig{{nsig}}.pdf",
            caption="../report/sculpting.rst",
            category="CATHODE and benchmarks",
        ),
        plot_formats(f"{DATA_DIR}/plot_sculpting/sculpting_{{family}}_nsig{{nsig}}"),
    log:
        log_file("plot_sculpting", "{dataset}/sculpting_{family}_nsig{nsig}"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_sculpting"),
        upstream=cathode_upstream("sculpting"),
        script=script("plot_sculpting"),
        panels=sculpting_panels,
        effs=" ".join(str(e) for e in CATHODE["sculpting"]["efficiencies"]),
        bins=CATHODE["sculpting"]["bins"],
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        title="{dataset} data, {nsig} injected signal events, classifier: {family}",
    shell:
        "python {params.script} {params.panels} --efficiencies {params.effs} --bins {params.bins}"
        " --sr {params.sr_low} {params.sr_high} --title '{params.title}' --output {output} > {log} 2>&1"


rule plot_data_overview:
    """mjj, jet masses and tau21 of background, signal and extra background of a data set, SR marked."""
    input:
        features=features_file,
        extra_bkg=extra_bkg_file,
    output:
        pdf=report(
            f"{DATA_DIR}/plot_data_overview/data_overview.pdf",
            caption="../report/data_overview.rst",
            category="Data",
        ),
        others=plot_formats(f"{DATA_DIR}/plot_data_overview/data_overview"),
    log:
        log_file("plot_data_overview", "{dataset}"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=20,
    params:
        missing=missing_inputs("plot_data_overview"),
        upstream=data_upstream,
        script=script("plot_data_overview"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        max_events=config["plots"]["overview_events"],
        formats=" ".join(config["plots"]["formats"]),
    shell:
        "python {params.script} --features {input.features} --extra-bkg {input.extra_bkg}"
        " --sr {params.sr_low} {params.sr_high} --max-events {params.max_events}"
        " --title 'data set: {wildcards.dataset}' --formats {params.formats} --output {output.pdf} > {log} 2>&1"


rule publish:
    """results/{published}.pdf (and its other formats): the plot of the configured data set, classifier
    family and injection, copied from results/cathode/{dataset}/plot_*/ (which the report shows)."""
    input:
        published_plot,
    output:
        "results/{published}.pdf",
        plot_formats("results/{published}"),
    log:
        log_file("publish", "{published}"),
    localrule: True
    conda:
        "../../envs/plot.yaml"
    params:
        missing=missing_inputs("publish"),
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"
