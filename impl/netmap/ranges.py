"""Vectorized ring arithmetic and flat index ranges (no Python loops over slots or rings).

Upstream: nm_next / nm_prev
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L611)
and nm_ring_space
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap_user.h#L162).
Here every helper takes numpy arrays of indices, one element per ring, and a scalar ring
size ``n``; concrete ``%`` is fine in the implementation.  For a single ring
(:mod:`impl.netmap.batch`) the per-ring values are Python ints: the ring arithmetic then
stays in Python ints (``%`` floors like numpy's), and :func:`flat_ranges` /
:func:`good_prefix` take an ``int`` start and count.
"""

from __future__ import annotations

import numpy as np

IntArray = np.ndarray


def ring_dist(a: IntArray, b: IntArray, n: int) -> IntArray:
    """Slots from ``a`` forward to ``b``, i.e. ``|[a, b)|`` in ``[0, n)``."""
    if type(a) is int and type(b) is int:
        return (b - a) % n
    return (np.asarray(b, dtype=np.int64) - np.asarray(a, dtype=np.int64)) % n


def ring_prev(i: IntArray, n: int) -> IntArray:
    """nm_prev: the slot before ``i``."""
    if type(i) is int:
        return (i - 1) % n
    return (np.asarray(i, dtype=np.int64) - 1) % n


def in_cyclic(lo: IntArray, x: IntArray, hi: IntArray, n: int) -> IntArray:
    """``x`` in the cyclic interval ``[lo .. hi]`` (both ends inclusive)."""
    return ring_dist(lo, x, n) <= ring_dist(lo, hi, n)


def flat_ranges(
    start: IntArray, count: IntArray, n: int | None = None
) -> tuple[IntArray, IntArray, IntArray]:
    """Concatenate the ranges ``[start[j], start[j] + count[j])`` into one flat array.

    Returns ``(seg, off, idx)``: for every element, the segment ``j`` it came from, its
    offset inside the segment and its index (reduced mod ``n`` when ``n`` is given, which
    is how a wrapped ring range is walked).  With an ``int`` start and count (one ring),
    ``seg`` is the int 0 and ``idx`` is a ``slice`` when the range does not wrap (numpy
    then reads and writes views instead of gathering: :func:`span_shift`,
    :func:`span_prefix` and :func:`span_size` handle both forms)."""
    if type(start) is int and type(count) is int:
        off = np.arange(count, dtype=np.int64)
        if n is not None and 0 <= start <= n - count:
            return 0, off, slice(start, start + count)  # type: ignore[return-value]
        idx = off + start
        if n is not None:
            idx %= n
        return 0, off, idx  # type: ignore[return-value]
    start = np.asarray(start, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    total = int(count.sum())
    seg = np.repeat(np.arange(count.size, dtype=np.int64), count)
    first = np.cumsum(count) - count
    off = np.arange(total, dtype=np.int64) - np.repeat(first, count)
    idx = start[seg] + off
    if n is not None:
        idx %= n
    return seg, off, idx


def span_shift(idx: IntArray | slice, delta: int, n: int) -> IntArray | slice:
    """The indices ``(idx + delta) mod n`` of one ring's range, a slice while it does not
    wrap."""
    if isinstance(idx, slice):
        start = (idx.start + delta) % n
        count = idx.stop - idx.start
        if start <= n - count:
            return slice(start, start + count)
        return (np.arange(start, start + count, dtype=np.int64)) % n
    return (np.asarray(idx, dtype=np.int64) + delta) % n


def span_prefix(idx: IntArray | slice, k: int) -> IntArray | slice:
    """The first ``k`` indices of one ring's range."""
    if isinstance(idx, slice):
        return slice(idx.start, idx.start + k)
    return idx[:k]


def span_size(idx: IntArray | slice) -> int:
    """How many indices one ring's range has."""
    return idx.stop - idx.start if isinstance(idx, slice) else int(idx.size)


def flat_offsets(start: IntArray, count: IntArray) -> IntArray:
    """Just the ``idx`` of :func:`flat_ranges` without wrap: the concatenation of
    ``[start[j], start[j] + count[j])`` (used for byte ranges of buffers)."""
    start = np.asarray(start, dtype=np.int64)
    count = np.asarray(count, dtype=np.int64)
    total = int(count.sum())
    first = int(count[0]) if count.size and count.ndim == 1 and start.shape == count.shape \
        else -1
    if first > 0 and not np.any(count != first):  # equal ranges (frames of one size)
        return (start[:, None] + np.arange(first, dtype=np.int64)).reshape(-1)
    shift = start - (np.cumsum(count) - count)
    return np.arange(total, dtype=np.int64) + np.repeat(shift, count)


def segment_min(values: IntArray, count: IntArray, default: IntArray) -> IntArray:
    """Per-segment minimum of a flat array laid out as by :func:`flat_ranges`.

    Empty segments get ``default`` (an array with one element per segment)."""
    count = np.asarray(count, dtype=np.int64)
    out = np.array(default, dtype=np.int64, copy=True)
    nonempty = count > 0
    if values.size:
        starts = (np.cumsum(count) - count)[nonempty]
        out[nonempty] = np.minimum(out[nonempty], np.minimum.reduceat(values, starts))
    return out


def good_prefix(bad: IntArray, seg: IntArray, off: IntArray, count: IntArray) -> IntArray:
    """Length of the prefix of each segment before its first ``bad`` element.

    ``bad``, ``seg``, ``off`` are flat arrays as produced by :func:`flat_ranges`; a segment
    with no bad element keeps its full ``count`` (an ``int`` count: one segment)."""
    if type(count) is int:
        if count == 0:
            return 0
        first = int(bad.argmax())
        return first if bad[first] else count
    count = np.asarray(count, dtype=np.int64)
    candidates = np.where(bad, off, count[seg])
    return segment_min(candidates, count, count)


def as_counts(rings: np.ndarray, k: object, what: str) -> np.ndarray:
    """Broadcast a scalar or per-ring count to an int64 array (one element per ring of
    the batch); ValueError if not integral, mis-shaped or negative."""
    if type(k) is int and k >= 0:
        return np.full(rings.shape, k, dtype=np.int64)
    arr = np.asarray(k)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got {k!r}")
    try:
        arr = np.broadcast_to(arr.astype(np.int64), rings.shape).copy()
    except ValueError:
        raise ValueError(f"{what} must be a scalar or one count per ring, got {k!r}") from None
    if arr.size and arr.min() < 0:
        raise ValueError(f"{what} must be >= 0, got {k!r}")
    return arr


def has_duplicates(values: IntArray) -> bool:
    """Whether some value occurs twice (sort-based; cheaper than np.unique's hashing)."""
    v = np.sort(np.asarray(values).ravel())
    return bool(v.size > 1 and (v[1:] == v[:-1]).any())
