# Helpers of the CATHODE stage (cathode.smk): config look-ups, input functions, target lists. No rules.
import json
import shutil

CATHODE = config["cathode"]
SET = "results/{dataset}/nsig{nsig}_seed{seed}"
CLASSIFIER_MODES = ["cathode", "cwola", "iad", "supervised"]
SIC_CATHODE_MODES = ["supervised", "iad", "cathode"]


wildcard_constraints:
    region="sb|sr",
    mode="cathode|cwola|iad|supervised",
    family="mlp|hgb",
    method="(?:cathode|cwola|iad|supervised)_(?:mlp|hgb)|anode",
    selection="cathode|comparison",
    run=r"\d+",


def gpu_requested():
    """1 if the training jobs should ask for a GPU (config cathode.gpu; 'auto': nvidia-smi present)."""
    setting = CATHODE["gpu"]
    if setting == "auto":
        return int(shutil.which("nvidia-smi") is not None)
    return int(bool(setting))


def flow_options():
    """train_flow options from config cathode.flow."""
    f = CATHODE["flow"]
    opts = (f"--n-blocks {f['n_blocks']} --hidden {f['hidden']} --lr {f['lr']} --weight-decay {f['weight_decay']}"
            f" --batch-size {f['batch_size']} --max-epochs {f['max_epochs']} --patience {f['patience']}"
            f" --n-ensemble {f['n_ensemble']} --implementation {f['implementation']}"
            f" --lr-schedule {f['lr_schedule']} --warmup-epochs {f['warmup_epochs']}")
    return opts + ("" if f["batch_norm"] else " --no-batch-norm")


def classifier_options(wildcards):
    """--param key=value options of the family's hyperparameters (config cathode.classifier.<family>)."""
    params = dict(CATHODE["classifier"][wildcards.family])
    # The classes are balanced with sample weights by hepad.cathode.modes; class_weight would apply it twice.
    params["class_weight"] = None
    return " ".join(f"--param '{key}={json.dumps(value)}'" for key, value in sorted(params.items()))


def classifier_seed(wildcards):
    """Distinct per prepared-set seed and run, reproducible: 1000 * seed + run."""
    return 1000 * int(wildcards.seed) + int(wildcards.run)


def classifier_gpu(wildcards):
    return gpu_requested() if wildcards.family == "mlp" else 0


def train_flow_inputs(wildcards):
    inputs = {"data": f"results/{wildcards.dataset}/prepared/nsig{wildcards.nsig}_seed{wildcards.seed}.h5"}
    if wildcards.region == "sr":  # ANODE's SR flow shares the SB model's scalers
        inputs["scalers"] = f"{SET}/flow_sb/flow.pt".format(**wildcards)
    return inputs


def scalers_option(wildcards, input):
    return f"--scalers-from {Path(input.scalers).parent}" if wildcards.region == "sr" else ""


def train_classifier_inputs(wildcards):
    inputs = {"data": f"results/{wildcards.dataset}/prepared/nsig{wildcards.nsig}_seed{wildcards.seed}.h5"}
    if wildcards.mode == "cathode":
        inputs["samples"] = f"{SET}/samples/sr_samples.h5".format(**wildcards)
    return inputs


def samples_option(wildcards, input):
    return f"--samples {input.samples}" if wildcards.mode == "cathode" else ""


def scores_file(wildcards):
    if wildcards.method == "anode":
        return f"{SET}/anode/scores.h5".format(**wildcards)
    return f"{SET}/classifier/{{method}}_run{{run}}/scores.h5".format(**wildcards)


def method_names(modes, family):
    return [m if m == "anode" else f"{m}_{family}" for m in modes]


def metrics_files(dataset, nsigs, seeds, modes, family, n_runs):
    """Metrics JSON of every (nsig, seed, method, run); ANODE has run 0 only."""
    files = []
    for nsig in nsigs:
        for seed in seeds:
            for method in method_names(modes, family):
                runs = [0] if method == "anode" else range(n_runs)
                files += [f"results/{dataset}/nsig{nsig}_seed{seed}/metrics/{method}_run{run}.json" for run in runs]
    return files


def sic_metrics(wildcards):
    modes = SIC_CATHODE_MODES if wildcards.selection == "cathode" else CATHODE["modes"]
    return metrics_files(wildcards.dataset, [wildcards.nsig], config["injection"]["seeds"], modes, wildcards.family,
                         CATHODE["runs"])


def sb_scan_metrics(wildcards):
    return metrics_files(wildcards.dataset, config["injection"]["scan_nsig"], config["injection"]["scan_seeds"],
                         CATHODE["modes"], wildcards.family, CATHODE["scan_runs"])


def plot_outputs(stem):
    """A plot as PDF plus every format of config plots.formats."""
    return [f"{stem}.pdf"] + [f"{stem}.{fmt}" for fmt in config["plots"]["formats"]]


def report_outputs(kind):
    """results/<kind>.pdf (and other formats), flagged for the HTML report with workflow/report/<kind>.rst."""
    return [report(path, caption=f"../report/{kind}.rst", category="CATHODE and benchmarks")
            for path in plot_outputs(f"results/{kind}")]


def main_plot(kind):
    """The configured data set's plot behind a top-level results/<kind>.pdf (family: cathode.classifier.family)."""
    dataset, family, nsig = config["dataset"], CATHODE["classifier"]["family"], config["injection"]["nsig"]
    if kind == "sb_scan":
        return plot_outputs(f"results/{dataset}/plots/sb_scan_{family}")
    return plot_outputs(f"results/{dataset}/plots/{kind}_{family}_nsig{nsig}")


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
