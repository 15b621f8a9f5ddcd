"""The netmap ring, modern API (NETMAP_API >= 10): head/cur/tail shared with the user,
hwcur/hwtail and rhead/rcur/rtail in the kernel ring, and the NIC's own pointer behind it.

Reference: shared/reference/netmap.md §1 (user API, ownership rules), §2 (kring fields,
nm_txsync_prologue, nm_rxsync_prologue, nm_sync_finalize, netmap_ring_reinit, netmap_reset,
the ioctl call sites) and §7 (where the code is looser than its documentation).

One ring of N slots (any N >= 2, symbolic in the proofs).  Going forward from ``hwcur``
the slots fall into consecutive regions::

    TX: [hwcur, rhead)  published by the user, not yet handed to the NIC   (pending)
        [rhead, rtail)  the user's free slots                               (user)
        [rtail, hwtail) reclaimed by the kernel, not yet shown to the user  (unshown)
        hwtail          the slot that is always kept empty                  (gap)
        (hwtail, nic)   completed by the NIC, not yet reclaimed             (completed)
        [nic, hwcur)    handed to the NIC, not yet completed                (in flight)

    RX: [hwcur, rhead)  released by the user, not yet given back to the NIC (pending)
        [rhead, rtail)  received packets the user holds                     (user)
        [rtail, hwtail) received, reported, not yet shown to the user       (unshown)
        [hwtail, nic)   filled by the NIC, not yet reported                 (ready)
        [nic, hwcur-1)  empty buffers the NIC may fill                      (free)
        hwcur-1         the slot that is always kept empty                  (gap)

``nic`` is the NIC's head register (TDH/RDH) translated to kring indices; the driver
writes its tail register from ``hwcur`` (TX: TDT = hwcur; RX: RDT = hwcur - 1).  ``busy``
is ghost state: the number of slots the device owns, kept as a count because ``nic ==
hwcur`` alone cannot tell an empty device ring from a full one.

Two prologue policies:

* **as-shipped**: nm_txsync_prologue / nm_rxsync_prologue / netmap_ring_reinit exactly as
  netmap.c has them (§2), looseness included: cur is not range-checked when the accepted
  interval wraps (§7.1); a rejected sync copies the user's head/cur/tail into the kring and
  only rolls back when an index is >= N (§7.2); RX stores rhead/rcur before validating and
  calls the driver even after a failed prologue (§7.3).
* **hardened**: the minimal fix.  Both prologues also require head < N and cur < N and
  validate *before* storing anything; reinit never reads the user's indices: it rewrites
  ring.head/cur/tail from the kernel's own rhead/rcur/rtail.  Everything else (the
  intervals, calling the driver after a failed RX prologue, finalize) is unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from model.core import (
    U32_MAX,
    And,
    Eq,
    If,
    Machine,
    Not,
    Or,
    Param,
    Step,
    Term,
    Var,
    cyclic_order,
    in_cyclic,
    in_range,
    ring_add,
    ring_dist,
    ring_next,
    ring_prev,
)

AS_SHIPPED = "as_shipped"
HARDENED = "hardened"
POLICIES = (AS_SHIPPED, HARDENED)


@dataclass(frozen=True)
class NetmapRing:
    """One netmap ring and its kring: user fields, kernel fields, device pointer, ghost."""

    n: Term
    head: Term
    cur: Term
    tail: Term
    hwcur: Term
    hwtail: Term
    rhead: Term
    rcur: Term
    rtail: Term
    nic: Term
    busy: Term

    def __repr__(self) -> str:
        return (
            f"NetmapRing(n={self.n}, user=(head={self.head}, cur={self.cur}, tail={self.tail}), "
            f"kring=(hwcur={self.hwcur}, hwtail={self.hwtail}, rhead={self.rhead}, "
            f"rcur={self.rcur}, rtail={self.rtail}), nic={self.nic}, busy={self.busy})"
        )

    def replace(self, **changes: Term) -> NetmapRing:
        return dataclasses.replace(self, **changes)


RING_VARS = (
    Var("n", "constant", "size", "num_slots / nkr_num_slots: slots in the ring (N >= 2)."),
    Var("head", "user", "u32", "ring->head: first slot the user owns; written by the user."),
    Var("cur", "user", "u32", "ring->cur: the user's wake-up point, head <= cur <= tail."),
    Var("tail", "user", "u32", "ring->tail: first kernel slot; written by the kernel only "
        "(the user can scribble it, the prologue restores it)."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: TX: next slot to hand to the NIC; RX: "
        "next slot to give back to the NIC."),
    Var("hwtail", "kernel", "index", "kring->nr_hwtail: TX: the always-empty slot; RX: first "
        "slot not yet reported as received."),
    Var("rhead", "kernel", "index", "kring->rhead: the kernel's validated copy of head."),
    Var("rcur", "kernel", "index", "kring->rcur: the kernel's validated copy of cur."),
    Var("rtail", "kernel", "index", "kring->rtail: the tail the kernel last showed the user."),
    Var("nic", "device", "index", "The NIC head register (TDH/RDH) in kring indices: TX: next "
        "slot the NIC completes; RX: next slot the NIC fills."),
    Var("busy", "ghost", "count", "Ghost: slots the device owns (TX in flight; RX empty "
        "buffers posted).  Needed because nic == hwcur aliases empty and full."),
)


def select(cond: Term, a: NetmapRing, b: NetmapRing) -> NetmapRing:
    """Field-wise ``If(cond, a, b)``."""
    if isinstance(cond, bool):
        return a if cond else b
    return NetmapRing(
        **{
            f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
            for f in dataclasses.fields(NetmapRing)
        }
    )


def clamp(k: Term, hi: Term) -> Term:
    """min(k, hi) for a driver that may do less than asked."""
    return If(k <= hi, k, hi)


# ---------------------------------------------------------------------------- region sizes


def tx_regions(s: NetmapRing) -> dict[str, Term]:
    """Sizes of the TX regions (module docstring), in ring order from hwcur."""
    return {
        "pending": ring_dist(s.hwcur, s.rhead, s.n),
        "user": ring_dist(s.rhead, s.rtail, s.n),
        "unshown": ring_dist(s.rtail, s.hwtail, s.n),
        "gap": 1,
        "completed": ring_dist(ring_next(s.hwtail, s.n), s.nic, s.n),
        "in_flight": ring_dist(s.nic, s.hwcur, s.n),
    }


def rx_regions(s: NetmapRing) -> dict[str, Term]:
    """Sizes of the RX regions (module docstring), in ring order from hwcur."""
    return {
        "pending": ring_dist(s.hwcur, s.rhead, s.n),
        "user": ring_dist(s.rhead, s.rtail, s.n),
        "unshown": ring_dist(s.rtail, s.hwtail, s.n),
        "ready": ring_dist(s.hwtail, s.nic, s.n),
        "free": ring_dist(s.nic, ring_prev(s.hwcur, s.n), s.n),
        "gap": 1,
    }


def user_space(s: NetmapRing) -> Term:
    """nm_ring_space(): slots in [head, tail) as the user computes it."""
    return ring_dist(s.head, s.tail, s.n)


# ---------------------------------------------------------------------------- prologues


def user_indices_in_range(s: NetmapRing) -> Term:
    return And(in_range(s.head, s.n), in_range(s.cur, s.n), in_range(s.tail, s.n))


def head_cur_accepted(policy: str, s: NetmapRing, lo: Term, hi: Term) -> Term:
    """Both prologues' test: head in the cyclic interval [lo .. hi], cur in [head .. hi].

    as-shipped is netmap.c's NM_FAIL_ON sequence literally, a straight and a wrapped case
    on the raw u32 values, followed by the caller's ``ret >= n`` test (NM_FAIL_ON returns
    n): when [lo .. hi] wraps and head >= lo, cur is never range-checked (§7.1).
    hardened is the same cyclic intervals with head and cur also required to be < N."""
    n, head, cur = s.n, s.head, s.cur
    if policy == AS_SHIPPED:
        straight = Or(head < lo, head > hi, cur < head, cur > hi)
        wrapped = Or(
            And(head > hi, head < lo),
            And(head <= hi, Or(cur < head, cur > hi)),
            And(head > hi, cur > hi, cur < head),
        )
        return And(Not(If(hi >= lo, straight, wrapped)), head < n)
    return And(
        in_range(head, n), in_range(cur, n), in_cyclic(lo, head, hi, n), in_cyclic(head, cur, hi, n)
    )


def _store_if_accepted(s: NetmapRing, accepted: Term) -> NetmapRing:
    """On success: ``rhead = head; rcur = cur`` and ``ring->tail = rtail`` (§7.6)."""
    return s.replace(
        rhead=If(accepted, s.head, s.rhead), rcur=If(accepted, s.cur, s.rcur),
        tail=If(accepted, s.rtail, s.tail),
    )


def nm_txsync_prologue(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    """TX prologue: after a sanity check of the kring, head in [rhead .. rtail] and cur in
    [head .. rtail], i.e. against what the user was last shown (§2, §7.4).

    Returns (accepted, state after the prologue)."""
    sane = Not(Or(s.hwcur >= s.n, s.rhead >= s.n, s.rtail >= s.n, s.hwtail >= s.n))
    accepted = And(sane, head_cur_accepted(policy, s, s.rhead, s.rtail))
    return accepted, _store_if_accepted(s, accepted)


def nm_rxsync_prologue(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    """RX prologue: after a sanity check, head in [hwcur .. hwtail] and cur in
    [head .. hwtail].

    as-shipped stores ``rhead = head; rcur = cur`` *before* validating (§2, §7.3), so a
    rejected head is already in the kring when reinit and the driver run; hardened
    validates first."""
    sane = Not(Or(s.hwcur >= s.n, s.hwtail >= s.n))
    accepted = And(sane, head_cur_accepted(policy, s, s.hwcur, s.hwtail))
    if policy == AS_SHIPPED:
        stored = s.replace(rhead=s.head, rcur=s.cur)
        return accepted, stored.replace(tail=If(accepted, s.rtail, s.tail))
    return accepted, _store_if_accepted(s, accepted)


def netmap_ring_reinit(policy: str, s: NetmapRing) -> NetmapRing:
    """Recover after a rejected sync (§2 netmap_ring_reinit; slot sanitising is in impl).

    as-shipped copies the user's head/cur/tail into rhead/rcur/rtail and resets all three
    to hwcur/hwtail only if one of them is > N-1 (§7.2).  hardened trusts only the
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
    """``ring->tail = kring->rtail = kring->nr_hwtail`` (§2 nm_sync_finalize)."""
    return s.replace(rtail=s.hwtail, tail=s.hwtail)


# ---------------------------------------------------------------------------- driver steps


def tx_driver_sync(s: NetmapRing, sent: Term) -> NetmapRing:
    """Driver txsync with NAF_FORCE_RECLAIM: hand up to ``sent`` of the published slots
    [hwcur, rhead) to the NIC (a driver whose link is down sends 0 and hwcur lags rhead,
    §7.8), then reclaim completions: hwtail = nic - 1."""
    k = clamp(sent, ring_dist(s.hwcur, s.rhead, s.n))
    return s.replace(
        hwcur=ring_add(s.hwcur, k, s.n), busy=s.busy + k, hwtail=ring_prev(s.nic, s.n)
    )


def rx_driver_sync(s: NetmapRing, refill: Term) -> NetmapRing:
    """Driver rxsync with NAF_FORCE_READ: report every filled slot (hwtail = nic), then
    give up to ``refill`` of the released slots [hwcur, rhead) back to the NIC as empty
    buffers (a driver that cannot map a buffer stops early and hwcur lags rhead, as ENA's
    refill pointer does, §7.8).  ixgbe and
    ENA first refuse rhead > N-1 with a reinit; after either prologue outcome rhead < N
    already (accepted heads are < N, reinit adopts only in-range values), so that guard
    never fires here and is left out."""
    k = clamp(refill, ring_dist(s.hwcur, s.rhead, s.n))
    return s.replace(hwtail=s.nic, hwcur=ring_add(s.hwcur, k, s.n), busy=s.busy + k)


# ---------------------------------------------------------------------------- the machines

TX = Machine(
    name="netmap_tx",
    title="netmap TX ring",
    state_type=NetmapRing,
    vars=RING_VARS,
    init=lambda n: NetmapRing(
        n=n, head=0, cur=0, tail=n - 1, hwcur=0, hwtail=n - 1, rhead=0, rcur=0, rtail=n - 1,
        nic=0, busy=0,
    ),
    doc="netmap_krings_create: rhead = rcur = hwcur = 0, rtail = hwtail = N-1 "
    "(\"IMPORTANT: Always keep one slot empty\"); nothing in flight.",
)

RX = Machine(
    name="netmap_rx",
    title="netmap RX ring",
    state_type=NetmapRing,
    vars=RING_VARS,
    init=lambda n: NetmapRing(
        n=n, head=0, cur=0, tail=0, hwcur=0, hwtail=0, rhead=0, rcur=0, rtail=0,
        nic=0, busy=n - 1,
    ),
    doc="netmap_krings_create: all indices 0; the driver posts N-1 empty buffers "
    "(RDT = hwcur - 1), keeping one slot empty.",
)

ADVANCE_PARAMS = (
    Param("dh", "count", "slots head moves forward"),
    Param("dc", "count", "slots cur lies beyond the new head"),
)
SCRIBBLE_PARAMS = (
    Param("head", "u32", "value written to ring->head"),
    Param("cur", "u32", "value written to ring->cur"),
    Param("tail", "u32", "value written to ring->tail"),
)


def _user_advance(s: NetmapRing, dh: Term, dc: Term) -> Step:
    guard = And(user_indices_in_range(s), dh >= 0, dc >= 0, dh + dc <= user_space(s))
    new_head = ring_add(s.head, dh, s.n)
    return Step(guard, s.replace(head=new_head, cur=ring_add(new_head, dc, s.n)))


def _user_scribble(s: NetmapRing, head: Term, cur: Term, tail: Term) -> Step:
    guard = And(*[And(v >= 0, v <= U32_MAX) for v in (head, cur, tail)])
    return Step(guard, s.replace(head=head, cur=cur, tail=tail))


@TX.transition(actor="user", params=ADVANCE_PARAMS)
def user_advance(s: NetmapRing, dh: Term, dc: Term) -> Step:
    """The user fills dh free slots and publishes them (head += dh), and sets cur dc slots
    beyond the new head.  Legal while head + dh + dc stays within [head, tail]."""
    return _user_advance(s, dh, dc)


@RX.transition(actor="user", params=ADVANCE_PARAMS, name="user_advance")
def rx_user_advance(s: NetmapRing, dh: Term, dc: Term) -> Step:
    """The user releases dh received slots (head += dh) and sets cur dc slots beyond the
    new head, e.g. to wait for more packets while holding earlier ones."""
    return _user_advance(s, dh, dc)


for _machine in (TX, RX):

    @_machine.transition(actor="adversary", view="breaks", params=SCRIBBLE_PARAMS)
    def user_scribble(s: NetmapRing, head: Term, cur: Term, tail: Term) -> Step:
        """An adversarial user writes arbitrary u32 values into ring->head, cur and tail."""
        return _user_scribble(s, head, cur, tail)


def compose_txsync(
    policy: str,
    s: NetmapRing,
    sent: Term,
    prologue: Callable[[str, NetmapRing], tuple[Term, NetmapRing]] = nm_txsync_prologue,
    driver: Callable[[NetmapRing, Term], NetmapRing] = tx_driver_sync,
    finalize: Callable[[NetmapRing], NetmapRing] = nm_sync_finalize,
) -> Step:
    """The NIOCTXSYNC path (§2 call sites): prologue; rejected -> reinit only; accepted ->
    driver txsync, then finalize.  The parts are parameters so mutants can swap one."""
    accepted, checked = prologue(policy, s)
    synced = finalize(driver(checked, sent))
    return Step(sent >= 0, select(accepted, synced, netmap_ring_reinit(policy, s)))


def compose_rxsync(
    policy: str,
    s: NetmapRing,
    refill: Term,
    prologue: Callable[[str, NetmapRing], tuple[Term, NetmapRing]] = nm_rxsync_prologue,
    driver: Callable[[NetmapRing, Term], NetmapRing] = rx_driver_sync,
    finalize: Callable[[NetmapRing], NetmapRing] = nm_sync_finalize,
) -> Step:
    """The NIOCRXSYNC path (§2 call sites): prologue; rejected -> reinit; then the driver
    rxsync in either case, then finalize."""
    accepted, checked = prologue(policy, s)
    prepared = select(accepted, checked, netmap_ring_reinit(policy, checked))
    return Step(refill >= 0, finalize(driver(prepared, refill)))


SYNC_PARAMS = (Param("sent", "count", "published slots the driver manages to hand to the NIC"),)
RXSYNC_PARAMS = (Param("refill", "count", "released slots the driver manages to give back"),)


@TX.transition(
    actor="kernel",
    view="restores",
    params=SYNC_PARAMS,
    breaks=("NM-TX-RANGE", "NM-TX-ORDER", "NM-TX-ONE-SLOT-EMPTY", "NM-TX-USER-VIEW"),
)
def txsync_as_shipped(s: NetmapRing, sent: Term) -> Step:
    """NIOCTXSYNC as shipped: nm_txsync_prologue; if it fails, netmap_ring_reinit only;
    otherwise the driver's txsync (send, reclaim) and nm_sync_finalize."""
    return compose_txsync(AS_SHIPPED, s, sent)


@TX.transition(actor="kernel", view="restores", params=SYNC_PARAMS)
def txsync_hardened(s: NetmapRing, sent: Term) -> Step:
    """NIOCTXSYNC with the hardened prologue and reinit; same composition."""
    return compose_txsync(HARDENED, s, sent)


@RX.transition(
    actor="kernel",
    view="restores",
    params=RXSYNC_PARAMS,
    breaks=(
        "NM-RX-RANGE", "NM-RX-ORDER", "NM-RX-ONE-SLOT-EMPTY", "NM-RX-PARTITION",
        "NM-RX-USER-VIEW",
    ),
)
def rxsync_as_shipped(s: NetmapRing, refill: Term) -> Step:
    """NIOCRXSYNC as shipped: nm_rxsync_prologue (stores first); on failure
    netmap_ring_reinit; then the driver's rxsync anyway (it reinits if rhead > N-1),
    then nm_sync_finalize."""
    return compose_rxsync(AS_SHIPPED, s, refill)


@RX.transition(actor="kernel", view="restores", params=RXSYNC_PARAMS)
def rxsync_hardened(s: NetmapRing, refill: Term) -> Step:
    """NIOCRXSYNC with the hardened prologue and reinit; same composition."""
    return compose_rxsync(HARDENED, s, refill)


@TX.transition(actor="device", params=(Param("k", "count", "slots the NIC completes"),))
def device_complete(s: NetmapRing, k: Term) -> Step:
    """The NIC completes the next k in-flight slots (TDH advances by k)."""
    guard = And(k >= 0, k <= ring_dist(s.nic, s.hwcur, s.n))
    return Step(guard, s.replace(nic=ring_add(s.nic, k, s.n), busy=s.busy - k))


@RX.transition(actor="device", params=(Param("k", "count", "packets the NIC receives"),))
def device_deliver(s: NetmapRing, k: Term) -> Step:
    """The NIC fills the next k empty buffers it owns, [nic, hwcur-1) (RDH advances)."""
    guard = And(k >= 0, k <= ring_dist(s.nic, ring_prev(s.hwcur, s.n), s.n))
    return Step(guard, s.replace(nic=ring_add(s.nic, k, s.n), busy=s.busy - k))


for _machine, _dir in ((TX, "TX"), (RX, "RX")):

    @_machine.transition(
        actor="kernel",
        view="restores",
        name="ring_reinit_as_shipped",
        breaks=(f"NM-{_dir}-ORDER", f"NM-{_dir}-ONE-SLOT-EMPTY", f"NM-{_dir}-USER-VIEW"),
    )
    def _reinit_as_shipped(s: NetmapRing) -> Step:
        """netmap_ring_reinit as shipped, called on its own (as drivers do on errors)."""
        return Step(True, netmap_ring_reinit(AS_SHIPPED, s))

    @_machine.transition(actor="kernel", view="restores", name="ring_reinit_hardened")
    def _reinit_hardened(s: NetmapRing) -> Step:
        """netmap_ring_reinit hardened, called on its own."""
        return Step(True, netmap_ring_reinit(HARDENED, s))


@TX.transition(actor="kernel", name="netmap_reset")
def tx_netmap_reset(s: NetmapRing) -> Step:
    """netmap_reset(TX) on a NIC ring reinit: pending and in-flight slots count as sent;
    hwcur = rhead, hwtail = rhead - 1, the NIC ring restarts empty at rhead (§2, §7.7)."""
    return Step(
        True,
        s.replace(hwcur=s.rhead, hwtail=ring_prev(s.rhead, s.n), nic=s.rhead, busy=0),
    )


@RX.transition(actor="kernel", name="netmap_reset")
def rx_netmap_reset(s: NetmapRing) -> Step:
    """netmap_reset(RX): unread slots [rhead, hwtail) stay with the user, hwcur = rhead;
    NIC slot 0 maps to hwtail, packets the NIC filled but nobody reported are dropped, and
    the driver posts every other slot as an empty buffer (§2)."""
    return Step(
        True,
        s.replace(
            hwcur=s.rhead, nic=s.hwtail,
            busy=ring_dist(s.hwtail, ring_prev(s.rhead, s.n), s.n),
        ),
    )


# ---------------------------------------------------------------------------- invariants

KRING_INDICES = ("hwcur", "hwtail", "rhead", "rcur", "rtail", "nic")


def kring_in_range(s: NetmapRing) -> Term:
    return And(*[in_range(getattr(s, f), s.n) for f in KRING_INDICES])


def user_view_consistent(s: NetmapRing) -> Term:
    return And(
        Eq(s.tail, s.rtail),
        in_range(s.head, s.n),
        in_range(s.cur, s.n),
        in_cyclic(s.rhead, s.head, s.rtail, s.n),
        in_cyclic(s.head, s.cur, s.rtail, s.n),
    )


for _machine in (TX, RX):
    _dir = "TX" if _machine is TX else "RX"
    _machine.invariant(
        f"NM-{_dir}-RANGE",
        "Every kernel index (hwcur, hwtail, rhead, rcur, rtail) and the NIC pointer is a "
        "valid slot index, 0 <= i < N.",
    )(kring_in_range)
    _machine.invariant(
        f"NM-{_dir}-USER-VIEW",
        "The user's head and cur lie in order within [rhead, rtail] and ring->tail is "
        "exactly the rtail the kernel last wrote.",
        scope="user",
    )(user_view_consistent)


@TX.invariant(
    "NM-TX-ORDER",
    "Going forward once around the ring from hwcur one meets rhead, rtail, the gap slot "
    "hwtail and the NIC pointer in that order, and rcur lies between rhead and rtail.",
)
def tx_order(s: NetmapRing) -> Term:
    return And(
        cyclic_order(
            [s.hwcur, s.rhead, s.rtail, s.hwtail, ring_next(s.hwtail, s.n), s.nic], s.n
        ),
        in_cyclic(s.rhead, s.rcur, s.rtail, s.n),
    )


@RX.invariant(
    "NM-RX-ORDER",
    "Going forward once around the ring from hwcur one meets rhead, rtail = hwtail, the "
    "NIC pointer and the gap slot hwcur-1 in that order, and rcur lies between rhead and "
    "rtail (RX hwtail only moves inside a sync, whose finalize copies it to rtail).",
)
def rx_order(s: NetmapRing) -> Term:
    return And(
        cyclic_order([s.hwcur, s.rhead, s.rtail, s.nic, ring_prev(s.hwcur, s.n)], s.n),
        Eq(s.rtail, s.hwtail),
        in_cyclic(s.rhead, s.rcur, s.rtail, s.n),
    )


def held_slots(regions: dict[str, Term], device_region: str, busy: Term) -> Term:
    """Slots somebody holds, counting the device's share by its own ghost count."""
    return sum(v for k, v in regions.items() if k not in ("gap", device_region)) + busy


@TX.invariant(
    "NM-TX-ONE-SLOT-EMPTY",
    "The user, the kernel and the NIC together hold exactly N-1 slots: slot hwtail is "
    "never handed to anyone, which is why a fresh TX ring starts with hwtail = N-1.",
)
def tx_one_slot_empty(s: NetmapRing) -> Term:
    return Eq(held_slots(tx_regions(s), "in_flight", s.busy), s.n - 1)


@RX.invariant(
    "NM-RX-ONE-SLOT-EMPTY",
    "The user, the kernel and the NIC together hold exactly N-1 slots: slot hwcur-1 is "
    "never given to the NIC, so it never overwrites a packet the user has not released.",
)
def rx_one_slot_empty(s: NetmapRing) -> Term:
    return Eq(held_slots(rx_regions(s), "free", s.busy), s.n - 1)


@TX.invariant(
    "NM-TX-PARTITION",
    "Ownership partitions the ring into pending, user, unshown, gap, completed and "
    "in-flight slots, and the device's own count of in-flight slots (ghost) is exactly "
    "the in-flight region [nic, hwcur).",
)
def tx_partition(s: NetmapRing) -> Term:
    return Eq(s.busy, tx_regions(s)["in_flight"])


@RX.invariant(
    "NM-RX-PARTITION",
    "Ownership partitions the ring into pending, user, unshown, ready, free slots and the "
    "gap, and the device's own count of empty buffers (ghost) is exactly the free region "
    "[nic, hwcur-1).",
)
def rx_partition(s: NetmapRing) -> Term:
    return Eq(s.busy, rx_regions(s)["free"])


MACHINES = (TX, RX)

#: The sync prologue of each machine, for the completeness/soundness obligations.
PROLOGUES = {TX.name: nm_txsync_prologue, RX.name: nm_rxsync_prologue}

#: Prologue obligations the as-shipped code is expected to fail (§7.1-7.3): a wrapped
#: interval lets cur >= N through, so the accepted state is not sound; a rejected sync
#: adopts the user's in-range indices, so reinit does not restore the invariants.
PROLOGUE_FINDINGS = {
    (TX.name, AS_SHIPPED): frozenset({"prologue-sound-accept", "prologue-sound-reject"}),
    (RX.name, AS_SHIPPED): frozenset({"prologue-sound-accept", "prologue-sound-reject"}),
}
