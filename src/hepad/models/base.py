"""What the torch models of hepad share, written once.

- :class:`Estimator`: the scikit-learn shape of the hyperparameters: ``__init__`` stores each as an
  attribute of the same name, ``_PARAMS`` lists them, :meth:`Estimator.get_params` returns them.
- :func:`resolve_device`, :func:`set_threads`: the torch device and the CPU threads of a rule.
- :class:`NonFiniteLossError`: a NaN or infinite loss stops training with one clear message.
- :class:`BestEpochs`: the weights of the epochs with the lowest validation loss (:class:`LastEpochs`:
  of the last epochs), and the count of
  epochs since it last improved (early stopping).
- :func:`save_torch_state`, :func:`load_torch_state`: a model file (a dict of tensors, numbers and
  lists in torch's format), written atomically and read with one clear error naming the file.
- :meth:`Estimator.timed_history`, :func:`timed_history`: the history with the per-epoch seconds, which
  the model files leave out.
- :func:`check_array`: the inputs of every model as a numpy array of the right dtype and shape, with errors
  that name the argument.

The epoch loop itself is :func:`hepad.models.training.train`.
"""

from __future__ import annotations

import math
import pickle
from typing import TYPE_CHECKING

import numpy as np

from hepad.io import InputError, atomic_output

if TYPE_CHECKING:  # torch is imported where it is used: the tree ensemble's jobs never need it
    import torch


class NonFiniteLossError(InputError):
    """Training produced a NaN or infinite loss; the message names the epoch, batch and likely cause."""


def resolve_device(device=None) -> torch.device:
    """``device`` if given, else the GPU when torch sees one, else the CPU."""
    import torch

    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads(threads) -> None:
    """Honour the rule's ``threads`` on the CPU (torch otherwise takes every core it sees)."""
    import torch

    if threads is not None and threads > 0:
        torch.set_num_threads(int(threads))


def check_array(x, name: str, *, dtype=np.float32, ndim: int = 2, columns: int | None = None,
                rows: int | None = None, column: bool = True, finite: bool = False, hint: str | None = None,
                shape: str | None = None) -> np.ndarray:
    """``x`` as a numpy array of ``dtype`` with ``ndim`` axes; every error names it (``name``).

    Parameters
    ----------
    dtype : numpy dtype, default float32
        The array's dtype (no copy when it already has it).
    ndim : int, default 2
        Number of axes; with ``ndim=2`` and ``column=True`` a 1-d array becomes one column.
    columns, rows : int, optional
        Required length of axis 1 / axis 0.
    finite : bool, default False
        Reject rows (entries of axis 0) holding a NaN or an infinity, with ``InputError``.
    hint : str, optional
        What to do about non-finite rows (appended to that message).
    shape : str, optional
        The expected shape in the ``ValueError`` (default ``(n, <columns or n_features>)`` for 2-d).

    Raises
    ------
    ValueError
        ``"{name} must have shape {shape}, got {x.shape}"``, or
        ``"{name} must have one row per event ({rows}), got shape {x.shape}"``.
    InputError
        ``"{k} rows of {name} are NaN or infinite[; hint]"``.
    """
    x = np.asarray(x, dtype=dtype)
    if ndim == 2 and column and x.ndim == 1:
        x = x[:, None]
    if x.ndim != ndim or (columns is not None and x.shape[1] != columns):
        if shape is None:
            shape = f"(n, {columns if columns is not None else 'n_features'})" if ndim == 2 else f"{ndim}-d"
        raise ValueError(f"{name} must have shape {shape}, got {x.shape}")
    if rows is not None and x.shape[0] != rows:
        raise ValueError(f"{name} must have one row per event ({rows}), got shape {x.shape}")
    if finite:
        bad = ~np.isfinite(x).all(axis=tuple(range(1, x.ndim)))
        if bad.any():
            raise InputError(f"{int(bad.sum())} rows of {name} are NaN or infinite" + (f"; {hint}" if hint else ""))
    return x


class Estimator:
    """Base of the models: hyperparameters are constructor arguments stored under their own names.

    A subclass lists them in ``_PARAMS``; ``cls(**obj.get_params())`` makes an unfitted copy, and
    ``save``/``load`` store them under ``"params"``.
    """

    _PARAMS: tuple[str, ...] = ()

    def get_params(self) -> dict:
        return {name: getattr(self, name) for name in self._PARAMS}

    def timed_history(self) -> list:
        """``history_`` with each epoch's ``seconds`` of the last fit (``epoch_seconds_``): the record of a
        history JSON. The model file holds ``history_`` only (no timings: same fit, same bytes)."""
        return timed_history(self.history_, getattr(self, "epoch_seconds_", None))


def timed_history(history: list, seconds: list | None) -> list:
    """``history`` with each entry's ``seconds``: the per-epoch record of a history JSON (not a model file).

    Entries keep no ``seconds`` when the timings are unknown (a model loaded from its file)."""
    seconds = list(seconds or [])
    return [dict(h, seconds=seconds[i]) if i < len(seconds) else dict(h) for i, h in enumerate(history)]


def cpu_state_dict(model: torch.nn.Module) -> dict:
    """A copy of ``model``'s weights and buffers on the CPU (a snapshot that training does not touch)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class BestEpochs:
    """Keeps the weights of the ``n`` epochs with the lowest validation loss (best first; ties: the earlier
    epoch) and counts the epochs since the loss last improved.

    Parameters
    ----------
    n : int, default 1
        Epochs kept (an ensemble when > 1).
    min_delta : float, default 0
        A loss improves on the best one only when lower by more than this.

    Attributes
    ----------
    kept : list of (loss, epoch, state dict)
        The kept epochs, lowest loss first; the state dicts are CPU copies.
    best : float
        The lowest loss so far.
    since_best : int
        Epochs since ``best`` last improved (0 right after an improvement).
    """

    def __init__(self, n: int = 1, min_delta: float = 0.0):
        self.n, self.min_delta = n, min_delta
        self.kept: list = []
        self.best, self.since_best = math.inf, 0

    def update(self, loss: float, epoch: int, model: torch.nn.Module) -> None:
        """Record the validation ``loss`` of ``epoch``, whose weights are those of ``model`` now."""
        if len(self.kept) < self.n or loss < self.kept[-1][0] - self.min_delta:
            self.kept.append((loss, epoch, cpu_state_dict(model)))
            self.kept.sort(key=lambda item: (item[0], item[1]))
            self.kept = self.kept[: self.n]
        if loss < self.best - self.min_delta:
            self.best, self.since_best = loss, 0
        else:
            self.since_best += 1

    @property
    def states(self) -> list:
        return [k[2] for k in self.kept]

    @property
    def losses(self) -> list:
        return [k[0] for k in self.kept]

    @property
    def epochs(self) -> list:
        return [k[1] for k in self.kept]


class LastEpochs(BestEpochs):
    """Keeps the weights of the last ``n`` epochs (latest first), whatever their validation loss; ``best``
    and ``since_best`` still follow the validation loss (for early stopping and the log).

    For a validation loss that is mostly noise, e.g. a classifier of two samples that differ by a
    signal fraction of 0.6 % (docs/cathode.md, the MLP in the idealized AD): picking its lowest epochs
    picks the least trained models.
    """

    def update(self, loss: float, epoch: int, model: torch.nn.Module) -> None:
        self.kept = [(loss, epoch, cpu_state_dict(model))] + self.kept[: self.n - 1]
        if loss < self.best - self.min_delta:
            self.best, self.since_best = loss, 0
        else:
            self.since_best += 1


def save_torch_state(path, state: dict) -> None:
    """Write a model's ``state`` dict to ``path`` in torch's format, atomically."""
    import torch

    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_torch_state(path, what: str, hint: str | None = None, weights_only: bool = True) -> dict:
    """The dict written by :func:`save_torch_state`, on the CPU.

    A missing, empty, truncated or foreign file raises one ``InputError``:
    ``"{path}: cannot read {what} (reason); {hint}"``. ``weights_only=False`` only for files that hold
    objects other than tensors, numbers, strings and containers (e.g. numpy arrays).
    """
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as err:  # OSError, EOFError (empty), RuntimeError (truncated), unpickling errors ...
        if isinstance(err, pickle.UnpicklingError):  # torch's message here is a page on weights_only
            reason = "not a model file written by hepad"
        else:
            lines = str(err).strip().splitlines()
            reason = lines[0] if lines else type(err).__name__
        raise InputError(f"{path}: cannot read {what} ({reason})" + (f"; {hint}" if hint else "")) from err
