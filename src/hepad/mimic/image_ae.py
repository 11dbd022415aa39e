"""The black box of the mimicker study: a convolutional auto-encoder of unit-sum jet images.

Two architectures (``architecture``), both ending in one channel whose pixels go through a softmax over
the whole image, so the output is a unit-sum image like the input:

- ``paper`` (the published one, docs/mimic.md): two 3x3 convolutions of 5 channels (ELU), one 2x2 max
  pooling, three more of 5 channels and one of 1 channel at half resolution (20 x 20 for 40 x 40
  images), flattened into a dense layer of 100 (ELU) and the ``bottleneck`` (32) latent units. Decoder:
  dense 100 and (side/2)^2 (ELU), the 1-channel half-resolution map, two 5-channel convolutions, a 2x2
  transposed convolution back to full resolution, a 5-channel and a 1-channel convolution (ELU), softmax.
- ``deep`` (this project's first choice): three 3x3 convolutions (16, 32, 32 channels, ELU) each
  followed by 2x2 max pooling, a dense layer of 100 and the latent units; the mirror image with
  nearest-neighbour up-sampling.

Loss: mean squared error per pixel. Anomaly score = per-image MSE. Training: Adam, the learning rate
divided by 10 after ``lr_patience`` epochs without a lower validation loss, early stop after
``patience``, the best validation epoch kept.

The loss is computed on images scaled by the number of pixels (mean pixel value 1 instead of 1/1600):
the same minimum, but gradients of order one, far above Adam's epsilon. Reported MSEs are unscaled.
The image side must be divisible by 8 (three poolings of ``deep``; ``paper`` needs an even side);
40 x 40 is the paper's (docs/mimic.md).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from hepad.models.base import BestEpochs, Estimator, check_array, load_torch_state, save_torch_state, set_threads
from hepad.models.training import PlateauDrop, setup, train

log = logging.getLogger(__name__)


class _ConvAE(nn.Module):
    def __init__(self, n_pixels: int, bottleneck: int, channels=(16, 32, 32), dense: int = 100):
        super().__init__()
        c1, c2, c3 = channels
        side = n_pixels // 8
        self.side, self.c3 = side, c3
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ELU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ELU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ELU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c3 * side * side, dense), nn.ELU(), nn.Linear(dense, bottleneck),
        )
        self.decoder_dense = nn.Sequential(
            nn.Linear(bottleneck, dense), nn.ELU(), nn.Linear(dense, c3 * side * side), nn.ELU())
        self.decoder_conv = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.Conv2d(c3, c2, 3, padding=1), nn.ELU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(c2, c1, 3, padding=1), nn.ELU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(c1, 1, 3, padding=1),
        )

    def forward(self, x):  # x: (batch, 1, n, n), unit sum
        z = self.encoder(x)
        h = self.decoder_dense(z).view(-1, self.c3, self.side, self.side)
        logits = self.decoder_conv(h).flatten(1)
        return torch.softmax(logits, dim=1).view_as(x)


def keras_init(module: nn.Module) -> None:
    """Initialise as Keras, the published code's framework, does: Glorot-uniform weights, zero biases.

    PyTorch's default (weights uniform within 1/√fan_in, biases as well) lets the biases drown the
    unit-sum input in the paper's six stacked 5-channel convolutions: at initialisation the latent code
    varied by 0.15 % across QCD jets (66 % with this), and training stalled on the mean image
    (docs/mimic.md)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


class _PaperAE(nn.Module):
    """The published auto-encoder (module docstring, ``paper``), initialised as Keras does (:func:`keras_init`)."""

    def __init__(self, n_pixels: int, bottleneck: int, channels: int = 5, dense: int = 100):
        super().__init__()
        half = n_pixels // 2
        self.half = half
        c = channels

        def conv(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ELU()]

        self.encoder = nn.Sequential(
            *conv(1, c), *conv(c, c), nn.MaxPool2d(2), *conv(c, c), *conv(c, c), *conv(c, c), *conv(c, 1),
            nn.Flatten(), nn.Linear(half * half, dense), nn.ELU(), nn.Linear(dense, bottleneck))
        self.decoder_dense = nn.Sequential(nn.Linear(bottleneck, dense), nn.ELU(), nn.Linear(dense, half * half),
                                           nn.ELU())
        self.decoder_conv = nn.Sequential(*conv(1, c), *conv(c, c), nn.ConvTranspose2d(c, c, 2, stride=2),
                                          *conv(c, c), *conv(c, 1))
        keras_init(self)

    def forward(self, x):  # x: (batch, 1, n, n), unit sum
        h = self.decoder_dense(self.encoder(x)).view(-1, 1, self.half, self.half)
        logits = self.decoder_conv(h).flatten(1)
        return torch.softmax(logits, dim=1).view_as(x)


ARCHITECTURES = {"paper": _PaperAE, "deep": _ConvAE}


class ImageAutoEncoder(Estimator):
    """Convolutional image auto-encoder with a softmax output, scikit-learn shaped.

    The defaults are the published reference values of the mimicker study (docs/mimic.md): the paper's
    architecture, Adam lr 1e-3, batch 256, up to 50 epochs, the learning rate divided by 10 after 5
    stalled epochs, early stopping with patience 10 (the workflow passes every setting of config
    ``mimickers.image_ae`` explicitly). Training runs in :func:`hepad.models.training.train`.

    Parameters
    ----------
    architecture : str
        ``paper`` or ``deep`` (module docstring; default ``paper``).
    bottleneck : int
        Latent dimension (default 32, the paper's).
    lr : float
        Adam learning rate (default 1e-3, reference value).
    batch_size : int
        Images per step (default 256, reference value).
    epochs : int
        Maximum number of epochs (default 50, reference value).
    patience : int
        Stop after this many epochs without a lower validation loss; the best epoch's weights are kept
        (default 10, reference value; 0 acts as 1).
    lr_patience : int
        Divide the learning rate by 10 after this many epochs without a lower validation loss (default 5,
        reference value; 0: never).
    val_fraction : float
        Fraction of the training images held out for that validation loss (default 0.2).
    seed : int
        Seeds the weights, the validation split and the batch order (default 1).
    device : str or None
        "cpu", "cuda", ...; None picks the GPU when there is one.
    threads : int or None
        CPU threads for torch (the rule's ``threads``).

    Attributes
    ----------
    history_ : list of dict
        Per epoch (numbered from 0): ``epoch``, ``train_loss`` (scaled MSE), ``val_loss``. Saved with the
        model: no timings.
    epoch_seconds_ : list of float
        Seconds per epoch of the last :meth:`fit` (in the log; not saved; see :meth:`timed_history`).
    """

    # device and threads are not saved: they belong to the machine that runs it.
    _PARAMS = ("architecture", "bottleneck", "lr", "batch_size", "epochs", "patience", "lr_patience",
               "val_fraction", "seed")

    STOP_MIN_DELTA = 1e-8  # the paper's, on the per-pixel MSE of unit-sum images
    LR_MIN_DELTA = 1e-6

    def __init__(self, architecture="paper", bottleneck=32, lr=1e-3, batch_size=256, epochs=50, patience=10,
                 lr_patience=5, val_fraction=0.2, seed=1, device=None, threads=None):
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}")
        self.architecture = architecture
        self.lr_patience = int(lr_patience)
        self.bottleneck = int(bottleneck)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.epochs = int(epochs)
        self.patience = int(patience)
        self.val_fraction = float(val_fraction)
        self.seed = int(seed)
        self.device = device
        self.threads = threads

    def _images(self, images) -> torch.Tensor:
        shape = "(n, side, side) with side divisible by 8"
        x = check_array(images, "images", ndim=3, shape=shape)
        if x.shape[1] != x.shape[2] or x.shape[1] % 8:
            raise ValueError(f"images must have shape {shape}, got {x.shape}")
        return torch.from_numpy(x).unsqueeze(1)

    def fit(self, images, progress=None):
        """Train on (background) images (n, side, side); returns self."""
        dev = setup(self.threads, self.device)
        torch.manual_seed(self.seed)
        x = self._images(images)
        n, side = len(x), x.shape[-1]
        self.n_pixels_ = side
        rng = np.random.default_rng(self.seed)
        perm = rng.permutation(n)
        n_val = max(1, int(round(self.val_fraction * n))) if n > 1 else 0
        val_idx, train_idx = perm[:n_val], perm[n_val:]
        model = ARCHITECTURES[self.architecture](side, self.bottleneck).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        scale = float(side * side)

        def batches(epoch):  # one numpy generator of the seed: split first, then each epoch's order
            order = train_idx[rng.permutation(len(train_idx))]
            return [order[start:start + self.batch_size] for start in range(0, len(order), self.batch_size)]

        def loss(idx):
            xb = x[idx].to(dev)
            return ((model(xb) - xb) * scale).pow(2).mean(), len(xb)

        def validate(train_loss):
            return float(np.mean(self._mse(model, x[val_idx], dev))) * scale ** 2 if n_val else train_loss

        # History epochs count from 0 (as in every saved model); patience 0 acts as 1.
        # The paper's thresholds on the unscaled MSE (docs/mimic.md): an epoch improves on the best when its
        # loss is lower by more than 1e-8 (early stopping) and 1e-6 (learning-rate drop); here in scaled units.
        result = train(model, opt, name="image auto-encoder", max_epochs=self.epochs, batches=batches, loss=loss,
                       validate=validate, patience=max(self.patience, 1), first_epoch=0,
                       selection=BestEpochs(min_delta=self.STOP_MIN_DELTA * scale ** 2),
                       plateau=PlateauDrop(self.lr_patience, min_delta=self.LR_MIN_DELTA * scale ** 2)
                       if self.lr_patience > 0 else None,
                       hint="lower image_ae.lr", generators=[rng])
        model.load_state_dict(result.selection.states[0])
        self.history_ = result.history
        self.epoch_seconds_ = result.seconds
        self.model_ = model.cpu().eval()
        return self


    @staticmethod
    def _mse(model, x, dev, chunk=4096) -> np.ndarray:
        model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(x), chunk):
                xb = x[start:start + chunk].to(dev)
                out.append((model(xb) - xb).pow(2).mean(dim=(1, 2, 3)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def reconstruct(self, images) -> np.ndarray:
        with torch.no_grad():
            return self.model_(self._images(images)).squeeze(1).numpy()

    def predict(self, images) -> np.ndarray:
        """Anomaly score: per-image mean squared error of the reconstruction (n,)."""
        set_threads(self.threads)
        return self._mse(self.model_, self._images(images), torch.device("cpu")).astype(np.float64)

    def save(self, path) -> None:
        state = {"params": self.get_params(), "n_pixels": self.n_pixels_, "state": self.model_.state_dict(),
                 "history": self.history_}
        save_torch_state(path, state)

    @classmethod
    def load(cls, path, threads=None) -> "ImageAutoEncoder":
        state = load_torch_state(path, "the image auto-encoder", "delete it and rerun")
        # files written before the architecture setting hold the deep one and no learning-rate drop
        params = {"architecture": "deep", "lr_patience": 0, **state["params"]}
        ae = cls(**params, threads=threads)
        ae.n_pixels_ = state["n_pixels"]
        ae.model_ = ARCHITECTURES[ae.architecture](ae.n_pixels_, ae.bottleneck)
        ae.model_.load_state_dict(state["state"])
        ae.model_.eval()
        ae.history_ = state["history"]
        return ae
