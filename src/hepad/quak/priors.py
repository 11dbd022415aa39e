"""QUAK priors: one density model per class of events, each giving a loss per event (low = "looks like my
class"). Two families, with the same scikit-learn shape (``fit(x, x_val)``, ``score(x)``, ``save``,
``load``; numpy in and out):

- :class:`FlowPrior`: a masked autoregressive flow (the project's :class:`hepad.models.flows.ConditionalFlow`,
  given a constant condition, which makes it an unconditional density) scoring ``-log p(x)``;
- :class:`VAEPrior`: the original QUAK model, a variational auto-encoder whose latent prior is itself a
  MAF (nflows), scoring ``||x - decoder(mu(x))||^2 + beta * KL`` where the KL term
  ``E_q[log q(z|x) - log p_flow(z)]`` is a Monte-Carlo average over ``n_score_samples`` noise draws,
  fixed and shared by all events (a deterministic score of each event alone).

:func:`make_prior` builds either from a family name and a dict of hyperparameters, :func:`load_prior`
reads any saved prior. Both train in :func:`hepad.models.training.train` (docs/quak.md); their model files
hold the per-epoch history without timings (``epoch_seconds_``, ``timed_history()``: for the log and the
history JSON).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn

from hepad.io import InputError
from hepad.models.base import Estimator, check_array, load_torch_state, resolve_device, save_torch_state, set_threads
from hepad.models.flows import ConditionalFlow
from hepad.models.training import Checkpoint, fingerprint, setup, train

log = logging.getLogger(__name__)

FAMILIES = ("flow", "vae")


def _as2d(x, name) -> np.ndarray:
    return check_array(x, name, column=False, finite=True)


class FlowPrior(Estimator):
    """Unconditional MAF density; loss = -log p(x) in nats (of the standardised features).

    A wrapper of a :class:`hepad.models.flows.ConditionalFlow` (``flow``) given a constant condition: its
    settings are the flow's, under the same names (:attr:`_PARAMS`, the fourteen a prior takes), with the
    prior's own defaults (:attr:`DEFAULTS`, docs/quak.md) where they differ from CATHODE's; the other
    settings of the flow keep their values (no learning-rate warm-up). ``n_features`` is set by
    :meth:`fit`.

    Parameters
    ----------
    flow : ConditionalFlow, optional
        The flow to train (its settings; ``n_features`` is overwritten at fit). Default: a flow of the
        prior's defaults updated with ``settings``.
    **settings
        Settings of the flow, any of :attr:`_PARAMS`. Defaults: ``n_blocks`` 6, ``hidden`` 64,
        ``batch_norm`` True, ``lr`` 1e-3, ``weight_decay`` 1e-6, ``batch_size`` 1024, ``max_epochs`` 30,
        ``patience`` 5, ``n_ensemble`` 3 (densities averaged), ``implementation`` "made",
        ``lr_schedule`` "cosine", ``seed`` 0, ``threads``/``device`` None (see ConditionalFlow).
    """

    family = "flow"
    # The settings a prior takes (and saves under "params"): those of the flow but the data's dimension and
    # the schedule details fixed by the prior.
    _PARAMS = ("n_blocks", "hidden", "batch_norm", "lr", "weight_decay", "batch_size", "max_epochs", "patience",
               "n_ensemble", "implementation", "lr_schedule", "seed", "threads", "device")
    # The prior's defaults where they differ from ConditionalFlow's (CATHODE's reference values).
    DEFAULTS = {"n_blocks": 6, "hidden": 64, "lr": 1e-3, "batch_size": 1024, "max_epochs": 30, "patience": 5,
                "n_ensemble": 3, "implementation": "made", "lr_schedule": "cosine"}

    def __init__(self, flow: ConditionalFlow | None = None, **settings):
        unknown = sorted(set(settings) - set(self._PARAMS))
        if unknown:
            raise TypeError(f"FlowPrior got unexpected settings {unknown}; allowed: {', '.join(self._PARAMS)}")
        if flow is None:
            flow = ConditionalFlow(**{**self.DEFAULTS, **settings})
        elif settings:
            flow = ConditionalFlow(**{**flow.get_params(), **settings})
        self.flow = flow

    def fit(self, x, x_val, checkpoint_path=None) -> "FlowPrior":
        """Train the flow on ``x`` (n, n_features), selecting epochs on ``x_val``; ``checkpoint_path`` as in
        :meth:`ConditionalFlow.fit`."""
        x, x_val = _as2d(x, "x"), _as2d(x_val, "x_val")
        self.n_features_ = x.shape[1]
        self.flow.n_features = self.n_features_
        # A constant condition: its weights multiply zero, so the flow is an unconditional density.
        self.flow.fit(x, np.zeros(len(x)), x_val, np.zeros(len(x_val)), checkpoint_path=checkpoint_path)
        self.flow_ = self.flow  # the fitted flow (the name the prior has always had)
        self.history_ = self.flow.history_
        self.epoch_seconds_ = self.flow.epoch_seconds_
        return self


    def score(self, x) -> np.ndarray:
        """-log p(x) per event (higher = less like the training class)."""
        if not hasattr(self, "flow_"):
            raise RuntimeError("FlowPrior is not fitted; call fit(...) or load(path) first")
        x = _as2d(x, "x")
        return -self.flow_.log_prob(x, np.zeros(len(x)))

    def save(self, path) -> None:
        state = {"family": self.family, "params": self.get_params(), "n_features": self.n_features_,
                 "flow": self.flow_.get_state(), "inputs": getattr(self, "inputs_", None)}
        save_torch_state(path, state)

    @classmethod
    def _from_state(cls, state, threads=None, device=None) -> "FlowPrior":
        # The flow's state holds every setting (the prior's "params" repeat the fourteen it takes).
        prior = cls(flow=ConditionalFlow.from_state(state["flow"], threads=threads, device=device))
        prior.n_features_ = state["n_features"]
        prior.flow_ = prior.flow
        prior.history_ = prior.flow.history_
        return prior

    @classmethod
    def load(cls, path, threads=None, device=None) -> "FlowPrior":
        return load_prior(path, threads=threads, device=device)


def _flow_setting(name):
    def get(self):
        return getattr(self.flow, name)

    def set_(self, value):
        setattr(self.flow, name, value)

    return property(get, set_, doc=f"The wrapped flow's ``{name}`` (see ConditionalFlow).")


for _name in FlowPrior._PARAMS:
    setattr(FlowPrior, _name, _flow_setting(_name))
del _name


# ---------------------------------------------------------------------------------------------------- VAE

def _mlp(sizes, final_activation=False):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.ELU())
    return nn.Sequential(*layers)


class _LatentFlow(nn.Module):
    """Unconditional MAF of the latent space (nflows), as the original's flow prior."""

    def __init__(self, n_latent, n_blocks, hidden):
        super().__init__()
        from nflows.distributions.normal import StandardNormal
        from nflows.flows.base import Flow
        from nflows.transforms.autoregressive import MaskedAffineAutoregressiveTransform
        from nflows.transforms.base import CompositeTransform
        from nflows.transforms.permutations import ReversePermutation

        transforms = []
        for _ in range(n_blocks):
            transforms.append(MaskedAffineAutoregressiveTransform(features=n_latent, hidden_features=hidden))
            transforms.append(ReversePermutation(n_latent))
        self.flow = Flow(CompositeTransform(transforms), StandardNormal([n_latent]))

    def log_prob(self, z):
        return self.flow.log_prob(z)


class _VAE(nn.Module):
    def __init__(self, n_features, hidden, n_latent, prior_blocks, prior_hidden, recon_sum=True):
        super().__init__()
        self.recon_sum = recon_sum
        self.encoder = _mlp([n_features, *hidden], final_activation=True)
        self.to_mu = nn.Linear(hidden[-1], n_latent)
        self.to_logvar = nn.Linear(hidden[-1], n_latent)
        self.decoder = _mlp([n_latent, *reversed(hidden), n_features])
        self.prior = _LatentFlow(n_latent, prior_blocks, prior_hidden)

    def losses(self, x, eps):
        """Per event: (reconstruction MSE of the sampled z, KL estimate) with noise ``eps`` (k, n, d)."""
        h = self.encoder(x)
        mu, logvar = self.to_mu(h), self.to_logvar(h).clamp(-12.0, 8.0)
        std = torch.exp(0.5 * logvar)
        z = mu + std * eps  # (k, n, d)
        k, n, d = z.shape
        # log q(z|x) of a diagonal Gaussian at its own sample: the eps**2 term is the standardised distance.
        log_q = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(-1)
        log_p = self.prior.log_prob(z.reshape(k * n, d)).reshape(k, n)
        return self._sq_err(self.decoder(z), x).mean(0), (log_q - log_p).mean(0), mu

    def _sq_err(self, x_hat, x):
        err = (x_hat - x) ** 2
        return err.sum(-1) if self.recon_sum else err.mean(-1)

    def score(self, x, eps, beta):
        _, kl, mu = self.losses(x, eps)
        return self._sq_err(self.decoder(mu), x) + beta * kl


class VAEPrior(Estimator):
    """Variational auto-encoder with a MAF prior in the latent space (the original QUAK model).

    Loss (training and score) = squared reconstruction error (summed or averaged over the features) +
    ``beta`` * KL(q(z|x) || p_flow(z)).

    Parameters
    ----------
    n_latent : int, default 4
        Latent dimension.
    hidden : sequence of int, default (64, 32)
        Encoder hidden layers (the decoder mirrors them), ELU.
    beta : float, default 1.0
        Weight of the KL term (the paper scans 0.1 ... 10).
    reconstruction : {"sum", "mean"}, default "sum"
        Squared error summed over the features (a Gaussian likelihood: beta = 1 is the standard VAE) or
        averaged (which weighs the KL n_features times more: on standardised inputs the latent space
        then tends to collapse and the reconstruction to the mean).
    prior_blocks : int, default 4
        MADE blocks of the latent flow.
    prior_hidden : int, default 32
        Hidden units of each latent MADE.
    lr : float, default 1e-3
        Adam learning rate (encoder, decoder and latent flow together).
    batch_size : int, default 1024
        Events per step.
    max_epochs : int, default 30
        Upper limit of epochs.
    patience : int or None, default 5
        Early stopping on the validation loss; the best epoch's weights are kept.
    n_score_samples : int, default 8
        Latent draws of the Monte-Carlo KL estimate when scoring (fixed seed: deterministic scores).
    seed : int, default 0
        Seed of initialisation, batch order and training noise.
    threads, device
        Torch CPU threads and device.
    """

    family = "vae"
    _PARAMS = ("n_latent", "hidden", "beta", "reconstruction", "prior_blocks", "prior_hidden", "lr", "batch_size", "max_epochs",
               "patience", "n_score_samples", "seed", "threads", "device")

    def __init__(self, n_latent=4, hidden=(64, 32), beta=1.0, reconstruction="sum", prior_blocks=4, prior_hidden=32, lr=1e-3,
                 batch_size=1024, max_epochs=30, patience=5, n_score_samples=8, seed=0, threads=None, device=None):
        self.n_latent = n_latent
        self.hidden = tuple(hidden)
        self.beta = beta
        if reconstruction not in ("sum", "mean"):
            raise ValueError(f"reconstruction must be 'sum' or 'mean', got {reconstruction!r}")
        self.reconstruction = reconstruction
        self.prior_blocks = prior_blocks
        self.prior_hidden = prior_hidden
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.n_score_samples = n_score_samples
        self.seed = seed
        self.threads = threads
        self.device = device

    def _build(self):
        torch.manual_seed(self.seed)
        return _VAE(self.n_features_, list(self.hidden), self.n_latent, self.prior_blocks, self.prior_hidden,
                    recon_sum=self.reconstruction == "sum")

    def fit(self, x, x_val, checkpoint_path=None) -> "VAEPrior":
        """Train on ``x`` (n, n_features), keeping the epoch with the lowest validation loss on ``x_val``.

        ``checkpoint_path``: as in :meth:`hepad.models.flows.ConditionalFlow.fit` (the training state after
        every epoch, resumed bit for bit when compatible).
        """
        x, x_val = _as2d(x, "x"), _as2d(x_val, "x_val")
        if len(x) < 2 or len(x_val) < 1:
            raise InputError(f"too few events to train a VAE: {len(x)} training, {len(x_val)} validation")
        device = setup(self.threads, self.device)
        self.n_features_ = x.shape[1]
        model = self._build().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        xt, xv = torch.as_tensor(x, device=device), torch.as_tensor(x_val, device=device)
        n_batches = max(1, round(len(x) / self.batch_size))
        gen = torch.Generator().manual_seed(self.seed)  # batch order, then each batch's latent noise
        log.info("training VAE prior (latent %d, hidden %s, beta %g) on %d events, %d validation, %d steps/epoch",
                 self.n_latent, self.hidden, self.beta, len(x), len(x_val), n_batches)

        def loss(idx):
            eps = torch.randn(1, len(idx), self.n_latent, generator=gen).to(device)
            recon, kl, _ = model.losses(xt[idx], eps)
            return (recon + self.beta * kl).mean(), len(idx)

        ckpt = None
        if checkpoint_path is not None:
            settings = {k: v for k, v in self.get_params().items() if k not in ("threads", "device")}
            ckpt = Checkpoint(checkpoint_path, dict(settings, hidden=list(self.hidden)), fingerprint(x, x_val))
        result = train(model, opt, name="VAE prior", max_epochs=self.max_epochs,
                       batches=lambda _: torch.tensor_split(torch.randperm(len(x), generator=gen).to(device),
                                                            n_batches),
                       loss=loss, validate=lambda _: float(self._score_tensor(model, xv, device).mean()),
                       patience=self.patience, checkpoint=ckpt, generators=[gen])
        selection = result.selection
        self.state_ = selection.states[0] if selection.kept else None
        self.history_, self.best_val_loss_ = result.history, selection.best
        self.epoch_seconds_ = result.seconds
        self._model = None
        return self


    def _score_tensor(self, model, x, device, chunk=65536):
        model.eval()
        # The same n_score_samples noise vectors for every event: an event's score does not depend on
        # the other events, the batch or the call.
        gen = torch.Generator().manual_seed(self.seed + 7919)
        eps0 = torch.randn(self.n_score_samples, 1, self.n_latent, generator=gen).to(device)
        out = []
        with torch.no_grad():
            for s in range(0, len(x), chunk):
                xs = x[s:s + chunk]
                eps = eps0.expand(-1, len(xs), -1)
                out.append(model.score(xs, eps, self.beta).double().cpu())
        return torch.cat(out)

    def score(self, x) -> np.ndarray:
        """Reconstruction MSE + beta * KL per event (higher = less like the training class)."""
        if getattr(self, "state_", None) is None:
            raise RuntimeError("VAEPrior is not fitted; call fit(...) or load(path) first")
        set_threads(self.threads)
        x = _as2d(x, "x")
        device = resolve_device(self.device)
        if getattr(self, "_model", None) is None:
            self._model = self._build().to(device)
            self._model.load_state_dict(self.state_)
        return self._score_tensor(self._model, torch.as_tensor(x, device=device), device).numpy()

    def save(self, path) -> None:
        state = {"family": self.family, "params": self.get_params(), "n_features": self.n_features_,
                 "state": self.state_, "history": self.history_, "best_val_loss": self.best_val_loss_,
                 "inputs": getattr(self, "inputs_", None)}
        save_torch_state(path, state)

    @classmethod
    def _from_state(cls, state, threads=None, device=None) -> "VAEPrior":
        prior = cls(**dict(state["params"], threads=threads, device=device))
        prior.n_features_ = state["n_features"]
        prior.state_, prior.history_ = state["state"], state["history"]
        prior.best_val_loss_ = state["best_val_loss"]
        prior._model = None
        return prior

    @classmethod
    def load(cls, path, threads=None, device=None) -> "VAEPrior":
        return load_prior(path, threads=threads, device=device)


_CLASSES = {"flow": FlowPrior, "vae": VAEPrior}


def make_prior(family: str, params: dict | None = None, **overrides):
    """A prior of ``family`` ('flow' or 'vae') with hyperparameters ``params`` and ``overrides``."""
    if family not in _CLASSES:
        raise InputError(f"unknown prior family {family!r}; allowed: {', '.join(FAMILIES)}")
    kwargs = dict(params or {})
    kwargs.update(overrides)
    try:
        return _CLASSES[family](**kwargs)
    except TypeError as err:
        raise InputError(f"bad hyperparameters for a {family} prior: {err}")


def load_prior(path, threads=None, device=None):
    """Read a prior written by ``save`` of either family."""
    state = load_torch_state(path, "QUAK prior", "rerun train_quak_prior")
    family = state.get("family")
    if family not in _CLASSES:
        raise InputError(f"{path}: unknown prior family {family!r}")
    prior = _CLASSES[family]._from_state(state, threads=threads, device=device)
    # The inputs it was trained on (hepad.quak.features.input_signature; None for older files).
    prior.inputs_ = state.get("inputs")
    return prior
