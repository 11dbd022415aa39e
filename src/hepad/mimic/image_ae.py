"""The black box of the mimicker study: a convolutional auto-encoder of unit-sum jet images.

Encoder: three 3x3 convolutions (16, 32, 32 channels, ELU) each followed by 2x2 max pooling, a dense
layer of 100 and the ``bottleneck`` (32) latent units. Decoder: the mirror image with nearest-neighbour
up-sampling, ending in one channel whose pixels go through a softmax over the whole image, so the output
is a unit-sum image like the input. Loss: mean squared error per pixel. Anomaly score = per-image MSE.

The loss is computed on images scaled by the number of pixels (mean pixel value 1 instead of 1/1600):
the same minimum, but gradients of order one, far above Adam's epsilon. Reported MSEs are unscaled.
The image side must be divisible by 8 (three poolings); 40 x 40 is the paper's (docs/mimic.md).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from hepad.models.base import Estimator, check_array, load_torch_state, save_torch_state, set_threads
from hepad.models.training import setup, train

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


class ImageAutoEncoder(Estimator):
    """Convolutional image auto-encoder with a softmax output, scikit-learn shaped.

    The defaults are the published reference values of the mimicker study (docs/mimic.md): Adam lr 1e-3,
    batch 256, up to 50 epochs, early stopping with patience 10 (the workflow passes every setting of
    config ``mimickers.image_ae`` explicitly). Training runs in :func:`hepad.models.training.train`.

    Parameters
    ----------
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
    _PARAMS = ("bottleneck", "lr", "batch_size", "epochs", "patience", "val_fraction", "seed")

    def __init__(self, bottleneck=32, lr=1e-3, batch_size=256, epochs=50, patience=10, val_fraction=0.2,
                 seed=1, device=None, threads=None):
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
        model = _ConvAE(side, self.bottleneck).to(dev)
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
        result = train(model, opt, name="image auto-encoder", max_epochs=self.epochs, batches=batches, loss=loss,
                       validate=validate, patience=max(self.patience, 1), first_epoch=0,
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
        ae = cls(**state["params"], threads=threads)
        ae.n_pixels_ = state["n_pixels"]
        ae.model_ = _ConvAE(ae.n_pixels_, ae.bottleneck)
        ae.model_.load_state_dict(state["state"])
        ae.model_.eval()
        ae.history_ = state["history"]
        return ae
