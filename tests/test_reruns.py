"""Partial reruns: after a complete run of the tiny CATHODE chain, a config change reruns exactly what
depends on it, `--until` stops where asked, and a killed job is never taken for done.

Events are small LHCO-format toy files where the `lhco` data set's downloads land (as in
test_workflow_cathode.py), so the chain from prepare to the SIC plot runs for real in about a minute.
Job lists come from Snakemake's dry run (`-n`): its "Job stats" table.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path
from lhco_toy import write_toy_lhco

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ["results/sic_cathode.pdf", "results/data_overview.pdf"]
FLOW = "results/cathode/lhco/nsig300_seed1/train_flow/sb/flow.pt"
TRAINING = {"train_flow", "sample_sr", "train_classifier", "prepare"}


def _config(workdir, name, **changes):
    """The tiny config on the toy `lhco` files, with nested changes: a file as a user would edit it."""
    config = yaml.safe_load((ROOT / "tests/config/tiny.yaml").read_text())
    config["dataset"] = "lhco"

    def merge(into, new):
        for key, value in new.items():
            if isinstance(value, dict):
                merge(into.setdefault(key, {}), value)
            else:
                into[key] = value

    merge(config, changes)
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _snakemake(workdir, *args, configfile=None, profile=True, targets=TARGETS, **popen):
    """Snakemake on TARGETS in ``workdir``; ``args`` are options (several of them, like --until and
    --configfile, take any number of values, so the targets go first)."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           *targets, "--cores", "2"]
    if not profile:  # Snakemake's own defaults, without the workflow's default profile (rerun-incomplete)
        cmd += ["--workflow-profile", "none"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    # --configfile last: it takes several values and would swallow the targets.
    cmd += [*args, "--configfile", str(configfile or _config(workdir, "config"))]
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, **popen)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _planned(result):
    """Rule -> job count of a dry run ({} when there is nothing to do)."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    if "Job stats:" not in output:
        assert "Nothing to be done" in output, output[-3000:]
        return {}
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = {}
    for line in table.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and fields[0] != "total":
            counts[fields[0]] = int(fields[1])
    return counts


def _fresh(path):
    path.mkdir(parents=True, exist_ok=True)
    write_toy_lhco(path / resource_path(LHCO_FEATURES), n_bkg=6000, n_sig=800, seed=1)
    write_toy_lhco(path / resource_path(LHCO_EXTRA_QCD_SR), n_bkg=3000, n_sig=0, seed=2, sr_only=True)
    return path


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """A working directory where the tiny chain has run to the end."""
    workdir = _fresh(tmp_path_factory.mktemp("reruns") / "done")
    result = _snakemake(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert _planned(_snakemake(workdir, "-n")) == {}
    return workdir


def test_classifier_hyperparameter_reruns_classifier_and_what_follows_only(done):
    config = _config(done, "more_trees", cathode={"classifier": {"hgb": {"max_iter": 31}}})
    planned = _planned(_snakemake(done, "-n", configfile=config))
    # tiny: modes supervised, iad, cathode in the SIC plot, one run each, family hgb
    assert planned == {"train_classifier": 3, "evaluate": 3, "plot_sic": 1, "publish": 1}


def test_hyperparameter_of_the_other_family_reruns_nothing(done):
    config = _config(done, "mlp_change", cathode={"classifier": {"mlp": {"epochs": 5}}})
    assert _planned(_snakemake(done, "-n", configfile=config)) == {}


def test_flow_change_until_train_flow_stops_there(done):
    config = _config(done, "bigger_flow", cathode={"flow": {"hidden": 32}})
    full = _planned(_snakemake(done, "-n", configfile=config))
    assert full["train_flow"] == 1 and full["sample_sr"] == 1 and "prepare" not in full
    assert _planned(_snakemake(done, "-n", "--until", "train_flow", configfile=config)) == {
        "train_flow": 1}


def test_until_train_flow_from_scratch(tmp_path):
    planned = _planned(_snakemake(_fresh(tmp_path / "fresh"), "-n", "--until", "train_flow"))
    assert planned == {"prepare": 1, "train_flow": 1}


def test_plotting_options_retrain_nothing(done):
    config = _config(done, "plots", plots={"overview_events": 5000})
    assert _planned(_snakemake(done, "-n", configfile=config)) == {"plot_data_overview": 1, "publish": 1}
    # A new format: Snakemake remakes a plot when a requested file is missing (an existing PDF is not
    # redone just because a sibling format is new), and the plot only.
    config = _config(done, "formats", plots={"formats": ["png", "svg"]})
    planned = _planned(_snakemake(done, "-n", configfile=config, targets=["results/sic_cathode.svg"]))
    assert planned == {"plot_sic": 1, "publish": 1}


def test_injection_change_reruns_the_chain_from_prepare(done):
    config = _config(done, "injection", injection={"nsig": 200})
    planned = _planned(_snakemake(done, "-n", configfile=config))
    assert {"prepare", "train_flow", "sample_sr", "train_classifier", "evaluate", "plot_sic"} <= planned.keys()
    assert "plot_data_overview" not in planned  # the events themselves did not change


def test_killed_job_is_rerun_not_taken_for_done(done, tmp_path):
    work = tmp_path / "killed"
    shutil.copytree(done, work, symlinks=True)
    flow = work / FLOW
    # Retrain the flow and kill Snakemake and the job (SIGKILL to the process group: a node failure).
    proc = _snakemake(work, "--forcerun", "train_flow", "--until", "train_flow",
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    # Snakemake removes the old outputs right before the job starts; the job then imports torch and
    # trains for seconds.
    while flow.exists() and time.monotonic() < deadline:
        assert proc.poll() is None, "Snakemake stopped before the job started"
        time.sleep(0.05)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not flow.exists(), "train_flow finished before it was killed"
    # What a job killed mid-write leaves: a half-written output.
    flow.parent.mkdir(parents=True, exist_ok=True)
    flow.write_bytes(b"PK\x03\x04 half a model")

    # Snakemake knows the output is incomplete: by itself it refuses to go on ...
    strict = _snakemake(work, "-n", profile=False)
    assert strict.returncode != 0 and "incomplete" in (strict.stdout + strict.stderr).lower()
    assert FLOW in strict.stdout + strict.stderr
    # ... and with the workflow's profile (rerun-incomplete) it plans the job again, then what follows.
    planned = _planned(_snakemake(work, "-n"))
    assert planned["train_flow"] == 1 and planned["sample_sr"] == 1
    # The killed Snakemake left its lock on the directory: --unlock (as its message says), then rerun.
    locked = _snakemake(work, "--until", "train_flow")
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    assert _snakemake(work, "--unlock").returncode == 0
    result = _snakemake(work, "--until", "train_flow")
    assert result.returncode == 0, result.stderr[-3000:]
    assert flow.stat().st_size > 1000 and not flow.read_bytes().endswith(b"half a model")
    # The rerun gives the flow of the uninterrupted run byte for byte (same seed, no timings in the model
    # file), so Snakemake's checksum of the updated input leaves what follows as it was.
    assert flow.read_bytes() == (done / FLOW).read_bytes()
    assert _planned(_snakemake(work, "-n")) == {}


METRICS = "results/cathode/lhco/nsig300_seed1/evaluate"


def _metrics(workdir):
    """Every metrics JSON of the run: name -> text."""
    return {path.name: path.read_text() for path in sorted((workdir / METRICS).glob("*.json"))}


def _jobs_of(snakemake, rule):
    """The pythons of ``rule``'s jobs among the descendants of this Snakemake (not another test's runs, which
    may go on beside it). The python, not the bash that Snakemake starts it from: killing the bash alone before
    its python had started left an orphan python that wrote the outputs after Snakemake had given up (seen in
    CI)."""
    try:
        children = snakemake.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if cmdline[:1] == ["python"] and any(arg.endswith(f"scripts/{rule}.py") for arg in cmdline[1:2]):
            found.append(child)
    return found


def _run_killing(workdir, rule, configfile, *args):
    """Run the targets and SIGKILL the python of ``rule``'s job as soon as it runs (what an OOM killer
    does); Snakemake itself sees the job fail and stops."""
    proc = _snakemake(workdir, *args, configfile=configfile, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                      start_new_session=True)
    deadline = time.monotonic() + 300
    killed = False
    snakemake = psutil.Process(proc.pid)
    while not killed and proc.poll() is None and time.monotonic() < deadline:
        for child in _jobs_of(snakemake, rule):
            try:
                child.kill()
                killed = True
            except psutil.NoSuchProcess:  # it ended in between
                pass
        time.sleep(0.02)
    proc.wait(timeout=300)
    assert killed, f"{rule} never ran"
    assert proc.returncode != 0, f"Snakemake did not see {rule}'s job fail"


def test_changed_setting_reaches_every_result_after_a_killed_job(done, tmp_path):
    """Change a flow setting, kill the sampling job, rerun: the metrics are those of an uninterrupted run
    under the new setting (before: "Nothing to be done", the old metrics stayed)."""
    work = tmp_path / "stale"
    shutil.copytree(done, work, symlinks=True)
    new = _config(work, "hidden", cathode={"flow": {"hidden": 24}})
    _run_killing(work, "sample_sr", new)
    assert not (work / "results/cathode/lhco/nsig300_seed1/sample_sr/sr_samples.h5").exists()
    result = _snakemake(work, configfile=new)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Nothing to be done" not in result.stdout + result.stderr
    reference = _fresh(tmp_path / "reference")
    assert _snakemake(reference, configfile=_config(reference, "hidden", cathode={"flow": {"hidden": 24}})).returncode == 0
    assert _metrics(work) == _metrics(reference) != _metrics(done)


def test_killed_forcerun_rebuilds_what_it_deleted(done, tmp_path):
    """A --forcerun killed mid-chain deleted the outputs of the jobs it reran; the next plain run rebuilds them
    (before: "Nothing to be done" with an empty train_flow/ folder)."""
    work = tmp_path / "forced"
    shutil.copytree(done, work, symlinks=True)
    _run_killing(work, "train_flow", _config(work, "config"), "--forcerun", "prepare")
    planned = _planned(_snakemake(work, "-n"))
    assert planned.get("train_flow") == 1 and planned.get("evaluate", 0) >= 1
    result = _snakemake(work)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (work / FLOW).stat().st_size > 1000
    assert _metrics(work) == _metrics(done)


def test_scan_of_injections_and_seeds_runs_as_independent_jobs(tmp_path):
    """3 injections x 3 seeds (config injection.scan_nsig, scan_seeds): one chain per prepared set, no job
    of one set waiting for another set's, all collected by the S/B scan plot."""
    work = _fresh(tmp_path / "scan")
    config = _config(work, "scan", injection={"scan_nsig": [300, 200, 100], "scan_seeds": [1, 2, 3]})
    planned = _planned(_snakemake(work, "-n", configfile=config, targets=["results/sb_scan.pdf"]))
    assert planned["prepare"] == 9 and planned["plot_sb_scan"] == 1 and planned["publish"] == 1
    assert planned["train_flow"] % 9 == 0 and planned["train_classifier"] % 9 == 0

    dag = _snakemake(work, "--dag", configfile=config, targets=["results/sb_scan.pdf"])
    assert dag.returncode == 0, dag.stderr[-3000:]
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', dag.stdout, re.M))
    rule = {node: label.split("\\n")[0] for node, label in labels.items()}
    edges = re.findall(r"^\s*(\d+) -> (\d+)", dag.stdout, re.M)
    # Which prepared sets each job depends on: its prepare ancestors (the labels give prepare's wildcards).
    sets_of = {node: {label} if rule[node] == "prepare" else set() for node, label in labels.items()}
    for _ in range(len(labels)):
        for a, b in edges:
            sets_of[b] |= sets_of[a]
    prepares = {node for node in labels if rule[node] == "prepare"}
    assert len(prepares) == 9
    for node, sets in sets_of.items():
        if rule[node] not in ("plot_sb_scan", "publish", "prepare") and sets:
            assert len(sets) == 1, f"{rule[node]} depends on {len(sets)} prepared sets"
    # Every set reaches the one plot.
    plot = [node for node in labels if rule[node] == "plot_sb_scan"]
    assert len(plot) == 1 and len(sets_of[plot[0]]) == 9


def test_moved_checkout_reruns_nothing(tmp_path):
    """A finished run whose checkout is moved (or renamed) is still finished: no job's params may hold an
    absolute path (rule scripts are given relative to the working directory)."""
    ignore = shutil.ignore_patterns(".git", ".snakemake", "results", "resources", "__pycache__", ".pytest_cache",
                                    ".venv", "*.egg-info")
    first = tmp_path / "checkout"
    shutil.copytree(ROOT, first, ignore=ignore)
    _fresh(first)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(where, *args):
        # A user's run: inside the checkout, its own Snakefile and config, no --directory.
        cmd = [sys.executable, "-m", "snakemake", "results/data_overview.pdf", "--cores", "2", *args,
               "--configfile", str(_config(where, "config"))]
        return subprocess.run(cmd, cwd=where, env=env, capture_output=True, text=True, timeout=600)

    result = run(first)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    moved = tmp_path / "renamed"
    first.rename(moved)
    assert _planned(run(moved, "-n")) == {}
