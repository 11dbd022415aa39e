"""Preprocessing of the flow inputs: min-max to (0, 1), logit, standardise (docs/cathode.md).

The logit maps the bounded features onto the real line, where a flow with a Gaussian base density
models them much better than sharp edges. The min/max are those of the training data; events outside
that range have no image (the logit of a value outside (0, 1) is undefined) and are dropped by callers
with :meth:`LogitScaler.in_domain`; flow samples outside it are rejected and redrawn
(:meth:`hepad.cathode.density.ConditionalDensity.sample`), never clipped.
"""

from __future__ import annotations

import numpy as np

from hepad.io import load_npz_state, save_npz_state


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _sigmoid(z):
    # Two branches so that large |z| neither overflows nor loses precision.
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


class LogitScaler:
    """Min-max scaling to (margin, 1 - margin), logit, then standardisation to zero mean, unit variance.

    Parameters
    ----------
    margin : float, default 1e-5
        The training minimum and maximum map to ``margin`` and ``1 - margin`` instead of 0 and 1, so
        that the extreme training events keep a finite logit (about ±11.5 for the default) instead of
        being lost. Must be in [0, 0.5).

    Attributes
    ----------
    min_, max_ : ndarray of shape (n_features,)
        Training minimum and maximum per feature: the domain of the transform.
    mean_, std_ : ndarray of shape (n_features,)
        Mean and standard deviation of the logit values of the training data.
    """

    def __init__(self, margin: float = 1e-5):
        if not 0.0 <= margin < 0.5:
            raise ValueError(f"margin must be in [0, 0.5), got {margin}")
        self.margin = margin

    def _check_fitted(self):
        if not hasattr(self, "min_"):
            raise RuntimeError("LogitScaler is not fitted; call fit(x) first")

    @staticmethod
    def _as2d(x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ValueError(f"expected an array of shape (n, n_features), got shape {x.shape}")
        return x

    def fit(self, x) -> "LogitScaler":
        """Learn the min/max and the logit mean/std from training data ``x`` of shape (n, n_features)."""
        x = self._as2d(x)
        if len(x) < 2:
            raise ValueError("LogitScaler.fit needs at least two events")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"LogitScaler.fit: {int((~np.isfinite(x)).any(1).sum())} rows are not finite")
        self.min_ = x.min(axis=0)
        self.max_ = x.max(axis=0)
        constant = self.max_ <= self.min_
        if constant.any():
            raise ValueError(f"LogitScaler.fit: features {np.flatnonzero(constant).tolist()} are constant")
        self.mean_ = np.zeros(x.shape[1])
        self.std_ = np.ones(x.shape[1])
        z = self.transform(x)
        self.mean_ = z.mean(axis=0)
        self.std_ = z.std(axis=0)
        self.std_[self.std_ == 0] = 1.0
        return self

    def in_domain(self, x, strict: bool = False) -> np.ndarray:
        """Boolean mask of the rows whose every feature lies inside the fitted [min, max] (``strict``: inside
        the open interval (min, max), as flow samples must be: an edge value is a clipped tail, not a draw)."""
        self._check_fitted()
        x = self._as2d(x)
        if strict:
            return np.all((x > self.min_) & (x < self.max_), axis=1)
        return np.all((x >= self.min_) & (x <= self.max_), axis=1)

    def transform(self, x) -> np.ndarray:
        """Scale ``x``; rows outside the fitted domain give NaN (drop them first with ``in_domain``)."""
        self._check_fitted()
        x = self._as2d(x)
        unit = (x - self.min_) / (self.max_ - self.min_)
        unit = self.margin + (1.0 - 2.0 * self.margin) * unit
        with np.errstate(invalid="ignore", divide="ignore"):
            z = _logit(unit)
        z[(unit <= 0) | (unit >= 1)] = np.nan
        return (z - self.mean_) / self.std_

    def inverse_transform(self, z, clip: bool = False) -> np.ndarray:
        """Map scaled values back to the original features.

        Parameters
        ----------
        z : array of shape (n, n_features)
        clip : bool, default False
            Clip the result to the fitted [min, max]. Values of ``z`` beyond the image of the training
            extremes (e.g. flow samples in the far tails) otherwise land slightly outside the domain.
        """
        self._check_fitted()
        z = self._as2d(z)
        unit = _sigmoid(z * self.std_ + self.mean_)
        unit = (unit - self.margin) / (1.0 - 2.0 * self.margin)
        x = self.min_ + unit * (self.max_ - self.min_)
        if clip:
            x = np.clip(x, self.min_, self.max_)
        return x

    def fit_transform(self, x) -> np.ndarray:
        return self.fit(x).transform(x)

    def get_state(self) -> dict:
        """The fitted state as a dict of numpy arrays (what ``save`` writes)."""
        self._check_fitted()
        return {"margin": np.float64(self.margin), "min": self.min_, "max": self.max_,
                "mean": self.mean_, "std": self.std_}

    def set_state(self, state: dict) -> "LogitScaler":
        self.margin = float(state["margin"])
        self.min_ = np.asarray(state["min"], dtype=np.float64)
        self.max_ = np.asarray(state["max"], dtype=np.float64)
        self.mean_ = np.asarray(state["mean"], dtype=np.float64)
        self.std_ = np.asarray(state["std"], dtype=np.float64)
        return self

    def save(self, path) -> None:
        """Write the fitted state to an ``.npz`` file, atomically."""
        save_npz_state(self.get_state(), path)

    @classmethod
    def load(cls, path) -> "LogitScaler":
        return cls().set_state(load_npz_state(path))
