"""The host-stack rings: the host RX ring fed by ``netmap_transmit`` and the host TX ring
that ``netmap_txsync_to_host`` empties into the stack.

When a port is in netmap mode the stack's own packets no longer reach the NIC: FreeBSD's
``if_transmit`` (Linux: ``ndo_start_xmit``) is replaced by ``netmap_transmit``, which
queues each packet (an mbuf) on the host RX kring's ``rx_queue``; the next rxsync of the
host RX ring copies the queued packets into the ring's buffers.  In the other direction,
the packets a user releases on the host TX ring are copied into mbufs and handed to the
stack as if the NIC had received them.  Upstream, at the pinned commit:

* ``netmap_transmit``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4278):
  a packet longer than a netmap buffer is dropped; otherwise it is queued only if
  ``busy + mbq_len(q) < num_slots - 1`` where ``busy = nr_hwtail - nr_hwcur`` (mod N),
  so "we are sure there is going to be enough room in the host RX ring"; a drop returns
  ENOBUFS and counts ``IFCOUNTER_OQDROPS``.
* ``netmap_rxsync_from_host``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1390):
  first import queued packets into slots ``nr_hwtail ..`` stopping before
  ``nm_prev(nr_hwcur)`` (one slot always empty), then ``nr_hwcur = rhead``.
* ``netmap_txsync_to_host``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1357)
  and ``netmap_grab_packets``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1239):
  every slot in ``[nr_hwcur, rhead)`` is copied up (a length below 14 or above the
  buffer is logged and skipped), then ``nr_hwcur = rhead`` and ``nr_hwtail = rhead - 1``:
  the kernel never holds a host TX slot between syscalls.

Transparent mode (``NS_FORWARD``) is :mod:`model.netmap_forward`.  Not modelled here:
the ENXIO / ``MBUF_TRANSMIT`` paths of ``netmap_transmit`` (port not in netmap mode, or
the packet's TX ring not in netmap mode: the packet goes to the NIC's own transmit), the
offload drops (checksum / segmentation offload requested) which act like the too-long
drop, and an mbuf shortage in ``netmap_grab_packets`` (``m_devget`` failing ends the
scan, and the slots after it are released without being sent up).  The prologue the
host rings share with the hardware rings is :mod:`model.netmap_ring`'s; here a head the
prologue refuses is replaced by the kernel's ``nr_hwcur``, as reinit does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import (
    And,
    Eq,
    If,
    Machine,
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
class HostRx:
    """The host RX kring, its ring's head/tail and the ``rx_queue`` of mbufs."""

    n: Term
    head: Term
    tail: Term
    hwcur: Term
    hwtail: Term
    qlen: Term
    synced: Term
    accepted: Term
    dropped: Term
    imported: Term

    def __repr__(self) -> str:
        return (f"HostRx(n={self.n}, head={self.head}, tail={self.tail}, hwcur={self.hwcur}, "
                f"hwtail={self.hwtail}, qlen={self.qlen}, synced={self.synced}, "
                f"accepted={self.accepted}, dropped={self.dropped}, imported={self.imported})")

    def replace(self, **changes: Term) -> HostRx:
        return dataclasses.replace(self, **changes)


HOST_RX_VARS = (
    Var("n", "constant", "size", "Slots in the host RX ring."),
    Var("head", "user", "u32", "ring->head: the first packet the user has not released."),
    Var("tail", "kernel", "index", "ring->tail: the first slot the kernel has not shown."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: the first slot the user still holds."),
    Var("hwtail", "kernel", "index", "kring->nr_hwtail: the first slot without a packet."),
    Var("qlen", "kernel", "count", "mbq_len(&kring->rx_queue): packets accepted by "
        "netmap_transmit and not yet copied into the ring."),
    Var("synced", "ghost", "count", "1 right after an rxsync, 0 after netmap_transmit "
        "accepts a packet."),
    Var("accepted", "ghost", "count", "Packets netmap_transmit accepted (returned 0)."),
    Var("dropped", "ghost", "count", "Packets netmap_transmit dropped (ENOBUFS)."),
    Var("imported", "ghost", "count", "Packets rxsync copied from the queue into the ring."),
)


def host_rx_init(n: Term) -> HostRx:
    """netmap_krings_create: an empty ring (hwcur = hwtail = 0) and an empty queue."""
    return HostRx(n=n, head=0, tail=0, hwcur=0, hwtail=0, qlen=0, synced=1, accepted=0,
                  dropped=0, imported=0)


def host_rx_busy(s: HostRx) -> Term:
    """``nr_hwtail - nr_hwcur`` (mod N): the slots the user holds or has not released
    to the kernel yet, as netmap_transmit counts them."""
    return ring_dist(s.hwcur, s.hwtail, s.n)


def host_rx_room(s: HostRx) -> Term:
    """Slots rxsync can fill: from ``nr_hwtail`` up to, not including, ``nm_prev(hwcur)``."""
    return ring_dist(s.hwtail, ring_prev(s.hwcur, s.n), s.n)


def transmit_full(s: HostRx) -> Term:
    """netmap_transmit's drop test: ``busy + mbq_len(q) >= num_slots - 1``."""
    return host_rx_busy(s) + s.qlen >= s.n - 1


def _transmit(s: HostRx, fits: Term, full: Term) -> Step:
    drop = If(Eq(fits, 1), full, True)
    return Step(True, s.replace(
        qlen=If(drop, s.qlen, s.qlen + 1),
        synced=If(drop, s.synced, 0),
        accepted=If(drop, s.accepted, s.accepted + 1),
        dropped=If(drop, s.dropped + 1, s.dropped),
    ))


def netmap_transmit(s: HostRx, fits: Term) -> Step:
    """The stack hands netmap one packet; ``fits`` is 1 if it is no longer than a netmap
    buffer.  Queued if it fits and the ring will have room for it, else dropped."""
    return _transmit(s, fits, transmit_full(s))


def user_release(s: HostRx, k: Term) -> Step:
    """The user consumes ``k`` packets: ``head`` moves forward, at most up to ``tail``."""
    return Step(k <= ring_dist(s.head, s.tail, s.n), s.replace(head=ring_add(s.head, k, s.n)))


def user_scribble_head(s: HostRx, h: Term) -> Step:
    """An adversarial user writes any 32-bit value into ``ring->head``."""
    return Step(True, s.replace(head=h))


def head_accepted(s: HostRx) -> Term:
    """What nm_rxsync_prologue accepts for head: ``hwcur <= head <= hwtail`` (cyclic)."""
    return And(in_range(s.head, s.n), in_cyclic(s.hwcur, s.head, s.hwtail, s.n))


def import_queue(s: HostRx, room: Term) -> HostRx:
    """First part of netmap_rxsync_from_host: copy ``min(qlen, room)`` queued packets into
    the slots from ``nr_hwtail`` on."""
    k = If(s.qlen <= room, s.qlen, room)
    return s.replace(hwtail=ring_add(s.hwtail, k, s.n), qlen=s.qlen - k,
                     imported=s.imported + k)


def finish_rxsync(s: HostRx, got: HostRx) -> HostRx:
    """Second part and finalize: ``nr_hwcur = rhead`` (the kernel's own copy if the
    prologue refused head), then ``ring->tail = nr_hwtail``."""
    head = If(head_accepted(s), s.head, s.hwcur)
    return got.replace(hwcur=head, head=head, tail=got.hwtail, synced=1)


def rxsync_from_host(s: HostRx) -> Step:
    """NIOCRXSYNC (or poll) on the host RX ring."""
    return Step(True, finish_rxsync(s, import_queue(s, host_rx_room(s))))


def host_rx_shape(s: HostRx) -> Term:
    return And(in_range(s.hwcur, s.n), in_range(s.hwtail, s.n), in_range(s.tail, s.n),
               s.qlen >= 0, s.accepted >= 0, s.dropped >= 0, s.imported >= 0,
               s.synced >= 0, s.synced <= 1)


def host_rx_fits(s: HostRx) -> Term:
    return host_rx_busy(s) + s.qlen <= s.n - 1


def host_rx_counted(s: HostRx) -> Term:
    return Eq(s.accepted, s.qlen + s.imported)


def host_rx_drained(s: HostRx) -> Term:
    return If(Eq(s.synced, 1), Eq(s.qlen, 0), True)


def host_rx_view(s: HostRx) -> Term:
    return And(Eq(s.tail, s.hwtail), head_accepted(s))


HOST_RX = Machine(
    name="netmap_host_rx",
    title="The host RX ring and netmap_transmit",
    state_type=HostRx,
    vars=HOST_RX_VARS,
    init=host_rx_init,
    doc="A fresh host RX ring: hwcur = hwtail = head = tail = 0 and an empty queue.",
)

#: netmap_transmit's one choice: whether the stack's packet fits a netmap buffer.
FITS = Param("fits", "bit", "1: the packet is no longer than a netmap buffer.")

HOST_RX.transition(actor="kernel", params=(FITS,))(netmap_transmit)
HOST_RX.transition(actor="user", params=(
    Param("k", "count", "Packets the user consumes."),))(user_release)
HOST_RX.transition(actor="adversary", view="breaks", params=(
    Param("h", "u32", "The value written into ring->head."),))(user_scribble_head)
HOST_RX.transition(actor="kernel", view="restores")(rxsync_from_host)

for _id, _sentence, _fn, _scope in (
    ("HOST-RX-SHAPE", "hwcur, hwtail and tail are slot indices; the counts are >= 0.",
     host_rx_shape, "kernel"),
    ("HOST-RX-FITS", "The packets in the ring and in the queue together never exceed "
     "N - 1: every packet netmap_transmit accepts has a slot waiting for it.",
     host_rx_fits, "kernel"),
    ("HOST-RX-COUNTED", "Every packet netmap_transmit accepted is still queued or has "
     "been copied into the ring: none is lost.", host_rx_counted, "kernel"),
    ("HOST-RX-DRAINED", "Right after an rxsync the queue is empty: one rxsync delivers "
     "every packet accepted before it.", host_rx_drained, "kernel"),
    ("HOST-RX-VIEW", "The user's view is consistent: tail = hwtail and "
     "hwcur <= head <= hwtail.", host_rx_view, "user"),
):
    HOST_RX.invariant(_id, _sentence, _scope)(_fn)


# ---------------------------------------------------------------------------- host TX


@dataclass(frozen=True)
class HostTx:
    """The host TX kring and its ring's head/tail, with ghost counts of what went up."""

    n: Term
    head: Term
    tail: Term
    hwcur: Term
    hwtail: Term
    pending_bad: Term
    released: Term
    sent_up: Term
    bad_len: Term

    def __repr__(self) -> str:
        return (f"HostTx(n={self.n}, head={self.head}, tail={self.tail}, hwcur={self.hwcur}, "
                f"hwtail={self.hwtail}, pending_bad={self.pending_bad}, "
                f"released={self.released}, sent_up={self.sent_up}, bad_len={self.bad_len})")

    def replace(self, **changes: Term) -> HostTx:
        return dataclasses.replace(self, **changes)


HOST_TX_VARS = (
    Var("n", "constant", "size", "Slots in the host TX ring."),
    Var("head", "user", "index", "ring->head: the first slot the user has not released."),
    Var("tail", "kernel", "index", "ring->tail: the end of the user's free slots."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: the first slot not yet sent up."),
    Var("hwtail", "kernel", "index", "kring->nr_hwtail: the gap, nm_prev(hwcur)."),
    Var("pending_bad", "ghost", "count", "Released slots not yet sent up whose length "
        "netmap_grab_packets refuses (< 14 or > the buffer)."),
    Var("released", "ghost", "count", "Packets the user released."),
    Var("sent_up", "ghost", "count", "Packets handed to the stack."),
    Var("bad_len", "ghost", "count", "Packets skipped for their length (logged)."),
)


def host_tx_init(n: Term) -> HostTx:
    """netmap_krings_create: hwcur = head = 0 and hwtail = tail = N - 1."""
    return HostTx(n=n, head=0, tail=n - 1, hwcur=0, hwtail=n - 1, pending_bad=0,
                  released=0, sent_up=0, bad_len=0)


def user_send(s: HostTx, k: Term, bad: Term) -> Step:
    """The user fills ``k`` slots (``bad`` of them with a length the kernel will refuse)
    and releases them: ``head`` moves forward, at most up to ``tail``."""
    return Step(And(k <= ring_dist(s.head, s.tail, s.n), bad <= k),
                s.replace(head=ring_add(s.head, k, s.n), pending_bad=s.pending_bad + bad,
                          released=s.released + k))


def txsync_to_host(s: HostTx) -> Step:
    """NIOCTXSYNC (or poll) on the host TX ring: every slot from hwcur to head is copied
    up (or skipped for its length), then ``hwcur = head``, ``hwtail = head - 1``."""
    up = ring_dist(s.hwcur, s.head, s.n) - s.pending_bad
    gap = ring_prev(s.head, s.n)
    return Step(True, s.replace(hwcur=s.head, hwtail=gap, tail=gap, pending_bad=0,
                                sent_up=s.sent_up + up, bad_len=s.bad_len + s.pending_bad))


def host_tx_shape(s: HostTx) -> Term:
    return And(in_range(s.head, s.n), in_range(s.tail, s.n), in_range(s.hwcur, s.n),
               in_range(s.hwtail, s.n), s.pending_bad >= 0,
               s.pending_bad <= ring_dist(s.hwcur, s.head, s.n), s.sent_up >= 0,
               s.bad_len >= 0)


def host_tx_nothing_held(s: HostTx) -> Term:
    return And(Eq(s.hwtail, ring_prev(s.hwcur, s.n)), Eq(s.tail, s.hwtail))


def host_tx_once(s: HostTx) -> Term:
    return Eq(s.released, s.sent_up + s.bad_len + ring_dist(s.hwcur, s.head, s.n))


HOST_TX = Machine(
    name="netmap_host_tx",
    title="The host TX ring and netmap_txsync_to_host",
    state_type=HostTx,
    vars=HOST_TX_VARS,
    init=host_tx_init,
    doc="A fresh host TX ring: hwcur = head = 0, hwtail = tail = N - 1.",
)

HOST_TX.transition(actor="user", params=(
    Param("k", "count", "Slots the user fills and releases."),
    Param("bad", "count", "How many of them have a length the kernel refuses."),
))(user_send)
HOST_TX.transition(actor="kernel")(txsync_to_host)

for _id, _sentence, _fn in (
    ("HOST-TX-SHAPE", "Indices are slot indices; the counts are >= 0.", host_tx_shape),
    ("HOST-TX-NOTHING-HELD", "Between syscalls the kernel holds no host TX slot: hwtail "
     "is the gap just before hwcur and tail shows it, so every other slot, whatever "
     "head is, belongs to the user.", host_tx_nothing_held),
    ("HOST-TX-ONCE", "Every released packet is sent up once, skipped once for its "
     "length, or still waiting for the next txsync: never twice, never lost.",
     host_tx_once),
):
    HOST_TX.invariant(_id, _sentence)(_fn)

MACHINES = (HOST_RX, HOST_TX)

__all__ = [
    "HOST_RX", "HOST_TX", "MACHINES", "HostRx", "HostTx", "head_accepted", "host_rx_busy",
    "host_rx_init", "host_rx_room", "host_tx_init", "import_queue", "netmap_transmit",
    "rxsync_from_host", "transmit_full", "txsync_to_host", "user_release", "user_send",
]
