"""Transparent mode with several host ring pairs: which way a packet the user releases
with NS_FORWARD goes, depending on the RX kring it was released on.

netmap decides it per kring, in the sync (``ring_id`` counts the hardware RX rings
first, so the host RX krings are ``num_rx_rings .. num_rx_rings + num_host_rx_rings -
1``):

* ``nm_may_forward_down``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1284)
  holds only for ``ring_id == num_rx_rings``, the first host RX kring, and only for a
  descriptor bound to every hardware TX ring (NAF_CAN_FORWARD_DOWN): its released
  NS_FORWARD packets are swapped into the NIC TX rings by ``netmap_sw_to_nic``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1304).
* ``nm_may_forward_up``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1277)
  holds for ``ring_id != num_rx_rings``: meant as "a hardware RX kring", it also holds
  for every host RX kring after the first.  Their released NS_FORWARD packets go through
  ``netmap_grab_packets``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1239)
  and ``netmap_send_up`` into the host stack as received packets: packets the stack sent
  out through the interface come back in (``FWD-NO-ECHO``, refuted as shipped, and only
  with more than one host ring pair; with one, the test is exact).

The hardened step forwards up from hardware RX krings only (``ring_id <
num_rx_rings``); a host RX kring that cannot forward down releases its packets like any
other.  Packets on the first host kring without NAF_CAN_FORWARD_DOWN are released too.
The model counts packets, not slots: the swap itself is :mod:`model.netmap_forward`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from model.core import And, Eq, If, Machine, Not, Or, Param, Step, Term, Var


@dataclass(frozen=True)
class HostFwd:
    """The rings of one adapter and where the NS_FORWARD packets released so far went."""

    n: Term
    nrx: Term
    nhost: Term
    from_nic: Term
    from_stack: Term
    up: Term
    down: Term
    echoed: Term
    released: Term

    def __repr__(self) -> str:
        return (f"HostFwd(nrx={self.nrx}, nhost={self.nhost}, from_nic={self.from_nic}, "
                f"from_stack={self.from_stack}, up={self.up}, down={self.down}, "
                f"echoed={self.echoed}, released={self.released})")

    def replace(self, **changes: Term) -> HostFwd:
        return dataclasses.replace(self, **changes)


HOST_FWD_VARS = (
    Var("n", "constant", "size", "Slots per ring (the rules here do not depend on it)."),
    Var("nrx", "constant", "count", "num_rx_rings: the hardware RX rings."),
    Var("nhost", "constant", "count", "num_host_rx_rings: the host RX rings (default 1)."),
    Var("from_nic", "ghost", "count", "NS_FORWARD packets released on hardware RX krings."),
    Var("from_stack", "ghost", "count", "NS_FORWARD packets released on host RX krings (the "
        "stack sent them out through the interface)."),
    Var("up", "ghost", "count", "Packets from the NIC sent up the stack."),
    Var("down", "ghost", "count", "Packets from the stack swapped into a NIC TX ring."),
    Var("echoed", "ghost", "count", "Packets from the stack sent back up the stack."),
    Var("released", "ghost", "count", "Packets released without being forwarded."),
)

SYNC_PARAMS = (
    Param("ring", "count", "the RX kring's ring_id (host krings after the hardware ones)"),
    Param("k", "count", "NS_FORWARD packets the user released on it since its last sync"),
    Param("can_down", "bit", "NAF_CAN_FORWARD_DOWN: the descriptor is bound to every "
          "hardware TX ring"),
)


def host_fwd_init(n: Term) -> HostFwd:
    """Four hardware RX rings and two host RX rings (netmap's NIOCREGIF takes
    ``nr_host_rx_rings``), nothing released yet."""
    return HostFwd(n=n, nrx=4, nhost=2, from_nic=0, from_stack=0, up=0, down=0, echoed=0,
                   released=0)


def _sync(s: HostFwd, ring: Term, k: Term, can_down: Term,
          up_ok: Callable[[Term], Term]) -> Step:
    """An RX kring's sync with ``k`` released NS_FORWARD packets; ``up_ok(ring)`` is the
    forward-up test.  A ``ring`` past the last host kring is read as the last one (the C
    syncs only krings that exist)."""
    last = s.nrx + s.nhost - 1
    ring = If(ring < last, ring, last)
    up_ok = up_ok(ring)
    host = ring >= s.nrx
    down = And(Eq(ring, s.nrx), Eq(can_down, 1))
    up = And(Not(down), up_ok)
    return Step(True, s.replace(
        from_nic=s.from_nic + If(host, 0, k), from_stack=s.from_stack + If(host, k, 0),
        down=s.down + If(down, k, 0),
        up=s.up + If(And(up, Not(host)), k, 0),
        echoed=s.echoed + If(And(up, host), k, 0),
        released=s.released + If(Or(down, up), 0, k)))


def rxsync_as_shipped(s: HostFwd, ring: Term, k: Term, can_down: Term) -> Step:
    """netmap_ioctl / netmap_poll on one RX kring: forward up if ``nm_may_forward_up``
    (``ring_id != num_rx_rings``), then the sync, which forwards down if
    ``nm_may_forward_down``."""
    return _sync(s, ring, k, can_down, lambda r: Not(Eq(r, s.nrx)))


def rxsync_hardened(s: HostFwd, ring: Term, k: Term, can_down: Term) -> Step:
    """Forward up from hardware RX krings only."""
    return _sync(s, ring, k, can_down, lambda r: r < s.nrx)


def host_fwd_shape(s: HostFwd) -> Term:
    return And(s.nrx >= 1, s.nhost >= 1, s.from_nic >= 0, s.from_stack >= 0, s.up >= 0,
               s.down >= 0, s.echoed >= 0, s.released >= 0)


def host_fwd_counted(s: HostFwd) -> Term:
    return Eq(s.from_nic + s.from_stack, s.up + s.down + s.echoed + s.released)


def host_fwd_no_echo(s: HostFwd) -> Term:
    return Eq(s.echoed, 0)


HOST_FWD = Machine(
    name="netmap_host_fwd",
    title="Transparent mode with several host rings",
    state_type=HostFwd,
    vars=HOST_FWD_VARS,
    init=host_fwd_init,
    doc="Four hardware RX rings and two host RX rings, nothing released yet.",
)

HOST_FWD.transition(actor="kernel", params=SYNC_PARAMS, breaks=("FWD-NO-ECHO",))(
    rxsync_as_shipped)
HOST_FWD.transition(actor="kernel", params=SYNC_PARAMS)(rxsync_hardened)

for _id, _sentence, _fn in (
    ("FWD-SHAPE", "There is at least one hardware and one host RX ring, and every count is "
     ">= 0.", host_fwd_shape),
    ("FWD-COUNTED", "Every released NS_FORWARD packet went exactly one way: up the stack, "
     "down to the NIC, back up the stack, or released.", host_fwd_counted),
    ("FWD-NO-ECHO", "Transparent mode never hands the host stack a packet the stack sent "
     "out: no packet released on a host RX ring goes up the stack.", host_fwd_no_echo),
):
    HOST_FWD.invariant(_id, _sentence)(_fn)
