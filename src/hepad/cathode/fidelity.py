"""Template fidelity: how well a density estimator's SR samples (CATHODE's background template) match
the true SR background, measured by a classifier two-sample test (docs/cathode.md, leaderboard).

Equal numbers of samples (label 1) and true SR background events (label 0: the extra SR QCD of the
prepared set, every split that holds it) are drawn, shuffled with the seed and halved. A classifier
(``hepad.cathode.classify.StandardisedClassifier``, the configured family) trains on the first half, a
quarter of which validates it (early stopping, best epochs), and scores the second half; its AUC
(``hepad.metrics.sic.auc``) is the figure: 0.5 when the classifier cannot tell the template from the
background (a perfect template), 1 when it always can. A template that differs from the background
where the signal lies is what makes CATHODE select background, so a lower AUC means fewer false
positives.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> same = template_auc(rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2)), "hgb",
    ...                     {"n_models": 1, "max_iter": 20, "threads": 1}, seed=1)
    >>> 0.4 < same["auc"] < 0.6
    True
"""

from __future__ import annotations

import numpy as np

__all__ = ["VAL_SHARE", "two_sample_split", "template_auc"]

VAL_SHARE = 0.25  # of the training half, to validate the classifier (its early stopping / best epochs)


def two_sample_split(samples: np.ndarray, background: np.ndarray, seed: int):
    """Balanced, shuffled two-sample sets: ``(x_train, y_train, x_val, y_val, x_test, y_test)``.

    ``n = min(len(samples), len(background))`` events of each (a random subset of the larger one); half of
    each class tests, ``VAL_SHARE`` of the other half validates, the rest trains. Label 1 = samples.
    """
    samples, background = np.asarray(samples, np.float64), np.asarray(background, np.float64)
    if samples.ndim != 2 or background.ndim != 2 or samples.shape[1] != background.shape[1]:
        raise ValueError(f"samples {samples.shape} and background {background.shape} need the same features")
    n = min(len(samples), len(background))
    if n < 8:
        raise ValueError(f"only {n} events in the smaller sample: too few for a two-sample test (at least 8)")
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for label, rows in ((1, samples), (0, background)):
        rows = rows[rng.permutation(len(rows))[:n]]
        n_test = n // 2
        n_val = max(1, int(round(VAL_SHARE * (n - n_test))))
        for name, chunk in (("test", rows[:n_test]), ("val", rows[n_test:n_test + n_val]),
                            ("train", rows[n_test + n_val:])):
            parts[name].append((chunk, np.full(len(chunk), label)))
    out = []
    for name in ("train", "val", "test"):
        x = np.concatenate([c for c, _ in parts[name]])
        y = np.concatenate([lab for _, lab in parts[name]])
        order = rng.permutation(len(y))
        out += [x[order], y[order]]
    return tuple(out)


def template_auc(samples: np.ndarray, background: np.ndarray, family: str, params: dict, seed: int) -> dict:
    """AUC of a classifier that tells ``samples`` from ``background`` on held-out events (0.5: no
    difference), with the event counts, as a JSON-ready dict."""
    from hepad.cathode.classify import StandardisedClassifier
    from hepad.metrics.sic import auc

    x_train, y_train, x_val, y_val, x_test, y_test = two_sample_split(samples, background, seed)
    clf = StandardisedClassifier(family, {**params, "seed": seed}).fit(x_train, y_train, x_val, y_val)
    value = auc(clf.predict_proba(x_test), y_test)
    return {"auc": value, "n_per_class": int(min(len(samples), len(background))),
            "n_train": int(len(y_train)), "n_val": int(len(y_val)), "n_test": int(len(y_test)),
            "n_samples_available": int(len(samples)), "n_background_available": int(len(background))}
