# Zenodo downloads (docs/data.md and docs/mimic.md), each checked against the md5 of the record's API, and files
# at a plain URL (hepad.zenodo.URL_FILES: MNIST), each checked against a sha256 pinned in that table.
# Local rules: compute nodes of a cluster often have no internet. Retries happen inside the script
# (back-off on transient errors only), so no Snakemake `retries:` here.
import re

from hepad.download import ServerOptions
from hepad.zenodo import URL_FILES

# Exactly the files of the table, e.g. "lhco/events_anomalydetection_v2.features.h5".
ZENODO_PATH_REGEX = "|".join(re.escape(resource_path(name)[len("resources/") :]) for name in ZENODO_FILES)
# folder -> file name -> {name, record}: looked up by the wildcard path (lint wants no functions here).
ZENODO_INDEX = {}
for _name, (_record, _folder) in ZENODO_FILES.items():
    ZENODO_INDEX.setdefault(_folder, {})[_name] = {"name": _name, "record": _record}
# The same for the plain-URL files: folder -> file name -> {name, sha256, server}; the server is the base
# URL of the file's source (config downloads.<source>_base_url) with the retries and timeout of zenodo.*.
URL_PATH_REGEX = "|".join(re.escape(resource_path(name)[len("resources/") :]) for name in URL_FILES)
URL_INDEX = {}
for _name, _file in URL_FILES.items():
    URL_INDEX.setdefault(_file.folder, {})[_name] = {
        "name": _name,
        "sha256": _file.sha256,
        "server": ServerOptions(
            config["downloads"][f"{_file.source}_base_url"], config["zenodo"]["retries"], config["zenodo"]["timeout_s"]
        ),
    }
ZENODO_MIMICKERS = [resource_path(name) for name, (_, folder) in ZENODO_FILES.items() if folder == "mimickers"]


localrules:
    download,
    download_url,
    download_lhco,
    download_mimickers,


rule download:
    output:
        "resources/{zenodo_path}",
    log:
        log_file("download", "{zenodo_path}"),
    wildcard_constraints:
        zenodo_path=ZENODO_PATH_REGEX,
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=240,
    params:
        script=script("download"),
        name=lookup(dpath="{zenodo_path}/name", within=ZENODO_INDEX),
        record=lookup(dpath="{zenodo_path}/record", within=ZENODO_INDEX),
        # server, retries, timeout: not plain values on purpose, so changing them re-downloads nothing
        server=ServerOptions(config["zenodo"]["base_url"], config["zenodo"]["retries"], config["zenodo"]["timeout_s"]),
    shell:
        "python {params.script} --name {params.name} --record {params.record}"
        " {params.server} --output {output} > {log} 2>&1"


rule download_url:
    """A file outside Zenodo, from <base URL>/<name>, kept only if its sha256 is the pinned one; runs
    scripts/download.py like the Zenodo rule (only the source of the checksum differs), into resources/."""
    output:
        "resources/{url_path}",
    log:
        log_file("download_url", "{url_path}"),
    wildcard_constraints:
        url_path=URL_PATH_REGEX,
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=60,
    params:
        script=script("download"),
        name=lookup(dpath="{url_path}/name", within=URL_INDEX),
        sha256=lookup(dpath="{url_path}/sha256", within=URL_INDEX),
        # not a plain value on purpose (see the download rule): another mirror re-downloads nothing
        server=lookup(dpath="{url_path}/server", within=URL_INDEX),
    shell:
        "python {params.script} --name {params.name} --sha256 {params.sha256}"
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
