"""Jet-image preprocessing on constructed jets."""

import numpy as np
import pytest

from hepad.events.jet_images import align_constituents, hardest_index, jet_images, pixelate


def two_prong(eta0=0.4, phi0=3.0, d_eta=0.3, d_phi=0.4, pts=(300.0, 100.0)):
    """Leading prong at (eta0, phi0), second prong at distance 0.5 along (0.6, 0.8), each prong two
    close particles; phi0 near pi so the second prong sits across the -pi/pi seam."""
    p1, p2 = pts
    pt = np.array([0.75 * p1, 0.25 * p1, 0.6 * p2, 0.4 * p2])
    eta = np.array([eta0, eta0 + 0.01, eta0 + d_eta, eta0 + d_eta - 0.01])
    phi = np.array([phi0, phi0 - 0.01, phi0 + d_phi, phi0 + d_phi + 0.01])
    phi = np.mod(phi + np.pi, 2 * np.pi) - np.pi
    return np.array([0, 4]), pt, eta, phi


def prong_centres(pt, x, y):
    return [(np.average(x[s], weights=pt[s]), np.average(y[s], weights=pt[s])) for s in (slice(0, 2), slice(2, 4))]


def test_hardest_centring_puts_second_prong_on_the_vertical_axis():
    off, pt, eta, phi = two_prong()
    x, y = align_constituents(off, pt, eta, phi, center="hardest")
    assert (x[0], y[0]) == pytest.approx((0.0, 0.0), abs=1e-12)  # hardest particle at the origin
    (x1, y1), (x2, y2) = prong_centres(pt, x, y)
    assert np.hypot(x1, y1) < 0.01  # leading prong centred
    assert abs(x2) < 0.02  # second prong on the vertical axis ...
    assert y2 == pytest.approx(0.5, abs=0.02)  # ... at its distance, on the positive side


def test_ptscheme_centres_the_centroid_and_aligns_both_prongs():
    off, pt, eta, phi = two_prong()
    x, y = align_constituents(off, pt, eta, phi, center="ptscheme")
    assert np.average(x, weights=pt) == pytest.approx(0, abs=1e-12)
    assert np.average(y, weights=pt) == pytest.approx(0, abs=1e-12)
    (x1, y1), (x2, y2) = prong_centres(pt, x, y)
    assert abs(x1) < 0.01 and abs(x2) < 0.01
    # the leading prong is on the heavier (positive) side, a quarter of the separation from the centre
    assert y1 == pytest.approx(0.5 * 100 / 400, abs=0.01)
    assert y2 == pytest.approx(-0.5 * 300 / 400, abs=0.01)


def test_alignment_is_invariant_under_rotation_and_translation():
    off, pt, eta, phi = two_prong(eta0=-1.0, phi0=0.2)
    a = np.deg2rad(73)
    eta2 = 0.7 + np.cos(a) * eta - np.sin(a) * phi
    phi2 = np.mod(np.sin(a) * eta + np.cos(a) * phi - 2.0 + np.pi, 2 * np.pi) - np.pi
    for center in ("ptscheme", "hardest"):
        x, y = align_constituents(off, pt, eta, phi, center=center)
        x2, y2 = align_constituents(off, pt, eta2, phi2, center=center)
        assert np.allclose(x, x2, atol=1e-9) and np.allclose(y, y2, atol=1e-9)


def test_images_unit_sum_and_pixel_positions():
    off, pt, eta, phi = two_prong()
    img = jet_images(off, pt, eta, phi, n_pixels=40, width=2.0, center="hardest")
    assert img.shape == (1, 40, 40)
    assert img.sum() == pytest.approx(1.0, rel=1e-6)
    # second prong (1/4 of the pT) at phi' = +0.5: rows 29-30 (0.05 per pixel), column 19/20 at eta' ~ 0
    assert img[0, 29:31, 19:21].sum() == pytest.approx(0.25, rel=1e-5)
    assert img[0, 19:21, 19:21].sum() == pytest.approx(0.75, rel=1e-5)


def test_batch_equals_one_by_one_and_outside_dropped():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 30, 50)
    off = np.r_[0, np.cumsum(counts)]
    pt, eta, phi = rng.exponential(5, off[-1]), rng.normal(0, 0.5, off[-1]), rng.uniform(-np.pi, np.pi, off[-1])
    batch = jet_images(off, pt, eta, phi, chunk_jets=7)
    for k in (0, 13, 49):
        s = slice(off[k], off[k + 1])
        single = jet_images(np.array([0, counts[k]]), pt[s], eta[s], phi[s])
        assert np.allclose(batch[k], single[0])
    sums = batch.sum(axis=(1, 2))
    assert np.all((np.abs(sums - 1) < 1e-5) | (sums == 0))
    assert np.all(sums[counts == 0] == 0)
    assert hardest_index(np.array([0, 0, 2]), np.array([1.0, 3.0]))[0] == -1


def test_pixelate_drops_outside():
    img = pixelate(np.array([0, 2]), np.array([1.0, 1.0]), np.array([0.0, 1.5]), np.array([0.0, 0.0]), normalise=False)
    assert img.sum() == 1.0
