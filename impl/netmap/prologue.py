"""The sync prologues and nm_sync_finalize, vectorized over a batch of rings.

Upstream: NM_FAIL_ON
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1693),
nm_txsync_prologue
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1721),
nm_rxsync_prologue
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1785)
and nm_sync_finalize
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2716).
Where the shipped code is looser than the cyclic-interval rules, see the findings in the
docs.

Policies (model/netmap_ring.py): ``as_shipped`` evaluates netmap.c's NM_FAIL_ON sequence
literally on the raw u32 values, plus the callers' ``ret >= n`` test; ``hardened``
checks the cyclic intervals and also requires head < N and cur < N, validating before it
stores anything.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.kring import Krings
from impl.netmap.ranges import in_cyclic
from model.netmap_ring import AS_SHIPPED, HARDENED

POLICIES = (AS_SHIPPED, HARDENED)


def check_policy(policy: str) -> str:
    """Return ``policy`` if it is a known policy name, else raise ValueError."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    return policy


def head_cur_accepts(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Both prologues' test, per ring: head in [lo .. hi], cur in [head .. hi].

    as_shipped: netmap.c's straight / wrapped NM_FAIL_ON tests on the raw values, then
    the callers' ``ret >= n`` (head < n); hardened: the cyclic intervals with head < N and
    cur < N."""
    check_policy(policy)
    if policy == AS_SHIPPED:
        straight = (head < lo) | (head > hi) | (cur < head) | (cur > hi)
        wrapped = (
            ((head > hi) & (head < lo))
            | ((head <= hi) & ((cur < head) | (cur > hi)))
            | ((head > hi) & (cur > hi) & (cur < head))
        )
        return ~np.where(hi >= lo, straight, wrapped) & (head < n)
    return (head < n) & (cur < n) & in_cyclic(lo, head, hi, n) & in_cyclic(head, cur, hi, n)


def tx_prologue_accepts(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, hwcur: np.ndarray,
    hwtail: np.ndarray, rhead: np.ndarray, rtail: np.ndarray,
) -> np.ndarray:
    """Whether nm_txsync_prologue accepts (per ring): kernel sanity (netmap.c
    L1720-1770), then head in [rhead .. rtail] and cur in [head .. rtail]."""
    sane = (hwcur < n) & (rhead < n) & (rtail < n) & (hwtail < n)
    return sane & head_cur_accepts(policy, n, head, cur, rhead, rtail)


def rx_prologue_accepts(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, hwcur: np.ndarray,
    hwtail: np.ndarray,
) -> np.ndarray:
    """Whether nm_rxsync_prologue accepts (per ring): kernel sanity (netmap.c
    L1784-1831), then head in [hwcur .. hwtail] and cur in [head .. hwtail]."""
    sane = (hwcur < n) & (hwtail < n)
    return sane & head_cur_accepts(policy, n, head, cur, hwcur, hwtail)


def nm_txsync_prologue(policy: str, kr: Krings, rings: np.ndarray) -> np.ndarray:
    """Run the TX prologue on ``rings``; returns the accepted mask.

    Reads ring->head and ring->cur once.  On acceptance: restore ``ring->tail = rtail``
    (the user may have scribbled it: tail is kernel-owned) and store
    ``rhead = head; rcur = cur``.  A
    rejected ring is left untouched (the caller runs netmap_ring_reinit)."""
    head = kr.ring_head[rings].astype(np.int64)
    cur = kr.ring_cur[rings].astype(np.int64)
    acc = tx_prologue_accepts(
        policy, kr.num_slots, head, cur, kr.hwcur[rings], kr.hwtail[rings],
        kr.rhead[rings], kr.rtail[rings],
    )
    ok = rings[acc]
    kr.ring_tail[ok] = kr.rtail[ok]
    kr.rhead[ok] = head[acc]
    kr.rcur[ok] = cur[acc]
    return acc


def nm_rxsync_prologue(policy: str, kr: Krings, rings: np.ndarray) -> np.ndarray:
    """Run the RX prologue on ``rings``; returns the accepted mask.

    as_shipped stores ``rcur = cur; rhead = head`` for every ring *before* validating
    (finding: RX stores before validating); hardened stores only on acceptance.  Accepted
    rings get ``ring->tail = rtail``."""
    head = kr.ring_head[rings].astype(np.int64)
    cur = kr.ring_cur[rings].astype(np.int64)
    if policy == AS_SHIPPED:
        kr.rcur[rings] = cur
        kr.rhead[rings] = head
    acc = rx_prologue_accepts(
        policy, kr.num_slots, head, cur, kr.hwcur[rings], kr.hwtail[rings]
    )
    ok = rings[acc]
    kr.ring_tail[ok] = kr.rtail[ok]
    if policy != AS_SHIPPED:
        kr.rhead[ok] = head[acc]
        kr.rcur[ok] = cur[acc]
    return acc


def nm_sync_finalize(kr: Krings, rings: np.ndarray) -> None:
    """``ring->tail = kring->rtail = kring->nr_hwtail`` (netmap.c L2715-2728)."""
    kr.rtail[rings] = kr.hwtail[rings]
    kr.ring_tail[rings] = kr.hwtail[rings]
