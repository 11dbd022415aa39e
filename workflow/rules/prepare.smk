# From LHCO-format events to the CATHODE inputs: regions, injection by {nsig} and {seed}, splits.


rule prepare:
    input:
        features=features_file,
        extra_bkg=extra_bkg_file,
    output:
        data="results/{dataset}/prepared/nsig{nsig}_seed{seed}.h5",
        summary="results/{dataset}/prepared/nsig{nsig}_seed{seed}.json",
    params:
        script=script("prepare"),
        sr_low=config["regions"]["sr"]["low"],
        sr_high=config["regions"]["sr"]["high"],
        split=config["prepare"],
    log:
        f"{LOGS}/{{dataset}}/prepare/nsig{{nsig}}_seed{{seed}}.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        "../../envs/data.yaml"
    shell:
        "python {params.script} --features {input.features} --extra-bkg {input.extra_bkg}"
        " --nsig {wildcards.nsig} --seed {wildcards.seed} --sr {params.sr_low} {params.sr_high}"
        " --sb-val-fraction {params.split[sb_val_fraction]} --sr-val-fraction {params.split[sr_val_fraction]}"
        " --extra-bkg-test-fraction {params.split[extra_bkg_test_fraction]}"
        " --n-test-signal {params.split[n_test_signal]}"
        " --output {output.data} --summary {output.summary} > {log} 2>&1"
