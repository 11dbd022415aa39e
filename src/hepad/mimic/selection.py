"""Iterative choice of the observables a mimicker uses (Bradshaw et al. 2022, after Faucett et al.).

Start from the base observables (jet mass and pT). In each round:

1. train the mimicker (HLN or PNN) on the current observables to mimic the auto-encoder's score on the
   background training events;
2. score the background *selection* events; the pairs it orders differently from the auto-encoder are
   its misordered pairs;
3. for every observable not yet used, compute its ADO with the auto-encoder on exactly those pairs
   (``hepad.metrics.ado.MisorderedADO``, exact over all pairs; each observable oriented so that it
   agrees with the auto-encoder on all pairs) and add the best one. Observables that order the selection
   events like an already chosen one (ADO with it above ``redundant_ado``, e.g. the powers of one
   EFP that energyflow lists as composite graphs) carry no new information and are skipped.

After each round's training the mimicker's ADO with the auto-encoder on the background *test* events
and its AUC against each signal (same test background) are recorded; the selection itself never sees
the test events. Round 0 is the base observables alone; ``n_rounds`` observables are added in all.

With ``min_gain`` > 0 the selection stops early: when the observable added last raises the mimicker's
ADO on the *selection* events (held out from its training, so a validation ADO) by less than
``min_gain``, that round is dropped (recorded under ``stopped``) and the round before it is the final
mimicker (docs/mimic.md says why).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from hepad.metrics.ado import MisorderedADO, ado
from hepad.metrics.sic import auc

log = logging.getLogger(__name__)


@dataclass
class SelectionData:
    """Standardised observables and auto-encoder scores of the three background splits and the signals."""

    names: list[str]
    x_train: np.ndarray
    ae_train: np.ndarray
    x_select: np.ndarray
    ae_select: np.ndarray
    x_test: np.ndarray
    ae_test: np.ndarray
    signals: dict = field(default_factory=dict)  # name -> (x, ae)


def signal_aucs(bkg_scores, signals: dict) -> dict:
    """AUC of a score for every signal against the same background test scores."""
    out = {}
    for name, scores in signals.items():
        s = np.concatenate([bkg_scores, scores])
        y = np.concatenate([np.zeros(len(bkg_scores)), np.ones(len(scores))])
        out[name] = auc(s, y)
    return out


def best_candidate(restricted: MisorderedADO, x: np.ndarray, candidates: list[int],
                   reference: np.ndarray) -> tuple[int, float, int, dict]:
    """(index, ADO on misordered pairs, sign, all values) of the best candidate column of ``x``.

    Each candidate is taken in the orientation in which it agrees with the reference on all pairs
    (ADO >= 1/2). Letting it take the better orientation *on the misordered pairs* instead would reward
    the negative of the mimicker's own ordering, which orders exactly those pairs right but carries
    nothing a network could use.
    """
    values = {}
    for c in candidates:
        sign = 1 if ado(x[:, c], reference) >= 0.5 else -1
        values[c] = (restricted(sign * x[:, c]), sign)
    best = max(candidates, key=lambda c: values[c][0])
    return best, values[best][0], values[best][1], values


def redundant(x: np.ndarray, candidate: int, selected: list[int], threshold: float) -> bool:
    """True if column ``candidate`` orders the events (almost) like one of ``selected``, either way round."""
    for s in selected:
        a = ado(x[:, candidate], x[:, s])
        if max(a, 1 - a) >= threshold:
            return True
    return False


def iterative_selection(data: SelectionData, make_mimicker, n_rounds: int = 15,
                        base=("m", "pt"), redundant_ado: float = 0.999, min_gain: float = 0.0) -> dict:
    """Run the selection; returns a JSON-ready record of every round (see module docstring)."""
    names = list(data.names)
    selected = [names.index(b) for b in base]
    candidates = [i for i in range(len(names)) if i not in selected]
    ae_signal = {k: v[1] for k, v in data.signals.items()}
    rounds, stopped = [], None
    n_rounds = min(int(n_rounds), len(candidates))
    for r in range(n_rounds + 1):
        t0 = time.perf_counter()
        model = make_mimicker()
        model.fit(data.x_train[:, selected], data.ae_train)
        s_test = model.predict(data.x_test[:, selected])
        record = {
            "round": r,
            "features": [names[i] for i in selected],
            "ado_test": ado(s_test, data.ae_test),
            "auc": signal_aucs(s_test, {k: model.predict(v[0][:, selected]) for k, v in data.signals.items()}),
            "epochs": len(model.history_),
        }
        s_sel = model.predict(data.x_select[:, selected])
        record["ado_select"] = ado(s_sel, data.ae_select)
        if min_gain > 0 and rounds and record["ado_select"] - rounds[-1]["ado_select"] < min_gain:
            last = rounds[-1]
            stopped = {k: last.pop(k) for k in ("added", "added_ado_misordered", "added_sign") if k in last}
            stopped.update(round=r, ado_select=record["ado_select"], ado_test=record["ado_test"],
                           auc=record["auc"], min_gain=min_gain)
            log.info("round %d: adding %s raised the selection ADO by %.4f < %g; round %d is final", r,
                     stopped.get("added"), record["ado_select"] - last["ado_select"], min_gain, r - 1)
            break
        if r < n_rounds:
            restricted = MisorderedADO(data.ae_select, s_sel)
            usable = [c for c in candidates if not redundant(data.x_select, c, selected, redundant_ado)]
            skipped = [names[c] for c in candidates if c not in usable]
            candidates = usable
            if not candidates:
                rounds.append(record)
                log.info("round %d: every remaining observable duplicates a chosen one; stopping", r)
                break
            best, value, sign, _ = best_candidate(restricted, data.x_select, candidates, data.ae_select)
            record["skipped_redundant"] = skipped
            record.update({"misordered_fraction": restricted.misordered / restricted.n_pairs,
                           "added": names[best], "added_ado_misordered": value, "added_sign": sign})
            selected.append(best)
            candidates.remove(best)
        record["seconds"] = time.perf_counter() - t0
        log.info("round %d: ADO %.4f with %s%s", r, record["ado_test"], record["features"][-1],
                 f"; adding {record['added']} (ADO on misordered pairs {record['added_ado_misordered']:.3f})"
                 if "added" in record else "")
        rounds.append(record)
    ae_auc = signal_aucs(data.ae_test, ae_signal)
    extra = {"stopped": stopped} if stopped is not None else {}
    return {"rounds": rounds, "autoencoder_auc": ae_auc, "base": list(base), **extra,
            "n_test": int(len(data.ae_test)), "n_select": int(len(data.ae_select)),
            "n_train": int(len(data.ae_train))}
