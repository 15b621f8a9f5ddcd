"""NIC TX rings that enter and leave netmap mode, classic or the 2015 RFC way (vectorized).

The model is :mod:`model.netmap_switch_tx` (counts); this is the same protocol on real
descriptors, as :mod:`impl.switch.rx` does for RX.  Going forward from ``clean`` (the next
descriptor to clean, one past netmap's ``hwtail``) the slots are::

    [clean, nic)      completed by the NIC, not yet cleaned
    [nic, hwcur)      in flight (TDH = nic, TDT = hwcur)
    [hwcur, clean-1)  free: the stack's to fill, or in netmap mode the user's slots
    clean - 1         the empty slot

A descriptor holds a stack mbuf, a netmap buffer or nothing (a free one in normal mode),
and the id of the frame in it.  In netmap mode every slot owns a netmap buffer
(``slot_nbuf``), parked while its descriptor still carries a stack packet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from impl.netmap.ranges import ring_dist
from impl.switch.rings import MBUF, NETMAP_BUF, SwitchRings
from model.netmap_switch import LEAVING, NETMAP, STACK
from model.netmap_switch_tx import SwitchTx

NONE = 0  # a free descriptor in normal mode holds no buffer


@dataclass
class TxLog:
    """Frames the NIC sent and frames a flush dropped, in order."""

    on_wire: list[np.ndarray] = field(default_factory=list)
    flushed: list[np.ndarray] = field(default_factory=list)


class SwitchTxRings(SwitchRings):
    """``queues`` NIC TX rings of ``n`` descriptors and their switch ``strategy``."""

    def __init__(self, queues: int, n: int, strategy: str) -> None:
        super().__init__(queues, n, strategy, (
            "since", "from_stack", "from_user", "on_wire", "flushed", "mbufs_freed"))
        self.clean = np.zeros(queues, dtype=np.int64)
        self.nic = np.zeros(queues, dtype=np.int64)
        self.hwcur = np.zeros(queues, dtype=np.int64)
        self.log = TxLog()

    def __repr__(self) -> str:
        return (f"SwitchTxRings(queues={self.q}, n={self.n}, strategy={self.strategy!r}, "
                f"mode={self.mode.tolist()}, link={self.link.tolist()}, "
                f"clean={self.clean.tolist()}, nic={self.nic.tolist()}, "
                f"hwcur={self.hwcur.tolist()}, pool={self.pool!r}, mbufs={self.mbufs!r})")

    # ------------------------------------------------------------------ helpers

    def _rings(self, mask: np.ndarray | bool | None, mode: int) -> np.ndarray:
        return np.flatnonzero(self._mask(mask) & (self.mode == mode))

    def _free_space(self) -> np.ndarray:
        """Slots in [hwcur, clean - 1): free descriptors or, in netmap mode, the user's."""
        return ring_dist(self.hwcur, (self.clean - 1) % self.n, self.n)

    def _busy(self, rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ring, slot) of every in-flight or completed descriptor of ``rings``."""
        return self._range(self.clean[rings], ring_dist(self.clean[rings], self.hwcur[rings],
                                                         self.n), rings)

    def _put(self, rows: np.ndarray, idx: np.ndarray, kind: int, bufs: np.ndarray) -> None:
        self.kind[rows, idx] = kind
        self.desc_buf[rows, idx] = bufs
        self.frame[rows, idx] = self._new_frames(rows.size)

    # ------------------------------------------------------------------ datapath

    def stack_xmit(self, k: np.ndarray | int) -> None:
        """The stack transmits up to ``k[q]`` packets into free descriptors (normal and
        leaving mode; in netmap mode the stack's packets go to the host rings)."""
        k = self._counts(k)
        x = np.where(self.mode == NETMAP, 0, np.minimum(k, self._free_space()))
        rows, idx = self._range(self.hwcur, x)
        self._put(rows, idx, MBUF, self.mbufs.alloc(rows.size))
        self.hwcur = (self.hwcur + x) % self.n
        self._add("from_stack", rows)

    def user_send(self, k: np.ndarray | int) -> None:
        """The user fills up to ``k[q]`` of its slots and txsync hands them to the NIC."""
        k = self._counts(k)
        x = np.where(self.mode == NETMAP, np.minimum(k, self._free_space()), 0)
        rows, idx = self._range(self.hwcur, x)
        self._put(rows, idx, NETMAP_BUF, self.slot_nbuf[rows, idx])
        self.hwcur = (self.hwcur + x) % self.n
        self._add("from_user", rows)
        self._add("since", rows)

    def complete(self, k: np.ndarray | int) -> None:
        """The NIC sends and completes up to ``k[q]`` descriptors in order (link up)."""
        k = self._counts(k)
        c = np.where(self.link == 1, np.minimum(k, ring_dist(self.nic, self.hwcur, self.n)),
                     0)
        rows, idx = self._range(self.nic, c)
        self.log.on_wire.append(self.frame[rows, idx])
        self._add("on_wire", rows)
        self.nic = (self.nic + c) % self.n

    def cleanup(self) -> None:
        """txsync's reclaim or the stack driver's txeof: every completed descriptor is
        cleaned; an mbuf is freed; in netmap mode the slot becomes the user's again,
        while leaving a netmap buffer goes back to the allocator."""
        rows, idx = self._range(self.clean, ring_dist(self.clean, self.nic, self.n))
        kind = self.kind[rows, idx]
        mbuf = kind == MBUF
        self.mbufs.free(self.desc_buf[rows[mbuf], idx[mbuf]])
        self._add("mbufs_freed", rows[mbuf])
        back = (kind == NETMAP_BUF) & (self.mode[rows] == LEAVING)
        self.pool.free(self.desc_buf[rows[back], idx[back]])
        self.kind[rows, idx] = NONE
        self.desc_buf[rows, idx] = -1
        self.frame[rows, idx] = -1
        self.clean = self.nic.copy()

    def link_up(self, mask: np.ndarray | bool | None = None) -> None:
        """Autonegotiation completes on the masked rings."""
        self.link[self._mask(mask)] = 1

    # ------------------------------------------------------------------ switching

    def regif(self, mask: np.ndarray | bool | None = None) -> None:
        """NIOCREGIF on the masked rings in normal mode, by the strategy."""
        rings = self._rings(mask, STACK)
        if rings.size == 0:
            return
        if self.strategy == "classic":
            self._flush(rings)
            self.link[rings] = 0
        self.slot_nbuf[rings] = self.pool.alloc(rings.size * self.n).reshape(rings.size, -1)
        self.mode[rings] = NETMAP
        self.counters["since"][rings] = 0

    def unregif(self, mask: np.ndarray | bool | None = None) -> None:
        """The last close on the masked rings in netmap mode, by the strategy."""
        rings = self._rings(mask, NETMAP)
        if rings.size == 0:
            return
        if self.strategy == "classic":
            self._flush(rings)
            self.pool.free(self.slot_nbuf[rings].ravel())
            self.link[rings] = 0
            self.mode[rings] = STACK
        else:
            rows, idx = self._busy(rings)
            kept = np.zeros((self.q, self.n), dtype=bool)
            kept[rows, idx] = self.kind[rows, idx] == NETMAP_BUF
            self.pool.free(self.slot_nbuf[rings][~kept[rings]])
            self.mode[rings] = LEAVING
        self.slot_nbuf[rings] = -1

    def leave_done(self, mask: np.ndarray | bool | None = None) -> None:
        """Leaving ends on the masked rings whose NIC holds no netmap buffer any more."""
        rings = self._rings(mask, LEAVING)
        clean = ~(self.kind[rings] == NETMAP_BUF).any(axis=1)
        self.mode[rings[clean]] = STACK

    def _flush(self, rings: np.ndarray) -> None:
        """Free every TX buffer of ``rings``: in-flight frames are dropped (``flushed``),
        mbufs freed; the ring restarts empty (netmap_reset)."""
        rows, idx = self._range(self.nic[rings], ring_dist(self.nic[rings],
                                                             self.hwcur[rings], self.n), rings)
        self.log.flushed.append(self.frame[rows, idx])
        self._add("flushed", rows)
        rows, idx = self._busy(rings)
        mbuf = self.kind[rows, idx] == MBUF
        self.mbufs.free(self.desc_buf[rows[mbuf], idx[mbuf]])
        self._add("mbufs_freed", rows[mbuf])
        self.kind[rings] = NONE
        self.desc_buf[rings] = -1
        self.frame[rings] = -1
        self.clean[rings] = self.nic[rings] = self.hwcur[rings]

    # ------------------------------------------------------------------ the model's view

    def abstract(self, ring: int) -> SwitchTx:
        """Ring ``ring`` as the model's counts (:class:`model.netmap_switch_tx.SwitchTx`)."""
        n = self.n
        pos = (np.arange(n) - self.clean[ring]) % n
        done = int(ring_dist(self.clean[ring], self.nic[ring], n))
        busy = done + int(ring_dist(self.nic[ring], self.hwcur[ring], n))
        region = np.where(pos < done, 0, np.where(pos < busy, 1, 2))
        counts = np.bincount(region * 3 + self.kind[ring], minlength=9)
        netmap_in_desc = (self.kind[ring] == NETMAP_BUF) & (
            self.desc_buf[ring] != self.slot_nbuf[ring])
        held = int((self.slot_nbuf[ring] >= 0).sum() + netmap_in_desc.sum())
        c = {name: int(v[ring]) for name, v in self.counters.items()}
        user = int(self._free_space()[ring]) if self.mode[ring] == NETMAP else 0
        return SwitchTx(
            n=n, mode=int(self.mode[ring]), link=int(self.link[ring]), pool=n - held,
            flight_m=int(counts[3 + MBUF]), flight_n=int(counts[3 + NETMAP_BUF]),
            done_m=int(counts[MBUF]), done_n=int(counts[NETMAP_BUF]), user=user,
            since=c["since"], from_stack=c["from_stack"], from_user=c["from_user"],
            on_wire=c["on_wire"], flushed=c["flushed"], mbufs_freed=c["mbufs_freed"],
        )

    # ------------------------------------------------------------------ accounting

    def in_flight_frames(self) -> np.ndarray:
        rows, idx = self._range(self.nic, ring_dist(self.nic, self.hwcur, self.n))
        return self.frame[rows, idx]
