"""R-ANODE (Das, Kasieczka, Shih, arXiv:2312.11629; docs/cathode.md): a signal density fitted in the SR
beside the frozen SB background density.

The SR data are modelled as the mixture

    p_data(x | m) = w p_sig(x | m) + (1 - w) p_bkg(x | m),

where p_bkg is the SB flow (CATHODE's background model, trained on the sidebands and evaluated at each SR
event's mjj; frozen: its values are computed once), p_sig a small conditional flow and w the signal
fraction. The signal flow, and w when it is learned, maximise the SR likelihood; the anomaly score is
log p_sig(x | m) - log p_bkg(x | m), the log of the signal-to-background likelihood ratio (the full ratio
p_data / p_bkg = w R + (1 - w) ranks events the same for any fixed w > 0).

Everything lives in the SB model's scaled space (its feature scaler and mjj standardisation), so the
Jacobians of the scaling cancel in the ratio, as in ANODE; SR events outside the SB range have no
background density and are dropped from the fit (and scored lowest).

Implementation: :class:`SignalFlow` is a :class:`hepad.models.flows.ConditionalFlow` whose network wraps a
signal flow of the same kinds and adds w. Its condition carries the event's log p_bkg as a last column
while it trains, so the one training loop (``hepad.models.training.train``), the best-epoch ensemble,
checkpoints and persistence are the flow's own, with the mixture's negative log-likelihood as the loss
and the validation criterion. Without that column (after training), the network's density is the signal
density p_sig(x | m) alone.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn

from hepad.cathode.density import ConditionalDensity
from hepad.io import InputError
from hepad.models.flows import ConditionalFlow

log = logging.getLogger(__name__)

W_MODES = ("learned", "fixed", "scan", "true")


def _logit(w: float) -> float:
    if not 0 < w < 1:
        raise InputError(f"the signal fraction w must lie in (0, 1), got {w}")
    return math.log(w / (1.0 - w))


class _SignalMixture(nn.Module):
    """A signal flow and the signal fraction w = sigmoid(w_logit) (a parameter when learned)."""

    def __init__(self, signal: nn.Module, n_cond: int, w: float, learn_w: bool):
        super().__init__()
        self.signal, self.signal_n_cond = signal, n_cond
        logit = torch.tensor(_logit(w), dtype=torch.float32)
        if learn_w:
            self.w_logit = nn.Parameter(logit)
        else:
            self.register_buffer("w_logit", logit)

    def log_prob(self, x, c):
        """With c = [condition, log p_bkg]: log(w p_sig + (1 - w) p_bkg); with the condition alone: log p_sig."""
        n_cond = self.signal_n_cond
        if c.shape[1] == n_cond:
            return self.signal.log_prob(x, c)
        log_ps = self.signal.log_prob(x, c[:, :n_cond])
        log_w = nn.functional.logsigmoid(self.w_logit)
        log_1mw = nn.functional.logsigmoid(-self.w_logit)
        return torch.logaddexp(log_w + log_ps, log_1mw + c[:, n_cond])

    def sample_from_noise(self, z, c):
        """Signal samples (the signal model is a generative model too)."""
        return self.signal.sample_from_noise(z, c[:, : self.signal_n_cond])


class SignalFlow(ConditionalFlow):
    """R-ANODE's signal density with its signal fraction (module docstring).

    Parameters
    ----------
    w : float, default 0.01
        The signal fraction: fixed, or the starting value when ``learn_w``.
    learn_w : bool, default True
        Learn w together with the signal flow (w = sigmoid of a free parameter).
    **flow_params
        Settings of :class:`ConditionalFlow` (size, training recipe, kind).

    Fitting takes the condition with the background log density as its last column (:func:`fit_signal`).
    """

    _PARAMS = ConditionalFlow._PARAMS + ("w", "learn_w")
    _RESULT_PARAMS = ConditionalFlow._RESULT_PARAMS + ("w", "learn_w")

    def __init__(self, w: float = 0.01, learn_w: bool = True, **flow_params):
        super().__init__(**flow_params)
        _logit(w)
        self.w, self.learn_w = float(w), bool(learn_w)

    def _build(self, n_cond):
        if n_cond < 2:
            raise ValueError("the R-ANODE signal flow trains on [condition, log p_bkg]: at least two columns")
        return _SignalMixture(super()._build(n_cond - 1), n_cond - 1, self.w, self.learn_w)

    @property
    def signal_fractions_(self) -> list[float]:
        """w of every kept epoch, best first."""
        self._check_fitted()
        return [float(torch.sigmoid(state["w_logit"])) for state in self.ensemble_]


def fit_signal(flow: SignalFlow, background: ConditionalDensity, x, mjj, x_val, mjj_val,
               checkpoint_path=None) -> ConditionalDensity:
    """Fit ``flow`` to the SR data (x, mjj) beside the frozen ``background`` (the SB model); returns the
    signal density in the background model's scaled space (a ConditionalDensity sharing its scalers).

    Events outside the background model's feature range have no background density: dropped (counted in
    ``n_dropped_`` of the result)."""
    model = ConditionalDensity(flow, margin=background.margin)
    model.scaler_, model.mjj_mean_, model.mjj_std_ = background.scaler_, background.mjj_mean_, background.mjj_std_
    parts = []
    for name, xs, ms in (("training", x, mjj), ("validation", x_val, mjj_val)):
        xs, ms = np.asarray(xs, np.float64), np.asarray(ms, np.float64)
        keep = background.in_domain(xs)
        if (~keep).any():
            log.info("dropping %d of %d SR %s events outside the SB model's feature range", int((~keep).sum()),
                     len(keep), name)
        if keep.sum() < 2:
            raise InputError(f"only {int(keep.sum())} SR {name} events lie inside the SB model's feature range")
        log_pb = background.log_prob(xs[keep], ms[keep])
        cond = np.column_stack([model._scale_cond(ms[keep]), log_pb])
        parts.append((background.scaler_.transform(xs[keep]), cond, int((~keep).sum())))
    (xt, ct, dropped), (xv, cv, dropped_val) = parts
    flow.fit(xt, ct, xv, cv, checkpoint_path=checkpoint_path)
    model.n_dropped_ = {"train": dropped, "val": dropped_val}
    return model


def signal_density(flow: SignalFlow, background: ConditionalDensity) -> ConditionalDensity:
    """A fitted (e.g. loaded) signal flow as a density in the background model's scaled space."""
    model = ConditionalDensity(flow, margin=background.margin)
    model.scaler_, model.mjj_mean_, model.mjj_std_ = background.scaler_, background.mjj_mean_, background.mjj_std_
    return model


def true_fraction(summary: dict) -> float:
    """The injected signal fraction w = S / (S + B) of the SR data (a prepared set's summary)."""
    sr = summary["signal_region"]
    total = sr["signal"] + sr["background"]
    if sr["signal"] <= 0 or total <= 0:
        raise InputError("w_mode 'true' needs injected signal in the SR (this prepared set has none); use 'learned'")
    return sr["signal"] / total
