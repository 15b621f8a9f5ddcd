"""Entering and leaving netmap mode on one RX ring: the classic protocol and the 2015 RFC.

**Classic** (what drivers do today): NIOCREGIF, in ``netmap_do_regif``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2570),
calls the driver's ``nm_register``, which takes the interface down, flushes the ring, swaps
every NIC buffer for a netmap buffer (``netmap_reset`` and the refill) and brings the
interface up again; the last close, in ``netmap_do_unregif``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1042),
does the mirror.  ENA's ``ena_netmap_reg`` is ``ena_down`` -> per-ring ``nr_mode`` ->
``nm_set_native_flags`` -> ``ena_up``, whose refill posts ``ring_size - 1`` netmap buffers
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L274);
iflib's ``iflib_netmap_register`` is ``iflib_stop`` -> ``nm_set_native_flags`` ->
``iflib_init_locked``.  The link goes down, and packets the NIC had received but nobody had
taken are dropped with the flush.

**The RFC** (Luigi Rizzo, "RFC: revising netmap ring initialization", freebsd-net,
1 Oct 2015; never merged): the interface stays up and keeps the stack's buffers in the NIC
ring.  Each NIC slot records whether its descriptor holds a stack buffer (mbuf) or a netmap
buffer.  rxsync copies a packet that arrived in a stack buffer into the slot's own netmap
buffer and frees the mbuf; the refill after the user releases the slot posts the netmap
buffer.  After one pass over the ring no stack buffer is left, so no copy is ever needed
again.  Leaving is the hard part: the netmap buffers the NIC holds can only come back when
the NIC hands them back; the RFC leaves open whether to wait for traffic (each packet that
lands in a netmap buffer is copied into an mbuf and its buffer freed) or to reset the RX
ring.  Both answers are transitions here.

The ring is abstracted to counts, not positions: the properties are about where buffers
and packets are, and the ring machine (``netmap_rx``) already proves the index order.  The
one piece of order the counts need is stated as an invariant (``SW-RX-FIFO``): the NIC
fills descriptors in ring order and rxsync harvests in ring order, so in netmap mode the
stack buffers left from before the switch are always the oldest posted ones.  While leaving
(the stack driver refilling with mbufs behind netmap buffers) the model lets the device
fill and the driver harvest either kind in any mix: an over-approximation, sound for the
safety properties proved here.

Buffers: the ring owns N netmap buffers while registered (one per slot, as
``netmap_mem_rings_create`` allocates them); a slot whose NIC descriptor still holds an mbuf
keeps its netmap buffer *parked*.  Packets: every frame offered on the wire is, at every
moment, in a filled descriptor, delivered to the netmap user, delivered to the stack, or
dropped with a counted reason (flushed by a switch, no posted buffer, link down).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Implies, Machine, Param, Step, Term, Var

STACK, NETMAP, LEAVING = 0, 1, 2
MODE_NAMES = {STACK: "stack", NETMAP: "netmap", LEAVING: "leaving"}


def Min(a: Term, b: Term) -> Term:
    return If(a <= b, a, b)


@dataclass(frozen=True)
class SwitchRx:
    """One NIC RX ring across netmap enter/exit, as counts of descriptors and packets."""

    n: Term
    mode: Term
    link: Term
    pool: Term
    posted_m: Term
    posted_n: Term
    ready_m: Term
    ready_n: Term
    user: Term
    user_m: Term
    gap_m: Term
    since: Term
    copies: Term
    offered: Term
    to_user: Term
    to_stack: Term
    flushed: Term
    nobuf: Term
    linkdown: Term

    def __repr__(self) -> str:
        mode = MODE_NAMES.get(self.mode, self.mode) if isinstance(self.mode, int) else self.mode
        return (
            f"SwitchRx(n={self.n}, mode={mode}, link={self.link}, "
            f"pool={self.pool}, posted=(mbuf={self.posted_m}, netmap={self.posted_n}), "
            f"ready=(mbuf={self.ready_m}, netmap={self.ready_n}), user={self.user}, "
            f"user_mbuf={self.user_m}, empty_slot_mbuf={self.gap_m}, since={self.since}, "
            f"copies={self.copies}, "
            f"offered={self.offered}, to_user={self.to_user}, to_stack={self.to_stack}, "
            f"dropped=(flushed={self.flushed}, nobuf={self.nobuf}, linkdown={self.linkdown}))"
        )

    def replace(self, **changes: Term) -> SwitchRx:
        return dataclasses.replace(self, **changes)


SWITCH_RX_VARS = (
    Var("n", "constant", "size", "Slots in the NIC RX ring (N >= 2)."),
    Var("mode", "kernel", "count", "0 stack (normal), 1 netmap, 2 leaving netmap (RFC: "
        "the stack driver runs, netmap buffers still in the NIC ring)."),
    Var("link", "device", "count", "1 while the link is up; classic switches take it down."),
    Var("pool", "kernel", "count", "The ring's N netmap buffers that sit in the allocator."),
    Var("posted_m", "device", "count", "Empty descriptors the NIC owns holding a stack mbuf."),
    Var("posted_n", "device", "count", "Empty descriptors the NIC owns holding a netmap "
        "buffer."),
    Var("ready_m", "device", "count", "Descriptors the NIC filled, packet in a stack mbuf, "
        "not yet harvested."),
    Var("ready_n", "device", "count", "Descriptors the NIC filled, packet in a netmap buffer, "
        "not yet harvested."),
    Var("user", "user", "count", "netmap mode: slots harvested into the netmap ring that "
        "the user has not released (each holds a netmap buffer)."),
    Var("user_m", "user", "count", "netmap mode: user slots whose buffer is a stack mbuf "
        "(must stay 0: the user maps netmap buffers only)."),
    Var("gap_m", "device", "count", "1 while the empty slot's descriptor holds a stack mbuf "
        "(drivers keep a buffer on every descriptor, the empty one included); 0 when it "
        "holds a netmap buffer."),
    Var("since", "ghost", "count", "Packets harvested since the ring entered netmap mode."),
    Var("copies", "ghost", "count", "Packets copied from an mbuf into a netmap buffer since "
        "the ring entered netmap mode."),
    Var("offered", "ghost", "count", "Frames offered to the NIC on the wire."),
    Var("to_user", "ghost", "count", "Packets delivered to the netmap user."),
    Var("to_stack", "ghost", "count", "Packets delivered to the host stack."),
    Var("flushed", "ghost", "count", "Packets dropped because a switch flushed the ring."),
    Var("nobuf", "ghost", "count", "Frames the NIC dropped for want of a posted buffer."),
    Var("linkdown", "ghost", "count", "Frames lost on the wire while the link was down."),
)


def init(n: Term) -> SwitchRx:
    """Normal mode, N-1 stack mbufs posted (one slot empty), the ring's N netmap buffers
    in the allocator, the link up, nothing counted yet."""
    return SwitchRx(
        n=n, mode=STACK, link=1, pool=n, posted_m=n - 1, posted_n=0,
        ready_m=0, ready_n=0, user=0, user_m=0, gap_m=1, since=0, copies=0, offered=0, to_user=0,
        to_stack=0, flushed=0, nobuf=0, linkdown=0,
    )


# ---------------------------------------------------------------------------- derived counts


def posted(s: SwitchRx) -> Term:
    return s.posted_m + s.posted_n


def ready(s: SwitchRx) -> Term:
    return s.ready_m + s.ready_n


def stack_bufs(s: SwitchRx) -> Term:
    """Descriptors still holding a stack mbuf (posted or filled)."""
    return s.posted_m + s.ready_m


def mbufs(s: SwitchRx) -> Term:
    """Descriptors holding a stack mbuf, the empty slot's included."""
    return stack_bufs(s) + s.gap_m


def netmap_held(s: SwitchRx) -> Term:
    """The ring's netmap buffers outside the allocator: in NIC descriptors, and, while
    registered, parked behind mbuf descriptors, in the user's slots and in the empty slot."""
    registered = Eq(s.mode, NETMAP)
    return s.posted_n + s.ready_n + If(
        registered, stack_bufs(s) + s.user + s.user_m + 1, 0)


def delivered(s: SwitchRx) -> Term:
    return s.to_user + s.to_stack


def dropped(s: SwitchRx) -> Term:
    """Packets discarded, each for a counted reason."""
    return s.flushed + s.nobuf + s.linkdown


# ---------------------------------------------------------------------------- transitions

WIRE_PARAMS = (
    Param("k", "count", "frames arriving on the wire"),
    Param("j", "count", "while leaving: how many of them land in netmap-buffer descriptors "
          "(the model allows any mix)"),
)


def wire(s: SwitchRx, k: Term, j: Term) -> Step:
    """k frames arrive.  Link down: all are lost (``linkdown``).  Link up: the NIC fills
    the first min(k, posted) empty descriptors in ring order and drops the rest
    (``nobuf``).  In netmap mode the stack mbufs are the oldest posted descriptors, so
    they fill first; while leaving, any mix (``j``) the posted kinds allow."""
    f = Min(k, posted(s))
    lv_n = Min(Min(j, f), s.posted_n)
    lv_n = If(f - lv_n > s.posted_m, f - s.posted_m, lv_n)
    in_m = If(Eq(s.mode, NETMAP), Min(f, s.posted_m), If(Eq(s.mode, STACK), f, f - lv_n))
    in_n = f - in_m
    up = s.replace(
        offered=s.offered + k, nobuf=s.nobuf + k - f,
        posted_m=s.posted_m - in_m, posted_n=s.posted_n - in_n,
        ready_m=s.ready_m + in_m, ready_n=s.ready_n + in_n,
    )
    down = s.replace(offered=s.offered + k, linkdown=s.linkdown + k)
    guard = And(k >= 0, j >= 0)
    return Step(guard, select(Eq(s.link, 1), up, down))


HARVEST_PARAMS = (
    Param("k", "count", "filled descriptors the driver takes"),
    Param("j", "count", "while leaving: how many of them hold netmap buffers"),
)


def harvest(s: SwitchRx, k: Term, j: Term) -> Step:
    """The driver takes up to k filled descriptors, in ring order.

    Normal mode (the stack driver's rxeof): each packet goes up the stack and its
    descriptor is refilled with a fresh mbuf at once.  netmap mode (rxsync moving hwtail):
    a packet in a stack mbuf is copied into the slot's parked netmap buffer and the mbuf is
    freed (the RFC's conversion); either way the slot joins the user's.  Leaving (the stack
    driver again): a packet in a netmap buffer is copied into a new mbuf and the netmap
    buffer goes back to the allocator; every descriptor is refilled with an mbuf."""
    h = Min(k, ready(s))
    # netmap mode: the stack mbufs are the oldest filled descriptors
    nm_m = Min(h, s.ready_m)
    netmap = s.replace(
        ready_m=s.ready_m - nm_m, ready_n=s.ready_n - (h - nm_m),
        user=s.user + h, to_user=s.to_user + h, since=s.since + h, copies=s.copies + nm_m,
    )
    stack = s.replace(
        ready_m=s.ready_m - h, posted_m=s.posted_m + h, to_stack=s.to_stack + h,
    )
    lv_n = Min(Min(j, h), s.ready_n)
    lv_n = If(h - lv_n > s.ready_m, h - s.ready_m, lv_n)
    leaving = s.replace(
        ready_n=s.ready_n - lv_n, ready_m=s.ready_m - (h - lv_n), pool=s.pool + lv_n,
        posted_m=s.posted_m + h, to_stack=s.to_stack + h,
    )
    return Step(True, select(Eq(s.mode, NETMAP), netmap,
                              select(Eq(s.mode, STACK), stack, leaving)))


def release(s: SwitchRx, k: Term) -> Step:
    """rxsync's refill: up to k slots the user released go back to the NIC with their
    netmap buffers (the RFC never posts a stack mbuf once in netmap mode).  Moving the
    tail register hands the NIC the old empty slot with whatever its descriptor holds
    (right after the switch: a stack mbuf), and the last released slot becomes the empty
    one.  A no-op outside netmap mode."""
    r = Min(k, s.user)
    old_gap_m = If(r > 0, s.gap_m, 0)  # the old empty slot joins the NIC's, as it is
    refill = s.replace(user=s.user - r, posted_m=s.posted_m + old_gap_m,
                       posted_n=s.posted_n + r - old_gap_m, gap_m=s.gap_m - old_gap_m)
    return Step(True, select(Eq(s.mode, NETMAP), refill, s))


def regif_classic(s: SwitchRx) -> Step:
    """NIOCREGIF, classic: down, flush, swap, up.  Packets the NIC filled are dropped
    (``flushed``), the mbufs are freed, N-1 netmap buffers are posted after netmap_reset
    and the empty slot keeps the N-th.  The link stays down until ``link_up``."""
    guard = Eq(s.mode, STACK)
    return Step(guard, s.replace(
        mode=NETMAP, link=0, flushed=s.flushed + ready(s), ready_m=0, ready_n=0,
        posted_m=0, posted_n=s.n - 1, gap_m=0, pool=s.pool - s.n, since=0, copies=0,
    ))


def regif_rfc(s: SwitchRx) -> Step:
    """NIOCREGIF, the RFC: record the mode and nothing else.  The link stays up, the
    NIC keeps its mbufs (posted and filled), and each slot's netmap buffer is parked
    until the slot is converted."""
    guard = Eq(s.mode, STACK)
    return Step(guard, s.replace(mode=NETMAP, pool=s.pool - s.n, since=0, copies=0))


def link_up(s: SwitchRx) -> Step:
    """Autonegotiation completes and the link comes back."""
    return Step(Eq(s.link, 0), s.replace(link=1))


def unregif_classic(s: SwitchRx) -> Step:
    """Close, classic: down, flush, swap back, up.  The device is stopped, so it holds
    no buffer: every netmap buffer returns to the allocator at once and N-1 fresh mbufs
    are posted.  Packets filled but not harvested are dropped (``flushed``)."""
    guard = Eq(s.mode, NETMAP)
    return Step(guard, s.replace(
        mode=STACK, link=0, flushed=s.flushed + ready(s), ready_m=0, ready_n=0,
        posted_m=s.n - 1, posted_n=0, user=0, user_m=0, gap_m=1, pool=s.n,
    ))


def unregif_rfc(s: SwitchRx) -> Step:
    """Close, the RFC: the link stays up and the stack driver takes over. The buffers the
    kernel holds go back to the allocator now (the user's slots, the empty slot and the
    parked buffers behind mbuf descriptors), and the user's slots and the empty one are
    refilled with fresh mbufs (the NIC does not own the empty slot). The netmap buffers
    inside NIC descriptors stay there until the device gives them back (``harvest``
    while leaving, or ``ring_reset_exit``)."""
    guard = Eq(s.mode, NETMAP)
    back = s.user + s.user_m + 1 + stack_bufs(s)
    return Step(guard, s.replace(
        mode=LEAVING, pool=s.pool + back, posted_m=s.posted_m + s.user + s.user_m,
        user=0, user_m=0, gap_m=1,
    ))


def leave_done(s: SwitchRx) -> Step:
    """Leaving ends when the NIC holds no netmap buffer (the RFC's "wait for traffic"
    answer): the ring is back in normal mode."""
    done = And(Eq(s.mode, LEAVING), Eq(s.posted_n + s.ready_n, 0))
    return Step(True, select(done, s.replace(mode=STACK), s))


def ring_reset_exit(s: SwitchRx) -> Step:
    """The other answer to the RFC's open question: reset the RX ring (the queue, not
    the link).  Filled descriptors are harvested first (each netmap-buffer packet copied
    into an mbuf and sent up the stack); then every posted netmap buffer is reclaimed and
    its descriptor reposted with an mbuf."""
    reclaimed = s.posted_n + s.ready_n
    return Step(Eq(s.mode, LEAVING), s.replace(
        mode=STACK, pool=s.pool + reclaimed, to_stack=s.to_stack + ready(s),
        posted_m=s.posted_m + reclaimed + s.ready_m, posted_n=0, ready_m=0, ready_n=0,
    ))


def In01(x: Term) -> Term:
    return And(x >= 0, x <= 1)


def select(cond: Term, a: SwitchRx, b: SwitchRx) -> SwitchRx:
    if isinstance(cond, bool):
        return a if cond else b
    return SwitchRx(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                       for f in dataclasses.fields(SwitchRx)})


# ---------------------------------------------------------------------------- invariants

COUNTS = ("pool", "posted_m", "posted_n", "ready_m", "ready_n", "user", "user_m", "gap_m", "since",
          "copies", "offered", "to_user", "to_stack", "flushed", "nobuf", "linkdown")


def shape(s: SwitchRx) -> Term:
    return And(s.mode >= STACK, s.mode <= LEAVING, In01(s.link), In01(s.gap_m),
               *[getattr(s, c) >= 0 for c in COUNTS])


def slots(s: SwitchRx) -> Term:
    return Eq(posted(s) + ready(s) + s.user + s.user_m, s.n - 1)


def buffers(s: SwitchRx) -> Term:
    return Eq(s.pool + netmap_held(s), s.n)


def no_mbuf_to_user(s: SwitchRx) -> Term:
    return Eq(s.user_m, 0)


def conserve(s: SwitchRx) -> Term:
    return Eq(s.offered, ready(s) + delivered(s) + dropped(s))


def normal_clean(s: SwitchRx) -> Term:
    return And(
        Implies(Eq(s.mode, STACK), And(Eq(s.posted_n + s.ready_n, 0), Eq(s.pool, s.n))),
        Implies(s.mode != NETMAP, And(Eq(s.user + s.user_m, 0), Eq(s.gap_m, 1))),
    )


def rfc_link_up(s: SwitchRx) -> Term:
    return Eq(s.link, 1)


def fifo(s: SwitchRx) -> Term:
    netmap = Eq(s.mode, NETMAP)
    return And(Implies(And(netmap, s.ready_n > 0), And(Eq(s.posted_m, 0), Eq(s.gap_m, 0))),
               Implies(And(netmap, s.posted_n > 0), Eq(s.gap_m, 0)))


def copies_bounded(s: SwitchRx) -> Term:
    return Implies(Eq(s.mode, NETMAP), mbufs(s) + s.copies <= s.n)


def one_round(s: SwitchRx) -> Term:
    return Implies(Eq(s.mode, NETMAP), mbufs(s) + Min(s.since, s.n) <= s.n)




# ---------------------------------------------------------------------------- the machines

CLASSIC_RX = Machine(
    name="netmap_switch_rx_classic",
    title="netmap enter/exit, RX: classic",
    state_type=SwitchRx,
    vars=SWITCH_RX_VARS,
    init=init,
    doc="Normal mode with N-1 stack mbufs posted; the switch is down -> flush -> swap -> up.",
)

RFC_RX = Machine(
    name="netmap_switch_rx_rfc",
    title="netmap enter/exit, RX: the 2015 RFC",
    state_type=SwitchRx,
    vars=SWITCH_RX_VARS,
    init=init,
    doc="Normal mode with N-1 stack mbufs posted; the switch keeps the link up and "
    "converts slots as packets pass.",
)

#: (transition, actor, params) of each machine, in the order the docs list them.
_COMMON = ((wire, "device", WIRE_PARAMS), (harvest, "kernel", HARVEST_PARAMS),
           (release, "kernel", (Param("k", "count", "slots the user releases"),)))
_TRANSITIONS = (
    (CLASSIC_RX, (*_COMMON, (regif_classic, "user", ()), (link_up, "device", ()),
                 (unregif_classic, "user", ()))),
    (RFC_RX, (*_COMMON, (regif_rfc, "user", ()), (unregif_rfc, "user", ()),
             (leave_done, "kernel", ()), (ring_reset_exit, "user", ()))),
)

#: (id, sentence, predicate): the invariants both machines keep, then the RFC's own.
_INVARIANTS = (
    ("SW-RX-SHAPE", "The mode is normal, netmap or leaving, the link up or down, and every "
     "count is >= 0.", shape),
    ("SW-RX-SLOTS", "Every descriptor but the one kept empty is posted, filled, or a user "
     "slot: posted + ready + user = N - 1.", slots),
    ("SW-RX-BUFFERS", "Each of the ring's N netmap buffers is in exactly one place "
     "(allocator, NIC descriptor, parked behind an mbuf, user slot, empty slot): none is "
     "freed while the NIC holds it and none leaks.", buffers),
    ("SW-RX-NO-MBUF-TO-USER", "The user is never handed a slot whose buffer is a stack "
     "mbuf.", no_mbuf_to_user),
    ("SW-RX-CONSERVE", "Every frame offered is in a filled descriptor, delivered once (to "
     "the user or the stack), or dropped for a counted reason: nothing lost, nothing "
     "duplicated.", conserve),
    ("SW-RX-NORMAL-CLEAN", "In normal mode the NIC holds no netmap buffer and all N are "
     "back in the allocator; outside netmap mode the user holds nothing and the empty slot "
     "holds an mbuf.", normal_clean),
    ("SW-RX-FIFO", "In netmap mode the stack mbufs are the oldest descriptors: once a "
     "netmap buffer is posted the empty slot's mbuf has gone to the NIC, and once the NIC "
     "has filled a netmap buffer no mbuf is still posted.", fifo),
    ("SW-RX-COPIES", "In netmap mode no stack mbuf is ever posted: the mbufs left (the "
     "empty slot's included) plus the copies made since entering are at most N.",
     copies_bounded),
    ("SW-RX-ONE-ROUND", "After N packets harvested in netmap mode no stack mbuf is left in "
     "the ring, so no copy is ever needed again.", one_round),
)
_RFC_INVARIANTS = (
    ("SW-RX-LINK-UP", "The RFC never takes the link down.", rfc_link_up),
)

for _m, _ts in _TRANSITIONS:
    for _fn, _actor, _params in _ts:
        _m.transition(actor=_actor, params=_params)(_fn)
    for _id, _sentence, _fn in _INVARIANTS + (_RFC_INVARIANTS if _m is RFC_RX else ()):
        _m.invariant(_id, _sentence)(_fn)

MACHINES = (CLASSIC_RX, RFC_RX)
