"""CATHODE's classifier: a fully connected ReLU network trained with weighted binary cross-entropy.

Kept apart from :mod:`hepad.models.classifiers` (the interface, the tree ensemble and
:func:`~hepad.models.classifiers.make_classifier`) because it needs torch, whose import costs a
tree-ensemble job about 3 s.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepad.models.base import BestEpochs, LastEpochs, check_array, load_torch_state, save_torch_state
from hepad.models.classifier_base import Classifier, _check_xy, balanced_weights
from hepad.models.training import setup, train

log = logging.getLogger(__name__)


class _MLP(nn.Module):
    def __init__(self, n_in, hidden):
        super().__init__()
        layers, width = [], n_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(1)  # logits; the sigmoid is in the loss (stable) and in predict


class MLPClassifier(Classifier):
    """Fully connected ReLU network with a sigmoid output trained with weighted BCE (CATHODE's classifier).

    Inputs are standardised with the training mean and standard deviation inside the model. The defaults
    are the published reference values of CATHODE's classifier (docs/cathode.md): 3 x 64 ReLU, Adam lr
    1e-3, batch 128, 100 epochs, the predictions of the 10 best epochs averaged. Training runs in
    :func:`hepad.models.training.train`.

    Parameters
    ----------
    hidden : tuple of int, default (64, 64, 64)
        Widths of the hidden layers (reference value).
    lr : float, default 1e-3
        Adam learning rate (reference value).
    batch_size : int, default 128
        Events per gradient step (reference value).
    epochs : int, default 100
        Training epochs, fewer with ``patience`` (reference value).
    n_average : int, default 10
        Predictions are averaged over the models of the ``n_average`` epochs with the lowest validation
        loss (reference value). Without validation data, the last ``n_average`` epochs.
    class_weight : "balanced" or None, default "balanced"
        Give both classes the same total weight (see the module docstring).
    seed : int, default 0
        Seed of the initialisation and the batch order.
    threads : int or None
        ``torch.set_num_threads`` on the CPU.
    device : str or None
        Torch device; None = the GPU when visible, else the CPU.
    patience : int or None, default None
        Stop when the validation loss has not improved for this many epochs; None trains all epochs.
    weight_decay : float, default 0
        Adam L2 weight decay.
    epoch_selection : {"val_loss", "last"}, default "val_loss"
        Which ``n_average`` epochs are averaged: those with the lowest validation loss (reference), or
        the last ones ("last"; the validation loss is still recorded and drives ``patience``). At a
        signal fraction of 0.6 % the validation loss is mostly noise and its lowest epochs are among
        the first (docs/cathode.md, the MLP in the idealized AD).

    Attributes
    ----------
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_loss`` (weighted BCE per unit weight). Saved with the
        model: no timings.
    epoch_seconds_ : list of float
        Seconds per epoch of the last :meth:`fit` (in the log; not saved; see :meth:`timed_history`).
    kept_epochs_ : list of int
        The epochs whose models are averaged.
    """

    def __init__(self, hidden=(64, 64, 64), lr=1e-3, batch_size=128, epochs=100, n_average=10,
                 class_weight="balanced", seed=0, threads=None, device=None, patience=None, weight_decay=0.0,
                 epoch_selection="val_loss"):
        if epoch_selection not in ("val_loss", "last"):
            raise ValueError(f"epoch_selection must be 'val_loss' or 'last', got {epoch_selection!r}")
        self.hidden = tuple(hidden)
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.n_average = n_average
        self.class_weight = class_weight
        self.seed = seed
        self.threads = threads
        self.device = device
        self.patience = patience
        self.weight_decay = weight_decay
        self.epoch_selection = epoch_selection

    _PARAMS = ("hidden", "lr", "batch_size", "epochs", "n_average", "class_weight", "seed", "threads",
               "device", "patience", "weight_decay", "epoch_selection")

    def _loss(self, model, x, y, w, chunk=65536):
        total = 0.0
        with torch.inference_mode():
            model.eval()
            for s in range(0, len(x), chunk):
                logits = model(x[s:s + chunk])
                total += float((F.binary_cross_entropy_with_logits(logits, y[s:s + chunk], reduction="none")
                                * w[s:s + chunk]).double().sum())
        return total / float(w.double().sum())

    def fit(self, x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None):
        x, y = _check_xy(x, y, "x")
        has_val = x_val is not None
        if has_val:
            x_val, y_val = _check_xy(x_val, y_val, "x_val")
        device = setup(self.threads, self.device)
        self.mean_ = x.mean(0)
        self.std_ = x.std(0)
        self.std_[self.std_ == 0] = 1.0
        w = balanced_weights(y, sample_weight, self.class_weight)
        # Normalise to mean 1 so the loss scale (and thus the effective learning rate) ignores weighting.
        w = w / w.mean()

        def tensors(xa, ya, wa):
            return (torch.as_tensor((xa - self.mean_) / self.std_, dtype=torch.float32, device=device),
                    torch.as_tensor(ya, dtype=torch.float32, device=device),
                    torch.as_tensor(wa, dtype=torch.float32, device=device))

        xt, yt, wt = tensors(x, y, w)
        if has_val:
            wv = balanced_weights(y_val, sample_weight_val, self.class_weight)
            xv, yv, wv = tensors(x_val, y_val, wv / wv.mean())

        torch.manual_seed(self.seed)
        model = _MLP(x.shape[1], self.hidden).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay, foreach=True)
        n = len(x)
        n_batches = max(1, math.ceil(n / self.batch_size))

        def batches(epoch):  # epoch e (0-based) is shuffled by a generator of (seed, e + 1)
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch + 1)
            perm = torch.randperm(n, generator=gen).to(device)
            return [perm[b * self.batch_size:(b + 1) * self.batch_size] for b in range(n_batches)]

        def loss(idx):
            per_event = F.binary_cross_entropy_with_logits(model(xt[idx]), yt[idx], reduction="none")
            return (per_event * wt[idx]).mean(), len(idx)

        # Without validation data the last n_average epochs are kept (the loop's rule).
        result = train(model, opt, name="classifier", max_epochs=self.epochs, batches=batches, loss=loss,
                       validate=(lambda _: self._loss(model, xv, yv, wv)) if has_val else None,
                       selection=(LastEpochs if self.epoch_selection == "last" else BestEpochs)(self.n_average),
                       patience=self.patience, check_batches=False,
                       hint="lower the classifier learning rate or check the inputs")
        self.history_ = result.history
        self.epoch_seconds_ = result.seconds
        self.states_ = result.selection.states
        self.kept_epochs_ = result.selection.epochs
        self.n_features_ = x.shape[1]
        log.info("averaging the models of epochs %s", self.kept_epochs_)
        return self


    def predict_proba(self, x) -> np.ndarray:
        """Class-1 probability per event, averaged over the kept epochs' models."""
        if not getattr(self, "states_", None):
            raise RuntimeError("MLPClassifier is not fitted; call fit(...) or load(path) first")
        device = setup(self.threads, self.device)
        x = check_array(x, "x", dtype=np.float64, columns=self.n_features_)
        xt = torch.as_tensor((x - self.mean_) / self.std_, dtype=torch.float32, device=device)
        model = _MLP(self.n_features_, self.hidden).to(device)
        total = torch.zeros(len(x), dtype=torch.float64, device=device)
        with torch.inference_mode():
            model.eval()
            for state in self.states_:
                model.load_state_dict(state)
                for s in range(0, len(x), 65536):
                    total[s:s + 65536] += torch.sigmoid(model(xt[s:s + 65536])).double()
        return (total / len(self.states_)).cpu().numpy()

    def save(self, path) -> None:
        state = {"params": self.get_params(), "states": self.states_, "kept_epochs": self.kept_epochs_,
                 "history": self.history_, "mean": torch.as_tensor(self.mean_),
                 "std": torch.as_tensor(self.std_), "n_features": self.n_features_}
        state["params"]["hidden"] = list(self.hidden)
        save_torch_state(path, state)

    @classmethod
    def load(cls, path, device=None, threads=None) -> "MLPClassifier":
        state = load_torch_state(path, "classifier")
        clf = cls(**dict(state["params"], device=device, threads=threads))
        clf.states_ = state["states"]
        clf.kept_epochs_ = state["kept_epochs"]
        clf.history_ = state["history"]
        clf.mean_ = state["mean"].numpy()
        clf.std_ = state["std"].numpy()
        clf.n_features_ = state["n_features"]
        return clf
