"""The one way hepad writes a compressed HDF5 dataset: gzip level 4 with the byte shuffle, no timestamps.

``track_times=False`` keeps the modification time out of the dataset's object header, so the same content
gives the same file bytes (see also :mod:`hepad.events.stable_hdf5` for PyTables). Writers that differed
from these options keep their own through the keyword arguments (e.g. ``shuffle=False``).
"""

from __future__ import annotations

import h5py

GZIP_LEVEL = 4
ROW_CHUNK = 1 << 16


def create_compressed(group: h5py.Group, name: str, data=None, *, shuffle: bool = True, chunks=None,
                      **shape_kwargs) -> h5py.Dataset:
    """``group.create_dataset(name, data, ...)`` gzip-compressed (level 4), shuffled, without timestamps.

    Parameters
    ----------
    data : array, optional
        The content; or give ``shape`` and ``dtype`` (and e.g. ``maxshape``) in ``shape_kwargs``.
    shuffle : bool, default True
        The byte-shuffle filter before gzip.
    chunks : tuple or None
        Chunk shape; None lets h5py choose (see :func:`row_chunks` for flat per-object arrays).
    """
    return group.create_dataset(name, data=data, chunks=chunks, compression="gzip", compression_opts=GZIP_LEVEL,
                                shuffle=shuffle, track_times=False, **shape_kwargs)


def row_chunks(n_rows: int, rows: int = ROW_CHUNK) -> tuple[int]:
    """Chunks of a 1-d array of ``n_rows``: ``rows`` entries (64 Ki), fewer for a shorter array, at least 1."""
    return (min(max(int(n_rows), 1), rows),)
