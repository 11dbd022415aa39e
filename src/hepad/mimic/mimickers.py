"""Mimickers of a black-box anomaly score from a few high-level observables (Bradshaw et al. 2022).

- :class:`HighLevelNetwork` (HLN): an MLP (4 x 50, ELU) regressing the logarithm of the black box's
  score (the auto-encoder MSE); its prediction is the mimicker's anomaly score.
- :class:`PairedNeuralNetwork` (PNN): one MLP f (4 x 50, ELU, one output) shared by both events of a
  pair (x1, x2); the network's output sigmoid(f(x2) - f(x1)) is trained with binary cross-entropy on
  whether the black box scores x2 above x1. f itself is the anomaly score: only orderings are learned.
  The training pairs are drawn once from ``seed`` (``pair_indices``), so a rerun sees the same pairs.

Both standardise their inputs with the training mean and spread, keep the weights of the epoch with
the lowest validation loss (a seeded hold-out of the training events), and have the scikit-learn shape
``fit(x, score)`` / ``predict(x)`` / ``save`` / ``load``. The study and its reference settings: docs/mimic.md.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from hepad.io import InputError
from hepad.models.base import BestEpochs, Estimator, check_array, load_torch_state, save_torch_state, set_threads
from hepad.models.training import PlateauDrop, setup, train

log = logging.getLogger(__name__)


def mlp(n_in: int, hidden=(50, 50, 50, 50)) -> nn.Sequential:
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ELU()]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def pair_indices(n: int, n_pairs: int, seed: int) -> np.ndarray:
    """(n_pairs, 2) indices of distinct events, drawn from ``seed`` alone (fixed across reruns)."""
    if n < 2:
        raise ValueError("pairs need at least two events")
    rng = np.random.default_rng([int(seed), 0x5EED])
    i = rng.integers(0, n, n_pairs)
    j = (i + rng.integers(1, n, n_pairs)) % n  # never i itself
    return np.stack([i, j], axis=1)


class _Mimicker(Estimator):
    """What HLN and PNN share: training in :func:`hepad.models.training.train`; subclasses define the
    batches and the loss.

    The defaults are the published reference values (docs/mimic.md): 4 x 50 ELU, Adam lr 1e-3, batch 256,
    up to 200 epochs, 15 % validation, early stop after 10 epochs without a lower validation loss, the
    learning rate divided by 10 after 5 (not below 1e-6); an epoch counts as better when its validation
    loss is lower by more than 1e-4.
    """

    kind = ""
    # device and threads are not saved: they belong to the machine that runs it.
    _PARAMS = ("hidden", "lr", "batch_size", "epochs", "patience", "lr_patience", "val_fraction", "seed")
    MIN_LR = 1e-6
    MIN_DELTA = 1e-4  # the paper's: a validation loss improves when lower by more than this

    def __init__(self, hidden=(50, 50, 50, 50), lr=1e-3, batch_size=256, epochs=200, patience=10,
                 lr_patience=5, val_fraction=0.15, seed=1, device=None, threads=None):
        self.lr_patience = int(lr_patience)
        self.hidden = tuple(int(h) for h in hidden)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.epochs = int(epochs)
        self.patience = int(patience)
        self.val_fraction = float(val_fraction)
        self.seed = int(seed)
        self.device = device
        self.threads = threads

    def get_params(self) -> dict:
        return {**super().get_params(), "hidden": list(self.hidden)}

    def _standardise(self, x) -> torch.Tensor:
        x = check_array(x, "x", dtype=np.float64)
        return torch.from_numpy(((x - self.mean_) / self.std_).astype(np.float32))

    def fit(self, x, score):
        """Train on observables ``x`` (n, d) to mimic the black-box ``score`` (n,) > 0; returns self."""
        dev = setup(self.threads, self.device)
        torch.manual_seed(self.seed)
        score = np.asarray(score, dtype=np.float64).ravel()
        x = check_array(x, "x", dtype=np.float64, rows=len(score))
        self.mean_ = x.mean(axis=0)
        self.std_ = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        xt = self._standardise(x).to(dev)
        rng = np.random.default_rng(self.seed)
        perm = rng.permutation(len(x))
        n_val = max(2, int(round(self.val_fraction * len(x))))
        val_idx, train_idx = perm[:n_val], perm[n_val:]
        model = mlp(x.shape[1], self.hidden).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        train_batches, val_batches = self._prepare(train_idx, val_idx, score, dev)
        # One numpy generator of the seed: the split first, then each epoch's order. History epochs count
        # from 0 (as in every saved model); patience 0 acts as 1.
        result = train(model, opt, name=self.kind.upper(), max_epochs=self.epochs,
                       batches=lambda epoch: list(self._batches(train_batches, rng)),
                       loss=lambda batch: (self._loss(model, xt, batch), len(batch[0])),
                       validate=lambda _: float(self._loss(model, xt, val_batches)),
                       selection=BestEpochs(min_delta=self.MIN_DELTA), patience=max(self.patience, 1), first_epoch=0,
                       plateau=PlateauDrop(self.lr_patience, min_lr=self.MIN_LR, min_delta=self.MIN_DELTA)
                       if self.lr_patience > 0 else None,
                       generators=[rng])
        model.load_state_dict(result.selection.states[0])
        self.history_ = result.history
        self.epoch_seconds_ = result.seconds
        self.model_ = model.cpu().eval()
        self.n_features_ = x.shape[1]
        log.info("%s on %d features: %d epochs, best validation loss %.5f", self.kind, x.shape[1],
                 len(self.history_), result.selection.best)
        return self

    def predict(self, x) -> np.ndarray:
        """The mimicker's anomaly score (n,): larger = more anomalous, like the black box."""
        set_threads(self.threads)
        with torch.no_grad():
            return self.model_(self._standardise(x)).squeeze(1).numpy().astype(np.float64)

    def save(self, path) -> None:
        state = {"kind": self.kind, "params": self.get_params(), "state": self.model_.state_dict(),
                 "mean": torch.as_tensor(self.mean_), "std": torch.as_tensor(self.std_),
                 "n_features": self.n_features_, "history": self.history_}
        save_torch_state(path, state)

    @classmethod
    def load(cls, path, threads=None):
        state = load_torch_state(path, "the mimicker", "delete it and rerun")
        if state["kind"] != cls.kind:
            raise InputError(f"{path}: holds a {state['kind']} mimicker, not a {cls.kind}")
        obj = cls(**{"lr_patience": 0, **state["params"]}, threads=threads)  # older files: no drop
        obj.mean_, obj.std_ = state["mean"].numpy(), state["std"].numpy()
        obj.n_features_ = state["n_features"]
        obj.model_ = mlp(obj.n_features_, obj.hidden)
        obj.model_.load_state_dict(state["state"])
        obj.model_.eval()
        obj.history_ = state["history"]
        return obj


class HighLevelNetwork(_Mimicker):
    """HLN: regress log(black-box score) with an MLP (mean squared error).

    Parameters
    ----------
    target : str
        What is regressed: ``log`` (log score, the paper's) or ``rank`` (the normal scores of the
        training events' ranks, which keeps only the ordering, like the ADO).
    hidden : tuple of int
        Hidden layer widths (default four of 50, ELU: reference value).
    lr, batch_size, epochs, patience, lr_patience, val_fraction, seed, device, threads
        Adam learning rate (1e-3, reference value), events per step (256, reference value), maximum
        epochs (200, reference value), early-stopping patience (10, reference value; 0 acts as 1),
        epochs without improvement before the learning rate is divided by 10 (5, reference value; 0:
        never), validation hold-out fraction (0.15, reference value), seed of weights/split/batches (1),
        torch device (None: GPU if any), CPU threads.

    Attributes
    ----------
    history_ : list of dict
        Per epoch (numbered from 0): ``epoch``, ``train_loss``, ``val_loss``. Saved with the model.
    epoch_seconds_ : list of float
        Seconds per epoch of the last :meth:`fit` (in the log; not saved).
    """

    kind = "hln"
    _PARAMS = _Mimicker._PARAMS + ("target",)
    TARGETS = ("log", "rank")

    def __init__(self, target="log", **kwargs):
        super().__init__(**kwargs)
        if target not in self.TARGETS:
            raise ValueError(f"HLN target must be one of {self.TARGETS}, got {target!r}")
        self.target = target

    @staticmethod
    def rank_target(score) -> np.ndarray:
        """Normal scores of the ranks: Phi^-1((rank + 1/2) / n), ties sharing their mean rank."""
        from scipy.special import ndtri
        from scipy.stats import rankdata

        return ndtri((rankdata(score) - 0.5) / len(score))

    def _prepare(self, train_idx, val_idx, score, dev):
        y = np.log(np.maximum(score, 1e-300)) if self.target == "log" else self.rank_target(score)
        target = torch.from_numpy(y.astype(np.float32)).to(dev)
        self._target = target
        return (train_idx,), (torch.from_numpy(val_idx).to(dev),)

    def _batches(self, train, rng):
        idx = train[0][rng.permutation(len(train[0]))]
        for start in range(0, len(idx), self.batch_size):
            yield (torch.from_numpy(idx[start:start + self.batch_size]).to(self._target.device),)

    def _loss(self, model, xt, batch):
        (idx,) = batch
        return (model(xt[idx]).squeeze(1) - self._target[idx]).pow(2).mean()


class PairedNeuralNetwork(_Mimicker):
    """PNN: learn which event of a pair the black box scores higher, sigmoid(f(x2) - f(x1)).

    Parameters
    ----------
    n_pairs : int
        Training pairs drawn once (seeded) among the training events (default 200000); validation
        pairs are drawn among the held-out events in proportion.
    hidden, lr, batch_size, epochs, patience, lr_patience, val_fraction, seed, device, threads
        As :class:`HighLevelNetwork`; ``batch_size`` counts pairs.
    """

    kind = "pnn"
    _PARAMS = _Mimicker._PARAMS + ("n_pairs",)

    def __init__(self, n_pairs=200000, **kwargs):
        super().__init__(**kwargs)
        self.n_pairs = int(n_pairs)

    def _prepare(self, train_idx, val_idx, score, dev):
        def pairs(idx, n_pairs, seed):
            p = idx[pair_indices(len(idx), n_pairs, seed)]
            s1, s2 = score[p[:, 0]], score[p[:, 1]]
            keep = s1 != s2  # a tie says nothing about the order
            y = (s2[keep] > s1[keep]).astype(np.float32)
            return torch.from_numpy(p[keep]).to(dev), torch.from_numpy(y).to(dev)

        n_val_pairs = max(100, int(self.n_pairs * len(val_idx) / max(len(train_idx), 1)))
        return pairs(train_idx, self.n_pairs, self.seed), pairs(val_idx, n_val_pairs, self.seed + 1)

    def _batches(self, train, rng):
        p, y = train
        order = torch.from_numpy(rng.permutation(len(y))).to(y.device)
        for start in range(0, len(y), self.batch_size):
            sel = order[start:start + self.batch_size]
            yield p[sel], y[sel]

    def _loss(self, model, xt, batch):
        p, y = batch
        logit = model(xt[p[:, 1]]).squeeze(1) - model(xt[p[:, 0]]).squeeze(1)
        return nn.functional.binary_cross_entropy_with_logits(logit, y)


MIMICKERS = {"hln": HighLevelNetwork, "pnn": PairedNeuralNetwork}


def make_mimicker(kind: str, **params):
    if kind not in MIMICKERS:
        raise ValueError(f"unknown mimicker {kind!r}; choose from {sorted(MIMICKERS)}")
    return MIMICKERS[kind](**params)
