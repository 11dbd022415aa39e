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


def load_schema(path=SCHEMA_PATH) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def _resolve(schema: dict, root: dict) -> dict:
    """Follow a local ``$ref`` (``#/$defs/...``), keeping the referring schema's own keys."""
    if "$ref" not in schema:
        return schema
    target = root
    for part in schema["$ref"].lstrip("#/").split("/"):
        target = target[part]
    merged = dict(_resolve(target, root))
    merged.update({k: v for k, v in schema.items() if k != "$ref"})
    return merged


def fill_defaults(config: dict, schema: dict, root: dict | None = None) -> dict:
    """Insert schema defaults for missing keys, recursively into objects (in place; returns config)."""
    root = root or schema
    schema = _resolve(schema, root)
    for key, sub in schema.get("properties", {}).items():
        sub = _resolve(sub, root)
        if key not in config and "default" in sub:
            config[key] = copy.deepcopy(sub["default"])
        if isinstance(config.get(key), dict) and "properties" in sub:
            fill_defaults(config[key], sub, root)
    return config


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
    schema = _resolve(schema, root)
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
    schema = _resolve(schema, root)
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


def _format_error(error: jsonschema.ValidationError, root: dict) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    if error.validator == "additionalProperties":
        known = list(_resolve(error.schema, root).get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        where = f"{path}." if path else ""
        return (f"config error: unknown key {', '.join(where + k for k in unknown)}; "
                f"allowed keys{' under ' + path if path else ''}: {', '.join(known)}")
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
    for check in CROSS_CHECKS:
        check(config)


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
    fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(config))
    if errors:
        raise ConfigError(_format_error(jsonschema.exceptions.best_match(errors), schema))
    _cross_checks(config)
    return config
