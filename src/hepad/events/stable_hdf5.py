"""Byte-stable pandas HDF5 output.

pandas writes its fixed format through PyTables, which stores a modification time in every array's HDF5
object header (``track_times=True``); two otherwise identical writes a second apart then differ in a few
bytes. Inside ``no_hdf5_timestamps()`` PyTables' array constructors default to ``track_times=False``,
so the same frame always gives the same file.
"""

from __future__ import annotations

import contextlib
import functools
import threading

import tables

_METHODS = ("create_array", "create_carray", "create_earray", "create_vlarray", "create_table")
_LOCK = threading.Lock()


@contextlib.contextmanager
def no_hdf5_timestamps():
    """Within the block, PyTables (and so pandas ``to_hdf``) writes HDF5 objects without timestamps."""
    with _LOCK:
        originals = {name: getattr(tables.File, name) for name in _METHODS}

        def untimed(method):
            @functools.wraps(method)
            def wrapper(self, *args, **kwargs):
                kwargs.setdefault("track_times", False)
                return method(self, *args, **kwargs)
            return wrapper

        try:
            for name, method in originals.items():
                setattr(tables.File, name, untimed(method))
            yield
        finally:
            for name, method in originals.items():
                setattr(tables.File, name, method)
