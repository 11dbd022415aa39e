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


def test_suep_events_from_pythia_conserve_the_scalar_and_give_track_images():
    """gg -> scalar in Pythia (ISR, underlying event), its SUEP decay attached, then detector and images."""
    pytest.importorskip("pythia8mc")
    from hepad.events.dark_showers import (DarkChunkSettings, attach_suep_decays, generate_dark_chunk,
                                           parse_dark_process, suep_settings)
    from hepad.events.images import ImageGrid, event_images
    from hepad.events.pythia import PythiaGenerator

    assert parse_dark_process("suep_125").label == 1 and parse_dark_process("suep_125").kind == "suep"
    generator = PythiaGenerator(suep_settings(200.0), seed=7)
    fs, scalars = generator.generate_with_stable(4, (25,))
    assert fs.n_events == 4 and (np.diff(scalars.offsets) == 1).all() and (scalars.pid == 25).all()
    assert not (fs.pid == 25).any()
    out, p4, sums = attach_suep_decays(fs, scalars, SuepParams(), np.random.default_rng(4))
    mass = minkowski_mass(p4)
    assert np.allclose(mass, 200.0, rtol=0.01) and (np.hypot(p4[:, 1], p4[:, 2]) > 0).all()  # recoils on ISR
    # The products (before any detector) sum to the scalar's lab four-momentum.
    np.testing.assert_allclose(sums, p4, rtol=0, atol=1e-6 * mass.min())
    added = np.diff(out.offsets) - np.diff(fs.offsets)
    assert (added >= 4 * 2).all() and (added % 4 == 0).all()  # 4 SM particles per dark meson
    new = np.concatenate([np.arange(out.offsets[k + 1] - added[k], out.offsets[k + 1]) for k in range(4)])
    assert set(np.abs(out.pid[new])) <= {11, 13, 211} and out.charge[new].sum() == 0
    # The whole chunk: every trigger-passing event has many track pixels.
    chunk = generate_dark_chunk("suep_200", 0, 4, DarkChunkSettings(seed=2, trigger="ht", trigger_pt=50.0,
                                                                   jet_radius=0.4))
    assert chunk.n_events == 4 and (chunk.events["label"] == 1).all() and (chunk.events["mass"] == 200).all()
    assert chunk.meta["suep_max_p4_violation"] < 1e-6
    grid = ImageGrid(eta_max=2.5, n_eta=286, n_phi=360, factor=5, channels=("track", "ecal", "hcal"))
    o = chunk.objects
    images = event_images(chunk.offsets, o["pt"], o["eta"], o["phi"], o["channel"], grid)
    assert ((images[:, 0] > 0).sum(axis=(1, 2)) > 50).all()
