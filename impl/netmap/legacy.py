"""The 2013 netmap API (cur / avail / reserved, ``nr_hwavail``) as a personality of the soft
NIC's rings: the same krings, slots, buffers and device as :class:`NetmapAdapter`, the
user's view the 2013 ring header, and the syncs those of the 2013 ixgbe driver with their
``uint32_t`` arithmetic.  The model is :mod:`model.netmap_legacy`; the stateful test
``tests/stateful/test_legacy_rings.py`` runs it in lockstep with the model and, for a
well-behaved user, against a modern adapter through the refinement mapping.

The header (:data:`LEGACY_RING_DTYPE`) is byte-exact to netmap.h of 2013 (buf_ofs 0,
num_slots 8, avail 12, cur 16, reserved 20, nr_buf_size 24, flags 26, ts 32, slots at 48);
it is kept beside today's shared memory, whose slots (at offset 256 of each ring) it
shares.  ``nr_hwavail`` is a ``uint32_t`` per kring, and the driver keeps its own NIC
index where the TX reclaim and the RX import start (ixgbe's ``next_to_clean``,
``next_to_check``).  The modern kring fields are kept as
the refinement reads them: ``hwtail = hwcur + hwavail``, ``rhead = hwcur``, ``rtail =
hwtail`` (mod N).

**txsync** (ixgbe_netmap_txsync with NAF_FORCE_RECLAIM, NIOCTXSYNC): ``cur > N-1`` ->
netmap_ring_reinit.  A slot of [hwcur, cur) without a real buffer or longer than the
buffer -> ring_reset (netmap_ring_reinit) before anything is handed over.  Else every slot
of [hwcur, cur) goes to the NIC (the long way round when cur is behind hwcur: the legacy
finding), ``hwcur = cur``, ``nr_hwavail -= sent``, TDT written; then the reclaim adds the
completed slots, and a result past N-1 is a ring_reset that skips ``ring->avail =
nr_hwavail``.

**rxsync** (ixgbe_netmap_rxsync with NAF_FORCE_READ): ``cur > N-1`` -> reinit.  Import
every filled slot (``len`` from the descriptor, ``flags = 0``), ``nr_hwavail += n``;
``reserved`` is zeroed when ``reserved + avail >= N`` (u32), the release point is ``k =
cur - reserved`` (u32, wrapping by N); [hwcur, k) go back to the NIC (a slot without a
real buffer -> ring_reset, after the import), ``nr_hwavail -= n``, ``hwcur = k``, RDT = k
- 1; ``ring->avail = nr_hwavail - reserved``.  A release point past the ring (``k >= N``,
possible when a huge ``avail`` wraps the sum below N) makes the C loop forever; here the
ring is reported ``hung`` and left as it was.

**netmap_ring_reinit** (2013): every slot is checked (a ``buf_idx`` that is not a real
buffer -> 0 and ``len = 0``, a ``len`` past the buffer -> 0); if ``cur > N-1`` or any slot
was bad, ``cur = hwcur`` and ``avail = hwavail``.

Upstream (netmap 95b478cf):
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/net/netmap.h#L213
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/ixgbe_netmap.h#L193
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/ixgbe_netmap.h#L415
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1127
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.driver import FORCE, rx_driver_sync, tx_driver_sync
from impl.netmap.kring import Krings
from impl.netmap.layout import NS_REPORT, TIMEVAL_DTYPE, U32_MAX
from impl.netmap.ranges import flat_ranges, ring_dist
from model.netmap_legacy import LegacyRing

LEGACY_RING_DTYPE = np.dtype(
    {
        "names": ["buf_ofs", "num_slots", "avail", "cur", "reserved", "nr_buf_size", "flags",
                  "ts"],
        "formats": ["<i8", "<u4", "<u4", "<u4", "<u4", "<u2", "<u2", TIMEVAL_DTYPE],
        "offsets": [0, 8, 12, 16, 20, 24, 26, 32],
        "itemsize": 48,
    }
)
"""``struct netmap_ring`` of 2013 up to ``slot[0]`` (offset 48)."""


class LegacySyncResult(NamedTuple):
    rings: np.ndarray
    reinit: np.ndarray
    """Per ring: netmap_ring_reinit ran (``cur > N-1``, a bad slot, or a TX reclaim past
    N-1) -- whether or not it then changed cur and avail."""
    moved: np.ndarray
    """Per ring: slots handed to the NIC (TX sent, RX released)."""
    hung: np.ndarray
    """Per ring: the 2013 release loop would never end (RX only); nothing was done."""


def u32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.int64) & U32_MAX


def legacy_view(kr: Krings) -> tuple[np.ndarray, np.ndarray]:
    """The 2013 ring headers and ``nr_hwavail`` of krings ``kr`` as they stand: ``cur =
    hwcur``, ``avail = nr_hwavail = hwtail - hwcur`` (mod N), buffer offset and sizes
    from today's headers."""
    hdr = np.zeros(kr.count, dtype=LEGACY_RING_DTYPE)
    hdr["buf_ofs"] = kr.headers["buf_ofs"]
    hdr["num_slots"] = kr.num_slots
    hdr["nr_buf_size"] = kr.headers["nr_buf_size"]
    hwavail = ring_dist(kr.hwcur, kr.hwtail, kr.num_slots).astype(np.int64)
    hdr["cur"] = kr.hwcur
    hdr["avail"] = hwavail
    return hdr, hwavail


def ring_reinit_2013(kr: Krings, hdr: np.ndarray, hwavail: np.ndarray, r: np.ndarray,
                     force: np.ndarray) -> np.ndarray:
    """The 2013 netmap_ring_reinit on rings ``r`` of ``kr`` (2013 headers ``hdr``, kring
    ``nr_hwavail``): repair every slot (a ``buf_idx`` that is not a real buffer -> 0 and
    ``len = 0``, a ``len`` past the buffer -> 0); where ``force`` (``cur > N-1``) or a slot
    was bad, ``cur = hwcur, avail = hwavail``.  Returns the rings' "reset" flag."""
    r = np.asarray(r, dtype=np.int64)
    buf = kr.slot_buf_idx[r].astype(np.int64)
    length = kr.slot_len[r].astype(np.int64)
    no_buf = ~kr.mem.valid_buf(buf)
    long = ~no_buf & (length > kr.mem.buf_size)
    kr.slot_buf_idx[r] = np.where(no_buf, 0, buf)
    kr.slot_len[r] = np.where(no_buf | long, 0, length)
    errors = np.asarray(force, dtype=bool) | (no_buf | long).any(axis=1)
    e = r[errors]
    hdr["cur"][e] = kr.hwcur[e]
    hdr["avail"][e] = hwavail[e]
    return errors


def release_point_2013(cur: np.ndarray, avail: np.ndarray, reserved: np.ndarray,
                       n: int) -> tuple[np.ndarray, np.ndarray]:
    """(reserved after the check, k): the 2013 rxsyncs' ``resvd + avail >= N`` test and
    ``k = cur >= resvd ? cur - resvd : cur + N - resvd``, all in u32
    (:func:`model.netmap_legacy.rx_release_point`)."""
    res = np.asarray(reserved, dtype=np.int64)
    avail = np.asarray(avail, dtype=np.int64)
    cur = np.asarray(cur, dtype=np.int64)
    resvd = np.where((res > 0) & (u32(res + avail) >= n), 0, res)
    k = np.where(resvd > 0, np.where(cur >= resvd, cur - resvd, u32(cur + n - resvd)), cur)
    return resvd, k


class LegacyPort:
    """The 2013 API over every hardware ring of ``adapter``."""

    def __init__(self, adapter: NetmapAdapter) -> None:
        self.ad = adapter
        self.n = adapter.num_slots
        self.header: dict[str, np.ndarray] = {}
        self.hwavail: dict[str, np.ndarray] = {}
        self.next_to: dict[str, np.ndarray] = {}
        """The driver's own NIC index (TX ``next_to_clean``, RX ``next_to_check``):
        where the reclaim / import starts.  Equal to ``k2n(hwcur + hwavail (+ 1 on TX))``
        while the legacy invariants hold; kept apart, as the C keeps it, for the states a
        misbehaving user reaches."""
        for kind in ("tx", "rx"):
            kr = adapter.krings(kind)
            self.header[kind], self.hwavail[kind] = legacy_view(kr)
            self.next_to[kind] = np.asarray(self.ad.device(kind).head, dtype=np.int64).copy()
            self._mirror(kind, np.arange(kr.count))

    def __repr__(self) -> str:
        return "LegacyPort(" + ", ".join(
            f"{k}=(cur={h['cur'].tolist()}, avail={h['avail'].tolist()}, "
            f"reserved={h['reserved'].tolist()}, hwcur={self.ad.krings(k).hwcur.tolist()}, "
            f"hwavail={self.hwavail[k].tolist()})" for k, h in self.header.items()) + ")"

    # ------------------------------------------------------------------ helpers

    def _mirror(self, kind: str, r: np.ndarray) -> None:
        """The modern kring fields as the refinement reads a legacy kring."""
        kr = self.ad.krings(kind)
        kr.hwtail[r] = (kr.hwcur[r] + self.hwavail[kind][r]) % self.n
        kr.rhead[r] = kr.rcur[r] = kr.hwcur[r]
        kr.rtail[r] = kr.hwtail[r]

    def _bad_slots(self, kr: Krings, r: np.ndarray, start: np.ndarray, count: np.ndarray,
                   check_len: bool) -> np.ndarray:
        """Per ring of ``r``: a slot of [start, start + count) has no real buffer (or, with
        ``check_len``, a length past the buffer)."""
        seg, _, idx = flat_ranges(start, count, self.n)
        ring_of = r[seg]
        buf = kr.slot_buf_idx[ring_of, idx].astype(np.int64)
        bad = ~kr.mem.valid_buf(buf)
        if check_len:
            bad |= kr.slot_len[ring_of, idx] > kr.mem.buf_size
        return np.bincount(seg[bad], minlength=r.size) > 0

    def reinit(self, kind: str, r: np.ndarray, force: np.ndarray) -> np.ndarray:
        """The 2013 netmap_ring_reinit on rings ``r`` (:func:`ring_reinit_2013`)."""
        return ring_reinit_2013(self.ad.krings(kind), self.header[kind], self.hwavail[kind],
                                r, force)

    # ------------------------------------------------------------------ syncs

    def txsync(self, rings: object = None) -> LegacySyncResult:
        """NIOCTXSYNC of 2013 on a batch of TX rings (None = all)."""
        kr, dev, hdr = self.ad.tx, self.ad.txdev, self.header["tx"]
        hwavail, n = self.hwavail["tx"], self.n
        r = np.unique(kr.check_rings(rings))
        cur = hdr["cur"][r].astype(np.int64)
        wild = cur > n - 1
        hwcur = kr.hwcur[r]
        sent = np.where(wild, 0, ring_dist(hwcur, np.where(wild, 0, cur), n))
        bad = ~wild & self._bad_slots(kr, r, hwcur, sent, check_len=True)
        reinit = wild | bad
        self.reinit("tx", r[reinit], wild[reinit])
        go = ~(wild | bad)
        g, sent = r[go], sent[go]
        moved = np.zeros(r.size, dtype=np.int64)
        if g.size:
            kr.rhead[g] = cur[go]
            tx_driver_sync(kr, dev, g, sent, FORCE)
            seg, _, idx = flat_ranges((kr.hwcur[g] - sent) % n, sent, n)
            kr.slot_flags[g[seg], idx] &= np.uint16(0xFFFF ^ NS_REPORT)
            clean = self.next_to["tx"]
            completed = ring_dist(clean[g], dev.head[g], n)
            clean[g] = dev.head[g]
            hwavail[g] = u32(u32(hwavail[g] - sent) + completed)
            overflow = (completed > 0) & (hwavail[g] > n - 1)
            self.reinit("tx", g[overflow], np.zeros(int(overflow.sum()), dtype=bool))
            reinit[np.flatnonzero(go)[overflow]] = True
            ok = g[~overflow]
            hdr["avail"][ok] = hwavail[ok]
            moved[go] = sent
            self._mirror("tx", g)
        return LegacySyncResult(r, reinit, moved, np.zeros(r.size, dtype=bool))

    def release_point(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(reserved after the 2013 check, k) for RX rings ``r`` (u32 arithmetic)."""
        hdr = self.header["rx"]
        return release_point_2013(hdr["cur"][r], hdr["avail"][r], hdr["reserved"][r], self.n)

    def rxsync(self, rings: object = None) -> LegacySyncResult:
        """NIOCRXSYNC of 2013 on a batch of RX rings (None = all)."""
        kr, dev, hdr = self.ad.rx, self.ad.rxdev, self.header["rx"]
        hwavail, n = self.hwavail["rx"], self.n
        r = np.unique(kr.check_rings(rings))
        wild = hdr["cur"][r].astype(np.int64) > n - 1
        resvd, k = self.release_point(r)
        hung = ~wild & (k >= n)
        reinit = wild.copy()
        self.reinit("rx", r[wild], np.ones(int(wild.sum()), dtype=bool))
        go = ~wild & ~hung
        g, resvd, k = r[go], resvd[go], k[go]
        moved = np.zeros(r.size, dtype=np.int64)
        if g.size:
            check = self.next_to["rx"]
            kr.hwtail[g] = kr.n2k(g, check[g])
            ready = ring_dist(check[g], dev.head[g], n)
            check[g] = dev.head[g]
            released = ring_dist(kr.hwcur[g], k, n)
            bad = self._bad_slots(kr, g, kr.hwcur[g], released, check_len=False)
            kr.rhead[g] = np.where(bad, kr.hwcur[g], k)
            rx_driver_sync(kr, dev, g, np.where(bad, 0, released))
            hwavail[g] = u32(hwavail[g] + ready)
            hdr["reserved"][g] = resvd
            self.reinit("rx", g[bad], np.zeros(int(bad.sum()), dtype=bool))
            reinit[np.flatnonzero(go)[bad]] = True
            ok, res_ok, rel_ok = g[~bad], resvd[~bad], released[~bad]
            hwavail[ok] = u32(hwavail[ok] - rel_ok)
            hdr["avail"][ok] = u32(hwavail[ok] - res_ok)
            moved[np.flatnonzero(go)[~bad]] = rel_ok
            self._mirror("rx", g)
        return LegacySyncResult(r, reinit, moved, hung)

    # ------------------------------------------------------------------ the model's view

    def abstract(self, kind: str, q: int) -> LegacyRing:
        """Ring ``q`` as :class:`model.netmap_legacy.LegacyRing`."""
        kr, hdr = self.ad.krings(kind), self.header[kind]
        m = self.ad.abstract(kind, q)
        return LegacyRing(n=self.n, cur=int(hdr["cur"][q]), avail=int(hdr["avail"][q]),
                          reserved=int(hdr["reserved"][q]), hwcur=int(kr.hwcur[q]),
                          hwavail=int(self.hwavail[kind][q]), nic=m.nic, busy=m.busy)

    def load(self, kind: str, q: int, state: LegacyRing) -> None:
        """Put ring ``q`` into ``state`` (test support): the device and kring through
        :meth:`NetmapAdapter.load` (of the modern ring with the same kernel and device
        fields), then the 2013 fields, which may hold any u32."""
        from model.netmap_legacy import to_modern

        fields = ("cur", "avail", "reserved", "hwavail")
        if not all(0 <= int(getattr(state, f)) <= U32_MAX for f in fields):
            raise ValueError(f"{fields} are u32 fields: {state}")
        kernel = state.replace(cur=state.hwcur, avail=0, reserved=0,
                               hwavail=int(state.hwavail) % self.n)
        self.ad.load(kind, q, to_modern(kernel))
        hdr = self.header[kind]
        hdr["cur"][q], hdr["avail"][q] = int(state.cur), int(state.avail)
        hdr["reserved"][q] = int(state.reserved)
        self.hwavail[kind][q] = int(state.hwavail)
        kr = self.ad.krings(kind)
        tail = (int(state.hwcur) + int(state.hwavail) + int(kr.is_tx)) % self.n
        self.next_to[kind][q] = int(kr.k2n(q, tail))
        self._mirror(kind, np.array([q]))
