"""Training sets of every mode, the flow-sample file, the density composition and ANODE's score."""

import numpy as np
import pytest

from hepad.cathode.modes import (MJJ, balanced_weights, cwola_sidebands, cwola_weights,
                                 evaluation_set, read_samples, read_scores, split_like, training_set, val_fraction,
                                 write_samples, write_scores)
from hepad.cathode.prepared import COLUMNS, SPLITS, write_prepared
from hepad.io import InputError

SR, CWOLA = (3.3, 3.7), (3.1, 3.9)


def rows(n, mjj, label, tag):
    """n rows with the given mjj and label; the features hold a split tag so a test can see where a row
    came from (mj1 = tag, the others = row index)."""
    out = np.zeros((n, len(COLUMNS)))
    out[:, 0] = mjj
    out[:, 1] = tag
    out[:, 2:5] = np.arange(n)[:, None]
    out[:, 5] = label
    return out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("modes")
    tags = {name: i + 1 for i, name in enumerate(SPLITS)}
    sb_mjj = np.r_[np.full(6, 3.0), np.tile([3.2, 3.8], 4), np.full(6, 4.2)]  # 8 inside CWoLa's SB, 4 per band
    splits = {
        "sb_train": rows(20, sb_mjj, 0, tags["sb_train"]),
        "sb_val": rows(20, sb_mjj, 0, tags["sb_val"]),
        "sr_train": rows(30, 3.5, 0, tags["sr_train"]),
        "sr_val": rows(10, 3.5, 0, tags["sr_val"]),
        "test": np.r_[rows(7, 3.4, 0, tags["test"]), rows(3, 3.6, 1, tags["test"])],
        "extra_bkg_train": rows(50, 3.5, 0, tags["extra_bkg_train"]),
        "extra_bkg_val": rows(40, 3.5, 0, tags["extra_bkg_val"]),
        "signal_train": rows(5, 3.5, 1, tags["signal_train"]),
        "signal_val": rows(4, 3.5, 1, tags["signal_val"]),
    }
    path = folder / "prepared.h5"
    write_prepared(splits, path)
    samples = folder / "samples.h5"
    write_samples(rows(120, 3.5, 0, 99), rows(40, 3.5, 0, 98), samples)
    return path, samples, tags


def origin(x):
    return set(np.unique(x[:, 0]).astype(int))  # column 0 of the features is mj1 = the split tag


def check_balanced(y, w):
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())
    assert w.mean() == pytest.approx(1.0)


@pytest.mark.parametrize("mode, ones, zeros, sizes", [
    ("cathode", ("sr_train", "sr_val"), (99, 98), (30, 120, 10, 40)),
    ("iad", ("sr_train", "sr_val"), ("extra_bkg_train", "extra_bkg_val"), (30, 50, 10, 40)),
    ("supervised", ("signal_train", "signal_val"), ("extra_bkg_train", "extra_bkg_val"), (5, 50, 4, 40)),
])
def test_label_sources_and_balance(prepared, mode, ones, zeros, sizes):
    path, samples, tags = prepared
    tag = lambda name: name if isinstance(name, int) else tags[name]  # noqa: E731
    ts = training_set(mode, path, samples=samples)
    assert origin(ts.x_train[ts.y_train == 1]) == {tag(ones[0])}
    assert origin(ts.x_train[ts.y_train == 0]) == {tag(zeros[0])}
    assert origin(ts.x_val[ts.y_val == 1]) == {tag(ones[1])}
    assert origin(ts.x_val[ts.y_val == 0]) == {tag(zeros[1])}
    got = ((ts.y_train == 1).sum(), (ts.y_train == 0).sum(), (ts.y_val == 1).sum(), (ts.y_val == 0).sum())
    assert got == sizes
    assert ts.x_train.shape[1] == 4  # mjj is never an input
    check_balanced(ts.y_train, ts.w_train)
    check_balanced(ts.y_val, ts.w_val)


def test_cwola_uses_only_the_adjacent_sidebands_split_like_the_sr(prepared):
    path, _, tags = prepared
    ts = training_set("cwola", path, sr=SR, cwola_sb=CWOLA)
    # 8 of each 20 SB rows lie in 3.1-3.3 or 3.7-3.9; from sb_train and sb_val: 16, split 1/4 to validation
    # like the SR (10 of 40).
    assert (ts.y_train == 0).sum() == 12 and (ts.y_val == 0).sum() == 4
    assert origin(np.r_[ts.x_train[ts.y_train == 0], ts.x_val[ts.y_val == 0]]) == {tags["sb_train"], tags["sb_val"]}
    check_balanced(ts.y_train, ts.w_train)
    check_balanced(ts.y_val, ts.w_val)
    with pytest.raises(InputError, match="CWoLa sidebands"):
        training_set("cwola", path, sr=SR, cwola_sb=(3.25, 3.75))


def test_cwola_sideband_edges():
    sb = np.zeros((6, 6))
    sb[:, 0] = [3.05, 3.15, 3.29, 3.71, 3.85, 3.95]
    np.testing.assert_array_equal(cwola_sidebands(sb, SR, CWOLA)[:, 0], [3.15, 3.29, 3.71, 3.85])


def test_cathode_needs_samples_and_anode_has_no_classifier(prepared):
    path, _, _ = prepared
    with pytest.raises(ValueError, match="samples"):
        training_set("cathode", path)
    with pytest.raises(ValueError, match="anode"):
        training_set("anode", path)


def test_evaluation_set_is_the_test_split(prepared):
    path, _, tags = prepared
    x, mjj, y = evaluation_set(path)
    assert origin(x) == {tags["test"]}
    np.testing.assert_array_equal(y, [0] * 7 + [1] * 3)
    np.testing.assert_array_equal(mjj, [3.4] * 7 + [3.6] * 3)


def test_split_like_and_weights():
    train, val = split_like(np.arange(10)[:, None], 0.3)
    assert val.ravel().tolist() == [0, 1, 2] and len(train) == 7
    w = balanced_weights(np.r_[np.ones(1), np.zeros(3)])
    np.testing.assert_allclose(w, [2.0, 2 / 3, 2 / 3, 2 / 3])
    with pytest.raises(InputError, match="empty"):
        balanced_weights(np.zeros(4))


def test_samples_and_scores_files_round_trip(tmp_path):
    a, b = np.random.default_rng(0).normal(size=(2, 5, 6))
    write_samples(a, b, tmp_path / "s.h5")
    got_a, got_b = read_samples(tmp_path / "s.h5")
    np.testing.assert_array_equal(got_a, a)
    np.testing.assert_array_equal(got_b, b)
    write_scores([0.1, 0.9], [0, 1], [3.4, 3.5], tmp_path / "sc.h5", mode="iad")
    scores, labels = read_scores(tmp_path / "sc.h5")
    np.testing.assert_array_equal(scores, [0.1, 0.9])
    np.testing.assert_array_equal(labels, [0, 1])
    with pytest.raises(InputError, match="NaN"):
        write_scores([np.nan, 0.9], [0, 1], [3.4, 3.5], tmp_path / "bad.h5")
    assert not (tmp_path / "bad.h5").exists()
    with pytest.raises(InputError, match="rerun sample_sr"):
        read_samples(tmp_path / "missing.h5")


def test_density_composition_and_anode_score(tmp_path):
    from hepad.cathode.density import ConditionalDensity, anode_scores
    from hepad.models.flows import ConditionalFlow

    rng = np.random.default_rng(0)
    n = 3000
    mjj = rng.uniform(3.0, 4.0, n)
    x = np.column_stack([rng.normal(0.1 * mjj, 0.02), rng.gamma(2.0, 0.05, n), rng.beta(5, 3, n), rng.beta(5, 3, n)])
    small = dict(n_features=4, n_blocks=2, hidden=16, batch_size=256, lr=3e-3, max_epochs=3, patience=None,
                 n_ensemble=2, seed=1, threads=1, implementation="made")
    sb = ConditionalDensity(ConditionalFlow(**small)).fit(x[:2000], mjj[:2000], x[2000:], mjj[2000:])
    sb.save(tmp_path / "sb")
    loaded = ConditionalDensity.load(tmp_path / "sb", threads=1)
    np.testing.assert_allclose(loaded.log_prob(x[:50], mjj[:50]), sb.log_prob(x[:50], mjj[:50]), rtol=1e-6)
    # Samples are in physical units, inside the training range.
    s = loaded.sample(np.full(500, 3.5), seed=3)
    assert s.shape == (500, 4)
    assert np.all(s >= sb.scaler_.min_) and np.all(s <= sb.scaler_.max_)
    assert abs(np.median(s[:, 0]) - 0.35) < 0.05  # the conditional mean 0.1 * mjj
    # Outside the training range there is no density.
    far = x[:3].copy()
    far[0, 2] = 5.0
    lp = sb.log_prob(far, mjj[:3])
    assert lp[0] == -np.inf and np.isfinite(lp[1:]).all()
    # ANODE: an SR model on the SB scalers; out-of-range events get the lowest score.
    sr = ConditionalDensity(ConditionalFlow(**small)).fit(x[:1500], mjj[:1500], x[1500:2000], mjj[1500:2000],
                                                           scalers_from=sb)
    score = anode_scores(sr, sb, far, mjj[:3])
    assert np.isfinite(score).all() and score[0] < score[1:].min()
    own = ConditionalDensity(ConditionalFlow(**small)).fit(x[:1500] * 1.1, mjj[:1500], x[1500:2000], mjj[1500:2000])
    with pytest.raises(ValueError, match="share the scalers"):
        anode_scores(own, sb, x[:5], mjj[:5])


def test_cwola_weights_centre_the_background_on_the_sr(tmp_path):
    """A steeply falling spectrum (dN/dmjj ~ exp(-8 mjj)): the lower band holds several times the upper
    band's events, yet each band carries a quarter of the total weight and the SR half, in train and val."""
    rng = np.random.default_rng(5)
    mjj = 3.0 + rng.exponential(1 / 8.0, 200_000)
    mjj = mjj[mjj < 4.5]
    sb, sr = mjj[(mjj < SR[0]) | (mjj > SR[1])], mjj[(mjj > SR[0]) & (mjj < SR[1])]
    n_sb, n_sr = int(0.8 * len(sb)), len(sr) // 2
    splits = {name: rows(3, 3.5, 0, 1) for name in ("test", "extra_bkg_train", "extra_bkg_val", "signal_train",
                                                     "signal_val")}
    splits.update(sb_train=rows(n_sb, sb[:n_sb], 0, 1), sb_val=rows(len(sb) - n_sb, sb[n_sb:], 0, 2),
                  sr_train=rows(n_sr, sr[:n_sr], 0, 3), sr_val=rows(len(sr) - n_sr, sr[n_sr:], 0, 4))
    write_prepared(splits, tmp_path / "falling.h5")
    ts = training_set("cwola", tmp_path / "falling.h5", sr=SR, cwola_sb=CWOLA)
    # mjj is no feature: the label-0 events are CWoLa's SB rows in their order, split like the SR
    side = cwola_sidebands(np.concatenate([splits["sb_train"], splits["sb_val"]]), SR, CWOLA)
    side_train, side_val = split_like(side, val_fraction(splits["sr_train"], splits["sr_val"]))
    for y, w, band_mjj in ((ts.y_train, ts.w_train, side_train[:, MJJ]), (ts.y_val, ts.w_val, side_val[:, MJJ])):
        lower, upper = band_mjj < SR[0], band_mjj > SR[1]
        assert lower.sum() > 3 * upper.sum() > 0  # the spectrum falls steeply
        assert w.mean() == pytest.approx(1.0)
        w0 = w[y == 0]
        shares = [w[y == 1].sum(), w0[lower].sum(), w0[upper].sum()] / w.sum()
        np.testing.assert_allclose(shares, [0.5, 0.25, 0.25])


def test_cwola_weights_need_both_bands():
    y = np.r_[np.ones(4), np.zeros(4)]
    w = cwola_weights(y, np.r_[np.full(4, 3.5), 3.2, 3.2, 3.2, 3.8], SR)
    np.testing.assert_allclose(w, [1, 1, 1, 1, 2 / 3, 2 / 3, 2 / 3, 2])
    with pytest.raises(InputError, match="upper band"):
        cwola_weights(y, np.r_[np.full(4, 3.5), np.full(4, 3.2)], SR)
    with pytest.raises(ValueError, match="inside the SR"):
        cwola_weights(y, np.full(8, 3.5), SR)


def test_lacathode_reads_the_latent_file_and_drops_unmapped_events(prepared, tmp_path):
    from hepad.cathode.modes import sideband_set, write_latent
    from hepad.cathode.prepared import load_split

    path, _, tags = prepared
    latent = {name: load_split(path, name) for name in ("sr_train", "sr_val", "test", "sb_val")}
    latent = {name: rows.copy() for name, rows in latent.items()}
    latent["sr_train"][:3, 1:5] = np.nan  # three SR training events the flow could not map
    latent["test"][0, 1:5] = np.nan
    write_latent(latent, (rows(40, 3.5, 0, 97), rows(20, 3.5, 0, 96)), tmp_path / "latent.h5")
    ts = training_set("lacathode", path, samples=tmp_path / "latent.h5")
    assert ((ts.y_train == 1).sum(), (ts.y_train == 0).sum(), (ts.y_val == 1).sum(), (ts.y_val == 0).sum()) == \
        (27, 40, 10, 20)
    assert origin(ts.x_train[ts.y_train == 0]) == {97} and np.isfinite(ts.x_train).all()
    check_balanced(ts.y_train, ts.w_train)
    x, mjj, y = evaluation_set(path, tmp_path / "latent.h5")  # the same test events, unmapped ones kept as NaN
    assert len(x) == 10 and np.isnan(x[0]).all() and np.isfinite(x[1:]).all()
    np.testing.assert_array_equal(y, evaluation_set(path)[2])
    assert len(sideband_set(path, tmp_path / "latent.h5")[0]) == 20
    with pytest.raises(ValueError, match="latent"):
        training_set("lacathode", path)
    other = dict(latent, test=latent["test"][:5])
    write_latent(other, (rows(4, 3.5, 0, 97), rows(2, 3.5, 0, 96)), tmp_path / "other.h5")
    with pytest.raises(InputError, match="rerun latent_sr"):
        evaluation_set(path, tmp_path / "other.h5")


def test_scores_with_sideband_and_unmapped_events(tmp_path):
    from hepad.cathode.modes import lowest_for_unmapped, read_background_mjj

    np.testing.assert_array_equal(lowest_for_unmapped([0.3, np.nan, 0.7]), [0.3, -0.7, 0.7])
    with pytest.raises(InputError, match="no events"):
        lowest_for_unmapped([np.nan])
    write_scores([0.1, 0.9, 0.5], [0, 1, 0], [3.4, 3.5, 3.6], tmp_path / "sc.h5")
    assert read_background_mjj(tmp_path / "sc.h5") is None
    write_scores([0.1, 0.9, 0.5], [0, 1, 0], [3.4, 3.5, 3.6], tmp_path / "sb.h5",
                 sideband=([0.2, 0.4], [0, 1], [3.0, 4.0]))
    scores, mjj = read_background_mjj(tmp_path / "sb.h5")  # background of the test set and of the sideband
    np.testing.assert_array_equal(scores, [0.1, 0.5, 0.2])
    np.testing.assert_array_equal(mjj, [3.4, 3.6, 3.0])
    with pytest.raises(InputError, match="sideband/scores are NaN"):
        write_scores([0.1], [0], [3.4], tmp_path / "bad.h5", sideband=([np.nan], [0], [3.0]))
