# Helpers used by more than one .smk file (paths, wildcard constraints, the log layout, the GPU
# request, the --param builder, the plot formats) and the checks before the first job. No rules here:
# `snakemake --lint` wants functions and rules in separate files.
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from hepad.io import unwritable_folder
from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, ZENODO_FILES, resource_path

SCRIPTS = Path(workflow.basedir) / "scripts"
LOGS = "results/logs"
BENCH = "results/benchmarks"


wildcard_constraints:
    dataset="generated|lhco",
    nsig=r"\d+",
    seed=r"\d+",


def script(name):
    """Path of a rule's script. Rules pass it through params (lint wants no outside variables in shell):
    ``params: script=script("prepare")`` and ``shell: "python {params.script} ... > {log} 2>&1"``.
    Scripts start with ``import _bootstrap`` (scripts/_bootstrap.py), which puts src/ on sys.path, so they
    find the library in any env (conda included) and when run by hand.

    The path is relative to the working directory: params are rerun triggers, and an absolute path would
    make a moved or renamed checkout rerun every job."""
    return os.path.relpath(SCRIPTS / f"{name}.py")


def log_file(rule, wildcards=None):
    """The one log layout: results/logs/<rule>/<wildcards>.log; with no wildcards, <rule>/<rule>.log."""
    return f"{LOGS}/{rule}/{wildcards or rule}.log"


def bench_file(rule, wildcards=None):
    """Timings of a heavy rule, laid out like its log: results/benchmarks/<rule>/<wildcards>.tsv."""
    return f"{BENCH}/{rule}/{wildcards or rule}.tsv"


def gpu_request(section):
    """1 if the training jobs of a study ask for a GPU (config <section>.gpu; 'auto': nvidia-smi present)."""
    setting = config[section]["gpu"]
    if setting == "auto":
        return int(shutil.which("nvidia-smi") is not None)
    return int(bool(setting))


def param_options(settings, flag="--param"):
    """'--param key=<json>' options of a dict of settings, sorted by key; the scripts parse them with
    hepad.io.parse_param (a YAML value), the one way every training script takes its settings."""
    return " ".join(f"{flag} '{key}={json.dumps(value)}'" for key, value in sorted(settings.items()))


def plot_formats(stem):
    """A plot's files besides the PDF: ``stem`` in every format of config plots.formats."""
    return [f"{stem}.{fmt}" for fmt in config["plots"]["formats"]]


def settings_digest(keys):
    """A short digest of the config values at ``keys`` (dotted paths, e.g. "cathode.flow").

    Every rule's params hold the digest of the settings that made its inputs, all the way up the chain
    (the ``upstream`` param), so that a changed setting reruns everything after it even when an
    intermediate file was deleted or its job killed in between: Snakemake compares a job's params with
    those its outputs were made with, whatever the state of the files before it (docs/reliability.md)."""
    values = {}
    for key in sorted(set(keys)):
        value = config
        for part in key.split("."):
            value = value[part]
        values[key] = value
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def missing_inputs(rule_name):
    """A params function for ``rule_name``, giving the job's input files that are not on disk (normally none).

    Snakemake does not rerun a job whose outputs exist when one of its inputs was deleted (a job killed
    mid-chain, a --forcerun cut short): this param then differs from the empty list the outputs were made
    with, so the job and what it needs are rebuilt (docs/reliability.md). It takes the wildcards only
    (Snakemake ignores params that take ``input`` as rerun triggers), so it expands the rule's inputs itself."""

    def missing(wildcards):
        files = workflow.get_rule(rule_name).expand_input(dict(wildcards.items()))[0]
        return sorted(str(path) for path in files if not os.path.exists(path))

    return missing


def data_keys(dataset):
    """Settings that made a data set's event files: the generation stage's (the SR selects the extra QCD);
    none for the downloaded LHCO R&D files, which are checked against their md5 instead."""
    return ["generation", "regions.sr"] if dataset == "generated" else []


def features_file(wildcards):
    """Background + signal features in the LHCO R&D format for a data set."""
    if wildcards.dataset == "lhco":
        return resource_path(LHCO_FEATURES)
    return f"resources/{wildcards.dataset}/features.h5"


def extra_bkg_file(wildcards):
    """Extra QCD background, signal region only, in the LHCO R&D format."""
    if wildcards.dataset == "lhco":
        return resource_path(LHCO_EXTRA_QCD_SR)
    return f"resources/{wildcards.dataset}/extra_qcd_sr.h5"


def input_folder(name):
    """A params function: the folder of the named input file (a model folder)."""

    def folder(wildcards, input):
        return str(Path(input[name]).parent)

    return folder


def output_folder(name):
    """A params function: the folder of the named output file."""

    def folder(wildcards, output):
        return str(Path(output[name]).parent)

    return folder


def preflight(log):
    """Before the first job (not in a dry run): stop with one line on --cores 0 (Snakemake would wait
    forever at "Select jobs to execute...") and on a folder a job would write into but cannot (the job
    would fail after its old outputs were deleted)."""
    cores = workflow.resource_settings.cores
    if workflow.local_exec and cores is not None and cores < 1:
        sys.exit(
            f"error: --cores {cores} leaves no core to run jobs on, so Snakemake would wait forever; "
            "give --cores N with N >= 1 (e.g. --cores 4) or --cores all"
        )
    paths = []
    for job in workflow.dag.needrun_jobs():
        paths += [*map(str, job.output), *map(str, job.log), *([str(job.benchmark)] if job.benchmark else [])]
    folder = unwritable_folder(paths)
    if folder:
        sys.exit(
            f"error: cannot write into {folder}/ (read-only, immutable or not yours), so no job has run and "
            "no output was deleted: make it writable, or run elsewhere with --directory"
        )


# The only onstart handler: a .smk file that needs one must call preflight(log) from its own.
onstart:
    preflight(log)
