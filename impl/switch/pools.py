"""The two buffer allocators a switching NIC ring draws from, with ownership checks.

netmap buffers come from one allocator of ``capacity`` buffers (as ``netmap_mem`` hands
out buffer indices); stack mbufs get fresh ids from the stack.  Both track which buffers
are live, so a double free or a use after free raises instead of silently corrupting the
accounting the tests rely on.
"""

from __future__ import annotations

import numpy as np


class BufferLeakError(RuntimeError):
    """A buffer was freed twice, or handed out while still in use."""


class NetmapPool:
    """A LIFO allocator of netmap buffer indices ``0 .. capacity-1``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._free = np.arange(capacity - 1, -1, -1, dtype=np.int64)
        self._top = capacity
        self.live = np.zeros(capacity, dtype=bool)

    def __repr__(self) -> str:
        return f"NetmapPool(capacity={self.capacity}, free={self._top})"

    @property
    def free_count(self) -> int:
        return self._top

    def free_ids(self) -> np.ndarray:
        return self._free[: self._top].copy()

    def alloc(self, k: int) -> np.ndarray:
        if k > self._top:
            raise MemoryError(f"netmap allocator: {k} buffers wanted, {self._top} free")
        ids = self._free[self._top - k: self._top][::-1].copy()
        self._top -= k
        self.live[ids] = True
        return ids

    def free(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return
        if not self.live[ids].all() or np.unique(ids).size != ids.size:
            raise BufferLeakError("netmap allocator: a buffer freed twice or never allocated")
        self.live[ids] = False
        self._free[self._top: self._top + ids.size] = ids
        self._top += ids.size


class MbufPool:
    """Fresh stack mbuf ids, with a live bit per id ever handed out."""

    def __init__(self) -> None:
        self.live = np.zeros(1024, dtype=bool)
        self.next_id = 0
        self.freed = 0

    def __repr__(self) -> str:
        return f"MbufPool(allocated={self.next_id}, freed={self.freed})"

    def alloc(self, k: int) -> np.ndarray:
        ids = np.arange(self.next_id, self.next_id + k, dtype=np.int64)
        self.next_id += k
        if self.next_id > self.live.size:
            grown = np.zeros(max(2 * self.live.size, self.next_id), dtype=bool)
            grown[: self.live.size] = self.live
            self.live = grown
        self.live[ids] = True
        return ids

    def free(self, ids: np.ndarray) -> None:
        """The driver lets go of these mbufs (freed, or handed up the stack)."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return
        if not self.live[ids].all() or np.unique(ids).size != ids.size:
            raise BufferLeakError("mbuf freed twice or never allocated")
        self.live[ids] = False
        self.freed += int(ids.size)
