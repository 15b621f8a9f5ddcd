"""The kernel side of a sync, step by step: the two prologues, netmap_ring_reinit,
nm_sync_finalize, the driver's txsync/rxsync, and how NIOCTXSYNC / NIOCRXSYNC chain them.

Upstream: nm_txsync_prologue
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1721),
nm_rxsync_prologue
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1785),
netmap_ring_reinit
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1847),
nm_sync_finalize
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2716)
and the call sites in netmap_ioctl
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3216)
and netmap_poll
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3818).
A prologue is modelled as the C has it: when no NM_FAIL_ON fires it stores and returns
head, else it returns N; the *caller* refuses the sync when the value is >= N.
Every function takes a policy: ``as_shipped`` is netmap.c as it is, ``hardened`` the minimal
fix (see model/netmap_ring.py's docstring for both).
"""

from __future__ import annotations

from collections.abc import Callable

from model.core import (
    And,
    If,
    Not,
    Or,
    Step,
    Term,
    in_cyclic,
    in_range,
    ring_add,
    ring_dist,
    ring_prev,
)
from model.netmap_state import NetmapRing, clamp, select

AS_SHIPPED = "as_shipped"
HARDENED = "hardened"
POLICIES = (AS_SHIPPED, HARDENED)


def user_indices_in_range(s: NetmapRing) -> Term:
    return And(in_range(s.head, s.n), in_range(s.cur, s.n), in_range(s.tail, s.n))


def head_cur_passes(policy: str, s: NetmapRing, lo: Term, hi: Term) -> Term:
    """Both prologues' user checks: head in the cyclic interval [lo .. hi], cur in
    [head .. hi].  True when no NM_FAIL_ON fires.

    as-shipped is netmap.c's NM_FAIL_ON sequence literally (nm_txsync_prologue L1744-1761,
    nm_rxsync_prologue L1807-1823): a straight and a wrapped case on the raw u32 values.
    Nothing here asks for head < N: when [lo .. hi] wraps, every head >= N passes (it is
    "not strictly between hi and lo") and so does every cur outside (hi, head).  Such a
    head is refused only by the caller's ``ret >= n`` test (:func:`caller_accepts`), after
    the prologue has stored it; such a cur is refused by nobody.
    hardened is the same cyclic intervals with head and cur also required to be < N, so
    whatever passes is accepted."""
    n, head, cur = s.n, s.head, s.cur
    if policy == AS_SHIPPED:
        straight = Or(head < lo, head > hi, cur < head, cur > hi)
        wrapped = Or(
            And(head > hi, head < lo),
            And(head <= hi, Or(cur < head, cur > hi)),
            And(head > hi, cur > hi, cur < head),
        )
        return Not(If(hi >= lo, straight, wrapped))
    return And(
        in_range(head, n), in_range(cur, n), in_cyclic(lo, head, hi, n), in_cyclic(head, cur, hi, n)
    )


def prologue_return(s: NetmapRing, passes: Term) -> Term:
    """What both prologues return: ``head`` when no NM_FAIL_ON fired, else NM_FAIL_ON's
    ``kring->nkr_num_slots``."""
    return If(passes, s.head, s.n)


def caller_accepts(result: tuple[Term, NetmapRing]) -> Term:
    """The callers' test on a prologue's ``(return value, state after)``: the sync goes
    ahead iff ``ret < nkr_num_slots``; otherwise they call netmap_ring_reinit
    (netmap_ioctl NIOCTXSYNC / NIOCRXSYNC, netmap_poll's txsync and rxsync)."""
    ret, after = result
    return ret < after.n


def nm_txsync_prologue(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    """TX prologue: after a sanity check of the kring, head in [rhead .. rtail] and cur in
    [head .. rtail], i.e. against what the user was last shown, not against hwcur/hwtail.

    When every check passes: ``ring->tail = rtail`` (tail is kernel-owned; a scribble is
    repaired), ``rhead = head; rcur = cur``, return head.  As shipped this includes a
    head >= N that passed the wrapped-interval test: the kring then holds it until the
    caller, seeing ``ret >= n``, calls netmap_ring_reinit.  Hardened, what passes is a
    slot, so a refused sync leaves the kring untouched.

    Returns (return value, state after the prologue); :func:`caller_accepts` is the
    callers' test."""
    sane = Not(Or(s.hwcur >= s.n, s.rhead >= s.n, s.rtail >= s.n, s.hwtail >= s.n))
    passes = And(sane, head_cur_passes(policy, s, s.rhead, s.rtail))
    after = s.replace(
        rhead=If(passes, s.head, s.rhead), rcur=If(passes, s.cur, s.rcur),
        tail=If(passes, s.rtail, s.tail),
    )
    return prologue_return(s, passes), after


def nm_rxsync_prologue(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    """RX prologue: after a sanity check, head in [hwcur .. hwtail] and cur in
    [head .. hwtail]; when every check passes ``ring->tail = rtail`` and it returns head.

    as-shipped stores ``rcur = cur; rhead = head`` *before* any check, so a refused head
    is already in the kring when reinit and the driver run; a head >= N that passed the
    wrapped-interval test also gets ring->tail restored before the caller refuses it.
    hardened validates first and stores only what it accepts.

    Returns (return value, state after the prologue)."""
    sane = Not(Or(s.hwcur >= s.n, s.hwtail >= s.n))
    passes = And(sane, head_cur_passes(policy, s, s.hwcur, s.hwtail))
    if policy == AS_SHIPPED:
        stored = s.replace(rhead=s.head, rcur=s.cur)
    else:
        stored = s.replace(rhead=If(passes, s.head, s.rhead), rcur=If(passes, s.cur, s.rcur))
    return prologue_return(s, passes), stored.replace(tail=If(passes, s.rtail, s.tail))


def netmap_ring_reinit(policy: str, s: NetmapRing) -> NetmapRing:
    """Recover after a rejected sync (netmap_ring_reinit; slot sanitising is in impl).

    as-shipped copies the user's head/cur/tail into rhead/rcur/rtail and resets all three
    to hwcur/hwtail only if one of them is > N-1.  hardened trusts only the
    kring: ring.head/cur/tail are rewritten from rhead/rcur/rtail."""
    if policy == AS_SHIPPED:
        errors = Or(s.head >= s.n, s.cur >= s.n, s.tail >= s.n)
        adopted = s.replace(rhead=s.head, rcur=s.cur, rtail=s.tail)
        reset = s.replace(
            head=s.hwcur, rhead=s.hwcur, cur=s.hwcur, rcur=s.hwcur, tail=s.hwtail, rtail=s.hwtail
        )
        return select(errors, reset, adopted)
    return s.replace(head=s.rhead, cur=s.rcur, tail=s.rtail)


def nm_sync_finalize(s: NetmapRing) -> NetmapRing:
    """``ring->tail = kring->rtail = kring->nr_hwtail`` (nm_sync_finalize)."""
    return s.replace(rtail=s.hwtail, tail=s.hwtail)


# ---------------------------------------------------------------------------- driver steps


def tx_driver_sync(s: NetmapRing, sent: Term) -> NetmapRing:
    """Driver txsync with NAF_FORCE_RECLAIM: hand up to ``sent`` of the published slots
    [hwcur, rhead) to the NIC (a driver whose link is down sends 0 and hwcur lags rhead,
    as ena_netmap_txsync does), then reclaim completions: hwtail = nic - 1."""
    k = clamp(sent, ring_dist(s.hwcur, s.rhead, s.n))
    return s.replace(
        hwcur=ring_add(s.hwcur, k, s.n), busy=s.busy + k, hwtail=ring_prev(s.nic, s.n)
    )


def rx_driver_sync(s: NetmapRing, refill: Term) -> NetmapRing:
    """Driver rxsync with NAF_FORCE_READ: report every filled slot (hwtail = nic), then
    give up to ``refill`` of the released slots [hwcur, rhead) back to the NIC as empty
    buffers (a driver that cannot map a buffer stops early and hwcur lags rhead, as ENA's
    refill pointer does).  ixgbe and
    ENA first refuse rhead > N-1 with a reinit; after either prologue outcome rhead < N
    already (accepted heads are < N, reinit adopts only in-range values), so that guard
    never fires here and is left out."""
    k = clamp(refill, ring_dist(s.hwcur, s.rhead, s.n))
    return s.replace(hwtail=s.nic, hwcur=ring_add(s.hwcur, k, s.n), busy=s.busy + k)


# ---------------------------------------------------------------------------- ioctl paths


def compose_txsync(
    policy: str,
    s: NetmapRing,
    sent: Term,
    prologue: Callable[[str, NetmapRing], tuple[Term, NetmapRing]] = nm_txsync_prologue,
    driver: Callable[[NetmapRing, Term], NetmapRing] = tx_driver_sync,
    finalize: Callable[[NetmapRing], NetmapRing] = nm_sync_finalize,
) -> Step:
    """The NIOCTXSYNC path (netmap_ioctl): prologue; ``ret >= n`` -> reinit (on the kring
    as the prologue left it) only; else driver txsync, then finalize.  The parts are
    parameters so mutants can swap one."""
    result = prologue(policy, s)
    checked = result[1]
    synced = finalize(driver(checked, sent))
    return Step(
        sent >= 0,
        select(caller_accepts(result), synced, netmap_ring_reinit(policy, checked)),
    )


def compose_rxsync(
    policy: str,
    s: NetmapRing,
    refill: Term,
    prologue: Callable[[str, NetmapRing], tuple[Term, NetmapRing]] = nm_rxsync_prologue,
    driver: Callable[[NetmapRing, Term], NetmapRing] = rx_driver_sync,
    finalize: Callable[[NetmapRing], NetmapRing] = nm_sync_finalize,
) -> Step:
    """The NIOCRXSYNC path (netmap_ioctl): prologue; ``ret >= n`` -> reinit; then the
    driver rxsync in either case, then finalize."""
    result = prologue(policy, s)
    checked = result[1]
    prepared = select(caller_accepts(result), checked, netmap_ring_reinit(policy, checked))
    return Step(refill >= 0, finalize(driver(prepared, refill)))
