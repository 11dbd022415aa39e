"""Detector images: pixel and channel of constructed particles, the x5 sum, the image file."""

import numpy as np
import pytest

from hepad.events.images import (ImageGrid, binarise, downsample, event_images, fine_images, read_images,
                                 write_images)

GRID = ImageGrid()  # the paper's 286 x 360 -> 72 x 58


def one_event(pt, eta, phi, channel):
    return (np.array([0, len(pt)]), np.asarray(pt, float), np.asarray(eta, float), np.asarray(phi, float),
            np.asarray(channel, np.int8))


def test_grid_shape_and_padding_of_the_paper():
    assert GRID.shape == (3, 72, 58)
    assert GRID.pad == ((0, 0), (2, 2))  # 286 -> 290 in eta, 360 already a multiple of 5


def test_single_particle_lands_in_its_pixel_and_channel():
    # eta = 0.1: fine pixel floor((0.1 + 2.5) / 5 * 286) = 148; phi = 1.0: floor((1 + pi) / 2pi * 360) = 237.
    fine = fine_images(*one_event([123.5], [0.1], [1.0], [1]), GRID)  # ECAL -> image channel 1
    assert fine.shape == (1, 3, 360, 286)
    nz = np.argwhere(fine)
    np.testing.assert_array_equal(nz, [[0, 1, 237, 148]])
    assert fine[0, 1, 237, 148] == pytest.approx(123.5)
    coarse = event_images(*one_event([123.5], [0.1], [1.0], [1]), GRID)
    # Coarse pixel: phi 237 // 5 = 47, eta (148 + 2 padding) // 5 = 30.
    np.testing.assert_array_equal(np.argwhere(coarse), [[0, 1, 47, 30]])
    assert coarse[0, 1, 47, 30] == pytest.approx(123.5)


def test_channels_follow_the_object_kind_and_selection():
    grid = ImageGrid(channels=("hcal", "track"))
    img = event_images(*one_event([10, 20, 30], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0, 1, 2]), grid)
    assert img.shape == (1, 2, 72, 58)
    assert img[0, 0].sum() == pytest.approx(30)  # HCAL first
    assert img[0, 1].sum() == pytest.approx(10)  # track second, ECAL not imaged


def test_outside_acceptance_dropped_and_phi_wraps():
    img = event_images(*one_event([5, 7, 9], [2.6, -3.0, 0.0], [0.0, 0.0, 3 * np.pi], [0, 0, 0]), GRID)
    assert img.sum() == pytest.approx(9)
    # phi = 3 pi is phi = pi -> the first fine phi pixel (pixel 0 starts at -pi).
    assert img[0, 0, 0].sum() == pytest.approx(9)


def test_sum_by_five_preserves_totals_and_matches_direct_binning():
    rng = np.random.default_rng(3)
    n_events, per = 20, 300
    offsets = np.arange(n_events + 1) * per
    pt = rng.exponential(5.0, n_events * per)
    eta = rng.uniform(-2.6, 2.6, n_events * per)
    phi = rng.uniform(-np.pi, np.pi, n_events * per)
    channel = rng.integers(0, 3, n_events * per).astype(np.int8)
    fine = fine_images(offsets, pt, eta, phi, channel, GRID)
    coarse = downsample(fine, GRID)
    assert coarse.shape == (n_events, 3, 72, 58)
    np.testing.assert_allclose(coarse.sum(axis=(2, 3)), fine.sum(axis=(2, 3)), rtol=1e-5)
    inside = np.abs(eta) < 2.5
    totals = np.bincount(np.repeat(np.arange(n_events), per)[inside], weights=pt[inside], minlength=n_events)
    np.testing.assert_allclose(coarse.sum(axis=(1, 2, 3)), totals, rtol=1e-5)
    np.testing.assert_allclose(event_images(offsets, pt, eta, phi, channel, GRID), coarse, rtol=1e-5, atol=1e-4)


def test_odd_padding_and_other_factor():
    grid = ImageGrid(n_eta=13, n_phi=12, factor=4)
    assert grid.shape == (3, 3, 4) and grid.pad == ((0, 0), (1, 2))
    fine = np.ones((1, 3, 12, 13), np.float32)
    assert downsample(fine, grid).sum() == pytest.approx(3 * 12 * 13)


def test_image_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.exponential(1.0, (10, 3, 72, 58)).astype(np.float32) * (rng.random((10, 3, 72, 58)) < 0.05)
    events = {"label": np.arange(10) % 2, "mass": np.full(10, 2100.0), "ntracks": np.arange(10),
              "jet1_pt": np.ones(10), "jet2_pt": np.ones(10), "met": np.zeros(10)}
    path = tmp_path / "img.h5"
    pieces = [(images[:4], {k: v[:4] for k, v in events.items()}), (images[4:], {k: v[4:] for k, v in events.items()})]
    write_images(path, iter(pieces), GRID, {"process": "svj_2100"}, n_events=10, block=3)
    back = read_images(path)
    np.testing.assert_array_equal(back.images, images)
    np.testing.assert_array_equal(back.events["ntracks"], np.arange(10))
    mask = read_images(path, channels=["track"], index=np.array([1, 3, 8]), transform=binarise, block=2)
    assert mask.images.dtype == np.uint8 and mask.images.shape == (3, 1, 72, 58)
    np.testing.assert_array_equal(mask.images[:, 0], images[[1, 3, 8], 0] > 0)
    # A threshold keeps the pixels whose summed pT exceeds it, and only those.
    hard = read_images(path, channels=["track"], transform=lambda im: binarise(im, threshold=1.5))
    np.testing.assert_array_equal(hard.images[:, 0], images[:, 0] > 1.5)
    assert 0 < hard.images.sum() < (images[:, 0] > 0).sum()
    np.testing.assert_array_equal(mask.events["ntracks"], [1, 3, 8])
