"""The one epoch loop of hepad's torch trainers (flows, classifiers, CoDAE and image baselines, the mimic
study's auto-encoder and mimickers, the QUAK priors).

A model builds its network and optimiser, then hands :func:`train` the pieces only it knows:

- ``batches(epoch)``: the minibatches of epoch ``epoch`` (0-based), a sequence drawn before the first step
  (so the epoch's shuffle comes first among its random draws, as it always did);
- ``loss(batch)``: ``(mean loss of the batch, its weight)``, a 0-d tensor with gradient and the number of
  events it averages (the epoch's training loss is the weighted mean, accumulated in float64);
- ``validate(train_loss)``: the epoch's validation loss, or None when there are no validation data (then
  the latest epoch counts as the best, and there is no early stopping). Called in ``torch.no_grad``;
- optionally ``learning_rate(epoch, batch)`` (set on every parameter group before each step, and recorded
  as ``lr``) or a ``scheduler`` stepped after each optimiser step, or a :class:`PlateauDrop` (the learning
  rate divided after a number of epochs without a better validation loss; recorded as ``lr``).

The loop does the rest, the same way for every model:

- epochs ``1 .. max_epochs`` with early stopping: stop once the validation loss has not improved for
  ``patience`` epochs (:class:`hepad.models.base.BestEpochs`, which also keeps the weights of the best
  ``n`` epochs: the ensemble or the single best epoch);
- a NaN or infinite loss raises :class:`NonFiniteLossError` naming the model, the epoch, the batch, the
  value and what to do (``hint``): per batch (default) or, with ``check_batches=False``, on the epoch's
  training loss (no device synchronisation per step); the validation loss is checked every epoch;
- one log line per epoch (losses, learning rate, seconds; ``*`` marks a new best);
- per-epoch wall-clock seconds, returned apart from the history: a model file holds the history, and two
  identical runs must give identical files (timings go to the log and to the scripts' history JSON);
- an optional per-epoch checkpoint (:class:`Checkpoint`): network, optimiser, scheduler, the states of the
  given random generators and of torch's global one, history and the kept epochs, written atomically
  after every epoch. A compatible checkpoint (same ``settings`` and data ``fingerprint``) is resumed and
  gives bit for bit the result of the uninterrupted run; a finished one is not retrained. Partial files
  left by a job killed while writing it (``.<name>.partial-<pid>``, :func:`hepad.io.atomic_output`) are
  removed when it is next written and when training ends.

:func:`setup` is the device and thread handling every trainer starts with.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from hepad.models.base import (BestEpochs, NonFiniteLossError, resolve_device, save_torch_state, set_threads,
                               timed_history)

__all__ = ["Checkpoint", "PlateauDrop", "TrainingResult", "fingerprint", "partial_files", "remove_stale_partials", "setup",
           "timed_history", "train"]

log = logging.getLogger(__name__)


def setup(threads=None, device=None) -> torch.device:
    """Honour ``threads`` (:func:`set_threads`) and return the torch device (:func:`resolve_device`)."""
    set_threads(threads)
    return resolve_device(device)


@dataclass
class Checkpoint:
    """Where and for what a per-epoch checkpoint is written.

    ``settings`` (the hyperparameters that change the result) and ``fingerprint`` (an identity of the
    training data) must equal those stored in an existing checkpoint for it to be resumed; otherwise it is
    ignored (with a warning) and overwritten.
    """

    path: str | os.PathLike
    settings: dict
    fingerprint: Any = None


@dataclass(frozen=True)
class PlateauDrop:
    """Multiply the learning rate by ``factor`` whenever the validation loss has not improved by more than
    ``min_delta`` on its best value for ``patience`` epochs since that best or since the last drop, never
    below ``min_lr``: Keras' ``ReduceLROnPlateau`` without cool-down, the rule of the mimicker paper's
    trainings (docs/mimic.md). It keeps its own best and count, apart from the early stopping's (as Keras
    does: the two may use different ``min_delta``)."""

    patience: int
    factor: float = 0.1
    min_lr: float = 0.0
    min_delta: float = 0.0

    def __post_init__(self):
        if self.patience < 1 or not 0 < self.factor < 1 or self.min_lr < 0 or self.min_delta < 0:
            raise ValueError(f"PlateauDrop needs patience >= 1, 0 < factor < 1, min_lr >= 0, min_delta >= 0; "
                             f"got {self}")


@dataclass
class TrainingResult:
    """What :func:`train` returns.

    history : list of dict
        Per epoch: ``epoch`` (numbered from ``first_epoch``), the training and validation loss under the
        names given by ``columns``, and ``lr`` when a ``learning_rate`` function or a ``plateau`` was given
        (the rate the epoch trained with). No timings.
    seconds : list of float
        Wall-clock seconds of each epoch (training and validation).
    selection : BestEpochs
        The kept epochs (``selection.states``: CPU weights, best first) and the early-stopping counter.
    resumed_epochs : int
        Epochs taken from a checkpoint (0 without one).
    """

    history: list
    seconds: list
    selection: BestEpochs
    resumed_epochs: int = 0


def partial_files(path) -> list[Path]:
    """Partial files of ``path`` left by :func:`hepad.io.atomic_output` in other processes (killed writers)."""
    path = Path(path)
    own = f".{path.name}.partial-{os.getpid()}"
    return sorted(p for p in path.parent.glob(f".{path.name}.partial-*") if p.name != own)


def remove_stale_partials(path) -> None:
    """Delete the partial files of ``path`` that other processes left (see :func:`partial_files`).

    A checkpoint belongs to one training job (the workflow runs one job per output), so a partial file of
    another process id is the remains of a killed write, whatever machine it ran on.
    """
    for stale in partial_files(path):
        try:
            stale.unlink()
            log.info("removed %s, left by an interrupted checkpoint write", stale)
        except FileNotFoundError:
            pass


def _rng_state(gen):
    if isinstance(gen, torch.Generator):
        return gen.get_state()
    return gen.bit_generator.state  # numpy Generator: a dict of ints and strings


def _set_rng_state(gen, state) -> None:
    if isinstance(gen, torch.Generator):
        gen.set_state(state)
    else:
        gen.bit_generator.state = state


def _format(value) -> str:
    return "-" if value is None else f"{value:.5f}"


def train(net: torch.nn.Module, optimizer: torch.optim.Optimizer, *, name: str, max_epochs: int,
          batches: Callable[[int], Sequence], loss: Callable[[Any], tuple],
          validate: Callable[[float], float | None] | None = None, selection: BestEpochs | None = None,
          patience: int | None = None, first_epoch: int = 1,
          learning_rate: Callable[[int, int], float] | None = None, scheduler=None,
          plateau: PlateauDrop | None = None, check_batches: bool = True,
          hint: str = "lower the learning rate", val_hint: str = "lower the learning rate",
          columns: tuple[str, str] = ("train_loss", "val_loss"), checkpoint: Checkpoint | None = None,
          generators: Sequence = (), progress: bool = False) -> TrainingResult:
    """Train ``net`` for up to ``max_epochs`` epochs (the module docstring says what each argument is for).

    Parameters
    ----------
    net, optimizer
        The network (its weights are those of the last epoch afterwards) and its optimiser.
    name : str
        The model in the log and in error messages ("flow", "classifier", ...).
    max_epochs : int
        Upper limit of epochs.
    batches, loss, validate
        The model's pieces (module docstring). ``validate=None``: no validation data.
    selection : BestEpochs, default BestEpochs(1)
        Which epochs' weights are kept.
    patience : int or None
        Stop after this many epochs without a better validation loss (``selection.since_best``); None
        trains every epoch. No early stopping without validation data.
    first_epoch : int, default 1
        Number of the first epoch in the history and in ``selection`` (0 for the models whose saved
        histories always counted from 0). The log and the error messages count from 1.
    learning_rate : callable (epoch, batch) -> float, optional
        Learning rate of each step, both 0-based; recorded as ``lr`` (the epoch's last).
    scheduler : torch LR scheduler, optional
        Stepped after every optimiser step (and saved in the checkpoint).
    plateau : PlateauDrop, optional
        Divide the learning rate after epochs without a better validation loss (not with
        ``learning_rate``, which sets the rate itself, nor with ``checkpoint``: its count is not saved).
    check_batches : bool, default True
        Check every batch's loss (False: the epoch's mean training loss).
    hint, val_hint : str
        What the user should do when the training / validation loss is not finite.
    columns : (str, str)
        History names of the training and validation loss.
    checkpoint : Checkpoint, optional
        Per-epoch checkpoint and resume.
    generators : sequence of torch.Generator or numpy Generator
        Random generators that live across epochs (batch order, augmentation, noise): their states are
        checkpointed with torch's global one so that a resumed run draws what the uninterrupted run drew.
    progress : bool
        A tqdm bar per epoch on stderr (at most every 30 s).
    """
    selection = BestEpochs() if selection is None else selection
    if plateau is not None and learning_rate is not None:
        raise ValueError("train: give either learning_rate or plateau, not both (both set the learning rate)")
    if plateau is not None and checkpoint is not None:
        raise ValueError("train: a plateau's count is not checkpointed; train without checkpoint")
    plateau_best, plateau_wait = math.inf, 0
    history: list = []
    seconds: list = []
    done, start = False, 0
    if checkpoint is not None:
        start, done = _resume(checkpoint, net, optimizer, scheduler, generators, selection, history, seconds)
    resumed = start

    for epoch in range(start, max_epochs):
        if done:
            break
        t0 = time.perf_counter()
        net.train()
        epoch_batches = batches(epoch)
        n_batches = len(epoch_batches)
        steps = epoch_batches
        if progress:
            from tqdm import tqdm
            steps = tqdm(epoch_batches, desc=f"{name} epoch {epoch + 1}/{max_epochs}", mininterval=30,
                         file=sys.stderr)
        loss_sum, count, lr = None, 0, None
        if plateau is not None:
            lr = optimizer.param_groups[0]["lr"]
        for b, batch in enumerate(steps):
            if learning_rate is not None:
                lr = learning_rate(epoch, b)
                for group in optimizer.param_groups:
                    group["lr"] = lr
            value, weight = loss(batch)
            if check_batches and not torch.isfinite(value):
                detail = f" (learning rate {lr:g})" if lr is not None else ""
                raise NonFiniteLossError(
                    f"{name} training diverged: loss is {float(value.detach())} in epoch {epoch + 1}, batch "
                    f"{b + 1} of {n_batches}{detail}; {hint}")
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            term = value.detach().double() * weight
            if loss_sum is None:
                loss_sum = torch.zeros((), dtype=torch.float64, device=term.device)
            loss_sum += term
            count += weight
        train_loss = float(loss_sum) / count if count else math.nan
        if not check_batches and not math.isfinite(train_loss):
            raise NonFiniteLossError(f"{name} training diverged: loss is {train_loss} in epoch {epoch + 1}; {hint}")
        net.eval()
        with torch.no_grad():
            val = validate(train_loss) if validate is not None else None
        if val is not None and not math.isfinite(val):
            raise NonFiniteLossError(f"{name} validation loss is {val} after epoch {epoch + 1}; {val_hint}")
        number = epoch + first_epoch
        entry = {"epoch": number, columns[0]: train_loss, columns[1]: val}
        if learning_rate is not None or plateau is not None:
            entry["lr"] = lr
        history.append(entry)
        # Without validation data the latest epoch counts as the best (a falling key).
        selection.update(val if val is not None else -number, number, net)
        seconds.append(time.perf_counter() - t0)
        log.info("%s epoch %d/%d: train %s, val %s%s, %.1f s%s", name, epoch + 1, max_epochs, _format(train_loss),
                 _format(val), f", lr {lr:.3g}" if lr is not None else "", seconds[-1],
                 " *" if selection.since_best == 0 else "")
        if plateau is not None and val is not None:
            if val < plateau_best - plateau.min_delta:
                plateau_best, plateau_wait = val, 0
            else:
                plateau_wait += 1
            if plateau_wait >= plateau.patience:
                plateau_wait = 0
                for group in optimizer.param_groups:
                    group["lr"] = max(group["lr"] * plateau.factor, plateau.min_lr)
                log.info("%s: %d epochs without improvement, learning rate now %.3g", name, plateau.patience,
                         optimizer.param_groups[0]["lr"])
        if val is not None and patience is not None and selection.since_best >= patience:
            log.info("%s early stop: no improvement of the validation loss in %d epochs", name, patience)
            done = True
        if epoch + 1 >= max_epochs:
            done = True
        if checkpoint is not None:
            _save(checkpoint, net, optimizer, scheduler, generators, selection, history, seconds, epoch + 1, done)

    if checkpoint is not None:
        remove_stale_partials(checkpoint.path)
    return TrainingResult(history, seconds, selection, resumed)


# ----------------------------------------------------------------------------------------------- checkpoints
# Keys as written by ConditionalFlow since its first checkpoints (older files resume): settings, fingerprint,
# model, optimizer, epoch (completed), history, kept_val, kept_epoch, kept_states, best, since_best, done;
# newer optional keys: seconds, scheduler, generators, torch_rng, cuda_rng.

def _save(ckpt, net, optimizer, scheduler, generators, selection, history, seconds, epoch, done) -> None:
    state = {"settings": ckpt.settings, "fingerprint": ckpt.fingerprint, "model": net.state_dict(),
             "optimizer": optimizer.state_dict(), "epoch": epoch, "history": history,
             "kept_val": selection.losses, "kept_epoch": selection.epochs, "kept_states": selection.states,
             "best": selection.best, "since_best": selection.since_best, "done": done, "seconds": seconds,
             "generators": [_rng_state(g) for g in generators], "torch_rng": torch.get_rng_state()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    remove_stale_partials(ckpt.path)
    save_torch_state(ckpt.path, state)


def _resume(ckpt, net, optimizer, scheduler, generators, selection, history, seconds) -> tuple[int, bool]:
    path = Path(ckpt.path)
    if not path.exists():
        return 0, False
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("settings") != ckpt.settings or state.get("fingerprint") != ckpt.fingerprint:
        log.warning("ignoring checkpoint %s: it belongs to other settings or data", path)
        return 0, False
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    for gen, gen_state in zip(generators, state.get("generators", [])):
        _set_rng_state(gen, gen_state)
    if "torch_rng" in state:
        torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    old = [dict(h) for h in state["history"]]
    # Checkpoints written before the timings left the history held them in it.
    seconds.extend(state.get("seconds") or [h.pop("seconds", math.nan) for h in old])
    for h in old:
        h.pop("seconds", None)
    history.extend(old)
    selection.kept = list(zip(state["kept_val"], state["kept_epoch"], state["kept_states"]))
    selection.best, selection.since_best = state["best"], state["since_best"]
    log.info("resuming from checkpoint %s after epoch %d", path, state["epoch"])
    return state["epoch"], state["done"]


def fingerprint(*arrays) -> list:
    """Cheap identity of training data (shape, sum, spread of every 97th row), so a checkpoint of other
    data is never resumed."""
    return [[int(a.shape[0]), float(np.float64(a).sum()), float(np.float64(a[::97]).std())] for a in arrays]
