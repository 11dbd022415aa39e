"""The CATHODE paper's protocol in the config: the S/B scan in percent, the flow presets, the SIC cut-off."""

import pytest
import yaml

from hepad.config import ConfigError, check_sample_sizes, sb_scan_nsig, validate_config

PAPER_SB = [0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05]


def test_scan_sb_gives_the_papers_injection_counts_on_lhco():
    config = validate_config({"dataset": "lhco", "injection": {"scan_sb": PAPER_SB}})
    assert config["injection"]["scan_nsig"] == [943, 628, 471, 314, 235, 157, 78]
    assert sb_scan_nsig(config) == config["injection"]["scan_nsig"]
    # the conversion is the data set's: the generated set has fewer SR background events per signal event
    generated = validate_config({"injection": {"scan_sb": [0.65], "sb_per_1000_nsig": {"generated": 2.7, "lhco": 1}}})
    assert generated["injection"]["scan_nsig"] == [240]
    assert validate_config({})["injection"]["scan_nsig"] == [1000, 600, 300]  # no scan_sb: scan_nsig as given


def test_scan_sb_errors():
    with pytest.raises(ConfigError, match="repeated injection counts"):
        validate_config({"dataset": "lhco", "injection": {"scan_sb": [0.1, 0.1001]}})
    with pytest.raises(ConfigError, match=r"injection\.scan_sb\[0\]"):
        validate_config({"injection": {"scan_sb": [-0.1]}})
    config = validate_config({"dataset": "lhco", "injection": {"scan_sb": [100.0]}})
    with pytest.raises(ConfigError, match=r"scan_nsig\[0\] = 157190 is more than the 100000 signal events"):
        check_sample_sizes(config)


def test_flow_preset_fills_only_the_keys_left_unset():
    fast = validate_config({})["cathode"]["flow"]
    assert (fast["lr"], fast["batch_size"], fast["lr_schedule"]) == (0.002, 4096, "cosine")
    ref = validate_config({"cathode": {"flow_preset": "reference", "flow": {"max_epochs": 7}}})["cathode"]["flow"]
    assert ref == {**fast, "lr": 1e-4, "batch_size": 256, "max_epochs": 7, "patience": 0, "lr_schedule": "constant",
                   "warmup_epochs": 0, "n_blocks": 15, "hidden": 128, "n_ensemble": 10}
    with pytest.raises(ConfigError, match="flow_preset"):
        validate_config({"cathode": {"flow_preset": "slow"}})


def test_lhco_config_runs_the_papers_protocol(repo_root):
    config = validate_config(yaml.safe_load((repo_root / "config/lhco.yaml").read_text()))
    assert config["injection"]["scan_nsig"] == [943, 628, 471, 314, 235, 157, 78]
    assert config["injection"]["seeds"] == config["injection"]["scan_seeds"] == list(range(1, 11))
    assert config["cathode"]["classifier"]["family"] == "mlp"
    assert config["cathode"]["flow"]["lr"] == 1e-4 and config["cathode"]["flow"]["max_epochs"] == 100
    assert config["cathode"]["sic_min_fpr"] == pytest.approx(1.84e-5)
    assert validate_config({})["cathode"]["sic_min_fpr"] is None


def test_ranode_w_mode_true_stays_the_word_the_script_takes():
    # YAML reads an unquoted `true` in the schema's enum as a boolean; the rule then passed "--w-mode True"
    for given in ("true", True):
        assert validate_config({"cathode": {"ranode": {"w_mode": given}}})["cathode"]["ranode"]["w_mode"] == "true"
