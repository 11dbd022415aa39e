"""scripts/train_flow.py chooses the density estimator by --param kind=... (config cathode.flow.kind)."""

import json
import subprocess
import sys

import pytest

from lhco_toy import write_toy_lhco

pytest.importorskip("zuko")
SPLITS = ["--sr", "3.3", "3.7", "--sb-val-fraction", "0.2", "--sr-val-fraction", "0.5", "--extra-bkg-test-fraction", "0.5"]
SMALL = ["--param", "n_blocks=2", "--param", "hidden=16", "--param", "batch_size=256", "--param", "lr=3e-3",
         "--param", "n_ensemble=2", "--param", "max_epochs=2", "--threads", "1"]


def run(repo_root, name, *args):
    return subprocess.run([sys.executable, str(repo_root / "scripts" / f"{name}.py"), *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def prepared(repo_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kind")
    write_toy_lhco(folder / "features.h5", n_bkg=4000, n_sig=200, seed=1)
    write_toy_lhco(folder / "extra.h5", n_bkg=1500, n_sig=0, seed=2, sr_only=True)
    result = run(repo_root, "prepare", "--features", folder / "features.h5", "--extra-bkg", folder / "extra.h5",
                 "--nsig", 50, "--seed", 1, "--n-test-signal", 50, *SPLITS, "--output", folder / "prep.h5",
                 "--summary", folder / "prep.json", "--feature-set", "lhco4")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("kind", ["maf", "nsf", "cfm"])
def test_train_flow_passes_kind_through(repo_root, prepared, kind):
    out = prepared / kind
    result = run(repo_root, "train_flow", "--data", prepared / "prep.h5", "--region", "sb", *SMALL,
                 "--param", f"kind={kind}", "--param", "implementation=made", "--output", out)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "history.json").read_text())["params"]["kind"] == kind
    from hepad.cathode.density import ConditionalDensity
    model = ConditionalDensity.load(out)
    assert model.flow.kind == kind and model.flow.backend == ("made" if kind == "maf" else "zuko")


def test_unknown_kind_is_a_one_line_error(repo_root, prepared):
    result = run(repo_root, "train_flow", "--data", prepared / "prep.h5", "--region", "sb", *SMALL,
                 "--param", "kind=glow", "--output", prepared / "bad")
    assert result.returncode == 1 and "kind must be one of" in result.stderr
    assert "Traceback" not in result.stderr
