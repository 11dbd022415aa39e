import numpy as np
import pytest

from hepad.cathode.scaling import LogitScaler


def _data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.exponential(0.1, n), rng.beta(2, 5, n), rng.normal(3, 1, n)])


def test_transform_is_standardised_and_inverts():
    x = _data()
    scaler = LogitScaler().fit(x)
    z = scaler.transform(x)
    assert np.all(np.isfinite(z))  # the training extremes keep a finite image thanks to the margin
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-10)
    np.testing.assert_allclose(scaler.inverse_transform(z), x, rtol=1e-7, atol=1e-9)


def test_in_domain_and_out_of_domain_rows():
    x = _data()
    scaler = LogitScaler().fit(x)
    test = np.vstack([x[:3], x.max(0) + 1.0, x.min(0) - 1.0])
    assert scaler.in_domain(test).tolist() == [True, True, True, False, False]
    z = scaler.transform(test)
    assert np.isfinite(z[:3]).all()
    assert np.isnan(z[3:]).all()


def test_inverse_clip_keeps_domain():
    scaler = LogitScaler().fit(_data())
    x = scaler.inverse_transform(np.array([[60.0, -60.0, 60.0]]), clip=True)
    assert scaler.in_domain(x).all()


def test_save_load_round_trip(tmp_path):
    x = _data()
    scaler = LogitScaler(margin=1e-3).fit(x)
    scaler.save(tmp_path / "scaler.npz")
    loaded = LogitScaler.load(tmp_path / "scaler.npz")
    assert loaded.margin == 1e-3
    np.testing.assert_array_equal(loaded.transform(x), scaler.transform(x))
    other = LogitScaler().set_state(scaler.get_state())
    np.testing.assert_array_equal(other.transform(x), scaler.transform(x))


def test_bad_inputs():
    with pytest.raises(ValueError, match="constant"):
        LogitScaler().fit(np.ones((10, 2)))
    with pytest.raises(ValueError, match="not finite"):
        LogitScaler().fit(np.array([[1.0], [np.nan], [2.0]]))
    with pytest.raises(RuntimeError, match="not fitted"):
        LogitScaler().transform(np.ones((2, 2)))


class _WideFlow:
    """A stand-in flow whose samples are far too wide: many fall outside the training range."""

    def __init__(self, width):
        self.width = width

    def sample(self, cond, seed):
        rng = np.random.default_rng(seed)
        return self.width * rng.standard_normal((len(cond), 3)) + cond[:, None]


def _density(width):
    from hepad.cathode.density import ConditionalDensity

    model = ConditionalDensity(_WideFlow(width))
    model.scaler_ = LogitScaler().fit(_data())
    model.mjj_mean_, model.mjj_std_ = 3.5, 0.1
    return model


def test_flow_samples_outside_the_training_range_are_rejected_and_redrawn():
    model = _density(width=10.0)
    mjj = np.linspace(3.3, 3.7, 5001)
    x = model.sample(mjj, seed=11)
    assert x.shape == (5001, 3) and np.isfinite(x).all()  # exactly the requested number
    assert 0.05 < model.acceptance_ < 0.9  # many draws were rejected ...
    scaler = model.scaler_
    assert np.all((x > scaler.min_) & (x < scaler.max_))  # ... and none was clipped onto an edge
    assert not np.isin(x, np.r_[scaler.min_, scaler.max_]).any()
    np.testing.assert_array_equal(x, model.sample(mjj, seed=11))  # same seed, same samples
    assert not np.array_equal(x, model.sample(mjj, seed=12))
    # what clipping would have done: a pile-up on the edges
    clipped = scaler.inverse_transform(model.flow.sample(model._scale_cond(mjj), seed=11), clip=True)
    assert np.isin(clipped, np.r_[scaler.min_, scaler.max_]).any()


def test_rejection_stops_with_a_clear_error_when_almost_nothing_is_accepted():
    from hepad.io import InputError

    with pytest.raises(InputError, match="fall inside the range of the training data"):
        _density(width=1e4).sample(np.full(1000, 3.5), seed=1)
    with pytest.raises(InputError, match="rounds of rejection"):
        _density(width=10.0).sample(np.full(1000, 3.5), seed=1, max_rounds=1)
