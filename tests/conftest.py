import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# Jobs of the Snakemake runs in the tests call `python`: make it this interpreter's environment even when
# pytest was started by its full path without activating the venv.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


# The plot and table targets of the README's table, plus the checked ONNX export (the data files and
# downloads have no report entry). One tiny run of all of them serves the report test and the study tests
# that only read its outputs, so the generation and trainings run once per test session.
README_TARGETS = ["results/data_overview.pdf", "results/sic_cathode.pdf", "results/sic_comparison.pdf",
                  "results/sb_scan.pdf", "results/cathode/leaderboard.pdf", "results/roc_quak.pdf",
                  "results/quak_space.pdf", "results/quak_digits.pdf", "results/codae_roc.pdf", "results/codae_metrics.csv",
                  "results/codae/export_onnx/codae/f_m.onnx", "results/mimic_ado.pdf", "results/mimic_auc.pdf",
                  "results/mimic_efps.pdf", "results/dag.pdf"]


def tiny_snakemake(workdir, *args, timeout=1800):
    """The real Snakemake on the tiny config in ``workdir``; returns the finished process."""
    import subprocess

    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), *args,
           "--configfile", str(ROOT / "tests/config/tiny.yaml")]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def readme_run(tmp_path_factory) -> Path:
    """A tiny run of every README target (generated events, the default data source). Read it only:
    a test that runs more targets or other settings works on a copy (:func:`copy_run`)."""
    workdir = tmp_path_factory.mktemp("readme_run")
    result = tiny_snakemake(workdir, *README_TARGETS, "--cores", "2")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return workdir


def copy_run(source: Path, target: Path) -> Path:
    """A copy of a finished run that Snakemake takes as up to date (times and its metadata kept)."""
    import shutil

    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    return target


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    """Groups for pytest-xdist's ``--dist loadgroup`` (the README's test command runs two workers): a test
    module stays on one worker, so its module fixtures (the finished runs most workflow tests read) are
    made once; the modules that read the session's `readme_run` share one group, so it is made once too."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    readme_modules = {item.module.__name__ for item in items if "readme_run" in getattr(item, "fixturenames", ())}
    for item in items:
        module = item.module.__name__
        item.add_marker(pytest.mark.xdist_group("readme_run" if module in readme_modules else module))
