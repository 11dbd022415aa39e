"""Template fidelity (hepad.cathode.fidelity) and the leaderboard table (hepad.cathode.leaderboard)."""

import json

import numpy as np
import pytest

from hepad.cathode.fidelity import template_auc, two_sample_split
from hepad.cathode.leaderboard import CSV_COLUMNS, leaderboard_rows, plot_leaderboard, read_csv, read_entries, write_csv

HGB = {"n_models": 1, "max_iter": 30, "threads": 1}


def test_two_sample_split_is_balanced_and_uses_each_event_once():
    rng = np.random.default_rng(0)
    samples, background = rng.normal(size=(1000, 3)), rng.normal(size=(300, 3)) + 10
    x_train, y_train, x_val, y_val, x_test, y_test = two_sample_split(samples, background, seed=1)
    for y in (y_train, y_val, y_test):
        assert (y == 1).sum() == (y == 0).sum()
    assert len(y_test) == 300 and len(y_train) + len(y_val) == 300
    # the 300 background events (mean 10) are all used exactly once
    rows = np.concatenate([x_train, x_val, x_test])
    np.testing.assert_array_equal(np.sort(rows[rows[:, 0] > 5][:, 0]), np.sort(background[:, 0]))
    with pytest.raises(ValueError, match="same features"):
        two_sample_split(samples, background[:, :2], seed=1)


def test_template_auc_is_one_half_for_a_perfect_template_and_larger_for_a_wrong_one():
    rng = np.random.default_rng(2)
    background = rng.normal(size=(4000, 4))
    perfect = template_auc(rng.normal(size=(6000, 4)), background, "hgb", HGB, seed=3)
    assert abs(perfect["auc"] - 0.5) < 0.04 and perfect["n_test"] == 4000
    wrong = rng.normal(size=(6000, 4))
    wrong[:, 1] *= 2.0  # one feature twice too wide
    assert template_auc(wrong, background, "hgb", HGB, seed=3)["auc"] > 0.65


def _run(tmp_path, name, nsig, seed, run, max_sic, auc, cpu=None):
    metrics = tmp_path / f"{name}_{nsig}_{seed}_{run}.json"
    metrics.write_text(json.dumps({"method": name, "dataset": "generated", "nsig": nsig, "seed": seed, "run": run,
                                   "max_sic": max_sic, "auc": auc, "sic_at_eff_0.2": 2.0, "sic_at_eff_0.5": None,
                                   "s_over_b": 0.006, "s_over_sqrt_b": 1.0}))
    bench = tmp_path / f"bench_{name}_{nsig}_{seed}_{run}.tsv"
    if cpu is not None:
        bench.write_text("s\th:m:s\tmax_rss\tcpu_time\n" + f"9.0\t0:00:09\t100\t{cpu}\n")
    return str(metrics), str(bench)


def test_leaderboard_rows_band_template_and_cpu(tmp_path):
    texts = []
    fidelity = {}
    for seed in (1, 2, 3):
        fidelity[seed] = tmp_path / f"fid{seed}.json"
        fidelity[seed].write_text(json.dumps({"auc": 0.5 + 0.01 * seed}))
        for run in (0, 1):
            sic = None if (seed, run) == (1, 0) else float(seed + run)  # no valid SIC point: counts as 0
            metrics, bench = _run(tmp_path, "cathode_hgb", 240, seed, run, sic, 0.7, cpu=10.0 * seed)
            texts.append(json.dumps({"dataset": "generated", "features": "lhco4", "flow": "maf", "family": "hgb",
                                     "method": "cathode", "metrics": metrics, "fidelity": str(fidelity[seed]),
                                     "benchmarks": [bench, bench]}))
        metrics, bench = _run(tmp_path, "anode", 240, seed, 0, 3.0, 0.6)  # no benchmark file written
        texts.append(json.dumps({"dataset": "generated", "features": "lhco4", "flow": "nsf", "family": "",
                                 "method": "anode", "metrics": metrics, "fidelity": "", "benchmarks": [bench]}))
    rows = leaderboard_rows(read_entries(texts))
    assert [(r["method"], r["flow"], r["n_runs"]) for r in rows] == [("cathode", "maf", 6), ("anode", "nsf", 3)]
    cathode, anode = rows
    values = [0.0, 2.0, 2.0, 3.0, 3.0, 4.0]
    assert cathode["max_sic"] == pytest.approx(np.median(values))
    assert cathode["max_sic_q16"] == pytest.approx(np.percentile(values, 16))
    assert cathode["max_sic_q84"] == pytest.approx(np.percentile(values, 84))
    assert cathode["sic_at_eff_0.2"] == 2.0 and np.isnan(cathode["sic_at_eff_0.5"]) and cathode["auc"] == 0.7
    assert cathode["n_templates"] == 3 and cathode["template_auc"] == pytest.approx(0.52)
    assert cathode["cpu_s"] == pytest.approx(40.0)  # two benchmark files of 10 s x seed, median over seeds
    assert np.isnan(anode["template_auc"]) and np.isnan(anode["cpu_s"]) and anode["max_sic"] == 3.0

    write_csv(rows, tmp_path / "board.csv")
    assert (tmp_path / "board.csv").read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    back = read_csv(tmp_path / "board.csv")
    assert back[0]["max_sic"] == pytest.approx(cathode["max_sic"]) and back[1]["family"] == ""
    assert np.isnan(back[1]["template_auc"])
    fig = plot_leaderboard(back, "toy")
    assert len(fig.axes) == 1 and len(fig.axes[0].get_yticklabels()) == 2
    fig.savefig(tmp_path / "board.pdf")
    assert (tmp_path / "board.pdf").stat().st_size > 1000


@pytest.mark.workflow
def test_flow_kinds_and_feature_sets_get_chains_of_their_own(repo_root, tmp_path):
    """A flow kind other than maf runs under {dataset}[_{features}]_{kind}/ with that kind, whatever
    cathode.flow.kind says (which picks the top-level plots' chain); CWoLa has no flow and appears once per set."""
    import re
    import subprocess
    import sys

    extra = tmp_path / "board.yaml"
    extra.write_text("cathode:\n  flow: {kind: nsf}\n"
                     "  leaderboard: {methods: [cathode, anode, cwola], flow_kinds: [maf, nsf], features: [lhco4, lhco4_dr]}\n")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(repo_root / "tests/config/tiny.yaml"), str(extra), "-n", "-p",
           "results/cathode/leaderboard.pdf", "results/sic_cathode.pdf"]
    result = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    flows = {}
    for line in (line for line in lines if "scripts/train_flow.py" in line):
        chain = re.search(r"--output results/cathode/(\w+?)/nsig", line).group(1)
        flows.setdefault(chain, set()).add(re.search(r"--param 'kind=\"(\w+)\"'", line).group(1))
    assert flows == {"generated": {"maf"}, "generated_nsf": {"nsf"}, "generated_lhco4_dr": {"maf"},
                     "generated_lhco4_dr_nsf": {"nsf"}}
    assert "results/cathode/generated_nsf/plot_sic/sic_cathode_hgb_nsig300.pdf" in result.stdout
    board = next(line for line in lines if "scripts/leaderboard.py" in line)
    assert "--entries -" in board
    fidelity = [line for line in lines if "scripts/template_fidelity.py" in line]
    assert len(fidelity) == 8  # 2 sets x 2 kinds x nsig 300, 100
    cwola = {re.search(r"results/cathode/(\w+?)/nsig", line).group(1) for line in lines
             if "scripts/evaluate.py" in line and "--method cwola_hgb" in line}
    assert cwola == {"generated", "generated_lhco4_dr"}
