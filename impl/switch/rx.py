"""NIC RX rings that enter and leave netmap mode, classic or the 2015 RFC way (vectorized).

The model is :mod:`model.netmap_switch` (counts); this is the same protocol on real
descriptors.  ``Q`` rings of ``N`` descriptors as struct-of-arrays; each descriptor holds
a buffer of a *kind* (a stack mbuf or a netmap buffer), the buffer's id, and the frame in
it.  Going forward from ``hwcur`` the slots are::

    [hwcur, hwtail)   the user's slots (netmap mode only; empty otherwise)
    [hwtail, nic)     filled by the NIC, not yet harvested
    [nic, hwcur - 1)  posted: the NIC owns them (RDH = nic, RDT = hwcur - 1)
    hwcur - 1         the empty slot (its descriptor still holds a buffer)

In netmap mode every slot also owns one netmap buffer (``slot_nbuf``); where the
descriptor still holds an mbuf (the RFC, right after the switch) that buffer is parked.
Every operation takes per-ring counts (numpy arrays of ``Q``) or a ring mask and works on
all rings at once with flat index ranges: no Python loop over rings or descriptors.

Strategies (``strategy=``): ``"classic"`` -- NIOCREGIF downs the link, flushes, swaps in
netmap buffers (``netmap_reset``) and restarts; ``"rfc"`` -- the link stays up, rxsync
copies a packet out of an mbuf into the slot's netmap buffer and converts the slot, and
leaving waits for the NIC to hand its netmap buffers back (``harvest`` while leaving) or
resets the ring (``ring_reset_exit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from impl.netmap.ranges import ring_dist
from impl.switch.rings import MBUF, NETMAP_BUF, SwitchRings
from model.netmap_switch import LEAVING, NETMAP, STACK, SwitchRx

DROP_REASONS = ("flushed", "nobuf", "linkdown")


@dataclass
class FrameLog:
    """Where every frame went: ids in the order they were delivered or dropped."""

    to_user: list[np.ndarray] = field(default_factory=list)
    to_stack: list[np.ndarray] = field(default_factory=list)
    dropped: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {r: [] for r in DROP_REASONS})

    @staticmethod
    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class SwitchRxRings(SwitchRings):
    """``queues`` NIC RX rings of ``n`` descriptors and their switch ``strategy``."""

    def __init__(self, queues: int, n: int, strategy: str) -> None:
        super().__init__(queues, n, strategy, (
            "since", "copies", "exit_copies", "offered", "to_user", "to_stack",
            *DROP_REASONS))
        self.hwcur = np.zeros(queues, dtype=np.int64)
        self.hwtail = np.zeros(queues, dtype=np.int64)
        self.nic = np.zeros(queues, dtype=np.int64)
        self.kind[:] = MBUF
        self.desc_buf[:] = self.mbufs.alloc(queues * n).reshape(queues, n)
        self.log = FrameLog()

    def __repr__(self) -> str:
        return (f"SwitchRxRings(queues={self.q}, n={self.n}, strategy={self.strategy!r}, "
                f"mode={self.mode.tolist()}, link={self.link.tolist()}, "
                f"hwcur={self.hwcur.tolist()}, hwtail={self.hwtail.tolist()}, "
                f"nic={self.nic.tolist()}, pool={self.pool!r}, mbufs={self.mbufs!r})")

    # ------------------------------------------------------------------ helpers

    def _drop(self, reason: str, rows: np.ndarray, frames: np.ndarray) -> None:
        self.log.dropped[reason].append(frames)
        self._add(reason, rows)

    def _refill_mbufs(self, rows: np.ndarray, idx: np.ndarray) -> None:
        """Put fresh mbufs into these descriptors (their old buffers already handled)."""
        self.desc_buf[rows, idx] = self.mbufs.alloc(rows.size)
        self.kind[rows, idx] = MBUF
        self.frame[rows, idx] = -1

    def _release_buffers(self, rows: np.ndarray, idx: np.ndarray) -> None:
        """Give back whatever these descriptors hold: mbufs to the stack, netmap
        buffers to the allocator."""
        netmap = self.kind[rows, idx] == NETMAP_BUF
        self.pool.free(self.desc_buf[rows[netmap], idx[netmap]])
        self.mbufs.free(self.desc_buf[rows[~netmap], idx[~netmap]])

    # ------------------------------------------------------------------ datapath

    def wire(self, k: np.ndarray | int) -> None:
        """``k[q]`` frames arrive on ring ``q``: the NIC fills posted descriptors in ring
        order; the rest are dropped (``nobuf``), or all of them while the link is down
        (``linkdown``)."""
        k = self._counts(k)
        up = self.link == 1
        posted = ring_dist(self.nic, (self.hwcur - 1) % self.n, self.n)
        f = np.where(up, np.minimum(k, posted), 0)
        rows, idx = self._range(self.nic, f)
        self.frame[rows, idx] = self._new_frames(rows.size)
        self.nic = (self.nic + f) % self.n
        lost = k - f
        lost_rows = np.repeat(self.rows, lost)
        frames = self._new_frames(lost_rows.size)
        linkdown = ~up[lost_rows]
        self._drop("linkdown", lost_rows[linkdown], frames[linkdown])
        self._drop("nobuf", lost_rows[~linkdown], frames[~linkdown])
        self.counters["offered"] += k

    def harvest(self, k: np.ndarray | int) -> None:
        """The driver takes up to ``k[q]`` filled descriptors in ring order: rxsync in
        netmap mode (a packet in an mbuf is copied into the slot's netmap buffer and the
        slot converted), the stack driver's rxeof otherwise (a packet in a netmap buffer,
        while leaving, is copied into an mbuf and its buffer freed; every descriptor is
        refilled with a fresh mbuf)."""
        k = self._counts(k)
        h = np.minimum(k, ring_dist(self.hwtail, self.nic, self.n))
        rows, idx = self._range(self.hwtail, h)
        frames = self.frame[rows, idx]
        kind = self.kind[rows, idx]
        netmap = self.mode[rows] == NETMAP
        convert = netmap & (kind == MBUF)
        r, i = rows[convert], idx[convert]
        self.mbufs.free(self.desc_buf[r, i])
        self.desc_buf[r, i] = self.slot_nbuf[r, i]
        self.kind[r, i] = NETMAP_BUF
        self._add("copies", r)
        self.log.to_user.append(frames[netmap])
        self._add("to_user", rows[netmap])
        self._add("since", rows[netmap])
        stack = ~netmap
        r, i = rows[stack], idx[stack]
        self._add("exit_copies", r[self.kind[r, i] == NETMAP_BUF])
        self._release_buffers(r, i)
        self._refill_mbufs(r, i)
        self.log.to_stack.append(frames[stack])
        self._add("to_stack", r)
        self.hwtail = (self.hwtail + h) % self.n
        self.hwcur = np.where(self.mode == NETMAP, self.hwcur, self.hwtail)

    def release(self, k: np.ndarray | int) -> None:
        """rxsync's refill (netmap mode): up to ``k[q]`` of the user's slots go back to
        the NIC with their own netmap buffers; the old empty slot joins the NIC's as it
        is and the last released slot becomes the empty one."""
        k = self._counts(k)
        user = ring_dist(self.hwcur, self.hwtail, self.n)
        r = np.where(self.mode == NETMAP, np.minimum(k, user), 0)
        rows, idx = self._range(self.hwcur, r)
        self.desc_buf[rows, idx] = self.slot_nbuf[rows, idx]
        self.kind[rows, idx] = NETMAP_BUF
        self.frame[rows, idx] = -1
        self.hwcur = (self.hwcur + r) % self.n

    def link_up(self, mask: np.ndarray | bool | None = None) -> None:
        """Autonegotiation completes on the masked rings."""
        self.link[self._mask(mask)] = 1

    # ------------------------------------------------------------------ switching

    def regif(self, mask: np.ndarray | bool | None = None) -> None:
        """NIOCREGIF on the masked rings (those in normal mode), by the strategy."""
        rings = np.flatnonzero(self._mask(mask) & (self.mode == STACK))
        if rings.size == 0:
            return
        nbufs = self.pool.alloc(rings.size * self.n).reshape(rings.size, self.n)
        if self.strategy == "classic":
            self._flush(rings)
            self._release_buffers(np.repeat(rings, self.n), np.tile(np.arange(self.n),
                                                                    rings.size))
            self.desc_buf[rings] = nbufs
            self.kind[rings] = NETMAP_BUF
            self.frame[rings] = -1
            self.nic[rings] = self.hwtail[rings] = self.hwcur[rings]
            self.link[rings] = 0
        self.slot_nbuf[rings] = nbufs
        self.mode[rings] = NETMAP
        self.counters["since"][rings] = 0
        self.counters["copies"][rings] = 0

    def unregif(self, mask: np.ndarray | bool | None = None) -> None:
        """The last close on the masked rings (those in netmap mode), by the strategy."""
        rings = np.flatnonzero(self._mask(mask) & (self.mode == NETMAP))
        if rings.size == 0:
            return
        every = np.repeat(rings, self.n), np.tile(np.arange(self.n), rings.size)
        if self.strategy == "classic":
            self._flush(rings)
            # every descriptor holds the slot's netmap buffer (classic regif swapped
            # them all in, and nothing posts an mbuf in netmap mode): no mbuf to free
            self.pool.free(self.slot_nbuf[rings].ravel())
            self._refill_mbufs(*every)
            self.nic[rings] = self.hwtail[rings] = self.hwcur[rings]
            self.link[rings] = 0
            self.mode[rings] = STACK
        else:
            self._leave_rfc(rings, every)
        self.slot_nbuf[rings] = -1

    def _leave_rfc(self, rings: np.ndarray, every: tuple[np.ndarray, np.ndarray]) -> None:
        """The kernel's netmap buffers go back now; the NIC keeps the ones in its
        descriptors (filled or posted); the user's slots and the empty one get mbufs."""
        pos = (every[1] - self.hwcur[every[0]]) % self.n
        in_nic = ((pos >= ring_dist(self.hwcur, self.hwtail, self.n)[every[0]])
                  & (pos < self.n - 1))
        keep = in_nic & (self.kind[every] == NETMAP_BUF)
        self.pool.free(self.slot_nbuf[every[0][~keep], every[1][~keep]])
        outside = ~in_nic
        r, i = every[0][outside], every[1][outside]
        mbuf = self.kind[r, i] == MBUF
        self.mbufs.free(self.desc_buf[r[mbuf], i[mbuf]])
        self._refill_mbufs(r, i)
        self.hwcur[rings] = self.hwtail[rings]
        self.mode[rings] = LEAVING

    def leave_done(self, mask: np.ndarray | bool | None = None) -> None:
        """Leaving ends on the masked rings whose NIC holds no netmap buffer any more."""
        clean = ~(self.kind == NETMAP_BUF).any(axis=1)
        self.mode[self._mask(mask) & (self.mode == LEAVING) & clean] = STACK

    def ring_reset_exit(self, mask: np.ndarray | bool | None = None) -> None:
        """Reset the masked leaving rings: filled packets go up the stack, every
        descriptor gets a fresh mbuf, every netmap buffer returns at once."""
        rings = np.flatnonzero(self._mask(mask) & (self.mode == LEAVING))
        if rings.size == 0:
            return
        self.harvest(np.where(np.isin(self.rows, rings), self.n, 0))
        every = np.repeat(rings, self.n), np.tile(np.arange(self.n), rings.size)
        self._release_buffers(*every)
        self._refill_mbufs(*every)
        self.nic[rings] = self.hwtail[rings] = self.hwcur[rings]
        self.mode[rings] = STACK

    def _flush(self, rings: np.ndarray) -> None:
        """Drop the filled, unharvested packets of ``rings`` (counted ``flushed``)."""
        count = ring_dist(self.hwtail[rings], self.nic[rings], self.n)
        rows, idx = self._range(self.hwtail[rings], count, rings)
        self._drop("flushed", rows, self.frame[rows, idx])
        self.frame[rows, idx] = -1

    # ------------------------------------------------------------------ the model's view

    def abstract(self, ring: int) -> SwitchRx:
        """Ring ``ring`` as the model's counts (:class:`model.netmap_switch.SwitchRx`)."""
        n = self.n
        pos = (np.arange(n) - self.hwcur[ring]) % n
        user = int(ring_dist(self.hwcur[ring], self.hwtail[ring], n))
        filled = user + int(ring_dist(self.hwtail[ring], self.nic[ring], n))
        region = np.where(pos < user, 0, np.where(pos < filled, 1, np.where(pos < n - 1, 2, 3)))
        mbuf = self.kind[ring] == MBUF
        counts = np.bincount(region * 2 + mbuf, minlength=8)
        netmap_in_desc = (~mbuf) & (self.desc_buf[ring] != self.slot_nbuf[ring])
        held = int((self.slot_nbuf[ring] >= 0).sum() + netmap_in_desc.sum())
        c = {name: int(v[ring]) for name, v in self.counters.items()}
        return SwitchRx(
            n=n, mode=int(self.mode[ring]), link=int(self.link[ring]), pool=n - held,
            posted_m=int(counts[5]), posted_n=int(counts[4]), ready_m=int(counts[3]),
            ready_n=int(counts[2]), user=int(counts[0]), user_m=int(counts[1]),
            gap_m=int(counts[7]), since=c["since"], copies=c["copies"],
            offered=c["offered"], to_user=c["to_user"], to_stack=c["to_stack"],
            flushed=c["flushed"], nobuf=c["nobuf"], linkdown=c["linkdown"],
        )

    # ------------------------------------------------------------------ accounting

    def filled_frames(self) -> np.ndarray:
        """The frames in filled, unharvested descriptors."""
        count = ring_dist(self.hwtail, self.nic, self.n)
        rows, idx = self._range(self.hwtail, count)
        return self.frame[rows, idx]
