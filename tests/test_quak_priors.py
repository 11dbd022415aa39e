"""QUAK priors on small toys: each prior gives lower loss to its own class, save/load keeps the scores,
the features module builds the 12 inputs as documented."""

import numpy as np
import pandas as pd
import pytest

from hepad.io import InputError
from hepad.quak import features
from hepad.quak.priors import FlowPrior, VAEPrior, load_prior, make_prior

SMALL = {"flow": dict(n_blocks=2, hidden=16, batch_size=256, max_epochs=6, patience=None, n_ensemble=2, lr=3e-3),
         "vae": dict(n_latent=2, hidden=(16, 8), prior_blocks=2, prior_hidden=8, batch_size=256, max_epochs=8,
                     patience=None, lr=3e-3, n_score_samples=4)}


def _classes(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, size=(3000, 4))
    b = rng.normal(0, 1, size=(600, 4)) * 0.3 + np.array([2.5, -2.5, 2.0, 0.0])
    return a.astype(np.float32), b.astype(np.float32)


@pytest.mark.parametrize("family", ["flow", "vae"])
def test_prior_scores_own_class_lower_and_reloads(family, tmp_path):
    a, b = _classes(0)
    prior = make_prior(family, SMALL[family], seed=3, threads=1)
    prior.fit(a[:2400], a[2400:])
    sa, sb = prior.score(a[2400:]), prior.score(b)
    assert sa.shape == (600,) and np.isfinite(sa).all()
    # AUC of "loss" separating the other class from the training class
    auc = (sb[:, None] > sa[None, :]).mean()
    assert auc > 0.95
    prior.save(tmp_path / "p.pt")
    again = load_prior(tmp_path / "p.pt", threads=1)
    assert type(again) is type(prior)
    np.testing.assert_allclose(again.score(b), sb, rtol=1e-5, atol=1e-5)
    # deterministic scores: same events, same loss, whatever the batch
    np.testing.assert_allclose(again.score(b[:10]), sb[:10], rtol=1e-5, atol=1e-5)


def test_same_seed_same_prior():
    a, _ = _classes(1)
    s1 = FlowPrior(**SMALL["flow"], seed=1, threads=1).fit(a[:1000], a[1000:1500]).score(a[:50])
    s2 = FlowPrior(**SMALL["flow"], seed=1, threads=1).fit(a[:1000], a[1000:1500]).score(a[:50])
    np.testing.assert_array_equal(s1, s2)


def test_flow_prior_wraps_a_conditional_flow(tmp_path):
    from hepad.models.flows import ConditionalFlow

    prior = FlowPrior(hidden=32, seed=2)
    assert isinstance(prior.flow, ConditionalFlow) and prior.flow.hidden == prior.hidden == 32
    assert prior.get_params() == dict(n_blocks=6, hidden=32, batch_norm=True, lr=1e-3, weight_decay=1e-6,
                                      batch_size=1024, max_epochs=30, patience=5, n_ensemble=3,
                                      implementation="made", lr_schedule="cosine", seed=2, threads=None,
                                      device=None)
    assert prior.flow.warmup_epochs == 0.0 and prior.flow.lr_min_factor == 0.01
    assert FlowPrior(**prior.get_params()).get_params() == prior.get_params()
    with pytest.raises(InputError, match="hyperparameters"):
        make_prior("flow", {"n_features": 3})
    a, _ = _classes(4)
    own = FlowPrior(flow=ConditionalFlow(n_blocks=2, hidden=8, max_epochs=2, implementation="made", threads=1))
    own.fit(a[:500], a[500:700])
    assert own.flow.n_features == 4 and own.flow_ is own.flow and own.hidden == 8
    own.save(tmp_path / "p.pt")
    again = load_prior(tmp_path / "p.pt", threads=1)
    assert again.get_params() == dict(own.get_params(), threads=1)
    np.testing.assert_array_equal(again.score(a[:20]), own.score(a[:20]))


def test_unknown_family_and_bad_parameters_are_input_errors():
    with pytest.raises(InputError, match="allowed"):
        make_prior("gan", {})
    with pytest.raises(InputError, match="hyperparameters"):
        make_prior("vae", {"n_blocks": 3})
    with pytest.raises(RuntimeError):
        VAEPrior().score(np.zeros((2, 3)))


def _extended(n, rng):
    cols = {"mjj": rng.uniform(2000, 5000, n)}
    for j in (1, 2):
        cols[f"mj{j}"] = rng.uniform(10, 600, n)
        cols[f"nconsj{j}"] = rng.integers(5, 80, n).astype(float)
        for t in range(1, 10):
            for b in ("beta05", "beta1", "beta2"):
                cols[f"tau{t}j{j}_{b}"] = rng.uniform(0.01, 0.5, n) / t
    return pd.DataFrame(cols)


def test_features_are_mass_ordered_with_documented_ratios():
    rng = np.random.default_rng(2)
    ext = _extended(500, rng)
    x, mjj, kept = features.quak_features(ext)
    assert x.shape == (kept.sum(), 12) and np.all(mjj >= 2.8)
    np.testing.assert_allclose(mjj, ext["mjj"][kept] / 1000)
    assert np.all(x[:, 0] >= x[:, 6])  # heavier jet first
    rows = ext[kept].reset_index(drop=True)
    for i in range(len(rows)):
        j = 1 if rows.mj1[i] >= rows.mj2[i] else 2
        t = [rows[f"tau{n}j{j}_beta1"][i] for n in (1, 2, 3, 4)]
        expected = [rows[f"mj{j}"][i], t[1] / (t[0] + 1e-5), t[2] / (t[1] + 1e-5), t[3] / (t[2] + 1e-5),
                    np.sqrt(rows[f"tau1j{j}_beta2"][i]) / (t[0] + 1e-5), rows[f"nconsj{j}"][i]]
        np.testing.assert_allclose(x[i, :6], expected)
    assert features.FEATURES[:6] == [f"{n}_j1" for n in features.PER_JET]


def test_dequantize_only_counts_and_standardizer(tmp_path):
    x = np.tile(np.arange(12.0), (1000, 1))
    dq = features.dequantize(x, seed=1)
    moved = np.flatnonzero(np.any(dq != x, axis=0))
    assert [features.FEATURES[i] for i in moved] == features.COUNT_FEATURES
    assert np.abs(dq - x).max() <= 0.5
    s = features.Standardizer().fit(dq)
    z = s.transform(dq)
    np.testing.assert_allclose(z[:, moved].mean(0), 0, atol=1e-12)
    assert np.all(z[:, 0] == 0)  # constant column stays finite
    s.save(tmp_path / "s.npz")
    np.testing.assert_allclose(features.Standardizer.load(tmp_path / "s.npz").transform(dq), z)


def test_missing_columns_named():
    with pytest.raises(InputError, match="tau4j1_beta1"):
        features.quak_features({"mjj": np.ones(3), "mj1": np.ones(3), "mj2": np.ones(3), "nconsj1": np.ones(3),
                                "nconsj2": np.ones(3), "tau1j1_beta2": np.ones(3)})


def test_split_indices_disjoint():
    a, b = features.split_indices(100, [0.5, 0.3], seed=1)
    assert len(a) == 50 and len(b) == 30 and not set(a) & set(b)


def test_config_cross_checks_name_the_keys():
    from hepad.config import ConfigError, validate_config
    from hepad.quak.checks import check_quak_config

    ok = validate_config({})
    check_quak_config(ok)
    bad = validate_config({"quak": {"signals": ["wprime_4500_500_150"]}})
    with pytest.raises(ConfigError, match="quak.priors and quak.signals"):
        check_quak_config(bad)
    with pytest.raises(ConfigError, match="plot_prior"):
        check_quak_config(validate_config({"quak": {"plot_prior": "wprime_1_1_1"}}))
    with pytest.raises(ConfigError, match="digit"):
        check_quak_config(validate_config({"quak": {"digits": {"priors": [0]}}}))


def _run(repo_root, name, *args):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(repo_root / "scripts" / f"{name}.py"), *map(str, args)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _physics_extended(seed):
    """Background, a prior whose constituent counts come from another 'detector', a held-out signal."""
    rng = np.random.default_rng(seed)
    ext = {name: _extended(n, rng) for name, n in (("qcd", 1500), ("prior", 400), ("signal", 400))}
    ext["prior"]["nconsj1"] += 40  # another detector: other counts
    ext["signal"]["mj1"] = rng.uniform(300, 700, 400)
    ext["signal"]["mj2"] = rng.uniform(0, 250, 400)
    return ext


def test_kept_features_and_windows():
    kept = features.kept_features(["ncons"])
    assert kept == [f for f in features.FEATURES if not f.startswith("ncons")]
    assert features.kept_features(["ncons_j2", "tau43"]) == [
        f for f in features.FEATURES if f not in ("ncons_j2", "tau43_j1", "tau43_j2")]
    with pytest.raises(InputError, match="unknown"):
        features.kept_features(["nconst"])
    mj = np.array([[500.0, 150.0], [500.0, 90.0], [560.0, 150.0], [500.0, 150.0]])
    mjj = np.array([4.5, 4.5, 4.5, 4.9])
    window = {"mj1": [450, 550], "mj2": [100, 200], "mjj": [4.2, 4.8]}
    assert features.window_mask(mj, mjj, window).tolist() == [True, False, False, False]
    assert features.window_mask(mj, mjj, None).all()


def test_dropped_inputs_mean_the_same_in_training_and_application(tmp_path, repo_root):
    """quak.drop_inputs: the sample file holds the kept inputs only, every sample scaled with the background
    training mean and std; a prior records that list and scaling and is refused on a file that differs."""
    import json

    import h5py

    ext = _physics_extended(5)
    sets, meta = features.physics_samples(ext, "qcd", ["prior"], ["signal"], seed=2, drop_inputs=["ncons"])
    kept = features.kept_features(["ncons"])
    assert meta["features"] == kept and meta["dropped"] == features.COUNT_FEATURES
    for sample, splits in sets.items():
        for split, arrays in splits.items():
            assert arrays["x"].shape[1] == 10 and arrays["mj"].shape == (len(arrays["x"]), 2)
    # every sample is the same transform of the same columns: undoing the scaling gives the raw inputs
    raw, _, _ = features.quak_features(ext["signal"])
    scaler = features.Standardizer()
    scaler.mean_, scaler.std_ = np.array(meta["mean"]), np.array(meta["std"])
    back = scaler.inverse_transform(np.concatenate([sets["signal"]["calib"]["x"], sets["signal"]["test"]["x"]]))
    masses = np.sort(back[:, kept.index("m_j1")])
    np.testing.assert_allclose(masses, np.sort(raw[:, 0]), rtol=1e-9)
    bkg = sets["background"]["train"]["x"]
    np.testing.assert_allclose(bkg.mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(bkg.std(0), 1, atol=1e-9)
    # the prior trained on these inputs is applied on the same list and scaling
    samples = tmp_path / "samples.h5"
    features.write_samples(samples, sets, meta)
    prior_files = {}
    for name in ("background", "prior"):
        prior_files[name] = tmp_path / f"{name}.pt"
        _run(repo_root, "train_quak_prior", "--samples", samples, "--sample", name, "--family", "flow",
             "--param", "n_blocks=1", "--param", "hidden=8", "--param", "max_epochs=1", "--param", "n_ensemble=1",
             "--param", "batch_size=256", "--output", prior_files[name], "--history", tmp_path / f"{name}.json")
    loaded = load_prior(prior_files["prior"], threads=1)
    assert loaded.inputs_ == features.input_signature(meta)
    features.check_inputs(loaded.inputs_, features.read_meta(samples))
    windows = {"signal": {"mj1": [450, 550], "mj2": [100, 200]}, "prior": {"mjj": [2.8, 4.0]}}
    metrics = tmp_path / "metrics.json"
    space = ["--samples", samples, "--prior", f"background={prior_files['background']}",
             "--prior", f"prior={prior_files['prior']}", "--target-bkg-eff", 0.05, "--min-bkg-events", 2,
             "--signal-windows", json.dumps(windows), "--losses", tmp_path / "losses.h5", "--metrics", metrics]
    _run(repo_root, "quak_space", *space)
    m = json.loads(metrics.read_text())
    n_win = m["window_counts"]["signal"]
    assert 0 < n_win["test"] < len(sets["signal"]["test"]["x"])
    assert set(m["results_in_window"]["signal"]) == set(m["results"]["signal"])
    bp = m["background_prior"]
    assert set(bp) == {"prior", "signal"}
    assert bp["signal"]["n_signal"] == sum(len(sets["signal"][s]["x"]) for s in ("calib", "test"))
    assert bp["prior"]["n_signal"] == sum(len(sets["prior"][s]["x"]) for s in ("train", "val"))
    assert 0 < bp["prior"]["n_signal_in_window"] < bp["prior"]["n_signal"]
    assert 0 <= bp["prior"]["auc_in_window"] <= 1 and 0 <= bp["signal"]["auc"] <= 1
    with h5py.File(tmp_path / "losses.h5", "r") as f:
        assert "curves_in_window/signal/all" not in f  # one signal prior: no 'all' combination
        assert f["in_window/signal/test"][()].sum() == n_win["test"]
        assert "curves_in_window/signal/background+prior/hull" in f
    # a sample file with other inputs (all 12) or another scaling is refused
    sets12, meta12 = features.physics_samples(ext, "qcd", ["prior"], ["signal"], seed=2)
    with pytest.raises(InputError, match="trained on the inputs"):
        features.check_inputs(loaded.inputs_, meta12)
    other = dict(meta, mean=[v + 1 for v in meta["mean"]])
    with pytest.raises(InputError, match="mean"):
        features.check_inputs(loaded.inputs_, other)
    samples12 = tmp_path / "samples12.h5"
    features.write_samples(samples12, sets12, meta12)
    space[1] = samples12
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(repo_root / "scripts/quak_space.py"), *map(str, space)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "trained on the inputs" in result.stderr + result.stdout
