"""Byte ranges of an arena read or written whole rows at a time.

``arena[flat_offsets(start, count)]`` builds one index per byte (8 bytes of index and a
random-access gather per byte moved).  When every range has the same length ``L`` -- the
common case of a batch of equal frames -- the ranges are rows of the arena's overlapping
``L``-byte windows (a strided view, no copy), and one row index per range copies them
with a ``memcpy`` each.  Results, write order (a later range wins where two overlap) and
errors are those of the per-byte version, which every other case still uses.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.ranges import flat_offsets


def equal_length(arena: np.ndarray, start: np.ndarray, count: np.ndarray) -> int:
    """The common length of every range if all have one and lie inside ``arena``, else 0
    (then the caller takes the per-byte path, with its own errors)."""
    if arena.ndim != 1 or start.ndim != 1 or start.shape != count.shape or start.size == 0:
        return 0
    width = int(count[0])
    if width <= 0 or (count != width).any():
        return 0
    if int(start.min()) < 0 or int(start.max()) + width > arena.size:
        return 0
    return width


def windows(arena: np.ndarray, width: int) -> np.ndarray:
    """Every ``width``-byte window of a 1-D ``arena``: row ``i`` is
    ``arena[i : i + width]`` (a view sharing its memory; writable if the arena is)."""
    shape = (arena.size - width + 1, width)
    if arena.flags.c_contiguous:  # the common case, without as_strided's Python calls
        return np.ndarray(shape, arena.dtype, arena, 0, (arena.itemsize, arena.itemsize))
    step = arena.strides[0]
    return np.lib.stride_tricks.as_strided(arena, shape, (step, step))


def gather(arena: np.ndarray, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``arena[flat_offsets(start, count)]``: the ranges ``[start[j], start[j] +
    count[j])`` concatenated (a copy)."""
    start = np.asarray(start, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    width = equal_length(arena, start, count)
    if width:
        return windows(arena, width)[start].reshape(-1)
    return arena[flat_offsets(start, count)]


def scatter(arena: np.ndarray, start: np.ndarray, count: np.ndarray,
            src: np.ndarray) -> None:
    """``arena[flat_offsets(start, count)] = src``: ``src`` (concatenated, one value per
    byte) into the ranges, in order."""
    start = np.asarray(start, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    width = equal_length(arena, start, count)
    if width and np.ndim(src) == 1 and np.size(src) == start.size * width:
        windows(arena, width)[start] = np.asarray(src).reshape(start.size, width)
        return
    arena[flat_offsets(start, count)] = src
