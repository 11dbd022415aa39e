"""SUEP thermal decays (hepad.events.suep): four-momentum conservation, the Maxwell–Jüttner spectrum, the
dark-photon cascade and its branching ratios."""

import numpy as np
import pytest
from scipy.integrate import quad

from hepad.events.suep import (M_MU, MaxwellJuttner, SuepParams, boost, dark_photon_branching_ratios, decay_suep,
                               meson_momenta, mj_mean_momentum, two_body_decay)


def minkowski_mass(p4):
    return np.sqrt(np.maximum(p4[..., 0] ** 2 - (p4[..., 1:] ** 2).sum(-1), 0))


@pytest.mark.parametrize("mass", [125.0, 400.0, 1000.0])
def test_a_decay_conserves_four_momentum(mass):
    rng = np.random.default_rng(1)
    for _ in range(5):
        d = decay_suep(mass, rng=rng)
        for stage in (d.mesons, d.dark_photons, d.final):
            np.testing.assert_allclose(stage.sum(0), [mass, 0, 0, 0], rtol=0, atol=1e-6 * mass)
        np.testing.assert_allclose(minkowski_mass(d.mesons), 2.0, rtol=1e-9)
        np.testing.assert_allclose(minkowski_mass(d.dark_photons), 0.7, rtol=1e-7)
        assert len(d.dark_photons) == 2 * len(d.mesons) and len(d.final) == 2 * len(d.dark_photons)
        assert set(np.abs(d.pid)) <= {11, 13, 211} and d.pid.sum() == 0


def test_mean_meson_momentum_matches_maxwell_juttner():
    params = SuepParams()
    expected = mj_mean_momentum(params.temperature, params.m_meson)
    # The closed form against the integral.
    f = lambda p: p * p * np.exp(-(np.hypot(p, 2.0) - 2.0) / 2.0)  # noqa: E731
    assert expected == pytest.approx(quad(lambda p: p * f(p), 0, np.inf)[0] / quad(f, 0, np.inf)[0], rel=1e-10)
    rng = np.random.default_rng(2)
    # The sampler alone: 200k draws, statistical error 0.2 %.
    draws = MaxwellJuttner(2.0, 2.0).sample(200_000, rng)
    assert draws.mean() == pytest.approx(expected, rel=0.01)
    # Events (after the exact conservation): about 150 mesons each at M = 1 TeV, 40 events, 1.3 % error.
    momenta = np.concatenate([meson_momenta(1000.0, params, rng)[:, 1:] for _ in range(40)])
    assert np.linalg.norm(momenta, axis=1).mean() == pytest.approx(expected, rel=0.04)
    # Another temperature: hotter mesons are faster.
    hot = SuepParams(temperature=5.0)
    hot_momenta = np.concatenate([meson_momenta(1000.0, hot, rng)[:, 1:] for _ in range(40)])
    assert np.linalg.norm(hot_momenta, axis=1).mean() == pytest.approx(mj_mean_momentum(5.0, 2.0), rel=0.04)


def test_boost_and_two_body_decay():
    rng = np.random.default_rng(3)
    parent = np.array([[10.0, 3.0, -4.0, 6.0]])
    d1, d2 = two_body_decay(np.repeat(parent, 100, 0), M_MU, M_MU, rng)
    np.testing.assert_allclose(d1 + d2, np.repeat(parent, 100, 0), atol=1e-12)
    np.testing.assert_allclose(minkowski_mass(d1), M_MU, rtol=1e-6)
    # Boosting a particle at rest into the frame of a moving one gives that one.
    rest = np.array([[minkowski_mass(parent)[0], 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(boost(rest, parent), parent, atol=1e-12)
    # A decay in a moving frame: the cascade boosted with the scalar's momentum sums to it.
    scalar = np.array([np.hypot(125.0, 300.0), 0.0, 300.0, 0.0])
    d = decay_suep(125.0, rng=rng, scalar=scalar)
    np.testing.assert_allclose(d.final.sum(0), scalar, atol=1e-6 * 125)


def test_dark_photon_branching_ratios():
    br = dark_photon_branching_ratios(0.7)
    assert sum(br.values()) == pytest.approx(1.0)
    assert br == pytest.approx({"e": 0.212, "mu": 0.211, "pi": 0.577}, abs=0.001)  # the documented table
    assert dark_photon_branching_ratios(0.2)["mu"] == 0 and dark_photon_branching_ratios(0.2)["pi"] == 0
    # Near the rho the pions dominate.
    assert dark_photon_branching_ratios(0.775)["pi"] > 0.7
    with pytest.raises(ValueError, match="1 GeV"):
        dark_photon_branching_ratios(1.5)
    with pytest.raises(ValueError, match="m_meson > 2 m_dark_photon"):
        SuepParams(m_meson=1.0)
