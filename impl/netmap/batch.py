"""A batch of rings as the sync paths see it: a Python ``int`` for one ring, else an int64
array of ring ids, with per-ring values to match (Python ints / bools, or arrays).

The prologues, the driver and the soft NIC are written once over these; the helpers below
are the few operations whose spelling differs (read a field, select rings by a verdict,
``where``, ``not``, ``min``, widen a per-ring value to the slots).  The slot-level work is
numpy either way.  One ring is the common call (an application syncs the ring of its file
descriptor), and Python ints keep its fixed cost to a few microseconds instead of one numpy
call (about a microsecond each on a small array) per operation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impl.netmap.ranges import as_counts

Rings = int | np.ndarray
"""One ring (``int``) or a batch of ring ids (1-D int64 array)."""

EMPTY = np.zeros(0, dtype=np.int64)
EMPTY.setflags(write=False)


def counts(rings: np.ndarray, k: object, what: str) -> tuple[Rings, Any]:
    """The batch form of ``rings`` and of a per-ring count ``k`` (scalar or per ring,
    validated by :func:`impl.netmap.ranges.as_counts`; one ring's count is an ``int``)."""
    if rings.size == 1:
        if type(k) is int and k >= 0:
            return int(rings[0]), k
        return int(rings[0]), as_counts(rings, k, what).item(0)
    return rings, as_counts(rings, k, what)


def is_one(sel: Rings) -> bool:
    return type(sel) is int


def get(arr: np.ndarray, sel: Rings) -> Any:
    """Per-ring field ``arr`` of the batch, as int64 (an ``int`` for one ring)."""
    if type(sel) is int:
        return arr.item(sel)
    out = arr[sel]
    return out if out.dtype == np.int64 else out.astype(np.int64)


def where(cond: Any, a: Any, b: Any) -> Any:
    """``np.where`` for per-ring values."""
    if isinstance(cond, np.ndarray):
        return np.where(cond, a, b)
    return a if cond else b


def logical_not(cond: Any) -> Any:
    return ~cond if isinstance(cond, np.ndarray) else not cond


def minimum(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.minimum(a, b)
    return min(a, b)


def any_(cond: Any) -> bool:
    """Whether a per-ring (or per-slot) condition holds anywhere."""
    return bool(cond.any()) if isinstance(cond, np.ndarray) else bool(cond)


def all_(cond: Any) -> bool:
    """Whether a per-ring condition holds everywhere."""
    return bool(cond.all()) if isinstance(cond, np.ndarray) else bool(cond)


def select(sel: Rings, mask: Any) -> Rings:
    """The rings of the batch where ``mask`` holds (one ring stays an ``int`` if it does)."""
    if type(sel) is int:
        return sel if mask else EMPTY
    return sel[mask]


def pick(value: Any, mask: Any) -> Any:
    """A per-ring value restricted like :func:`select`."""
    return value[mask] if isinstance(value, np.ndarray) and value.ndim else value


def per_slot(value: Any, seg: Any) -> Any:
    """A per-ring value widened to the slots of :func:`impl.netmap.ranges.flat_ranges`
    (``value[seg]``; a single ring's value broadcasts as it is)."""
    return value[seg] if isinstance(value, np.ndarray) and value.ndim else value


def per_ring_array(sel: Rings, value: Any, fill: int | bool, mask: Any = True,
                   dtype: type = np.int64) -> np.ndarray:
    """A per-ring result as an array over the batch: ``value`` (restricted to the rings
    where ``mask`` holds) there, ``fill`` elsewhere."""
    if type(sel) is int:
        return np.array([value if mask else fill], dtype=dtype)
    if isinstance(mask, bool) and mask:
        return np.asarray(value, dtype=dtype)
    out = np.full(sel.size, fill, dtype=dtype)
    out[mask] = value
    return out
