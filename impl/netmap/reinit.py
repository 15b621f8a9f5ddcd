"""netmap_ring_reinit and netmap_reset (the kring side), vectorized over rings.

Upstream: netmap_ring_reinit
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1847)
and netmap_reset
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392).
"""

from __future__ import annotations

import numpy as np

from impl.netmap.kring import Krings
from impl.netmap.prologue import AS_SHIPPED, check_policy
from impl.netmap.ranges import ring_prev


def sanitize_slots(kr: Krings, rings: np.ndarray) -> np.ndarray:
    """Step 3 of netmap_ring_reinit, for every slot of ``rings``: ``buf_idx < 2 ||
    buf_idx >= nbufs`` -> buf_idx = 0, len = 0; else ``len > buf_size`` -> len = 0.

    These repairs are not counted as errors.  Returns the number of slots repaired per
    ring (diagnostics only)."""
    if rings.size == 0:
        return np.zeros(0, dtype=np.int64)
    buf = kr.slot_buf_idx[rings]
    length = kr.slot_len[rings]
    bad_buf = ~kr.mem.valid_buf(buf)
    bad_len = ~bad_buf & (length > kr.mem.buf_size)
    buf[bad_buf] = 0
    length[bad_buf | bad_len] = 0
    kr.slot_buf_idx[rings] = buf
    kr.slot_len[rings] = length
    return (bad_buf | bad_len).sum(axis=1).astype(np.int64)


def netmap_ring_reinit(policy: str, kr: Krings, rings: np.ndarray) -> np.ndarray:
    """Recover ``rings`` after a rejected sync; returns the per-ring "reset" flag.

    as_shipped: copy the user's head/cur/tail into rhead/rcur/rtail; only if one of them
    is > N-1, reset ring and kring to head = cur = hwcur, tail = hwtail
    (finding: a rejected sync adopts the user's in-range indices).
    hardened: never read the user's indices; rewrite ring->head/cur/tail from
    rhead/rcur/rtail.  Both then sanitise every slot
    (buf_idx < 2 or past the pool -> 0, oversized len -> 0)."""
    check_policy(policy)
    rings = np.asarray(rings, dtype=np.int64)
    if rings.size == 0:
        return np.zeros(0, dtype=bool)
    n = kr.num_slots
    if policy == AS_SHIPPED:
        head = kr.ring_head[rings].astype(np.int64)
        cur = kr.ring_cur[rings].astype(np.int64)
        tail = kr.ring_tail[rings].astype(np.int64)
        errors = (head >= n) | (cur >= n) | (tail >= n)
        hwcur = kr.hwcur[rings]
        hwtail = kr.hwtail[rings]
        new_head = np.where(errors, hwcur, head)
        new_cur = np.where(errors, hwcur, cur)
        new_tail = np.where(errors, hwtail, tail)
        kr.rhead[rings] = new_head
        kr.rcur[rings] = new_cur
        kr.rtail[rings] = new_tail
        kr.ring_head[rings] = new_head
        kr.ring_cur[rings] = new_cur
        kr.ring_tail[rings] = new_tail
    else:
        errors = np.ones(rings.size, dtype=bool)
        kr.ring_head[rings] = kr.rhead[rings]
        kr.ring_cur[rings] = kr.rcur[rings]
        kr.ring_tail[rings] = kr.rtail[rings]
    sanitize_slots(kr, rings)
    return errors


def netmap_reset(kr: Krings, rings: np.ndarray) -> None:
    """The kring side of netmap_reset, called by the driver when it reinitialises NIC
    rings: NIC slot 0 maps to kring slot ``new_hwofs``.

    TX: ``hwofs = rhead``, ``hwcur = rhead``, ``hwtail = rhead - 1`` (pending and in-flight
    slots count as sent; ``new_cur`` is ignored).  RX: ``hwofs = hwtail``, ``hwcur = rhead``,
    hwtail kept
    (unread slots stay with the user).  The driver then restarts its NIC ring."""
    rhead = kr.rhead[rings]
    if kr.is_tx:
        kr.nkr_hwofs[rings] = rhead
        kr.hwtail[rings] = ring_prev(rhead, kr.num_slots)
    else:
        kr.nkr_hwofs[rings] = kr.hwtail[rings]
    kr.hwcur[rings] = rhead
