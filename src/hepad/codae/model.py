"""Conditional dual auto-encoder (CoDAE, Anzalone et al., MLST 5 035064, docs/codae.md) in torch.

The input is the binarised track mask of an event image, ``(n, 1, H, W)`` (72 x 58 by default: phi x eta):
1 where a pixel's summed track pT exceeds a threshold (``hepad.codae.data.load_masks``).

- ``f_R``, the large encoder: a strided 3x3 convolution per resolution, each followed by a residual block
  (except the first), down to the spatial latent ``Z`` of ``latent_channels x 5 x 4`` (ceil halvings of 72 x 58).
  Its ``variant``:

  - ``codae``: ``Z`` is deterministic (the paper's CoDAE);
  - ``codvae`` (the paper's CoDVAE): at each of the 5 x 4 positions, f_R gives the logits of a categorical
    ``q(c|x)`` over ``latent_channels`` classes; ``Z`` is its relaxed one-hot sample (Gumbel-softmax,
    temperature ``tau``: ``softmax((logits + Gumbel noise) / tau)`` while training, ``softmax(logits / tau)``
    when scoring). The prior is the uniform mixture of the ``latent_channels`` one-hot components (each
    class 1 / K); ``KL(q(c|x) || uniform)`` per position, summed, enters the loss with weight ``beta``
    (:func:`kl_categorical`);
  - ``gaussian_vae`` (ours, not the paper's): a diagonal Gaussian ``q(Z|x)``, ``Z`` drawn with the
    reparametrisation trick and ``KL(q(Z|x) || N(0, 1))`` in the loss with weight ``beta``.
- ``f_m``, the small encoder: four strided convolutions, global mean and max pooling, one linear layer to
  ``Z_m`` in R^2. It is the trigger-time model (``export_fm_onnx``).
- The decoder ``D(Z, Z_m)``: at every resolution it computes (5 x 4 and each bilinear up-sampling to the
  encoder's sizes in reverse) a 3x3 convolution, instance norm and ReLU, then the conditioning: ``Z_m``
  broadcast over the H x W grid together with two coordinate channels (phi and eta in [-1, 1]), a 3x3
  convolution to the feature channels, multiplied into the features (a FiLM-like scale). A 1x1 convolution
  gives per-pixel hit logits; by default the decoder stops at 18 x 15 and that convolution predicts the
  4 x 4 sub-pixels of each cell (pixel shuffle), which trains 2.3x faster than computing 36 x 29 and 72 x 58
  and reaches a lower loss (bench/RESULTS.md). The loss is the binary cross-entropy of the sigmoid with the
  mask.

Augmentation (training only): a random eta flip and a random phi roll per image - the physics is symmetric
under both, and the phi roll wraps around the detector.

Scores (``score_samples``; larger = more anomalous):
``bce``, ``mse`` (mean over pixels), ``dice`` (1 - Dice coefficient of mask and reconstruction),
``energy_diff`` (the paper's energy difference, signed: the "energy" of the binary mask, its number of hit
pixels, minus that of the reconstruction - hits the QCD-trained model did not expect),
``zm1``, ``zm2`` (the Z_m components, each oriented to grow with the number of hit pixels on the QCD
training set - a label-free choice of direction), ``zm_dist`` (Mahalanobis distance of Z_m from its QCD
training mean), and ``kl`` (the KL of the posterior to its prior: ``codvae`` and ``gaussian_vae`` only).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepad.io import InputError, atomic_output
from hepad.models.base import Estimator, check_array, load_torch_state, resolve_device, save_torch_state, set_threads
from hepad.models.training import timed_history, train

log = logging.getLogger(__name__)


def _halvings(size: tuple[int, int], n: int) -> list[tuple[int, int]]:
    """Spatial sizes after each of ``n`` stride-2 'same' convolutions: ceil(h / 2) each time."""
    out = [tuple(size)]
    for _ in range(n):
        h, w = out[-1]
        out.append(((h + 1) // 2, (w + 1) // 2))
    return out


def _coords(h: int, w: int, device) -> torch.Tensor:
    """(1, 2, h, w) coordinate channels in [-1, 1] (phi, eta)."""
    ys = torch.linspace(-1.0, 1.0, h, device=device)
    xs = torch.linspace(-1.0, 1.0, w, device=device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gy, gx])[None]


class ResidualBlock(nn.Module):
    """x + conv(relu(conv(x))), then ReLU (no normalisation: the occupancy of an image is information)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


VARIANTS = ("codae", "codvae", "gaussian_vae")


class EncoderR(nn.Module):
    """The large residual encoder f_R: image -> spatial latent (the latent, the categorical logits or the
    Gaussian mean; with ``variational``, also the log-variance)."""

    def __init__(self, in_channels: int, channels: tuple, latent_channels: int, variational: bool):
        super().__init__()
        layers, c_in = [], in_channels
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.ReLU()]
            # No residual block at the first (half) resolution: it would cost as much as all the others.
            if i > 0:
                layers.append(ResidualBlock(c))
            c_in = c
        self.body = nn.Sequential(*layers)
        self.to_latent = nn.Conv2d(c_in, latent_channels * (2 if variational else 1), 3, stride=2, padding=1)
        self.variational = variational

    def forward(self, x):
        out = self.to_latent(self.body(x))
        if self.variational:
            mu, logvar = out.chunk(2, dim=1)
            return mu, logvar.clamp(-12.0, 8.0)
        return out, None


class EncoderM(nn.Module):
    """The small encoder f_m: image -> Z_m in R^latent_dim (strided convolutions, mean+max pooling, linear)."""

    def __init__(self, in_channels: int, channels: tuple, latent_dim: int):
        super().__init__()
        layers, c_in = [], in_channels
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.ReLU()]
            c_in = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(2 * c_in, latent_dim)

    def forward(self, x):
        h = self.body(x)
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return self.head(pooled)


class ConditionedDecoder(nn.Module):
    """Decoder D(Z, Z_m): per resolution 3x3 conv, per-channel (instance) norm, ReLU and the Z_m scale;
    bilinear up-sampling between resolutions; a pixel shuffle from the last computed resolution to the image.

    ``sizes`` are the resolutions from the latent's up to the image's, e.g. [(5,4), (9,8), ..., (72,58)];
    ``channels`` has one entry per resolution the decoder computes, from the latent's. With fewer entries
    than sizes, the decoder stops early and its 1x1 output convolution predicts the 2^k x 2^k sub-pixels of
    each pixel (pixel shuffle, cropped to the image): the full-resolution layers of 4-8 channels cost about a
    third of a training step on CPU and add little (bench/RESULTS.md, CoDAE).
    """

    def __init__(self, latent_channels: int, channels: tuple, sizes: list, cond_dim: int, out_channels: int):
        super().__init__()
        if not 1 <= len(channels) <= len(sizes):
            raise ValueError(f"decoder needs 1 to {len(sizes)} channel counts (resolutions {sizes}), got {channels}")
        self.sizes = [tuple(s) for s in sizes[:len(channels)]]
        self.image_size = tuple(sizes[-1])
        self.shuffle = 2 ** (len(sizes) - len(channels))
        self.cond_dim = cond_dim
        self.convs, self.norms, self.conds = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        c_in = latent_channels
        for c in channels:
            self.convs.append(nn.Conv2d(c_in, c, 3, padding=1))
            # GroupNorm with one group per channel is instance norm (equal to 5e-7); unlike InstanceNorm2d it
            # runs in channels-last layout without copies. Same parameter names: older model files load.
            self.norms.append(nn.GroupNorm(c, c, affine=True))
            if cond_dim:
                self.conds.append(nn.Conv2d(cond_dim + 2, c, 3, padding=1))
            c_in = c
        self.out = nn.Conv2d(c_in, out_channels * self.shuffle ** 2, 1)
        # Start near the typical occupancy (a few % of pixels hit), not at p = 0.5 everywhere.
        nn.init.constant_(self.out.bias, -3.0)
        for i, (h, w) in enumerate(self.sizes):
            self.register_buffer(f"coords{i}", _coords(h, w, "cpu"), persistent=False)

    def forward(self, z, zm=None):
        x = z
        for i, (h, w) in enumerate(self.sizes):
            if x.shape[-2:] != (h, w):
                x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
            x = F.relu(self.norms[i](self.convs[i](x)))
            if self.cond_dim:
                n = x.shape[0]
                cond = torch.cat([zm[:, :, None, None].expand(n, self.cond_dim, h, w),
                                  getattr(self, f"coords{i}").expand(n, 2, h, w)], dim=1)
                x = x * self.conds[i](cond)
        logits = self.out(x)
        if self.shuffle > 1:
            h, w = self.image_size
            logits = F.pixel_shuffle(logits, self.shuffle)[..., :h, :w]
        return logits


class CoDAENet(nn.Module):
    """f_R, f_m and the decoder; ``forward`` returns (logits, Z_m, mu, logvar)."""

    def __init__(self, image_shape, encoder_channels, latent_channels, fm_channels, latent_dim, decoder_channels,
                 variational=False, conditional=True, variant=None, tau=1.0):
        super().__init__()
        # ``variational`` (bool, older callers) = gaussian_vae or codae; ``variant`` wins when given.
        variant = variant or ("gaussian_vae" if variational else "codae")
        if variant not in VARIANTS:
            raise ValueError(f"CoDAE variant {variant!r}: use one of {list(VARIANTS)}")
        self.variant, self.tau = variant, float(tau)
        variational = variant == "gaussian_vae"
        c, h, w = image_shape
        self.f_r = EncoderR(c, encoder_channels, latent_channels, variational)
        sizes = _halvings((h, w), len(encoder_channels) + 1)  # image ... latent
        self.latent_size = sizes[-1]
        if not 1 <= len(decoder_channels) <= len(sizes):
            raise ValueError(f"decoder_channels needs 1 to {len(sizes)} entries (one per resolution computed, "
                             f"from {sizes[::-1]}), got {len(decoder_channels)}")
        self.f_m = EncoderM(c, fm_channels, latent_dim) if conditional else None
        self.decoder = ConditionedDecoder(latent_channels, decoder_channels, sizes[::-1],
                                          latent_dim if conditional else 0, c)
        self.variational = variational

    def forward(self, x, sample: bool = True):
        """(logits, Z_m, mu, logvar); for ``codvae`` ``mu`` holds the categorical logits (logvar None)."""
        mu, logvar = self.f_r(x)
        z = mu
        if self.variant == "codvae":
            z = relaxed_one_hot(mu, self.tau, sample)
        elif self.variational and sample:
            # randn, not randn_like: for a channels-last mu the latter is 8x slower (4.5 ms a batch of 128).
            z = mu + torch.randn(mu.shape, dtype=mu.dtype, device=mu.device) * torch.exp(0.5 * logvar)
        zm = self.f_m(x) if self.f_m is not None else None
        return self.decoder(z, zm), zm, mu, logvar


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random eta flip (width axis) and random phi roll (height axis, wrapping), per image."""
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip.to(x.device)[:, None, None, None], x.flip(-1), x)
    shift = torch.randint(0, h, (n,), generator=generator).to(x.device)
    rows = (torch.arange(h, device=x.device)[None, :] - shift[:, None]) % h  # out[i] = in[i - shift]
    return torch.gather(x, 2, rows[:, None, :, None].expand(n, x.shape[1], h, w))


def relaxed_one_hot(logits: torch.Tensor, tau: float, sample: bool = True) -> torch.Tensor:
    """Gumbel-softmax over the channel axis (dim 1): ``softmax((logits + g) / tau)`` with Gumbel noise g drawn
    from torch's global generator when ``sample``, else ``softmax(logits / tau)``."""
    if sample:
        u = torch.rand(logits.shape, dtype=logits.dtype, device=logits.device).clamp(1e-10, 1.0 - 1e-7)
        logits = logits - torch.log(-torch.log(u))
    return torch.softmax(logits / tau, dim=1)


def kl_categorical(logits: torch.Tensor, prior_probs: torch.Tensor | None = None) -> torch.Tensor:
    """KL(q || p) of categoricals over the channel axis (dim 1), summed over every other axis, per image.

    ``q = softmax(logits)``; ``p`` = ``prior_probs`` (broadcast to the logits' shape, rows summing to 1), by
    default uniform over the classes: the mixture prior of the CoDVAE with equal weights. Always >= 0, and 0
    exactly where q equals p."""
    logq = torch.log_softmax(logits, dim=1)
    if prior_probs is None:
        logp = torch.full_like(logq, -math.log(logits.shape[1]))
    else:
        logp = torch.log(torch.as_tensor(prior_probs, dtype=logq.dtype, device=logq.device)).expand_as(logq)
    return (logq.exp() * (logq - logp)).flatten(1).sum(1).clamp(min=0.0)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) summed over all latent elements, per image."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).flatten(1).sum(1)


def on_device(obj, device):
    """A module or a 4-d image batch on ``device`` in channels-last layout: oneDNN's convolutions, forward
    and backward, run about twice as fast on CPU with the channel axis innermost for these thin (4-64
    channel) layers (bench/RESULTS.md, CoDAE). The layout changes memory order only, not values' meaning."""
    return obj.to(device, memory_format=torch.channels_last)


def _as_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(check_array(x, "images", ndim=4, shape="(n, channels, height, width)"))


class _ImageModel(Estimator):
    """What the image models share: training in :func:`hepad.models.training.train` (Adam, minibatches, the
    best validation epoch's weights, NaN stop), persistence."""

    _net: nn.Module | None = None
    progress: bool = True  # tqdm bars during training (class attribute: not a hyperparameter)

    def _build(self, image_shape):  # pragma: no cover - abstract
        raise NotImplementedError

    def _loss(self, net, x, y, generator):  # pragma: no cover - abstract
        raise NotImplementedError

    def _init_net(self, image_shape) -> None:
        """A new network for images of ``image_shape``, its initial weights drawn from ``seed`` (not from
        whatever the process's random state is: a second fit in one process gives the same model)."""
        self.image_shape_ = tuple(image_shape)
        torch.manual_seed(self.seed)
        self._net = self._build(self.image_shape_)

    def _fit_loop(self, x, y, x_val, y_val, device):
        """Adam with a per-step cosine decay to 0, one generator of ``seed`` for the batch order and the
        augmentation (and torch's global one, seeded here, for the latent noise); the weights of the epoch
        with the lowest validation loss (the training loss without validation images) are kept."""
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        net = on_device(self._net, device)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        n = len(x)
        steps_per_epoch = max(1, math.ceil(n / self.batch_size))
        total = steps_per_epoch * self.epochs
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

        def batches(epoch):
            perm = torch.randperm(n, generator=generator)
            return [perm[step * self.batch_size:(step + 1) * self.batch_size] for step in range(steps_per_epoch)]

        def loss(idx):
            xb = on_device(x[idx], device)
            yb = y[idx].to(device) if y is not None else None
            return self._loss(net, xb, yb, generator), len(idx)

        def validate(train_loss):
            return self._evaluate(net, x_val, y_val, device) if x_val is not None else train_loss

        result = train(net, opt, name=type(self).__name__, max_epochs=self.epochs, batches=batches, loss=loss,
                       validate=validate, scheduler=sched, generators=[generator], progress=self.progress)
        net.load_state_dict(result.selection.states[0])
        self.history_ = result.history
        self.epoch_seconds_ = result.seconds
        return self

    @torch.no_grad()
    def _evaluate(self, net, x, y, device):
        net.eval()
        generator = None
        total, count = 0.0, 0
        for lo in range(0, len(x), 1024):
            xb = on_device(x[lo:lo + 1024], device)
            yb = y[lo:lo + 1024].to(device) if y is not None else None
            total += float(self._loss(net, xb, yb, generator)) * len(xb)
            count += len(xb)
        return total / max(count, 1)

    def _device(self):
        return resolve_device(self.device)


    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """One torch file: hyperparameters, weights and fitted statistics; written atomically."""
        if self._net is None:
            raise RuntimeError("save() before fit()")
        state = {"class": type(self).__name__, "params": self.get_params(), "image_shape": self.image_shape_,
                 "state_dict": {k: v.cpu() for k, v in self._net.state_dict().items()},
                 "extra": self._extra_state(), "history": getattr(self, "history_", [])}
        save_torch_state(path, state)

    def _extra_state(self) -> dict:
        return {}

    def _load_extra(self, extra: dict) -> None:
        pass

    @classmethod
    def load(cls, path):
        # Not weights_only: the fitted statistics in "extra" are numpy arrays.
        state = load_torch_state(path, f"a {cls.__name__} model", "retrain it", weights_only=False)
        if state.get("class") != cls.__name__:
            raise InputError(f"{path} holds a {state.get('class')}, not a {cls.__name__}")
        params = dict(state["params"])
        if "variational" in params:  # files of before the variants: a bool
            params["variant"] = "gaussian_vae" if params.pop("variational") else "codae"
        model = cls(**params)
        model.image_shape_ = tuple(state["image_shape"])
        model._net = model._build(model.image_shape_)
        model._net.load_state_dict(state["state_dict"])
        model._load_extra(state["extra"])
        model.history_ = state["history"]
        return model


class CoDAE(_ImageModel):
    """Conditional dual auto-encoder on binary images (scikit-learn shape: fit / score_samples / save / load).

    Parameters
    ----------
    encoder_channels : tuple of int
        Channels of f_R per resolution (each a stride-2 conv, then a residual block except at the first);
        one more stride-2 conv makes the latent (default (8, 16, 32): 72 x 58 -> 36 x 29 -> 18 x 15 -> 9 x 8
        -> Z at 5 x 4).
    latent_channels : int
        Channels of Z (default 64: Z is 5 x 4 x 64 as in the paper).
    fm_channels : tuple of int
        Channels of the stride-2 convolutions of f_m (default (8, 16, 32, 32)).
    latent_dim : int
        Dimension of Z_m (default 2).
    decoder_channels : tuple of int
        Decoder channels per resolution it computes, from the latent's: up to len(encoder_channels) + 2
        entries (the image's resolution); with fewer, a pixel shuffle makes the image (default (64, 32, 16):
        5 x 4, 9 x 8, 18 x 15, then 4 x 4 sub-pixels).
    variant : str
        The latent (module docstring): ``codae`` (deterministic Z), ``codvae`` (the paper's categorical,
        relaxed one-hot latent with a uniform mixture prior) or ``gaussian_vae`` (ours: Gaussian q(Z|x), KL
        to N(0, 1)); the last two add the ``kl`` score (default ``codae``).
    tau : float
        Temperature of the CoDVAE's Gumbel-softmax (default 1).
    beta : float
        Weight of the KL term against the per-image summed BCE (default 0.1).
    variational : bool or None
        Older name: True = ``gaussian_vae``, False = ``codae``; only used when ``variant`` is None.
    conditional : bool
        False removes f_m and the conditioning: a plain convolutional auto-encoder (the baseline).
    augment : bool
        Random eta flips and phi rolls during training (default True).
    lr : float
        Adam learning rate, cosine-decayed to 0 over the training (default 2e-3).
    weight_decay : float
        Adam weight decay (default 0).
    batch_size : int
        Images per step (default 128).
    epochs : int
        Training epochs; the weights of the epoch with the lowest validation loss are kept (default 10).
    seed : int
        Seed of the initialisation, shuffling, augmentation and latent sampling.
    threads : int or None
        CPU threads of torch.
    device : str or None
        Torch device; None = the GPU when visible, else the CPU.
    """

    _PARAMS = ("encoder_channels", "latent_channels", "fm_channels", "latent_dim", "decoder_channels",
               "variant", "tau", "beta", "conditional", "augment", "lr", "weight_decay", "batch_size", "epochs",
               "seed", "threads", "device")

    def __init__(self, encoder_channels=(8, 16, 32), latent_channels=64, fm_channels=(8, 16, 32, 32), latent_dim=2,
                 decoder_channels=(64, 32, 16), variant=None, tau=1.0, beta=0.1, conditional=True, augment=True,
                 lr=2e-3, weight_decay=0.0, batch_size=128, epochs=10, seed=0, threads=None, device=None,
                 variational=None):
        self.encoder_channels = tuple(encoder_channels)
        self.latent_channels = int(latent_channels)
        self.fm_channels = tuple(fm_channels)
        self.latent_dim = int(latent_dim)
        self.decoder_channels = tuple(decoder_channels)
        if variant is None:
            variant = "gaussian_vae" if variational else "codae"
        if variant not in VARIANTS:
            raise InputError(f"CoDAE variant {variant!r}: use one of {list(VARIANTS)}")
        self.variant = str(variant)
        self.tau = float(tau)
        if not self.tau > 0:
            raise InputError(f"CoDAE tau = {tau}: the Gumbel-softmax temperature must be positive")
        self.beta = float(beta)
        self.conditional = bool(conditional)
        self.augment = bool(augment)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.batch_size = int(batch_size)
        self.epochs = int(epochs)
        self.seed = int(seed)
        self.threads = threads
        self.device = device

    @property
    def variational(self) -> bool:
        """Whether the latent is stochastic (``codvae`` or ``gaussian_vae``): the loss and scores have a KL."""
        return self.variant != "codae"

    def _build(self, image_shape):
        return CoDAENet(image_shape, self.encoder_channels, self.latent_channels, self.fm_channels, self.latent_dim,
                        self.decoder_channels, conditional=self.conditional, variant=self.variant, tau=self.tau)

    def _kl(self, mu, logvar):
        if self.variant == "codvae":
            return kl_categorical(mu)
        return kl_standard_normal(mu, logvar)

    def _loss(self, net, x, y, generator):
        if generator is not None and self.augment:
            x = augment(x, generator)
        logits, _, mu, logvar = net(x, sample=generator is not None)
        # Per-image summed BCE, so that beta weighs the KL against the whole image's reconstruction.
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        loss = bce
        if self.variational:
            loss = loss + self.beta * self._kl(mu, logvar)
        return loss.mean() / x[0].numel()  # per pixel, for readable numbers

    def fit(self, x, x_val=None):
        """Train on images ``x`` (n, C, H, W) with values in [0, 1] (QCD only); ``x_val`` picks the best epoch."""
        set_threads(self.threads)
        xt = _as_tensor(x)
        if len(xt) < 2:
            raise InputError(f"CoDAE needs at least 2 training images, got {len(xt)}")
        self._init_net(xt.shape[1:])
        xv = _as_tensor(x_val) if x_val is not None and len(x_val) else None
        self._fit_loop(xt, None, xv, None, self._device())
        self._fit_latent_stats(xt)
        return self

    @torch.no_grad()
    def _fit_latent_stats(self, xt):
        """Z_m orientation (grow with the number of hit pixels) and its mean/covariance on training images."""
        if not self.conditional:
            self.zm_sign_ = np.ones(0)
            return
        zm = self.encode_m(xt.numpy())
        hits = xt.flatten(1).sum(1).numpy()
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant component has no direction: +1
            corr = np.array([np.corrcoef(zm[:, k], hits)[0, 1] for k in range(zm.shape[1])])
        sign = np.where(corr < 0, -1.0, 1.0)
        self.zm_sign_ = np.nan_to_num(sign, nan=1.0)
        self.zm_mean_ = zm.mean(0)
        self.zm_cov_inv_ = np.linalg.pinv(np.atleast_2d(np.cov(zm, rowvar=False)))

    def _extra_state(self):
        if not self.conditional:
            return {}
        return {"zm_sign": self.zm_sign_, "zm_mean": self.zm_mean_, "zm_cov_inv": self.zm_cov_inv_}

    def _load_extra(self, extra):
        if self.conditional:
            self.zm_sign_, self.zm_mean_, self.zm_cov_inv_ = extra["zm_sign"], extra["zm_mean"], extra["zm_cov_inv"]

    def _check_fitted(self):
        if self._net is None:
            raise RuntimeError("the model is not fitted; call fit() or load()")

    @torch.no_grad()
    def encode_m(self, x, batch_size: int = 1024) -> np.ndarray:
        """Z_m = f_m(x), (n, latent_dim) - the trigger-time output."""
        self._check_fitted()
        if not self.conditional:
            raise RuntimeError("a plain auto-encoder (conditional=False) has no f_m")
        device = self._device()
        net = on_device(self._net, device).eval()
        out = [net.f_m(on_device(_as_tensor(x[lo:lo + batch_size]), device)).cpu() for lo in range(0, len(x), batch_size)]
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros((0, self.latent_dim))

    @torch.no_grad()
    def reconstruct(self, x, batch_size: int = 512) -> np.ndarray:
        """Per-pixel hit probabilities D(mean of Z, Z_m), float32 like x."""
        self._check_fitted()
        device = self._device()
        net = on_device(self._net, device).eval()
        out = [torch.sigmoid(net(on_device(_as_tensor(x[lo:lo + batch_size]), device), sample=False)[0]).cpu()
               for lo in range(0, len(x), batch_size)]
        return torch.cat(out).numpy()

    @torch.no_grad()
    def score_samples(self, x, batch_size: int = 512) -> dict:
        """Every anomaly score of images ``x`` (see the module docstring), as float64 arrays."""
        self._check_fitted()
        device = self._device()
        net = on_device(self._net, device).eval()
        parts = []
        for lo in range(0, len(x), batch_size):
            xb = on_device(_as_tensor(x[lo:lo + batch_size]), device)
            logits, zm, mu, logvar = net(xb, sample=False)
            p = torch.sigmoid(logits)
            flat_x, flat_p = xb.flatten(1), p.flatten(1)
            inter = (flat_x * flat_p).sum(1)
            s = {
                "bce": F.binary_cross_entropy_with_logits(logits, xb, reduction="none").flatten(1).mean(1),
                "mse": (flat_x - flat_p).pow(2).mean(1),
                "dice": 1.0 - (2 * inter + 1.0) / (flat_x.sum(1) + flat_p.sum(1) + 1.0),
                "energy_diff": flat_x.sum(1) - flat_p.sum(1),
            }
            if zm is not None:
                s["zm"] = zm
            if self.variational:
                s["kl"] = self._kl(mu, logvar)
            parts.append({k: v.cpu().double().numpy() for k, v in s.items()})
        scores = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
        if "zm" in scores:
            zm = scores.pop("zm")
            for k in range(zm.shape[1]):
                scores[f"zm{k + 1}"] = self.zm_sign_[k] * zm[:, k]
            d = zm - self.zm_mean_
            scores["zm_dist"] = np.sqrt(np.einsum("ni,ij,nj->n", d, self.zm_cov_inv_, d).clip(min=0))
        return scores


# ---------------------------------------------------------------------------------------------- deployment

def export_fm_onnx(model: CoDAE, path, opset: int = 17) -> None:
    """Export f_m (image -> Z_m, raw components) to ONNX with a dynamic batch axis, atomically."""
    model._check_fitted()
    net = model._net.to("cpu").eval()
    dummy = torch.zeros((1,) + tuple(model.image_shape_))
    # The TorchScript exporter: the dynamo one needs onnxscript, and f_m has no control flow to trace.
    with atomic_output(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(net.f_m, (dummy,), str(tmp), input_names=["image"], output_names=["z_m"],
                          dynamic_axes={"image": {0: "batch"}, "z_m": {0: "batch"}}, opset_version=opset,
                          dynamo=False)


def onnx_session(path, threads: int = 1):
    """An onnxruntime CPU session limited to ``threads`` intra-op threads and one inter-op thread."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def write_model_card(model: CoDAE, path) -> None:
    """Small JSON next to a model: hyperparameters and training history with each epoch's ``seconds`` (for
    the log and the report; the model file itself holds no timings)."""
    history = timed_history(model.history_, getattr(model, "epoch_seconds_", None))
    with atomic_output(path) as tmp:
        Path(tmp).write_text(json.dumps({"params": model.get_params(), "history": history}, indent=2,
                                        sort_keys=True, default=str) + "\n")
