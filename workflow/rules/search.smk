# The sliding-window bump hunt (docs/search.md), on top of CATHODE's estimators: per window a prepared
# split, one SB flow and its background template (and the idealized AD's true-background template),
# k-fold classifier scores; per method and data set the cut-and-count counts and significances; per
# method the background-only runs (δ_sys, look-elsewhere reruns); the tables and plots. Every output
# lies under results/search/{dataset}/:
#
#   nsig{nsig}_seed{seed}/window{window}/           one window of one injection:
#     search_prepare/window.h5                      SR, events outside, fold numbers
#     search_template/template.h5                   CATHODE's template, from the window's flow group's SB flow
#     search_iad_template/template.h5               the idealized AD's template (windows inside regions.sr)
#     search_kfold_scores/{technique}_fold{fold}.h5 out-of-fold scores of one fold
#   nsig{nsig}_seed{seed}/flowgroup{group}/search_train_flow/   the SB flow of one flow group (flow.pt, ...)
#   nsig{nsig}_seed{seed}/search_counts/{technique}.json         thresholds, N and b per window
#   nsig{nsig}_seed{seed}/search_significance/{technique}.json   local and global significance
#   search_null/{technique}.json                    δ_sys and the max local Z of the nsig = 0 runs
#   search_table/significance.csv, search_hepdata/submission.tar.gz   the tables (report, HEPData)
#   plot_bumphunt/, plot_significance_vs_injection/ the plots; `publish_search_*` copy the configured ones
#                                                   to results/search/{technique}/bumphunt.pdf,
#                                                   results/search/significance_vs_injection.pdf,
#                                                   results/search/significance_table.csv and
#                                                   results/search/hepdata.tar.gz
include: "search_helpers.smk"


wildcard_constraints:
    window=r"\d+",
    group=r"\d+",
    fold=r"\d+",
    technique="|".join(METHODS),


rule search_prepare:
    """One window of the bump hunt: injection (the same for every window), SR, sidebands, k-fold numbers."""
    input:
        features=features_file,
    output:
        f"{SEARCH_WINDOW}/search_prepare/window.h5",
    log:
        log_file("search_prepare", f"{SEARCH_LOG}_window{{window}}"),
    benchmark:
        bench_file("search_prepare", f"{SEARCH_LOG}_window{{window}}")
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        missing=missing_inputs("search_prepare"),
        upstream=settings_digest(search_keys("prepare")),
        script=script("search_prepare"),
        window=search_window,
        margin=search_margin,
        k=SEARCH["k"],
    shell:
        "python {params.script} --features {input.features} --nsig {wildcards.nsig} --seed {wildcards.seed}"
        " --window {params.window} --index {wildcards.window} {params.margin}"
        " --k {params.k} --output {output} > {log} 2>&1"


rule search_train_flow:
    """The SB flow of one flow group (config search.flow_groups; CATHODE's settings): trained outside all its windows."""
    input:
        search_group_windows,
    output:
        flow=f"{SEARCH_GROUP}/search_train_flow/flow.pt",
    log:
        log_file("search_train_flow", f"{SEARCH_LOG}_flowgroup{{group}}"),
    benchmark:
        bench_file("search_train_flow", f"{SEARCH_LOG}_flowgroup{{group}}")
    priority: 10
    conda:
        "../../envs/torch.yaml"
    threads: SEARCH["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpu_request("cathode"),
    params:
        missing=missing_inputs("search_train_flow"),
        upstream=settings_digest(search_keys("flow")),
        script=script("search_train_flow"),
        options=param_options(CATHODE["flow"]),
        margin=search_margin,
        sb_val_fraction=config["prepare"]["sb_val_fraction"],
        folder=output_folder("flow"),
    shell:
        "python {params.script} --data {input} {params.options} {params.margin}"
        " --sb-val-fraction {params.sb_val_fraction} --seed {wildcards.seed} --threads {threads}"
        " --output {params.folder} > {log} 2>&1"


rule search_template:
    """CATHODE's background template in one window: samples of its flow group's SB flow."""
    input:
        data=f"{SEARCH_WINDOW}/search_prepare/window.h5",
        flow=search_window_flow,
    output:
        f"{SEARCH_WINDOW}/search_template/template.h5",
    log:
        log_file("search_template", f"{SEARCH_LOG}_window{{window}}"),
    benchmark:
        bench_file("search_template", f"{SEARCH_LOG}_window{{window}}")
    conda:
        "../../envs/torch.yaml"
    threads: SEARCH["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_request("cathode"),
    params:
        missing=missing_inputs("search_template"),
        upstream=settings_digest(search_keys("flow")),
        script=script("search_template"),
        folder=search_flow_folder,
        oversampling=CATHODE["sampling"]["oversampling"],
        bandwidth=CATHODE["sampling"]["kde_bandwidth"],
    shell:
        "python {params.script} --data {input.data} --flow {params.folder} --oversampling {params.oversampling}"
        " --kde-bandwidth {params.bandwidth} --seed {wildcards.seed} --threads {threads} --output {output}"
        " > {log} 2>&1"


rule search_iad_template:
    """The idealized AD's template in one window: the extra background's events inside it, with fold numbers."""
    input:
        data=f"{SEARCH_WINDOW}/search_prepare/window.h5",
        extra_bkg=extra_bkg_file,
    output:
        f"{SEARCH_WINDOW}/search_iad_template/template.h5",
    log:
        log_file("search_iad_template", f"{SEARCH_LOG}_window{{window}}"),
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("search_iad_template"),
        upstream=settings_digest(search_keys("prepare")),
        script=script("search_iad_template"),
    shell:
        "python {params.script} --data {input.data} --extra-bkg {input.extra_bkg} --output {output} > {log} 2>&1"


rule search_kfold_scores:
    """One fold of one window: a classifier (config search.classifier) trained on the other folds scores this fold."""
    input:
        unpack(search_kfold_inputs),
    output:
        f"{SEARCH_WINDOW}/search_kfold_scores/{{technique}}_fold{{fold}}.h5",
    log:
        log_file("search_kfold_scores", f"{SEARCH_LOG}_window{{window}}_{{technique}}_fold{{fold}}"),
    benchmark:
        bench_file("search_kfold_scores", f"{SEARCH_LOG}_window{{window}}_{{technique}}_fold{{fold}}")
    conda:
        "../../envs/torch.yaml"
    threads: SEARCH["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=search_classifier_gpu,
    params:
        missing=missing_inputs("search_kfold_scores"),
        upstream=settings_digest(search_keys("scores")),
        script=script("search_kfold_scores"),
        family=SEARCH_FAMILY,
        options=search_classifier_options,
        template=search_template_option,
        band=SEARCH["cwola_band"],
        val_fraction=config["prepare"]["sr_val_fraction"],
        seed=lambda wildcards: 1000 * int(wildcards.seed) + 10 * int(wildcards.window) + int(wildcards.fold),
    shell:
        "python {params.script} --data {input.data} {params.template} --technique {wildcards.technique}"
        " --fold {wildcards.fold} --family {params.family} {params.options} --cwola-band {params.band}"
        " --val-fraction {params.val_fraction} --seed {params.seed} --threads {threads} --output {output} > {log} 2>&1"


rule search_counts:
    """Cut and count in every window: thresholds, expected background b and observed N (JSON)."""
    input:
        unpack(search_counts_inputs),
    output:
        f"{SEARCH_SET}/search_counts/{{technique}}.json",
    log:
        log_file("search_counts", f"{SEARCH_LOG}_{{technique}}"),
    conda:
        "../../envs/search.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        missing=missing_inputs("search_counts"),
        upstream=settings_digest(search_keys("counts")),
        script=script("search_counts"),
        templates=search_templates_option,
        efficiencies=" ".join(str(e) for e in SEARCH["efficiencies"]),
        fit_range=f"{SEARCH['fit']['range']['low']} {SEARCH['fit']['range']['high']}",
        bin_width=SEARCH["fit"]["bin_width"],
        min_events=SEARCH["fit"]["min_events"],
    shell:
        "python {params.script} --technique {wildcards.technique} --data {input.data} --scores {input.scores}"
        " {params.templates} --efficiencies {params.efficiencies} --fit-range {params.fit_range}"
        " --bin-width {params.bin_width} --min-events {params.min_events} --seed {wildcards.seed}"
        " --output {output} > {log} 2>&1"


rule search_null:
    """The background-only runs of a method (nsig = 0, config search.null_seeds): δ_sys measured from their
    counts, and their max local Z, the look-elsewhere reruns of the whole chain (JSON)."""
    input:
        search_null_counts,
    output:
        f"{SEARCH_DIR}/search_null/{{technique}}.json",
    log:
        log_file("search_null", "{dataset}/{technique}"),
    conda:
        "../../envs/search.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("search_null"),
        upstream=settings_digest(search_keys("null")),
        script=script("search_null"),
        delta_sys=search_delta_sys(),
    shell:
        "python {params.script} --counts {input} --delta-sys {params.delta_sys} --output {output} > {log} 2>&1"


rule search_significance:
    """Local Z and p-value per window and threshold; global Z from count toys and from the background-only reruns (JSON)."""
    input:
        unpack(search_significance_inputs),
    output:
        f"{SEARCH_SET}/search_significance/{{technique}}.json",
    log:
        log_file("search_significance", f"{SEARCH_LOG}_{{technique}}"),
    conda:
        "../../envs/search.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        missing=missing_inputs("search_significance"),
        upstream=settings_digest(search_keys("significance")),
        script=script("search_significance"),
        null=search_null_option,
        delta_sys=search_delta_sys(),
        n_toys=SEARCH["n_toys"],
    shell:
        "python {params.script} --counts {input.counts} {params.null} --delta-sys {params.delta_sys}"
        " --n-toys {params.n_toys} --seed {wildcards.seed} --output {output} > {log} 2>&1"


rule search_table:
    """The significance table of every method, scan point and seed (and the background-only runs): CSV for
    the report, HEPData YAML."""
    input:
        search_injection_records,
    output:
        table=report(
            f"{SEARCH_DIR}/search_table/significance.csv",
            caption="../report/search_table.rst",
            category="Bump hunt",
        ),
        hepdata=f"{SEARCH_DIR}/search_table/hepdata.tar.gz",
    log:
        log_file("search_table", "{dataset}"),
    conda:
        "../../envs/search.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("search_table"),
        upstream=settings_digest(search_keys("significance") + ["injection.scan_nsig", "injection.scan_seeds"]),
        script=script("search_table"),
    shell:
        "python {params.script} --significance {input} --table {output.table} --hepdata {output.hepdata}"
        " > {log} 2>&1"


rule plot_bumphunt:
    """Per window the selected mjj spectrum with the background estimate; local Z per window and threshold."""
    input:
        f"{SEARCH_SET}/search_significance/{{technique}}.json",
    output:
        report(
            f"{SEARCH_DIR}/plot_bumphunt/bumphunt_{{technique}}_nsig{{nsig}}_seed{{seed}}.pdf",
            caption="../report/bumphunt.rst",
            category="Bump hunt",
        ),
        plot_formats(f"{SEARCH_DIR}/plot_bumphunt/bumphunt_{{technique}}_nsig{{nsig}}_seed{{seed}}"),
    log:
        log_file("plot_bumphunt", "{dataset}/bumphunt_{technique}_nsig{nsig}_seed{seed}"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_bumphunt"),
        upstream=settings_digest(search_keys("significance")),
        script=script("plot_bumphunt"),
        title="{dataset} data, {nsig} injected signal events, seed {seed}",
    shell:
        "python {params.script} --significance {input} --title '{params.title}' --output {output} > {log} 2>&1"


rule plot_significance_vs_injection:
    """Max local and global Z against the injected S/B (scan points and seeds of config injection; at S/B 0
    the background-only runs of config search.null_seeds)."""
    input:
        search_injection_records,
    output:
        report(
            f"{SEARCH_DIR}/plot_significance_vs_injection/significance_vs_injection.pdf",
            caption="../report/significance_vs_injection.rst",
            category="Bump hunt",
        ),
        plot_formats(f"{SEARCH_DIR}/plot_significance_vs_injection/significance_vs_injection"),
    log:
        log_file("plot_significance_vs_injection", "{dataset}"),
    conda:
        "../../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("plot_significance_vs_injection"),
        upstream=settings_digest(search_keys("significance") + ["injection.scan_nsig", "injection.scan_seeds"]),
        script=script("plot_significance_vs_injection"),
        title="{dataset} data, seeds of injection.scan_seeds",
    shell:
        "python {params.script} --significance {input} --title '{params.title}' --output {output} > {log} 2>&1"


rule publish_search_bumphunt:
    """results/search/{technique}/bumphunt.pdf: the bump hunt of the configured data set, injection.nsig
    and the first seed, copied from results/search/{dataset}/plot_bumphunt/."""
    input:
        search_published,
    output:
        "results/search/{technique}/bumphunt.pdf",
        plot_formats("results/search/{technique}/bumphunt"),
    log:
        log_file("publish_search_bumphunt", "{technique}"),
    localrule: True
    conda:
        "../../envs/plot.yaml"
    params:
        missing=missing_inputs("publish_search_bumphunt"),
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"


rule publish_search_injection:
    """results/search/significance_vs_injection.pdf, copied from the configured data set's plot."""
    input:
        search_published_injection,
    output:
        "results/search/significance_vs_injection.pdf",
        plot_formats("results/search/significance_vs_injection"),
    log:
        log_file("publish_search_injection"),
    localrule: True
    conda:
        "../../envs/plot.yaml"
    params:
        missing=missing_inputs("publish_search_injection"),
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"


rule publish_search_table:
    """results/search/significance_table.csv and results/search/hepdata.tar.gz, copied from the configured
    data set's search_table."""
    input:
        search_published_table,
    output:
        "results/search/significance_table.csv",
        "results/search/hepdata.tar.gz",
    log:
        log_file("publish_search_table"),
    localrule: True
    conda:
        "../../envs/search.yaml"
    params:
        missing=missing_inputs("publish_search_table"),
    shell:
        "set -- {output}; for f in {input}; do cp $f $1; shift; done 2> {log}"
