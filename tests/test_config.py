"""Config validation: defaults filled, and every malformed config rejected with its key named."""

import subprocess
import sys

import pytest
import yaml

from hepad.config import ConfigError, validate_config


def test_defaults_fill_an_empty_config():
    config = validate_config({})
    assert config["dataset"] == "generated"
    assert config["regions"]["sr"] == {"low": 3.3, "high": 3.7}
    assert config["injection"]["nsig"] == 1000
    assert config["zenodo"]["base_url"] == "https://zenodo.org"


def test_shipped_configs_are_valid(repo_root):
    for path in ["config/config.yaml", "config/lhco.yaml", "tests/config/tiny.yaml"]:
        validate_config(yaml.safe_load((repo_root / path).read_text()))


BAD_CONFIGS = [
    ({"dataset": "lhc"}, r"^config error: dataset = 'lhc' is not allowed; allowed: one of 'generated', 'lhco'$"),
    ({"injection": {"nsig": -3}}, r"^config error: injection\.nsig = -3 is not allowed; allowed: integer >= 0$"),
    ({"injecton": {"nsig": 3}}, r"^config error: unknown key injecton; allowed keys: dataset, zenodo, regions"),
    ({"injection": {"seeds": [1, "a"]}}, r"^config error: injection\.seeds\[1\] = 'a' is not allowed; allowed: integer >= 0 and <= 4294967295$"),
    ({"injection": {"seeds": [1, 1]}}, r"^config error: injection\.seeds = \[1, 1\] has repeated values"),
    ({"prepare": {"sb_val_fraction": 1.5}}, r"^config error: prepare\.sb_val_fraction = 1\.5 is not allowed; allowed: number > 0 and < 1$"),
    ({"prepare": {"sr_val_fraction": "half"}}, r"^config error: prepare\.sr_val_fraction = 'half' is not allowed; allowed: number"),
    ({"regions": {"sr": {"low": 3.7, "high": 3.3}}}, r"^config error: regions\.sr = .* has low >= high"),
    ({"regions": {"sr": {"low": 3.0, "high": 3.95}}}, r"^config error: regions\.cwola_sb = .* must enclose regions\.sr"),
    ({"regions": {"sr": {"low": 3.3}}}, r"^config error: regions\.sr is missing a key: 'high'"),
    ({"zenodo": {"base_url": "zenodo.org"}}, r"^config error: zenodo\.base_url = 'zenodo.org' is not allowed; allowed: string matching"),
    ({"zenodo": {"retries": 0}}, r"^config error: zenodo\.retries = 0 is not allowed; allowed: integer >= 1 and <= 20$"),
    ({"plots": {"formats": ["jpg"]}}, r"^config error: plots\.formats\[0\] = 'jpg' is not allowed; allowed: one of 'png', 'svg'$"),
    ({"plots": {"colour": 1}}, r"^config error: unknown key plots\.colour; allowed keys under plots: formats"),
    ({"codae": {"model": {"variant": "codvae"}}}, r"^config error: unknown key codae\.model\.variant; .* codae\.model\.variant is now codae\.variants"),
]


@pytest.mark.parametrize("config, message", BAD_CONFIGS, ids=[str(c) for c, _ in BAD_CONFIGS])
def test_malformed_config_names_the_key(config, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(config)


@pytest.mark.workflow
def test_snakemake_stops_before_any_job_with_one_line(repo_root, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("injection:\n  nsig: -3\n")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "results/data_overview.pdf", "-n", "--configfile", str(bad)],
        cwd=repo_root, capture_output=True, text=True,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config error: injection.nsig = -3 is not allowed; allowed: integer >= 0" in output
    assert "Job stats" not in output and "rule " not in output  # stopped before planning any job
