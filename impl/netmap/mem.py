"""The netmap shared-memory region: rings and the buffer pool in one byte arena.

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L285
(header then ``slot[]`` at offset 256; ``buf_ofs`` locates the buffers relative to the ring,
so buffer ``i`` of ring ``r`` lives at ``(char *)r + r->buf_ofs + i * nr_buf_size``,
NETMAP_BUF in netmap_user.h).

Every ring occupies a fixed stride of ``256 + 16 * num_slots`` bytes, rings back to back
from offset 0; the buffer pool follows, page aligned.  ``headers[r]`` and ``slots[r, i]``
are structured views that alias the arena bytes, as the user's mmap and the kernel's
pointers alias the same pages.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.bufpool import BufferPool
from impl.netmap.layout import (
    NETMAP_RING_DTYPE,
    NETMAP_RING_HEADER_SIZE,
    NETMAP_SLOT_DTYPE,
    NETMAP_SLOT_SIZE,
    ring_stride,
)

POOL_ALIGN = 4096


class NetmapMemory:
    """One uint8 arena with ``num_rings`` rings of ``num_slots`` slots and ``nbufs`` buffers.

    Views (all aliasing ``arena``):

    * ``headers``: shape ``(num_rings,)``, dtype :data:`NETMAP_RING_DTYPE`;
    * ``slots``: shape ``(num_rings, num_slots)``, dtype :data:`NETMAP_SLOT_DTYPE`;
    * ``bufs``: shape ``(nbufs, buf_size)``, uint8.

    Buffer allocation goes through ``pool`` (:class:`BufferPool`).  ``arena``, if given,
    is the caller's ``uint8`` array of exactly :meth:`arena_size` bytes (a NIC driver's
    netmap memory inside the host memory its device DMAs from); by default the memory
    allocates its own."""

    def __init__(self, num_rings: int, num_slots: int, buf_size: int, nbufs: int,
                 arena: np.ndarray | None = None) -> None:
        if num_rings < 0:
            raise ValueError(f"num_rings must be >= 0, got {num_rings}")
        if num_slots < 2:
            raise ValueError(f"num_slots must be >= 2, got {num_slots}")
        if not 1 <= buf_size <= 0xFFFF:
            raise ValueError(f"buf_size must be in 1..65535 (slot len is u16), got {buf_size}")
        self.num_rings = int(num_rings)
        self.num_slots = int(num_slots)
        self.buf_size = int(buf_size)
        self.stride = ring_stride(self.num_slots)
        rings_bytes = self.stride * self.num_rings
        self.pool_offset = -(-rings_bytes // POOL_ALIGN) * POOL_ALIGN
        self.pool = BufferPool(nbufs)
        self.nbufs = self.pool.nbufs
        size = self.pool_offset + self.nbufs * self.buf_size
        if arena is None:
            arena = np.zeros(size, dtype=np.uint8)
        elif arena.dtype != np.uint8 or arena.shape != (size,):
            raise ValueError(f"arena must be {size} uint8 bytes, got {arena.dtype} "
                             f"{arena.shape}")
        else:
            arena[:] = 0
        self.arena = arena
        self.headers = np.ndarray(
            shape=(self.num_rings,),
            dtype=NETMAP_RING_DTYPE,
            buffer=self.arena,
            offset=0,
            strides=(self.stride,),
        )
        self.slots = np.ndarray(
            shape=(self.num_rings, self.num_slots),
            dtype=NETMAP_SLOT_DTYPE,
            buffer=self.arena,
            offset=NETMAP_RING_HEADER_SIZE if self.num_rings else 0,  # no rings: empty view
            strides=(self.stride, NETMAP_SLOT_SIZE),
        )
        self.bufs = self.arena[self.pool_offset :].reshape(self.nbufs, self.buf_size)
        # Field views (strided, aliasing the arena) used by the datapath.
        self.slot_buf_idx = self.slots["buf_idx"]
        self.slot_len = self.slots["len"]
        self.slot_flags = self.slots["flags"]

    @staticmethod
    def arena_size(num_rings: int, num_slots: int, buf_size: int, nbufs: int) -> int:
        """Bytes of the arena for these dimensions (rings, then the page-aligned pool)."""
        rings_bytes = ring_stride(num_slots) * num_rings
        return -(-rings_bytes // POOL_ALIGN) * POOL_ALIGN + nbufs * buf_size

    def ring_offset(self, r: int | np.ndarray) -> int | np.ndarray:
        """Byte offset of ring ``r``'s header in the arena."""
        return np.asarray(r, dtype=np.int64) * self.stride

    def buf_ofs(self, r: int | np.ndarray) -> int | np.ndarray:
        """``netmap_ring.buf_ofs`` for ring ``r``: buffer pool offset relative to the ring."""
        return self.pool_offset - self.ring_offset(r)

    def valid_buf(self, idx: np.ndarray) -> np.ndarray:
        """``2 <= idx < nbufs``: a real buffer (netmap_ring_reinit's slot test)."""
        idx = np.asarray(idx, dtype=np.int64)
        return (idx >= 2) & (idx < self.nbufs)

    def all_valid(self, idx: np.ndarray) -> bool:
        """Whether every index of a non-empty array passes :meth:`valid_buf` (two
        reductions instead of a mask)."""
        return bool(idx.min() >= 2 and idx.max() < self.nbufs)

    def alloc(self, k: int) -> np.ndarray:
        """Allocate ``k`` buffers (see :meth:`BufferPool.alloc`)."""
        return self.pool.alloc(k)

    def free(self, idx: np.ndarray) -> None:
        """Free buffers (see :meth:`BufferPool.free`)."""
        self.pool.free(idx)

    def __repr__(self) -> str:
        return (
            f"NetmapMemory(num_rings={self.num_rings}, num_slots={self.num_slots}, "
            f"buf_size={self.buf_size}, nbufs={self.nbufs}, nfree={self.pool.nfree}, "
            f"stride={self.stride}, pool_offset={self.pool_offset}, "
            f"arena_bytes={self.arena.size})"
        )
