"""The key tables of config/README.md, generated from the config schema (one default per setting).

`workflow/schemas/config.schema.yaml` holds every default and every meaning (its ``description``
fields). The README's tables are copies of them between marker comments::

    <!-- generated from the schema: cathode -->
    | key | default | meaning |
    ...
    <!-- end generated -->

``python -m hepad.config_docs`` rewrites those parts in place; ``python -m hepad.config_docs --check``
changes nothing and exits 1, naming each section that differs from the schema. Nested objects are
flattened to dotted keys (``cathode.flow.max_epochs``); an object whose default is empty gets a row
``key.*`` for its description (when it has one) and one row per key inside it; any other key is a leaf
row with its default as inline code (lists and mappings in compact YAML flow style). The text around the
markers stays hand-written.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from hepad.config import SCHEMA_PATH, load_schema, resolve_ref

__all__ = [
    "README_PATH",
    "SECTIONS",
    "NO_DEFAULT",
    "format_default",
    "rows",
    "leaf_keys",
    "tables",
    "generated_sections",
    "render",
    "differing_sections",
    "main",
]

README_PATH = SCHEMA_PATH.parents[2] / "config" / "README.md"

# README section -> key prefixes whose rows it shows (in this order; within a prefix, schema order).
SECTIONS: dict[str, tuple[str, ...]] = {
    "data": ("dataset", "zenodo", "downloads"),
    "regions": ("regions", "prepare", "injection"),
    "generation": ("generation",),
    "cathode": ("cathode",),
    "quak": ("quak",),
    "mimickers": ("mimickers",),
    "codae": ("codae",),
    "search": ("search",),
    "plots": ("plots",),
}

NO_DEFAULT = "*(no default)*"

_START = "<!-- generated from the schema: {} -->"
_END = "<!-- end generated -->"
_BLOCK = re.compile(r"^<!-- generated from the schema: (\S+) -->\n(.*?)^<!-- end generated -->$", re.M | re.S)
_HEADER = "| key | default | meaning |\n| --- | --- | --- |"


def _float(value: float) -> str:
    text = repr(value)
    if "e" in text:  # 1e-06 -> 1.0e-6, which YAML (1.1, as PyYAML) reads back as a number
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}e{int(exponent)}"
    return text


def _plain_ok(text: str, in_flow: bool) -> bool:
    """Whether a string can be written without quotes and read back as the same string."""
    if not text or text != text.strip():
        return False
    if in_flow and (any(c in text for c in ",[]{}") or ": " in text or text.endswith(":")):
        return False
    try:
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _yaml(value, in_flow: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        if _plain_ok(value, in_flow):
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml(v, True) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml(k, True)}: {_yaml(v, True)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot show a default of type {type(value).__name__}: {value!r}")


def format_default(value) -> str:
    """A schema default as Markdown inline code, in YAML syntax (``[1, 2]``, ``{low: 3.3, high: 3.7}``)."""
    return "`" + _yaml(value, False).replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    """One paragraph of Markdown as a table cell: whitespace joined, unescaped pipes escaped."""
    text = " ".join(text.split())
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def _is_group(schema: dict) -> bool:
    """Objects whose keys get rows of their own (their default, if any, is just ``{}``)."""
    return "properties" in schema and not schema.get("default")


def rows(schema: dict) -> list[tuple[str, str, str]]:
    """(key cell, default cell, meaning cell) of every row, depth first in schema order.

    Group objects give a row ``key.*`` (only if they have a description, default cell empty) before
    the rows of their keys; every other property is a leaf row ``key``.
    """
    out: list[tuple[str, str, str]] = []

    def walk(node: dict, prefix: str) -> None:
        for name, sub in node.get("properties", {}).items():
            sub = resolve_ref(sub, schema)
            key = f"{prefix}{name}"
            if _is_group(sub):
                if sub.get("description"):
                    out.append((f"`{key}.*`", "", _cell(sub["description"])))
                walk(sub, key + ".")
            else:
                default = format_default(sub["default"]) if "default" in sub else NO_DEFAULT
                out.append((f"`{key}`", default, _cell(sub.get("description", ""))))

    walk(resolve_ref(schema, schema), "")
    return out


def leaf_keys(schema: dict) -> list[str]:
    """The dotted keys that get a row with a default (every setting, once)."""
    return [key.strip("`") for key, _, _ in rows(schema) if not key.endswith(".*`")]


def _place(key: str) -> tuple[str, int]:
    """(section, index of the prefix in it) of a dotted key: the longest matching prefix wins."""
    best, length = None, -1
    for section, prefixes in SECTIONS.items():
        for index, prefix in enumerate(prefixes):
            if (key == prefix or key.startswith(prefix + ".")) and len(prefix) > length:
                best, length = (section, index), len(prefix)
    if best is None:
        raise ValueError(f"config key {key} belongs to no README section; add its prefix to "
                         "hepad.config_docs.SECTIONS")
    return best


def tables(schema: dict | None = None) -> dict[str, str]:
    """README section name -> its Markdown table (header and one line per row, no final newline)."""
    schema = load_schema() if schema is None else schema
    grouped: dict[str, list[tuple[int, int, str]]] = {name: [] for name in SECTIONS}
    for order, (key, default, meaning) in enumerate(rows(schema)):
        section, rank = _place(key.strip("`").removesuffix(".*"))
        grouped[section].append((rank, order, f"| {key} | {default} | {meaning} |"))
    return {name: "\n".join([_HEADER] + [line for _, _, line in sorted(lines)])
            for name, lines in grouped.items() if lines}


def generated_sections(text: str) -> dict[str, str]:
    """Section name -> the text between its markers (without the blank lines around it) in a README."""
    found: dict[str, str] = {}
    for match in _BLOCK.finditer(text):
        name = match.group(1)
        if name in found:
            raise ValueError(f"section {name} is generated twice in the README")
        found[name] = match.group(2).strip("\n")
    return found


def render(text: str, generated: dict[str, str]) -> str:
    """``text`` with every generated section replaced by ``generated[section]``."""
    present = generated_sections(text)
    missing = sorted(set(generated) - set(present))
    unknown = sorted(set(present) - set(generated))
    if missing or unknown:
        raise ValueError(
            (f"no markers for section(s) {', '.join(missing)} (add '{_START.format(missing[0])}' ... '{_END}')"
             if missing else "")
            + ("; " if missing and unknown else "")
            + (f"marker(s) for unknown section(s) {', '.join(unknown)}" if unknown else ""))
    # Blank lines around the table: the comments must not read as rows of it.
    return _BLOCK.sub(lambda m: f"{_START.format(m.group(1))}\n\n{generated[m.group(1)]}\n\n{_END}", text)


def differing_sections(text: str, generated: dict[str, str]) -> list[str]:
    """Names of the sections whose README text is not ``generated[section]`` (or that are missing)."""
    present = generated_sections(text)
    names = list(generated) + [name for name in present if name not in generated]
    return [name for name in names if present.get(name) != generated.get(name)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hepad.config_docs",
        description="Regenerate the key tables of config/README.md from the config schema.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and name the sections that differ from the schema")
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help="schema file (default: %(default)s)")
    parser.add_argument("--readme", type=Path, default=README_PATH, help="README to update (default: %(default)s)")
    args = parser.parse_args(argv)

    generated = tables(load_schema(args.schema))
    text = args.readme.read_text(encoding="utf-8")
    if args.check:
        differing = differing_sections(text, generated)
        for name in differing:
            print(f"{args.readme}: section '{name}' differs from {args.schema}; "
                  "run python -m hepad.config_docs", file=sys.stderr)
        return 1 if differing else 0
    try:
        new = render(text, generated)
    except ValueError as error:
        print(f"{args.readme}: {error}", file=sys.stderr)
        return 2
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
        changed = differing_sections(text, generated)
        print(f"{args.readme}: rewrote {', '.join(changed) if changed else 'the blank lines around the tables'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
