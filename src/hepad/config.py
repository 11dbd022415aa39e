"""Validate the workflow config against its JSON schema and fill in the defaults.

A wrong type, an unknown key or a value out of range stops the run before any job with one line that
names the key and what is allowed, e.g.
``config error: cathode.flow.epochs = -3 is not allowed; allowed: integer >= 1``.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The config breaks the schema or a rule that joins several keys."""


# Files Snakemake reads as config when a target is written after --configfile (which takes several
# values): plots and data files, never config. (.json is a valid config file.)
TARGET_SUFFIXES = {".pdf", ".png", ".svg", ".h5", ".hdf5", ".npz", ".pt", ".onnx", ".html", ".tsv"}


def check_config_file(path) -> None:
    """Read a config file as Snakemake will and raise ``ConfigError`` with one line naming the file and,
    for a YAML error, its line and column (Snakemake's own message names neither); empty files, files
    that hold no mapping and targets given after --configfile get a line of their own."""
    path = Path(path)
    if path.suffix.lower() in TARGET_SUFFIXES:
        raise ConfigError(
            f"config error: {path} is a target, not a config file: write targets before --configfile, "
            f"e.g. snakemake {path} --configfile my.yaml")
    if not path.is_file():
        return  # Snakemake says so itself
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"config error: {path} is not a text file (byte {err.start} is not UTF-8): a config "
                          "file is YAML text; a target given after --configfile is read as one, so write targets first")
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"config error: {path}{where}: {_yaml_problem(err)}")
    except yaml.YAMLError as err:
        raise ConfigError(f"config error: {path}: {' '.join(str(err).split())}")
    if data is None:
        raise ConfigError(f"config error: {path} is empty; write settings as `key: value` lines "
                          "(config/README.md lists them) or leave the file out")
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a single string"}.get(type(data), f"a single {type(data).__name__}")
        raise ConfigError(f"config error: {path} holds {kind}, not settings; write `key: value` lines at the top level")


def _yaml_problem(err: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem in words a user acts on."""
    problem = err.problem or err.context or "not valid YAML"
    if "'\\t'" in problem or "\t" in problem:
        return "found a tab character where YAML expects spaces (indent with spaces only)"
    if "expected <block end>" in problem:
        return (f"the indentation does not match the lines above ({problem}); keys of one mapping start in the "
                "same column")
    if err.context and err.context_mark and err.context_mark is not err.problem_mark:
        return f"{problem} ({err.context} that starts on line {err.context_mark.line + 1})"
    return problem


def load_schema(path=SCHEMA_PATH) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def resolve_ref(schema: dict, root: dict) -> dict:
    """Follow a local ``$ref`` (``#/$defs/...``), keeping the referring schema's own keys."""
    if "$ref" not in schema:
        return schema
    target = root
    for part in schema["$ref"].lstrip("#/").split("/"):
        target = target[part]
    merged = dict(resolve_ref(target, root))
    merged.update({k: v for k, v in schema.items() if k != "$ref"})
    return merged


def fill_defaults(config: dict, schema: dict, root: dict | None = None) -> dict:
    """Insert schema defaults for missing keys, recursively into objects (in place; returns config)."""
    root = root or schema
    schema = resolve_ref(schema, root)
    for key, sub in schema.get("properties", {}).items():
        sub = resolve_ref(sub, root)
        if key not in config and "default" in sub:
            config[key] = copy.deepcopy(sub["default"])
        if isinstance(config.get(key), dict) and "properties" in sub:
            fill_defaults(config[key], sub, root)
    return config


def apply_presets(config: dict, schema: dict, root: dict | None = None) -> dict:
    """Fill the keys a named preset sets, where the config leaves them unset (in place; returns config).

    A property with ``x-presets`` (name -> values) and ``x-fills`` (the sibling mapping it fills) picks
    its preset by its value or default, e.g. ``cathode.flow_preset: reference`` sets the ``cathode.flow``
    keys of the reference recipe the user did not set. Runs before ``fill_defaults``, so the schema
    defaults fill only what neither the user nor the preset set.
    """
    root = root or schema
    schema = resolve_ref(schema, root)
    properties = schema.get("properties", {})
    for key, sub in properties.items():
        sub = resolve_ref(sub, root)
        if "x-presets" in sub:
            name = config.get(key, sub.get("default"))
            values = sub["x-presets"].get(name) if isinstance(name, str) else None
            target = config.setdefault(sub["x-fills"], {}) if values else None
            if isinstance(target, dict):
                for name_, value in values.items():
                    target.setdefault(name_, copy.deepcopy(value))
        elif isinstance(config.get(key), dict) and "properties" in sub:
            apply_presets(config[key], sub, root)
    return config


def sb_scan_nsig(config: dict) -> list[int]:
    """The injected signal counts of the S/B scan: ``injection.scan_sb`` (SR S/B in percent) converted
    with the data set's ``injection.sb_per_1000_nsig`` as nsig = int(S/B * 1000 / that), or else
    ``injection.scan_nsig``. For the LHCO R&D set the paper's S/B values give its counts 943, 628, ..."""
    injection = config["injection"]
    if injection.get("scan_sb") is None:
        return list(injection["scan_nsig"])
    per_1000 = injection["sb_per_1000_nsig"][config["dataset"]]
    return [int(sb * 1000 / per_1000 + 1e-9) for sb in injection["scan_sb"]]


def _derive_scan_nsig(config: dict) -> None:
    """``injection.scan_sb``, when given, replaces ``injection.scan_nsig`` (the rules read the latter)."""
    injection = config["injection"]
    if injection.get("scan_sb") is None:
        return
    nsig = sb_scan_nsig(config)
    if len(set(nsig)) < len(nsig):
        raise ConfigError(
            f"config error: injection.scan_sb = {injection['scan_sb']} gives repeated injection counts {nsig} "
            f"(nsig = int(S/B x 1000 / {injection['sb_per_1000_nsig'][config['dataset']]})); space the S/B values further")
    injection["scan_nsig"] = nsig


_INT = re.compile(r"[+-]?[0-9]+")
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _parsed_candidates(text: str) -> list:
    """What a string from the command line may have meant: an integer, a number, a boolean."""
    text = text.strip()
    out = []
    if _INT.fullmatch(text):
        out.append(int(text))
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            out.append(number)
    if text.lower() in _BOOLEANS:
        out.append(_BOOLEANS[text.lower()])
    return out


def _same(a, b) -> bool:
    """Equal and of the same kind (True == 1 in Python, not here)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _coerce_scalar(text: str, schema: dict):
    """``text`` as the integer, number or boolean the schema asks for, when it parses; else unchanged."""
    candidates = _parsed_candidates(text)
    if "enum" in schema:
        if text in schema["enum"]:
            return text
        for candidate in candidates:
            for allowed in schema["enum"]:
                if _same(candidate, allowed):
                    return allowed
        return text
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if not kinds or "string" in kinds:
        return text
    for candidate in candidates:
        if isinstance(candidate, bool):
            if "boolean" in kinds:
                return candidate
        elif isinstance(candidate, int):
            if "integer" in kinds or "number" in kinds:
                return candidate
        elif "number" in kinds or ("integer" in kinds and candidate.is_integer()):
            return int(candidate) if "number" not in kinds else candidate
    return text


def coerce_strings(config, schema: dict, root: dict | None = None):
    """Turn strings into the numbers and booleans the schema asks for (in place; returns ``config``).

    Snakemake hands ``--config`` values over as strings (``--config 'cathode={flow: {max_epochs: 2}}'``
    gives ``'2'``): only where the schema's type is integer, number or boolean (or an enum of booleans) and
    the string parses does the value change; anything else is left for validation to report.
    """
    root = root or schema
    schema = resolve_ref(schema, root)
    if isinstance(config, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in config.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                config[key] = coerce_strings(value, sub, root)
    elif isinstance(config, list) and isinstance(schema.get("items"), dict):
        for i, value in enumerate(config):
            config[i] = coerce_strings(value, schema["items"], root)
    elif isinstance(config, str):
        return _coerce_scalar(config, schema)
    elif isinstance(config, bool) and str(config).lower() in schema.get("enum", []):
        return str(config).lower()  # YAML reads an unquoted `w_mode: true` as a boolean; the enum means the word
    return config


def expand_dotted_keys(config: dict) -> dict:
    """A top-level key ``a.b.c`` with value ``v`` becomes ``{a: {b: {c: v}}}``, merged over what is there
    (in place; returns ``config``). Config files and the Python API can pass such keys; Snakemake's own
    ``--config`` rejects them before the workflow sees them (see README, "Run")."""
    for key in [k for k in config if isinstance(k, str) and "." in k]:
        value = config.pop(key)
        parts = key.split(".")
        if not all(parts):
            raise ConfigError(f"config error: key {key!r} has an empty part; write it as a.b.c=value")
        node = config
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                if part in node:
                    where = ".".join(parts[: i + 1])
                    raise ConfigError(f"config error: {key} sets a key below {where}, which is not a mapping")
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return config


def _describe_allowed(schema: dict, root: dict) -> str:
    """A short human description of what a schema admits."""
    schema = resolve_ref(schema, root)
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    parts = []
    kind = schema.get("type")
    if kind == "array":
        items = _describe_allowed(schema.get("items", {}), root)
        size = f"at least {schema['minItems']} " if "minItems" in schema else ""
        unique = "distinct " if schema.get("uniqueItems") else ""
        return f"a list of {size}{unique}values, each {items}"
    if kind == "object":
        keys = list(schema.get("properties", {}))
        return "a mapping with keys " + ", ".join(keys) if keys else "a mapping"
    if kind:
        parts.append(kind if isinstance(kind, str) else " or ".join(kind))
    for word, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if word in schema:
            parts.append(f"{sign} {schema[word]}")
    bounds = " and ".join(parts[1:] if kind else parts)
    text = (parts[0] + (" " + bounds if bounds else "")) if kind else bounds
    if "pattern" in schema:
        text += f" matching {schema['pattern']}"
    return text or "anything"


# Keys of earlier versions and where their setting lives now (named in the unknown-key error).
MOVED_KEYS = {"codae.model.variant": "codae.variants, a list of the auto-encoders to train (e.g. [codae, codvae])"}


def _format_error(error: jsonschema.ValidationError, root: dict) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    if error.validator == "additionalProperties":
        known = list(resolve_ref(error.schema, root).get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        where = f"{path}." if path else ""
        moved = "".join(f"; {where + k} is now {MOVED_KEYS[where + k]}"
                        for k in unknown if where + k in MOVED_KEYS)
        return (f"config error: unknown key {', '.join(where + k for k in unknown)}; "
                f"allowed keys{' under ' + path if path else ''}: {', '.join(known)}{moved}")
    if error.validator == "required":
        return f"config error: {path or 'config'} is missing a key: {error.message}"
    if error.validator == "uniqueItems":
        return f"config error: {path} = {error.instance!r} has repeated values; allowed: {_describe_allowed(error.schema, root)}"
    # The failing schema may be an item of an array: describe the key's full schema when possible.
    return f"config error: {path or 'config'} = {error.instance!r} is not allowed; allowed: {_describe_allowed(error.schema, root)}"


def _cross_checks(config: dict) -> None:
    """Rules that join several keys, which JSON schema cannot say."""
    for name in ("sr", "cwola_sb"):
        window = config["regions"][name]
        if window["low"] >= window["high"]:
            raise ConfigError(f"config error: regions.{name} = {window} has low >= high; allowed: low < high [TeV]")
    sr, cw = config["regions"]["sr"], config["regions"]["cwola_sb"]
    if not (cw["low"] < sr["low"] and sr["high"] < cw["high"]):
        raise ConfigError(f"config error: regions.cwola_sb = {cw} must enclose regions.sr = {sr} with room on both sides")
    _check_sr_kinematics(config)
    _check_search(config)
    for check in CROSS_CHECKS:
        check(config)


def _check_search(config: dict) -> None:
    """The bump hunt's joint settings (docs/search.md)."""
    search = config["search"]
    if search["delta_sys"] is None and not search["null_seeds"]:
        raise ConfigError("config error: search.delta_sys is null (measured from the background-only runs), but "
                          "search.null_seeds is empty; give seeds or set search.delta_sys to a number")


SQRT_S_TEV = 13.0  # the LHC collision energy of both data sets
LHCO_TRIGGER_PT_GEV = 1200.0  # the LHCO R&D trigger: leading jet pT > 1.2 TeV
LHCO_EVENTS = {"qcd": 1_000_000, "signal": 100_000}  # events_anomalydetection_v2.features.h5


def _window(sr: dict) -> str:
    """``9.0-9.5 TeV`` from ``{low: 9, high: 9.5}``."""

    def tev(value) -> str:
        text = f"{float(value):g}"
        return text if "." in text or "e" in text else text + ".0"

    return f"{tev(sr['low'])}-{tev(sr['high'])} TeV"


def _trigger(config: dict) -> tuple[float, str]:
    """The leading-jet pT threshold [GeV] of the data set, and the key or source that sets it."""
    if config["dataset"] == "lhco":
        return LHCO_TRIGGER_PT_GEV, "the LHCO R&D trigger"
    return float(config["generation"]["trigger_pt"]), "generation.trigger_pt"


def _check_sr_kinematics(config: dict) -> None:
    """The SR must lie where dijets exist: below the collision energy, above the trigger's edge."""
    sr = config["regions"]["sr"]
    if sr["high"] > SQRT_S_TEV:
        raise ConfigError(
            f"config error: regions.sr = {_window(sr)} reaches above sqrt(s) = {SQRT_S_TEV:g} TeV, the collision "
            "energy: no dijet is heavier. Put the SR below it (the default is 3.3-3.7 TeV)")
    trigger_gev, source = _trigger(config)
    edge = 2 * trigger_gev / 1000
    if sr["high"] <= edge:
        raise ConfigError(
            f"config error: regions.sr = {_window(sr)} lies below the trigger: a leading jet of pT > "
            f"{trigger_gev / 1000:g} TeV ({source}) balanced by the other jet makes mjj >= about 2 x "
            f"{trigger_gev / 1000:g} = {edge:g} TeV; below that only the few events with unbalanced jets remain "
            f"and there is no lower sideband. Put the SR above {edge:g} TeV")


# Fraction of QCD dijet events (Pythia 8.3 HardQCD, 13 TeV, pTHat > 1.1 TeV: the generated sample and the
# LHCO R&D one) whose hard-process mass lies above m [TeV]; from Pythia's cross sections with
# PhaseSpace:mHatMin = m (0.6 % statistical uncertainty each). Reconstructed mjj follow mHat to tens of
# percent: in the tiny test sample 15 % of the events fall in 3.3-3.7 TeV against 11 % here.
QCD_MHAT_ABOVE = [
    (2.2, 1.0), (2.5, 0.752), (3.0, 0.374), (3.5, 0.177), (4.0, 0.083), (4.5, 0.0381), (5.0, 0.0171),
    (5.5, 0.00758), (6.0, 0.00321), (7.0, 5.13e-4), (8.0, 6.6e-5), (9.0, 5.84e-6), (10.0, 2.85e-7),
    (11.0, 4.53e-9), (12.0, 4.9e-12), (12.5, 1.21e-14),
]
MIN_SR_QCD_EVENTS = 10


def qcd_fraction_above(m_tev: float) -> float:
    """Estimated fraction of the QCD sample with mjj above ``m_tev`` (log-linear between table points)."""
    table = QCD_MHAT_ABOVE
    if m_tev <= table[0][0]:
        return 1.0
    if m_tev >= SQRT_S_TEV:
        return 0.0
    for (m0, f0), (m1, f1) in zip(table, table[1:] + [(SQRT_S_TEV, None)]):
        if m_tev <= m1:
            if f1 is None:  # beyond the last point: keep its slope
                (ma, fa), (mb, fb) = table[-2], table[-1]
                m1, f1 = SQRT_S_TEV, fb * (fb / fa) ** ((SQRT_S_TEV - mb) / (mb - ma))
            return math.exp(math.log(f0) + (math.log(f1) - math.log(f0)) * (m_tev - m0) / (m1 - m0))
    return 0.0


def expected_sr_qcd(config: dict) -> tuple[float, int, str]:
    """Expected QCD events of the data set in regions.sr, the sample size, and its name."""
    if config["dataset"] == "lhco":
        n, name = LHCO_EVENTS["qcd"], "LHCO R&D"
        floor = 2.2
    else:
        n, name = config["generation"]["events"]["qcd"], "generated"
        floor = max(2.2, 2 * config["generation"]["pthat_min"] / 1000)  # mHat >= 2 pTHatMin
    sr = config["regions"]["sr"]
    fraction = (qcd_fraction_above(sr["low"]) - qcd_fraction_above(sr["high"])) / qcd_fraction_above(floor)
    return n * fraction, n, name


def check_sample_sizes(config: dict) -> None:
    """What the data set can deliver: QCD events in the SR, signal events to inject. Raise ``ConfigError``.

    Run by the Snakefile after ``validate_config`` (unit tests validate small made-up configs without it).
    """
    lhco = config["dataset"] == "lhco"
    n_signal = LHCO_EVENTS["signal"] if lhco else config["generation"]["events"]["signal"]
    where = "in the LHCO R&D file" if lhco else "generated (generation.events.signal)"
    injection = config["injection"]
    for key, nsig in [("injection.nsig", injection["nsig"])] + [
            (f"injection.scan_nsig[{i}]", n) for i, n in enumerate(injection["scan_nsig"])]:
        if nsig > n_signal:
            fix = "lower it" if lhco else "lower it or raise generation.events.signal"
            raise ConfigError(f"config error: {key} = {nsig} is more than the {n_signal} signal events {where}; {fix}")
    expected, n, name = expected_sr_qcd(config)
    if expected < MIN_SR_QCD_EVENTS:
        sr = config["regions"]["sr"]
        width = sr["high"] - sr["low"]
        fix = "" if lhco else " or raise generation.events.qcd"
        shown = f"{expected:.1f}" if expected >= 0.1 else f"{expected:.1g}"
        raise ConfigError(
            f"config error: regions.sr = {_window(sr)} would hold about {shown} of the {n} {name} QCD events "
            f"(a Pythia 8 estimate at 13 TeV, good to a factor of 2: QCD falls about tenfold per TeV up there); "
            f"at least {MIN_SR_QCD_EVENTS} are needed: move the SR below about "
            f"{_highest_sr_low(config, width):.1f} TeV (same width){fix}")


def _highest_sr_low(config: dict, width: float) -> float:
    """The highest SR low edge (TeV) of the given width at which the data set holds enough QCD events."""
    low, high = 2.2, SQRT_S_TEV - width
    trial = copy.deepcopy(config)
    for _ in range(40):
        middle = (low + high) / 2
        trial["regions"]["sr"] = {"low": middle, "high": middle + width}
        if expected_sr_qcd(trial)[0] >= MIN_SR_QCD_EVENTS:
            low = middle
        else:
            high = middle
    return low


# Stages add their own multi-key checks here (each a function raising ConfigError).
CROSS_CHECKS: list = []


def validate_config(config: dict, schema: dict | None = None) -> dict:
    """Fill defaults into ``config`` (in place), validate it, and return it; raise ``ConfigError``."""
    schema = schema or load_schema()
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ConfigError(f"config error: the config must be a mapping of keys, got {type(config).__name__}")
    expand_dotted_keys(config)
    coerce_strings(config, schema)
    apply_presets(config, schema)
    fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(config))
    if errors:
        raise ConfigError(_format_error(jsonschema.exceptions.best_match(errors), schema))
    _derive_scan_nsig(config)
    _cross_checks(config)
    return config


def main(argv=None) -> int:
    """``python -m hepad.config FILE...``: check config files as the workflow does, one line per problem.

    Snakemake reads the files given with --configfile itself, before the workflow can look at them, and
    its message names neither file nor line; this names both, then validates the merged settings.
    """
    import sys

    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m hepad.config CONFIG.yaml [MORE.yaml ...]", file=sys.stderr)
        return 2
    try:
        merged: dict = {}
        for path in paths:
            check_config_file(path)
            _merge(merged, yaml.safe_load(Path(path).read_text()))
        validate_config(merged)
        check_sample_sizes(merged)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"ok: {', '.join(paths)}")
    return 0


def _merge(into: dict, update: dict) -> dict:
    """Nested update as Snakemake merges config files (later files win, mappings merge key by key)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


if __name__ == "__main__":
    raise SystemExit(main())
