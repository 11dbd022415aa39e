# Helpers of workflow/rules/search.smk: paths, settings digests, input and params functions.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
from pathlib import Path
from types import SimpleNamespace

from hepad.search.methods import METHODS, iad_windows
from hepad.search.windows import flow_groups, windows_from_config

SEARCH = config["search"]
SEARCH_DIR = "results/search/{dataset}"
SEARCH_SET = f"{SEARCH_DIR}/nsig{{nsig}}_seed{{seed}}"
SEARCH_WINDOW = f"{SEARCH_SET}/window{{window}}"
SEARCH_GROUP = f"{SEARCH_SET}/flowgroup{{group}}"
# the windows of each flow group (config search.flow_groups; apart, checked with the config)
SEARCH_FLOW_GROUPS = flow_groups(windows_from_config(SEARCH["windows"]), SEARCH["flow_groups"])
SEARCH_FLOW_GROUP_OF = {w.index: g for g, members in enumerate(SEARCH_FLOW_GROUPS) for w in members}
SEARCH_LOG = "{dataset}/nsig{nsig}_seed{seed}"
SEARCH_FAMILY = SEARCH["classifier"]
# the template of each template method (hepad.search.methods), per window
SEARCH_TEMPLATES = {
    "cathode": f"{SEARCH_WINDOW}/search_template/template.h5",
    "iad": f"{SEARCH_WINDOW}/search_iad_template/template.h5",
}


def search_keys(stage, technique=None):
    """Settings behind one stage of the search (its own and every stage before it), for settings_digest."""
    keys = [
        "generation",
        "regions.sr",
        "search.windows",
        "search.sideband_margin",
        "search.k",
    ]
    if stage == "prepare":
        return keys
    keys += ["search.flow_groups", "prepare.sb_val_fraction", "cathode.flow", "cathode.sampling"]
    if stage == "flow":
        return keys
    keys += ["search.classifier", f"cathode.classifier.{SEARCH_FAMILY}", "search.cwola_band", "prepare.sr_val_fraction"]
    if stage == "scores":
        return keys
    keys += ["search.efficiencies", "search.fit"]
    if stage == "counts":
        return keys
    keys += ["search.delta_sys", "search.null_seeds"]
    if stage == "null":
        return keys
    return keys + ["search.methods", "search.n_toys"]


def search_windows(technique):
    """Indices of the windows a method searches: all, or for the idealized AD those inside regions.sr,
    where its true background (the extra SR QCD) exists."""
    if technique != "iad":
        return list(range(len(SEARCH["windows"])))
    return iad_windows(SEARCH["windows"], config["regions"]["sr"])


def search_window(wildcards):
    """The window of the {window} wildcard (config search.windows, by index)."""
    index = int(wildcards.window)
    if index >= len(SEARCH["windows"]):
        raise ValueError(f"window{index}: config search.windows has {len(SEARCH['windows'])} windows")
    window = SEARCH["windows"][index]
    return f"{window['low']} {window['high']}"


def search_group_windows(wildcards):
    """The window files of a flow group's windows: its flow trains outside all of them."""
    group = int(wildcards.group)
    if group >= len(SEARCH_FLOW_GROUPS):
        raise ValueError(
            f"flowgroup{group}: the config's {len(SEARCH['windows'])} windows form "
            f"{len(SEARCH_FLOW_GROUPS)} flow groups (search.flow_groups)"
        )
    return [
        f"{SEARCH_WINDOW}/search_prepare/window.h5".format(**wildcards, window=w.index)
        for w in SEARCH_FLOW_GROUPS[group]
    ]


def search_window_flow(wildcards):
    """The SB flow of a window's flow group (hepad.search.windows.flow_groups)."""
    group = SEARCH_FLOW_GROUP_OF[int(wildcards.window)]
    return f"{SEARCH_GROUP}/search_train_flow/flow.pt".format(**wildcards, group=group)


def search_flow_folder(wildcards, input):
    return str(Path(input.flow).parent)


def search_margin(wildcards):
    margin = SEARCH["sideband_margin"]
    return "" if margin is None else f"--sideband-margin {margin}"


def search_kfold_inputs(wildcards):
    inputs = {"data": f"{SEARCH_WINDOW}/search_prepare/window.h5".format(**wildcards)}
    if METHODS[wildcards.technique].template:
        inputs["template"] = SEARCH_TEMPLATES[wildcards.technique].format(**wildcards)
    return inputs


def search_template_option(wildcards, input):
    return f"--template {input.template}" if METHODS[wildcards.technique].template else ""


# the family's hyperparameters, as the CATHODE study passes them (class_weight None: balanced by weights)
SEARCH_CLASSIFIER = SimpleNamespace(family=SEARCH_FAMILY)


def search_classifier_options(wildcards):
    return classifier_options(SEARCH_CLASSIFIER)


def search_classifier_gpu(wildcards):
    return classifier_gpu(SEARCH_CLASSIFIER)


def search_counts_inputs(wildcards):
    windows = search_windows(wildcards.technique)
    fmt = dict(wildcards.items())
    inputs = {
        "data": [f"{SEARCH_WINDOW}/search_prepare/window.h5".format(**fmt, window=w) for w in windows],
        "scores": [
            f"{SEARCH_WINDOW}/search_kfold_scores/{{technique}}_fold{fold}.h5".format(**fmt, window=w)
            for w in windows
            for fold in range(SEARCH["k"])
        ],
    }
    if METHODS[wildcards.technique].template:
        inputs["templates"] = [SEARCH_TEMPLATES[wildcards.technique].format(**fmt, window=w) for w in windows]
    return inputs


def search_templates_option(wildcards, input):
    return f"--templates {' '.join(input.templates)}" if METHODS[wildcards.technique].template else ""


def search_delta_sys():
    """--delta-sys: the configured number, or `measured` (config search.delta_sys null)."""
    return "measured" if SEARCH["delta_sys"] is None else SEARCH["delta_sys"]


def search_null_counts(wildcards):
    """The counts of the background-only runs (nsig = 0, seeds of config search.null_seeds)."""
    return expand(
        f"{SEARCH_DIR}/nsig0_seed{{seed}}/search_counts/{{technique}}.json",
        dataset=wildcards.dataset,
        seed=SEARCH["null_seeds"],
        technique=wildcards.technique,
    )


def search_significance_inputs(wildcards):
    inputs = {"counts": f"{SEARCH_SET}/search_counts/{{technique}}.json".format(**wildcards)}
    if SEARCH["null_seeds"]:
        inputs["null"] = f"{SEARCH_DIR}/search_null/{{technique}}.json".format(**wildcards)
    return inputs


def search_null_option(wildcards, input):
    return f"--null {input.null}" if SEARCH["null_seeds"] else ""


def search_injection_records(wildcards):
    """Significance JSONs of every method, scan point and seed (config injection.scan_nsig, scan_seeds), and
    of the background-only runs (nsig 0, config search.null_seeds): the scan's point without signal."""
    runs = [(nsig, seed) for nsig in config["injection"]["scan_nsig"] for seed in config["injection"]["scan_seeds"]]
    runs += [(0, seed) for seed in SEARCH["null_seeds"] if (0, seed) not in runs]
    return [
        f"{SEARCH_SET}/search_significance/{technique}.json".format(dataset=wildcards.dataset, nsig=nsig, seed=seed)
        for technique in SEARCH["methods"]
        for nsig, seed in runs
    ]


def search_published(wildcards, stem=None):
    """The plot of the configured data set and injection (first seed) behind a results/search/ target."""
    dataset, nsig, seed = config["dataset"], config["injection"]["nsig"], config["injection"]["seeds"][0]
    if stem is None:
        stem = f"{SEARCH_DIR}/plot_bumphunt/bumphunt_{wildcards.technique}_nsig{nsig}_seed{seed}"
    stem = stem.format(dataset=dataset)
    return [f"{stem}.pdf"] + plot_formats(stem)


def search_published_injection(wildcards):
    return search_published(wildcards, f"{SEARCH_DIR}/plot_significance_vs_injection/significance_vs_injection")


def search_published_table(wildcards):
    table = f"{SEARCH_DIR}/search_table".format(dataset=config["dataset"])
    return [f"{table}/significance.csv", f"{table}/hepdata.tar.gz"]
