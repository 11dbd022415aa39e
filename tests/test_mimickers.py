"""Image auto-encoder, HLN, PNN and the iterative selection on small toys."""

import numpy as np
import pytest

from hepad.metrics.ado import ado
from hepad.mimic.features import (background_splits, hardest_constituents, image_observables, log_floor,
                                  mimicker_inputs)
from hepad.mimic.selection import SelectionData, iterative_selection
from hepad.mimic.image_ae import ImageAutoEncoder
from hepad.mimic.mimickers import HighLevelNetwork, PairedNeuralNetwork, make_mimicker, pair_indices


def toy_observables(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    score = np.exp(x[:, 0] + 0.7 * x[:, 3] + 0.05 * rng.normal(size=n))  # depends on columns 0 and 3
    return x, score


def test_pair_indices_fixed_by_seed_and_distinct():
    a, b = pair_indices(100, 1000, 7), pair_indices(100, 1000, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, pair_indices(100, 1000, 8))
    assert np.all(a[:, 0] != a[:, 1]) and a.min() >= 0 and a.max() < 100


@pytest.mark.parametrize("cls", [HighLevelNetwork, PairedNeuralNetwork])
def test_mimicker_learns_the_ordering_and_round_trips(cls, tmp_path):
    x, score = toy_observables(3000, 1)
    extra = {"n_pairs": 20000} if cls is PairedNeuralNetwork else {}
    model = cls(hidden=(16, 16), epochs=15, seed=3, threads=1, **extra).fit(x[:2000], score[:2000])
    pred = model.predict(x[2000:])
    assert ado(pred, score[2000:]) > 0.9
    model.save(tmp_path / "m.pt")
    again = cls.load(tmp_path / "m.pt")
    assert np.array_equal(again.predict(x[2000:]), pred)


def test_mimicker_is_reproducible():
    x, score = toy_observables(800, 2)
    a = make_mimicker("pnn", hidden=(8,), epochs=2, n_pairs=2000, seed=5, threads=1).fit(x, score).predict(x)
    b = make_mimicker("pnn", hidden=(8,), epochs=2, n_pairs=2000, seed=5, threads=1).fit(x, score).predict(x)
    assert np.array_equal(a, b)


def test_image_ae_scores_anomalous_images_higher(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    bkg = np.zeros((n, 16, 16), np.float32)
    bkg[:, 7:9, 7:9] = rng.uniform(0.5, 1.5, (n, 2, 2))  # a central blob
    sig = np.zeros((50, 16, 16), np.float32)
    sig[:, 1:3, 12:14] = 1.0  # a blob in a corner
    bkg /= bkg.sum(axis=(1, 2), keepdims=True)
    sig /= sig.sum(axis=(1, 2), keepdims=True)
    ae = ImageAutoEncoder(bottleneck=4, epochs=6, batch_size=32, lr=3e-3, patience=5, seed=1, threads=1).fit(bkg)
    out = ae.reconstruct(bkg[:5])
    assert np.allclose(out.sum(axis=(1, 2)), 1.0, atol=1e-5)  # softmax over pixels
    s_bkg, s_sig = ae.predict(bkg), ae.predict(sig)
    assert np.median(s_sig) > np.median(s_bkg)
    ae.save(tmp_path / "ae.pt")
    assert np.allclose(ImageAutoEncoder.load(tmp_path / "ae.pt").predict(sig), s_sig)


def test_selection_picks_the_informative_observables():
    x, score = toy_observables(3000, 4)
    sig_x, sig_s = toy_observables(300, 5)
    sig_x[:, 0] += 1.5
    sp = background_splits(3000, 2 / 3, 0.5)
    names = ["m", "pt", "a", "b", "c", "d"]
    data = SelectionData(names, x[sp.train], score[sp.train], x[sp.select], score[sp.select], x[sp.test],
                         score[sp.test], {"toy": (sig_x, np.exp(sig_x[:, 0] + 0.7 * sig_x[:, 3]))})
    result = iterative_selection(data, lambda: make_mimicker("hln", hidden=(16, 16), epochs=15, threads=1),
                                 n_rounds=1)
    first = result["rounds"][0]
    assert first["added"] == "b"  # column 3: the only other observable the score depends on
    assert first["added_ado_misordered"] > 0.6
    assert result["rounds"][1]["ado_test"] > first["ado_test"] + 0.05
    assert result["rounds"][1]["auc"]["toy"] > 0.7


def test_hardest_constituents_and_inputs():
    from hepad.events.mimicker_io import JetSample

    s = JetSample(np.array([0, 3, 4]), np.array([1.0, 5.0, 3.0, 2.0]), np.zeros(4), np.zeros(4), np.zeros(4))
    h = hardest_constituents(s, 2)
    assert list(h.offsets) == [0, 2, 3] and list(h.pt) == [5.0, 3.0, 2.0]
    assert hardest_constituents(s, 0) is s
    x = mimicker_inputs(np.array([[1.0, 0.0], [np.e, 2.0]]))
    assert np.allclose(x, [[0.0, np.log(2.0)], [1.0, np.log(2.0)]])  # non-positive floored per column


def test_log_floor_is_fitted_once_on_training_and_applied_to_every_array():
    train = np.array([[1.0, 0.0], [np.e, 2.0], [3.0, 0.5]])
    floor = log_floor(train)
    assert np.allclose(floor, [1.0, 0.5])
    # a signal array whose own smallest positive value differs: an empty jet gets the training floor,
    # not the signal's own minimum, so the same jet maps to the same input in every array
    signal = np.array([[0.0, 0.0], [5.0, 4.0], [np.e, 3.0]])
    x = mimicker_inputs(signal, floor)
    assert np.allclose(x[0], np.log([1.0, 0.5]))
    assert not np.allclose(mimicker_inputs(signal)[0], x[0])  # refitting on the signal would differ
    assert np.allclose(mimicker_inputs(np.zeros((1, 2)), floor), x[[0]])  # alone or in an array: the same
    assert np.allclose(mimicker_inputs(train, floor), mimicker_inputs(train))  # training array: unchanged
    with pytest.raises(ValueError):
        mimicker_inputs(signal, floor[:1])


def test_selection_skips_monotone_copies_of_chosen_observables():
    x, score = toy_observables(1500, 6)
    x = np.column_stack([x, np.exp(x[:, 3]), x[:, 3] ** 3])  # two copies of column 3's ordering
    sp = background_splits(1500, 2 / 3, 0.5)
    names = ["m", "pt", "a", "b", "c", "d", "exp_b", "b_cubed"]
    data = SelectionData(names, x[sp.train], score[sp.train], x[sp.select], score[sp.select], x[sp.test],
                         score[sp.test], {})
    result = iterative_selection(data, lambda: make_mimicker("hln", hidden=(8,), epochs=5, threads=1), n_rounds=2)
    first, second = result["rounds"][0], result["rounds"][1]
    assert first["added"] in ("b", "exp_b", "b_cubed")
    assert sorted(second["skipped_redundant"]) == sorted({"b", "exp_b", "b_cubed"} - {first["added"]})
    assert second["added"] not in ("b", "exp_b", "b_cubed")


def test_selection_does_not_pick_the_reverse_of_the_mimickers_ordering():
    # a near copy of m, reversed, orders the pairs an m-only mimicker misorders "right": it must not win
    x, score = toy_observables(2400, 7)
    rng = np.random.default_rng(8)
    x = np.column_stack([x, x[:, 0] + 0.01 * rng.normal(size=len(x))])
    sp = background_splits(len(x), 2 / 3, 0.5)
    names = ["m", "pt", "a", "b", "c", "d", "m_like"]
    data = SelectionData(names, x[sp.train], score[sp.train], x[sp.select], score[sp.select], x[sp.test],
                         score[sp.test], {})
    result = iterative_selection(data, lambda: make_mimicker("hln", hidden=(16, 16), epochs=15, threads=1),
                                 n_rounds=1)
    assert result["rounds"][0]["added"] == "b"
    assert result["rounds"][0]["added_sign"] == 1


def test_image_ae_architectures_and_files_without_the_setting(tmp_path):
    import torch

    rng = np.random.default_rng(1)
    images = rng.uniform(size=(40, 16, 16)).astype(np.float32)
    images /= images.sum(axis=(1, 2), keepdims=True)
    sizes = {}
    for arch in ("paper", "deep"):
        ae = ImageAutoEncoder(architecture=arch, bottleneck=4, epochs=1, batch_size=16, threads=1).fit(images)
        assert np.allclose(ae.reconstruct(images[:3]).sum(axis=(1, 2)), 1.0, atol=1e-5)
        sizes[arch] = sum(p.numel() for p in ae.model_.parameters())
        assert ae.get_params()["architecture"] == arch
    # the paper's network: 5-channel convolutions at full and half resolution, a 1-channel 8 x 8 map
    assert sizes["paper"] < sizes["deep"]
    # a model file written before the setting existed holds the deep network and no learning-rate drop
    ae.save(tmp_path / "deep.pt")
    state = torch.load(tmp_path / "deep.pt", weights_only=False)
    for key in ("architecture", "lr_patience"):
        del state["params"][key]
    torch.save(state, tmp_path / "old.pt")
    old = ImageAutoEncoder.load(tmp_path / "old.pt")
    assert old.architecture == "deep" and old.lr_patience == 0
    assert np.allclose(old.predict(images), ae.predict(images))
    with pytest.raises(ValueError, match="architecture"):
        ImageAutoEncoder(architecture="vgg")


def jet_like_images(n, side, seed):
    """Unit-sum images of one to three Gaussian prongs at random places, mostly empty like jet images."""
    rng = np.random.default_rng(seed)
    grid = np.arange(side) - side / 2
    images = np.zeros((n, side, side), np.float32)
    for image in images:
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.normal(scale=side / 8, size=2)
            image += rng.exponential() * np.exp(-((grid[:, None] - cy) ** 2 + (grid[None, :] - cx) ** 2) / 2)
    return images / images.sum(axis=(1, 2), keepdims=True)


def test_paper_ae_starts_with_a_latent_code_that_depends_on_the_image():
    """With PyTorch's default initialisation the biases drowned the unit-sum input in the paper's six
    convolutions (latent code 0.15 % apart across QCD jets) and training stalled on the mean image; the
    Keras initialisation (Glorot weights, zero biases) of the published code keeps it apart (66 %)."""
    import torch
    from torch import nn

    from hepad.mimic.image_ae import ARCHITECTURES

    x = torch.tensor(jet_like_images(256, 40, seed=3))[:, None]
    for seed in range(3):
        torch.manual_seed(seed)
        net = ARCHITECTURES["paper"](40, 32)
        assert all(not layer.bias.any() for layer in net.modules()
                   if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)))
        with torch.no_grad():
            z = net.encoder(x)
        assert (z.std(dim=0).mean() / z.abs().mean()).item() > 0.1
        # PyTorch's own default on the same network: the code hardly depends on the image
        for layer in net.modules():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                layer.reset_parameters()
        with torch.no_grad():
            z = net.encoder(x)
        assert (z.std(dim=0).mean() / z.abs().mean()).item() < 0.02


def test_hln_rank_target_keeps_only_the_ordering():
    x, score = toy_observables(1200, 9)
    t = HighLevelNetwork.rank_target(score)
    assert ado(t, score) == 1.0 and abs(np.mean(t)) < 1e-9 and 0.95 < np.std(t) < 1.05  # normal scores
    assert np.allclose(HighLevelNetwork.rank_target(score ** 3 + 7), t)  # any monotonic map: the same target
    model = HighLevelNetwork(target="rank", hidden=(16, 16), epochs=25, lr=3e-3, seed=2, threads=1)
    model.fit(x[:800], score[:800])
    assert ado(model.predict(x[800:]), score[800:]) > 0.85
    assert model.get_params()["target"] == "rank"
    with pytest.raises(ValueError, match="target"):
        HighLevelNetwork(target="sqrt")


def test_selection_stops_when_the_selection_ado_stops_rising():
    x, score = toy_observables(2400, 4)
    sp = background_splits(len(x), 2 / 3, 0.5)
    names = ["m", "pt", "a", "b", "c", "d"]
    data = SelectionData(names, x[sp.train], score[sp.train], x[sp.select], score[sp.select], x[sp.test],
                         score[sp.test], {})
    result = iterative_selection(data, lambda: make_mimicker("hln", hidden=(16, 16), epochs=15, lr=3e-3, threads=1),
                                 n_rounds=3, min_gain=0.005)
    rounds = result["rounds"]
    # adding b (the score's other input) raises the ADO a lot; the next, pure noise, does not: dropped
    assert [r["features"][-1] for r in rounds] == ["pt", "b"]
    assert rounds[1]["ado_select"] > rounds[0]["ado_select"] + 0.05
    assert "added" not in rounds[-1]
    stop = result["stopped"]
    assert stop["round"] == 2 and stop["added"] in ("a", "c", "d")
    assert stop["ado_select"] < rounds[1]["ado_select"] + 0.005
    assert "stopped" not in iterative_selection(data, lambda: make_mimicker("hln", hidden=(8,), epochs=2, threads=1),
                                                n_rounds=1)


def test_image_observables_of_unit_sum_images():
    images = np.zeros((2, 4, 4))
    images[0, 1, 1] = 1.0  # one pixel: sum p^2 = 1, one non-empty pixel
    images[1, :2, :2] = 0.25  # four equal pixels: sum p^2 = 4 / 16
    assert np.allclose(image_observables(images), [[1.0, 1.0], [0.25, 4.0]])


def test_select_mimicker_can_choose_an_image_observable(tmp_path, repo_root):
    # The AE score is the image's pT dispersion, which no column of the feature file carries: with
    # --image-observables the first round adds sum_p2; without it, it cannot.
    import h5py
    import json
    import subprocess
    import sys

    from hepad.events.efps import feature_names
    from hepad.mimic.features import write_features

    rng = np.random.default_rng(3)
    n_names = len(feature_names())

    def sample(n, path):
        images = rng.random((n, 8, 8)) * (rng.random((n, 1, 1)) > rng.random((n, 8, 8)))
        images[:, 0, 0] += 1e-3  # no empty image
        images /= images.sum(axis=(1, 2), keepdims=True)
        write_features(path, images.astype(np.float32), rng.lognormal(size=(n, n_names)))
        return image_observables(images.astype(np.float32))[:, 0]

    with h5py.File(tmp_path / "scores.h5", "w") as f:
        f["background"] = sample(900, tmp_path / "qcd.h5")
        f["toy"] = sample(100, tmp_path / "toy.h5") * 1.5
    records = {}
    for flag in ([], ["--image-observables"]):
        out = tmp_path / f"sel{len(flag)}.json"
        cmd = [sys.executable, str(repo_root / "scripts/select_mimicker.py"), "--kind", "hln",
               "--background", str(tmp_path / "qcd.h5"), "--signals", f"toy={tmp_path / 'toy.h5'}",
               "--ae-scores", str(tmp_path / "scores.h5"), "--rounds", "1", "--min-gain", "0",
               "--train-fraction", "0.6667", "--select-fraction", "0.5", "--param", "hidden=[8]",
               "--param", "epochs=3", *flag, "--output", str(out)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        records[bool(flag)] = json.loads(out.read_text())
    assert records[True]["image_observables"] and not records[False]["image_observables"]
    assert records[True]["rounds"][0]["added"] == "sum_p2"
    assert records[False]["rounds"][0]["added"] not in ("sum_p2", "n_pixels")
