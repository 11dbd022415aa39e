# Helpers shared by every stage: paths, wildcard constraints, target lists. No rules here.
import os
from pathlib import Path

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


def prepared_sets(dataset, nsigs, seeds):
    return expand("results/{dataset}/prepared/nsig{nsig}_seed{seed}.h5", dataset=dataset, nsig=nsigs, seed=seeds)
