"""The 12 QUAK inputs per event (docs/quak.md), from the extended-features file of the generation stage.

Per jet, the two leading jets ordered by mass (heavier first):

    m_j,  tau21 = tau2/(tau1 + eps),  tau32 = tau3/(tau2 + eps),  tau43 = tau4/(tau3 + eps),
    sqrt(tau1^(beta=2)) / (tau1^(beta=1) + eps),  n_constituents,

with tau_N = N-subjettiness (beta = 1 unless noted) and eps = 1e-5 as in the LHCO tau21 convention, so a
jet with too few constituents for N axes (tau = 0) gives a finite ratio. Events are kept when
mjj >= ``mjj_min`` (2.8 TeV in the paper). The jets are anti-kT R = ``quak.jet_radius`` (0.8 as in the
paper), made for QUAK by the generation chain (generated events, resources/generated_r08/) and by
lhco_extended (the LHCO R&D particles); the N-subjettiness uses the normalised measure with R0 = R.

:func:`kept_features` drops inputs (``quak.drop_inputs``: e.g. the constituent counts of the ``lhco`` set,
whose background and held-out signal are Delphes events while the signal priors see our detector); the
sample file then holds only the kept columns, so every prior is trained and applied on the same list with
the same scaling (:func:`input_signature`, checked by :func:`check_inputs`).

Each split also keeps the raw jet masses ``mj`` (GeV, heavier first) and ``mjj`` (TeV) for the
evaluation windows of a signal (``quak.signal_windows``, :func:`window_mask`).

The constituent count is an integer: a density model would put spikes on the integers and score
(and overfit) them. :func:`dequantize` adds uniform noise in [-0.5, 0.5) to it, seeded, before the
standardisation; every set (training, validation, test) gets the same treatment.

:class:`Standardizer` holds the background mean and standard deviation (fitted on background training
events only) that every class is scaled with.
"""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd

from hepad.io import InputError, atomic_output

EPS = 1e-5
PER_JET = ["m", "tau21", "tau32", "tau43", "sqrt_tau1b2_over_tau1", "ncons"]
FEATURES = [f"{name}_j{j}" for j in (1, 2) for name in PER_JET]
COUNT_FEATURES = [f"ncons_j{j}" for j in (1, 2)]
MJJ_MIN_TEV = 2.8


def _tau(ext, n: int, j: int, beta: str = "beta1") -> np.ndarray:
    return np.asarray(ext[f"tau{n}j{j}_{beta}"], dtype=np.float64)


def _jet_features(ext, j: int) -> np.ndarray:
    """(n, 6) per-jet features of leading jet ``j`` (1 or 2, pT order of the file)."""
    t1, t2, t3, t4 = (_tau(ext, n, j) for n in (1, 2, 3, 4))
    t1b2 = _tau(ext, 1, j, "beta2")
    return np.stack([
        np.asarray(ext[f"mj{j}"], dtype=np.float64),
        t2 / (t1 + EPS),
        t3 / (t2 + EPS),
        t4 / (t3 + EPS),
        np.sqrt(np.clip(t1b2, 0.0, None)) / (t1 + EPS),
        np.asarray(ext[f"nconsj{j}"], dtype=np.float64),
    ], axis=1)


def quak_features(ext, mjj_min_tev: float = MJJ_MIN_TEV) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 12 QUAK features of the events with mjj >= ``mjj_min_tev``.

    Parameters
    ----------
    ext : mapping of column name -> array (a DataFrame works)
        Extended features of the generation stage (``mjj`` in GeV, ``m j1/j2`` as ``mj1``/``mj2``,
        ``nconsj1``/``nconsj2``, ``tau{N}j{j}_beta1``, ``tau1j{j}_beta2``).
    mjj_min_tev : float
        Lower dijet-mass cut [TeV].

    Returns
    -------
    x : (n_kept, 12) array, columns :data:`FEATURES` (jet masses in GeV)
    mjj : (n_kept,) dijet mass [TeV]
    kept : (n_events,) boolean mask of the kept rows of ``ext``
    """
    missing = [c for c in ("mjj", "mj1", "mj2", "nconsj1", "nconsj2", "tau4j1_beta1", "tau1j1_beta2")
               if c not in ext]
    if missing:
        raise InputError(f"extended features lack columns {missing}; is this a generation-stage .extended.h5 file?")
    mjj = np.asarray(ext["mjj"], dtype=np.float64) / 1000.0
    kept = mjj >= mjj_min_tev
    jets = np.stack([_jet_features(ext, 1), _jet_features(ext, 2)], axis=1)[kept]  # (n, 2, 6)
    # Heavier jet first (the paper orders by mass); ties keep the pT order.
    swap = jets[:, 1, 0] > jets[:, 0, 0]
    jets[swap] = jets[swap][:, ::-1]
    return jets.reshape(len(jets), -1), mjj[kept], kept


def kept_features(drop=()) -> list[str]:
    """:data:`FEATURES` without ``drop``: names of :data:`FEATURES` or per-jet names of :data:`PER_JET`
    (``ncons`` drops both jets' counts)."""
    drop = list(drop)
    unknown = [d for d in drop if d not in FEATURES and d not in PER_JET]
    if unknown:
        raise InputError(f"unknown QUAK inputs to drop {unknown}; allowed: {PER_JET} (both jets) or {FEATURES}")
    gone = {f for f in FEATURES for d in drop if f == d or f.rsplit("_j", 1)[0] == d}
    kept = [f for f in FEATURES if f not in gone]
    if not kept:
        raise InputError("quak.drop_inputs drops every input")
    return kept


def window_mask(mj, mjj, window: dict | None) -> np.ndarray:
    """Events inside an evaluation window ``{"mj1": [lo, hi], "mj2": [lo, hi], "mjj": [lo, hi]}`` (jet masses
    in GeV, heavier jet first, mjj in TeV; open intervals; a missing key does not restrict)."""
    mj, mjj = np.asarray(mj, dtype=np.float64), np.asarray(mjj, dtype=np.float64)
    keep = np.ones(len(mjj), dtype=bool)
    for key, values in (window or {}).items():
        lo, hi = values
        v = {"mj1": mj[:, 0], "mj2": mj[:, 1], "mjj": mjj}[key]
        keep &= (v > lo) & (v < hi)
    return keep


def input_signature(meta: dict) -> dict:
    """What a prior's inputs mean: the feature list and the background scaling of a sample file."""
    return {"features": list(meta["features"]), "mean": [float(v) for v in meta["mean"]],
            "std": [float(v) for v in meta["std"]]}


def check_inputs(trained: dict | None, meta: dict, where: str = "prior") -> None:
    """``InputError`` unless a prior trained on inputs ``trained`` (:func:`input_signature`) is applied to
    a sample file with the same feature list and the same scaling (``meta``)."""
    if trained is None:
        return
    now = input_signature(meta)
    if trained["features"] != now["features"]:
        raise InputError(f"{where} was trained on the inputs {trained['features']}, the sample file has "
                         f"{now['features']}; retrain it (train_quak_prior)")
    for key in ("mean", "std"):
        if not np.allclose(trained[key], now[key], rtol=1e-9, atol=0):
            raise InputError(f"{where} was trained with another background {key} than the sample file's; "
                             "retrain it (train_quak_prior)")


def read_extended(path) -> pd.DataFrame:
    """Read an extended-features file: pandas HDF (key ``df``) or an h5py dataset ``extended`` with a
    ``columns`` attribute (the layout of the generation stage's chunk files)."""
    try:
        with h5py.File(path, "r") as handle:
            if "extended" in handle and isinstance(handle["extended"], h5py.Dataset):
                data = handle["extended"]
                columns = [c.decode() if isinstance(c, bytes) else str(c) for c in data.attrs["columns"]]
                return pd.DataFrame(data[()], columns=columns)
    except OSError as err:
        raise InputError(f"{path}: cannot read the extended-features file ({err}); rerun the generation step")
    try:
        return pd.read_hdf(path, key="df")
    except (KeyError, ValueError, OSError) as err:
        raise InputError(f"{path}: neither a dataset 'extended' nor a pandas key 'df' ({err})")


def dequantize(x: np.ndarray, seed: int, columns=COUNT_FEATURES) -> np.ndarray:
    """Copy of ``x`` with uniform noise in [-0.5, 0.5) added to the integer ``columns``."""
    x = np.array(x, dtype=np.float64, copy=True)
    rng = np.random.default_rng(seed)
    idx = [FEATURES.index(c) for c in columns if c in FEATURES]
    x[:, idx] += rng.uniform(-0.5, 0.5, size=(len(x), len(idx)))
    return x


class Standardizer:
    """Zero mean, unit variance per feature with the statistics of one reference set (the background).

    Attributes
    ----------
    mean_, std_ : ndarray of shape (n_features,)
    """

    def fit(self, x) -> "Standardizer":
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"Standardizer.fit needs an (n >= 2, d) array, got shape {x.shape}")
        if not np.isfinite(x).all():
            raise InputError(f"{int((~np.isfinite(x)).any(1).sum())} background events have non-finite features")
        self.mean_ = x.mean(0)
        self.std_ = x.std(0)
        self.std_[self.std_ == 0] = 1.0  # a constant feature stays constant (0) instead of NaN
        return self

    def transform(self, x) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer is not fitted; call fit(x) first")
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.std_

    def inverse_transform(self, z) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) * self.std_ + self.mean_

    def save(self, path) -> None:
        with atomic_output(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, mean=self.mean_, std=self.std_)

    @classmethod
    def load(cls, path) -> "Standardizer":
        out = cls()
        with np.load(path) as data:
            out.mean_, out.std_ = data["mean"], data["std"]
        return out


# ---------------------------------------------------------------------------------------------- samples
#
# A QUAK sample file (physics or digits) holds one HDF5 group per sample and split,
# ``<sample>/<split>/x`` (standardised features; physics also ``mjj`` [TeV]), and a JSON attribute
# ``meta`` naming the samples: ``background`` (splits train, val, calib, test), every signal prior
# (train, val) and every held-out signal (calib, test). train/val fit a prior; calib chooses cuts; test
# gives the figures.

BACKGROUND_SPLITS = ("train", "val", "calib", "test")
PRIOR_SPLITS = ("train", "val")
SIGNAL_SPLITS = ("calib", "test")


def physics_samples(extended: dict, background: str, priors, signals, mjj_min_tev: float = MJJ_MIN_TEV,
                    seed: int = 1, max_background: int | None = None, max_signal: int | None = None,
                    fractions=(0.5, 0.1, 0.2, 0.2), prior_val_fraction: float = 0.2, drop_inputs=()):
    """The QUAK samples of generated events.

    Parameters
    ----------
    extended : dict process name -> extended-features table (:func:`read_extended`)
    background : str
        Process of the background prior (``qcd``).
    priors, signals : lists of str
        Signal-prior processes and held-out signal processes (disjoint).
    mjj_min_tev : float
        Dijet-mass cut.
    seed : int
        Seed of the splits and the dequantisation.
    max_background, max_signal : int or None
        Use at most this many events (after the mjj cut) per process, the first ones in file order.
    fractions : 4 floats
        Background fractions of train, val, calib, test.
    prior_val_fraction : float
        Fraction of each prior's events used for its validation.
    drop_inputs : list of str
        Inputs left out (:func:`kept_features`).

    Returns
    -------
    sets : ``{sample: {split: {"x": standardised (n, n_kept), "mjj": (n,), "mj": (n, 2) GeV}}}``; the
        background is ``background``
    meta : JSON-ready dict (process names, counts, standardisation)
    """
    priors, signals = list(priors), list(signals)
    overlap = sorted(set(priors) & set(signals))
    if overlap:
        raise InputError(f"processes {overlap} are both signal priors and held-out signals; a held-out "
                         "signal must differ from every prior (quak.priors, quak.signals)")
    if background in priors or background in signals:
        raise InputError(f"the background process {background!r} cannot be a signal prior or held-out signal")
    features = kept_features(drop_inputs)
    cols = [FEATURES.index(f) for f in features]
    raw = {}
    for k, name in enumerate([background] + priors + signals):
        x, mjj, kept = quak_features(extended[name], mjj_min_tev)
        limit = max_background if name == background else max_signal
        if limit is not None:
            x, mjj = x[:limit], mjj[:limit]
        if len(x) < 10:
            raise InputError(f"{name}: only {len(x)} events with mjj >= {mjj_min_tev} TeV; generate more events")
        mj = x[:, [FEATURES.index("m_j1"), FEATURES.index("m_j2")]]
        raw[name] = (dequantize(x, seed * 1009 + k)[:, cols], mjj, mj)
    splits = {}
    n_bkg = len(raw[background][0])
    splits["background"] = (background, dict(zip(BACKGROUND_SPLITS, split_indices(n_bkg, fractions, seed))))
    for k, name in enumerate(priors):
        parts = split_indices(len(raw[name][0]), (1 - prior_val_fraction, prior_val_fraction), seed + 1 + k)
        splits[name] = (name, dict(zip(PRIOR_SPLITS, parts)))
    for k, name in enumerate(signals):
        parts = split_indices(len(raw[name][0]), (0.5, 0.5), seed + 101 + k)
        splits[name] = (name, dict(zip(SIGNAL_SPLITS, parts)))
    scaler = Standardizer().fit(raw[background][0][splits["background"][1]["train"]])
    sets = {}
    for sample, (process, parts) in splits.items():
        x, mjj, mj = raw[process]
        sets[sample] = {split: {"x": scaler.transform(x[idx]), "mjj": mjj[idx], "mj": mj[idx]}
                        for split, idx in parts.items()}
    meta = {"background_process": background, "priors": priors, "signals": signals, "mjj_min_tev": mjj_min_tev,
            "features": features, "dropped": [f for f in FEATURES if f not in features],
            "mean": scaler.mean_.tolist(), "std": scaler.std_.tolist(),
            "counts": {sample: {split: int(len(idx)) for split, idx in parts.items()}
                       for sample, (_, parts) in splits.items()}}
    return sets, meta


def write_samples(path, sets: dict, meta: dict) -> None:
    """Write ``{sample: {split: {key: array}}}`` and ``meta`` (JSON attribute), atomically."""
    import json

    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as out:
            out.attrs["meta"] = json.dumps(meta, sort_keys=True)
            for sample, splits in sets.items():
                for split, arrays in splits.items():
                    group = out.create_group(f"{sample}/{split}")
                    for key, value in arrays.items():
                        group.create_dataset(key, data=np.asarray(value), track_times=False)


def read_meta(path) -> dict:
    import json

    try:
        with h5py.File(path, "r") as handle:
            return json.loads(handle.attrs["meta"])
    except (OSError, KeyError) as err:
        raise InputError(f"{path}: not a QUAK sample file ({err}); rerun quak_features or quak_digits")


def read_sample(path, sample: str, split: str, key: str = "x") -> np.ndarray:
    """Array ``key`` of ``sample``/``split`` of a file written by :func:`write_samples`."""
    try:
        with h5py.File(path, "r") as handle:
            if f"{sample}/{split}" not in handle:
                raise InputError(f"{path}: no sample {sample!r} with split {split!r} "
                                 f"(samples: {sorted(handle)}); is the prior in the config's list?")
            return handle[f"{sample}/{split}/{key}"][()]
    except OSError as err:
        raise InputError(f"{path}: cannot read QUAK samples ({err}); rerun the features step")


def split_indices(n: int, fractions, seed: int) -> list[np.ndarray]:
    """Random disjoint index sets of sizes round(f * n) for each fraction (the rest is unused)."""
    fractions = list(fractions)
    if sum(fractions) > 1 + 1e-9 or min(fractions) < 0:
        raise ValueError(f"fractions must be non-negative and sum to at most 1, got {fractions}")
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + [int(round(f * n)) for f in fractions])
    bounds = np.minimum(bounds, n)
    return [np.sort(perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
