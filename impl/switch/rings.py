"""What the switching TX and RX rings share: per-ring state arrays, the two allocators,
per-descriptor kind / buffer / frame arrays, and the vectorized helpers every operation
uses (per-ring counts, ring masks, flat slot ranges, per-ring counters)."""

from __future__ import annotations

import numpy as np

from impl.netmap.ranges import flat_ranges
from impl.switch.pools import MbufPool, NetmapPool
from model.netmap_switch import STACK

MBUF, NETMAP_BUF = 1, 2
STRATEGIES = ("classic", "rfc")


class SwitchRings:
    """``queues`` NIC rings of ``n`` descriptors and their switch ``strategy``; each
    descriptor holds a buffer of a kind (``MBUF``, ``NETMAP_BUF``, or 0: none), the
    buffer's id and the frame in it; ``slot_nbuf`` is each slot's netmap buffer while the
    ring is registered."""

    def __init__(self, queues: int, n: int, strategy: str, counters: tuple[str, ...]) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy {strategy!r}: choose one of {STRATEGIES}")
        if queues < 1 or n < 2:
            raise ValueError(f"need queues >= 1 and n >= 2, got queues={queues}, n={n}")
        self.q, self.n, self.strategy = queues, n, strategy
        self.rows = np.arange(queues)
        self.mode = np.full(queues, STACK, dtype=np.int64)
        self.link = np.ones(queues, dtype=np.int64)
        self.mbufs = MbufPool()
        self.pool = NetmapPool(queues * n)
        self.kind = np.zeros((queues, n), dtype=np.int8)
        self.desc_buf = np.full((queues, n), -1, dtype=np.int64)
        self.slot_nbuf = np.full((queues, n), -1, dtype=np.int64)
        self.frame = np.full((queues, n), -1, dtype=np.int64)
        self.next_frame = 0
        self.counters = {name: np.zeros(queues, dtype=np.int64) for name in counters}

    def _counts(self, k: np.ndarray | int) -> np.ndarray:
        """A count per ring (a scalar applies to all); ValueError if negative."""
        k = np.broadcast_to(np.asarray(k, dtype=np.int64), (self.q,))
        if (k < 0).any():
            raise ValueError(f"counts must be >= 0, got {k.tolist()}")
        return k

    def _mask(self, mask: np.ndarray | bool | None) -> np.ndarray:
        """A boolean per ring (None: every ring)."""
        if mask is None:
            return np.ones(self.q, dtype=bool)
        return np.broadcast_to(np.asarray(mask, dtype=bool), (self.q,))

    def _range(self, start: np.ndarray, count: np.ndarray,
               rings: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ring, slot) of every slot in ``[start, start + count)`` of each ring (of
        ``rings``, when given: start and count are then per selected ring)."""
        seg, _, idx = flat_ranges(start, count, self.n)
        return (self.rows[seg] if rings is None else rings[seg]), idx

    def _add(self, name: str, rows: np.ndarray) -> None:
        """Count one event per element of ``rows`` (ring ids) in counter ``name``."""
        self.counters[name] += np.bincount(rows, minlength=self.q)

    def _new_frames(self, count: int) -> np.ndarray:
        ids = np.arange(self.next_frame, self.next_frame + count, dtype=np.int64)
        self.next_frame += count
        return ids

    def held_netmap_buffers(self) -> np.ndarray:
        """Every netmap buffer the rings hold (a slot's own, or one still in a
        descriptor after the slot let go of it)."""
        parked = self.slot_nbuf[self.slot_nbuf >= 0]
        extra = (self.kind == NETMAP_BUF) & (self.desc_buf != self.slot_nbuf)
        return np.concatenate([parked, self.desc_buf[extra]])
