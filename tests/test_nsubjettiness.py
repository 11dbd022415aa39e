"""N-subjettiness on constructed jets whose values follow from the definition by hand."""

import numpy as np
import pytest

from hepad.events.nsubjettiness import ONEPASS_MAX_N, delta_phi, nsubjettiness, rapidity, tau_from_axes

BETAS = (0.5, 1.0, 2.0)


def massless(pt, y, phi):
    """(px, py, pz, E) of massless particles (y = eta)."""
    pt, y, phi = (np.asarray(a, dtype=float) for a in (pt, y, phi))
    return pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(y), pt * np.cosh(y)


def taus_of(jets, n_max=4, betas=BETAS, r0=1.0):
    """tau for a list of jets, each a (pt, y, phi) triple of arrays."""
    counts = [len(j[0]) for j in jets]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    flat = [np.concatenate([np.asarray(j[k], dtype=float) for j in jets]) for k in range(3)]
    return nsubjettiness(offsets, *massless(*flat), n_max=n_max, betas=betas, r0=r0)


def sum_axis(pt, y, phi):
    """(y, phi) of the four-momentum sum: the E-scheme axis of merged particles."""
    px, py, pz, e = (a.sum() for a in massless(pt, y, phi))
    return rapidity(pz, e), np.arctan2(py, px)


def test_one_prong_is_zero_for_every_n():
    jet = ([300.0, 200.0, 100.0], [0.4, 0.4, 0.4], [1.0, 1.0, 1.0])
    # Rounding leaves Delta R^2 ~ 1e-33 between a constituent and the recomputed axis: (1e-33)^(1/4) ~ 1e-8.
    assert np.allclose(taus_of([jet]), 0.0, atol=1e-7)


@pytest.mark.parametrize("beta_index", range(3))
def test_two_symmetric_prongs(beta_index):
    # Equal pT at y = +-a: the one-axis is at y = 0 by symmetry, so tau1 = a^beta; tau2 = 0 exactly.
    a = 0.3
    taus = taus_of([([500.0, 500.0], [-a, a], [2.0, 2.0])])[0]
    beta = BETAS[beta_index]
    assert taus[0, beta_index] == pytest.approx(a ** beta, rel=1e-12)
    assert taus[1, beta_index] == pytest.approx(0.0, abs=1e-12)


def test_two_unequal_prongs_axis_is_the_four_momentum_sum():
    pt, y, phi = np.array([600.0, 200.0]), np.array([0.1, 0.1]), np.array([0.0, 0.5])
    ay, aphi = sum_axis(pt, y, phi)
    dr = np.hypot(y - ay, phi - aphi)
    taus = taus_of([(pt, y, phi)])[0]
    for b, beta in enumerate(BETAS):
        assert taus[0, b] == pytest.approx((pt * dr ** beta).sum() / pt.sum(), rel=1e-10)
        assert taus[1, b] == pytest.approx(0.0, abs=1e-12)


def test_three_prongs_follow_kt_merging():
    # Equal pT: kT merges the closest pair first (A, B at distance 0.6; C is 0.8 from A and 1.0 from B).
    pt = np.array([400.0, 400.0, 400.0])
    y = np.array([0.0, 0.6, 0.0])
    phi = np.array([0.0, 0.0, -0.8])
    ab_y, ab_phi = sum_axis(pt[:2], y[:2], phi[:2])
    all_y, all_phi = sum_axis(pt, y, phi)
    taus = taus_of([(pt, y, phi)])[0]
    for b, beta in enumerate(BETAS):
        dr_ab = np.hypot(y[:2] - ab_y, phi[:2] - ab_phi)
        tau2 = (pt[:2] * dr_ab ** beta).sum() / pt.sum()
        dr_all = np.hypot(y - all_y, phi - all_phi)
        tau1 = (pt * dr_all ** beta).sum() / pt.sum()
        assert taus[1, b] == pytest.approx(tau2, rel=1e-10)
        assert taus[0, b] == pytest.approx(tau1, rel=1e-10)
        assert taus[2, b] == pytest.approx(0.0, abs=1e-12)
    beta1 = taus[:, 1]
    assert beta1[0] > beta1[1] > beta1[2]


def test_normalisation_r0_and_fewer_constituents_than_axes():
    a = 0.2
    jet = ([100.0, 100.0], [-a, a], [0.0, 0.0])
    taus = taus_of([jet], n_max=4, r0=0.8)[0]
    assert taus[0, 1] == pytest.approx(a / 0.8, rel=1e-12)
    assert taus[0, 2] == pytest.approx(a ** 2 / 0.8 ** 2, rel=1e-12)
    assert np.allclose(taus[1:], 0.0, atol=1e-12)  # N >= number of constituents


def test_jet_across_the_phi_boundary():
    # Prongs at phi = pi - 0.1 and -pi + 0.1 are 0.2 apart, not 2 pi - 0.2.
    taus = taus_of([([300.0, 300.0], [0.0, 0.0], [np.pi - 0.1, -np.pi + 0.1])])[0]
    assert taus[0, 1] == pytest.approx(0.1, rel=1e-9)


def test_many_jets_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(3)
    jets = []
    for n in (1, 2, 5, 30, 80):
        jets.append((rng.exponential(20.0, n) + 1.0, rng.normal(0.5, 0.3, n), rng.normal(-2.0, 0.3, n)))
    together = taus_of(jets, n_max=9)
    alone = np.concatenate([taus_of([j], n_max=9) for j in jets])
    assert np.allclose(together, alone, rtol=1e-12, atol=1e-14)
    assert together.shape == (5, 9, 3)


def test_tau_from_axes_wraps_phi():
    pt, y, phi = np.array([1.0]), np.array([0.0]), np.array([np.pi - 0.05])
    out = tau_from_axes(pt, y, phi, [1], np.array([[0.0]]), np.array([[-np.pi + 0.05]]), betas=(1.0,))
    assert out[0, 0] == pytest.approx(0.1, rel=1e-9)
    assert delta_phi(np.array([3.0]), np.array([-3.0]))[0] == pytest.approx(6.0 - 2 * np.pi)


def test_agrees_with_fastjet_contrib_nsubjettiness():
    """The same definition as FastJet contrib's Nsubjettiness (KT_Axes, NormalizedMeasure)."""
    fastjet = pytest.importorskip("fastjet")
    from hepad.events.jets import _jagged

    rng = np.random.default_rng(11)
    counts = rng.integers(3, 60, size=40)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n = offsets[-1]
    owner = np.repeat(np.arange(len(counts)), counts)
    centre_y, centre_phi = rng.normal(0, 1, len(counts)), rng.uniform(-np.pi, np.pi, len(counts))
    pt = rng.exponential(30.0, n) + 0.5
    y = centre_y[owner] + rng.normal(0, 0.25, n)
    phi = delta_phi(centre_phi[owner] + rng.normal(0, 0.25, n), 0.0)
    four = massless(pt, y, phi)
    ours = nsubjettiness(offsets, *four, n_max=5, betas=(1.0, 2.0))
    seq = fastjet.ClusterSequence(_jagged(offsets, *four), fastjet.JetDefinition(fastjet.antikt_algorithm, 10.0))
    for b, beta in enumerate((1.0, 2.0)):
        theirs = np.asarray(seq.njettiness(measure_definition="NormalizedMeasure", axes_definition="KT_Axes",
                                           njets=[1, 2, 3, 4, 5], beta=beta, R0=1.0)).reshape(len(counts), 5)
        assert np.allclose(ours[:, :, b], theirs, rtol=1e-9, atol=1e-12)


def test_one_pass_axes_reach_the_known_minimum():
    """A prong of one hard particle and soft ones around it: for beta = 1 the minimum of tau_1 puts the axis
    on the hard particle (a weighted geometric median sits on a point carrying at least half the weight),
    while the exclusive-kT axis is the momentum sum, pulled towards the soft particles."""
    pt = np.array([100.0, 10.0, 10.0, 10.0])
    y = np.array([0.0, 0.3, 0.25, 0.35])
    phi = np.array([0.0, 0.1, -0.05, 0.02])
    kt = taus_of([(pt, y, phi)], n_max=1, betas=(1.0,))[0, 0, 0]
    flat = massless(pt, y, phi)
    one_pass = nsubjettiness([0, 4], *flat, n_max=1, betas=(1.0,), axes="onepass_kt")[0, 0, 0]
    expected = np.sum(pt[1:] * np.hypot(y[1:], phi[1:])) / pt.sum()
    assert one_pass == pytest.approx(expected, rel=1e-3)
    assert one_pass < kt
    # beta = 2: the minimum is the pT-weighted centroid in (y, phi)
    tau2 = nsubjettiness([0, 4], *flat, n_max=1, betas=(2.0,), axes="onepass_kt")[0, 0, 0]
    cy, cphi = np.average(y, weights=pt), np.average(phi, weights=pt)
    assert tau2 == pytest.approx(np.sum(pt * ((y - cy) ** 2 + (phi - cphi) ** 2)) / pt.sum(), rel=1e-6)


def test_one_pass_axes_never_raise_tau_and_keep_the_kt_definition():
    rng = np.random.default_rng(5)
    jets = []
    for _ in range(30):
        n = int(rng.integers(2, 40))
        jets.append((rng.exponential(20.0, n) + 1.0, rng.normal(0, 0.3, n), rng.normal(0, 0.3, n)))
    counts = [len(j[0]) for j in jets]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    flat = massless(*[np.concatenate([j[k] for j in jets]) for k in range(3)])
    kt = nsubjettiness(offsets, *flat, n_max=4, betas=BETAS)
    one_pass = nsubjettiness(offsets, *flat, n_max=4, betas=BETAS, axes="onepass_kt")
    assert np.all(one_pass <= kt + 1e-12)
    assert np.all(one_pass[:, 0] <= kt[:, 0]) and np.any(one_pass < kt - 1e-6)
    # Only N <= ONEPASS_MAX_N (3) are minimised: tau4 keeps the kT axes, exactly.
    np.testing.assert_array_equal(one_pass[:, ONEPASS_MAX_N:], kt[:, ONEPASS_MAX_N:])
    assert np.any(one_pass[:, ONEPASS_MAX_N - 1] < kt[:, ONEPASS_MAX_N - 1] - 1e-6)
    with pytest.raises(ValueError, match="onepass_kt"):
        nsubjettiness(offsets, *flat, n_max=2, axes="wta")


@pytest.mark.parametrize("axes, contrib_axes, seed, rtol, atol", [
    ("onepass_kt", "OnePass_KT_Axes", 12, 2e-3, 1e-6),  # minimisations stop at a tolerance: agree to it
    ("wta_kt", "WTA_KT_Axes", 13, 1e-6, 1e-9),
])
def test_axes_agree_with_fastjet_contrib(axes, contrib_axes, seed, rtol, atol):
    """FastJet contrib's own axes of the same name, where the python binding offers them."""
    fastjet = pytest.importorskip("fastjet")
    from hepad.events.jets import _jagged

    rng = np.random.default_rng(seed)
    counts = rng.integers(3, 60, size=30)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n = offsets[-1]
    owner = np.repeat(np.arange(len(counts)), counts)
    pt = rng.exponential(30.0, n) + 0.5
    y = rng.normal(0, 1, len(counts))[owner] + rng.normal(0, 0.25, n)
    phi = delta_phi(rng.uniform(-np.pi, np.pi, len(counts))[owner] + rng.normal(0, 0.25, n), 0.0)
    four = massless(pt, y, phi)
    ours = nsubjettiness(offsets, *four, n_max=3, betas=(1.0,), axes=axes)
    seq = fastjet.ClusterSequence(_jagged(offsets, *four), fastjet.JetDefinition(fastjet.antikt_algorithm, 10.0))
    try:
        theirs = seq.njettiness(measure_definition="NormalizedMeasure", axes_definition=contrib_axes,
                                njets=[1, 2, 3], beta=1.0, R0=1.0)
    except Exception as err:  # noqa: BLE001  (the binding names what it offers)
        pytest.skip(f"fastjet's binding has no {contrib_axes}: {err}")
    theirs = np.asarray(theirs).reshape(len(counts), 3)
    assert np.allclose(ours[:, :, 0], theirs, rtol=rtol, atol=atol)


def test_wta_axes_follow_the_hardest_particle():
    """Winner-take-all recombination: a particle carrying more pT than all the others together wins every
    merge, so the one-subjet axis is exactly that particle and tau1 is the pT-weighted distance to it."""
    rng = np.random.default_rng(7)
    pt = np.r_[500.0, rng.uniform(1, 10, 20)]
    y = np.r_[0.3, 0.3 + rng.normal(0, 0.3, 20)]
    phi = np.r_[1.0, 1.0 + rng.normal(0, 0.3, 20)]
    tau = nsubjettiness([0, 21], *massless(pt, y, phi), n_max=2, betas=(1.0, 2.0), axes="wta_kt")
    dr = np.hypot(y - 0.3, phi - 1.0)
    assert tau[0, 0, 0] == pytest.approx((pt * dr).sum() / pt.sum(), rel=1e-9)
    assert tau[0, 0, 1] == pytest.approx((pt * dr**2).sum() / pt.sum(), rel=1e-9)
    # the E-scheme axis is the pT-weighted centre instead, off the hard particle: another tau1
    kt = nsubjettiness([0, 21], *massless(pt, y, phi), n_max=1, betas=(1.0,), axes="kt")
    assert abs(kt[0, 0, 0] - tau[0, 0, 0]) > 1e-4
