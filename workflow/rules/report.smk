# Operations on the workflow itself: the run's complete config and the DAG drawing, both in the HTML
# report (`snakemake --report results/report.html`; captions in workflow/report/).
import json


rule run_config:
    """results/run_config.yaml: the complete configuration of this run, for the report and for reruns."""
    output:
        report("results/run_config.yaml", caption="../report/run_config.rst", category="Run"),
    log:
        log_file("run_config"),
    localrule: True
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        script=script("run_config"),
        # The validated config (defaults filled in) as one JSON string. A params value: any change of the
        # config remakes results/run_config.yaml, and the DAG drawn from it.
        config=json.dumps(config),
    shell:
        "python {params.script} --config {params.config:q} --output {output} > {log} 2>&1"


rule dag:
    """results/dag.pdf: the rule graph of the default target under this run's config, drawn by graphviz."""
    input:
        config="results/run_config.yaml",
    output:
        report("results/dag.pdf", caption="../report/dag.rst", category="Run"),
    log:
        log_file("dag"),
    # Runs Snakemake to plan, no data work: on the submitting machine, also on a cluster.
    localrule: True
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        missing=missing_inputs("dag"),
        script=script("dag"),
        snakefile=workflow.main_snakefile,
    shell:
        "python {params.script} --snakefile {params.snakefile} --configfile {input.config}"
        " --output {output} > {log} 2>&1"
