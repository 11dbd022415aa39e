import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hepad.models.classifiers import (HGBEnsemble, MLPClassifier, balanced_weights, load_classifier,
                                      make_classifier)

SMALL = {"mlp": dict(hidden=(16, 16), epochs=4, n_average=2, batch_size=128, threads=1, device="cpu"),
         "hgb": dict(n_models=3, max_iter=30, threads=1)}


def _shifted_gaussians(n, seed=0, shift=1.0, dim=3):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)  # unbalanced on purpose
    x = rng.standard_normal((n, dim))
    x[:, 0] += shift * y
    return x, y


@pytest.mark.parametrize("kind", ["mlp", "hgb"])
def test_separates_shifted_gaussians_and_round_trips(kind, tmp_path):
    x, y = _shifted_gaussians(4000)
    xv, yv = _shifted_gaussians(2000, seed=1)
    xt, yt = _shifted_gaussians(4000, seed=2)
    clf = make_classifier(kind, seed=0, **SMALL[kind]).fit(x, y, xv, yv)
    scores = clf.predict_proba(xt)
    assert scores.shape == (4000,) and np.all((scores >= 0) & (scores <= 1))
    # The optimal AUC of a unit shift is Phi(1/sqrt 2) = 0.76.
    assert roc_auc_score(yt, scores) > 0.72
    path = tmp_path / f"{kind}.model"
    clf.save(path)
    loaded = load_classifier(path)
    assert type(loaded) is type(clf)
    np.testing.assert_array_equal(loaded.predict_proba(xt), scores)
    assert len(clf.history_) == (4 if kind == "mlp" else 3)


def test_balanced_weights_equalise_classes():
    y = np.array([0, 0, 0, 1])
    w = balanced_weights(y, sample_weight=np.array([1.0, 1.0, 2.0, 0.5]))
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum())
    assert w.sum() == pytest.approx(4.5)
    np.testing.assert_array_equal(balanced_weights(y, class_weight=None), np.ones(4))


def test_hgb_stops_on_the_given_validation_data():
    x, y = _shifted_gaussians(1500)
    xv, yv = _shifted_gaussians(1000, seed=1)
    params = dict(SMALL["hgb"], max_iter=40, n_iter_no_change=3)
    honest = HGBEnsemble(seed=5, **params).fit(x, y, xv, yv)
    # The training data as validation data: the loss keeps falling, every member runs to max_iter.
    own = HGBEnsemble(seed=5, **params).fit(x, y, x, y)
    # Labels flipped: the loss rises from the first iteration on, every member stops after n_iter_no_change.
    flipped = HGBEnsemble(seed=5, **params).fit(x, y, xv, 1 - yv)
    iters = {name: [h["n_iter"] for h in clf.history_] for name, clf in
             (("honest", honest), ("own", own), ("flipped", flipped))}
    assert iters["own"] == [40] * 3 and iters["flipped"] == [3] * 3, iters
    assert all(3 < n < 40 for n in iters["honest"]), iters
    assert all("val_loss" in h for h in honest.history_)
    # Members differ (each its own bootstrap weights), so the ensemble really averages.
    xt, _ = _shifted_gaussians(500, seed=2)
    p = [m.predict_proba(xt)[:, 1] for m in honest.members_]
    assert not np.allclose(p[0], p[1])


def test_hgb_never_fits_on_validation_data():
    x, y = _shifted_gaussians(1500)
    xv, yv = _shifted_gaussians(500, seed=1)
    xt, _ = _shifted_gaussians(500, seed=2)
    rng = np.random.default_rng(9)
    for stopping in ("train", "none"):  # stopping not on them: the validation data change nothing
        params = dict(SMALL["hgb"], early_stopping=stopping, n_models=2, max_iter=15)
        with_val = HGBEnsemble(seed=5, **params).fit(x, y, xv, yv)
        other_val = HGBEnsemble(seed=5, **params).fit(x, y, rng.normal(size=xv.shape), 1 - yv)
        without = HGBEnsemble(seed=5, **params).fit(x, y)
        np.testing.assert_array_equal(with_val.predict_proba(xt), without.predict_proba(xt))
        np.testing.assert_array_equal(other_val.predict_proba(xt), without.predict_proba(xt))


def test_hgb_without_validation_data_says_so():
    from hepad.cathode.classify import StandardisedClassifier
    from hepad.io import InputError

    x, y = _shifted_gaussians(500)
    with pytest.raises(InputError, match="validation data"):
        HGBEnsemble(**SMALL["hgb"]).fit(x, y)
    with pytest.raises(InputError, match="validation data"):  # not a shape error from the scaling
        StandardisedClassifier("hgb", SMALL["hgb"]).fit(x, y)
    with pytest.raises(ValueError, match="early_stopping"):
        HGBEnsemble(early_stopping="sometimes")


def test_mlp_averages_best_epochs_and_is_reproducible():
    x, y = _shifted_gaussians(2000)
    xv, yv = _shifted_gaussians(1000, seed=1)
    a = MLPClassifier(seed=3, **SMALL["mlp"]).fit(x, y, xv, yv)
    b = MLPClassifier(seed=3, **SMALL["mlp"]).fit(x, y, xv, yv)
    np.testing.assert_array_equal(a.predict_proba(xv), b.predict_proba(xv))
    val = [h["val_loss"] for h in a.history_]
    assert sorted(a.kept_epochs_) == sorted(int(i) + 1 for i in np.argsort(val)[:2])


def test_mlp_early_stopping_and_no_validation():
    x, y = _shifted_gaussians(2000)
    xv, yv = _shifted_gaussians(1000, seed=1)
    clf = MLPClassifier(seed=0, **{**SMALL["mlp"], "epochs": 30, "lr": 0.0, "patience": 2}).fit(x, y, xv, yv)
    assert len(clf.history_) == 3  # lr 0: no improvement after epoch 1
    no_val = MLPClassifier(seed=0, **SMALL["mlp"]).fit(x, y)
    assert no_val.kept_epochs_ == [4, 3]  # without validation data: the last epochs


def test_mlp_can_keep_the_last_epochs_with_validation_data():
    x, y = _shifted_gaussians(1000)
    xv, yv = _shifted_gaussians(500, seed=1)
    last = MLPClassifier(seed=0, **{**SMALL["mlp"], "epoch_selection": "last"}).fit(x, y, xv, yv)
    assert last.kept_epochs_ == [4, 3] and all("val_loss" in h for h in last.history_)
    best = MLPClassifier(seed=0, **SMALL["mlp"]).fit(x, y, xv, yv)  # the same training, other epochs kept
    val = [h["val_loss"] for h in best.history_]
    assert [h["val_loss"] for h in last.history_] == val
    assert sorted(best.kept_epochs_) == sorted(int(i) + 1 for i in np.argsort(val)[:2])


def test_sample_weights_change_the_fit():
    # Weight 0 on the signal events with x0 > 1: the weighted classifier sees no signal up there.
    x, y = _shifted_gaussians(4000)
    w = np.where((y == 1) & (x[:, 0] > 1.0), 0.0, 1.0)
    probe = np.array([[2.5, 0.0, 0.0]])
    for kind in ("mlp", "hgb"):
        params = dict(SMALL[kind], early_stopping="train") if kind == "hgb" else SMALL[kind]
        plain = make_classifier(kind, seed=0, **params).fit(x, y)
        weighted = make_classifier(kind, seed=0, **params).fit(x, y, sample_weight=w)
        assert weighted.predict_proba(probe)[0] < plain.predict_proba(probe)[0] - 0.1, kind


def test_rejects_single_class():
    from hepad.io import InputError

    with pytest.raises(InputError, match="both classes"):
        make_classifier("hgb").fit(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match="kind"):
        make_classifier("svm")
