"""A new user's mistakes each end in one clear line that says what to do (docs/reliability.md).

Each test names the item of the issue "Nothing stale, nothing lost" it covers. The Snakemake runs are dry
runs or stop before the first job, in a temporary --directory, on the tiny config.
"""

import hashlib
import time

import pytest


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
