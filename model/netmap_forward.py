"""Transparent mode, host to NIC: packets the user releases on the host RX ring with
``NS_FORWARD`` are swapped into a hardware TX ring (``netmap_sw_to_nic``).

With ``NR_FORWARD`` in the host RX ring's flags (or the global ``dev.netmap.fwd``) and a
handle bound to every hardware TX ring (``NAF_CAN_FORWARD_DOWN``), an rxsync of the host
RX ring looks at the slots the user released, ``[nr_hwcur, rhead)``, and for each one
marked ``NS_FORWARD`` swaps its buffer with the one in slot ``head`` of the TX ring,
marks both ``NS_BUF_CHANGED`` and sets the TX ring's ``head = cur = head + 1``: the packet
is queued for the NIC without a copy, and the next txsync sends it.  Upstream, at the
pinned commit:

* ``netmap_sw_to_nic``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1304):
  the loop runs while ``rxcur != rhead`` and ``!nm_ring_empty(rdst)``, that is
  ``ring->cur != ring->tail`` of the TX ring;
* ``netmap_rxsync_from_host``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1390):
  after ``netmap_sw_to_nic`` it sets ``nr_hwcur = rhead`` whatever was forwarded;
* ``nm_may_forward_down``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1284).

The model keeps one TX ring and counts rather than positions: which of the released slots
are marked does not matter, only how many, because the C takes them in ring order.

What it shows:

* FWD-ONCE: each marked packet is forwarded once or dropped once.  It is *dropped*, with
  no counter and no log line, when the TX ring has no room: ``nr_hwcur = rhead`` releases
  the slot anyway.  The ghost ``dropped`` counts those packets so that the docs can say
  how many; netmap itself cannot.  netmap(4) promises that marked packets "are forwarded
  to the other endpoint at the next system call", so ``FWD-NO-DROP`` is refuted as
  shipped (a finding).  The hardened step (``rxsync_hardened``) applies back-pressure:
  it keeps ``nr_hwcur`` before the first packet that found no room, so the host RX ring
  fills and ``netmap_transmit`` drops, with ENOBUFS and a counter, instead.
* The swap writes ``slot[head]`` and ``head``/``cur`` of the TX ring, which netmap.h gives
  to the user.  netmap's comment on the function says the application must not touch the
  ring during the syscall; a single-threaded application that fills TX slots and calls
  NIOCRXSYNC on the host ring before advancing head loses them: the ghost ``clobbered``
  counts such slots (``FWD-USER-SLOTS``, refuted as shipped: a finding).  The kernel
  cannot tell a prepared slot from a free one, so there is no hardened kernel step; the
  rule is the application's: release every prepared TX slot before syncing the host RX
  ring (``rxsync_after_send``, which keeps the invariant).
* The swap reads the TX ring's ``head``, ``cur`` and ``tail`` from the shared ring and
  trusts them ("XXX do we trust ring or kring->rcur,rtail ?"): nothing checks them
  against the kring.  A user that scribbles ``tail`` (or a ``cur`` the loop never meets)
  makes the kernel swap host buffers into TX slots it owns itself, in flight on the NIC
  or the gap, taking their buffers away from the device (``FWD-KERNEL-SLOTS``, refuted as
  shipped); a ``head`` that is not a slot index makes it write ``slot[head]`` past the
  end of the slot array (``FWD-IN-RING``, refuted as shipped).  The hardened step only
  swaps into a TX ring whose ``head <= cur <= tail`` holds against the kring's own
  ``rhead`` / ``rtail``, and up to ``rtail``.  The TX ring's own txsync is modelled here
  with the hardened prologue and reinit (:mod:`model.netmap_ring` has the as-shipped
  ones): a scribbled ring is put back before the kernel uses it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import (
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
    in_cyclic,
    in_range,
    ring_add,
    ring_dist,
    ring_prev,
)


@dataclass(frozen=True)
class Forward:
    """The host RX kring's released slots and the TX ring they are forwarded into."""

    n: Term
    hwcur: Term
    head: Term
    hwtail: Term
    marked: Term
    thwcur: Term
    thead: Term
    tcur: Term
    ttail: Term
    trtail: Term
    prepared: Term
    marked_total: Term
    forwarded: Term
    dropped: Term
    clobbered: Term
    kernel_hit: Term
    outside: Term

    def __repr__(self) -> str:
        return (f"Forward(n={self.n}, hwcur={self.hwcur}, head={self.head}, "
                f"hwtail={self.hwtail}, marked={self.marked}, thwcur={self.thwcur}, "
                f"thead={self.thead}, "
                f"tcur={self.tcur}, ttail={self.ttail}, trtail={self.trtail}, "
                f"prepared={self.prepared}, marked_total={self.marked_total}, "
                f"forwarded={self.forwarded}, dropped={self.dropped}, "
                f"clobbered={self.clobbered}, kernel_hit={self.kernel_hit}, "
                f"outside={self.outside})")

    def replace(self, **changes: Term) -> Forward:
        return dataclasses.replace(self, **changes)


FORWARD_VARS = (
    Var("n", "constant", "size", "Slots in each ring (the host RX ring and the TX ring)."),
    Var("hwcur", "kernel", "index", "Host RX kring->nr_hwcur."),
    Var("head", "user", "index", "Host RX ring->head: the user has released [hwcur, head)."),
    Var("hwtail", "kernel", "index", "Host RX kring->nr_hwtail: the end of the packets "
        "from the stack."),
    Var("marked", "kernel", "count", "Released host RX slots [hwcur, head) with NS_FORWARD."),
    Var("thwcur", "kernel", "index", "TX kring->nr_hwcur: the NIC has taken the slots "
        "before it; [thwcur, thead) are released and wait for a txsync."),
    Var("thead", "user", "u32", "TX ring->head."),
    Var("tcur", "user", "u32", "TX ring->cur."),
    Var("ttail", "user", "u32", "TX ring->tail: the user owns [thead, ttail).  The kernel "
        "writes it; a user can scribble it."),
    Var("trtail", "kernel", "index", "TX kring->rtail: the kernel's own copy of tail; "
        "[trtail, thwcur) is in flight on the NIC or the gap."),
    Var("prepared", "ghost", "count", "TX slots from thead on that the user has filled "
        "and not yet released."),
    Var("marked_total", "ghost", "count", "Packets the user has released with NS_FORWARD."),
    Var("forwarded", "ghost", "count", "Packets swapped into the TX ring."),
    Var("dropped", "ghost", "count", "Marked packets released without being forwarded "
        "(no room in the TX ring)."),
    Var("clobbered", "ghost", "count", "Prepared TX slots the swap overwrote."),
    Var("kernel_hit", "ghost", "count", "1 once the swap has written a TX slot in "
        "[trtail, thwcur), which the kernel and the NIC own."),
    Var("outside", "ghost", "count", "1 once the swap has written slot[head] with head "
        ">= N, past the slot array."),
)


def forward_init(n: Term) -> Forward:
    """Both rings fresh: the host RX ring empty, the TX ring's N - 1 slots all free."""
    return Forward(n=n, hwcur=0, head=0, hwtail=0, marked=0, thwcur=0, thead=0, tcur=0,
                   ttail=n - 1, trtail=n - 1, prepared=0, marked_total=0, forwarded=0,
                   dropped=0, clobbered=0, kernel_hit=0, outside=0)


def host_import(s: Forward, k: Term) -> Step:
    """``k`` packets from the stack land in the host RX ring (netmap_transmit, then the
    first part of an rxsync)."""
    return Step(k <= ring_dist(s.hwtail, ring_prev(s.hwcur, s.n), s.n),
                s.replace(hwtail=ring_add(s.hwtail, k, s.n)))


def user_release_host(s: Forward, k: Term, m: Term) -> Step:
    """The user releases ``k`` host RX packets, ``m`` of them marked NS_FORWARD."""
    return Step(And(k <= ring_dist(s.head, s.hwtail, s.n), m <= k),
                s.replace(head=ring_add(s.head, k, s.n), marked=s.marked + m,
                          marked_total=s.marked_total + m))


def user_prepare_tx(s: Forward, k: Term) -> Step:
    """The user fills ``k`` more TX slots after thead without releasing them yet."""
    return Step(s.prepared + k <= ring_dist(s.thead, s.ttail, s.n),
                s.replace(prepared=s.prepared + k))


def user_send_tx(s: Forward) -> Step:
    """The user releases what it prepared: ``head = cur = head + prepared``."""
    head = ring_add(s.thead, s.prepared, s.n)
    return Step(True, s.replace(thead=head, tcur=head, prepared=0))


def user_want_room(s: Forward) -> Step:
    """The user sets ``cur = tail`` to ask for more room (netmap(4))."""
    return Step(True, s.replace(tcur=s.ttail))


def tx_prologue_accepts(s: Forward) -> Term:
    """The TX ring is consistent with its kring (the hardened nm_txsync_prologue, with
    ``rhead = thwcur`` because every txsync here hands all released slots to the NIC):
    ``thwcur <= head <= cur <= rtail``, all slot indices."""
    return And(in_range(s.thead, s.n), in_range(s.tcur, s.n),
               in_cyclic(s.thwcur, s.thead, s.trtail, s.n),
               in_cyclic(s.thead, s.tcur, s.trtail, s.n))


def tx_push(s: Forward) -> Step:
    """A txsync: if the prologue accepts, the released TX slots go to the NIC
    (``nr_hwcur = head``) and ``ring->tail = rtail``; else reinit puts ``head = cur =
    rhead`` and ``tail = rtail`` back (and whatever the user had prepared is void)."""
    ok = tx_prologue_accepts(s)
    return Step(True, s.replace(
        thwcur=If(ok, s.thead, s.thwcur), thead=If(ok, s.thead, s.thwcur),
        tcur=If(ok, s.tcur, s.thwcur), ttail=s.trtail, prepared=If(ok, s.prepared, 0)))


def tx_reclaim(s: Forward, k: Term) -> Step:
    """The NIC completes ``k`` slots and a txsync reclaims them: ``rtail`` and ``tail``
    move forward, up to the gap just before the TX kring's hwcur."""
    tail = ring_add(s.trtail, k, s.n)
    return Step(And(k <= ring_dist(s.trtail, ring_prev(s.thwcur, s.n), s.n),
                    tx_prologue_accepts(s)),
                s.replace(trtail=tail, ttail=tail))


def user_scribble_tx(s: Forward, h: Term, c: Term, t: Term) -> Step:
    """An adversarial (or buggy) user writes any 32-bit values into the TX ring's head,
    cur and tail; what it had prepared is forgotten."""
    return Step(True, s.replace(thead=h, tcur=c, ttail=t, prepared=0))


def sw_to_nic_room(s: Forward) -> Term:
    """How many packets the swap loop can place, as shipped, from the user's values: none
    if ``cur == tail`` (nm_ring_empty), else every slot from head to tail (after the
    first, ``cur = head``): a whole lap when ``head == tail`` (the first test saw ``cur
    != tail``, and the loop stops only when the new ``cur`` comes round to ``tail``).
    With ``head`` past the ring, ``nm_next`` never wraps and ``cur`` never meets an
    in-range tail: every marked packet is written."""
    return If(Eq(s.tcur, s.ttail), 0,
              If(And(in_range(s.thead, s.n), in_range(s.ttail, s.n)),
                 If(Eq(s.thead, s.ttail), s.n, ring_dist(s.thead, s.ttail, s.n)), s.marked))


def sw_to_nic_room_hardened(s: Forward) -> Term:
    """The hardened loop trusts the kring: room only if the TX ring passes the prologue
    check, and then up to ``rtail`` (``cur == rtail`` still means no room)."""
    return If(And(tx_prologue_accepts(s), Not(Eq(s.tcur, s.trtail))),
              ring_dist(s.thead, s.trtail, s.n), 0)


def _swap(s: Forward, f: Term) -> Forward:
    """The TX side of ``f`` swaps into ``slot[head] .. slot[head + f - 1]``, and the ghosts
    that say where they landed."""
    lost = If(s.prepared <= f, s.prepared, f)
    thead = ring_add(s.thead, f, s.n)
    into_kernel = And(f > 0, in_range(s.thead, s.n),
                      Or(Not(in_cyclic(s.thwcur, s.thead, s.trtail, s.n)),
                         f > ring_dist(s.thead, s.trtail, s.n)))
    past_end = And(f > 0, Not(in_range(s.thead, s.n)))
    return s.replace(thead=thead, tcur=If(f > 0, thead, s.tcur), prepared=s.prepared - lost,
                     forwarded=s.forwarded + f, clobbered=s.clobbered + lost,
                     kernel_hit=If(into_kernel, 1, s.kernel_hit),
                     outside=If(past_end, 1, s.outside))


def forward_down(s: Forward, room: Term) -> Forward:
    """netmap_sw_to_nic then ``nr_hwcur = rhead``."""
    f = If(s.marked <= room, s.marked, room)
    return _swap(s, f).replace(hwcur=s.head, marked=0, dropped=s.dropped + s.marked - f)


def rxsync_from_host(s: Forward) -> Step:
    """NIOCRXSYNC on the host RX ring with forwarding down enabled."""
    return Step(True, forward_down(s, sw_to_nic_room(s)))


def forward_down_backpressure(s: Forward, room: Term) -> Forward:
    """The hardened rule: forward what fits and keep ``nr_hwcur`` where it is while a marked
    packet is still waiting for room; the host RX ring then fills up and netmap_transmit
    drops (and counts) instead."""
    f = If(s.marked <= room, s.marked, room)
    return _swap(s, f).replace(hwcur=If(s.marked <= room, s.head, s.hwcur),
                               marked=s.marked - f)


def rxsync_hardened(s: Forward) -> Step:
    """The rxsync with back-pressure and the kring-checked TX room, called with no TX
    slot prepared."""
    return Step(Eq(s.prepared, 0), forward_down_backpressure(s, sw_to_nic_room_hardened(s)))


def rxsync_after_send(s: Forward) -> Step:
    """The same rxsync, called the way netmap's own forwarding applications call it:
    with no TX slot prepared and not yet released."""
    return Step(Eq(s.prepared, 0), forward_down(s, sw_to_nic_room(s)))


def forward_shape(s: Forward) -> Term:
    return And(*[in_range(x, s.n) for x in (s.hwcur, s.head, s.hwtail, s.thwcur, s.trtail)],
               s.marked >= 0, s.prepared >= 0, s.forwarded >= 0, s.dropped >= 0,
               s.clobbered >= 0)


def forward_host_view(s: Forward) -> Term:
    return And(in_cyclic(s.hwcur, s.head, s.hwtail, s.n),
               s.marked <= ring_dist(s.hwcur, s.head, s.n))


def forward_tx_view(s: Forward) -> Term:
    return And(tx_prologue_accepts(s), Eq(s.ttail, s.trtail),
               s.prepared <= ring_dist(s.thead, s.ttail, s.n))


def forward_once(s: Forward) -> Term:
    return Eq(s.marked_total, s.forwarded + s.dropped + s.marked)


def forward_no_drop(s: Forward) -> Term:
    return Eq(s.dropped, 0)


def forward_user_slots(s: Forward) -> Term:
    return Eq(s.clobbered, 0)


def forward_kernel_slots(s: Forward) -> Term:
    return Eq(s.kernel_hit, 0)


def forward_in_ring(s: Forward) -> Term:
    return Eq(s.outside, 0)


FORWARD = Machine(
    name="netmap_forward",
    title="Transparent mode: host RX to NIC TX (NS_FORWARD)",
    state_type=Forward,
    vars=FORWARD_VARS,
    init=forward_init,
    doc="Both rings fresh: nothing in the host RX ring, the TX ring's N - 1 slots free.",
)

FORWARD.transition(actor="device", params=(
    Param("k", "count", "Packets from the stack."),))(host_import)
FORWARD.transition(actor="user", params=(
    Param("k", "count", "Host RX packets released."),
    Param("m", "count", "How many of them carry NS_FORWARD."),))(user_release_host)
FORWARD.transition(actor="user", params=(
    Param("k", "count", "TX slots filled."),))(user_prepare_tx)
FORWARD.transition(actor="user")(user_send_tx)
FORWARD.transition(actor="user")(user_want_room)
FORWARD.transition(actor="adversary", view="breaks", params=(
    Param("h", "u32", "The value written into the TX ring's head."),
    Param("c", "u32", "The value written into cur."),
    Param("t", "u32", "The value written into tail."),
))(user_scribble_tx)
FORWARD.transition(actor="kernel")(tx_push)
FORWARD.transition(actor="device", params=(
    Param("k", "count", "TX slots completed and reclaimed."),))(tx_reclaim)
FORWARD.transition(actor="kernel", breaks={"FWD-USER-SLOTS", "FWD-NO-DROP",
                                           "FWD-KERNEL-SLOTS", "FWD-IN-RING"})(
    rxsync_from_host)
FORWARD.transition(actor="user", breaks={"FWD-NO-DROP", "FWD-KERNEL-SLOTS", "FWD-IN-RING"})(
    rxsync_after_send)
FORWARD.transition(actor="user")(rxsync_hardened)

for _id, _sentence, _fn, _scope in (
    ("FWD-SHAPE", "The kernel's indices are slot indices; the counts are >= 0.",
     forward_shape, "kernel"),
    ("FWD-HOST-VIEW", "The user has released [hwcur, head) of the host RX ring, and only "
     "those slots can be marked.", forward_host_view, "kernel"),
    ("FWD-TX-VIEW", "The TX ring is consistent with its kring: hwcur <= head <= cur <= "
     "tail = rtail, and what the user prepared lies in [head, tail).", forward_tx_view,
     "user"),
    ("FWD-ONCE", "Each packet released with NS_FORWARD is forwarded once, dropped once "
     "for want of room, or still waiting: never forwarded twice.", forward_once, "kernel"),
    ("FWD-NO-DROP", "A packet released with NS_FORWARD is forwarded, as netmap(4) says "
     "(\"forwarded to the other endpoint at the next system call\"): never released "
     "unsent.", forward_no_drop, "kernel"),
    ("FWD-USER-SLOTS", "The swap never overwrites a TX slot the user has filled and not "
     "yet released.", forward_user_slots, "kernel"),
    ("FWD-KERNEL-SLOTS", "The swap never writes a TX slot the kernel owns ([rtail, hwcur): "
     "in flight on the NIC, or the gap), whatever the user wrote into the TX ring.",
     forward_kernel_slots, "kernel"),
    ("FWD-IN-RING", "The swap never writes outside the TX ring's slot array, whatever the "
     "user wrote into the TX ring.", forward_in_ring, "kernel"),
):
    FORWARD.invariant(_id, _sentence, _scope)(_fn)

MACHINES = (FORWARD,)

__all__ = ["FORWARD", "Forward", "forward_down", "forward_down_backpressure", "forward_init",
           "rxsync_after_send", "rxsync_from_host", "rxsync_hardened", "sw_to_nic_room",
           "sw_to_nic_room_hardened", "tx_prologue_accepts", "user_scribble_tx"]
