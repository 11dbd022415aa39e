"""The run's config file, the DAG drawing and the HTML report (workflow/rules/report.smk, hepad.ops)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hepad import ops
from hepad.io import InputError
from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path
from lhco_toy import write_toy_lhco

ROOT = Path(__file__).resolve().parents[1]


def _need_dot():
    if shutil.which("dot") is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("graphviz 'dot' is missing in CI (apt-get install graphviz)")
        pytest.skip("graphviz 'dot' is not installed")


def test_run_config_round_trip_keeps_order_and_values(tmp_path):
    config = {"dataset": "lhco", "injection": {"nsig": 300, "seeds": [1, 2]}, "plots": {"formats": ["png"]}}
    ops.write_run_config(config, tmp_path / "run_config.yaml")
    text = (tmp_path / "run_config.yaml").read_text()
    assert text.startswith("# The complete configuration")
    assert yaml.safe_load(text) == config
    assert text.index("dataset:") < text.index("injection:") < text.index("plots:")


def test_render_dot_without_graphviz_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(ops.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="apt-get install graphviz"):
        ops.render_dot("digraph { a -> b }", tmp_path / "g.pdf")
    assert not (tmp_path / "g.pdf").exists()


def test_render_dot_writes_the_format_of_the_suffix(tmp_path):
    _need_dot()
    ops.render_dot("digraph { prepare -> train_flow }", tmp_path / "g.pdf")
    ops.render_dot("digraph { prepare -> train_flow }", tmp_path / "g.svg")
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert "train_flow" in (tmp_path / "g.svg").read_text()


def test_rule_graph_of_a_bad_config_says_why(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: nonsense\n")
    with pytest.raises(InputError, match="dataset"):
        ops.rule_graph(ROOT / "Snakefile", bad, ["results/sic_cathode.pdf"])


@pytest.mark.workflow
def test_dag_and_report_of_the_tiny_chain(tmp_path):
    """results/dag.pdf and results/run_config.yaml from the workflow, then the HTML report with them."""
    _need_dot()
    write_toy_lhco(tmp_path / resource_path(LHCO_FEATURES), n_bkg=3000, n_sig=400, seed=1)
    write_toy_lhco(tmp_path / resource_path(LHCO_EXTRA_QCD_SR), n_bkg=1500, n_sig=0, seed=2, sr_only=True)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    targets = ["results/dag.pdf", "results/data_overview.pdf"]

    def snakemake(*args):
        cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
               *args, "--configfile", str(ROOT / "tests/config/tiny.yaml")]
        result = subprocess.run([*cmd[:-2], "--config", "dataset=lhco", *cmd[-2:]], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    snakemake(*targets, "--cores", "2")
    run_config = yaml.safe_load((tmp_path / "results/run_config.yaml").read_text())
    # The validated config: the override, the tiny values and the schema's defaults.
    assert run_config["dataset"] == "lhco" and run_config["injection"]["nsig"] == 300
    assert run_config["regions"]["sr"] == {"low": 3.3, "high": 3.7}
    assert (tmp_path / "results/dag.pdf").read_bytes().startswith(b"%PDF")
    assert "rule graph with" in (tmp_path / "results/logs/dag/dag.log").read_text()

    # The drawing shows the rules of the default target for this config: regenerate its source and check.
    dot = ops.rule_graph(ROOT / "Snakefile", tmp_path / "results/run_config.yaml")
    assert "data_overview" in dot and "download" in dot  # lhco: the events come from Zenodo

    snakemake("--report", str(tmp_path / "results/report.html"), *targets)
    html = (tmp_path / "results/report.html").read_text(errors="replace")
    assert "rule graph of the workflow" in html  # the caption of dag.pdf (workflow/report/dag.rst)
    assert "run_config.yaml" in html and "data_overview.pdf" in html
