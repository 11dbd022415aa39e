"""A new user's mistakes each end in one clear line that says what to do (docs/reliability.md).

Each test names the item of the issue "Nothing stale, nothing lost" it covers. The Snakemake runs are dry
runs or stop before the first job, in a temporary --directory, on the tiny config.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from hepad.config import (ConfigError, check_config_file, check_sample_sizes, coerce_strings, load_schema,
                          validate_config)
from hepad.events.formats import LHCO_COLUMNS, read_lhco_features, write_lhco_features
from hepad.io import InputError, run_main

TARGET = "results/data_overview.pdf"


def snakemake(repo_root, workdir, *args, timeout=300, snakefile=None):
    """Run Snakemake in ``workdir`` on the tiny config; targets go in ``args`` (before --configfile)."""
    command = [sys.executable, "-m", "snakemake", "--directory", str(workdir), *args,
               "--configfile", str(repo_root / "tests" / "config" / "tiny.yaml")]
    if snakefile:
        command += ["--snakefile", str(snakefile)]
    return subprocess.run(command, cwd=repo_root, capture_output=True, text=True, timeout=timeout)


def last_line(result) -> str:
    lines = [line for line in (result.stdout + "\n" + result.stderr).splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --- 3. --cores 0 -------------------------------------------------------------------------------------


@pytest.mark.workflow
def test_zero_cores_stops_with_one_line(repo_root, tmp_path):
    # Before: Snakemake waited forever at "Select jobs to execute..." (the timeout makes that a failure).
    result = snakemake(repo_root, tmp_path, TARGET, "--cores", "0", timeout=240)
    assert result.returncode != 0
    assert "--cores 0" in last_line(result) and "--cores all" in last_line(result)
    assert not (tmp_path / "resources").exists()  # no job ran


@pytest.mark.workflow
def test_dry_run_still_works_with_zero_or_no_cores(repo_root, tmp_path):
    for cores in (["--cores", "0"], []):
        result = snakemake(repo_root, tmp_path, TARGET, "-n", *cores)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "This was a dry-run" in result.stdout + result.stderr


# --- 4. values from --config arrive as strings ----------------------------------------------------------


def test_strings_become_the_numbers_and_booleans_the_schema_wants():
    config = validate_config({
        "cathode": {"gpu": "false", "flow": {"max_epochs": "2", "lr": "1e-3", "batch_norm": "false"}},
        "injection": {"nsig": "300", "scan_nsig": ["300", "100"]},
        "regions": {"sr": {"low": "3.3", "high": "3.7"}},
    })
    flow = config["cathode"]["flow"]
    assert (flow["max_epochs"], flow["lr"], flow["batch_norm"]) == (2, 0.001, False)
    assert config["cathode"]["gpu"] is False
    assert config["injection"]["nsig"] == 300 and config["injection"]["scan_nsig"] == [300, 100]
    assert config["regions"]["sr"] == {"low": 3.3, "high": 3.7}


def test_strings_stay_strings_where_the_schema_wants_strings_or_they_do_not_parse():
    schema = load_schema()
    config = coerce_strings({"dataset": "generated", "cathode": {"gpu": "auto"}, "injection": {"nsig": "many"}},
                            schema)
    assert config == {"dataset": "generated", "cathode": {"gpu": "auto"}, "injection": {"nsig": "many"}}
    with pytest.raises(ConfigError, match=r"^config error: injection\.nsig = 'many' is not allowed"):
        validate_config(config)


def test_dotted_key_is_the_nested_setting():
    config = validate_config({"cathode.flow.max_epochs": "2", "cathode": {"runs": 1}})
    assert config["cathode"]["flow"]["max_epochs"] == 2 and config["cathode"]["runs"] == 1
    assert "cathode.flow.max_epochs" not in config


@pytest.mark.workflow
def test_nested_config_from_the_command_line_is_accepted(repo_root, tmp_path):
    # Before: "config error: cathode.flow.max_epochs = '2' is not allowed; allowed: integer >= 1".
    result = snakemake(repo_root, tmp_path, TARGET, "-n", "--config",
                       "cathode={flow: {max_epochs: 2, lr: 1e-3}, gpu: false}")
    assert result.returncode == 0, result.stdout + result.stderr


# --- 5. an unwritable output or log directory -----------------------------------------------------------


def make_unwritable(folder):
    """Make ``folder`` unwritable even for root; return how to undo it, or None if this machine cannot.

    chmod does not stop root (the usual user of containers and CI), so as root the folder is made
    immutable (``chattr +i``, ext4/xfs/btrfs); ``os.access`` then answers as the kernel will.
    """
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return lambda: folder.chmod(0o755)
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        if not os.access(folder, os.W_OK):
            return lambda: (subprocess.run(["chattr", "-i", str(folder)]), folder.chmod(0o755))
        subprocess.run(["chattr", "-i", str(folder)])
    folder.chmod(0o755)
    return None


@pytest.mark.workflow
@pytest.mark.parametrize("folder", ["resources", "results"])
def test_unwritable_folder_stops_before_any_job(repo_root, tmp_path, folder):
    blocked = tmp_path / folder
    blocked.mkdir()
    undo = make_unwritable(blocked)
    if undo is None:
        pytest.skip("this machine cannot make a folder unwritable for this user (no chmod effect, no chattr +i)")
    try:
        result = snakemake(repo_root, tmp_path, TARGET, "--cores", "1", timeout=240)
    finally:
        undo()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert last_line(result).startswith(f"error: cannot write into {folder}/"), output[-3000:]
    assert "Traceback" not in output and "rule generate_events" not in output  # no job started


# --- 7. a YAML slip in a config file ----------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("injection:\n\tnsig: 3\n", r"bad\.yaml, line 2, column 1: .*tab"),
    ("injection:\n  nsig: [3, 4\n", r"bad\.yaml, line 3, column 1: .*"),
    ("injection:\n  nsig: 3\n seeds: [1]\n", r"bad\.yaml, line 3, column 2: .*"),
    ("", r"bad\.yaml is empty"),
    ("# only a comment\n", r"bad\.yaml is empty"),
    ("- 1\n- 2\n", r"bad\.yaml holds a list, not settings"),
])
def test_yaml_slip_names_file_line_and_column(tmp_path, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"^config error: .*" + message) as err:
        check_config_file(bad)
    assert "\n" not in str(err.value)


def test_good_config_files_pass_the_yaml_check(repo_root):
    for path in ["config/config.yaml", "config/lhco.yaml", "tests/config/tiny.yaml"]:
        check_config_file(repo_root / path)


def workflow_copy(repo_root, tmp_path, config_text):
    """The workflow with its own config/config.yaml: the Snakefile copied, everything else linked."""
    copy = tmp_path / "workflow_copy"
    copy.mkdir()
    shutil.copy(repo_root / "Snakefile", copy / "Snakefile")
    for name in ["workflow", "src", "scripts", "envs", "profiles"]:
        if (repo_root / name).exists():
            (copy / name).symlink_to(repo_root / name)
    (copy / "config").mkdir()
    for path in (repo_root / "config").iterdir():
        if path.is_file():
            shutil.copy(path, copy / "config" / path.name)
    (copy / "config" / "config.yaml").write_text(config_text)
    return copy


@pytest.mark.workflow
@pytest.mark.parametrize("text, message", [
    ("dataset: generated\ninjection:\n\tnsig: 3\n", "config.yaml, line 3, column 1: found a tab"),
    ("", "config.yaml is empty"),
])
def test_yaml_slip_in_the_workflow_config_is_named(repo_root, tmp_path, text, message):
    # Before: "Config file is not valid JSON or YAML..." / "...with keys at top level", naming no file.
    copy = workflow_copy(repo_root, tmp_path, text)
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = snakemake(repo_root, workdir, TARGET, "-n", snakefile=copy / "Snakefile")
    assert result.returncode != 0
    assert message in last_line(result), result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# --- 8. a truncated features file --------------------------------------------------------------------------


def truncated_features(path):
    frame = pd.DataFrame(np.random.default_rng(1).random((5000, len(LHCO_COLUMNS))), columns=LHCO_COLUMNS)
    frame["label"] = 0.0
    write_lhco_features(frame, path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    return path


@pytest.mark.parametrize("name, remedy", [
    ("features.h5", "delete it and rerun; it is rebuilt from the chunks"),
    ("events_anomalydetection_v2.features.h5", "delete it and rerun to download it again"),
])
def test_truncated_features_file_says_what_to_do_in_one_line(tmp_path, name, remedy):
    path = truncated_features(tmp_path / name)
    with pytest.raises(InputError) as err:
        read_lhco_features(path)
    message = str(err.value)
    assert "\n" not in message and "back trace" not in message
    assert message.startswith(f"{path}: not a readable pandas HDF5 file (truncated")
    assert message.endswith(remedy)


def test_run_main_ends_with_the_one_line_and_keeps_the_back_trace_for_the_log(tmp_path, capsys):
    path = truncated_features(tmp_path / "features.h5")
    with pytest.raises(SystemExit) as stop:
        run_main(lambda argv: read_lhco_features(path))
    assert stop.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith(f"error: {path}: not a readable pandas HDF5 file (truncated")
    assert lines[-1].endswith("it is rebuilt from the chunks")
    assert any("HDF5 error back trace" in line for line in lines[:-1])  # the log keeps the details


# --- 9. a target after --configfile ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sic_cathode.pdf", "sic_cathode.png", "features.h5", "sic.svg"])
def test_a_target_read_as_config_file_says_targets_go_first(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4\n\x89\xac\xff binary")
    with pytest.raises(ConfigError, match=r"^config error: .* is a target, not a config file: write targets "
                                          r"before --configfile"):
        check_config_file(path)


def test_readme_troubleshooting_has_the_messages_snakemake_prints_itself(repo_root):
    readme = (repo_root / "README.md").read_text()
    assert "\n## Troubleshooting\n" in readme
    section = readme.split("\n## Troubleshooting\n", 1)[1]
    for message in ["UnicodeDecodeError", "FileNotFoundError", "Config file is not valid JSON or YAML",
                    "Config entry must start with a valid identifier", "python -m hepad.config"]:
        assert message in section, message


def test_config_checker_command_names_the_line(tmp_path):
    bad = tmp_path / "my.yaml"
    bad.write_text("injection:\n\tnsig: 3\n")
    result = subprocess.run([sys.executable, "-m", "hepad.config", str(bad)], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 1
    assert result.stderr.strip() == f"config error: {bad}, line 2, column 1: found a tab character where " \
                                    "YAML expects spaces (indent with spaces only)"


# --- 10. identical runs give identical plots ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "png", "svg"])
def test_the_same_figure_gives_the_same_bytes(tmp_path, fmt):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hepad.plots.style import save_figure

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2], label="a")
    ax.legend()
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    save_figure(fig, [first])
    time.sleep(1.1)  # creation dates have one-second resolution
    save_figure(fig, [second])
    plt.close(fig)
    assert hashlib.sha256(first.read_bytes()).hexdigest() == hashlib.sha256(second.read_bytes()).hexdigest()


# --- 11. regions and injections the data cannot hold --------------------------------------------------------


IMPOSSIBLE = [
    ({"regions": {"sr": {"low": 9.0, "high": 9.5}, "cwola_sb": {"low": 8.8, "high": 9.7}}},
     r"^config error: regions\.sr = 9\.0-9\.5 TeV would hold about 0\.\d of the 160000 generated QCD events"),
    ({"dataset": "lhco", "regions": {"sr": {"low": 9.0, "high": 9.5}, "cwola_sb": {"low": 8.8, "high": 9.7}}},
     r"^config error: regions\.sr = 9\.0-9\.5 TeV would hold about \d\.\d of the 1000000 LHCO R&D QCD events"),
    ({"regions": {"sr": {"low": 12.5, "high": 13.5}, "cwola_sb": {"low": 12.0, "high": 13.9}}},
     r"^config error: regions\.sr = 12\.5-13\.5 TeV reaches above sqrt\(s\) = 13 TeV"),
    ({"regions": {"sr": {"low": 1.5, "high": 2.0}, "cwola_sb": {"low": 1.2, "high": 2.3}}},
     r"^config error: regions\.sr = 1\.5-2\.0 TeV lies below the trigger: .* 2 x 1\.2 = 2\.4 TeV"),
    ({"regions": {"sr": {"low": 3.3, "high": 3.7}, "cwola_sb": {"low": 3.4, "high": 3.9}}},
     r"^config error: regions\.cwola_sb = .* must enclose regions\.sr"),
    ({"injection": {"nsig": 20000}},
     r"^config error: injection\.nsig = 20000 is more than the 10000 signal events generated "
     r"\(generation\.events\.signal\)"),
    ({"injection": {"scan_nsig": [300, 12000]}, "generation": {"events": {"signal": 11000}}},
     r"^config error: injection\.scan_nsig\[1\] = 12000 is more than the 11000 signal events generated"),
    ({"dataset": "lhco", "injection": {"nsig": 100001}},
     r"^config error: injection\.nsig = 100001 is more than the 100000 signal events in the LHCO R&D file"),
]


@pytest.mark.parametrize("config, message", IMPOSSIBLE, ids=[str(c) for c, _ in IMPOSSIBLE])
def test_impossible_region_or_injection_stops_before_any_job(config, message):
    # The Snakefile runs both before planning any job.
    with pytest.raises(ConfigError, match=message):
        check_sample_sizes(validate_config(config))


def test_possible_regions_and_injections_pass(repo_root):
    windows = [((3.3, 3.7), (3.1, 3.9)), ((2.5, 2.9), (2.3, 3.1)), ((5.0, 5.5), (4.6, 6.0)), ((7.0, 7.4), (6.8, 7.6))]
    for sr, cw in windows:
        check_sample_sizes(validate_config({"regions": {"sr": dict(zip(("low", "high"), sr)),
                                                        "cwola_sb": dict(zip(("low", "high"), cw))}}))
    check_sample_sizes(validate_config({"dataset": "lhco", "injection": {"nsig": 100000}}))
    check_sample_sizes(validate_config({"injection": {"nsig": 10000}}))
    import yaml

    for path in ["config/config.yaml", "config/lhco.yaml", "tests/config/tiny.yaml"]:
        check_sample_sizes(validate_config(yaml.safe_load((repo_root / path).read_text())))


@pytest.mark.workflow
def test_impossible_region_stops_the_dry_run(repo_root, tmp_path):
    # Before: the dry run passed and the run stopped only after generating the events.
    result = snakemake(repo_root, tmp_path, TARGET, "-n", "--config",
                       "regions={sr: {low: 9.0, high: 9.5}, cwola_sb: {low: 8.8, high: 9.7}}")
    assert result.returncode != 0
    assert last_line(result).startswith("config error: regions.sr = 9.0-9.5 TeV would hold about")
