"""Sampler of the conditional variable in the signal region: a Gaussian KDE in logit space (CATHODE).

The SR mjj values are mapped to u = (mjj - low) / (high - low) in (0, 1), then to t = logit(u), where a
Gaussian kernel of width ``bandwidth`` is placed on every event. A sample is a random event's t plus a
Gaussian step, mapped back with the inverse logit, so every sample lies strictly inside (low, high):
the KDE has no mass outside the SR, unlike a KDE on mjj itself, whose kernels spill over the edges.
"""

from __future__ import annotations

import numpy as np

from hepad.io import load_npz_state, save_npz_state

# Keep u away from exactly 0 or 1 after the inverse logit (float64 rounds sigmoid(t) to 1 for t > 37).
_U_EPS = 1e-12


class LogitKDE:
    """Gaussian kernel density estimate of mjj in logit space of the signal region.

    Parameters
    ----------
    bandwidth : float, default 0.01
        Standard deviation of the Gaussian kernel in logit units (docs/cathode.md: 0.01).

    Attributes
    ----------
    low_, high_ : float
        The signal region.
    points_ : ndarray of shape (n,)
        Logit-transformed SR values (the kernel centres).
    """

    def __init__(self, bandwidth: float = 0.01):
        if not bandwidth > 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth}")
        self.bandwidth = bandwidth

    def _to_logit(self, mjj):
        u = (np.asarray(mjj, dtype=np.float64) - self.low_) / (self.high_ - self.low_)
        return np.log(u) - np.log1p(-u)

    def fit(self, mjj, low: float, high: float) -> "LogitKDE":
        """Place the kernels on the SR values ``mjj``; every value must lie strictly inside (low, high)."""
        mjj = np.asarray(mjj, dtype=np.float64).ravel()
        if not high > low:
            raise ValueError(f"signal region needs low < high, got ({low}, {high})")
        if len(mjj) == 0:
            raise ValueError("LogitKDE.fit: no events in the signal region")
        outside = ~((mjj > low) & (mjj < high))
        if outside.any():
            raise ValueError(f"LogitKDE.fit: {outside.sum()} of {len(mjj)} values are not inside the signal "
                             f"region ({low}, {high}) (NaN counts as outside)")
        self.low_, self.high_ = float(low), float(high)
        self.points_ = self._to_logit(mjj)
        return self

    def sample(self, n: int, seed=0) -> np.ndarray:
        """Draw ``n`` values of mjj, all strictly inside (low, high)."""
        if not hasattr(self, "points_"):
            raise RuntimeError("LogitKDE is not fitted; call fit(mjj, low, high) first")
        rng = np.random.default_rng(seed)
        t = self.points_[rng.integers(len(self.points_), size=n)] + self.bandwidth * rng.standard_normal(n)
        u = np.clip(0.5 * (1.0 + np.tanh(0.5 * t)), _U_EPS, 1.0 - _U_EPS)  # stable inverse logit
        return self.low_ + u * (self.high_ - self.low_)

    def log_prob(self, mjj) -> np.ndarray:
        """Log density in mjj (includes the Jacobian of the logit); -inf outside the SR. O(n_points) per value."""
        mjj = np.asarray(mjj, dtype=np.float64).ravel()
        out = np.full(mjj.shape, -np.inf)
        inside = (mjj > self.low_) & (mjj < self.high_)
        t = self._to_logit(mjj[inside])
        u = (mjj[inside] - self.low_) / (self.high_ - self.low_)
        rows = np.flatnonzero(inside)
        for start in range(0, len(t), 1024):
            d = (t[start:start + 1024, None] - self.points_[None, :]) / self.bandwidth
            m = -0.5 * d * d
            mx = m.max(1, keepdims=True)
            lse = mx[:, 0] + np.log(np.exp(m - mx).mean(1))
            out[rows[start:start + 1024]] = lse
        jac = -np.log(u * (1 - u)) - np.log(self.high_ - self.low_)
        out[inside] += jac - np.log(self.bandwidth) - 0.5 * np.log(2 * np.pi)
        return out

    def get_state(self) -> dict:
        return {"bandwidth": np.float64(self.bandwidth), "low": np.float64(self.low_),
                "high": np.float64(self.high_), "points": self.points_}

    def set_state(self, state: dict) -> "LogitKDE":
        self.bandwidth = float(state["bandwidth"])
        self.low_, self.high_ = float(state["low"]), float(state["high"])
        self.points_ = np.asarray(state["points"], dtype=np.float64)
        return self

    def save(self, path) -> None:
        """Write the fitted state to an ``.npz`` file, atomically."""
        save_npz_state(self.get_state(), path)

    @classmethod
    def load(cls, path) -> "LogitKDE":
        return cls().set_state(load_npz_state(path))
