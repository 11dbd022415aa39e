"""The density estimator of CATHODE and ANODE: feature scaler + mjj scaling + conditional flow, composed.

Features x (mj1, dmj, tau21j1, tau21j2) go through :class:`hepad.cathode.scaling.LogitScaler` (min-max,
logit, standardise; fitted on the training data). The condition mjj is only standardised,
m' = (mjj - mean) / std with the training mean and std: an affine map keeps the SB-trained flow's
dependence on mjj smooth across the SR gap, where it is evaluated and sampled but never trained.

Log densities are those of the scaled features. ANODE compares two of them (SR and SB flows); it gives
the SR flow the SB model's scalers (:meth:`ConditionalDensity.fit` with ``scalers_from``), so both
densities live in the same space and the Jacobians of the scaling cancel in the ratio.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from hepad.cathode.scaling import LogitScaler
from hepad.io import InputError, atomic_output

log = logging.getLogger(__name__)

FLOW_FILE, SCALER_FILE, COND_FILE = "flow.pt", "scaler.npz", "condition.json"
MAX_ROUNDS = 20  # rounds of rejection sampling before giving up
MIN_ACCEPTANCE = 0.01  # below this share of in-range samples the flow is broken


class ConditionalDensity:
    """p(x | mjj) from a :class:`hepad.models.flows.ConditionalFlow` on scaled inputs.

    Parameters
    ----------
    flow : ConditionalFlow
        An unfitted flow with its hyperparameters (``n_features`` must match x).
    margin : float, default 1e-5
        Margin of the :class:`LogitScaler`.
    """

    def __init__(self, flow, margin: float = 1e-5):
        self.flow = flow
        self.margin = margin

    # -- scaling -------------------------------------------------------------------------------------

    def _scale_cond(self, mjj):
        return (np.asarray(mjj, dtype=np.float64) - self.mjj_mean_) / self.mjj_std_

    def in_domain(self, x) -> np.ndarray:
        """Events inside the feature range of the training data (the only ones with a density)."""
        return self.scaler_.in_domain(x)

    # -- training ------------------------------------------------------------------------------------

    def fit(self, x, mjj, x_val, mjj_val, checkpoint_path=None, scalers_from: "ConditionalDensity | None" = None):
        """Fit the scalers (or take them from ``scalers_from``) and train the flow.

        Events outside the scaler's domain are dropped (only possible in validation, or in training with
        borrowed scalers); their number is logged.
        """
        x, x_val = np.asarray(x, np.float64), np.asarray(x_val, np.float64)
        if scalers_from is None:
            self.scaler_ = LogitScaler(self.margin).fit(x)
            mjj = np.asarray(mjj, np.float64)
            self.mjj_mean_, self.mjj_std_ = float(mjj.mean()), float(mjj.std())
            if not self.mjj_std_ > 0:
                raise InputError("all training events have the same mjj: cannot condition on it")
        else:
            self.scaler_ = scalers_from.scaler_
            self.mjj_mean_, self.mjj_std_ = scalers_from.mjj_mean_, scalers_from.mjj_std_
        keep, keep_val = self.in_domain(x), self.in_domain(x_val)
        for name, mask in (("training", keep), ("validation", keep_val)):
            if (~mask).any():
                log.info("dropping %d of %d %s events outside the scaler's feature range", int((~mask).sum()),
                         len(mask), name)
        if keep.sum() < 2 or keep_val.sum() < 1:
            raise InputError(f"too few events inside the feature range to train a flow: {int(keep.sum())} "
                             f"training, {int(keep_val.sum())} validation")
        self.flow.fit(self.scaler_.transform(x[keep]), self._scale_cond(np.asarray(mjj)[keep]),
                      self.scaler_.transform(x_val[keep_val]), self._scale_cond(np.asarray(mjj_val)[keep_val]),
                      checkpoint_path=checkpoint_path)
        self.n_dropped_ = {"train": int((~keep).sum()), "val": int((~keep_val).sum())}
        return self

    @property
    def history_(self):
        return self.flow.history_

    # -- inference -----------------------------------------------------------------------------------

    def log_prob(self, x, mjj) -> np.ndarray:
        """log p(x | mjj) in the scaled feature space; -inf outside the training feature range."""
        x = np.asarray(x, np.float64)
        out = np.full(len(x), -np.inf)
        inside = self.in_domain(x)
        if inside.any():
            out[inside] = self.flow.log_prob(self.scaler_.transform(x[inside]),
                                             self._scale_cond(np.asarray(mjj)[inside]))
        return out

    def latent(self, x, mjj) -> np.ndarray:
        """The flow's latent point z of every event (scaled, then mapped forward at its own mjj; the best
        epoch): standard normal and independent of mjj for the background the flow describes (LaCATHODE).
        Rows outside the training feature range have no latent point: NaN."""
        x = np.asarray(x, np.float64)
        out = np.full(x.shape, np.nan)
        inside = self.in_domain(x)
        if inside.any():
            out[inside] = self.flow.latent(self.scaler_.transform(x[inside]),
                                           self._scale_cond(np.asarray(mjj)[inside]))
        return out

    def sample(self, mjj, seed: int, max_rounds: int = MAX_ROUNDS,
               min_acceptance: float = MIN_ACCEPTANCE) -> np.ndarray:
        """One feature vector per mjj value, in the original units, strictly inside the training range.

        Rejection, as the original ``domain_cut`` (never clipping): a draw outside the open range
        (min, max) of the training features is dropped and a new one is drawn at the same mjj, until every
        row holds an accepted draw. A pending row gets about 1.2 / acceptance draws per round (at most
        100), for at most ``max_rounds`` rounds; an acceptance of the first round below
        ``min_acceptance`` means the flow is broken and stops at once. The same ``seed`` gives the same
        samples. The acceptance is kept in ``acceptance_`` (accepted / drawn, first round).
        """
        mjj = np.asarray(mjj, np.float64).ravel()
        out = np.full((len(mjj), len(self.scaler_.min_)), np.nan)
        pending = np.arange(len(mjj))
        rng = np.random.default_rng(seed)
        copies, self.acceptance_ = 1, 1.0
        for round_ in range(max_rounds):
            if not len(pending):
                break
            rows = np.repeat(pending, copies)  # the copies of a row are adjacent
            z = self.flow.sample(self._scale_cond(mjj[rows]), seed=int(rng.integers(2**31)))
            bad = ~np.isfinite(z).all(axis=1)
            if bad.any():
                raise InputError(f"{int(bad.sum())} of {len(z)} flow samples are not finite: the flow is broken "
                                 "(retrain it, e.g. with a lower cathode.flow.lr)")
            x = self.scaler_.inverse_transform(z)
            accepted = self.scaler_.in_domain(x, strict=True)
            acceptance = accepted.mean()
            if round_ == 0:
                self.acceptance_ = float(acceptance)
                if acceptance < min_acceptance:
                    raise InputError(
                        f"only {acceptance:.3%} of {len(z)} flow samples fall inside the range of the training "
                        f"data (at least {min_acceptance:.1%} expected): the flow is broken or was trained on "
                        "other data; retrain it (rerun train_flow)")
            # the first accepted copy of each pending row
            first = np.flatnonzero(accepted)  # rows is sorted, so the accepted copies of a row are adjacent
            first = first[np.r_[True, rows[first][1:] != rows[first][:-1]]] if len(first) else first
            out[rows[first]] = x[first]
            pending = np.setdiff1d(pending, rows[first], assume_unique=True)
            copies = int(min(100, np.ceil(1.2 / max(acceptance, 1e-2))))
        if len(pending):
            raise InputError(f"{len(pending)} of {len(mjj)} mjj values got no flow sample inside the training range "
                             f"in {max_rounds} rounds of rejection (acceptance {self.acceptance_:.3%}): the flow "
                             "puts almost no density there; retrain it")
        if self.acceptance_ < 1:
            log.info("rejection: %.3f %% of the flow samples fell outside the training range and were redrawn",
                     100 * (1 - self.acceptance_))
        return out

    # -- persistence ---------------------------------------------------------------------------------

    def save(self, folder) -> None:
        """Write flow, scaler and condition scaling into ``folder`` (each file atomically)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.flow.save(folder / FLOW_FILE)
        self.scaler_.save(folder / SCALER_FILE)
        with atomic_output(folder / COND_FILE) as tmp:
            tmp.write_text(json.dumps({"mjj_mean": self.mjj_mean_, "mjj_std": self.mjj_std_}, indent=2) + "\n")

    @classmethod
    def load(cls, folder, device=None, threads=None) -> "ConditionalDensity":
        from hepad.models.flows import ConditionalFlow

        folder = Path(folder)
        missing = [name for name in (FLOW_FILE, SCALER_FILE, COND_FILE) if not (folder / name).exists()]
        if missing:
            raise InputError(f"{folder}: not a trained density model (missing {', '.join(missing)}); rerun train_flow")
        flow = ConditionalFlow.load(folder / FLOW_FILE, device=device, threads=threads)
        model = cls(flow)
        model.scaler_ = LogitScaler.load(folder / SCALER_FILE)
        model.margin = model.scaler_.margin
        cond = json.loads((folder / COND_FILE).read_text())
        model.mjj_mean_, model.mjj_std_ = cond["mjj_mean"], cond["mjj_std"]
        return model


def anode_scores(sr_model: ConditionalDensity, sb_model: ConditionalDensity, x, mjj) -> np.ndarray:
    """ANODE's anomaly score log p_SR(x|m) - log p_SB(x|m) (both in the SB model's scaled space).

    Events outside the feature range have no density; they get the lowest finite score minus one, i.e.
    they are ranked as the least signal-like (the count is logged).
    """
    if not np.allclose(sr_model.scaler_.min_, sb_model.scaler_.min_) or sr_model.mjj_mean_ != sb_model.mjj_mean_:
        raise ValueError("the SR and SB models must share the scalers (fit the SR model with scalers_from)")
    with np.errstate(invalid="ignore"):  # -inf - -inf outside the range: replaced below
        score = sr_model.log_prob(x, mjj) - sb_model.log_prob(x, mjj)
    bad = ~np.isfinite(score)
    if bad.all():
        raise InputError("no test event lies inside the flows' feature range")
    if bad.any():
        log.info("%d of %d events are outside the flows' feature range: lowest score", int(bad.sum()), len(bad))
        score[bad] = score[~bad].min() - 1.0
    return score
