"""Average decision ordering: the O(n log n) counts against explicit pair loops."""

import numpy as np
import pytest

from hepad.metrics.ado import (MisorderedADO, ado, ado_bruteforce, ado_misordered,
                               ado_misordered_bruteforce, count_inversions, pair_counts)


def test_count_inversions_matches_pair_loop():
    rng = np.random.default_rng(1)
    for n in (0, 1, 2, 3, 7, 64, 65, 300):
        v = rng.integers(0, 10, n)
        expected = sum(int(v[i] > v[j]) for i in range(n) for j in range(i + 1, n))
        assert count_inversions(v) == expected


@pytest.mark.parametrize("levels", [3, 20, 10_000])
def test_ado_matches_bruteforce_with_ties(levels):
    rng = np.random.default_rng(levels)
    for _ in range(10):
        n = int(rng.integers(2, 300))
        x = rng.integers(0, levels, n).astype(float)
        y = np.where(rng.random(n) < 0.5, x, rng.integers(0, levels, n))  # correlated, tied
        assert ado(x, y) == pytest.approx(ado_bruteforce(x, y), abs=1e-12)


def test_ado_self_and_negative():
    x = np.random.default_rng(2).normal(size=1000)
    assert ado(x, x) == 1.0
    assert ado(x, -x) == 0.0
    assert ado(x, 3 * x + 1) == 1.0  # only the ordering matters
    ties = np.repeat([1.0, 2.0, 3.0], 5)
    assert ado(ties, ties) == 1.0  # a shared tie is the same decision


def test_ado_known_small_case():
    # pairs: (0,1) concordant, (0,2) y ties, (1,2) discordant -> (1 + 1/2 + 0) / 3
    assert ado([1, 2, 3], [2, 5, 2]) == pytest.approx(0.5)
    assert ado([1, 2, 3], [1, 5, 0]) == pytest.approx(1 / 3)


def test_pair_counts_tau_a_without_ties():
    from scipy.stats import kendalltau

    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    c = pair_counts(x, y)
    assert c.tied_x == c.tied_y == c.tied_xy == 0
    assert c.kendall / c.n_pairs == pytest.approx(kendalltau(x, y).statistic, abs=1e-12)


@pytest.mark.parametrize("levels", [4, 1_000_000])
def test_misordered_ado_matches_bruteforce(levels):
    rng = np.random.default_rng(levels)
    for _ in range(10):
        n = int(rng.integers(3, 200))
        a = rng.integers(0, levels, n).astype(float)
        m = a + rng.integers(0, levels, n)
        c = np.where(rng.random(n) < 0.3, a, rng.integers(0, levels, n))
        got = ado_misordered(c, a, m)
        assert got == pytest.approx(ado_misordered_bruteforce(c, a, m), abs=1e-12)


def test_misordered_ado_reference_itself_is_one():
    rng = np.random.default_rng(4)
    a = rng.normal(size=400)
    m = a + rng.normal(size=400)
    restricted = MisorderedADO(a, m)
    assert restricted.misordered > 0
    assert restricted(a) == pytest.approx(1.0)  # the reference orders its own pairs right
    assert restricted(m) == pytest.approx(0.0)  # the mimicker gets exactly these pairs wrong
    assert restricted(-a) == pytest.approx(0.0)


def test_ado_rejects_bad_input():
    with pytest.raises(ValueError, match="length"):
        ado([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        ado([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="two events"):
        ado([1], [1])
