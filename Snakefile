# Anomaly detection in collider physics, from events to published results.
# Stages live in workflow/rules/; the config is validated against workflow/schemas/ before any job.
import os
import sys

from snakemake.utils import min_version

min_version("9.0")
sys.path.insert(0, f"{workflow.basedir}/src")

from hepad.config import ConfigError, check_config_file, check_sample_sizes, validate_config

# A YAML slip in config/config.yaml (a tab, an unclosed bracket, an empty file) stops here naming the file,
# line and column. Files given with --configfile are read by Snakemake's command line before this file
# runs; `python -m hepad.config my.yaml` names the line for those (README, Troubleshooting).
try:
    check_config_file(f"{workflow.basedir}/config/config.yaml")
except ConfigError as err:
    sys.exit(str(err))


configfile: f"{workflow.basedir}/config/config.yaml"


# Values given with --config arrive as strings; validate_config turns them into the numbers and
# booleans the schema asks for. check_sample_sizes: an SR the data set holds no events in, or more
# signal to inject than there is, stops the dry run already.
try:
    validate_config(config)
    check_sample_sizes(config)
except ConfigError as err:
    sys.exit(str(err))


# Jobs share the CPUs this process may run on (its affinity), whatever --cores says: with --cores 8 on a
# 2-core machine Snakemake would start four 2-thread trainings at once. Waiting OpenMP threads sleep
# instead of spinning (OMP_WAIT_POLICY, inherited by every job): three 2-thread flow trainings at once
# took 6x the CPU of one alone with spinning threads, 1.4x with sleeping ones (bench/bench_threads.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
MACHINE_CORES = len(os.sched_getaffinity(0))
if workflow.local_exec and (workflow.global_resources["_cores"].value or 0) > MACHINE_CORES:
    print(
        f"--cores {workflow.global_resources['_cores'].value}: this machine lets the run use {MACHINE_CORES} "
        f"CPUs, so jobs get at most {MACHINE_CORES} cores in all",
        file=sys.stderr,
    )
    workflow.global_resources["_cores"] = MACHINE_CORES


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/cathode.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/quak.smk"
include: "workflow/rules/codae.smk"
include: "workflow/rules/mimic.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/data_overview.pdf",
        "results/sic_cathode.pdf",
        "results/dag.pdf",
