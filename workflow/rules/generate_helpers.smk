# Helpers of workflow/rules/generate.smk: config look-ups, input and params functions, target lists.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
from hepad import config as hepad_config
from hepad.events.process import PROCESS_REGEX
from hepad.events.settings import check_generation_config, chunk_events_for, process_chunks, settings_json, signal_name

# Checks that join several keys (signal masses vs W' mass, detector parameters, pthat vs trigger): the
# Snakefile validated the config before this file was read, so run the check here too, at parse time,
# so that `snakemake -n` already stops with the message.
if check_generation_config not in hepad_config.CROSS_CHECKS:
    hepad_config.CROSS_CHECKS.append(check_generation_config)
try:
    check_generation_config(config)
except hepad_config.ConfigError as err:
    sys.exit(str(err))

GENERATED = "resources/generated"
GENERATION_SIGNAL = signal_name(config["generation"]["signal"])
# Expected generated events per second and per core of the whole chain, and the fraction of generated
# events accepted, per kind of process: only for the runtime estimate a cluster scheduler gets.
GENERATION_RATE = 100.0
GENERATION_ACCEPTANCE = {"qcd": 0.6, "qcd_sr": 0.08, "wprime": 0.4}


def generation_chunk_events(wildcards):
    """Accepted events of one chunk (the last chunk of a process may be smaller)."""
    sizes = process_chunks(wildcards.process, config)
    chunk = int(wildcards.chunk)
    if chunk >= len(sizes):
        raise ValueError(
            f"{wildcards.process} has {len(sizes)} chunks (0..{len(sizes) - 1}); chunk {chunk} does not exist"
        )
    return sizes[chunk]


def generation_settings(wildcards):
    """JSON of the settings that decide a chunk of this process (a change reruns only what it affects)."""
    return settings_json(wildcards.process, config)


def generation_runtime(wildcards):
    """Minutes a chunk may run, from its size, a conservative rate and the process' acceptance."""
    kind = "wprime" if wildcards.process.startswith("wprime") else wildcards.process
    seconds = chunk_events_for(wildcards.process, config) / GENERATION_ACCEPTANCE[kind] / GENERATION_RATE
    return int(10 + 2 * seconds / 60)


def generation_chunks(wildcards):
    """All chunk files of a process, in chunk order."""
    n = len(process_chunks(wildcards.process, config))
    return [f"{GENERATED}/chunks/{wildcards.process}/chunk{i}.h5" for i in range(n)]
