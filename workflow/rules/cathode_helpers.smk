# Helpers of workflow/rules/cathode.smk: config look-ups, input and params functions, target lists.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
CATHODE = config["cathode"]
DATA_DIR = "results/cathode/{dataset}"
CATHODE_DIR = "results/cathode/{dataset}{variant}"
PREPARED = f"{CATHODE_DIR}/prepare/nsig{{nsig}}_seed{{seed}}"
SET = f"{CATHODE_DIR}/nsig{{nsig}}_seed{{seed}}"
SET_LOG = "{dataset}{variant}/nsig{nsig}_seed{seed}"
SIC_CATHODE_MODES = ["supervised", "iad", "cathode"]
SHIFTED_VARIANT = "_shift0.1"  # the paper's shifted data set, behind the sic_comparison_shifted plots
SCULPT_MODES = ["cathode", "lacathode", "cwola"]  # the methods of the mjj sculpting plot
# R-ANODE's signal flow takes these keys of cathode.flow; its size and recipe are cathode.ranode.flow.
RANODE_FLOW_KEYS = ["batch_norm", "weight_decay", "implementation", "lr_schedule", "warmup_epochs"]
# Feature sets (hepad.cathode.feature_sets): lhco4 has no variant part, the others "_<set>" before any shift.
FEATURE_SETS = ["lhco4", "lhco4_dr", "tau56", "lhco4_noise10"]
FEATURES_VARIANT = "" if CATHODE["features"] == "lhco4" else f"_{CATHODE['features']}"
VARIANT_REGEX = r"(_(?:lhco4_dr|tau56|lhco4_noise10))?(_shift\d+(\.\d+)?)?"


SIC_KEYS = ["cathode.min_bkg_events", "cathode.sic_min_fpr", "cathode.sculpting"]


def cathode_keys(stage, wildcards):
    """Settings behind one stage's outputs for these wildcards, its own and those of every stage before it."""
    keys = data_keys(wildcards.dataset) + ["regions", "prepare"]
    if stage == "prepare":
        return keys
    flow = keys + ["cathode.flow", "cathode.flow_preset"]
    if stage == "flow":
        return flow
    samples = flow + ["cathode.sampling"]
    if stage == "samples":
        return samples
    ranode = flow + ["cathode.ranode"]
    if stage == "ranode":
        return ranode
    if stage == "classifier":
        return (samples if wildcards.mode in ("cathode", "lacathode") else keys) + [
            f"cathode.classifier.{wildcards.family}"
        ]
    if stage == "evaluate":
        if wildcards.method == "anode":
            return flow + SIC_KEYS
        if wildcards.method == "ranode":
            return ranode + SIC_KEYS
        return samples + [f"cathode.classifier.{wildcards.method.split('_')[1]}"] + SIC_KEYS
    if stage == "sculpting":
        return samples + [f"cathode.classifier.{wildcards.family}", "cathode.sculpting"]
    # the plots: every stage of every method they show
    return samples + ["cathode.ranode", f"cathode.classifier.{wildcards.family}"] + SIC_KEYS


def data_upstream(wildcards):
    """A params function: the digest of the settings behind a data set's event files."""
    return settings_digest(data_keys(wildcards.dataset))


def cathode_upstream(stage):
    """A params function: the digest of cathode_keys(stage, wildcards) (see settings_digest)."""

    def upstream(wildcards):
        return settings_digest(cathode_keys(stage, wildcards))

    return upstream


def shift_of(wildcards):
    """The mass shift of the prepared sets: the variant's (``_shift0.1``: 0.1), else config prepare.shift."""
    _, _, shift = wildcards.variant.partition("_shift")
    return float(shift) if shift else config["prepare"]["shift"]


def feature_set_of(wildcards):
    """The feature set of a chain: the variant's (``_tau56``, ``_tau56_shift0.1``: tau56), else lhco4."""
    head = wildcards.variant.partition("_shift")[0]
    return head[1:] if head else "lhco4"


def prepare_inputs(wildcards):
    """The event files of a prepared set: LHCO format, or the extended features for tau56."""
    if feature_set_of(wildcards) != "tau56":
        return {"features": features_file(wildcards), "extra_bkg": extra_bkg_file(wildcards)}
    if wildcards.dataset == "lhco":
        raise ValueError(
            "cathode.features tau56 needs the N-subjettiness of the extra signal-region QCD, and the LHCO R&D"
            " extra QCD has no particle-level file in this workflow: use tau56 with dataset: generated"
            " (docs/cathode.md, feature sets)"
        )
    return {
        "features": f"resources/{wildcards.dataset}/features_extended.h5",
        "extra_bkg": f"resources/{wildcards.dataset}/qcd_sr.extended.h5",
    }


def sic_min_fpr_option(wildcards):
    """--sic-min-fpr of the paper's SIC cut when config cathode.sic_min_fpr is set (else the event count)."""
    value = CATHODE["sic_min_fpr"]
    return "" if value is None else f"--sic-min-fpr {value}"


def classifier_options(wildcards):
    """--param options of the family's hyperparameters (config cathode.classifier.<family>)."""
    params = dict(CATHODE["classifier"][wildcards.family])
    # The classes are balanced with sample weights by hepad.cathode.modes; class_weight would apply it twice.
    params["class_weight"] = None
    return param_options(params)


def classifier_seed(wildcards):
    """Distinct per prepared-set seed and run, reproducible: 1000 * seed + run."""
    return 1000 * int(wildcards.seed) + int(wildcards.run)


def classifier_gpu(wildcards):
    return gpu_request("cathode") if wildcards.family == "mlp" else 0


def train_flow_inputs(wildcards):
    inputs = {"data": f"{PREPARED}.h5".format(**wildcards)}
    if wildcards.region == "sr":  # ANODE's SR flow shares the SB model's scalers
        inputs["scalers"] = f"{SET}/train_flow/sb/flow.pt".format(**wildcards)
    return inputs


def scalers_option(wildcards, input):
    return f"--scalers-from {Path(input.scalers).parent}" if wildcards.region == "sr" else ""


def train_classifier_inputs(wildcards):
    inputs = {"data": f"{PREPARED}.h5".format(**wildcards)}
    if wildcards.mode == "cathode":
        inputs["samples"] = f"{SET}/sample_sr/sr_samples.h5".format(**wildcards)
    if wildcards.mode == "lacathode":
        inputs["latent"] = f"{SET}/latent_sr/latent.h5".format(**wildcards)
    return inputs


def samples_option(wildcards, input):
    """--samples of CATHODE (the SR flow samples), --latent of LaCATHODE (the latent sets)."""
    if wildcards.mode == "cathode":
        return f"--samples {input.samples}"
    if wildcards.mode == "lacathode":
        return f"--latent {input.latent}"
    return ""


def ranode_options(wildcards):
    """--param options of R-ANODE's signal flow: the recipe keys of cathode.flow, then cathode.ranode.flow."""
    settings = {key: CATHODE["flow"][key] for key in RANODE_FLOW_KEYS}
    settings.update(CATHODE["ranode"]["flow"])
    return param_options(settings)


def scores_file(wildcards):
    if wildcards.method == "anode":
        return f"{SET}/score_anode/scores.h5".format(**wildcards)
    if wildcards.method == "ranode":
        return f"{SET}/train_ranode/run{{run}}/scores.h5".format(**wildcards)
    return f"{SET}/train_classifier/{{method}}_run{{run}}/scores.h5".format(**wildcards)


def method_names(modes, family):
    return [m if m in ("anode", "ranode") else f"{m}_{family}" for m in modes]


def sculpting_scores(wildcards):
    """Scores files (first injection seed, run 0) of SCULPT_MODES on the standard and the shifted set."""
    seed = config["injection"]["seeds"][0]
    return {
        f"{name}_{mode}": (
            f"{SET}/train_ranode/run0/scores.h5"
            if mode == "ranode"
            else f"{SET}/train_classifier/{mode}_{wildcards.family}_run0/scores.h5"
        ).format(dataset=wildcards.dataset, variant=variant, nsig=wildcards.nsig, seed=seed)
        for name, variant in (("standard", ""), ("shifted", SHIFTED_VARIANT))
        for mode in SCULPT_MODES
    }


def sculpting_panels(wildcards, input):
    """--panel options of plot_sculpting: the standard and the shifted set."""
    shift = SHIFTED_VARIANT[len("_shift") :]
    titles = {"standard": "standard set", "shifted": f"shifted set (mj1, dmj += {shift} mjj)"}
    return " ".join(
        f"--panel '{titles[name]}' " + " ".join(input[f"{name}_{mode}"] for mode in SCULPT_MODES)
        for name in ("standard", "shifted")
    )


def metrics_files(dataset, variant, nsigs, seeds, modes, family, n_runs):
    """Metrics JSON of every (nsig, seed, method, run); ANODE has run 0 only."""
    files = []
    for nsig in nsigs:
        for seed in seeds:
            for method in method_names(modes, family):
                runs = [0] if method == "anode" else range(n_runs)
                files += [
                    f"{SET}/evaluate/{method}_run{run}.json".format(
                        dataset=dataset, variant=variant, nsig=nsig, seed=seed
                    )
                    for run in runs
                ]
    return files


def sic_metrics(wildcards):
    """The runs behind a SIC plot; the ``comparison_shifted`` selection takes them from the shifted set."""
    modes = SIC_CATHODE_MODES if wildcards.selection == "cathode" else CATHODE["modes"]
    variant = wildcards.variant
    if wildcards.selection == "comparison_shifted":
        variant = variant.partition("_shift")[0] + SHIFTED_VARIANT
    return metrics_files(
        wildcards.dataset,
        variant,
        [wildcards.nsig],
        config["injection"]["seeds"],
        modes,
        wildcards.family,
        CATHODE["runs"],
    )


def sic_title(wildcards):
    shifted = wildcards.variant.partition("_shift")[2]
    if not shifted and wildcards.selection == "comparison_shifted":
        shifted = SHIFTED_VARIANT[len("_shift") :]
    data = f"{wildcards.dataset} data" + (f", shifted (mj1, dmj += {shifted} mjj)" if shifted else "")
    features = feature_set_of(wildcards)
    data += f", features {features}" if features != "lhco4" else ""
    return f"{data}, {wildcards.nsig} injected signal events, classifier: {wildcards.family}"


def sb_scan_metrics(wildcards):
    return metrics_files(
        wildcards.dataset,
        wildcards.variant,
        config["injection"]["scan_nsig"],
        config["injection"]["scan_seeds"],
        CATHODE["modes"],
        wildcards.family,
        CATHODE["scan_runs"],
    )


def prepared_sets(dataset, nsigs, seeds, variant=""):
    return expand(f"{PREPARED}.h5", dataset=dataset, variant=variant, nsig=nsigs, seed=seeds)


def published_plot(wildcards):
    """The plot of the configured data set, family and injection behind results/{published}.pdf."""
    dataset, family, nsig = config["dataset"], CATHODE["classifier"]["family"], config["injection"]["nsig"]
    stem = {
        "sic_cathode": f"plot_sic/sic_cathode_{family}_nsig{nsig}",
        "sic_comparison": f"plot_sic/sic_comparison_{family}_nsig{nsig}",
        "sic_comparison_shifted": f"plot_sic/sic_comparison_shifted_{family}_nsig{nsig}",
        "sb_scan": f"plot_sb_scan/sb_scan_{family}",
        "sculpting": f"plot_sculpting/sculpting_{family}_nsig0",
        "data_overview": "plot_data_overview/data_overview",
    }[wildcards.published]
    # The data overview belongs to the data set, the sculpting plot to the lhco4 chains (both under
    # DATA_DIR); the SIC plots to the configured feature set's chain.
    in_data_dir = wildcards.published in ("data_overview", "sculpting")
    folder = DATA_DIR if in_data_dir else f"{DATA_DIR}{FEATURES_VARIANT}"
    stem = f"{folder}/{stem}".format(dataset=dataset)
    return [f"{stem}.pdf"] + plot_formats(stem)
