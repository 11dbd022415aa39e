"""Operations on the workflow itself: the configuration of a run as a file, and its rule graph drawn.

Used by the rules `run_config` (results/run_config.yaml, shown in the HTML report) and `dag`
(results/dag.pdf, the graph of the rules that make the configured targets).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from hepad.io import InputError, atomic_output

RUN_CONFIG_HEADER = (
    "# The complete configuration of this run: the config files and --config values merged, every\n"
    "# default filled in (workflow/schemas/config.schema.yaml). Rerun the analysis with\n"
    "#   snakemake --configfile results/run_config.yaml <target>\n"
)


def write_run_config(config: dict, path: str | os.PathLike) -> None:
    """Write ``config`` as block-style YAML with a header saying what it is, atomically.

    Key order is kept (it follows the config files), so the file reads like config/config.yaml.
    """
    text = RUN_CONFIG_HEADER + yaml.safe_dump(config, sort_keys=False, default_flow_style=False, width=100)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text)


def rule_graph(snakefile: str | os.PathLike, configfile: str | os.PathLike, targets=(),
               timeout: float = 300) -> str:
    """The rule graph (graphviz dot source) of ``targets`` (default: the workflow's default target).

    Snakemake plans the targets in an empty temporary directory, so the graph shows every rule needed
    from scratch, whatever already exists here, and no lock of a running workflow is touched.
    """
    snakefile, configfile = Path(snakefile).resolve(), Path(configfile).resolve()
    for path in (snakefile, configfile):
        if not path.is_file():
            raise InputError(f"{path} does not exist")
    with tempfile.TemporaryDirectory(prefix="hepad-rulegraph-") as workdir:
        cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--configfile", str(configfile),
               "--directory", workdir, "--rulegraph", "--nolock", "--workflow-profile", "none", *targets]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise InputError(f"snakemake --rulegraph failed ({' '.join(cmd)}):\n{result.stderr.strip()}")
    start = result.stdout.find("digraph")
    if start < 0:
        raise InputError(f"snakemake --rulegraph printed no graph:\n{result.stdout}\n{result.stderr}")
    return result.stdout[start:]


def render_dot(dot_source: str, path: str | os.PathLike, fmt: str | None = None) -> None:
    """Draw graphviz ``dot_source`` into ``path`` (format from the suffix unless ``fmt``), atomically."""
    dot = shutil.which("dot")
    if dot is None:
        raise InputError("graphviz's 'dot' is not installed: apt-get install graphviz (or conda: envs/report.yaml)")
    fmt = fmt or Path(path).suffix.lstrip(".") or "pdf"
    with atomic_output(path) as tmp:
        result = subprocess.run([dot, f"-T{fmt}", "-o", str(tmp)], input=dot_source, capture_output=True, text=True)
        if result.returncode != 0:
            raise InputError(f"dot -T{fmt} failed: {result.stderr.strip()}")
