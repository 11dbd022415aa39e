import numpy as np
import pytest

from hepad.cathode.kde import LogitKDE


def test_samples_stay_inside_the_signal_region():
    rng = np.random.default_rng(0)
    # Events piled up at both edges: a KDE on mjj itself would spill half its kernels outside.
    mjj = np.concatenate([3.3 + 1e-9 + rng.exponential(1e-4, 500), 3.7 - 1e-9 - rng.exponential(1e-4, 500),
                          rng.uniform(3.3, 3.7, 1000)])
    mjj = mjj[(mjj > 3.3) & (mjj < 3.7)]
    kde = LogitKDE(bandwidth=0.5).fit(mjj, 3.3, 3.7)  # wide kernels push samples hard against the edges
    s = kde.sample(200_000, seed=1)
    assert s.shape == (200_000,)
    assert np.all(s > 3.3) and np.all(s < 3.7)


def test_samples_follow_the_data_and_are_reproducible():
    rng = np.random.default_rng(0)
    mjj = 3.3 + 0.4 * rng.beta(2, 5, 20_000)
    kde = LogitKDE().fit(mjj, 3.3, 3.7)
    s = kde.sample(50_000, seed=3)
    np.testing.assert_array_equal(s, kde.sample(50_000, seed=3))
    assert not np.array_equal(s, kde.sample(50_000, seed=4))
    assert abs(np.median(s) - np.median(mjj)) < 0.005
    assert abs(s.std() - mjj.std()) < 0.005


def test_log_prob_is_normalised():
    rng = np.random.default_rng(0)
    kde = LogitKDE(bandwidth=0.1).fit(3.3 + 0.4 * rng.beta(2, 2, 500), 3.3, 3.7)
    grid = np.linspace(3.3, 3.7, 40_001)[1:-1]
    integral = np.exp(kde.log_prob(grid)).sum() * (grid[1] - grid[0])
    assert integral == pytest.approx(1.0, abs=0.01)
    assert kde.log_prob(np.array([3.2, 3.8])).tolist() == [-np.inf, -np.inf]


def test_fit_rejects_values_outside_and_round_trips(tmp_path):
    with pytest.raises(ValueError, match="not inside"):
        LogitKDE().fit(np.array([3.4, 3.7]), 3.3, 3.7)
    with pytest.raises(ValueError, match="no events"):
        LogitKDE().fit(np.array([]), 3.3, 3.7)
    kde = LogitKDE().fit(np.array([3.4, 3.5, 3.6]), 3.3, 3.7)
    kde.save(tmp_path / "kde.npz")
    np.testing.assert_array_equal(LogitKDE.load(tmp_path / "kde.npz").sample(100, seed=2), kde.sample(100, seed=2))
