"""QUAK beyond physics (the paper's MNIST test): handwritten digits, some classes as background, priors on
other classes, held-out classes as anomalies. The same priors, QUAK space and plots as the physics chain
run on the result: :func:`digit_samples` writes the same sample layout as the physics features.

Inputs: the 8x8 digits that scikit-learn ships (1797 images, no download) or MNIST (28x28, 70k images)
from an ``mnist.npz`` file (keys ``x_train, y_train, x_test, y_test``, the common NumPy layout).

Features: pixel intensities scaled to [0, 1], dequantised (uniform noise of one grey level: the pixels
are integers, and a density model would otherwise put spikes on them), projected on the first
``n_components`` principal components of the background training images, then standardised with the
background's mean and standard deviation (a 64- or 784-dimensional density of ~100-10k images is not
what the priors are for; the principal components carry the shapes).
"""

from __future__ import annotations

import numpy as np

from hepad.io import InputError
from hepad.quak.features import BACKGROUND_SPLITS, PRIOR_SPLITS, SIGNAL_SPLITS, Standardizer, split_indices


def load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 64) in [0, 1] with 17 grey levels, labels)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data / 16.0, data.target.astype(int)


def load_mnist(path) -> tuple[np.ndarray, np.ndarray]:
    """(images (70000, 784) in [0, 1], labels) from an ``mnist.npz`` file (train and test joined)."""
    try:
        with np.load(path) as data:
            x = np.concatenate([data["x_train"], data["x_test"]]).reshape(-1, 784) / 255.0
            y = np.concatenate([data["y_train"], data["y_test"]]).astype(int)
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"{path}: not an mnist.npz file with x_train, y_train, x_test, y_test ({err})")
    return x, y


def digit_samples(images, labels, background, priors, anomalies, n_components: int = 10, seed: int = 1,
                  grey_levels: int = 16, fractions=(0.5, 0.1, 0.2, 0.2), prior_val_fraction: float = 0.2):
    """The QUAK samples of a digits experiment.

    Parameters
    ----------
    images : (n, n_pixels) array in [0, 1]
    labels : (n,) int array
    background : list of int
        Digit classes that together form the background.
    priors : list of int
        One signal prior per class (sample ``digit<d>``).
    anomalies : list of int
        Held-out classes (sample ``digit<d>``), never seen by a prior.
    n_components : int
        Principal components kept.
    seed : int
        Seed of the splits and the dequantisation.
    grey_levels : int
        Grey levels of the images (16 for the 8x8 digits, 255 for MNIST): the width of the noise.
    fractions : 4 floats
        Background fractions of train, val, calib, test.
    prior_val_fraction : float
        Fraction of each prior class used for its validation.

    Returns
    -------
    sets : dict ``{sample: {split: {"x": array}}}``, features standardised
    meta : dict (JSON-ready): classes, components, explained variance
    """
    background, priors, anomalies = list(background), list(priors), list(anomalies)
    used = background + priors + anomalies
    if len(set(used)) != len(used):
        raise InputError(f"digit classes must be distinct across background {background}, priors {priors} "
                         f"and anomalies {anomalies}")
    present = set(np.unique(labels).tolist())
    absent = sorted(set(used) - present)
    if absent:
        raise InputError(f"digit classes {absent} are not in the data (classes {sorted(present)})")
    if not background or not anomalies:
        raise InputError("the digits experiment needs at least one background and one anomaly class")
    rng = np.random.default_rng(seed)
    x = np.asarray(images, dtype=np.float64) + rng.uniform(0.0, 1.0 / grey_levels, size=np.shape(images))
    labels = np.asarray(labels)

    raw = {}
    bkg_idx = np.flatnonzero(np.isin(labels, background))
    raw["background"] = dict(zip(BACKGROUND_SPLITS, (bkg_idx[i] for i in split_indices(len(bkg_idx), fractions, seed))))
    for d in priors:
        idx = np.flatnonzero(labels == d)
        parts = split_indices(len(idx), (1 - prior_val_fraction, prior_val_fraction), seed + 1 + d)
        raw[f"digit{d}"] = dict(zip(PRIOR_SPLITS, (idx[i] for i in parts)))
    for d in anomalies:
        idx = np.flatnonzero(labels == d)
        parts = split_indices(len(idx), (0.5, 0.5), seed + 101 + d)
        raw[f"digit{d}"] = dict(zip(SIGNAL_SPLITS, (idx[i] for i in parts)))

    from sklearn.decomposition import PCA

    train = x[raw["background"]["train"]]
    if n_components > min(train.shape):
        raise InputError(f"n_components = {n_components} exceeds what {len(train)} background training "
                         f"images of {train.shape[1]} pixels allow; lower quak.digits.n_components")
    pca = PCA(n_components=n_components, random_state=seed).fit(train)
    scaler = Standardizer().fit(pca.transform(train))
    sets = {name: {split: {"x": scaler.transform(pca.transform(x[idx]))} for split, idx in splits.items()}
            for name, splits in raw.items()}
    meta = {"priors": [f"digit{d}" for d in priors], "signals": [f"digit{d}" for d in anomalies],
            "background_classes": background, "prior_classes": priors, "anomaly_classes": anomalies,
            "n_components": n_components, "features": [f"pc{i + 1}" for i in range(n_components)],
            "mean": scaler.mean_.tolist(), "std": scaler.std_.tolist(),
            "explained_variance": float(pca.explained_variance_ratio_.sum()),
            "counts": {name: {split: int(len(idx)) for split, idx in splits.items()} for name, splits in raw.items()}}
    return sets, meta
