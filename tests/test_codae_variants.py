"""The CoDAE's latent variants: codae (deterministic), codvae (the paper's categorical latent, relaxed one-hot
with a uniform mixture prior) and gaussian_vae (ours); their KLs, training and scores, older model files."""

import numpy as np
import pytest
import torch

from hepad.codae.model import CoDAE, CoDAENet, kl_categorical, relaxed_one_hot
from hepad.io import InputError
from hepad.models.base import load_torch_state, save_torch_state

SHAPE = (1, 72, 58)
SMALL = dict(encoder_channels=(4, 8), latent_channels=8, fm_channels=(4, 8), decoder_channels=(8, 8, 4),
             batch_size=32, threads=1)


def masks(n, occupancy=0.03, seed=0):
    return (np.random.default_rng(seed).random((n,) + SHAPE) < occupancy).astype(np.float32)


def test_categorical_kl_to_the_uniform_mixture_prior():
    torch.manual_seed(0)
    logits = 3.0 * torch.randn(50, 8, 5, 4)
    kl = kl_categorical(logits)
    assert kl.shape == (50,) and (kl >= 0).all() and (kl > 0).all()
    # At most log K per position.
    assert (kl <= 20 * np.log(8) + 1e-4).all()
    # Posterior = prior: any constant logits give the uniform distribution.
    for const in (0.0, -7.5, 3.0):
        torch.testing.assert_close(kl_categorical(torch.full((3, 8, 5, 4), const)), torch.zeros(3), atol=1e-6, rtol=0)
    # A non-uniform prior: 0 where the posterior equals it, positive for the uniform posterior.
    prior = torch.softmax(torch.randn(1, 8, 1, 1), dim=1)
    torch.testing.assert_close(kl_categorical(torch.log(prior).expand(2, 8, 5, 4), prior), torch.zeros(2),
                               atol=1e-6, rtol=0)
    assert (kl_categorical(torch.zeros(2, 8, 5, 4), prior) > 0).all()
    # The closed form for one position: sum q log(q K).
    q = torch.softmax(logits[:1, :, :1, :1], dim=1)
    torch.testing.assert_close(kl_categorical(logits[:1, :, :1, :1]), (q * torch.log(q * 8)).sum().reshape(1))


def test_relaxed_one_hot_is_a_point_of_the_simplex_and_hardens_with_low_temperature():
    torch.manual_seed(1)
    logits = torch.randn(10, 6, 5, 4)
    for tau in (0.1, 1.0, 5.0):
        z = relaxed_one_hot(logits, tau, sample=True)
        torch.testing.assert_close(z.sum(1), torch.ones(10, 5, 4))
        assert (z >= 0).all()
    assert relaxed_one_hot(logits, 0.05).amax(1).mean() > 0.95
    torch.testing.assert_close(relaxed_one_hot(logits, 1.0, sample=False), torch.softmax(logits, 1))


def test_codvae_network_gives_categorical_logits():
    net = CoDAENet(SHAPE, (8, 16, 32), 16, (8,), 2, (16, 8), variant="codvae", tau=0.5)
    logits, zm, cat_logits, logvar = net(torch.from_numpy(masks(3)))
    assert logits.shape == (3,) + SHAPE and zm.shape == (3, 2)
    assert cat_logits.shape == (3, 16, 5, 4) and logvar is None


def test_codvae_trains_one_epoch_and_scores(tmp_path):
    model = CoDAE(variant="codvae", tau=0.7, epochs=1, seed=0, **SMALL)
    model.fit(masks(96, seed=1), masks(32, seed=2))
    assert len(model.history_) == 1 and np.isfinite(model.history_[0]["train_loss"])
    scores = model.score_samples(masks(20, seed=3))
    assert set(scores) == {"bce", "mse", "dice", "energy_diff", "zm1", "zm2", "zm_dist", "kl"}
    assert all(np.isfinite(v).all() and v.shape == (20,) for v in scores.values())
    assert (scores["kl"] >= 0).all() and (scores["kl"] <= 20 * np.log(8) + 1e-6).all()
    model.save(tmp_path / "codvae.pt")
    back = CoDAE.load(tmp_path / "codvae.pt")
    assert back.variant == "codvae" and back.tau == 0.7
    np.testing.assert_allclose(back.score_samples(masks(20, seed=3))["kl"], scores["kl"], rtol=1e-6)


def test_deterministic_codae_has_no_kl_and_gaussian_vae_has_one():
    x = masks(64, seed=4)
    codae = CoDAE(variant="codae", epochs=1, **SMALL).fit(x)
    assert "kl" not in codae.score_samples(x[:4])
    vae = CoDAE(variant="gaussian_vae", epochs=1, **SMALL).fit(x)
    assert (vae.score_samples(x[:4])["kl"] >= 0).all()
    assert CoDAE().variant == "codae"  # the paper's
    with pytest.raises(InputError, match="variant 'vae'"):
        CoDAE(variant="vae")
    with pytest.raises(InputError, match="tau"):
        CoDAE(variant="codvae", tau=0)


def test_model_files_of_before_the_variants_load(tmp_path):
    x = masks(64, seed=5)
    model = CoDAE(variant="codae", epochs=1, **SMALL).fit(x)
    model.save(tmp_path / "new.pt")
    state = load_torch_state(tmp_path / "new.pt", "a model", "retrain it", weights_only=False)
    params = state["params"]
    params.pop("variant"), params.pop("tau")
    params["variational"] = False  # the old boolean
    save_torch_state(tmp_path / "old.pt", state)
    old = CoDAE.load(tmp_path / "old.pt")
    assert old.variant == "codae"
    np.testing.assert_allclose(old.score_samples(x[:5])["bce"], model.score_samples(x[:5])["bce"], rtol=1e-6)
