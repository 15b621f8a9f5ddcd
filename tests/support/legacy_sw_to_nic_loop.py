"""The ring-at-a-time ``netmap_sw_to_nic`` of 2013: the loop
:func:`impl.netmap.legacy_sw_to_nic.sw_to_nic` had before it was vectorized over the
walk's rings, kept verbatim as a differential oracle for
``tests/unit/test_legacy_sw_to_nic_vectorized.py``.  It walks the 2013 kring array one
ring at a time through :func:`impl.netmap.legacy_sw_to_nic.kring_at` (each ring its own
``Ring`` view, its own kring array) and swaps the ``m`` pairs of one ring at once; it
shares with the implementation only ``kring_at``, ``released_2013``, ``MAX_RUN`` and the
result type.  Not for use outside the tests."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.netmap.kring import Krings
from impl.netmap.layout import NS_BUF_CHANGED
from impl.netmap.legacy import LegacyPort, u32
from impl.netmap.legacy_host import LegacyHostPort
from impl.netmap.legacy_sw_to_nic import (
    MAX_RUN,
    Ring,
    SwToNicResult,
    kring_at,
    released_2013,
)
from impl.netmap.prologue import AS_SHIPPED, check_policy
from impl.netmap.ranges import ring_dist


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




def sw_to_nic_loop(port: LegacyPort, host: LegacyHostPort,
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
