"""Binary classifiers of the weakly supervised methods: the reference MLP and a boosted-tree ensemble.

Both have one interface (:class:`Classifier`), so a script trains either the same way::

    clf = make_classifier("hgb", seed=3, threads=2)
    clf.fit(x, y, x_val, y_val, sample_weight=w)
    scores = clf.predict_proba(x_test)   # 1-d, probability of class 1

- :class:`~hepad.models.mlp_classifier.MLPClassifier` (CATHODE, its own module: torch): 3 x 64 ReLU,
  sigmoid output, weighted binary cross-entropy, Adam; predictions averaged over the ``n_average`` epochs
  with the lowest validation loss.
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
import time

import joblib
import numpy as np

from hepad.io import InputError, atomic_output
from hepad.models.base import check_array, timed_history
from hepad.models.classifier_base import Classifier, _check_xy, _weighted_log_loss, balanced_weights  # noqa: F401

log = logging.getLogger(__name__)


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


CLASSIFIERS = ("hgb", "mlp")


def __getattr__(name):
    # The MLP lives in hepad.models.mlp_classifier so that a tree-ensemble job never imports torch
    # (about 3 s per job); it is still reachable here by its old name.
    if name == "MLPClassifier":
        from hepad.models.mlp_classifier import MLPClassifier

        return MLPClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def classifier_class(kind: str) -> type:
    """The class of a family: "mlp" (:class:`~hepad.models.mlp_classifier.MLPClassifier`) or "hgb"
    (:class:`HGBEnsemble`)."""
    if kind not in CLASSIFIERS:
        raise ValueError(f"classifier kind must be one of {sorted(CLASSIFIERS)}, got {kind!r}")
    if kind == "hgb":
        return HGBEnsemble
    from hepad.models.mlp_classifier import MLPClassifier

    return MLPClassifier


def make_classifier(kind: str, **params) -> Classifier:
    """A classifier by name: "mlp" (the MLP) or "hgb" (:class:`HGBEnsemble`)."""
    return classifier_class(kind)(**params)


def load_classifier(path, **kwargs) -> Classifier:
    """Load a classifier saved by either class (torch's zip format = MLP, else a joblib HGB ensemble)."""
    import zipfile

    return classifier_class("mlp" if zipfile.is_zipfile(path) else "hgb").load(path, **kwargs)
