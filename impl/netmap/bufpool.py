"""The netmap buffer allocator: a free-list stack of buffer indices.

Upstream: netmap_ring_reinit
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1847)
treats ``buf_idx < 2`` as no buffer (indices 0 and 1 are reserved), and
``netmap_slot.buf_idx``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L163).
``alloc`` and ``free`` are vectorized: one call moves any number of indices.
"""

from __future__ import annotations

import errno

import numpy as np

from impl.netmap.ranges import has_duplicates

RESERVED_BUFS = 2
"""Buffers 0 and 1 are reserved and never handed out."""


class NetmapNoMemError(MemoryError):
    """The buffer pool cannot satisfy an allocation (netmap returns ENOMEM)."""

    errno = errno.ENOMEM

    def __init__(self, wanted: int, available: int) -> None:
        super().__init__(
            f"ENOMEM: {wanted} netmap buffers requested, {available} free"
        )
        self.wanted = wanted
        self.available = available


class BufferPool:
    """Free list of buffer indices ``RESERVED_BUFS .. nbufs-1``.

    A stack (numpy array plus a count) and a per-buffer ``is_free`` bitmap, so that double
    frees and foreign indices are caught without any Python loop."""

    def __init__(self, nbufs: int) -> None:
        if nbufs < RESERVED_BUFS:
            raise ValueError(f"nbufs must be >= {RESERVED_BUFS}, got {nbufs}")
        self.nbufs = int(nbufs)
        # Stored descending so that alloc() pops ascending indices: 2, 3, 4, ...
        self._stack = np.arange(self.nbufs - 1, RESERVED_BUFS - 1, -1, dtype=np.int64)
        self._nfree = self._stack.size
        self.is_free = np.zeros(self.nbufs, dtype=bool)
        self.is_free[RESERVED_BUFS:] = True

    @property
    def nfree(self) -> int:
        """Number of buffers on the free list."""
        return self._nfree

    def free_indices(self) -> np.ndarray:
        """A copy of the free list (stack order, top last)."""
        return self._stack[: self._nfree].copy()

    def alloc(self, k: int) -> np.ndarray:
        """Take ``k`` buffers off the free list; raises :class:`NetmapNoMemError` if short."""
        k = int(k)
        if k < 0:
            raise ValueError(f"cannot allocate a negative number of buffers ({k})")
        if k > self._nfree:
            raise NetmapNoMemError(k, self._nfree)
        top = self._nfree
        out = self._stack[top - k : top][::-1].copy()
        self._nfree = top - k
        self.is_free[out] = False
        return out

    def free(self, idx: np.ndarray) -> None:
        """Return buffers to the free list.

        Raises ValueError (and changes nothing) for a reserved or out-of-range index, an
        index given twice, or a buffer that is already free."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if idx.size == 0:
            return
        bad = (idx < RESERVED_BUFS) | (idx >= self.nbufs)
        if bad.any():
            raise ValueError(
                f"cannot free buffer {int(idx[bad][0])}: valid indices are "
                f"{RESERVED_BUFS}..{self.nbufs - 1}"
            )
        if has_duplicates(idx):
            raise ValueError("double free: a buffer index appears twice in one free() call")
        if self.is_free[idx].any():
            raise ValueError(
                f"double free: buffer {int(idx[self.is_free[idx]][0])} is already free"
            )
        top = self._nfree
        self._stack[top : top + idx.size] = idx
        self._nfree = top + idx.size
        self.is_free[idx] = True

    def __repr__(self) -> str:
        return f"BufferPool(nbufs={self.nbufs}, nfree={self._nfree})"
