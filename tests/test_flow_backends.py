"""The density estimators behind ConditionalFlow side by side: hand-written MAF, zuko MAF, zuko NSF and the
conditional flow-matching model (CFM)."""

import numpy as np
import pytest
import torch
from scipy import stats

from hepad.models.flows import ConditionalFlow

pytest.importorskip("zuko")

ESTIMATORS = {"made-maf": dict(implementation="made"), "zuko-maf": dict(implementation="zuko"),
              "zuko-nsf": dict(kind="nsf"), "cfm": dict(kind="cfm")}
A, SIGMA = 0.8, 0.2  # the toy: x | m ~ N(A m, SIGMA)
SMALL = dict(n_blocks=2, hidden=16, threads=1, device="cpu")


def _toy(n, seed=0):
    """x | m ~ N(A m, SIGMA), m uniform in (-1, 1)."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(-1, 1, n)
    return (A * m + SIGMA * rng.standard_normal(n))[:, None], m


def _fit_toy(name):
    x, m = _toy(24_000)
    flow = ConditionalFlow(n_features=1, max_epochs=20, batch_size=512, lr=5e-3, lr_schedule="cosine", n_ensemble=3,
                           seed=0, **SMALL, **ESTIMATORS[name])
    return flow.fit(x[:20_000], m[:20_000], x[20_000:], m[20_000:])


@pytest.fixture(scope="module")
def cfm():
    return _fit_toy("cfm")


@pytest.fixture(scope="module", params=list(ESTIMATORS))
def fitted(request):
    return request.getfixturevalue("cfm") if request.param == "cfm" else _fit_toy(request.param)


def test_density_integrates_to_one_on_a_grid(fitted):
    grid = np.linspace(-3, 3, 1201)  # the toy's x lie within 0.8 +- 1 (5 sigma): 9 sigma and more
    for m0 in (-0.6, 0.0, 0.5):
        density = np.exp(fitted.log_prob(grid[:, None], np.full(len(grid), m0)))
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=0.01), m0


def test_samples_pass_ks_against_the_known_gaussian(fitted):
    for m0 in (-0.5, 0.5):
        samples = fitted.sample(np.full(2000, m0), seed=7)[:, 0]
        assert stats.kstest(samples, stats.norm(A * m0, SIGMA).cdf).pvalue > 0.01, m0


def test_cfm_ode_likelihood_agrees_with_the_histogram_of_its_samples(cfm):
    # The density (ODE backwards with the divergence) and the sampler (ODE forwards) are separate
    # integrations of one vector field: the density must predict the histogram of the samples.
    n, m0 = 20_000, 0.3
    samples = cfm.sample(np.full(n, m0), seed=11)[:, 0]
    edges = np.linspace(A * m0 - 3.5 * SIGMA, A * m0 + 3.5 * SIGMA, 36)
    observed, _ = np.histogram(samples, edges)
    fine = np.linspace(edges[0], edges[-1], 35 * 8 + 1)  # 8 trapezoids per bin
    density = np.exp(cfm.log_prob(fine[:, None], np.full(len(fine), m0)))
    expected = n * np.array([np.trapezoid(density[8 * i:8 * i + 9], fine[8 * i:8 * i + 9]) for i in range(35)])
    keep = expected > 10
    assert keep.sum() >= 25
    chi2 = float((((observed - expected) ** 2 / expected)[keep]).sum())
    assert stats.chi2(keep.sum()).sf(chi2) > 1e-3, (chi2, keep.sum())
    # A density of the wrong width would fail the same comparison.
    wrong = n * np.diff(stats.norm(A * m0, 1.1 * SIGMA).cdf(edges))
    assert stats.chi2(keep.sum()).sf(float((((observed - wrong) ** 2 / wrong)[keep]).sum())) < 1e-3


def test_cfm_history_and_validation_nll(cfm):
    x, m = _toy(24_000)
    assert {"train_loss", "val_loss"} <= set(cfm.history_[0])  # the flow-matching loss, not an NLL
    assert cfm.ensemble_val_nll_[0] == min(h["val_loss"] for h in cfm.history_)
    # best_val_nll_ is the ODE likelihood of the best epoch on the validation data, near the true one.
    lp = cfm.log_prob(x[20_000:], m[20_000:], ensemble=False)
    assert cfm.best_val_nll_ == pytest.approx(-lp.mean(), abs=1e-9)
    true = stats.norm(A * m[20_000:], SIGMA).logpdf(x[20_000:, 0])
    assert abs(cfm.best_val_nll_ + true.mean()) < 0.02


def test_cfm_latent_map_inverts_sampling(cfm):
    x, m = _toy(500, seed=9)
    z = cfm.latent(x, m)
    assert abs(z.std() - 1.0) < 0.15 and abs(z.mean()) < 0.15  # the toy maps onto the standard normal
    with cfm._no_autograd():
        net = cfm._member(0, torch.device("cpu"))
        back = net.sample_from_noise(torch.as_tensor(z, dtype=torch.float32),
                                     torch.as_tensor(m[:, None], dtype=torch.float32))
    np.testing.assert_allclose(back.numpy()[:, 0], x[:, 0], atol=5e-3)
    # log_prob still works after the latent map built the network (no inference tensors kept).
    assert np.isfinite(cfm.log_prob(x[:10], m[:10])).all()


def test_cfm_resume_after_interruption_gives_identical_result(tmp_path, monkeypatch):
    x, m = _toy(3000, seed=5)
    make = lambda: ConditionalFlow(n_features=1, max_epochs=4, n_ensemble=2, seed=3, batch_size=256,  # noqa: E731
                                   lr=3e-3, kind="cfm", cfm_hidden=16, cfm_layers=2, threads=1, device="cpu")
    reference = make().fit(x[:2500], m[:2500], x[2500:], m[2500:])
    calls = {"n": 0}
    original = ConditionalFlow._fm_val_loss

    def killed_in_epoch_3(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(ConditionalFlow, "_fm_val_loss", killed_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        make().fit(x[:2500], m[:2500], x[2500:], m[2500:], checkpoint_path=tmp_path / "ckpt.pt")
    monkeypatch.setattr(ConditionalFlow, "_fm_val_loss", original)
    resumed = make().fit(x[:2500], m[:2500], x[2500:], m[2500:], checkpoint_path=tmp_path / "ckpt.pt")
    assert resumed.history_ == reference.history_  # the noise of epochs 3 and 4 is drawn as without the kill
    for a, b in zip(resumed.ensemble_, reference.ensemble_):
        for key in a:
            assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_save_load_and_same_seed_same_model(name, tmp_path):
    rng = np.random.default_rng(3)
    c = rng.normal(size=2000)
    x = np.column_stack([c + rng.normal(size=2000), rng.exponential(size=2000), rng.normal(size=2000)])
    make = lambda: ConditionalFlow(n_features=3, max_epochs=2, n_ensemble=2, seed=5, batch_size=256,  # noqa: E731
                                   lr=3e-3, **SMALL, **ESTIMATORS[name])
    flow = make().fit(x[:1600], c[:1600], x[1600:], c[1600:])
    again = make().fit(x[:1600], c[:1600], x[1600:], c[1600:])
    for a, b in zip(flow.ensemble_, again.ensemble_):
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), key
    flow.save(tmp_path / "flow.pt")
    loaded = ConditionalFlow.load(tmp_path / "flow.pt")
    assert loaded.kind == flow.kind and loaded.backend == flow.backend
    np.testing.assert_array_equal(loaded.log_prob(x[:50], c[:50]), flow.log_prob(x[:50], c[:50]))
    np.testing.assert_array_equal(loaded.sample(c[:50], seed=2), flow.sample(c[:50], seed=2))
    # The network samples from noise directly too, with finite log-densities.
    with loaded._no_autograd():  # the CFM's density needs autograd inside
        net = loaded._member(0, torch.device("cpu"))
        z = torch.randn(20, 3)
        ct = torch.as_tensor(c[:20, None], dtype=z.dtype)
        xs = net.sample_from_noise(z, ct)
        assert torch.isfinite(net.log_prob(xs, ct)).all()


@pytest.mark.parametrize("kind", ["maf", "nsf"])
def test_zuko_blocks_are_autoregressive_and_every_output_depends_on_the_condition(kind):
    from hepad.models.zuko_flows import ZukoFlow

    torch.manual_seed(0)
    d, n_cond = 4, 1
    net = ZukoFlow(d, n_cond, n_blocks=2, hidden=16, batch_norm=False, kind=kind)
    for block in net.blocks:
        x, c = torch.randn(d), torch.randn(n_cond)
        jx, jc = torch.autograd.functional.jacobian(lambda xx, cc: block.hyper(torch.cat([xx, cc])), (x, c))
        per_feature = jx.reshape(d, -1, d)  # (feature i, its parameters, x_j)
        for i in range(d):
            assert torch.equal(per_feature[i, :, i:], torch.zeros_like(per_feature[i, :, i:]))
        assert (jc.abs().sum(1) > 0).all()
        jz = torch.autograd.functional.jacobian(lambda xx: block(c[None]).call_and_ladj(xx[None])[0][0], x)
        assert torch.equal(torch.triu(jz, 1), torch.zeros_like(jz)) and (torch.diagonal(jz) > 0).all()


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        ConditionalFlow(kind="realnvp")
