# Zenodo downloads (REFERENCE.md §1 and §5), each checked against the md5 of the record's API.
# Local rules: compute nodes of a cluster often have no internet. Retries happen inside the script
# (back-off on transient errors only), so no Snakemake `retries:` here.
import re

from hepad.download import ServerOptions

# Exactly the files of the table, e.g. "lhco/events_anomalydetection_v2.features.h5".
ZENODO_PATH_REGEX = "|".join(re.escape(resource_path(name)[len("resources/"):]) for name in ZENODO_FILES)
# folder -> file name -> {name, record}: looked up by the wildcard path (lint wants no functions here).
ZENODO_INDEX = {}
for _name, (_record, _folder) in ZENODO_FILES.items():
    ZENODO_INDEX.setdefault(_folder, {})[_name] = {"name": _name, "record": _record}
ZENODO_MIMICKERS = [resource_path(name) for name, (_, folder) in ZENODO_FILES.items() if folder == "mimickers"]


localrules:
    download,
    download_lhco,
    download_mimickers,


rule download:
    output:
        "resources/{zenodo_path}",
    wildcard_constraints:
        zenodo_path=ZENODO_PATH_REGEX,
    params:
        script=script("download"),
        name=lookup(dpath="{zenodo_path}/name", within=ZENODO_INDEX),
        record=lookup(dpath="{zenodo_path}/record", within=ZENODO_INDEX),
        # server, retries, timeout: not plain values on purpose, so changing them re-downloads nothing
        server=ServerOptions(config["zenodo"]["base_url"], config["zenodo"]["retries"], config["zenodo"]["timeout_s"]),
    log:
        f"{LOGS}/download/{{zenodo_path}}.log",
    threads: 1
    resources:
        mem_mb=200,
        runtime=240,
    conda:
        "../../envs/download.yaml"
    shell:
        "python {params.script} --name {params.name} --record {params.record}"
        " {params.server} --output {output} > {log} 2>&1"


rule download_lhco:
    # The two LHCO R&D feature files; the 2.9 GB particle-level file only on request
    # (target resources/lhco/events_anomalydetection_v2.h5).
    input:
        resource_path(LHCO_FEATURES),
        resource_path(LHCO_EXTRA_QCD_SR),


rule download_mimickers:
    # Background and the eight signal samples of the interpretable-mimicker study.
    input:
        ZENODO_MIMICKERS,
