"""The host-stack rings in poll(): a handle bound with NR_REG_SW or NR_REG_NIC_SW polls the
host TX and host RX kring beside (or instead of) the hardware rings.

netmap_poll does not tell the host rings apart: its loops run ``[np_qfirst, np_qlast)``,
which for those bindings ends with the host kring, and call that kring's ``nm_sync``,
which is ``netmap_txsync_to_host``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1357)
or ``netmap_rxsync_from_host``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1390).
So a host kring is a ring of :class:`model.netmap_state.NetmapRing` with its own
"device", the host stack:

* **TX**: the stack takes a packet the moment txsync hands it over.  In the ring's terms
  the device has nothing in flight and nothing completed but unreclaimed (``nic ==
  hwcur``, ``busy == 0``, ``hwtail == hwcur - 1``: :func:`host_tx_ring`), and a txsync
  sends every released slot and reclaims them all (``hwcur = rhead``, ``hwtail = rhead -
  1``) whatever flags it is called with: unlike a NIC's lazy reclaim on poll, the host
  ring never keeps completed slots back (:func:`txsync_to_host`).
* **RX**: the packets ``netmap_transmit``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4278)
  queued on the kring's ``rx_queue`` are the packets "the device" has received but the
  kring has not reported (``nic = hwtail + qlen``), and the room netmap_transmit leaves
  (``busy + qlen < N - 1``) is the empty buffers the device owns (``busy`` = the free
  region, an invariant of every RX ring already).  An rxsync imports the whole queue
  (netmap_transmit never queues more than fits below ``hwcur - 1``) and gives every
  released slot back (``hwcur = rhead``): the NIC driver's rxsync with every slot
  refilled (:func:`rxsync_from_host`).  No extra invariant is needed.

The loops of :mod:`model.netmap_poll_rings` take these as the last ring's parts when the
call says the binding includes the host rings (``RingsCall.host``).  Not modelled here:
transparent mode's ``send_down`` (packets the host rxsync forwarded to the NIC make
netmap_poll run the TX loop again, ``goto flush_tx``); the implementation has it and a
test checks it (tests/unit/test_poll_host.py).
"""

from __future__ import annotations

from model.core import And, Eq, Term, ring_prev
from model.netmap_poll import RxPollParts, TxPollParts
from model.netmap_state import NetmapRing
from model.netmap_sync import rx_driver_sync


def host_tx_ring(s: NetmapRing) -> Term:
    """A host TX kring as a NIC ring: nothing in flight, nothing completed unreclaimed."""
    return And(Eq(s.nic, s.hwcur), Eq(s.busy, 0), Eq(s.hwtail, ring_prev(s.hwcur, s.n)))


def txsync_to_host(policy: str, s: NetmapRing, sent: Term) -> NetmapRing:
    """netmap_txsync_to_host after an accepted prologue: every slot in ``[hwcur, rhead)``
    goes up the stack (or is skipped for its length: either way the slot is done), then
    ``hwcur = rhead`` and ``hwtail = rhead - 1``.  ``policy`` and ``sent`` are not read:
    the host stack takes everything, on every path."""
    return s.replace(hwcur=s.rhead, hwtail=ring_prev(s.rhead, s.n), nic=s.rhead, busy=0)


def rxsync_from_host(s: NetmapRing, refill: Term) -> NetmapRing:
    """netmap_rxsync_from_host (after the prologue, as the NIC's rxsync): import the queue
    (``hwtail = nic``) and release every slot the user gave back (``hwcur = rhead``);
    ``refill`` is not read."""
    return rx_driver_sync(s, s.n)


#: The host rings' parts of netmap_poll's loops.
HOST_TX = TxPollParts(driver=txsync_to_host)
HOST_RX = RxPollParts(driver=rxsync_from_host)

#: The shapes a host kring adds to the ring invariants, per direction.
HOST_RING = {"TX": host_tx_ring, "RX": lambda s: True}
