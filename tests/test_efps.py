"""EFP features against energyflow called directly on constructed jets."""

import numpy as np
import pytest

from hepad.events.efps import (compute_efps, efp_graphs, efp_names, feature_names, import_energyflow,
                               jet_features, jet_mass_pt)


def constructed_jets():
    rng = np.random.default_rng(5)
    counts = np.array([3, 12, 1, 25])
    off = np.r_[0, np.cumsum(counts)]
    n = off[-1]
    return off, rng.exponential(20, n), rng.normal(0.3, 0.3, n), rng.normal(-0.5, 0.3, n)


def test_count_names_and_graphs():
    assert len(efp_names()) == 101
    assert feature_names()[:2] == ["m", "pt"] and len(feature_names()) == 103
    assert len(set(feature_names())) == 103
    graphs = efp_graphs()
    assert len(graphs) == 101
    assert graphs[0] == [(0, 1)]  # the first non-constant EFP: one edge, i.e. sum z_i z_j theta_ij
    assert max(len(g) for g in graphs) == 5 and min(len(g) for g in graphs) == 1


def test_values_match_energyflow_directly():
    ef = import_energyflow()
    off, pt, eta, phi = constructed_jets()
    ours = compute_efps(off, pt, eta, phi)
    direct = ef.EFPSet(("d<=", 5), measure="hadr", beta=1, kappa=1)
    for k in range(len(off) - 1):
        s = slice(off[k], off[k + 1])
        expected = direct.compute(np.column_stack([pt[s], eta[s], phi[s]]))
        assert expected[0] == pytest.approx(1.0)  # the dropped constant
        assert np.allclose(ours[k], expected[1:], rtol=1e-10, atol=0)


def test_one_edge_efp_by_hand():
    off, pt, eta, phi = constructed_jets()
    s = slice(off[1], off[2])
    z = pt[s] / pt[s].sum()
    theta = np.hypot(eta[s][:, None] - eta[s][None], phi[s][:, None] - phi[s][None])
    assert compute_efps(off, pt, eta, phi)[1, 0] == pytest.approx(z @ theta @ z, rel=1e-10)


def test_mass_and_pt_of_two_massless_particles():
    # two 100 GeV particles at the same eta, 0.2 apart in phi: m^2 = 2 pt1 pt2 (cosh 0 - cos 0.2)
    m, pt = jet_mass_pt(np.array([0, 2]), np.array([100.0, 100.0]), np.array([0.5, 0.5]), np.array([0.1, -0.1]))
    assert m[0] == pytest.approx(np.sqrt(2 * 100 * 100 * (1 - np.cos(0.2))))
    assert pt[0] == pytest.approx(200 * np.cos(0.1))
    feats = jet_features(np.array([0, 2]), np.array([100.0, 100.0]), np.array([0.5, 0.5]), np.array([0.1, -0.1]))
    assert feats.shape == (1, 103) and feats[0, 0] == pytest.approx(m[0])
