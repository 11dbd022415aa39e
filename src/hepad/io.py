"""Small I/O helpers shared by every script: atomic outputs, logging, JSON."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path


class InputError(RuntimeError):
    """A problem with a user's input (file, setting) that a user can fix; printed without traceback."""


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; rename it to ``path`` only if the block succeeds.

    A job killed mid-way therefore never leaves a file that a later step could take for complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def unwritable_folder(paths) -> str | None:
    """The first folder (sorted) that writing ``paths`` needs and this process may not write into, or None.

    For each path, the nearest existing folder above it is checked with ``os.access``, which answers as
    the kernel will (also for root on a read-only mount or an immutable folder). One check per folder.
    """
    folders = set()
    for path in map(Path, paths):
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        folders.add(folder)
    for folder in sorted(folders):
        if not os.access(folder, os.W_OK | os.X_OK):
            return str(folder)
    return None


def write_json(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically (stable bytes for stable content)."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_npz_state(state: dict, path) -> None:
    """Write a model's state (a dict of arrays and numbers) to an ``.npz`` file, atomically."""
    import numpy as np

    with atomic_output(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **state)


def load_npz_state(path) -> dict:
    """The state dict written by ``save_npz_state``."""
    import numpy as np

    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def parse_param(text: str) -> tuple:
    """``key=value`` with a YAML value (``hidden=[64, 64, 64]``, ``lr=1e-3``, ``class_weight=null``): the
    argparse ``type`` of the scripts' repeatable ``--param KEY=VALUE`` options."""
    import json

    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InputError(f"--param expects key=value, got {text!r}")
    # JSON first: the workflow writes JSON, and YAML 1.1 reads an exponent without a dot (1e-06) as a string.
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), yaml.safe_load(value)


def setup_logging(name: str) -> logging.Logger:
    """Log to stderr with timestamps; Snakemake rules redirect stderr into the rule's log file."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    return logging.getLogger(name)


def run_main(main, argv=None) -> None:
    """Run a script's ``main``; an ``InputError`` ends it with one clear line and exit code 1.

    The one line is the last line of stderr. What caused the error (e.g. HDF5's back trace) goes before it
    only when stderr is a log file (Snakemake's ``log:``) or logging is at DEBUG, not to a terminal.
    """
    try:
        main(argv)
    except InputError as err:
        detail = err.__cause__  # set by `raise InputError(...) from err`
        if detail is not None and (not sys.stderr.isatty() or logging.getLogger().isEnabledFor(logging.DEBUG)):
            import traceback

            print("details of the error below (for debugging):", file=sys.stderr)
            traceback.print_exception(detail, file=sys.stderr)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
