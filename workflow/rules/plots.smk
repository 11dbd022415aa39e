# Plots about the data themselves (the method plots live with their stage).


rule plot_data_overview:
    input:
        features=features_file,
        extra_bkg=extra_bkg_file,
    output:
        report(
            "results/{dataset}/data_overview.pdf",
            caption="../report/data_overview.rst",
            category="Data",
        ),
    params:
        script=script("plot_data_overview"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        max_events=config["plots"]["overview_events"],
        formats=" ".join(config["plots"]["formats"]),
    log:
        f"{LOGS}/{{dataset}}/plot_data_overview.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=20,
    conda:
        "../../envs/plot.yaml"
    shell:
        "python {params.script} --features {input.features} --extra-bkg {input.extra_bkg}"
        " --sr {params.sr_low} {params.sr_high} --max-events {params.max_events}"
        " --title 'data set: {wildcards.dataset}' --formats {params.formats} --output {output} > {log} 2>&1"


rule data_overview:
    """The overview of the configured data set, at the top of results/."""
    input:
        f"results/{config['dataset']}/data_overview.pdf",
    output:
        "results/data_overview.pdf",
    log:
        f"{LOGS}/data_overview.log",
    localrule: True
    conda:
        "../../envs/plot.yaml"
    shell:
        "cp {input} {output} 2> {log}"
