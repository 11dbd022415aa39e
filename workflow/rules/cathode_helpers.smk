# Helpers of workflow/rules/cathode.smk: config look-ups, input and params functions, target lists.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
import itertools

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
# Density estimators (config cathode.flow.kind): maf has no variant part, the others "_<kind>" after the
# feature set, before any shift.
FLOW_KINDS = ["maf", "nsf", "cfm"]
KIND_VARIANT = "" if CATHODE["flow"]["kind"] == "maf" else f"_{CATHODE['flow']['kind']}"
VARIANT_REGEX = r"(_(?:lhco4_dr|tau56|lhco4_noise10))?(_(?:nsf|cfm))?(_shift\d+(\.\d+)?)?"


SIC_KEYS = ["cathode.min_bkg_events", "cathode.sic_min_fpr", "cathode.sculpting"]


def cathode_keys(stage, wildcards):
    """Settings behind one stage's outputs for these wildcards, its own and those of every stage before it."""
    keys = data_keys(wildcards.dataset) + ["regions", "prepare"]
    if stage == "prepare":
        return keys
    # The flow kind is the chain's (its folder, kind_of), not config cathode.flow.kind: that one only picks
    # the chain of the top-level plots.
    flow = keys + [f"cathode.flow.{key}" for key in CATHODE["flow"] if key != "kind"] + ["cathode.flow_preset"]
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


def chain_parts(wildcards):
    """(feature set, flow kind) of a chain: the variant's (``_tau56_nsf_shift0.1``: tau56, nsf), else
    lhco4 and maf."""
    head = wildcards.variant.partition("_shift")[0]
    kind = next((k for k in FLOW_KINDS[1:] if head.endswith(f"_{k}")), "maf")
    if kind != "maf":
        head = head[: -len(kind) - 1]
    return (head[1:] or "lhco4"), kind


def feature_set_of(wildcards):
    """The feature set of a chain (chain_parts)."""
    return chain_parts(wildcards)[0]


def kind_of(wildcards):
    """The density estimator of a chain (chain_parts)."""
    return chain_parts(wildcards)[1]


def flow_options(wildcards):
    """--param options of the flow (config cathode.flow), with the chain's kind (kind_of)."""
    return param_options({**CATHODE["flow"], "kind": kind_of(wildcards)})


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
    data += f", flow {kind_of(wildcards)}" if kind_of(wildcards) != "maf" else ""
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


LEADERBOARD = CATHODE["leaderboard"]
FLOW_METHODS = ["cathode", "anode", "lacathode", "ranode"]  # the methods with a density estimator
NO_CLASSIFIER = ["anode", "ranode"]  # the methods without a classifier (no family)
TEMPLATE_METHODS = ["cathode"]  # the methods whose flow samples are a background template
TEMPLATE_FIDELITY = f"{SET}/evaluate/template_fidelity_{{family}}.json"


def chain_variant(features, kind):
    """The variant part of a chain's folder: "" for lhco4 and maf, "_<features>" and "_<kind>" otherwise."""
    return ("" if features == "lhco4" else f"_{features}") + ("" if kind == "maf" else f"_{kind}")


def fidelity_upstream(wildcards):
    """A params function: the settings behind the SR samples and the classifier of a template-fidelity test."""
    return settings_digest(cathode_keys("samples", wildcards) + [f"cathode.classifier.{wildcards.family}"])


def training_benchmarks(method, family, run):
    """Benchmark files (SET_LOG's wildcards left to fill) of the jobs that train one run of a method."""
    flow_sb = bench_file("train_flow", f"{SET_LOG}_sb")
    classifier = bench_file("train_classifier", f"{SET_LOG}_{method}_{family}_run{run}")
    return {
        "cathode": [flow_sb, bench_file("sample_sr", SET_LOG), classifier],
        "lacathode": [flow_sb, bench_file("latent_sr", SET_LOG), classifier],
        "anode": [flow_sb, bench_file("train_flow", f"{SET_LOG}_sr")],
        "ranode": [flow_sb, bench_file("train_ranode", f"{SET_LOG}_run{run}")],
    }.get(method, [classifier])


def leaderboard_runs():
    """(features, method, flow kind, family) of every leaderboard row, from config cathode.leaderboard; the
    kind is "" for methods without a density estimator, the family "" for those without a classifier."""
    families = LEADERBOARD["families"] or [CATHODE["classifier"]["family"]]
    for features in LEADERBOARD["features"]:
        for method in LEADERBOARD["methods"]:
            for kind in LEADERBOARD["flow_kinds"] if method in FLOW_METHODS else [""]:
                for family in [""] if method in NO_CLASSIFIER else families:
                    yield features, method, kind, family


def leaderboard_entries():
    """One dict per run of config cathode.leaderboard (see hepad.cathode.leaderboard): its labels, its
    evaluate JSON, its template fidelity (CATHODE) and the benchmark files of its training."""
    dataset = config["dataset"]
    nsigs = LEADERBOARD["injections"] or config["injection"]["scan_nsig"]
    entries = []
    for features, method, kind, family in leaderboard_runs():
        name = f"{method}_{family}" if family else method
        variant = chain_variant(features, kind or "maf")
        for nsig, seed in itertools.product(nsigs, config["injection"]["scan_seeds"]):
            where = dict(dataset=dataset, variant=variant, nsig=nsig, seed=seed)
            fidelity = TEMPLATE_FIDELITY.format(**where, family=family) if method in TEMPLATE_METHODS else ""
            for run in [0] if method == "anode" else range(CATHODE["scan_runs"]):
                benchmarks = [path.format(**where) for path in training_benchmarks(method, family, run)]
                metrics = f"{SET}/evaluate/{name}_run{run}.json".format(**where)
                labels = dict(dataset=dataset, features=features, flow=kind, family=family, method=method)
                entries.append({**labels, "metrics": metrics, "fidelity": fidelity, "benchmarks": benchmarks})
    return entries


def leaderboard_inputs(wildcards):
    """The evaluate and template-fidelity JSONs behind the leaderboard (the benchmark files are read, not
    inputs: every one is written by a job that an evaluate JSON needs)."""
    files = []
    for entry in leaderboard_entries():
        files += [entry["metrics"]] + ([entry["fidelity"]] if entry["fidelity"] else [])
    return list(dict.fromkeys(files))


def leaderboard_lines(wildcards):
    """The runs of scripts/leaderboard.py --entries, one JSON per line."""
    return "\n".join(json.dumps(entry) for entry in leaderboard_entries())


def leaderboard_upstream(wildcards):
    """A params function: every setting a leaderboard run may depend on."""
    return settings_digest(data_keys(config["dataset"]) + ["regions", "prepare", "injection", "cathode"])


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
    # DATA_DIR); the SIC plots to the configured feature set's and flow kind's chain.
    in_data_dir = wildcards.published in ("data_overview", "sculpting")
    folder = DATA_DIR if in_data_dir else f"{DATA_DIR}{FEATURES_VARIANT}{KIND_VARIANT}"
    stem = f"{folder}/{stem}".format(dataset=dataset)
    return [f"{stem}.pdf"] + plot_formats(stem)
