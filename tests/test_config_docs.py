"""config/README.md's key tables are the schema's defaults and descriptions (hepad.config_docs)."""

import copy
import re
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from hepad import config_docs
from hepad.config import SCHEMA_PATH, load_schema

REGENERATE = "run `python -m hepad.config_docs` to regenerate config/README.md from workflow/schemas/config.schema.yaml"


@pytest.fixture(scope="module")
def schema():
    return load_schema()


@pytest.fixture(scope="module")
def readme(repo_root):
    return (repo_root / "config" / "README.md").read_text(encoding="utf-8")


def _row_keys(text):
    """First-column keys of every table row of a README (``key.*`` group rows included)."""
    return re.findall(r"^\| `([^`|]+)` \|", text, flags=re.M)


def test_readme_tables_are_generated_from_the_schema(schema, readme):
    present = config_docs.generated_sections(readme)
    for name, table in config_docs.tables(schema).items():
        assert name in present, f"config/README.md has no generated section '{name}'; {REGENERATE}"
        assert present[name] == table, f"config/README.md section '{name}' differs from the schema; {REGENERATE}"
    assert set(present) == set(config_docs.tables(schema)), f"unknown generated sections; {REGENERATE}"


def test_every_leaf_key_appears_once(schema, readme):
    leaves = config_docs.leaf_keys(schema)
    assert len(leaves) == len(set(leaves)) > 150
    assert {"cathode.flow.max_epochs", "regions.sr", "mimickers.signals", "generation.detector.hcal.noise"} <= set(leaves)
    counts = Counter(_row_keys(readme))
    wrong = {key: counts[key] for key in leaves if counts[key] != 1}
    assert not wrong, f"keys not in exactly one README row: {wrong}; {REGENERATE}"


def test_every_leaf_has_a_default_and_a_description(schema):
    for key, default, meaning in config_docs.rows(schema):
        assert default != config_docs.NO_DEFAULT, key
        assert meaning, f"{key} has no description in the schema"


def test_shown_defaults_read_back_as_the_defaults(schema):
    """The inline code of a default is YAML that a config could contain."""
    from hepad.config import validate_config
    defaults = validate_config({})
    for key, shown, _ in config_docs.rows(schema):
        key = key.strip("`")
        if key.endswith(".*"):
            continue
        value = defaults
        for part in key.split("."):
            value = value[part]
        assert yaml.safe_load(shown.strip("`").replace("\\|", "|")) == value, key


@pytest.mark.parametrize("value, shown", [
    (1.0e-6, "`1.0e-6`"), (0.00015, "`0.00015`"), (2.0, "`2.0`"), (True, "`true`"), (0, "`0`"),
    ("", '`""`'), ("auto", "`auto`"), ("true", '`"true"`'), ("https://zenodo.org", "`https://zenodo.org`"),
    ([], "`[]`"), ([1, 2], "`[1, 2]`"), (["a,b", "c"], '`["a,b", c]`'),
    ({"low": 3.3, "high": 3.7}, "`{low: 3.3, high: 3.7}`"), ({"a": {"b": "x: y"}}, '`{a: {b: "x: y"}}`'),
])
def test_format_default(value, shown):
    assert config_docs.format_default(value) == shown


def test_nested_keys_flatten_and_missing_defaults_are_marked(monkeypatch):
    monkeypatch.setattr(config_docs, "SECTIONS", {"one": ("a",), "two": ("b", "a.deep")})
    schema = {"type": "object", "properties": {
        "a": {"type": "object", "default": {}, "description": "group a", "properties": {
            "x": {"type": "integer", "default": 1, "description": "x | y"},
            "deep": {"type": "object", "default": {}, "properties": {"z": {"type": "string"}}}}},
        "b": {"$ref": "#/$defs/win", "default": {"low": 1, "high": 2}, "description": "window"}},
        "$defs": {"win": {"type": "object", "properties": {"low": {}, "high": {}}}}}
    assert config_docs.tables(schema) == {
        "one": "| key | default | meaning |\n| --- | --- | --- |\n"
               "| `a.*` |  | group a |\n| `a.x` | `1` | x \\| y |",
        "two": "| key | default | meaning |\n| --- | --- | --- |\n"
               "| `b` | `{low: 1, high: 2}` | window |\n| `a.deep.z` | *(no default)* |  |",
    }
    schema["properties"]["c"] = {"type": "integer", "default": 3}
    with pytest.raises(ValueError, match="config key c belongs to no README section"):
        config_docs.tables(schema)


def test_a_changed_default_fails_the_check(schema, readme, tmp_path, capsys):
    changed = copy.deepcopy(schema)
    flow = changed["properties"]["cathode"]["properties"]["flow"]["properties"]
    flow["max_epochs"]["default"] = 41
    schema_file = tmp_path / "config.schema.yaml"
    schema_file.write_text(yaml.safe_dump(changed, allow_unicode=True, sort_keys=False), encoding="utf-8")
    readme_file = tmp_path / "README.md"
    readme_file.write_text(readme, encoding="utf-8")
    args = ["--schema", str(schema_file), "--readme", str(readme_file)]

    assert config_docs.main(["--check"] + args) == 1
    message = capsys.readouterr().err
    assert "section 'cathode' differs" in message and "python -m hepad.config_docs" in message
    assert "section 'quak'" not in message
    assert readme_file.read_text(encoding="utf-8") == readme  # --check changes nothing

    assert config_docs.main(args) == 0
    rewritten = readme_file.read_text(encoding="utf-8")
    assert "| `cathode.flow.max_epochs` | `41` |" in rewritten
    assert config_docs.main(["--check"] + args) == 0
    # Only the generated parts changed: the hand-written text around them is kept.
    assert [line for line in rewritten.splitlines() if not line.startswith("|")] == \
        [line for line in readme.splitlines() if not line.startswith("|")]


def test_missing_markers_are_reported(schema, readme, tmp_path, capsys):
    readme_file = tmp_path / "README.md"
    readme_file.write_text(readme.replace("<!-- generated from the schema: plots -->", ""), encoding="utf-8")
    assert config_docs.main(["--check", "--readme", str(readme_file)]) == 1
    assert "section 'plots' differs" in capsys.readouterr().err
    assert config_docs.main(["--readme", str(readme_file)]) == 2
    assert "no markers for section(s) plots" in capsys.readouterr().err


def test_command_line_check_passes(repo_root):
    result = subprocess.run([sys.executable, "-m", "hepad.config_docs", "--check"],
                            cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert config_docs.README_PATH == repo_root / "config" / "README.md"
    assert SCHEMA_PATH.is_file()
