"""Baselines of the CoDAE study (docs/codae.md): the number of tracks, a plain convolutional auto-encoder
on the same track mask, and a supervised CNN on the full images (an upper bound, it sees signal labels).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepad.io import InputError
from hepad.codae.model import CoDAE, _as_tensor, _ImageModel, augment, on_device
from hepad.models.base import set_threads


def n_tracks_score(ntracks) -> np.ndarray:
    """The physics baseline: dark showers make more charged particles, so more tracks = more anomalous."""
    return np.asarray(ntracks, dtype=np.float64)


class ConvAutoEncoder(CoDAE):
    """The plain convolutional auto-encoder: the CoDAE's f_R and decoder without f_m, conditioning or KL.

    Parameters are those of ``CoDAE`` (``conditional`` is fixed to False, ``variant`` to ``codae``); its scores
    are the reconstruction scores ``bce``, ``mse``, ``dice`` and ``energy_diff``.
    """

    def __init__(self, encoder_channels=(8, 16, 32), latent_channels=64, fm_channels=(8, 16, 32, 32), latent_dim=2,
                 decoder_channels=(64, 32, 16), variant="codae", tau=1.0, beta=0.0, conditional=False, augment=True,
                 lr=2e-3, weight_decay=0.0, batch_size=128, epochs=10, seed=0, threads=None, device=None,
                 variational=None):
        super().__init__(encoder_channels=encoder_channels, latent_channels=latent_channels, fm_channels=fm_channels,
                         latent_dim=latent_dim, decoder_channels=decoder_channels, variant="codae", beta=0.0,
                         conditional=False, augment=augment, lr=lr, weight_decay=weight_decay,
                         batch_size=batch_size, epochs=epochs, seed=seed, threads=threads, device=device)


class _CNN(nn.Module):
    def __init__(self, in_channels: int, channels: tuple, hidden: int):
        super().__init__()
        layers, c_in = [], in_channels
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), nn.ReLU()]
            c_in = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(2 * c_in, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        h = self.body(x)
        return self.head(torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)).squeeze(1)


class CNNClassifier(_ImageModel):
    """Supervised CNN on event images: signal probability (scikit-learn shape: fit / predict_proba / save / load).

    Inputs are images (n, C, H, W) of pT [GeV]; the network reads log(1 + pT), so the total energy scale
    stays visible. Classes are balanced by weighting the loss.

    Parameters
    ----------
    channels : tuple of int
        Channels per resolution (a stride-2 conv and a conv each; default (16, 32, 64)).
    hidden : int
        Units of the hidden dense layer after mean and max pooling (default 64).
    augment : bool
        Random eta flips and phi rolls during training (default True).
    lr, weight_decay, batch_size, epochs, seed, threads, device
        As in ``CoDAE`` (defaults 1e-3, 0, 128, 10, 0, None, None).
    """

    _PARAMS = ("channels", "hidden", "augment", "lr", "weight_decay", "batch_size", "epochs", "seed",
               "threads", "device")

    def __init__(self, channels=(16, 32, 64), hidden=64, augment=True, lr=1e-3, weight_decay=0.0, batch_size=128,
                 epochs=10, seed=0, threads=None, device=None):
        self.channels = tuple(channels)
        self.hidden = int(hidden)
        self.augment = bool(augment)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.batch_size = int(batch_size)
        self.epochs = int(epochs)
        self.seed = int(seed)
        self.threads = threads
        self.device = device

    def _build(self, image_shape):
        return _CNN(image_shape[0], self.channels, self.hidden)

    def _loss(self, net, x, y, generator):
        if generator is not None and self.augment:
            x = augment(x, generator)
        logits = net(torch.log1p(x))
        return F.binary_cross_entropy_with_logits(logits, y, pos_weight=self.pos_weight_.to(x.device))

    def fit(self, x, y, x_val=None, y_val=None):
        """Train on images ``x`` with labels ``y`` (1 = signal); the best validation epoch is kept."""
        set_threads(self.threads)
        xt, yt = _as_tensor(x), torch.as_tensor(np.asarray(y), dtype=torch.float32)
        n_sig = float(yt.sum())
        if n_sig == 0 or n_sig == len(yt):
            raise InputError("the supervised CNN needs both signal and background training images")
        self.pos_weight_ = torch.tensor((len(yt) - n_sig) / n_sig)
        self._init_net(xt.shape[1:])
        has_val = x_val is not None and len(x_val)
        xv = _as_tensor(x_val) if has_val else None
        yv = torch.as_tensor(np.asarray(y_val), dtype=torch.float32) if has_val else None
        return self._fit_loop(xt, yt, xv, yv, self._device())

    def _extra_state(self):
        return {"pos_weight": float(self.pos_weight_)}

    def _load_extra(self, extra):
        self.pos_weight_ = torch.tensor(extra["pos_weight"])

    @torch.no_grad()
    def predict_proba(self, x, batch_size: int = 512) -> np.ndarray:
        """Signal probability per image, float64."""
        if self._net is None:
            raise RuntimeError("the model is not fitted; call fit() or load()")
        device = self._device()
        net = on_device(self._net, device).eval()
        out = [torch.sigmoid(net(torch.log1p(on_device(_as_tensor(x[lo:lo + batch_size]), device)))).cpu()
               for lo in range(0, len(x), batch_size)]
        return torch.cat(out).double().numpy() if out else np.zeros(0)
