# Helpers of workflow/rules/search.smk: paths, settings digests, input and params functions.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
SEARCH = config["search"]
SEARCH_DIR = "results/search/{dataset}"
SEARCH_SET = f"{SEARCH_DIR}/nsig{{nsig}}_seed{{seed}}"
SEARCH_WINDOW = f"{SEARCH_SET}/window{{window}}"
SEARCH_LOG = "{dataset}/nsig{nsig}_seed{seed}"


def search_keys(stage, technique=None):
    """Settings behind one stage of the search (its own and every stage before it), for settings_digest."""
    keys = [
        "generation",
        "regions.sr",
        "prepare.sb_val_fraction",
        "search.windows",
        "search.sideband_margin",
        "search.k",
    ]
    if stage == "prepare":
        return keys
    keys += ["cathode.flow", "cathode.sampling"]
    if stage == "flow":
        return keys
    keys += ["cathode.classifier.hgb", "search.cwola_band", "prepare.sr_val_fraction"]
    if stage == "scores":
        return keys
    return keys + ["search.methods", "search.efficiencies", "search.delta_sys", "search.n_toys", "search.fit"]


def search_window(wildcards):
    """The window of the {window} wildcard (config search.windows, by index)."""
    index = int(wildcards.window)
    if index >= len(SEARCH["windows"]):
        raise ValueError(f"window{index}: config search.windows has {len(SEARCH['windows'])} windows")
    window = SEARCH["windows"][index]
    return f"{window['low']} {window['high']}"


def search_margin(wildcards):
    margin = SEARCH["sideband_margin"]
    return "" if margin is None else f"--sideband-margin {margin}"


def search_kfold_inputs(wildcards):
    inputs = {"data": f"{SEARCH_WINDOW}/search_prepare/window.h5".format(**wildcards)}
    if wildcards.technique == "cathode":
        inputs["template"] = f"{SEARCH_WINDOW}/search_train_flow/template.h5".format(**wildcards)
    return inputs


def search_template_option(wildcards, input):
    return f"--template {input.template}" if wildcards.technique == "cathode" else ""


def search_significance_inputs(wildcards):
    windows = range(len(SEARCH["windows"]))
    fmt = dict(wildcards.items())
    inputs = {
        "data": [f"{SEARCH_WINDOW}/search_prepare/window.h5".format(**fmt, window=w) for w in windows],
        "scores": [
            f"{SEARCH_WINDOW}/search_kfold_scores/{{technique}}_fold{fold}.h5".format(**fmt, window=w)
            for w in windows
            for fold in range(SEARCH["k"])
        ],
    }
    if wildcards.technique == "cathode":
        inputs["templates"] = [
            f"{SEARCH_WINDOW}/search_train_flow/template.h5".format(**fmt, window=w) for w in windows
        ]
    return inputs


def search_templates_option(wildcards, input):
    return f"--templates {' '.join(input.templates)}" if wildcards.technique == "cathode" else ""


def search_injection_records(wildcards):
    """Significance JSONs of every method, scan point and seed (config injection.scan_nsig, scan_seeds)."""
    return expand(
        f"{SEARCH_SET}/search_significance/{{technique}}.json",
        dataset=wildcards.dataset,
        nsig=config["injection"]["scan_nsig"],
        seed=config["injection"]["scan_seeds"],
        technique=SEARCH["methods"],
    )


def search_published(wildcards, stem=None):
    """The plot of the configured data set and injection (first seed) behind a results/search/ target."""
    dataset, nsig, seed = config["dataset"], config["injection"]["nsig"], config["injection"]["seeds"][0]
    if stem is None:
        stem = f"{SEARCH_DIR}/plot_bumphunt/bumphunt_{wildcards.technique}_nsig{nsig}_seed{seed}"
    stem = stem.format(dataset=dataset)
    return [f"{stem}.pdf"] + plot_formats(stem)


def search_published_injection(wildcards):
    return search_published(wildcards, f"{SEARCH_DIR}/plot_significance_vs_injection/significance_vs_injection")
