"""Binary classifiers of the weakly supervised methods: the reference MLP and a boosted-tree ensemble.

Both have one interface (:class:`Classifier`), so a script trains either the same way::

    clf = make_classifier("hgb", seed=3, threads=2)
    clf.fit(x, y, x_val, y_val, sample_weight=w)
    scores = clf.predict_proba(x_test)   # 1-d, probability of class 1

- :class:`MLPClassifier` (CATHODE): 3 x 64 ReLU, sigmoid output, weighted binary cross-entropy, Adam;
  predictions averaged over the ``n_average`` epochs with the lowest validation loss.
- :class:`HGBEnsemble` (Finke et al., arXiv:2309.13111): ``n_models`` scikit-learn
  HistGradientBoostingClassifier members, each fitted on all the training data with Poisson(1)
  bootstrap weights of its own and stopped early on the loss of the given validation data (the MLP
  picks its epochs on them the same way); the predictions are averaged. No member is ever fitted on
  the validation data. Published code (and ``early_stopping="train"`` here) stops each member on a
  random part of the training data instead, which at a signal fraction of 0.6 % leaves every member
  half the few signal events and a noisy stopping point (docs/cathode.md, tree classifiers).

Class weights "balanced" give each class the same total weight (after any sample weights), as
``n_total / (2 n_class)``: the classifier then estimates a likelihood ratio up to a constant whatever
the class sizes (e.g. 60k data events against 400k flow samples).
"""

from __future__ import annotations

import logging
import math
import time

import joblib
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepad.io import InputError, atomic_output
from hepad.models.base import BestEpochs, Estimator, LastEpochs, check_array, load_torch_state, save_torch_state
from hepad.models.training import setup, timed_history, train

log = logging.getLogger(__name__)


def balanced_weights(y, sample_weight=None, class_weight="balanced") -> np.ndarray:
    """Per-event weights: ``sample_weight`` times, with "balanced", ``total / (2 * class total)``."""
    y = np.asarray(y)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).copy()
    if class_weight is None:
        return w
    if class_weight != "balanced":
        raise ValueError(f"class_weight must be 'balanced' or None, got {class_weight!r}")
    total = w.sum()
    for label in (0, 1):
        sel = y == label
        class_total = w[sel].sum()
        if class_total > 0:
            w[sel] *= total / (2.0 * class_total)
    return w


def _check_xy(x, y, name="x"):
    y = np.asarray(y).ravel()
    x = check_array(x, name, dtype=np.float64, rows=len(y))
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels of {name} must be 0 or 1")
    if len(np.unique(y)) < 2:
        raise InputError(f"{name}: both classes are needed to train a classifier, got only label "
                         f"{int(y[0]) if len(y) else 'none'} ({len(y)} events)")
    x = check_array(x, name, dtype=np.float64, finite=True)
    return x, y.astype(np.float64)


def _weighted_log_loss(p, y, w) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-(w * (y * np.log(p) + (1 - y) * np.log1p(-p))).sum() / w.sum())


class Classifier(Estimator):
    """Common interface of the classifiers (use :func:`make_classifier`).

    ``fit(x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None) -> self``;
    ``predict_proba(x) -> ndarray (n,)`` of class-1 scores; ``save(path)``; ``load(path)`` (classmethod);
    ``history_`` (list of dicts, one per epoch or member).
    """

    def fit(self, x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None):
        raise NotImplementedError

    def predict_proba(self, x) -> np.ndarray:
        raise NotImplementedError

    def save(self, path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path):
        raise NotImplementedError


# ----------------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------------

class HGBEnsemble(Classifier):
    """Average of ``n_models`` HistGradientBoostingClassifier members (Finke et al.).

    The sizes are the published reference values (docs/cathode.md): 50 members of at most 200
    iterations with 31 leaves per tree; the stopping rule is not (``early_stopping``: the published one
    is "train", the default "val" keeps more of the IAD's max SIC with noise features at S/B 0.6 %).

    Example::

        clf = HGBEnsemble(n_models=5, seed=1).fit(x, y, x_val, y_val)   # validation data required
        [h["n_iter"] for h in clf.history_]                             # where each member stopped

    Parameters
    ----------
    n_models : int, default 50
        Ensemble members, each with its own random early-stopping split and seed (reference value).
    max_iter : int, default 200
        Maximum boosting iterations per member (reference value).
    max_leaf_nodes : int, default 31
        Leaves per tree (reference value).
    learning_rate : float, default 0.1
        Boosting learning rate.
    early_stopping : {"val", "train", "none"}, default "val"
        What stops a member: the weighted loss of the validation data given to :meth:`fit` ("val",
        which then requires them), of a random part ``early_stopping_fraction`` of the training data
        that the member does not train on ("train", Finke et al.), or nothing ("none": ``max_iter``
        iterations).
    early_stopping_fraction : float, default 0.5
        With ``early_stopping="train"``: the fraction of the training data each member holds out (a
        different random part per member).
    n_iter_no_change : int, default 10
        Stop a member after this many iterations without improvement of its stopping loss.
    bootstrap : bool, default True
        Weight the training events of each member by Poisson(1) draws of its own (a bootstrap that keeps
        every event available), so that members differ: without it, "val" and "none" would fit identical
        members (a member is deterministic given its data).
    class_weight : "balanced" or None, default "balanced"
        As for :class:`MLPClassifier`.
    seed : int, default 0
        Seeds every member (through a numpy SeedSequence).
    threads : int or None
        OpenMP threads of the boosting (threadpoolctl); None leaves the default.
    device : None
        Ignored (CPU only); accepted so both classifiers take the same arguments.

    Attributes
    ----------
    members_ : list of HistGradientBoostingClassifier
    history_ : list of dict
        Per member: ``member``, ``n_iter`` and, if validation data were given, ``val_loss`` of the
        ensemble of the members so far (reporting only). Saved with the model: no timings.
    member_seconds_ : list of float
        Seconds per member of the last :meth:`fit` (in the log; not saved).
    """

    EARLY_STOPPING = ("val", "train", "none")

    def __init__(self, n_models=50, max_iter=200, max_leaf_nodes=31, learning_rate=0.1, early_stopping="val",
                 early_stopping_fraction=0.5, n_iter_no_change=10, bootstrap=True, class_weight="balanced",
                 seed=0, threads=None, device=None):
        if early_stopping not in self.EARLY_STOPPING:
            raise ValueError(f"early_stopping must be one of {self.EARLY_STOPPING}, got {early_stopping!r}")
        self.n_models = n_models
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.early_stopping_fraction = early_stopping_fraction
        self.n_iter_no_change = n_iter_no_change
        self.bootstrap = bootstrap
        self.class_weight = class_weight
        self.seed = seed
        self.threads = threads
        self.device = device

    _PARAMS = ("n_models", "max_iter", "max_leaf_nodes", "learning_rate", "early_stopping",
               "early_stopping_fraction", "n_iter_no_change", "bootstrap", "class_weight", "seed", "threads",
               "device")

    def _limits(self):
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=self.threads, user_api="openmp") if self.threads else _nullcontext()

    def fit(self, x, y, x_val=None, y_val=None, sample_weight=None, sample_weight_val=None):
        """Fit every member on (x, y); (x_val, y_val) stop each member ("val") and report the ensemble's
        validation loss, and are never fitted on."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        x, y = _check_xy(x, y, "x")
        has_val = x_val is not None
        if self.early_stopping == "val" and not has_val:
            raise InputError("the HGB ensemble stops each member on the validation data (early_stopping='val'), "
                             "but none were given: pass x_val and y_val to fit, or set early_stopping to "
                             "'train' or 'none'")
        if has_val:
            x_val, y_val = _check_xy(x_val, y_val, "x_val")
            w_val = balanced_weights(y_val, sample_weight_val, self.class_weight)
            val_sum = np.zeros(len(x_val))
        # Balanced weights are applied here (not via sklearn's class_weight) so they include sample weights.
        w = balanced_weights(y, sample_weight, self.class_weight)
        seeds = np.random.SeedSequence(self.seed).generate_state(self.n_models)
        self.members_, self.history_, self.member_seconds_ = [], [], []
        with self._limits():
            for i, member_seed in enumerate(seeds):
                t0 = time.perf_counter()
                member = HistGradientBoostingClassifier(
                    max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes,
                    learning_rate=self.learning_rate, early_stopping=self.early_stopping != "none",
                    validation_fraction=self.early_stopping_fraction if self.early_stopping == "train" else None,
                    n_iter_no_change=self.n_iter_no_change, random_state=int(member_seed))
                w_member = w * np.random.default_rng(int(member_seed)).poisson(1.0, len(w)) if self.bootstrap else w
                if self.early_stopping == "val":
                    member.fit(x, y, sample_weight=w_member, X_val=x_val, y_val=y_val, sample_weight_val=w_val)
                else:
                    member.fit(x, y, sample_weight=w_member)
                self.members_.append(member)
                entry = {"member": i + 1, "n_iter": int(member.n_iter_)}
                if has_val:
                    val_sum += member.predict_proba(x_val)[:, 1]
                    entry["val_loss"] = _weighted_log_loss(val_sum / (i + 1), y_val, w_val)
                self.history_.append(entry)
                self.member_seconds_.append(time.perf_counter() - t0)
                log.info("member %d/%d: %d iterations, %.1f s%s", i + 1, self.n_models, entry["n_iter"],
                         self.member_seconds_[-1], f", ensemble val loss {entry['val_loss']:.5f}" if has_val else "")
        self.n_features_ = x.shape[1]
        return self

    def predict_proba(self, x) -> np.ndarray:
        """Class-1 probability per event, averaged over the members."""
        if not getattr(self, "members_", None):
            raise RuntimeError("HGBEnsemble is not fitted; call fit(...) or load(path) first")
        x = check_array(x, "x", dtype=np.float64, columns=self.n_features_)
        with self._limits():
            return np.mean([m.predict_proba(x)[:, 1] for m in self.members_], axis=0)

    def timed_history(self) -> list:
        """``history_`` with each member's ``seconds`` (for a history JSON; the model file has no timings)."""
        return timed_history(self.history_, getattr(self, "member_seconds_", []))

    def save(self, path) -> None:
        state = {"params": self.get_params(), "members": self.members_, "history": self.history_,
                 "n_features": self.n_features_}
        with atomic_output(path) as tmp:
            joblib.dump(state, tmp)

    @classmethod
    def load(cls, path, threads=None, device=None) -> "HGBEnsemble":
        try:
            state = joblib.load(path)
        except (OSError, EOFError, ValueError) as err:
            raise InputError(f"{path}: cannot read classifier ({err})")
        params = dict(state["params"])
        params["threads"] = threads
        clf = cls(**params)
        clf.members_ = state["members"]
        clf.history_ = state["history"]
        clf.n_features_ = state["n_features"]
        return clf


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


CLASSIFIERS = {"mlp": MLPClassifier, "hgb": HGBEnsemble}


def make_classifier(kind: str, **params) -> Classifier:
    """A classifier by name: "mlp" (:class:`MLPClassifier`) or "hgb" (:class:`HGBEnsemble`)."""
    if kind not in CLASSIFIERS:
        raise ValueError(f"classifier kind must be one of {sorted(CLASSIFIERS)}, got {kind!r}")
    return CLASSIFIERS[kind](**params)


def load_classifier(path, **kwargs) -> Classifier:
    """Load a classifier saved by either class (torch's zip format = MLP, else a joblib HGB ensemble)."""
    import zipfile

    cls = MLPClassifier if zipfile.is_zipfile(path) else HGBEnsemble
    return cls.load(path, **kwargs)
