"""The dijet-function fit of the binned mjj spectrum outside a window, the background estimate inside it.

f(x) = p0 (1 − x)^p1 / x^(p2 + p3 ln x), x = mjj / √s, √s = 13 TeV: the customary fit function of dijet
resonance searches (ATLAS, CMS). It is fitted with iminuit to the bins outside the window by a binned
Poisson likelihood, with p0 = exp(a0) so that the parameters are of order one; ln f is linear in
(a0, p1, p2, p3), so a least-squares fit of ln(counts) gives the start values. The expected background
in the window is the fitted function integrated over it; its uncertainty from the fit covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepad.io import InputError

__all__ = ["SQRT_S_TEV", "FitError", "TooFewEvents", "dijet_function", "DijetFit", "fit_dijet"]

SQRT_S_TEV = 13.0
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(4)


class FitError(InputError):
    """The dijet fit outside a window failed (the message names the window)."""


class TooFewEvents(FitError):
    """Too few selected events outside the window to fit four parameters."""


def dijet_function(x, a0, p1, p2, p3):
    """exp(a0) (1 − x)^p1 / x^(p2 + p3 ln x)."""
    x = np.asarray(x, np.float64)
    lx = np.log(x)
    return np.exp(a0 + p1 * np.log1p(-x) - (p2 + p3 * lx) * lx)


def _bin_integrals(edges_x, params):
    """∫ f dx over each bin (4-point Gauss-Legendre)."""
    lo, hi = edges_x[:-1], edges_x[1:]
    half, mid = 0.5 * (hi - lo), 0.5 * (hi + lo)
    pts = mid[:, None] + half[:, None] * _NODES[None]
    return (dijet_function(pts, *params) * _WEIGHTS[None]).sum(axis=1) * half


@dataclass
class DijetFit:
    """A converged fit: parameters (a0, p1, p2, p3), their covariance, the fitted bins."""

    params: np.ndarray
    covariance: np.ndarray
    edges: np.ndarray  # TeV
    counts: np.ndarray
    fitted: np.ndarray  # bool per bin: used in the fit (outside the window)
    sqrt_s: float = SQRT_S_TEV

    def expected(self, edges, params=None) -> np.ndarray:
        """Expected counts in bins with ``edges`` (TeV)."""
        return _bin_integrals(np.asarray(edges, np.float64) / self.sqrt_s, self.params if params is None else params)

    def expected_with_error(self, edges, n_draws: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float, float]:
        """(counts per bin, their fit uncertainty, total, total's fit uncertainty) in bins with ``edges``,
        the uncertainties from ``n_draws`` parameter sets drawn from the fit covariance."""
        mean = self.expected(edges)
        draws = np.random.default_rng(seed).multivariate_normal(self.params, self.covariance, size=n_draws)
        with np.errstate(all="ignore"):
            sampled = np.array([self.expected(edges, p) for p in draws])
        sampled = sampled[np.isfinite(sampled).all(axis=1)]
        if len(sampled) < 2:
            return mean, np.zeros_like(mean), float(mean.sum()), 0.0
        return mean, sampled.std(axis=0), float(mean.sum()), float(sampled.sum(axis=1).std())


def fit_dijet(mjj, window, edges, *, min_events: int = 20, sqrt_s: float = SQRT_S_TEV) -> DijetFit:
    """Fit the dijet function to the histogram of ``mjj`` (TeV) in bins ``edges``, leaving out the bins
    that overlap ``window`` (an object with ``low``, ``high`` and ``label``, a Window).

    Raises TooFewEvents with fewer than ``min_events`` events or fewer than six non-empty bins outside
    the window, FitError when Minuit does not converge; both messages name the window."""
    from iminuit import Minuit

    edges = np.asarray(edges, np.float64)
    counts = np.histogram(np.asarray(mjj, np.float64), bins=edges)[0].astype(np.float64)
    fitted = (edges[1:] <= window.low) | (edges[:-1] >= window.high)
    n_out, nonzero = counts[fitted].sum(), int((counts[fitted] > 0).sum())
    where = f"window {window.label}"
    if n_out < min_events or nonzero < 6:
        raise TooFewEvents(f"dijet fit outside {where}: {int(n_out)} selected events in {nonzero} non-empty bins "
                           f"(at least {min_events} events in 6 bins are needed)")
    x_edges = edges / sqrt_s
    if x_edges[0] <= 0 or x_edges[-1] >= 1:
        raise FitError(f"dijet fit outside {where}: bins must lie within 0 < mjj < √s")
    # start values: least squares of ln(counts / width) at the bin centres, linear in the parameters
    use = fitted & (counts > 0)
    xc = 0.5 * (x_edges[1:] + x_edges[:-1])[use]
    design = np.column_stack([np.ones_like(xc), np.log1p(-xc), -np.log(xc), -np.log(xc) ** 2])
    target = np.log(counts[use] / np.diff(x_edges)[use])
    start = np.linalg.lstsq(design, target, rcond=None)[0]
    n_fit, xe = counts[fitted], x_edges
    # the saturated model's value is subtracted: the NLL is then of the order of the number of bins, which
    # keeps Minuit's numerical derivatives (and so the covariance) accurate
    with np.errstate(divide="ignore", invalid="ignore"):
        saturated = float(np.where(n_fit > 0, n_fit - n_fit * np.log(n_fit), 0.0).sum())

    # The four terms of ln f are nearly collinear over a dijet spectrum, so Minuit works on orthogonal
    # combinations q = R p (R from the QR decomposition of the count-weighted design matrix): there the
    # likelihood is round and the numerical Hessian, hence the covariance, is accurate.
    r = np.linalg.qr(design * np.sqrt(counts[use])[:, None], mode="r")
    r_inv = np.linalg.inv(r)

    def nll(q0, q1, q2, q3):
        params = r_inv @ np.array([q0, q1, q2, q3])
        with np.errstate(all="ignore"):
            mu = _bin_integrals(xe, params)[fitted]
        if not np.isfinite(mu).all() or (mu <= 0).any():
            return 1e30
        return float((mu - n_fit * np.log(mu)).sum() - saturated)

    minuit = Minuit(nll, *(r @ start))
    minuit.errordef = Minuit.LIKELIHOOD
    minuit.strategy = 1
    minuit.errors = [1.0] * 4
    minuit.migrad(ncall=20000)
    if not minuit.valid:
        minuit.migrad(ncall=20000)  # a second descent from where the first stopped
    if not minuit.valid:
        raise FitError(f"dijet fit outside {where} did not converge (Minuit: edm {minuit.fmin.edm:.3g}, "
                       f"{minuit.fmin.nfcn} calls; {int(n_out)} events in {nonzero} bins)")
    minuit.hesse()
    cov_q = np.array(minuit.covariance) if minuit.covariance is not None else np.zeros((4, 4))
    params = r_inv @ np.array(minuit.values)
    return DijetFit(params, r_inv @ cov_q @ r_inv.T, edges, counts, fitted, sqrt_s)
