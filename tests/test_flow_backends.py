"""The density estimators behind ConditionalFlow side by side: hand-written MAF, zuko MAF, zuko NSF."""

import numpy as np
import pytest
import torch
from scipy import stats

from hepad.models.flows import ConditionalFlow

pytest.importorskip("zuko")

ESTIMATORS = {"made-maf": dict(implementation="made"), "zuko-maf": dict(implementation="zuko"),
              "zuko-nsf": dict(kind="nsf")}
SMALL = dict(n_blocks=2, hidden=16, threads=1, device="cpu")


def _toy(n, seed=0):
    """x | m ~ N(m, 0.1), m uniform in (-1, 1)."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(-1, 1, n)
    return (m + 0.1 * rng.standard_normal(n))[:, None], m


@pytest.fixture(scope="module", params=list(ESTIMATORS))
def fitted(request):
    x, m = _toy(24_000)
    flow = ConditionalFlow(n_features=1, max_epochs=20, batch_size=512, lr=5e-3, lr_schedule="cosine", n_ensemble=3,
                           seed=0, **SMALL, **ESTIMATORS[request.param])
    return flow.fit(x[:20_000], m[:20_000], x[20_000:], m[20_000:])


def test_density_integrates_to_one_on_a_grid(fitted):
    grid = np.linspace(-15, 15, 30_001)
    for m0 in (-0.6, 0.0, 0.5):
        density = np.exp(fitted.log_prob(grid[:, None], np.full(len(grid), m0)))
        assert density.sum() * (grid[1] - grid[0]) == pytest.approx(1.0, abs=0.01)


def test_samples_pass_ks_against_the_known_gaussian(fitted):
    for m0 in (-0.5, 0.5):
        samples = fitted.sample(np.full(2000, m0), seed=7)[:, 0]
        assert stats.kstest(samples, stats.norm(m0, 0.1).cdf).pvalue > 0.01, m0


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
    with torch.inference_mode():
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
