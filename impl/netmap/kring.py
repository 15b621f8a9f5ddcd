"""Kernel rings (``struct netmap_kring``) of one direction, as a struct of arrays.

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L411
and the initial state set by ``netmap_krings_create``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L922):
``rhead = rcur = nr_hwcur = 0``, ``rtail = nr_hwtail = (TX ? N-1 : 0)`` ("IMPORTANT: Always
keep one slot empty").

Each kernel field is an int64 array indexed by ring.  The shared ``netmap_ring`` fields the
kernel reads and writes (head, cur, tail) are strided views into :class:`NetmapMemory`, so
writing ``ring_tail[q]`` writes the bytes the user sees.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.batch import Rings
from impl.netmap.layout import NR_DIR_RX, NR_DIR_TX
from impl.netmap.mem import NetmapMemory
from impl.netmap.ranges import has_duplicates, span_shift

KINDS = ("tx", "rx")
KRING_FIELDS = ("hwcur", "hwtail", "rhead", "rcur", "rtail", "nkr_hwofs")


class Krings:
    """All krings of one direction (``kind`` "tx" or "rx"): rings ``base .. base+count-1``
    of the shared memory."""

    def __init__(self, kind: str, mem: NetmapMemory, base: int, count: int) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if base < 0 or count < 0 or base + count > mem.num_rings:
            raise ValueError(f"rings {base}..{base + count - 1} not in memory {mem!r}")
        self.kind = kind
        self.mem = mem
        self.base = int(base)
        self.count = int(count)
        self.num_slots = mem.num_slots
        n = self.num_slots
        for name in KRING_FIELDS:
            setattr(self, name, np.zeros(self.count, dtype=np.int64))
        self.hwcur: np.ndarray
        self.hwtail: np.ndarray
        self.rhead: np.ndarray
        self.rcur: np.ndarray
        self.rtail: np.ndarray
        self.nkr_hwofs: np.ndarray
        if kind == "tx":
            self.hwtail[:] = n - 1
            self.rtail[:] = n - 1
        hdr = mem.headers[self.base : self.base + self.count]
        self.headers = hdr
        self.ring_head = hdr["head"]
        self.ring_cur = hdr["cur"]
        self.ring_tail = hdr["tail"]
        self.slot_buf_idx = mem.slot_buf_idx[self.base : self.base + self.count]
        self.slot_len = mem.slot_len[self.base : self.base + self.count]
        self.slot_flags = mem.slot_flags[self.base : self.base + self.count]
        # The shared headers start out matching the kring (netmap_mem_rings_create).
        rows = np.arange(self.count, dtype=np.int64)
        hdr["buf_ofs"] = mem.buf_ofs(self.base + rows)
        hdr["num_slots"] = n
        hdr["nr_buf_size"] = mem.buf_size
        hdr["ringid"] = rows
        hdr["dir"] = NR_DIR_TX if kind == "tx" else NR_DIR_RX
        self.ring_head[:] = self.rhead
        self.ring_cur[:] = self.rcur
        self.ring_tail[:] = self.rtail
        self.stopped = np.zeros(self.count, dtype=bool)
        """``nkr_stopped == NM_KR_STOPPED`` per ring (nm_kr_stop / nm_kr_start): no sync
        may run on it; NIOCTXSYNC / NIOCRXSYNC skip it with EIO, poll with POLLERR."""
        self.busy = np.zeros(self.count, dtype=bool)
        """``nr_busy`` per ring: a sync holds the ring (nm_kr_tryget's test-and-set; the
        implementation's syncs run to completion, so it is set only to stand for another
        thread in the middle of one)."""
        self.pendintr = np.zeros(self.count, dtype=bool)
        """``NKR_PENDINTR`` in ``nr_kflags`` per ring: set by the RX interrupt
        (:func:`impl.netmap.intr.netmap_rx_irq`), cleared by an rxsync that reads the NIC."""
        self._ids = np.arange(self.count, dtype=np.int64)
        self._ids.setflags(write=False)

    @property
    def is_tx(self) -> bool:
        return self.kind == "tx"

    def check_rings(self, rings: object) -> np.ndarray:
        """Normalise a batch of ring ids (int, sequence, array or None = all) to an int64
        array (read-only); ValueError on an out-of-range or repeated id."""
        if rings is None:
            return self._ids
        if type(rings) is int and 0 <= rings < self.count:
            return self._ids[rings : rings + 1]
        arr = np.atleast_1d(np.asarray(rings))
        if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"ring ids must be a 1-D integer array, got {rings!r}")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self.count):
            raise ValueError(f"{self.kind} ring id out of range 0..{self.count - 1}: {rings!r}")
        if has_duplicates(arr):
            raise ValueError(f"ring ids repeated in one batch: {rings!r}")
        return arr

    def k2n(self, rings: Rings, idx: np.ndarray) -> np.ndarray:
        """netmap_idx_k2n: kring slot index -> NIC descriptor index."""
        if type(rings) is int:
            if type(idx) is int:
                return (idx - self.nkr_hwofs.item(rings)) % self.num_slots  # type: ignore
            return span_shift(idx, -self.nkr_hwofs.item(rings), self.num_slots)  # type: ignore
        return (np.asarray(idx, dtype=np.int64) - self.nkr_hwofs[rings]) % self.num_slots

    def n2k(self, rings: Rings, idx: np.ndarray) -> np.ndarray:
        """netmap_idx_n2k: NIC descriptor index -> kring slot index."""
        if type(rings) is int and type(idx) is int:
            return (idx + self.nkr_hwofs.item(rings)) % self.num_slots  # type: ignore[return-value]
        return (np.asarray(idx, dtype=np.int64) + self.nkr_hwofs[rings]) % self.num_slots

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f).tolist()}" for f in KRING_FIELDS)
        return (
            f"Krings(kind={self.kind!r}, count={self.count}, num_slots={self.num_slots}, "
            f"base={self.base}, {fields}, ring_head={self.ring_head.tolist()}, "
            f"ring_cur={self.ring_cur.tolist()}, ring_tail={self.ring_tail.tolist()})"
        )
