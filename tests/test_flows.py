import numpy as np
import pytest
import torch
from scipy import stats

from hepad.io import InputError
from hepad.models import flows
from hepad.models.flows import ConditionalFlow, NonFiniteLossError

TINY = dict(n_blocks=2, hidden=16, batch_size=256, lr=3e-3, threads=1, device="cpu")


def _gaussian_toy(n, seed=0):
    """x | c ~ N(0.5 + 0.8 c, 0.3): a known conditional density."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1, 1, n)
    x = 0.5 + 0.8 * c + 0.3 * rng.standard_normal(n)
    return x[:, None], c


@pytest.mark.parametrize("implementation", ["made", "nflows"])
def test_log_density_integrates_to_one_on_1d_toy(implementation):
    rng = np.random.default_rng(1)
    c = rng.uniform(-1, 1, 4000)
    x = np.where(rng.random(4000) < 0.5, -1.0, 1.0) * (1 + c) + 0.3 * rng.standard_normal(4000)  # bimodal
    flow = ConditionalFlow(n_features=1, max_epochs=3, seed=0, implementation=implementation, **TINY)
    flow.fit(x[:3000, None], c[:3000], x[3000:, None], c[3000:])
    grid = np.linspace(-15, 15, 20_001)
    for c0 in (-0.5, 0.7):
        density = np.exp(flow.log_prob(grid[:, None], np.full(len(grid), c0)))
        assert density.sum() * (grid[1] - grid[0]) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("implementation", ["made", "nflows"])
def test_samples_match_known_gaussian(implementation):
    x, c = _gaussian_toy(24_000)
    flow = ConditionalFlow(n_features=1, max_epochs=25, seed=0, implementation=implementation, n_ensemble=3,
                           lr_schedule="cosine", **{**TINY, "batch_size": 512, "lr": 5e-3})
    flow.fit(x[:20_000], c[:20_000], x[20_000:], c[20_000:])
    samples = flow.sample(np.full(2000, 0.5), seed=7)[:, 0]
    assert stats.kstest(samples, stats.norm(0.9, 0.3).cdf).pvalue > 0.01
    # The fitted density is close to the true one where the data are.
    lp = flow.log_prob(x[20_000:], c[20_000:])
    true = stats.norm(0.5 + 0.8 * c[20_000:], 0.3).logpdf(x[20_000:, 0])
    assert abs(lp.mean() - true.mean()) < 0.05


def _fit_small(checkpoint=None, **kw):
    rng = np.random.default_rng(3)
    c = rng.normal(size=3000)
    x = np.column_stack([c + rng.normal(size=3000), rng.exponential(size=3000)])
    flow = ConditionalFlow(n_features=2, max_epochs=5, n_ensemble=2, seed=4, implementation="made",
                           **{**TINY, **kw})
    return flow.fit(x[:2500], c[:2500], x[2500:], c[2500:], checkpoint_path=checkpoint), x, c


def test_resume_after_interruption_gives_identical_result(tmp_path, monkeypatch):
    reference, x, c = _fit_small()
    ckpt = tmp_path / "flow.ckpt"
    calls = {"n": 0}
    original = ConditionalFlow._nll

    def killed_in_epoch_3(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the job is killed during epoch 3
        return original(self, *args)

    monkeypatch.setattr(ConditionalFlow, "_nll", killed_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        _fit_small(checkpoint=ckpt)
    monkeypatch.setattr(ConditionalFlow, "_nll", original)
    assert torch.load(ckpt, weights_only=True)["epoch"] == 2
    resumed, _, _ = _fit_small(checkpoint=ckpt)

    strip = lambda hist: [{k: v for k, v in h.items() if k != "seconds"} for h in hist]  # noqa: E731
    assert strip(resumed.history_) == strip(reference.history_)
    assert resumed.ensemble_epochs_ == reference.ensemble_epochs_
    for a, b in zip(resumed.ensemble_, reference.ensemble_):
        for key in a:
            assert torch.equal(a[key], b[key]), key
    np.testing.assert_array_equal(resumed.sample(c[:50], seed=1), reference.sample(c[:50], seed=1))
    # A finished checkpoint is not retrained.
    again, _, _ = _fit_small(checkpoint=ckpt)
    assert strip(again.history_) == strip(reference.history_)


def test_checkpoint_of_other_settings_is_ignored(tmp_path):
    ckpt = tmp_path / "flow.ckpt"
    _fit_small(checkpoint=ckpt, lr=1e-3)
    fresh, _, _ = _fit_small()
    other, _, _ = _fit_small(checkpoint=ckpt)  # lr differs from the checkpoint's: start from scratch
    assert [h["val_nll"] for h in other.history_] == [h["val_nll"] for h in fresh.history_]


def test_nan_loss_stops_with_the_epoch(monkeypatch):
    calls = {"n": 0}
    original = flows._MAF.log_prob

    def diverging(self, x, c):
        calls["n"] += 1  # 4 training batches + 1 validation pass per epoch: call 7 = epoch 2, batch 2
        lp = original(self, x, c)
        return lp * torch.nan if calls["n"] == 7 else lp

    monkeypatch.setattr(flows._MAF, "log_prob", diverging)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 2))
    flow = ConditionalFlow(n_features=2, max_epochs=3, implementation="made", **TINY)
    with pytest.raises(NonFiniteLossError, match=r"loss is nan in epoch 2, batch 2 of 4"):
        flow.fit(x, np.zeros(1000), x[:100], np.zeros(100))


def test_non_finite_inputs_are_rejected():
    x = np.zeros((100, 2))
    x[3, 1] = np.nan
    with pytest.raises(InputError, match="1 rows of x are NaN"):
        ConditionalFlow(n_features=2, **TINY).fit(x, np.zeros(100), np.zeros((10, 2)), np.zeros(10))


def test_early_stopping_ensemble_and_save_load(tmp_path):
    # lr = 0 and no batch norm (whose running averages would move): the validation loss never
    # improves after epoch 1, so patience 2 stops after epoch 3.
    flow, x, c = _fit_small(lr=0.0, patience=2, batch_norm=False)
    assert [h["epoch"] for h in flow.history_] == [1, 2, 3]
    assert len(flow.ensemble_) == 2 and flow.ensemble_epochs_[0] == 1
    flow, x, c = _fit_small()
    assert flow.ensemble_val_nll_ == sorted(flow.ensemble_val_nll_)
    assert flow.ensemble_val_nll_[0] == min(h["val_nll"] for h in flow.history_)
    flow.save(tmp_path / "flow.pt")
    loaded = ConditionalFlow.load(tmp_path / "flow.pt")
    np.testing.assert_array_equal(loaded.log_prob(x[:20], c[:20]), flow.log_prob(x[:20], c[:20]))
    np.testing.assert_array_equal(loaded.sample(c[:20], seed=3), flow.sample(c[:20], seed=3))
    assert loaded.history_ == flow.history_
    # The ensemble density is the mean of the members' densities.
    best = flow.log_prob(x[:20], c[:20], ensemble=False)
    assert not np.allclose(best, flow.log_prob(x[:20], c[:20]))


# --- the conditional MADE: autoregressive structure and the condition reaching every output ---------

def _jacobians(block, x, c):
    """d(scale, shift)/dx and d(scale, shift)/dc of a hand-written MADE block, one event."""
    f = lambda xx, cc: torch.cat(block.params(xx[None], cc[None]), 1)[0]  # noqa: E731
    return torch.autograd.functional.jacobian(f, (x, c))


@pytest.mark.parametrize("n_features", [1, 4])
def test_made_outputs_are_autoregressive_and_all_depend_on_the_condition(n_features):
    torch.manual_seed(0)
    d, n_cond = n_features, 2
    flow_net = flows._MAF(d, n_cond, n_blocks=3, hidden=16, batch_norm=False)
    for block in flow_net.made:
        for trial in range(3):
            x, c = torch.randn(d), torch.randn(n_cond)
            jx, jc = _jacobians(block, x, c)  # shapes (2d, d) and (2d, n_cond)
            for half in (jx[:d], jx[d:]):  # scales, shifts: output i depends on x_j for j < i only
                assert torch.equal(torch.triu(half), torch.zeros_like(half))
            # Every output (the scale and shift of every feature, the first one included) depends on c.
            assert (jc.abs().sum(1) > 0).all(), jc
        # The transform itself: lower-triangular Jacobian with a positive diagonal.
        x, c = torch.randn(d), torch.randn(n_cond)
        jz = torch.autograd.functional.jacobian(lambda xx: block(xx[None], c[None])[0][0], x)
        assert torch.equal(torch.triu(jz, 1), torch.zeros_like(jz)) and (torch.diagonal(jz) > 0).all()


def test_made_without_the_output_term_has_the_old_caveat():
    torch.manual_seed(0)
    block = flows._MADEAffine(3, 1, 16, condition_output=False)
    _, jc = _jacobians(block, torch.randn(3), torch.randn(1))
    assert torch.equal(jc[0], torch.zeros(1)) and torch.equal(jc[3], torch.zeros(1))  # feature 1: constants


def test_flow_saved_before_the_made_fix_is_refused(tmp_path):
    flow, _, _ = _fit_small()
    state = flow.get_state()
    state["ensemble"] = [{k: v for k, v in m.items() if "lin_ctx" not in k} for m in state["ensemble"]]
    with pytest.raises(InputError, match="retrain"):
        ConditionalFlow.from_state(state)
