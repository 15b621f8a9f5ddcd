"""The netmap ring, modern API (NETMAP_API >= 10): head/cur/tail shared with the user,
hwcur/hwtail and rhead/rcur/rtail in the kernel ring, and the NIC's own pointer behind it.

Upstream (pinned permalinks, see model/sources.py): the user API and ownership rules of
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L285
and netmap(4); the kring
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L411);
nm_txsync_prologue
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1721),
nm_rxsync_prologue
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1785),
netmap_ring_reinit
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1847),
nm_sync_finalize
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2716),
netmap_reset
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392)
and the ioctl call sites
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3216).

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
  netmap.c has them, looseness included: cur is not range-checked when the accepted
  interval wraps; a head >= N that passes the wrapped-interval test is stored in the
  kring (and ring->tail restored) before the caller refuses it; a rejected sync copies
  the user's head/cur/tail into the kring and only rolls back when an index is >= N; RX
  stores rhead/rcur before validating and calls the driver even after a failed prologue.
* **hardened**: the minimal fix.  Both prologues also require head < N and cur < N and
  validate *before* storing anything; reinit never reads the user's indices: it rewrites
  ring.head/cur/tail from the kernel's own rhead/rcur/rtail.  Everything else (the
  intervals, calling the driver after a failed RX prologue, finalize) is unchanged.
"""


from __future__ import annotations

from model.core import (
    U32_MAX,
    And,
    Eq,
    Machine,
    Param,
    Step,
    Term,
    cyclic_order,
    in_cyclic,
    in_range,
    ring_add,
    ring_dist,
    ring_next,
    ring_prev,
)
from model.netmap_state import (
    RING_VARS,
    NetmapRing,
    busy_matches_registers,
    rx_regions,
    rx_tail_register,
    select,
    tx_regions,
    tx_tail_register,
    user_space,
)
from model.netmap_sync import (
    AS_SHIPPED,
    HARDENED,
    POLICIES,
    caller_accepts,
    compose_rxsync,
    compose_txsync,
    netmap_ring_reinit,
    nm_rxsync_prologue,
    nm_sync_finalize,
    nm_txsync_prologue,
    rx_driver_sync,
    tx_driver_sync,
    user_indices_in_range,
)

__all__ = [
    "AS_SHIPPED", "HARDENED", "MACHINES", "POLICIES", "PROLOGUES", "PROLOGUE_FINDINGS", "RX",
    "TX", "NetmapRing", "caller_accepts", "compose_rxsync", "compose_txsync", "netmap_ring_reinit",
    "nm_rxsync_prologue", "nm_sync_finalize", "nm_txsync_prologue", "rx_driver_sync",
    "rx_regions", "select", "tx_driver_sync", "tx_regions", "user_indices_in_range",
    "user_space",
]

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
        "NM-RX-BUSY-REGS", "NM-RX-USER-VIEW",
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
    hwcur = rhead, hwtail = rhead - 1, the NIC ring restarts empty at
    rhead (netmap_reset ignores its ``new_cur``)."""
    return Step(
        True,
        s.replace(hwcur=s.rhead, hwtail=ring_prev(s.rhead, s.n), nic=s.rhead, busy=0),
    )


@RX.transition(actor="kernel", name="netmap_reset")
def rx_netmap_reset(s: NetmapRing) -> Step:
    """netmap_reset(RX): unread slots [rhead, hwtail) stay with the user, hwcur = rhead;
    NIC slot 0 maps to hwtail, packets the NIC filled but nobody reported are dropped, and
    the driver posts every other slot as an empty buffer."""
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


@TX.invariant(
    "NM-TX-BUSY-REGS",
    "The device owns exactly as many slots as its registers say: busy is the ring "
    "distance from TDH (nic) to TDT (= hwcur), equal registers counting as empty or full "
    "as busy says.",
)
def tx_busy_regs(s: NetmapRing) -> Term:
    """What the NIC itself sees (ixgbe_netmap_txsync writes TDT from hwcur).
    NM-TX-PARTITION implies it; it is stated on its own because it is the one property a
    NIC checks, and the implementation checks it against its soft NIC's registers."""
    return busy_matches_registers(s.busy, s.nic, tx_tail_register(s), s.n)


@RX.invariant(
    "NM-RX-BUSY-REGS",
    "The device owns exactly as many empty buffers as its registers say: busy is the ring "
    "distance from RDH (nic) to RDT (= hwcur - 1), equal registers counting as empty or "
    "full as busy says.",
)
def rx_busy_regs(s: NetmapRing) -> Term:
    """What the NIC itself sees (ixgbe_netmap_rxsync writes RDT one slot behind hwcur).
    NM-RX-PARTITION implies it; stated on its own for the same reason as on TX."""
    return busy_matches_registers(s.busy, s.nic, rx_tail_register(s), s.n)


MACHINES = (TX, RX)

#: The sync prologue of each machine, for the completeness/soundness obligations.
PROLOGUES = {TX.name: nm_txsync_prologue, RX.name: nm_rxsync_prologue}

#: Prologue obligations the as-shipped code is expected to fail (the findings): a wrapped
#: interval lets cur >= N through, so the accepted state is not sound; a rejected sync
#: adopts the user's in-range indices, so reinit does not restore the invariants; a
#: refused sync has already changed the kring (TX: a head >= N that passed the NM_FAIL_ON
#: tests is stored and ring->tail restored; RX: head and cur are always stored first, and
#: ring->tail restored as on TX), which the following reinit hides from the user but not
#: from code looking at the kring in between.
PROLOGUE_FINDINGS = {
    (machine.name, AS_SHIPPED): frozenset({
        "prologue-sound-accept", "prologue-sound-reject", "prologue-reject-keeps-kring",
        "prologue-reject-keeps-tail",
    })
    for machine in (TX, RX)
}
