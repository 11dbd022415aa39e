"""Conditional masked autoregressive flow (MAF) of the features given mjj: the CATHODE/ANODE density model.

Architecture (docs/cathode.md): ``n_blocks`` MADE blocks, each an affine autoregressive transform whose
shift and scale come from a masked network with two hidden layers of ``hidden`` ReLU units that also
sees the condition, followed by a standard batch-norm transform and a reverse permutation. The base
density is a standard normal. Two interchangeable implementations of the same architecture:

- ``implementation="nflows"``: built from the nflows package (MaskedAffineAutoregressiveTransform,
  BatchNorm, ReversePermutation);
- ``implementation="made"``: the same maths written here with the masks applied once per forward pass
  and no per-layer dispatch overhead; faster on a CPU (see bench/RESULTS.md). Unlike nflows, its MADE
  also adds a linear term of the condition to every output, so the shift and scale of the first feature
  of each block depend on mjj too (docs/cathode.md, "The conditional MADE caveat"); models saved before
  that change cannot be loaded (retrain them).

The same estimator (:class:`ConditionalFlow`, ``kind``) also runs zuko's MAF and neural spline flow
(:mod:`hepad.models.zuko_flows`) and the conditional flow-matching model (:mod:`hepad.models.cfm`).

The batch norm is the standard one: in training mode it normalises with the batch mean and variance
(and its log-determinant uses those), and it updates running averages; in evaluation mode (validation,
``log_prob``, ``sample``) it uses the running averages, so the density is a fixed, normalised function.

Training (the loop of :func:`hepad.models.training.train`) is deterministic given ``seed``: the weights are
initialised after ``torch.manual_seed(seed)`` and the order of the events in epoch ``e`` comes from a
generator seeded with ``(seed, e)``, so a run resumed from a per-epoch checkpoint repeats exactly what the
uninterrupted run would have done.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepad.io import InputError
# NonFiniteLossError, resolve_device and set_threads have been imported from here: keep them importable.
from hepad.models.base import (BestEpochs, Estimator, NonFiniteLossError, check_array,  # noqa: F401
                               load_torch_state, resolve_device, save_torch_state, set_threads)
from hepad.models.flow_layers import BatchNorm as _BatchNorm
from hepad.models.flow_layers import BlockStack
from hepad.models.training import Checkpoint, fingerprint, setup, train

log = logging.getLogger(__name__)

_SCALE_EPS = 1e-3  # lower bound of the affine scale, as in nflows, so the transform stays invertible


# ----------------------------------------------------------------------------------------------------
# Hand-written implementation
# ----------------------------------------------------------------------------------------------------

def _made_degrees(n_features: int, hidden: int):
    """Degrees of a MADE with sequential ordering (the convention of nflows)."""
    in_deg = torch.arange(1, n_features + 1)
    hid_deg = torch.arange(hidden) % max(1, n_features - 1) + min(1, n_features - 1)
    return in_deg, hid_deg


class _MADEAffine(nn.Module):
    """One conditional affine autoregressive transform x -> z = scale(x_<i, c) * x_i + shift(x_<i, c).

    The condition enters twice: unmasked in the first hidden layer (every hidden unit may depend on it)
    and, with ``condition_output=True`` (the default), through a direct linear term added to every
    output's pre-activation (as zuko does). Without that term the first feature's outputs, of degree 1,
    connect to no hidden unit, so its shift and scale are constants that ignore the condition (the MADE
    of nflows and of the original CATHODE code; docs/cathode.md, "The conditional MADE caveat").
    ``condition_output=False`` is kept for the benchmark of the fix only (bench/bench_made_condition.py).
    """

    def __init__(self, n_features: int, n_cond: int, hidden: int, condition_output: bool = True):
        super().__init__()
        d = n_features
        in_deg, hid_deg = _made_degrees(d, hidden)
        out_deg = torch.cat([in_deg, in_deg])  # first half: unconstrained scales, second half: shifts
        # The condition enters the first layer unmasked: every hidden unit may depend on it.
        mask_in = torch.cat([(hid_deg[:, None] >= in_deg[None, :]).float(), torch.ones(hidden, n_cond)], 1)
        self.register_buffer("mask_in", mask_in)
        self.register_buffer("mask_hid", (hid_deg[:, None] >= hid_deg[None, :]).float())
        self.register_buffer("mask_out", (out_deg[:, None] > hid_deg[None, :]).float())
        self.lin_in = nn.Linear(d + n_cond, hidden)
        self.lin_hid = nn.Linear(hidden, hidden)
        self.lin_out = nn.Linear(hidden, 2 * d)
        # Scales start near 1 (softplus of the bias), weights at torch's default as in nflows.
        with torch.no_grad():
            self.lin_out.bias[:d] += math.log(math.expm1(1.0 - _SCALE_EPS))
        self.lin_ctx = None
        if condition_output:
            # The condition as extra, unmasked inputs of the output layer: initialised like its weights
            # (torch's default bound 1/sqrt(fan_in), with fan_in = hidden + n_cond).
            self.lin_ctx = nn.Linear(n_cond, 2 * d, bias=False)
            with torch.no_grad():
                bound = 1.0 / math.sqrt(hidden + n_cond)
                self.lin_ctx.weight.uniform_(-bound, bound)
        self.n_features = d

    def params(self, x, c):
        h = F.relu(F.linear(torch.cat([x, c], 1), self.lin_in.weight * self.mask_in, self.lin_in.bias))
        h = F.relu(F.linear(h, self.lin_hid.weight * self.mask_hid, self.lin_hid.bias))
        out = F.linear(h, self.lin_out.weight * self.mask_out, self.lin_out.bias)
        if self.lin_ctx is not None:
            out = out + self.lin_ctx(c)
        u, shift = out[:, : self.n_features], out[:, self.n_features:]
        scale = F.softplus(u) + _SCALE_EPS
        return scale, shift

    def forward(self, x, c):
        scale, shift = self.params(x, c)
        return scale * x + shift, torch.log(scale).sum(1)

    def inverse(self, z, c):
        x = torch.zeros_like(z)
        for _ in range(self.n_features):  # each pass fixes one more coordinate
            scale, shift = self.params(x, c)
            x = (z - shift) / scale
        return x


class _MAF(BlockStack):
    """Stack of [MADE affine, batch norm, reverse permutation] with a standard-normal base."""

    def __init__(self, n_features, n_cond, n_blocks, hidden, batch_norm, condition_output=True):
        super().__init__()
        self.made = nn.ModuleList(_MADEAffine(n_features, n_cond, hidden, condition_output)
                                  for _ in range(n_blocks))
        self.bn = nn.ModuleList(_BatchNorm(n_features) for _ in range(n_blocks)) if batch_norm else None
        self.n_features, self.n_blocks = n_features, n_blocks

    def _forward(self, i, x, c):
        return self.made[i](x, c)

    def _inverse(self, i, z, c):
        return self.made[i].inverse(z, c)


# ----------------------------------------------------------------------------------------------------
# nflows implementation
# ----------------------------------------------------------------------------------------------------

class _NflowsMAF(nn.Module):
    """The same architecture from nflows components (two hidden layers per MADE, as above)."""

    def __init__(self, n_features, n_cond, n_blocks, hidden, batch_norm):
        super().__init__()
        from nflows.distributions.normal import StandardNormal
        from nflows.flows.base import Flow
        from nflows.transforms.autoregressive import MaskedAffineAutoregressiveTransform
        from nflows.transforms.base import CompositeTransform
        from nflows.transforms.normalization import BatchNorm
        from nflows.transforms.permutations import ReversePermutation

        transforms = []
        for _ in range(n_blocks):
            transforms.append(MaskedAffineAutoregressiveTransform(
                features=n_features, hidden_features=hidden, context_features=n_cond,
                num_blocks=1, use_residual_blocks=False, activation=F.relu))
            if batch_norm:
                bn = BatchNorm(n_features)
                bn.running_var.fill_(1.0)  # nflows starts it at 0, i.e. an infinite scale before training
                transforms.append(bn)
            transforms.append(ReversePermutation(n_features))
        self.flow = Flow(CompositeTransform(transforms), StandardNormal([n_features]))

    def log_prob(self, x, c):
        return self.flow.log_prob(x, context=c)

    def sample_from_noise(self, z, c):
        x, _ = self.flow._transform.inverse(z, context=c)
        return x

    def noise_from_sample(self, x, c):
        z, _ = self.flow._transform(x, context=c)
        return z


IMPLEMENTATIONS = {"made": _MAF, "nflows": _NflowsMAF, "zuko": None}  # zuko: hepad.models.zuko_flows
KINDS = ("maf", "nsf", "cfm")


def _zuko_flow(n_features, n_cond, n_blocks, hidden, batch_norm, kind, bins):
    from hepad.models.zuko_flows import ZukoFlow

    return ZukoFlow(n_features, n_cond, n_blocks, hidden, batch_norm, kind=kind, bins=bins)


# ----------------------------------------------------------------------------------------------------
# The estimator
# ----------------------------------------------------------------------------------------------------

CFM_CHUNK = 8192  # events per ODE solve of the CFM (its step size is chosen per solve)
_FINITE_HINT = "drop events outside the scaler's domain (LogitScaler.in_domain) first"


_fingerprint = fingerprint  # the identity of the data in a checkpoint (hepad.models.training.fingerprint)


class ConditionalFlow(Estimator):
    """Conditional flow density p(x | c) with an ensemble of the best epochs (CATHODE's density model).

    ``kind`` chooses the flow: "maf" (the masked autoregressive flow of the paper, in the implementation
    ``implementation``), "nsf" (a neural spline flow, zuko's only) or "cfm" (conditional flow matching: a
    vector-field MLP whose ODE gives samples and densities, :mod:`hepad.models.cfm`). Every kind trains with
    the same loop, keeps the same best-epoch ensemble and saves, loads and resumes the same way; the CFM's
    training loss and epoch selection use the flow-matching loss instead of the NLL.

    Works on already-scaled inputs (compose with :class:`hepad.cathode.scaling.LogitScaler`).
    The constructor defaults are the published reference values of CATHODE (docs/cathode.md): 15 MADE
    blocks x 128 hidden units, Adam lr 1e-4 with weight decay 1e-6, batch 256, up to 100 epochs, the 10
    best epochs as the ensemble. The workflow passes every setting explicitly (config ``cathode.flow``);
    its faster recipe (``implementation="made", batch_size=4096, lr=2e-3, lr_schedule="cosine",
    warmup_epochs=1, max_epochs=40``) costs about a third per epoch and needs 40 instead of 100 epochs for
    an equally good validation loss (bench/bench_flow_training.py, bench/RESULTS.md).

    Parameters
    ----------
    n_features : int, default 4
        Dimension of x (CATHODE's four features).
    n_blocks : int, default 15
        Number of MADE blocks (reference value).
    hidden : int, default 128
        Hidden units in each of the two hidden layers of a MADE (reference value).
    batch_norm : bool, default True
        Batch-norm bijection after each MADE block (reference value).
    lr : float, default 1e-4
        Adam learning rate (reference value, at batch 256; scale it with the batch size).
    weight_decay : float, default 1e-6
        Adam L2 weight decay (reference value).
    batch_size : int, default 256
        Events per gradient step (reference value). The events of an epoch are split into equal batches
        (none tiny).
    max_epochs : int, default 100
        Upper limit on training epochs (reference value).
    patience : int or None, default 10
        Stop when the validation loss has not improved for this many epochs; None trains all epochs.
    n_ensemble : int, default 10
        Number of lowest-validation-loss epochs kept as the sampling/density ensemble (reference value).
    seed : int, default 0
        Seed of the initialisation, the batch order and nothing else.
    threads : int or None
        ``torch.set_num_threads`` on the CPU; None leaves torch's default.
    device : str or None
        Torch device; None uses the GPU when one is visible, else the CPU.
    implementation : {"nflows", "made", "zuko"}, default "nflows"
        Which implementation of the MAF (see the module docstring); the reference value is the nflows one
        (the workflow config chooses "made", the same layout, faster; "zuko" is zuko's affine block in
        the same layout, :mod:`hepad.models.zuko_flows`). Ignored for ``kind="nsf"`` (zuko only).
    kind : {"maf", "nsf", "cfm"}, default "maf"
        "maf": affine autoregressive blocks; "nsf": zuko's rational-quadratic spline blocks (``bins``
        bins on [-5, 5]), otherwise the same layout (blocks, hidden units, batch norm, permutations);
        "cfm": the flow-matching model (``n_blocks``, ``hidden``, ``batch_norm``, ``implementation`` and
        ``bins`` do not apply).
    bins : int, default 8
        Spline bins per feature of the NSF (unused by the MAF).
    cfm_hidden, cfm_layers : int, default 128, 4
        Hidden units per layer and hidden layers of the CFM's vector-field MLP.
    cfm_tol : float, default 1e-4
        Absolute and relative tolerance of the CFM's adaptive ODE solver (sampling and density). Its ODE
        solves take at most ``CFM_CHUNK`` events each.
    lr_schedule : {"constant", "cosine"}, default "constant"
        "cosine" decays the learning rate from ``lr`` to ``lr * lr_min_factor`` over ``max_epochs``
        (per step), after ``warmup_epochs`` of linear warm-up. The reference value is constant.
    lr_min_factor : float, default 0.01
        Final learning rate of the cosine schedule relative to ``lr``.
    warmup_epochs : float, default 0
        Linear learning-rate warm-up (in epochs, fractions allowed) for the cosine schedule.
    val_batch_size : int, default 65536
        Events per forward pass when evaluating (memory only; no effect on results).

    Attributes
    ----------
    history_ : list of dict
        Per epoch: ``epoch`` (1-based), ``train_nll``, ``val_nll`` (per event, nats), ``lr``; for the CFM
        ``train_loss`` and ``val_loss`` (the flow-matching loss) instead of the NLLs. Saved with the model,
        so it holds no timings.
    epoch_seconds_ : list of float
        Wall-clock seconds per epoch of the last :meth:`fit` (not saved; see :meth:`timed_history`).
    ensemble_val_nll_ : list of float
        Validation loss of the kept epochs, best first: the NLL (for the CFM, the flow-matching loss).
    best_val_nll_ : float
        Validation NLL of the best epoch (for the CFM computed from the ODE once training ends).
    """

    def __init__(self, n_features=4, n_blocks=15, hidden=128, batch_norm=True, lr=1e-4, weight_decay=1e-6,
                 batch_size=256, max_epochs=100, patience=10, n_ensemble=10, seed=0, threads=None,
                 device=None, implementation="nflows", lr_schedule="constant", lr_min_factor=0.01,
                 warmup_epochs=0.0, val_batch_size=65536, kind="maf", bins=8, cfm_hidden=128, cfm_layers=4,
                 cfm_tol=1e-4):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation must be one of {sorted(IMPLEMENTATIONS)}, got {implementation!r}")
        if lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
        self.n_features = n_features
        self.n_blocks = n_blocks
        self.hidden = hidden
        self.batch_norm = batch_norm
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.n_ensemble = n_ensemble
        self.seed = seed
        self.threads = threads
        self.device = device
        self.implementation = implementation
        self.lr_schedule = lr_schedule
        self.lr_min_factor = lr_min_factor
        self.warmup_epochs = warmup_epochs
        self.val_batch_size = val_batch_size
        self.kind = kind
        self.bins = bins
        self.cfm_hidden = cfm_hidden
        self.cfm_layers = cfm_layers
        self.cfm_tol = cfm_tol

    # -- bookkeeping ---------------------------------------------------------------------------------

    _PARAMS = ("n_features", "n_blocks", "hidden", "batch_norm", "lr", "weight_decay", "batch_size",
               "max_epochs", "patience", "n_ensemble", "seed", "threads", "device", "implementation",
               "lr_schedule", "lr_min_factor", "warmup_epochs", "val_batch_size", "kind", "bins", "cfm_hidden",
               "cfm_layers", "cfm_tol")
    # Parameters that change the trained result (a checkpoint is resumed only if these agree).
    _RESULT_PARAMS = ("n_features", "n_blocks", "hidden", "batch_norm", "lr", "weight_decay", "batch_size",
                      "max_epochs", "patience", "n_ensemble", "seed", "implementation", "lr_schedule",
                      "lr_min_factor", "warmup_epochs", "kind", "bins", "cfm_hidden", "cfm_layers")

    @property
    def backend(self) -> str:
        """What builds the network: "made", "nflows" or "zuko" (the NSF and the CFM are always zuko's)."""
        return "zuko" if self.kind in ("nsf", "cfm") else self.implementation

    def _build(self, n_cond):
        if self.kind == "cfm":
            from hepad.models.cfm import CFMNet

            return CFMNet(self.n_features, n_cond, self.cfm_hidden, self.cfm_layers, self.cfm_tol)
        if self.backend == "zuko":
            return _zuko_flow(self.n_features, n_cond, self.n_blocks, self.hidden, self.batch_norm, self.kind,
                              self.bins)
        return IMPLEMENTATIONS[self.implementation](self.n_features, n_cond, self.n_blocks, self.hidden,
                                                    self.batch_norm)

    def _lr_at(self, step, steps_per_epoch):
        """Learning rate of a given optimisation step (0-based)."""
        if self.lr_schedule == "constant":
            return self.lr
        warm = self.warmup_epochs * steps_per_epoch
        if step < warm:
            return self.lr * (step + 1) / warm
        total = max(self.max_epochs * steps_per_epoch - warm, 1)
        progress = min((step - warm) / total, 1.0)
        low = self.lr * self.lr_min_factor
        return low + 0.5 * (self.lr - low) * (1.0 + math.cos(math.pi * progress))

    @torch.inference_mode()
    def _nll(self, model, x, c):
        model.eval()
        total = 0.0
        for start in range(0, x.shape[0], self.val_batch_size):
            lp = model.log_prob(x[start:start + self.val_batch_size], c[start:start + self.val_batch_size])
            total += float(lp.double().sum())
        return -total / x.shape[0]

    def _no_autograd(self):
        """The context of inference: the CFM's density needs autograd inside (its exact divergence), so it
        runs under ``no_grad``; the other flows under ``inference_mode``."""
        return torch.no_grad() if self.kind == "cfm" else torch.inference_mode()

    def _fm_noise(self, n, gen, device):
        """Noise z and times t of the flow-matching loss for ``n`` events, drawn from ``gen`` (CPU)."""
        z = torch.randn(n, self.n_features, generator=gen)
        t = torch.rand(n, generator=gen).sqrt()  # density 2t: more weight near the data (docs/cathode.md)
        return z.to(device), t.to(device)

    @torch.no_grad()
    def _fm_val_loss(self, model, x, c):
        """Flow-matching loss on validation data, with the same noise every epoch (a fixed generator)."""
        model.eval()
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 999_983)
        total = 0.0
        for start in range(0, x.shape[0], self.val_batch_size):
            xb, cb = x[start:start + self.val_batch_size], c[start:start + self.val_batch_size]
            z, t = self._fm_noise(len(xb), gen, x.device)
            total += float(model.fm_loss(xb, cb, z, t).double()) * len(xb)
        return total / x.shape[0]

    # -- training ------------------------------------------------------------------------------------

    def fit(self, x, cond, x_val, cond_val, checkpoint_path=None):
        """Train on (x, cond), select epochs on (x_val, cond_val).

        Parameters
        ----------
        x, x_val : array of shape (n, n_features)
            Scaled features (finite).
        cond, cond_val : array of shape (n,) or (n, n_cond)
            Scaled condition.
        checkpoint_path : path or None
            If given, the full training state is written there after every epoch (atomically), and a
            compatible checkpoint found there at the start is resumed: a killed job rerun gives exactly
            the result of an uninterrupted run. Partial files of it left by a killed write are removed.
            Delete it once the model is saved.

        Raises
        ------
        NonFiniteLossError
            When a training or validation loss is NaN or infinite (names the epoch and batch).
        """
        x = check_array(x, "x", columns=self.n_features, finite=True, hint=_FINITE_HINT)
        cond = check_array(cond, "cond", rows=len(x), finite=True, hint=_FINITE_HINT)
        x_val = check_array(x_val, "x_val", columns=self.n_features, finite=True, hint=_FINITE_HINT)
        cond_val = check_array(cond_val, "cond_val", rows=len(x_val), finite=True, hint=_FINITE_HINT)
        if len(x) < 2 or len(x_val) < 1:
            raise InputError(f"too few events to train a flow: {len(x)} training, {len(x_val)} validation")
        device = setup(self.threads, self.device)
        self.n_cond_ = cond.shape[1]

        torch.manual_seed(self.seed)
        model = self._build(self.n_cond_).to(device)
        # foreach: one fused update over all parameter tensors instead of a Python loop per tensor.
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay, foreach=True)
        ckpt = None
        if checkpoint_path is not None:
            ckpt = Checkpoint(checkpoint_path, {name: getattr(self, name) for name in self._RESULT_PARAMS},
                              _fingerprint(x, cond, x_val, cond_val))

        xt = torch.as_tensor(x, device=device)
        ct = torch.as_tensor(cond, device=device)
        xv = torch.as_tensor(x_val, device=device)
        cv = torch.as_tensor(cond_val, device=device)
        n = len(x)
        n_batches = max(1, round(n / self.batch_size))
        size = (f"MLP {self.cfm_layers} x {self.cfm_hidden}" if self.kind == "cfm"
                else f"{self.n_blocks} blocks x {self.hidden} hidden")
        log.info("training %s %s flow (%s) on %d events, %d validation, batch %d, %d steps per epoch, device %s, "
                 "%d threads", self.backend, self.kind, size, n, len(x_val), self.batch_size, n_batches, device,
                 torch.get_num_threads())

        def batches(epoch):  # the order of epoch e depends on (seed, e) only: a resumed run repeats it
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            return torch.tensor_split(torch.randperm(n, generator=gen).to(device), n_batches)

        if self.kind == "cfm":  # flow matching: noise and times from a generator the checkpoint keeps
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 999_979)
            generators = (gen,)

            def loss(idx):
                return model.fm_loss(xt[idx], ct[idx], *self._fm_noise(len(idx), gen, device)), len(idx)

            def validate(_):
                return self._fm_val_loss(model, xv, cv)

            columns = ("train_loss", "val_loss")
        else:
            generators = ()

            def loss(idx):
                return -model.log_prob(xt[idx], ct[idx]).mean(), len(idx)

            def validate(_):
                return self._nll(model, xv, cv)

            columns = ("train_nll", "val_nll")
        result = train(
            model, opt, name="flow", max_epochs=self.max_epochs, batches=batches, loss=loss, validate=validate,
            selection=BestEpochs(self.n_ensemble), patience=self.patience,
            learning_rate=lambda e, b: self._lr_at(e * n_batches + b, n_batches),
            hint="lower cathode.flow.lr or check the inputs for extreme values",
            val_hint="the model gives zero or infinite density to validation events; lower cathode.flow.lr or "
                     "check that the validation data were scaled with the training scaler",
            columns=columns, checkpoint=ckpt, generators=generators)
        selection = result.selection
        self.history_ = result.history
        self.epoch_seconds_ = result.seconds
        self.ensemble_ = selection.states
        self.ensemble_val_nll_ = selection.losses
        self.ensemble_epochs_ = selection.epochs
        self.best_val_nll_ = selection.best
        what = "flow-matching loss" if self.kind == "cfm" else "NLL"
        log.info("kept epochs %s (val %s %.5f ... %.5f)", self.ensemble_epochs_, what, self.ensemble_val_nll_[0],
                 self.ensemble_val_nll_[-1])
        self._model = None
        if self.kind == "cfm":  # the NLL of the best epoch from the ODE, comparable with the other kinds
            self.best_val_nll_ = -float(self.log_prob(x_val, cond_val, ensemble=False).mean())
            log.info("validation NLL of the best epoch (ODE): %.5f", self.best_val_nll_)
        return self


    # -- inference -----------------------------------------------------------------------------------

    def _check_fitted(self):
        if not getattr(self, "ensemble_", None):
            raise RuntimeError("ConditionalFlow is not fitted; call fit(...) or load(path) first")

    @property
    def _chunk(self) -> int:
        """Events per forward pass at inference. The CFM's adaptive ODE solver chooses one step size per
        pass, so its passes have a fixed size (results independent of ``val_batch_size``)."""
        return CFM_CHUNK if self.kind == "cfm" else self.val_batch_size

    def _member(self, i, device):
        if getattr(self, "_model", None) is None or self._model_device != device:
            self._model = self._build(self.n_cond_).to(device)
            self._model_device = device
        self._model.load_state_dict(self.ensemble_[i])
        self._model.eval()
        return self._model

    def log_prob(self, x, cond, ensemble=True) -> np.ndarray:
        """Log density log p(x | cond) per event (nats, in the scaled space).

        With ``ensemble=True`` it is the log of the density averaged over the kept epochs (a mixture,
        itself a normalised density: the natural density of the sampling ensemble); with False, the
        best epoch only.
        """
        self._check_fitted()
        set_threads(self.threads)
        x = check_array(x, "x", columns=self.n_features)
        cond = check_array(cond, "cond", rows=len(x))
        device = resolve_device(self.device)
        xt, ct = torch.as_tensor(x, device=device), torch.as_tensor(cond, device=device)
        members = range(len(self.ensemble_)) if ensemble else range(1)
        out = []
        with self._no_autograd():
            for i in members:
                model = self._member(i, device)
                step = self._chunk
                parts = [model.log_prob(xt[s:s + step], ct[s:s + step]) for s in range(0, len(x), step)]
                out.append(torch.cat(parts).double())
            lp = torch.logsumexp(torch.stack(out), 0) - math.log(len(out))
        return lp.cpu().numpy()

    def sample(self, cond, seed=0) -> np.ndarray:
        """One sample of x per row of ``cond``; rows are dealt evenly and at random to the kept epochs."""
        self._check_fitted()
        set_threads(self.threads)
        cond = check_array(cond, "cond")
        device = resolve_device(self.device)
        rng = np.random.default_rng(seed)
        k = len(self.ensemble_)
        member = rng.permutation(len(cond)) % k
        out = np.empty((len(cond), self.n_features), dtype=np.float64)
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        with self._no_autograd():
            for i in range(k):
                rows = np.flatnonzero(member == i)
                if len(rows) == 0:
                    continue
                model = self._member(i, device)
                z = torch.randn(len(rows), self.n_features, generator=gen).to(device)
                ct = torch.as_tensor(cond[rows], device=device)
                step = self._chunk
                for s in range(0, len(rows), step):
                    xs = model.sample_from_noise(z[s:s + step], ct[s:s + step])
                    out[rows[s:s + step]] = xs.double().cpu().numpy()
        return out

    def latent(self, x, cond) -> np.ndarray:
        """The base-space (standard-normal) point of every row of ``x`` given ``cond``: the forward map of
        the best epoch only (a mixture of epochs has no single latent space; LaCATHODE, docs/cathode.md)."""
        self._check_fitted()
        set_threads(self.threads)
        x = check_array(x, "x", columns=self.n_features, finite=True, hint=_FINITE_HINT)
        cond = check_array(cond, "cond", rows=len(x))
        device = resolve_device(self.device)
        xt, ct = torch.as_tensor(x, device=device), torch.as_tensor(cond, device=device)
        with self._no_autograd():
            model = self._member(0, device)
            if not hasattr(model, "noise_from_sample"):
                raise InputError(f"the {self.kind} flow has no latent map (LaCATHODE needs one)")
            step = self._chunk
            parts = [model.noise_from_sample(xt[s:s + step], ct[s:s + step]) for s in range(0, len(x), step)]
        return torch.cat(parts).double().cpu().numpy() if parts else np.empty((0, self.n_features))

    # -- persistence ---------------------------------------------------------------------------------

    def get_state(self) -> dict:
        """Hyperparameters, kept ensemble and history: what :meth:`save` writes."""
        self._check_fitted()
        return {"params": self.get_params(), "n_cond": self.n_cond_, "ensemble": self.ensemble_,
                "ensemble_val_nll": self.ensemble_val_nll_, "ensemble_epochs": self.ensemble_epochs_,
                "history": self.history_, "best_val_nll": self.best_val_nll_}

    @classmethod
    def from_state(cls, state, device=None, threads=None) -> "ConditionalFlow":
        """The flow of a :meth:`get_state` dict; ``device``/``threads`` override the saved ones."""
        flow = cls(**dict(state["params"], device=device, threads=threads))
        if flow.backend == "made" and state["ensemble"] and not any(
                key.endswith("lin_ctx.weight") for key in state["ensemble"][0]):
            raise InputError("this flow was saved by the hand-written MADE from before the condition reached "
                             "every output (docs/cathode.md, the conditional MADE caveat); retrain it")
        flow.n_cond_ = state["n_cond"]
        flow.ensemble_ = state["ensemble"]
        flow.ensemble_val_nll_ = state["ensemble_val_nll"]
        flow.ensemble_epochs_ = state["ensemble_epochs"]
        flow.history_ = state["history"]
        flow.best_val_nll_ = state["best_val_nll"]
        return flow

    def save(self, path) -> None:
        """Write hyperparameters, kept ensemble and history to ``path`` (torch format), atomically."""
        save_torch_state(path, self.get_state())

    @classmethod
    def load(cls, path, device=None, threads=None) -> "ConditionalFlow":
        """Read a flow written by :meth:`save`; ``device``/``threads`` override the saved ones."""
        return cls.from_state(load_torch_state(path, "flow"), device=device, threads=threads)
