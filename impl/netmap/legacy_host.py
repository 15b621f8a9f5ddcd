"""The host-stack rings of the 2013 API as a personality of an adapter's host krings:
the 2013 ring header (:data:`impl.netmap.legacy.LEGACY_RING_DTYPE`) over the same slots
and buffers, ``nr_hwavail`` per kring, and the 2013 netmap_txsync_to_host (with
netmap_grab_packets), netmap_transmit and netmap_rxsync_from_host in ``uint32_t``
arithmetic.  The spec is :mod:`model.netmap_legacy_host`, whose docstring tells the two
findings; ``tests/stateful/test_legacy_host_rings.py`` runs this class in lockstep with
it.

Both policies are here: ``as-shipped`` is the 2013 C, ``hardened`` the model's hardened
transitions (the grab ends at cur; a release point outside the kernel's packets is
refused with netmap_ring_reinit and reserved = 0).  As shipped, a grab whose end is not
a slot (``cur + reserved >= N``) never ends in the C; here the ring is left as it was
and the result says ``hung`` and whether the C would flood the stack instead
(``flood``: some slot has a length m_devget copies, so the loop runs until mbufs run
out, then sends them all up).

What the kernel does with the slots is implemented, vectorized over the range: the
walk sends up, in ring order, each slot whose ``len`` is in ``14 .. buf_size`` (NMB maps
an index past the pool to buffer 0) and clears its NS_FORWARD; netmap_transmit copies
each packet that fits into the slot at ``nr_hwcur + nr_hwavail`` (one subtraction of N,
as nm_kr_rxpos does), sets ``len`` and zeroes ``flags``, and returns 0 or -- the 2013
value -- EBUSY for a drop (today: ENOBUFS).

Upstream (netmap 95b478cf):
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L746
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L859
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L907
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L2019
"""

from __future__ import annotations

import errno
from typing import NamedTuple

import numpy as np

from impl.netmap import dma
from impl.netmap.adapter import NetmapAdapter
from impl.netmap.host import FrameQueue, _batch
from impl.netmap.kring import Krings
from impl.netmap.layout import NS_FORWARD
from impl.netmap.legacy import (
    LegacyPort,
    legacy_view,
    release_point_2013,
    ring_reinit_2013,
    u32,
)
from impl.netmap.mem import NetmapMemory
from impl.netmap.prologue import AS_SHIPPED, check_policy
from impl.netmap.ranges import flat_ranges, ring_dist
from model.netmap_legacy_host import LegacyHostRx, LegacyHostTx, grab_end

ETH_HLEN = 14


def len_ok(lengths: np.ndarray, buf_size: int) -> np.ndarray:
    """netmap_grab_packets' test: ``14 <= len <= buf_size``."""
    return (lengths >= ETH_HLEN) & (lengths <= buf_size)


def nmb(mem: NetmapMemory, buf_idx: np.ndarray) -> np.ndarray:
    """NMB: the buffer a slot points at; an index past the pool means buffer 0."""
    buf = buf_idx.astype(np.int64)
    return np.where(buf < mem.nbufs, buf, 0)


def grab_walk(kr: Krings, q: int, start: int, count: int, force: bool,
              stack: FrameQueue) -> tuple[int, int]:
    """The walk of the 2013 netmap_grab_packets over ``count`` slots of ring ``q`` from
    ``start``: each slot marked NS_FORWARD (every slot with ``force``) whose ``len`` is
    ``14 .. buf_size`` is copied up the stack, in ring order, and loses NS_FORWARD; a
    marked slot with another length is logged and skipped.  Returns (sent, skipped)."""
    _, _, idx = flat_ranges(np.array([start]), np.array([count]), kr.num_slots)
    wanted = np.ones(idx.size, bool) if force else (kr.slot_flags[q, idx] & NS_FORWARD) != 0
    lengths = kr.slot_len[q, idx].astype(np.int64)
    ok = len_ok(lengths, kr.mem.buf_size)
    up = wanted & ok
    kr.slot_flags[q, idx[up]] &= ~np.uint16(NS_FORWARD)
    buf = nmb(kr.mem, kr.slot_buf_idx[q, idx[up]])
    stack.push(lengths[up], dma.gather(kr.mem.bufs, buf, lengths[up]))
    return int(up.sum()), int((wanted & ~ok).sum())


class HostTxResult(NamedTuple):
    reinit: bool
    """netmap_ring_reinit ran (``cur > N-1``)."""
    sent: int
    """Slots copied up the stack."""
    bad_len: int
    """Slots of the walk skipped for their length."""
    hung: bool
    """As shipped: the grab end is not a slot; the C never meets it.  Nothing changed."""
    flood: bool
    """With ``hung``: some slot has a valid length, so the C copies slots round and round
    until m_devget fails and then sends every copy up, instead of spinning."""


class HostRxResult(NamedTuple):
    reinit: bool
    """netmap_ring_reinit ran: ``cur >= N`` or (hardened) the release point refused."""
    released: int
    """Slots taken back from the user (the u32 count the C subtracts)."""


class LegacyHostPort:
    """The 2013 API over host ring pair 0 of ``adapter`` (the 2013 kernel had one)."""

    def __init__(self, adapter: NetmapAdapter, policy: str = AS_SHIPPED) -> None:
        check_policy(policy)
        self.policy = policy
        self.host = adapter.host_rings()
        if self.host.tx.count != 1 or self.host.rx.count != 1:
            raise ValueError("the 2013 API has one host ring pair; build the adapter with "
                             "host_rings=True")
        self.mem = self.host.mem
        self.n = self.host.n
        self.header: dict[str, np.ndarray] = {}
        self.hwavail: dict[str, np.ndarray] = {}
        for kind, kr in (("tx", self.host.tx), ("rx", self.host.rx)):
            self.header[kind], self.hwavail[kind] = legacy_view(kr)
        self.stack = FrameQueue()
        self.stray = self.lost = 0
        self.accepted = self.dropped = self.released = 0

    def __repr__(self) -> str:
        return f"LegacyHostPort(policy={self.policy!r}, tx={self.abstract_tx()!r}, " \
               f"rx={self.abstract_rx()!r}, stack={self.stack!r})"

    # ------------------------------------------------------------------ host TX

    def user_fill(self, frames: np.ndarray, lengths: np.ndarray | None = None) -> None:
        """The user copies packets into the host TX slots from cur, sets their ``len``
        (any u16) and publishes them: ``cur += k``, ``avail -= k``.  ValueError, nothing
        written, if cur is not a slot or more than ``avail`` packets are given."""
        frames, lengths = _batch(frames, lengths)
        k, width = frames.shape
        hdr, kr, n = self.header["tx"], self.host.tx, self.n
        cur, avail = int(hdr["cur"][0]), int(hdr["avail"][0])
        if cur >= n or k > avail or width > self.mem.buf_size:
            raise ValueError(f"host tx: {k} packets of {width} bytes do not fit from "
                             f"cur={cur} with avail={avail}")
        idx = (cur + np.arange(k)) % n
        buf = nmb(self.mem, kr.slot_buf_idx[0, idx])
        copy = np.minimum(lengths, width)
        dma.scatter(self.mem.bufs, buf, copy, frames[np.arange(width) < copy[:, None]])
        kr.slot_len[0, idx] = lengths
        hdr["cur"][0] = (cur + k) % n
        hdr["avail"][0] = u32(avail - k)

    def grab_end(self) -> int:
        """Where the walk stops: as shipped ``cur + reserved`` (plus N if cur < reserved;
        u32, :func:`model.netmap_legacy_host.grab_end`), hardened ``cur``."""
        hdr = self.header["tx"]
        cur, res = int(hdr["cur"][0]), int(hdr["reserved"][0])
        if self.policy != AS_SHIPPED or res == 0:
            return cur
        return int(u32((cur + self.n if cur < res else cur) + res))

    def txsync_to_host(self) -> HostTxResult:
        """NIOCTXSYNC on the host TX ring, 2013."""
        kr, hdr, n = self.host.tx, self.header["tx"], self.n
        cur = int(hdr["cur"][0])
        if cur > n - 1:
            ring_reinit_2013(kr, hdr, self.hwavail["tx"], np.zeros(1, np.int64),
                             np.ones(1, bool))
            return HostTxResult(True, 0, 0, False, False)
        end = self.grab_end()
        if end >= n:
            lengths = kr.slot_len[0].astype(np.int64)
            return HostTxResult(False, 0, 0, True, bool(self._len_ok(lengths).any()))
        hwcur = int(kr.hwcur[0])
        published, grabbed = int(ring_dist(hwcur, cur, n)), int(ring_dist(hwcur, end, n))
        sent, bad = grab_walk(kr, 0, hwcur, grabbed, True, self.stack)
        self.stray += max(0, grabbed - published)
        self.lost += max(0, published - grabbed)
        kr.hwcur[0] = cur
        self.hwavail["tx"][0] = hdr["avail"][0] = n - 1
        kr.hwtail[0] = kr.rtail[0] = (cur - 1) % n
        kr.rhead[0] = kr.rcur[0] = cur
        return HostTxResult(False, sent, bad, False, False)

    def _len_ok(self, lengths: np.ndarray) -> np.ndarray:
        return len_ok(lengths, self.mem.buf_size)

    # ------------------------------------------------------------------ host RX

    def netmap_transmit(self, frames: np.ndarray,
                        lengths: np.ndarray | None = None) -> np.ndarray:
        """The stack hands netmap a batch of packets, in order (2013: copied straight into
        the ring).  Returns each one's errno: 0, or EBUSY (too long, or the ring full)."""
        frames, lengths = _batch(frames, lengths)
        k, width = frames.shape
        if k and lengths.max() > width:
            raise ValueError("lengths must give one length <= row width per frame")
        kr, n = self.host.rx, self.n
        hwavail = int(self.hwavail["rx"][0])
        fits = lengths <= self.mem.buf_size
        rank = np.cumsum(fits) - 1
        room = max(0, n - 1 - hwavail) if hwavail < n - 1 else 0
        queued = fits & (rank < room)
        m = int(queued.sum())
        pos = u32(int(kr.hwcur[0]) + hwavail + np.arange(m))
        pos = np.where(pos >= n, pos - n, pos)
        if m and pos.max() >= n:
            raise RuntimeError(f"2013 netmap_transmit would write slot {int(pos.max())} "
                               f"past the {n}-slot ring: {self!r}")
        buf = nmb(self.mem, kr.slot_buf_idx[0, pos])
        rows = frames[queued]
        dma.scatter(self.mem.bufs, buf, lengths[queued],
                    rows[np.arange(width) < lengths[queued, None]])
        kr.slot_len[0, pos] = lengths[queued]
        kr.slot_flags[0, pos] = 0
        self.hwavail["rx"][0] = hwavail + m
        self.accepted += m
        self.dropped += k - m
        return np.where(queued, 0, errno.EBUSY)

    def user_read(self, k: int, keep: int) -> list[bytes]:
        """The user reads ``k`` packets from cur (``cur += k``, ``avail -= k``) and keeps
        ``keep`` slots before the new cur (``reserved = keep``); returns their bytes.
        ValueError, nothing changed, unless ``k <= avail`` and ``keep <= reserved + k``."""
        hdr, kr, n = self.header["rx"], self.host.rx, self.n
        cur, avail, res = (int(hdr[f][0]) for f in ("cur", "avail", "reserved"))
        if cur >= n or not 0 <= k <= avail or not 0 <= keep <= res + k or k >= n:
            raise ValueError(f"host rx: cannot read {k} keeping {keep} from cur={cur}, "
                             f"avail={avail}, reserved={res}")
        idx = (cur + np.arange(k)) % n
        lengths = kr.slot_len[0, idx].astype(np.int64)
        data = dma.gather(self.mem.bufs, nmb(self.mem, kr.slot_buf_idx[0, idx]), lengths)
        hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = (cur + k) % n, u32(avail - k), keep
        out = FrameQueue()
        out.push(lengths, data)
        return out.frames()

    def rxsync_from_host(self) -> HostRxResult:
        """NIOCRXSYNC on the host RX ring, 2013 (hardened: the release point checked)."""
        kr, hdr, n = self.host.rx, self.header["rx"], self.n
        hwavail = self.hwavail["rx"]
        cur, avail, res = (int(hdr[f][0]) for f in ("cur", "avail", "reserved"))
        hwcur = int(kr.hwcur[0])
        refused = cur >= n
        if self.policy != AS_SHIPPED and not refused:
            behind = int(ring_dist(hwcur, cur, n)) if hwcur < n else n
            refused = behind > int(hwavail[0]) or res > behind
        if refused:
            ring_reinit_2013(kr, hdr, hwavail, np.zeros(1, np.int64), np.ones(1, bool))
            if self.policy != AS_SHIPPED:
                hdr["reserved"][0] = 0
            return HostRxResult(True, 0)
        resvd, k = (int(x[0]) for x in release_point_2013([cur], [avail], [res], n))
        moved = 0
        if k != hwcur:
            moved = k - hwcur if k >= hwcur else int(u32(k + n - hwcur))
            hwavail[0] = u32(int(hwavail[0]) - moved)
            kr.hwcur[0] = k
        self.released += moved
        hdr["reserved"][0] = resvd
        hdr["avail"][0] = u32(int(hwavail[0]) - resvd)
        return HostRxResult(False, moved)

    # ------------------------------------------------------------------ the model's view

    def abstract_tx(self) -> LegacyHostTx:
        """The host TX ring as :class:`model.netmap_legacy_host.LegacyHostTx`."""
        hdr = self.header["tx"]
        return LegacyHostTx(n=self.n, cur=int(hdr["cur"][0]), avail=int(hdr["avail"][0]),
                            reserved=int(hdr["reserved"][0]), hwcur=int(self.host.tx.hwcur[0]),
                            hwavail=int(self.hwavail["tx"][0]), stray=self.stray,
                            lost=self.lost)

    def abstract_rx(self) -> LegacyHostRx:
        """The host RX ring as :class:`model.netmap_legacy_host.LegacyHostRx`."""
        hdr = self.header["rx"]
        return LegacyHostRx(n=self.n, cur=int(hdr["cur"][0]), avail=int(hdr["avail"][0]),
                            reserved=int(hdr["reserved"][0]), hwcur=int(self.host.rx.hwcur[0]),
                            hwavail=int(self.hwavail["rx"][0]), accepted=self.accepted,
                            dropped=self.dropped, released=self.released)


# ---------------------------------------------------------------------- hardware RX


class ForwardUpResult(NamedTuple):
    sent: int
    """Slots copied up the stack."""
    unreleased: int
    """Slots the walk read that the user had not released (from cur - reserved on)."""
    nic_owned: int
    """Slots the walk read past nr_hwcur + nr_hwavail: the NIC's (empty or being
    written)."""
    hung: bool
    """As shipped: the walk's end is not a slot; the C never meets it.  Nothing read."""
    flood: bool
    """With ``hung``: some slot the walk would copy exists (m_devget until no mbufs)."""


def poll_forward_up(port: LegacyPort, q: int, force: bool, stack: FrameQueue,
                    policy: str = AS_SHIPPED) -> ForwardUpResult:
    """The 2013 netmap_poll on hardware RX ring ``q`` with NR_FORWARD (``force``: the
    global dev.netmap.fwd): before the ring's rxsync, netmap_grab_packets walks from
    nr_hwcur.  As shipped the walk ends at ``cur + reserved`` (u32, plus N when cur <
    reserved) and nothing checks that cur is a slot -- the rxsync that would reinit a bad
    cur runs after it.  Hardened it ends at the release point ``cur - reserved``
    (:func:`impl.netmap.legacy.release_point_2013`) and walks nothing unless cur is a
    slot and the release point lies within the kernel's received slots.  Slots stay
    where they are (the stack gets copies); the rxsync that follows is
    :meth:`LegacyPort.rxsync`.  Upstream:
    https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1780
    """
    check_policy(policy)
    kr, hdr, n = port.ad.rx, port.header["rx"], port.n
    cur, avail, res = (int(hdr[f][q]) for f in ("cur", "avail", "reserved"))
    hwcur, hwavail = int(kr.hwcur[q]), int(port.hwavail["rx"][q])
    k = int(release_point_2013([cur], [avail], [res], n)[1][0])
    released = int(ring_dist(hwcur, k, n)) if k < n else n
    if policy == AS_SHIPPED:
        end = int(grab_end(cur, res, n))
    else:
        sane = cur < n and k < n and released <= hwavail
        end = k if sane else hwcur
    if end >= n:
        wanted = np.ones(n, bool) if force else (kr.slot_flags[q] & NS_FORWARD) != 0
        ok = len_ok(kr.slot_len[q].astype(np.int64), kr.mem.buf_size)
        return ForwardUpResult(0, 0, 0, True, bool((wanted & ok).any()))
    walked = int(ring_dist(hwcur, end, n))
    sent, _ = grab_walk(kr, q, hwcur, walked, force, stack)
    nic_owned = max(0, walked - hwavail)
    unreleased = max(0, min(walked, hwavail) - min(released, hwavail))
    return ForwardUpResult(sent, unreleased, nic_owned, False, False)
