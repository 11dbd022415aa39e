"""The paper's published image format as CoDAE input (``codae.dataset: external``, docs/codae.md).

The authors' ``.npz`` files (Anzalone et al., arXiv:2306.12955, ``Luca96/dark-autoencoders``) hold

- ``images``: (N, 72, 58, 3) float32, per pixel the PU-corrected track pT, the ECAL and the HCAL energy [GeV]
  (height phi, width eta, channels last);
- ``labels``: (N,) 0 QCD, 1 SUEP, 2 SVJ;
- ``masses``: (N,) a mass code per label: SUEP 1-6 = mH 125, 200, 300, 400, 700, 1000 GeV; SVJ 5, 6, 7 =
  m(Z') 2.1, 3.1, 4.1 TeV (QCD: ignored);
- ``n_tracks``: (N, 1) tracks per event.

:func:`convert_external` turns the files of a train and a test folder into one image file per process
(``qcd``, ``suep_<mH>``, ``svj_<m>``) in the layout of :mod:`hepad.events.images` (channels first, the
chain's ``label`` 0 QCD / 1 signal and ``mass`` in GeV, ``ntracks``; ``jet1_pt``, ``jet2_pt``, ``met`` are
not published and are NaN), so every step after ``make_images`` reads them unchanged. Per process, the
test folder's events come first, then the train folder's, each folder's files in name order: the chain's
splits take the first events as test events (``codae.split``), so a ``qcd_test_fraction`` equal to the test
folder's share of QCD keeps the published split.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path

import h5py
import numpy as np

from hepad.events.images import EVENT_COLUMNS, ImageGrid
from hepad.hdf5 import create_compressed
from hepad.io import InputError, atomic_output

log = logging.getLogger(__name__)

IMAGE_SHAPE = (72, 58, 3)
CHANNELS = ("track", "ecal", "hcal")  # channel order of the published images
KEYS = ("images", "labels", "masses", "n_tracks")
SUEP_MASSES = {1: 125, 2: 200, 3: 300, 4: 400, 5: 700, 6: 1000}  # mass code -> mH [GeV]
SVJ_MASSES = {5: 2100, 6: 3100, 7: 4100}  # mass code -> m(Z') [GeV]
KIND_OF_LABEL = {0: "qcd", 1: "suep", 2: "svj"}
# The published grid: 286 x 360 summed x5 (72 phi x 58 eta); only the shape and channels matter here.
EXTERNAL_GRID = ImageGrid(eta_max=2.5, n_eta=286, n_phi=360, factor=5, channels=CHANNELS)


def npz_files(folder) -> list[Path]:
    """The ``.npz`` files of a folder in name order; an error names the folder if there are none."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"codae.external: folder {path} does not exist")
    files = sorted(path.glob("*.npz"))
    if not files:
        raise InputError(f"codae.external: folder {path} holds no .npz files")
    return files


def read_npz(path) -> dict:
    """One published file, checked: every key present with the published shapes; arrays (mass codes as int)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in KEYS if k not in f.files]
            if missing:
                raise InputError(f"{path}: not in the published CoDAE layout: missing key {missing[0]!r} "
                                 f"(needs {', '.join(KEYS)})")
            data = {k: f[k] for k in KEYS}
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable .npz file ({err})")
    images = data["images"]
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise InputError(f"{path}: 'images' has shape {images.shape}, expected (N, 72, 58, 3)")
    n = images.shape[0]
    expected = {"labels": [(n,), (n, 1)], "masses": [(n,), (n, 1)], "n_tracks": [(n, 1), (n,)]}
    for key, shapes in expected.items():
        if data[key].shape not in shapes:
            raise InputError(f"{path}: {key!r} has shape {data[key].shape}, expected {shapes[0]} (N = {n} images)")
    labels = data["labels"].reshape(n)
    codes = data["masses"].reshape(n)
    if not (np.isfinite(labels).all() and np.isfinite(codes).all()):
        raise InputError(f"{path}: 'labels' or 'masses' hold non-finite values")
    labels, codes = labels.astype(np.int64), codes.astype(np.int64)
    bad = sorted(set(labels.tolist()) - set(KIND_OF_LABEL))
    if bad:
        raise InputError(f"{path}: 'labels' holds {bad}; the published codes are 0 QCD, 1 SUEP, 2 SVJ")
    for label, table, kind in ((1, SUEP_MASSES, "SUEP"), (2, SVJ_MASSES, "SVJ")):
        wrong = sorted(set(codes[labels == label].tolist()) - set(table))
        if wrong:
            raise InputError(f"{path}: 'masses' holds {kind} code(s) {wrong}; the published {kind} codes are "
                             f"{sorted(table)} ({', '.join(f'{k} = {v} GeV' for k, v in table.items())})")
    return {"images": images.astype(np.float32, copy=False), "labels": labels, "codes": codes,
            "n_tracks": data["n_tracks"].reshape(n)}


def process_names(labels: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Process name per event: ``qcd``, ``suep_<mH>``, ``svj_<m>``."""
    out = np.empty(len(labels), dtype=object)
    out[labels == 0] = "qcd"
    for label, table, kind in ((1, SUEP_MASSES, "suep"), (2, SVJ_MASSES, "svj")):
        for code, mass in table.items():
            out[(labels == label) & (codes == code)] = f"{kind}_{mass}"
    return out


def process_mass(name: str) -> int:
    """Mass [GeV] of a process name (0 for qcd)."""
    return 0 if name == "qcd" else int(name.split("_", 1)[1])


def convert_external(files, outputs: dict, channels=CHANNELS, block: int = 256) -> dict:
    """Write one image file per process from published ``.npz`` files.

    ``files``: the npz paths in order (test folder first); ``outputs``: process name -> image file to write;
    ``channels``: image channels to keep (names of :data:`CHANNELS`). Events of processes not in
    ``outputs`` are skipped (logged); a process of ``outputs`` without events is an error. Two passes over
    the files (check and count, then copy), so memory holds one file at a time whatever the total. The
    image files have the layout of :func:`hepad.events.images.write_images`. Returns the events per process.
    """
    keep = [CHANNELS.index(c) for c in channels]
    grid = ImageGrid(eta_max=EXTERNAL_GRID.eta_max, n_eta=EXTERNAL_GRID.n_eta, n_phi=EXTERNAL_GRID.n_phi,
                     factor=EXTERNAL_GRID.factor, channels=tuple(channels))
    counts = {p: 0 for p in outputs}
    skipped = {}
    for path in files:  # pass 1: every file checked before anything is written
        data = read_npz(path)
        names = process_names(data["labels"], data["codes"])
        for name in sorted(set(names.tolist())):
            n = int((names == name).sum())
            if name in counts:
                counts[name] += n
            else:
                skipped[name] = skipped.get(name, 0) + n
    if skipped:
        log.info("events of processes not configured, skipped: %s", skipped)
    empty = [p for p, n in counts.items() if not n]
    if empty:
        raise InputError(f"codae.external: no events of {', '.join(empty)} in {len(files)} .npz files "
                         "(configure codae.external.signals to the processes the files hold)")
    c, h, w = grid.shape
    with ExitStack() as stack:
        out, pos = {}, {p: 0 for p in outputs}
        for name, path in outputs.items():
            tmp = stack.enter_context(atomic_output(path))
            f = stack.enter_context(h5py.File(tmp, "w"))
            for key, value in {"process": name, "source": "external npz", "n_files": len(files)}.items():
                f.attrs[key] = value
            f.attrs["grid"] = repr(grid)
            f.attrs["channels"] = list(grid.channels)
            f.attrs["layout"] = "images (n, channel, phi, eta), pixel = summed pT [GeV]; events/<column> per image"
            n = counts[name]
            images = create_compressed(f, "images", shape=(n, c, h, w), dtype=np.float32,
                                       chunks=(min(block, n), c, h, w))
            events = {k: np.full(n, np.nan, np.float32) for k in EVENT_COLUMNS}
            events["label"] = np.full(n, 0 if name == "qcd" else 1, np.int64)
            events["mass"] = np.full(n, process_mass(name), np.int64)
            events["ntracks"] = np.zeros(n, np.int64)
            out[name] = (f, images, events)
        for path in files:  # pass 2: copy
            data = read_npz(path)
            names = process_names(data["labels"], data["codes"])
            for name in outputs:
                sel = np.flatnonzero(names == name)
                if not len(sel):
                    continue
                _, images, events = out[name]
                lo, hi = pos[name], pos[name] + len(sel)
                # (N, phi, eta, channel) -> (N, channel, phi, eta), the chain's layout.
                images[lo:hi] = data["images"][sel][..., keep].transpose(0, 3, 1, 2)
                events["ntracks"][lo:hi] = data["n_tracks"][sel].astype(np.int64)
                pos[name] = hi
        for name, (f, _, events) in out.items():
            if pos[name] != counts[name]:
                raise InputError(f"codae.external: the files changed while being read ({name})")
            grp = f.create_group("events")
            for k in EVENT_COLUMNS:
                grp.create_dataset(k, data=events[k], track_times=False)
    return counts
