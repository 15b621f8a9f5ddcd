"""The sync prologues and nm_sync_finalize, vectorized over a batch of rings.

Reference: shared/reference/netmap.md §2 "NM_FAIL_ON", "nm_txsync_prologue",
"nm_rxsync_prologue", "nm_sync_finalize", and §7.1 / §7.3 (where the shipped code is
looser than the cyclic-interval rules).

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


def tx_prologue_accepts(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, hwcur: np.ndarray,
    hwtail: np.ndarray, rhead: np.ndarray, rtail: np.ndarray,
) -> np.ndarray:
    """Whether nm_txsync_prologue accepts (per ring); all arguments are int64 arrays.

    as_shipped (netmap.c L1720-1770): kernel sanity, then the straight / wrapped
    NM_FAIL_ON tests against rhead/rtail, then the caller's ``ret >= n`` (head < n)."""
    insane = (hwcur >= n) | (rhead >= n) | (rtail >= n) | (hwtail >= n)
    if policy == AS_SHIPPED:
        straight = (head < rhead) | (head > rtail) | (cur < head) | (cur > rtail)
        wrapped = (
            ((head > rtail) & (head < rhead))
            | ((head <= rtail) & ((cur < head) | (cur > rtail)))
            | ((head > rtail) & (cur > rtail) & (cur < head))
        )
        fail = insane | np.where(rtail >= rhead, straight, wrapped)
        return ~fail & (head < n)
    check_policy(policy)
    return (
        ~insane
        & (head < n)
        & (cur < n)
        & in_cyclic(rhead, head, rtail, n)
        & in_cyclic(head, cur, rtail, n)
    )


def rx_prologue_accepts(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, hwcur: np.ndarray,
    hwtail: np.ndarray,
) -> np.ndarray:
    """Whether nm_rxsync_prologue accepts (per ring): head in [hwcur .. hwtail], cur in
    [head .. hwtail]; as_shipped literally as netmap.c L1784-1831 (+ ``ret >= n``)."""
    insane = (hwcur >= n) | (hwtail >= n)
    if policy == AS_SHIPPED:
        straight = (head < hwcur) | (head > hwtail) | (cur < head) | (cur > hwtail)
        wrapped = (
            ((head < hwcur) & (head > hwtail))
            | ((head <= hwtail) & ((cur < head) | (cur > hwtail)))
            | ((head > hwtail) & (cur < head) & (cur > hwtail))
        )
        fail = insane | np.where(hwtail >= hwcur, straight, wrapped)
        return ~fail & (head < n)
    check_policy(policy)
    return (
        ~insane
        & (head < n)
        & (cur < n)
        & in_cyclic(hwcur, head, hwtail, n)
        & in_cyclic(head, cur, hwtail, n)
    )


def nm_txsync_prologue(policy: str, kr: Krings, rings: np.ndarray) -> np.ndarray:
    """Run the TX prologue on ``rings``; returns the accepted mask.

    Reads ring->head and ring->cur once.  On acceptance: restore ``ring->tail = rtail``
    (the user may have scribbled it, §7.6) and store ``rhead = head; rcur = cur``.  A
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
    (§7.3); hardened stores only on acceptance.  Accepted rings get ``ring->tail = rtail``."""
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
