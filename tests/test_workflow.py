"""The workflow as Snakemake sees it: lint, and a dry run of every target the README's table names."""

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.workflow


def snakemake(repo_root, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=repo_root,
                          capture_output=True, text=True, **kwargs)


def readme_targets(repo_root):
    """Targets from the README's '## Targets' table (first column, in backticks)."""
    text = (repo_root / "README.md").read_text()
    table = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)


def test_readme_lists_targets(repo_root):
    targets = readme_targets(repo_root)
    assert "results/data_overview.pdf" in targets
    assert len(targets) >= 3


def test_lint(repo_root):
    result = snakemake(repo_root, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/lhco.yaml", "tests/config/tiny.yaml"])
def test_dry_run_of_every_readme_target(repo_root, tmp_path, configfile):
    # A fresh working directory: the dry run plans every job from nothing. Generated-data paths in the
    # table are valid for the generated data sets only.
    targets = readme_targets(repo_root)
    if "lhco" in configfile:
        targets = [t for t in targets if "generated/" not in t]
    result = snakemake(repo_root, *targets, "-n", "--configfile", configfile,
                       "--directory", str(tmp_path), "-s", str(repo_root / "Snakefile"))
    assert result.returncode == 0, f"{targets} with {configfile}:\n{result.stdout}\n{result.stderr}"
    assert "total" in result.stdout  # the job table was planned
