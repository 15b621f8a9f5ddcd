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
literally on the raw u32 values, stores when it passes and returns head (else N), and the
callers refuse ``ret >= n``; ``hardened`` checks the cyclic intervals and also requires
head < N and cur < N, validating before it stores anything.

Everything here takes a batch of rings (:mod:`impl.netmap.batch`): an int64 array of ring
ids with per-ring arrays, or one ring as an ``int`` with Python ints; the verdict
functions are the same expressions on both.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.batch import Rings, get, logical_not, pick, select, where
from impl.netmap.kring import Krings
from impl.netmap.ranges import in_cyclic
from model.netmap_ring import AS_SHIPPED, HARDENED

POLICIES = (AS_SHIPPED, HARDENED)


def check_policy(policy: str) -> str:
    """Return ``policy`` if it is a known policy name, else raise ValueError."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    return policy


def head_cur_passes(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Both prologues' user checks, per ring: head in [lo .. hi], cur in [head .. hi]
    (model.netmap_sync.head_cur_passes).

    as_shipped: netmap.c's straight / wrapped NM_FAIL_ON tests on the raw values; nothing
    asks for head < n (the callers' ``ret >= n`` does, after the stores).  hardened: the
    cyclic intervals with head < N and cur < N."""
    check_policy(policy)
    if policy == AS_SHIPPED:
        straight = (head < lo) | (head > hi) | (cur < head) | (cur > hi)
        wrapped = (
            ((head > hi) & (head < lo))
            | ((head <= hi) & ((cur < head) | (cur > hi)))
            | ((head > hi) & (cur > hi) & (cur < head))
        )
        return logical_not(where(hi >= lo, straight, wrapped))
    return (head < n) & (cur < n) & in_cyclic(lo, head, hi, n) & in_cyclic(head, cur, hi, n)


def tx_prologue_passes(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, hwcur: np.ndarray,
    hwtail: np.ndarray, rhead: np.ndarray, rtail: np.ndarray,
) -> np.ndarray:
    """Whether no NM_FAIL_ON of nm_txsync_prologue fires (per ring): kernel sanity
    (netmap.c L1732), then head in [rhead .. rtail] and cur in [head .. rtail]."""
    sane = (hwcur < n) & (rhead < n) & (rtail < n) & (hwtail < n)
    return sane & head_cur_passes(policy, n, head, cur, rhead, rtail)


def rx_prologue_passes(
    policy: str, n: int, head: np.ndarray, cur: np.ndarray, hwcur: np.ndarray,
    hwtail: np.ndarray,
) -> np.ndarray:
    """Whether no NM_FAIL_ON of nm_rxsync_prologue fires (per ring): kernel sanity
    (netmap.c L1804), then head in [hwcur .. hwtail] and cur in [head .. hwtail]."""
    sane = (hwcur < n) & (hwtail < n)
    return sane & head_cur_passes(policy, n, head, cur, hwcur, hwtail)


def caller_accepts(kr: Krings, ret: np.ndarray | int) -> np.ndarray | bool:
    """The callers' test on a prologue's return values: go ahead iff ``ret < n``, else
    netmap_ring_reinit (netmap_ioctl, netmap_poll)."""
    return ret < kr.num_slots


def nm_txsync_prologue(policy: str, kr: Krings, rings: Rings) -> np.ndarray | int:
    """Run the TX prologue on ``rings``; returns what it returns per ring: head when no
    NM_FAIL_ON fires, else N (:func:`caller_accepts` is the callers' test).

    Reads ring->head and ring->cur once.  When the checks pass: restore ``ring->tail =
    rtail`` (the user may have scribbled it: tail is kernel-owned) and store ``rhead =
    head; rcur = cur``.  As shipped that includes a head >= N that passed the
    wrapped-interval test, which the caller then refuses; hardened, a refused ring is
    left untouched."""
    head = get(kr.ring_head, rings)
    cur = get(kr.ring_cur, rings)
    passes = tx_prologue_passes(
        policy, kr.num_slots, head, cur, get(kr.hwcur, rings), get(kr.hwtail, rings),
        get(kr.rhead, rings), get(kr.rtail, rings),
    )
    ok = select(rings, passes)
    kr.ring_tail[ok] = kr.rtail[ok]
    kr.rhead[ok] = pick(head, passes)
    kr.rcur[ok] = pick(cur, passes)
    return where(passes, head, kr.num_slots)


def nm_rxsync_prologue(policy: str, kr: Krings, rings: Rings) -> np.ndarray | int:
    """Run the RX prologue on ``rings``; returns head per ring when no NM_FAIL_ON fires,
    else N.

    as_shipped stores ``rcur = cur; rhead = head`` for every ring *before* validating
    (finding: RX stores before validating); hardened stores only what passes.  Rings
    that pass get ``ring->tail = rtail`` (as shipped, also a head >= N the caller then
    refuses)."""
    head = get(kr.ring_head, rings)
    cur = get(kr.ring_cur, rings)
    if policy == AS_SHIPPED:
        kr.rcur[rings] = cur
        kr.rhead[rings] = head
    passes = rx_prologue_passes(
        policy, kr.num_slots, head, cur, get(kr.hwcur, rings), get(kr.hwtail, rings)
    )
    ok = select(rings, passes)
    kr.ring_tail[ok] = kr.rtail[ok]
    if policy != AS_SHIPPED:
        kr.rhead[ok] = pick(head, passes)
        kr.rcur[ok] = pick(cur, passes)
    return where(passes, head, kr.num_slots)


def nm_sync_finalize(kr: Krings, rings: Rings) -> None:
    """``ring->tail = kring->rtail = kring->nr_hwtail`` (netmap.c L2715-2728)."""
    hwtail = get(kr.hwtail, rings)
    kr.rtail[rings] = hwtail
    kr.ring_tail[rings] = hwtail
