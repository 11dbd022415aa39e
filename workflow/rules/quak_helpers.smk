# Helpers of workflow/rules/quak.smk: config look-ups, input and params functions, target lists.
# Kept apart from the rules (`snakemake --lint` wants functions and rules in separate files).
from hepad import config as hepad_config
from hepad.quak.checks import LHCO_SIGNAL, check_quak_config
from hepad.zenodo import LHCO_PARTICLES

# Multi-key checks: registered for later validations, and run now (the Snakefile validated the config
# before this file was read), so `snakemake -n` already stops with the message.
if check_quak_config not in hepad_config.CROSS_CHECKS:
    hepad_config.CROSS_CHECKS.append(check_quak_config)
try:
    check_quak_config(config)
except hepad_config.ConfigError as err:
    sys.exit(str(err))

QUAK = config["quak"]
QUAK_DIR = "results/quak/{qset}"
QUAK_MNIST = resource_path("mnist.npz")
# Sample sets of jets: 'generated' (everything generated here) and 'lhco' (background and held-out
# signal = the official LHCO R&D events, signal priors generated, as in the paper: priors trained on
# simulations, tested on the LHCO data). The others ('digits', 'mnist') are images.
QUAK_PHYSICS = ("generated", "lhco")
# The QUAK jets: anti-kT R = quak.jet_radius (0.8, the paper's). The generation stage clusters R =
# generation.jet_radius (1.0, CATHODE's); with another radius the QUAK processes are generated again (same
# seeds, same events) by the generation rules under a radius-specific folder (quak_generate_events,
# quak_merge_events), and the LHCO R&D particles are clustered with it (lhco_extended).
QUAK_RADIUS = float(QUAK["jet_radius"])
LHCO_JET_RADIUS = 1.0  # the radius of the LHCO R&D jets (hepad.events.lhco_particles.JET_RADIUS)


def quak_radius_tag(radius):
    """r08 for 0.8, r12 for 1.2; r0p85 for 0.85."""
    tenths = round(radius * 10)
    if abs(radius * 10 - tenths) < 1e-9:
        return f"r{tenths:02d}"
    text = f"{radius:g}".replace(".", "p")
    return f"r{text}"


QUAK_RADIUS_GENERATED = f"resources/generated_{quak_radius_tag(QUAK_RADIUS)}"
QUAK_OWN_GENERATION = abs(QUAK_RADIUS - float(config["generation"]["jet_radius"])) > 1e-9
QUAK_GENERATED = QUAK_RADIUS_GENERATED if QUAK_OWN_GENERATION else "resources/generated"
# The LHCO R&D events as QUAK processes: extended features made from the particle-level file.
QUAK_LHCO = (
    f"resources/lhco_{quak_radius_tag(QUAK_RADIUS)}" if abs(QUAK_RADIUS - LHCO_JET_RADIUS) > 1e-9 else "resources/lhco"
)
# The VAE's beta: one value or a scan (quak.vae.beta a list): family vae_beta<b> per value, and 'vae' is
# the first value's priors.
QUAK_BETAS = QUAK["vae"]["beta"] if isinstance(QUAK["vae"]["beta"], list) else [QUAK["vae"]["beta"]]


# Settings behind each stage's outputs, its own and every earlier stage's (see settings_digest).
QUAK_SAMPLE_KEYS = data_keys("generated") + [
    f"quak.{key}"
    for key in (
        "priors",
        "signals",
        "mjj_min",
        "max_background",
        "max_signal",
        "seed",
        "lhco",
        "digits",
        "jet_radius",
        "drop_inputs",
    )
]
QUAK_SPACE_KEYS = ["quak.target_bkg_eff", "quak.min_bkg_events", "quak.signal_windows"]


def quak_family_base(family):
    """The prior family of a family wildcard: vae_beta0.5 -> vae."""
    return "vae" if family.startswith("vae") else family


def quak_family_beta(family):
    """The beta of a VAE family wildcard: vae_beta<b> -> b; vae -> the first of quak.vae.beta."""
    if family.startswith("vae_beta"):
        return float(family[len("vae_beta") :])
    return float(QUAK_BETAS[0])


def quak_beta_family(beta):
    """The family wildcard of one beta of the scan."""
    return f"vae_beta{float(beta):g}"


def quak_upstream(stage):
    """A params function: the digest of the settings behind a QUAK stage for this sample set and family
    (of a VAE: its settings with the one beta it uses, so adding a beta to the scan retrains nothing)."""

    def upstream(wildcards):
        keys = list(QUAK_SAMPLE_KEYS)
        extra = {}
        family = wildcards.get("quak_family", QUAK["family"])
        if stage in ("space", "plot"):
            keys += QUAK_SPACE_KEYS
        if stage == "plot":
            keys += ["quak.plot_prior", "quak.family"]
        if stage == "scan":
            keys += ["quak.vae"]
        elif stage != "samples":
            base = quak_family_base(family)
            if base == "vae":
                extra = {k: v for k, v in QUAK["vae"].items() if k != "beta"}
                extra["beta"] = quak_family_beta(family)
            else:
                keys += [f"quak.{base}"]
        digest = settings_digest(keys)
        if not extra:
            return digest
        text = json.dumps({"upstream": digest, "vae": extra}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    return upstream


def quak_generation_settings(wildcards):
    """The chunk settings of a process (generation_settings) with the QUAK jet radius."""
    settings = json.loads(settings_json(wildcards.process, config))
    settings["jet_radius"] = QUAK_RADIUS
    return json.dumps(settings, sort_keys=True)


def quak_generation_chunks(wildcards):
    """All QUAK-radius chunk files of a process, in chunk order."""
    n = len(process_chunks(wildcards.process, config))
    return [f"{QUAK_RADIUS_GENERATED}/chunks/{wildcards.process}/chunk{i}.h5" for i in range(n)]


def quak_extended(process):
    """Merged extended features of a generated process (made by the generation stage's chunked chain)."""
    return f"{QUAK_GENERATED}/{process}.extended.h5"


def quak_lhco_extended(process):
    """Extended features of the LHCO R&D events of one label (rule lhco_extended)."""
    return f"{QUAK_LHCO}/{process}.extended.h5"


def quak_signal_names(qset):
    """Held-out signals of a physics sample set."""
    return [LHCO_SIGNAL] if qset == "lhco" else QUAK["signals"]


def quak_features_inputs(wildcards):
    """Extended-features file per process: background and held-out signals of the set, generated priors."""
    data = quak_lhco_extended if wildcards.qset == "lhco" else quak_extended
    inputs = {name: data(name) for name in ["qcd", *quak_signal_names(wildcards.qset)]}
    inputs.update({name: quak_extended(name) for name in QUAK["priors"]})
    return inputs


def quak_features_options(wildcards, input):
    opts = [f"--background qcd={input.qcd}"]
    opts += [f"--prior {p}={input[p]}" for p in QUAK["priors"]]
    opts += [f"--signal {s}={input[s]}" for s in quak_signal_names(wildcards.qset)]
    opts += [f"--drop {name}" for name in QUAK["drop_inputs"][wildcards.qset]]
    return " ".join(opts)


def quak_digits_inputs(wildcards):
    """MNIST arrives through the download stage; the 8x8 digits ship with scikit-learn (no input)."""
    return {"mnist": QUAK_MNIST} if wildcards.qset == "mnist" else {}


def quak_digits_source(wildcards, input):
    return f"--source mnist --mnist {input.mnist}" if wildcards.qset == "mnist" else "--source sklearn"


def quak_sample_names(qset):
    """Priors of a QUAK space: the background first, then the signal priors."""
    if qset in QUAK_PHYSICS:
        return ["background", *QUAK["priors"]]
    return ["background", *[f"digit{d}" for d in QUAK["digits"]["priors"]]]


def quak_prior_family(family):
    """The folder of a family's priors: with a beta scan, 'vae' is the first beta's (no second training)."""
    if family == "vae" and isinstance(QUAK["vae"]["beta"], list):
        return quak_beta_family(QUAK_BETAS[0])
    return family


def quak_prior_files(wildcards):
    family = quak_prior_family(wildcards.quak_family)
    return {
        name: f"results/quak/{wildcards.qset}/train_quak_prior/{family}/{name}.pt"
        for name in quak_sample_names(wildcards.qset)
    }


def quak_prior_options(wildcards, input):
    return " ".join(f"--prior {name}={input[name]}" for name in quak_sample_names(wildcards.qset))


def quak_train_options(wildcards):
    """--param key=<json> options of the family's hyperparameters (digits: smaller batches, more epochs)."""
    family = quak_family_base(wildcards.quak_family)
    params = dict(QUAK[family])
    if family == "vae":
        params["beta"] = quak_family_beta(wildcards.quak_family)
    if wildcards.qset not in QUAK_PHYSICS:
        for key in ("batch_size", "max_epochs", "patience"):
            params[key] = QUAK["digits"][key]
    if params.get("patience") == 0:
        params["patience"] = None
    return param_options(params)


def quak_space_setting(key):
    """quak.<key> for the physics space, quak.digits.<key> for digits (an input function of qset)."""

    def lookup(wildcards):
        return QUAK[key] if wildcards.qset in QUAK_PHYSICS else QUAK["digits"][key]

    return lookup


def quak_plot_title():
    """Text before the panel titles of results/quak_space.pdf and results/roc_quak.pdf: the data, the jet
    radius and the inputs left out (on lhco the constituent counts: Delphes there, our detector for the
    signal priors)."""
    qset = config["dataset"]
    data = " on LHCO R&D data" if qset == "lhco" else ""
    dropped = QUAK["drop_inputs"][qset]
    why = " (Delphes data, priors on our detector)" if qset == "lhco" else ""
    inputs = f", without {', '.join(dropped)}{why}" if dropped else ""
    return f"QUAK ({QUAK['family']} priors){data}, R = {QUAK_RADIUS:g} jets{inputs}:"


def quak_beta_scan_files(wildcards):
    return {
        quak_beta_family(b): f"results/quak/{wildcards.qset}/quak_space/{quak_beta_family(b)}/metrics.json"
        for b in QUAK_BETAS
    }


def quak_beta_scan_options(wildcards, input):
    return " ".join(f"--metrics {b:g}={input[quak_beta_family(b)]}" for b in QUAK_BETAS)


def quak_space_files(qset, family):
    return {
        "losses": f"results/quak/{qset}/quak_space/{family}/losses.h5",
        "metrics": f"results/quak/{qset}/quak_space/{family}/metrics.json",
    }


def quak_other_of(stem):
    """params function: the other-format outputs of plot ``stem`` (taken from the rule's outputs)."""

    def other(wildcards, output):
        return " ".join(path for path in output.other_formats if Path(path).stem == stem)

    return other
