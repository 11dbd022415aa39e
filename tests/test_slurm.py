"""The SLURM profile on a real (one-node) SLURM cluster started on this machine.

tests/slurm/start_slurm.sh installs Debian's slurm-wlm and munge if needed and starts slurmctld and slurmd.
The tiny config's CATHODE target then runs twice, at the same time, in fresh working directories:
locally, and through `--workflow-profile workflow/profiles/slurm`. The events are small LHCO-format toy
files where the `lhco` data set's downloads land, so the runs need no network and take about a minute
of compute. The test checks that every non-local job went through
sbatch (the plugin's per-job SLURM logs, and slurmctld's record of each job id: completed, on this node,
with the resources the rule asked for), that local rules did not, and that the outputs are the same as
the local run's.

If SLURM cannot start (not root, no apt-get, no network to Debian), the test is skipped with the reason,
and fails with it when CI or HEPAD_REQUIRE_SLURM is set.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

# The targets of the tiny config run on SLURM and locally: the CATHODE chain from prepared sets to the SIC plot.
TARGETS = ("results/sic_cathode.pdf",)
# Events: small LHCO-format toy files where the `lhco` data set's downloads land (no network, seconds).
CONFIG_ARGS = ("--configfile", "tests/config/tiny.yaml", "--config", "dataset=lhco")
# Rules whose jobs must ask SLURM for a GPU (the profile's set-resources; the test cluster has a stand-in).
GPU_RULES = {"train_flow"}


def _local_rules():
    """Rules that run on the submitting machine, not through sbatch: `localrule: True` or `localrules:`."""
    names = set()
    root = Path(__file__).resolve().parents[1]
    for path in [root / "Snakefile", *(root / "workflow/rules").glob("*.smk")]:
        text = path.read_text()
        names |= set(re.findall(r"^rule (\w+):(?:\n(?:[ \t].*)?)*?\n\s+localrule:\s*True", text, re.M))
        for block in re.findall(r"^localrules:\s*\n((?:[ \t]+.*\n)+)", text, re.M):
            names |= set(re.findall(r"\w+", block))
    return names


LOCAL_RULES = _local_rules()
# Seconds before the plugin's first status check (default 40; later checks wait 10 s longer each time
# until a job finishes): jobs here take seconds. SLURM keeps finished jobs visible to squeue for
# MinJobAge = 300 s >= 3 x this (start_slurm.sh).
STATUS_DELAY = 1
# What the local test cluster needs and a user's cluster doesn't (the profile holds the rest): no
# accounting database, so status from squeue and no account; logs of successful jobs kept, to check them.
TEST_CLUSTER_FLAGS = [
    "--slurm-status-command", "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks", str(STATUS_DELAY),
    "--slurm-keep-successful-logs",
]
# A guard against a hung run, not the time goal. Other work on the machine stretches every SLURM job and
# its status-check wait (4.5 min for this test with the 2 cores shared by about 12 busy processes).
RUN_TIMEOUT = 600


def _required():
    """CI must run this test: there a SLURM that cannot start is a failure, not a skip."""
    return any(os.environ.get(name, "").lower() not in ("", "0", "false", "no")
               for name in ("CI", "HEPAD_REQUIRE_SLURM"))


def _unavailable(reason):
    if _required():
        pytest.fail(f"SLURM test cluster unavailable (CI/HEPAD_REQUIRE_SLURM set): {reason}")
    pytest.skip(f"SLURM test cluster unavailable: {reason}")


def _cluster_up():
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def slurm_cluster(repo_root):
    """The node name of the test cluster; stopped afterwards if this test started it."""
    if sys.platform != "linux":
        _unavailable(f"needs Linux, this is {sys.platform}")
    if os.geteuid() != 0:
        _unavailable("start_slurm.sh installs packages and starts daemons as root; run the tests as root")
    script = repo_root / "tests/slurm/start_slurm.sh"
    was_up = _cluster_up()
    start = time.monotonic()
    try:
        result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        _unavailable("tests/slurm/start_slurm.sh did not finish within 180 s")
    if result.returncode != 0:
        _unavailable(f"tests/slurm/start_slurm.sh exited {result.returncode}:\n{result.stdout}{result.stderr}")
    print(f"SLURM up in {time.monotonic() - start:.1f} s: {result.stdout.strip()}")
    node = subprocess.run(["sinfo", "-h", "-o", "%n"], capture_output=True, text=True).stdout.split()[0]
    yield node
    if not was_up:
        subprocess.run(["bash", str(script), "--stop"], capture_output=True, timeout=60)


def _env():
    """The environment of a user whose venv is active: rules call `python`, also inside SLURM jobs."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("SLURM_CONF", None)
    return env


def _start_snakemake(repo_root, workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(workdir),
           *CONFIG_ARGS, *args, *TARGETS]
    out = open(workdir / "snakemake.out", "w")
    return cmd, out, subprocess.Popen(cmd, cwd=repo_root, stdout=out, stderr=subprocess.STDOUT, text=True,
                                      env=_env())


def _stop(proc):
    """SIGTERM first: Snakemake then cancels its SLURM jobs (scancel) before it exits."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _finish(run, deadline):
    cmd, out, proc = run
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _stop(proc)
    out.close()
    text = Path(out.name).read_text()
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-8000:]}"
    return text


def _planned_jobs(output):
    """Rule -> job count from the 'Job stats' table Snakemake prints before running."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = {}
    for line in table.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and fields[0] != "total":
            counts[fields[0]] = int(fields[1])
    assert counts, f"no job table in Snakemake's output:\n{output[:3000]}"
    return counts


def _scontrol(job_id):
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True)
    assert out.returncode == 0, f"slurmctld has no record of job {job_id}: {out.stderr}"
    return dict(field.split("=", 1) for field in out.stdout.split() if "=" in field)


def _seed_toy_data(workdir):
    from hepad.zenodo import LHCO_EXTRA_QCD_SR, LHCO_FEATURES, resource_path
    from lhco_toy import write_toy_lhco

    write_toy_lhco(workdir / resource_path(LHCO_FEATURES), n_bkg=6000, n_sig=800, seed=1)
    write_toy_lhco(workdir / resource_path(LHCO_EXTRA_QCD_SR), n_bkg=3000, n_sig=0, seed=2, sr_only=True)


def _results(workdir):
    """Data outputs by path; logs and benchmarks (timings) are left out."""
    skip = ("results/logs/", "results/benchmarks/")
    return {str(p.relative_to(workdir)): p for p in sorted((workdir / "results").rglob("*"))
            if p.suffix in (".h5", ".json", ".npz") and not str(p.relative_to(workdir)).startswith(skip)}


def _without_timings(obj):
    """JSON content less wall-clock figures (training histories record seconds per epoch)."""
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if k not in ("seconds", "elapsed_s", "wall_s")}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def _same_output(name, a, b):
    """Identical: same code, seeds and thread counts on the same machine give the same bits."""
    if a.suffix == ".json":
        assert _without_timings(json.loads(a.read_text())) == _without_timings(json.loads(b.read_text())), name
    elif a.suffix == ".npz":
        with np.load(a) as x, np.load(b) as y:
            assert sorted(x.files) == sorted(y.files), name
            for key in x.files:
                np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}:{key}")
    else:
        assert a.read_bytes() == b.read_bytes(), f"{name} differs from the local run"


def test_tiny_target_through_slurm_equals_local_run(slurm_cluster, repo_root, tmp_path):
    node = slurm_cluster
    local, on_slurm = tmp_path / "local", tmp_path / "slurm"
    for workdir in (local, on_slurm):
        _seed_toy_data(workdir)

    # Both at once: the SLURM run mostly waits for its status checks.
    start = time.monotonic()
    slurm_run = _start_snakemake(repo_root, on_slurm, "--workflow-profile", "workflow/profiles/slurm",
                                 *TEST_CLUSTER_FLAGS)
    try:
        local_run = _start_snakemake(repo_root, local, "--cores", "1")
        _finish(local_run, start + RUN_TIMEOUT)
        print(f"local run done after {time.monotonic() - start:.1f} s")
        output = _finish(slurm_run, start + RUN_TIMEOUT)
    finally:
        _stop(slurm_run[2])
    print(f"SLURM run done after {time.monotonic() - start:.1f} s")

    # Every job Snakemake planned ran: through sbatch, or locally for the local rules.
    planned = _planned_jobs(output)
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", output)
    remote_rules = {rule: n for rule, n in planned.items() if rule not in LOCAL_RULES}
    assert remote_rules, f"no job of {TARGETS} would go to SLURM: {planned}"
    assert len(submitted) == sum(remote_rules.values()), f"planned {planned}, submitted {submitted}"

    by_rule = {}
    for job_id, log in submitted:
        log = Path(log)
        # The plugin's log of the job: .snakemake/slurm_logs/rule_<rule>/<wildcards>/<jobid>.log
        assert log.is_file() and log.name == f"{job_id}.log", log
        assert log.is_relative_to(on_slurm / ".snakemake/slurm_logs"), log
        rule = log.relative_to(on_slurm / ".snakemake/slurm_logs").parts[0].removeprefix("rule_")
        by_rule[rule] = by_rule.get(rule, 0) + 1
        text = log.read_text()
        # Inside the allocation, Snakemake ran the rule with the SLURM job-step executor.
        assert "--executor slurm-jobstep" in text and f"rule {rule}:" in text, text[-2000:]
        job = _scontrol(job_id)
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", job
        assert job["BatchHost"] == node, job
        # The resources the rule asked for reached sbatch: memory, and a GPU for the training rules.
        assert int(job["NumCPUs"]) >= 1 and "mem=" in job["TRES"], job
        assert ("gpu:1" in job.get("TresPerJob", "")) == (rule in GPU_RULES), (rule, job.get("TresPerJob"))
    assert by_rule == remote_rules, f"SLURM logs per rule {by_rule}, planned {remote_rules}"
    local_only = set(planned) & LOCAL_RULES
    assert not any((on_slurm / ".snakemake/slurm_logs" / f"rule_{r}").exists() for r in local_only)

    # The same outputs as the local run.
    expected, got = _results(local), _results(on_slurm)
    assert expected and expected.keys() == got.keys()
    assert any("/prepare/" in name for name in expected) and any("/evaluate/" in name for name in expected)
    assert all((on_slurm / target).stat().st_size > 0 for target in TARGETS)
    for name, path in expected.items():
        _same_output(name, path, got[name])
