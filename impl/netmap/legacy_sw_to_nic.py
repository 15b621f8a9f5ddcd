"""The 2013 ``netmap_sw_to_nic`` over real rings: transparent mode swaps the host RX ring's
packets into the NIC's TX rings, on a :class:`impl.netmap.legacy.LegacyPort` (the
hardware rings) and a :class:`impl.netmap.legacy_host.LegacyHostPort` (the host rings) of
one adapter.  The spec is :mod:`model.netmap_legacy_sw_to_nic`, whose docstring reads
the C; ``tests/unit/test_legacy_sw_to_nic.py`` compares the two.

As shipped (netmap.c of 95b478cf,
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L802):
``howmany = nr_hwavail``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L817);
iteration ``i < num_tx_rings`` works on kring ``tx_rings[2i]`` (the for's ``k1++`` and
the body's,
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L845),
in the one array netmap_krings_create lays out
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L431):
NIC TX rings ``0 .. T-1``, the host TX ring at ``T``, NIC RX rings at ``T+1 .. T+R``, the
host RX ring at ``T+R+1``, nothing after (:func:`kring_at`).  On each, while ``howmany >
0`` and the user's ``ring->avail > 0``, slot ``nr_hwcur`` of the host RX ring
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L825)
and slot ``ring->cur`` of that ring exchange ``buf_idx``; ``len`` is copied to the
destination, both get ``flags = NS_BUF_CHANGED``; ``nr_hwcur`` and ``cur`` advance with
nm_next (u32), ``nr_hwavail``, ``howmany`` and the user's ``avail`` drop by one.  After
each ring the host RX ring's user ``cur`` is set to ``nr_hwcur``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L844).

Vectorized: the ``m = min(howmany, avail)`` swaps on one ring are done at once over the
slot range (the loop is over rings only).  Both indices advance together, so pair ``j``
and pair ``j + N`` are the same slots; a pair swapped an even number of times keeps its
buffers, and the destination's ``len`` is the source's, which the C never changes.  Where
the C indexes outside an array -- ``nr_hwcur`` or the destination's ``cur`` not a slot,
or ``k1`` past the kring array -- it reads and writes foreign kernel memory; here the walk
stops before that access and the result names it (``oob``), as the grab reports ``hung``.
A walk that reaches the host RX kring itself (``2i = T+R+1``, possible when ``T >= R +
3``) swaps slots of one ring with each other; that is not emulated either: it stops and
says ``own_ring``.

Hardened (:data:`model.netmap_legacy_sw_to_nic.HARDENED_POLICY`): only the slots the user
released, ``[nr_hwcur, cur - reserved)``, after today's nm_rxsync_prologue checks;
each NIC TX ring once, in order, and into it at most the slots its kring counts free
(``nr_hwavail - dist(nr_hwcur, cur)``) and its user's avail; the host RX ring's ``cur`` is
left alone.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.netmap.kring import Krings
from impl.netmap.layout import NS_BUF_CHANGED
from impl.netmap.legacy import LegacyPort, u32
from impl.netmap.legacy_host import LegacyHostPort
from impl.netmap.prologue import AS_SHIPPED, check_policy
from impl.netmap.ranges import ring_dist


class Ring(NamedTuple):
    """One kring of the 2013 array as the walk sees it: its slots (``kr``, ring ``q``),
    the user's header row and the kring's ``nr_hwavail``."""

    name: str
    kr: Krings
    q: int
    header: np.ndarray
    hwavail: np.ndarray


class SwToNicResult(NamedTuple):
    sent: int
    """Packets swapped out of the host RX ring."""
    per_kring: dict[int, int]
    """Swaps into each kring index the walk visited (0 .. T-1 are the NIC TX rings)."""
    unreleased: int
    """Packets sent that the user had not released (from cur - reserved on)."""
    stale: int
    """Packets sent from slots the stack never filled (nr_hwavail past N-1)."""
    overfill: int
    """NIC TX slots filled that their kring does not count free."""
    misrouted: int
    """Packets put into a kring that is not a NIC TX ring."""
    skipped: int
    """NIC TX rings the walk jumped over while it had packets left."""
    oob: tuple[str, int, int] | None
    """The first access outside an array, where the walk stopped: ("src", kring,
    nr_hwcur), ("dst", kring, cur) or ("kring", kring, 0)."""
    own_ring: bool
    """The walk reached the host RX kring itself and stopped there."""


def kring_at(port: LegacyPort, host: LegacyHostPort, j: int) -> Ring | None:
    """Kring ``j`` of the 2013 array ``tx_rings[]``: NIC TX, host TX, NIC RX, host RX, or
    None past the end."""
    t, r = port.ad.tx.count, port.ad.rx.count
    if j < t:
        return Ring("tx", port.ad.tx, j, port.header["tx"][j:j + 1], port.hwavail["tx"][j:j + 1])
    if j == t:
        return Ring("host_tx", host.host.tx, 0, host.header["tx"], host.hwavail["tx"])
    if j <= t + r:
        q = j - t - 1
        return Ring("rx", port.ad.rx, q, port.header["rx"][q:q + 1], port.hwavail["rx"][q:q + 1])
    if j == t + r + 1:
        return Ring("host_rx", host.host.rx, 0, host.header["rx"], host.hwavail["rx"])
    return None


def released_2013(host: LegacyHostPort) -> int:
    """The slots the user gave back, ``dist(nr_hwcur, cur) - reserved``, if nr_hwcur and
    cur are slots, cur lies within the kernel's packets and reserved behind it; else 0
    (:func:`model.netmap_legacy_sw_to_nic.released`)."""
    hdr, n = host.header["rx"], host.n
    cur, res = int(hdr["cur"][0]), int(hdr["reserved"][0])
    hwcur, hwavail = int(host.host.rx.hwcur[0]), int(host.hwavail["rx"][0])
    if hwcur >= n or cur >= n:
        return 0
    behind = int(ring_dist(hwcur, cur, n))
    return behind - res if behind <= hwavail and res <= behind else 0


def tx_free(ring: Ring, n: int) -> int:
    """Slots from the user's cur that the kring counts free: ``nr_hwavail - dist(nr_hwcur,
    cur)`` on a sane kring, else 0 (:func:`model.netmap_legacy_sw_to_nic.tx_free`)."""
    cur, hwcur = int(ring.header["cur"][0]), int(ring.kr.hwcur[ring.q])
    hwavail = int(ring.hwavail[0])
    if cur >= n or hwcur >= n or hwavail > n - 1:
        return 0
    return max(0, hwavail - int(ring_dist(hwcur, cur, n)))


def swap_range(src: Krings, dst: Ring, start: int, dcur: int, m: int, n: int) -> None:
    """``m`` iterations of the C's body between host RX slots from ``start`` and slots of
    ``dst`` from ``dcur`` (both slots, two different rings), vectorized: pair ``j`` is
    exchanged ``ceil((m - j) / N)`` times, so it ends swapped iff that is odd."""
    a = np.arange(min(m, n), dtype=np.int64)
    s_idx, d_idx = (start + a) % n, (dcur + a) % n
    odd = ((m - a + n - 1) // n) % 2 == 1
    sb = src.slot_buf_idx[0, s_idx].copy()
    db = dst.kr.slot_buf_idx[dst.q, d_idx].copy()
    src.slot_buf_idx[0, s_idx[odd]] = db[odd]
    dst.kr.slot_buf_idx[dst.q, d_idx[odd]] = sb[odd]
    dst.kr.slot_len[dst.q, d_idx] = src.slot_len[0, s_idx]
    src.slot_flags[0, s_idx] = NS_BUF_CHANGED
    dst.kr.slot_flags[dst.q, d_idx] = NS_BUF_CHANGED


class Ghosts(NamedTuple):
    """Per-swap judgements of m swaps on one ring, summed (the model's ghosts)."""

    stale: int
    overfill: int


def judge(host: LegacyHostPort, ring: Ring, m: int) -> Ghosts:
    """The model's per-swap ghost tests for swaps ``0 .. m-1`` on ``ring``, all at once:
    swap ``a`` reads host RX slot ``nr_hwcur + a`` with ``nr_hwavail - a`` packets left,
    and fills slot ``cur + a`` of ``ring`` (both indices slots)."""
    n = host.n
    a = np.arange(m, dtype=np.int64)
    left = u32(int(host.hwavail["rx"][0]) - a)
    stale = int((~((left >= 1) & (left <= n - 1))).sum())
    over = 0
    if ring.name == "tx":
        hc, ha = int(ring.kr.hwcur[ring.q]), int(ring.hwavail[0])
        dst = (int(ring.header["cur"][0]) + a) % n
        free = (hc < n) & (ha <= n - 1) & (ring_dist(hc % n, dst, n) < ha)
        over = int((~free).sum())
    return Ghosts(stale, over)


#: Swaps on one ring the walk does here at most; a longer run (only as shipped, with a
#: wrapped nr_hwavail and a user-written avail: up to 2^32 - 1 iterations with the q_lock
#: held) is refused with OverflowError before anything moves on that ring.
MAX_RUN = 1 << 16


def sw_to_nic(port: LegacyPort, host: LegacyHostPort,
              policy: str = AS_SHIPPED) -> SwToNicResult:
    """The 2013 netmap_sw_to_nic (as shipped) or the hardened walk on the adapter behind
    ``port`` and ``host``, with the host RX kring's q_lock held (nothing else runs)."""
    check_policy(policy)
    shipped = policy == AS_SHIPPED
    n, t = port.n, port.ad.tx.count
    hrx, hhdr = host.host.rx, host.header["rx"]
    hwavail = host.hwavail["rx"]
    sane = int(hwavail[0]) <= n - 1
    rel = released_2013(host)  # what the user had released when the walk started
    howmany = int(hwavail[0]) if shipped else (rel if sane else 0)
    per: dict[int, int] = {}
    sent = unreleased = stale = overfill = misrouted = skipped = 0
    oob: tuple[str, int, int] | None = None
    own = False
    i = j = 0
    while howmany > 0 and i < t:
        ring = kring_at(port, host, j)
        if ring is None:
            oob = ("kring", j, 0)
            break
        hwcur, avail = int(hrx.hwcur[0]), int(ring.header["avail"][0])
        dcur = int(ring.header["cur"][0])
        m = min(howmany, avail) if shipped else min(howmany, avail, tx_free(ring, n))
        if m > 0:
            if ring.name == "host_rx":
                own = True
                break
            if hwcur >= n or dcur >= n:
                oob = ("src", j, hwcur) if hwcur >= n else ("dst", j, dcur)
                break
            if m > MAX_RUN:
                raise OverflowError(f"the 2013 walk would swap {m} times on kring {j}")
            g = judge(host, ring, m)
            unreleased, rel = unreleased + max(0, m - rel), max(0, rel - m)
            stale += g.stale
            overfill += g.overfill
            misrouted += 0 if ring.name == "tx" else m
            swap_range(hrx, ring, hwcur, dcur, m, n)
            per[j] = m
            sent += m
            hrx.hwcur[0] = (hwcur + m) % n
            hwavail[0] = u32(int(hwavail[0]) - m)
            howmany -= m
            ring.header["cur"][0] = (dcur + m) % n
            ring.header["avail"][0] = u32(avail - m)
        if shipped:
            hhdr["cur"][0] = int(hrx.hwcur[0])  # kring->ring->cur = kring->nr_hwcur
        step = 2 if shipped else 1
        i, j = i + 1, j + step
        if howmany > 0 and i < t and step > 1 and j - 1 < t:
            skipped += 1
    return SwToNicResult(sent, per, unreleased, stale, overfill, misrouted, skipped, oob,
                         own)
