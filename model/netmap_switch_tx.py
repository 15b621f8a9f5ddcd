"""Entering and leaving netmap mode on one TX ring: the classic protocol and the 2015 RFC.

The two protocols are described with the RX ring (:mod:`model.netmap_switch`); on TX they
differ in what happens to the packets the stack has queued when the switch comes.

**Classic**: the switch takes the interface down and frees every TX buffer
(ENA's ``ena_down`` -> ``ena_free_all_tx_bufs``), so packets the NIC had not yet
completed are dropped with the flush; ``netmap_reset`` then starts the ring empty with
every slot the user's (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392).

**The RFC**: "on the tx side things are even simpler": the link stays up, descriptors
still carrying a stack mbuf are reported as unavailable (they are not the user's), the
cleanup frees each mbuf when the NIC completes it and hands the slot to the user.  After
one pass no stack buffer is left.  On exit the stack may transmit at once into the free
descriptors, while the netmap buffers the NIC still holds come back as it completes them
("loop shortly until the tx queue has been drained").

Counts, as on RX: descriptors in flight or completed-not-cleaned, each holding a stack
mbuf or a netmap buffer; the user's free slots; the ring's N netmap buffers (in the
allocator, in NIC descriptors, parked behind an mbuf descriptor, or in a slot); and every
packet handed to the driver (by the stack or the user) is in flight, completed (on the
wire), or dropped by a flush.  In netmap mode the NIC completes in order, so the older
stack packets complete first (``SW-TX-FIFO``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Implies, Machine, Param, Step, Term, Var
from model.netmap_switch import LEAVING, MODE_NAMES, NETMAP, STACK, In01, Min


@dataclass(frozen=True)
class SwitchTx:
    """One NIC TX ring across netmap enter/exit, as counts of descriptors and packets."""

    n: Term
    mode: Term
    link: Term
    pool: Term
    flight_m: Term
    flight_n: Term
    done_m: Term
    done_n: Term
    user: Term
    since: Term
    from_stack: Term
    from_user: Term
    on_wire: Term
    flushed: Term
    mbufs_freed: Term

    def __repr__(self) -> str:
        mode = MODE_NAMES.get(self.mode, self.mode) if isinstance(self.mode, int) else self.mode
        return (
            f"SwitchTx(n={self.n}, mode={mode}, link={self.link}, pool={self.pool}, "
            f"in_flight=(mbuf={self.flight_m}, netmap={self.flight_n}), "
            f"completed=(mbuf={self.done_m}, netmap={self.done_n}), user={self.user}, "
            f"since={self.since}, "
            f"from_stack={self.from_stack}, from_user={self.from_user}, "
            f"on_wire={self.on_wire}, flushed={self.flushed}, "
            f"mbufs_freed={self.mbufs_freed})"
        )

    def replace(self, **changes: Term) -> SwitchTx:
        return dataclasses.replace(self, **changes)


SWITCH_TX_VARS = (
    Var("n", "constant", "size", "Slots in the NIC TX ring (N >= 2)."),
    Var("mode", "kernel", "count", "0 stack (normal), 1 netmap, 2 leaving netmap (the stack "
        "transmits again, netmap buffers still in the NIC ring)."),
    Var("link", "device", "count", "1 while the link is up; classic switches take it down."),
    Var("pool", "kernel", "count", "The ring's N netmap buffers that sit in the allocator."),
    Var("flight_m", "device", "count", "Descriptors the NIC owns carrying a stack mbuf."),
    Var("flight_n", "device", "count", "Descriptors the NIC owns carrying a netmap buffer."),
    Var("done_m", "kernel", "count", "Completed descriptors with a stack mbuf, not yet "
        "cleaned (the mbuf not yet freed)."),
    Var("done_n", "kernel", "count", "Completed descriptors with a netmap buffer, not yet "
        "reclaimed."),
    Var("user", "user", "count", "netmap mode: free slots the user owns (each with its "
        "netmap buffer)."),
    Var("since", "ghost", "count", "Packets the user sent since the ring entered netmap "
        "mode."),
    Var("from_stack", "ghost", "count", "Packets the stack handed to the driver."),
    Var("from_user", "ghost", "count", "Packets the netmap user handed to the driver."),
    Var("on_wire", "ghost", "count", "Packets the NIC completed (sent)."),
    Var("flushed", "ghost", "count", "Packets dropped because a switch flushed the ring."),
    Var("mbufs_freed", "ghost", "count", "Stack mbufs freed by the driver."),
)


def init(n: Term) -> SwitchTx:
    """Normal mode, the ring idle, the N netmap buffers in the allocator, the link up."""
    return SwitchTx(n=n, mode=STACK, link=1, pool=n, flight_m=0, flight_n=0, done_m=0,
                    done_n=0, user=0, since=0, from_stack=0, from_user=0, on_wire=0, flushed=0,
                    mbufs_freed=0)


# ---------------------------------------------------------------------------- derived counts


def busy(s: SwitchTx) -> Term:
    """Descriptors not free: in flight or completed and not yet cleaned."""
    return s.flight_m + s.flight_n + s.done_m + s.done_n


def free_descriptors(s: SwitchTx) -> Term:
    """Normal or leaving mode: descriptors the stack may fill (one slot kept empty)."""
    return s.n - 1 - busy(s) - s.user


def stack_bufs(s: SwitchTx) -> Term:
    return s.flight_m + s.done_m


def netmap_held(s: SwitchTx) -> Term:
    """The ring's netmap buffers outside the allocator (see the RX model)."""
    registered = Eq(s.mode, NETMAP)
    return s.flight_n + s.done_n + If(registered, stack_bufs(s) + s.user + 1, 0)


def select(cond: Term, a: SwitchTx, b: SwitchTx) -> SwitchTx:
    if isinstance(cond, bool):
        return a if cond else b
    return SwitchTx(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                       for f in dataclasses.fields(SwitchTx)})


# ---------------------------------------------------------------------------- transitions


def stack_xmit(s: SwitchTx, k: Term) -> Step:
    """The stack transmits up to k packets into free descriptors (normal and leaving
    mode; in netmap mode the stack's packets go to the host rings, not here)."""
    x = Min(k, free_descriptors(s))
    sent = s.replace(flight_m=s.flight_m + x, from_stack=s.from_stack + x)
    return Step(True, select(Eq(s.mode, NETMAP), s, sent))


def user_send(s: SwitchTx, k: Term) -> Step:
    """The user fills up to k of its slots and txsync hands them to the NIC."""
    x = Min(k, s.user)
    sent = s.replace(user=s.user - x, flight_n=s.flight_n + x, from_user=s.from_user + x,
                     since=s.since + x)
    return Step(True, select(Eq(s.mode, NETMAP), sent, s))


COMPLETE_PARAMS = (
    Param("k", "count", "descriptors the NIC completes"),
    Param("j", "count", "while leaving: how many of them carry netmap buffers"),
)


def complete(s: SwitchTx, k: Term, j: Term) -> Step:
    """The NIC sends and completes up to k descriptors, in order (link up only).  In
    netmap mode the stack's packets are the older ones and complete first; while
    leaving, any mix."""
    c = Min(k, s.flight_m + s.flight_n)
    lv_n = Min(Min(j, c), s.flight_n)
    lv_n = If(c - lv_n > s.flight_m, c - s.flight_m, lv_n)
    c_m = If(Eq(s.mode, NETMAP), Min(c, s.flight_m), If(Eq(s.mode, STACK), c, c - lv_n))
    c_n = c - c_m
    done = s.replace(flight_m=s.flight_m - c_m, flight_n=s.flight_n - c_n,
                     done_m=s.done_m + c_m, done_n=s.done_n + c_n, on_wire=s.on_wire + c)
    return Step(True, select(Eq(s.link, 1), done, s))


def cleanup(s: SwitchTx) -> Step:
    """txsync's reclaim (netmap mode) or the stack driver's txeof: every completed
    descriptor is cleaned.  A stack mbuf is freed; in netmap mode the slot (with its
    parked or returned netmap buffer) becomes the user's; while leaving a netmap buffer
    goes back to the allocator."""
    cleaned = s.replace(done_m=0, done_n=0, mbufs_freed=s.mbufs_freed + s.done_m)
    netmap = cleaned.replace(user=s.user + s.done_m + s.done_n)
    leaving = cleaned.replace(pool=s.pool + s.done_n)
    return Step(True, select(Eq(s.mode, NETMAP), netmap, select(Eq(s.mode, LEAVING),
                                                                 leaving, cleaned)))


def regif_classic(s: SwitchTx) -> Step:
    """NIOCREGIF, classic: down; every TX buffer is freed, so packets not yet completed
    are dropped (``flushed``) and completed ones just freed; netmap_reset gives the user
    every slot but the empty one."""
    return Step(Eq(s.mode, STACK), s.replace(
        mode=NETMAP, link=0, flushed=s.flushed + s.flight_m + s.flight_n,
        mbufs_freed=s.mbufs_freed + stack_bufs(s), flight_m=0, flight_n=0, done_m=0,
        done_n=0, user=s.n - 1, pool=s.pool - s.n, since=0,
    ))


def regif_rfc(s: SwitchTx) -> Step:
    """NIOCREGIF, the RFC: the link stays up; descriptors still carrying stack mbufs
    are withheld from the user until they complete; the free ones become the user's."""
    return Step(Eq(s.mode, STACK), s.replace(
        mode=NETMAP, user=free_descriptors(s), pool=s.pool - s.n, since=0,
    ))


def link_up(s: SwitchTx) -> Step:
    """Autonegotiation completes and the link comes back."""
    return Step(Eq(s.link, 0), s.replace(link=1))


def unregif_classic(s: SwitchTx) -> Step:
    """Close, classic: down; the user's packets not yet completed are dropped, every
    netmap buffer goes back at once (the NIC is stopped), the ring restarts empty."""
    return Step(Eq(s.mode, NETMAP), s.replace(
        mode=STACK, link=0, flushed=s.flushed + s.flight_m + s.flight_n,
        mbufs_freed=s.mbufs_freed + stack_bufs(s), flight_m=0, flight_n=0, done_m=0,
        done_n=0, user=0, pool=s.n,
    ))


def unregif_rfc(s: SwitchTx) -> Step:
    """Close, the RFC: the link stays up; the user's slots and the parked buffers go back
    to the allocator and those descriptors are free for the stack; netmap buffers in
    flight or completed come back through the cleanup as the NIC drains."""
    back = s.user + 1 + stack_bufs(s)
    return Step(Eq(s.mode, NETMAP), s.replace(mode=LEAVING, user=0, pool=s.pool + back))


def leave_done(s: SwitchTx) -> Step:
    """Leaving ends when the NIC holds no netmap buffer (the TX queue drained)."""
    done = And(Eq(s.mode, LEAVING), Eq(s.flight_n + s.done_n, 0))
    return Step(True, select(done, s.replace(mode=STACK), s))


# ---------------------------------------------------------------------------- invariants

COUNTS = ("pool", "flight_m", "flight_n", "done_m", "done_n", "user", "since", "from_stack",
          "from_user", "on_wire", "flushed", "mbufs_freed")


def shape(s: SwitchTx) -> Term:
    return And(s.mode >= STACK, s.mode <= LEAVING, In01(s.link),
               *[getattr(s, c) >= 0 for c in COUNTS])


def slots(s: SwitchTx) -> Term:
    return And(busy(s) + s.user <= s.n - 1, Implies(Eq(s.mode, NETMAP),
                                                     Eq(busy(s) + s.user, s.n - 1)))


def buffers(s: SwitchTx) -> Term:
    return Eq(s.pool + netmap_held(s), s.n)


def conserve(s: SwitchTx) -> Term:
    return Eq(s.from_stack + s.from_user, s.flight_m + s.flight_n + s.on_wire + s.flushed)


def mbufs_once(s: SwitchTx) -> Term:
    return Eq(s.from_stack, s.mbufs_freed + stack_bufs(s))


def normal_clean(s: SwitchTx) -> Term:
    return And(
        Implies(Eq(s.mode, STACK), And(Eq(s.flight_n + s.done_n, 0), Eq(s.pool, s.n))),
        Implies(s.mode != NETMAP, Eq(s.user, 0)),
    )


def fifo(s: SwitchTx) -> Term:
    return Implies(And(Eq(s.mode, NETMAP), s.done_n > 0), Eq(s.flight_m, 0))


def one_round(s: SwitchTx) -> Term:
    return Implies(And(Eq(s.mode, NETMAP), stack_bufs(s) > 0),
                   Eq(s.since, s.flight_n + s.done_n))


def rfc_link_up(s: SwitchTx) -> Term:
    return Eq(s.link, 1)


# ---------------------------------------------------------------------------- the machines

CLASSIC_TX = Machine(
    name="netmap_switch_tx_classic",
    title="netmap enter/exit, TX: classic",
    state_type=SwitchTx,
    vars=SWITCH_TX_VARS,
    init=init,
    doc="Normal mode, the ring idle; the switch is down -> free all TX buffers -> up.",
)

RFC_TX = Machine(
    name="netmap_switch_tx_rfc",
    title="netmap enter/exit, TX: the 2015 RFC",
    state_type=SwitchTx,
    vars=SWITCH_TX_VARS,
    init=init,
    doc="Normal mode, the ring idle; the switch keeps the link up and hands slots to the "
    "user as the stack's packets complete.",
)

_COMMON = ((stack_xmit, "device", (Param("k", "count", "packets the stack transmits"),)),
           (user_send, "user", (Param("k", "count", "slots the user sends"),)),
           (complete, "device", COMPLETE_PARAMS), (cleanup, "kernel", ()))
_TRANSITIONS = (
    (CLASSIC_TX, (*_COMMON, (regif_classic, "user", ()), (link_up, "device", ()),
                  (unregif_classic, "user", ()))),
    (RFC_TX, (*_COMMON, (regif_rfc, "user", ()), (unregif_rfc, "user", ()),
              (leave_done, "kernel", ()))),
)

_INVARIANTS = (
    ("SW-TX-SHAPE", "The mode is normal, netmap or leaving, the link up or down, and every "
     "count is >= 0.", shape),
    ("SW-TX-SLOTS", "Busy descriptors and the user's slots never exceed N - 1 (one slot "
     "empty); in netmap mode every other slot is the user's.", slots),
    ("SW-TX-BUFFERS", "Each of the ring's N netmap buffers is in exactly one place: none is "
     "freed while the NIC holds it and none leaks.", buffers),
    ("SW-TX-CONSERVE", "Every packet handed to the driver is in flight, sent, or dropped by "
     "a flush: nothing lost, nothing sent twice.", conserve),
    ("SW-TX-MBUFS-ONCE", "Every stack mbuf is freed exactly once, and only after the NIC "
     "is done with it (or the ring was flushed).", mbufs_once),
    ("SW-TX-NORMAL-CLEAN", "In normal mode the NIC holds no netmap buffer and all N are "
     "back in the allocator; outside netmap mode the user holds nothing.", normal_clean),
    ("SW-TX-FIFO", "In netmap mode the stack's packets are the oldest in flight: once a "
     "netmap packet completes, no stack packet is still in flight.", fifo),
    ("SW-TX-ONE-ROUND", "While a stack mbuf is left in netmap mode, every packet the user "
     "sent since entering is still in the NIC ring; so the user sends at most N - 1 before "
     "the last mbuf is freed, and none is left after one round.", one_round),
)
_RFC_INVARIANTS = (("SW-TX-LINK-UP", "The RFC never takes the link down.", rfc_link_up),)

for _m, _ts in _TRANSITIONS:
    for _fn, _actor, _params in _ts:
        _m.transition(actor=_actor, params=_params)(_fn)
    for _id, _sentence, _fn in _INVARIANTS + (_RFC_INVARIANTS if _m is RFC_TX else ()):
        _m.invariant(_id, _sentence)(_fn)

MACHINES = (CLASSIC_TX, RFC_TX)
