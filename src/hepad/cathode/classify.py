"""A classifier of hepad.models.classifiers behind a standardisation of its inputs.

The features differ in scale by orders of magnitude (masses in TeV, tau21 near 0.5); a neural network
needs them standardised, trees don't care (the map is monotonic), so every family gets the same input.
The mean and standard deviation come from the training data only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hepad.io import atomic_output

SCALER_FILE, MODEL_FILE, INFO_FILE = "standardise.json", "model", "classifier.json"


class StandardisedClassifier:
    """(x - mean) / std, then a classifier made by ``make_classifier(kind, **params)``.

    Parameters
    ----------
    kind : {"mlp", "hgb"}
        Classifier family.
    params : dict
        Constructor arguments of the family (seed, threads and hyperparameters).
    """

    def __init__(self, kind: str, params: dict | None = None):
        self.kind = kind
        self.params = dict(params or {})

    def _scale(self, x):
        return (np.asarray(x, np.float64) - self.mean_) / self.std_

    def fit(self, x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None):
        """Standardise with the training data, then fit; ``x_val, y_val`` go to the classifier scaled
        the same way (None: no validation data, which the HGB ensemble's default early stopping refuses)."""
        from hepad.models.classifiers import make_classifier

        if (x_val is None) != (y_val is None):
            raise ValueError("give both x_val and y_val, or neither")
        x = np.asarray(x, np.float64)
        self.mean_ = x.mean(axis=0)
        self.std_ = x.std(axis=0)
        self.std_[self.std_ == 0] = 1.0
        self.model_ = make_classifier(self.kind, **self.params)
        x_val = None if x_val is None else self._scale(x_val)
        self.model_.fit(self._scale(x), y, x_val, y_val, sample_weight=sample_weight,
                        sample_weight_val=sample_weight_val)
        return self

    def predict_proba(self, x) -> np.ndarray:
        """Signal-likeness score in [0, 1] per event (1-d)."""
        return np.asarray(self.model_.predict_proba(self._scale(x))).reshape(-1)

    def save(self, folder) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save(folder / MODEL_FILE)
        with atomic_output(folder / SCALER_FILE) as tmp:
            tmp.write_text(json.dumps({"mean": self.mean_.tolist(), "std": self.std_.tolist()}) + "\n")
        with atomic_output(folder / INFO_FILE) as tmp:
            tmp.write_text(json.dumps({"kind": self.kind, "params": self.params}, indent=2, default=str) + "\n")
