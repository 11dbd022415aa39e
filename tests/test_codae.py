"""CoDAE and image baselines: shapes, augmentation, one-batch overfit, scores, save/load, ONNX export."""

import numpy as np
import pytest
import torch

from hepad.codae.model import CoDAE, CoDAENet, augment, export_fm_onnx, kl_standard_normal, onnx_session
from hepad.codae.baselines import CNNClassifier, ConvAutoEncoder, n_tracks_score

SHAPE = (1, 72, 58)


def masks(n, occupancy=0.03, seed=0):
    return (np.random.default_rng(seed).random((n,) + SHAPE) < occupancy).astype(np.float32)


@pytest.mark.parametrize("decoder", [(64, 32, 16, 8, 4), (64, 32, 16, 8), (64, 32, 16), (64,)])
def test_network_shapes_follow_the_paper(decoder):
    # Every decoder depth, down to the pixel shuffle from the latent's resolution, gives the full image.
    net = CoDAENet(SHAPE, (8, 16, 32), 64, (8, 16, 32, 32), 2, decoder, variational=True)
    logits, zm, mu, logvar = net(torch.from_numpy(masks(3)))
    assert logits.shape == (3,) + SHAPE
    assert zm.shape == (3, 2)
    assert mu.shape == logvar.shape == (3, 64, 5, 4)  # Z is 5 x 4 x 64
    assert net.decoder.shuffle == 2 ** (5 - len(decoder))


@pytest.mark.parametrize("decoder", [(), (64, 32, 16, 8, 4, 2)])
def test_decoder_depth_is_checked(decoder):
    with pytest.raises(ValueError, match="1 to 5 entries"):
        CoDAENet(SHAPE, (8, 16, 32), 64, (8,), 2, decoder, variational=False)


def test_pixel_shuffle_output_puts_each_sub_pixel_in_its_place():
    # Decoder stopping at 36 x 29: output channel 2*r + c of cell (i, j) is image pixel (2i + r, 2j + c).
    net = CoDAENet(SHAPE, (8, 16, 32), 8, (8,), 2, (8, 8, 8, 8), variational=False)
    dec = net.decoder
    captured = {}
    dec.out.register_forward_hook(lambda mod, inp, out: captured.setdefault("cells", out))
    logits = net(torch.from_numpy(masks(2)))[0]
    cells = captured["cells"]
    assert cells.shape == (2, 4, 36, 29)
    for r in range(2):
        for c in range(2):
            torch.testing.assert_close(logits[:, 0, r::2, c::2], cells[:, 2 * r + c])


def test_augmentation_is_a_flip_and_roll_of_each_image():
    x = torch.from_numpy(masks(16, seed=1))
    out = augment(x, torch.Generator().manual_seed(0))
    assert torch.equal(out.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    changed = 0
    for a, b in zip(x, out):
        candidates = [torch.roll(c, s, dims=1) for c in (a, a.flip(-1)) for s in range(72)]
        assert any(torch.equal(b, c) for c in candidates)
        changed += not torch.equal(a, b)
    assert changed >= 12  # 1/144 chance per image of the identity


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zero = torch.zeros(2, 4, 5, 4)
    assert torch.allclose(kl_standard_normal(zero, zero), torch.zeros(2))
    assert (kl_standard_normal(zero + 1.0, zero) == 0.5 * 80).all()


def blobs(n, seed):
    """Images with two filled disks of radius 5 at random places: structure an auto-encoder can learn."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:72, :58]
    out = np.zeros((n,) + SHAPE, np.float32)
    for i in range(n):
        for _ in range(2):
            cy, cx = rng.integers(8, 64), rng.integers(8, 50)
            out[i, 0][(yy - cy) ** 2 + (xx - cx) ** 2 <= 25] = 1
    return out


def test_one_batch_overfit_loss_falls_well_below_its_start():
    x = blobs(16, seed=2)
    model = CoDAE(batch_size=16, epochs=80, lr=3e-3, augment=False, variational=False, seed=0, threads=1)
    model.fit(x)
    losses = [h["train_loss"] for h in model.history_]
    # Start: the BCE of the occupancy prior (~0.17 per pixel); a memorised batch: a small fraction of it.
    assert losses[0] > 0.1
    assert min(losses) < 0.25 * losses[0], losses[::10]


@pytest.fixture(scope="module")
def fitted():
    # QCD-like: few hits; the "signal" has many more, which every reconstruction score must notice. The CoDVAE
    # (a default variant) has every score, its KL included.
    model = CoDAE(variant="codvae", batch_size=64, epochs=3, seed=0, threads=1)
    model.fit(masks(256, 0.02, seed=3), masks(64, 0.02, seed=4))
    return model


def test_scores_have_every_name_and_rank_busy_images_higher(fitted):
    bkg, sig = masks(100, 0.02, seed=5), masks(100, 0.10, seed=6)
    s_bkg, s_sig = fitted.score_samples(bkg), fitted.score_samples(sig)
    assert set(s_bkg) == {"bce", "mse", "dice", "energy_diff", "zm1", "zm2", "zm_dist", "kl"}
    for name, values in s_bkg.items():
        assert values.shape == (100,) and np.isfinite(values).all(), name
    assert np.median(s_sig["bce"]) > np.median(s_bkg["bce"])
    assert np.median(s_sig["energy_diff"]) > np.median(s_bkg["energy_diff"])
    # Z_m components are oriented to grow with the number of hits (label-free, fitted on the training set).
    assert np.mean(s_sig["zm1"]) >= np.mean(s_bkg["zm1"]) or np.mean(s_sig["zm2"]) >= np.mean(s_bkg["zm2"])


def test_save_load_gives_identical_scores(fitted, tmp_path):
    x = masks(20, seed=7)
    fitted.save(tmp_path / "codae.pt")
    back = CoDAE.load(tmp_path / "codae.pt")
    a, b = fitted.score_samples(x), back.score_samples(x)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-6, atol=1e-9)
    assert back.history_ == fitted.history_


def test_onnx_fm_equals_torch(fitted, tmp_path):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "f_m.onnx"
    export_fm_onnx(fitted, path)
    session = onnx_session(path, threads=1)
    x = masks(9, seed=8)
    torch_zm = fitted.encode_m(x)
    onnx_zm = np.concatenate([session.run(None, {"image": x[i:i + 1]})[0] for i in range(len(x))])
    np.testing.assert_allclose(onnx_zm, torch_zm, atol=1e-5)
    onnx_batch = session.run(None, {"image": x})[0]
    np.testing.assert_allclose(onnx_batch, torch_zm, atol=1e-5)


def test_plain_autoencoder_has_only_reconstruction_scores(tmp_path):
    model = ConvAutoEncoder(batch_size=64, epochs=1, threads=1).fit(masks(64, seed=9))
    scores = model.score_samples(masks(5, seed=10))
    assert set(scores) == {"bce", "mse", "dice", "energy_diff"}
    model.save(tmp_path / "ae.pt")
    np.testing.assert_allclose(ConvAutoEncoder.load(tmp_path / "ae.pt").score_samples(masks(5, seed=10))["bce"],
                               scores["bce"], rtol=1e-6)


def test_supervised_cnn_separates_an_easy_toy(tmp_path):
    rng = np.random.default_rng(11)
    n = 200
    y = (np.arange(n) % 2).astype(float)
    x = rng.exponential(1.0, (n, 3, 72, 58)).astype(np.float32) * (rng.random((n, 3, 72, 58)) < 0.02)
    x[y == 1, 0, 30:40, 20:30] += 50.0  # a bright blob in the signal's track channel
    model = CNNClassifier(channels=(8, 16), hidden=16, epochs=4, batch_size=32, lr=3e-3, threads=1)
    model.fit(x[:150], y[:150], x[150:], y[150:])
    p = model.predict_proba(x[150:])
    assert p.shape == (50,) and ((p >= 0) & (p <= 1)).all()
    from hepad.metrics.sic import auc
    assert auc(p, y[150:]) > 0.95
    model.save(tmp_path / "cnn.pt")
    np.testing.assert_allclose(CNNClassifier.load(tmp_path / "cnn.pt").predict_proba(x[150:]), p, rtol=1e-6)
    with pytest.raises(Exception, match="both signal and background"):
        CNNClassifier(epochs=1).fit(x[:10], np.zeros(10))


def test_n_tracks_score_is_the_count():
    np.testing.assert_array_equal(n_tracks_score([3, 1, 2]), [3.0, 1.0, 2.0])


def test_fit_twice_in_one_process_gives_the_same_model():
    # The initial weights follow the seed, not the random state earlier work left behind.
    x, x_val = masks(96, seed=12), masks(32, seed=13)
    runs = []
    for _ in range(2):
        torch.randn(7)  # disturb the global random state between the fits
        model = CoDAE(batch_size=32, epochs=2, seed=3, threads=1).fit(x, x_val)
        runs.append((model.history_, model.score_samples(x_val)))
    assert [h["train_loss"] for h in runs[0][0]] == [h["train_loss"] for h in runs[1][0]]
    for key in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][key], runs[1][1][key])
    rng = np.random.default_rng(14)
    y = (np.arange(64) % 2).astype(float)
    x_cnn = rng.random((64, 3, 72, 58)).astype(np.float32)
    probs = []
    for _ in range(2):
        torch.randn(7)
        cnn = CNNClassifier(channels=(4,), hidden=4, epochs=1, batch_size=32, seed=3, threads=1)
        probs.append(cnn.fit(x_cnn, y).predict_proba(x_cnn))
    np.testing.assert_array_equal(probs[0], probs[1])
