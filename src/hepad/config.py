"""Validate the workflow config against its JSON schema and fill in the defaults.

A wrong type, an unknown key or a value out of range stops the run before any job with one line that
names the key and what is allowed, e.g.
``config error: cathode.flow.epochs = -3 is not allowed; allowed: integer >= 1``.
"""

from __future__ import annotations

import copy
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
    fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(config))
    if errors:
        raise ConfigError(_format_error(jsonschema.exceptions.best_match(errors), schema))
    _cross_checks(config)
    return config
