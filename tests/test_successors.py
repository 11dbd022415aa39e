"""LaCATHODE and R-ANODE on the Gaussian toy of test_cathode_toy (a known bump), and the mjj sculpting
statistic on a toy whose selection is flat or sculpted by construction.

Smaller than the CATHODE toy (30k background events, a 3-block SB flow shared by both methods) so that
the whole module runs in about 20 CPU seconds.
"""

import numpy as np
import pytest

from hepad.cathode.modes import balanced_weights
from hepad.metrics.sculpting import equal_population_edges, mjj_sculpting, selection_by_bin
from hepad.metrics.sic import summarize
from test_cathode_toy import background, in_sr, signal

SMALL_FLOW = dict(n_features=4, batch_size=512, lr=3e-3, patience=4, threads=1, implementation="made",
                  lr_schedule="cosine", warmup_epochs=1)


@pytest.fixture(scope="module", params=[300, 0], ids=["signal", "no_signal"])
def toy(request):
    """SB flow, SR data and test set of the toy with 300 (SR S/B about 2.5 %) or no injected signal events."""
    from hepad.cathode.density import ConditionalDensity
    from hepad.models.flows import ConditionalFlow

    rng = np.random.default_rng(0)
    mjj_b, x_b = background(30_000, rng)
    mjj_s, x_s = signal(request.param, rng)
    mjj, x = np.r_[mjj_b, mjj_s], np.r_[x_b, x_s]
    sr = in_sr(mjj)
    sb = rng.permutation(np.flatnonzero(~sr))
    n_val = len(sb) // 5
    flow = ConditionalFlow(n_blocks=3, hidden=32, max_epochs=12, n_ensemble=3, seed=0, **SMALL_FLOW)
    model = ConditionalDensity(flow).fit(x[sb[n_val:]], mjj[sb[n_val:]], x[sb[:n_val]], mjj[sb[:n_val]])
    sr_idx = rng.permutation(np.flatnonzero(sr))
    mjj_tb, x_tb = background(30_000, rng)
    inside = in_sr(mjj_tb)
    mjj_ts, x_ts = signal(1000, rng)
    test = (np.r_[x_tb[inside], x_ts], np.r_[mjj_tb[inside], mjj_ts],
            np.r_[np.zeros(inside.sum()), np.ones(len(x_ts))].astype(int))
    return request.param, model, x[sr_idx], mjj[sr_idx], test


def check_found(n_signal, metrics):
    if n_signal:
        assert metrics["max_sic"] > 5.0, metrics  # a bump found: well above a random cut's SIC of at most 1
    else:
        assert metrics["max_sic"] < 2.0, metrics  # nothing to find (allowing for the max over many cuts)


def test_ranode_finds_the_bump_and_nothing_without_it(toy):
    from hepad.cathode.density import anode_scores
    from hepad.cathode.ranode import SignalFlow, fit_signal

    n_signal, background_model, x, mjj, (x_test, mjj_test, y_test) = toy
    half = len(x) // 2
    flow = SignalFlow(w=0.01, learn_w=True, n_blocks=2, hidden=32, max_epochs=30, n_ensemble=5, seed=1,
                      **dict(SMALL_FLOW, batch_size=256, patience=8))
    signal_model = fit_signal(flow, background_model, x[:half], mjj[:half], x[half:], mjj[half:])
    metrics = summarize(anode_scores(signal_model, background_model, x_test, mjj_test), y_test)
    print(f"R-ANODE, {n_signal} signal events: max SIC {metrics['max_sic']:.2f}, w {flow.signal_fractions_}")
    check_found(n_signal, metrics)
    w = np.array(flow.signal_fractions_)
    assert ((w > 0) & (w < 0.2)).all()
    if n_signal:  # the learned fraction is of the order of the injected one (about 0.024)
        assert 0.005 < w.mean() < 0.1


def test_lacathode_finds_the_bump_and_nothing_without_it(toy):
    from hepad.cathode.classify import StandardisedClassifier
    from hepad.cathode.lacathode import base_samples
    from hepad.cathode.modes import FEATURE_INDEX

    n_signal, model, x, mjj, (x_test, mjj_test, y_test) = toy
    z = model.latent(x, mjj)
    z = z[np.isfinite(z).all(axis=1)]
    # The background maps to a standard normal, whatever its mjj (the flow learned the correlation).
    assert np.abs(z.mean(axis=0)).max() < 0.15 and np.abs(z.std(axis=0) - 1).max() < 0.15
    draws = base_samples(4 * len(z), 6, lambda n, seed: np.full(n, 3.5), seed=2)
    assert (draws[:, 0] == 3.5).all() and (draws[:, 5] == 0).all()  # mjj and label columns
    draws = draws[:, FEATURE_INDEX]
    half = len(z) // 2
    x_tr, y_tr = np.r_[z[:half], draws[: 4 * half]], np.r_[np.ones(half), np.zeros(4 * half)]
    x_va = np.r_[z[half:], draws[4 * half:]]
    y_va = np.r_[np.ones(len(z) - half), np.zeros(len(draws) - 4 * half)]
    clf = StandardisedClassifier("hgb", {"n_models": 3, "max_iter": 200, "max_leaf_nodes": 31, "seed": 0,
                                         "threads": 1, "class_weight": None})
    clf.fit(x_tr, y_tr, x_va, y_va, sample_weight=balanced_weights(y_tr), sample_weight_val=balanced_weights(y_va))
    z_test = model.latent(x_test, mjj_test)
    mapped = np.isfinite(z_test).all(axis=1)
    scores = np.full(len(z_test), -1.0)  # unmapped test events: lowest
    scores[mapped] = clf.predict_proba(z_test[mapped])
    metrics = summarize(scores, y_test)
    print(f"LaCATHODE, {n_signal} signal events: max SIC {metrics['max_sic']:.2f}")
    check_found(n_signal, metrics)


def test_sculpting_statistic_tells_a_flat_selection_from_a_sculpted_one():
    rng = np.random.default_rng(3)
    n = 40_000
    mjj = 2.8 + rng.exponential(0.4, n)
    unrelated = rng.normal(size=n)  # a score independent of mjj: no sculpting
    correlated = unrelated + 0.5 * (mjj - mjj.mean()) / mjj.std()  # a score that learned mjj
    flat = mjj_sculpting(unrelated, mjj, [0.1, 0.01], 20)
    sculpted = mjj_sculpting(correlated, mjj, [0.1, 0.01], 20)
    for entry in flat:
        assert entry["ndf"] == 19 and entry["kept"] == pytest.approx(entry["efficiency"], rel=0.02)
        assert 0.3 < entry["chi2_ndf"] < 2.5 and entry["p_value"] > 1e-3 and entry["ks_p_value"] > 1e-3
    for entry in sculpted:
        assert entry["chi2_ndf"] > 10 and entry["p_value"] < 1e-6 and entry["ks_p_value"] < 1e-6
    # Under the null hypothesis the chi^2 has mean ndf: over independent toys the average of chi2/ndf is 1.
    means = [mjj_sculpting(rng.normal(size=n), mjj, [0.1], 20)[0]["chi2_ndf"] for _ in range(20)]
    assert np.mean(means) == pytest.approx(1.0, abs=0.2)
    # Equal-population bins, and the per-bin counts add up.
    edges = equal_population_edges(mjj, 20)
    kept, total, selected = selection_by_bin(unrelated, mjj, 0.1, edges)
    assert total.sum() == n and kept.sum() == selected.sum() and total.min() > 0.9 * n / 20
    with pytest.raises(ValueError, match="efficiency"):
        mjj_sculpting(unrelated, mjj, [1.0], 20)
    # Tied scores (a tree ensemble's plateaus) still keep exactly the asked share, flat in mjj.
    tied = np.where(rng.random(n) < 0.5, 0.0, 1.0)
    for entry in mjj_sculpting(tied, mjj, [0.1, 0.01], 20):
        assert entry["kept"] == pytest.approx(entry["efficiency"]) and entry["chi2_ndf"] < 2.5


@pytest.mark.parametrize("implementation", ["made", "nflows", "zuko"])
def test_latent_map_inverts_the_sampling_map(implementation):
    """ConditionalFlow.latent is the forward map of the best epoch: mapping back from noise gives the events."""
    import torch

    from hepad.models.flows import ConditionalFlow

    rng = np.random.default_rng(0)
    c = rng.uniform(-1, 1, 1200)
    x = np.c_[rng.normal(c, 0.3), rng.normal(-c, 0.5)]
    flow = ConditionalFlow(n_features=2, n_blocks=2, hidden=8, batch_size=256, lr=3e-3, max_epochs=2, patience=None,
                           n_ensemble=2, seed=0, threads=1, implementation=implementation)
    flow.fit(x[:1000], c[:1000], x[1000:], c[1000:])
    z = flow.latent(x[:50], c[:50])
    with torch.inference_mode():
        member = flow._member(0, torch.device("cpu"))
        back = member.sample_from_noise(torch.as_tensor(z, dtype=torch.float32),
                                        torch.as_tensor(c[:50, None], dtype=torch.float32)).numpy()
    np.testing.assert_allclose(back, x[:50], atol=1e-4)
    assert np.isfinite(z).all() and not np.allclose(z, x[:50])
