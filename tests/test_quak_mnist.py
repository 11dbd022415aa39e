"""QUAK's second digits source, MNIST (quak.digits.source: mnist): the script reads an mnist.npz in the Keras
layout, and the workflow plans the download (download_url rule) before the digits chain."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from hepad.io import InputError
from hepad.quak.digits import load_mnist


def write_mnist(path, n_per_class=40, seed=0):
    """An mnist.npz in the Keras layout: x_train, y_train, x_test, y_test; uint8 images 28 x 28.

    Each class is a bright 6 x 6 square at its own place, with noise, so classes differ as digits do.
    """
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit in range(10):
        for _ in range(n_per_class):
            img = rng.integers(0, 40, size=(28, 28))
            r, c = 2 + 2 * digit, 20 - 2 * digit
            img[r:r + 6, c:c + 6] = rng.integers(180, 256, size=(6, 6))
            images.append(img)
            labels.append(digit)
    x, y = np.array(images, dtype=np.uint8), np.array(labels, dtype=np.uint8)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    split = len(x) * 5 // 6
    np.savez(path, x_train=x[:split], y_train=y[:split], x_test=x[split:], y_test=y[split:])


def test_load_mnist_joins_train_and_test_in_the_unit_interval(tmp_path):
    path = tmp_path / "mnist.npz"
    write_mnist(path, n_per_class=6)
    x, y = load_mnist(path)
    assert x.shape == (60, 784) and y.shape == (60,)
    assert 0 <= x.min() and x.max() <= 1 and sorted(set(y.tolist())) == list(range(10))
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 28, 28)))
    with pytest.raises(InputError, match="x_train, y_train, x_test, y_test"):
        load_mnist(tmp_path / "bad.npz")


def test_quak_digits_script_reads_mnist(repo_root, tmp_path):
    path = tmp_path / "mnist.npz"
    write_mnist(path)
    out = tmp_path / "samples.h5"
    result = subprocess.run(
        [sys.executable, str(repo_root / "scripts/quak_digits.py"), "--source", "mnist", "--mnist", str(path),
         "--background", "0", "1", "2", "3", "4", "6", "--priors", "7", "9", "--anomalies", "5", "8",
         "--n-components", "8", "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "mnist: 400 images of 784 pixels" in result.stderr
    with h5py.File(out, "r") as f:
        meta = json.loads(f.attrs["meta"])
        assert meta["source"] == "mnist" and meta["n_components"] == 8
        assert set(f) == {"background", "digit7", "digit9", "digit5", "digit8"}
        x = f["background/train/x"][()]
        assert x.shape == (120, 8)  # half of the 6 x 40 background images
        np.testing.assert_allclose(x.mean(0), 0, atol=1e-9)
    missing = subprocess.run(
        [sys.executable, str(repo_root / "scripts/quak_digits.py"), "--source", "mnist", "--background", "0",
         "--priors", "7", "--anomalies", "5", "--n-components", "8", "--output", str(tmp_path / "x.h5")], capture_output=True, text=True)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == "error: --source mnist needs --mnist <mnist.npz>"


@pytest.mark.workflow
def test_mnist_target_plans_the_download(repo_root, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "results/quak_digits.pdf", "--configfile",
         str(repo_root / "tests/config/tiny.yaml"), "--config", "quak={digits: {source: mnist}}",
         "--directory", str(tmp_path), "-s", str(repo_root / "Snakefile")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout.split("Job stats:", 1)[1].split("Reasons", 1)[0]
    for rule in ("download_url", "quak_digits", "train_quak_prior", "quak_space", "plot_quak_digits"):
        assert rule in table
    assert "resources/mnist/mnist.npz" in result.stdout
    assert "results/quak/mnist/samples.h5" in result.stdout
