"""netmap on some of ENA's queues: which TX queue a packet from the host stack lands on
while other queues are in netmap mode.

A netmap user may bind one queue pair (NR_REG_ONE_NIC) and leave the others to the
stack.  ena_netmap_reg then switches only the krings whose mode is pending
(``nr_mode = NKR_NETMAP_ON``,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L274),
and the datapath asks per queue (ena_ring_in_netmap,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L222).
From the first registration on, the interface's ``if_transmit`` is netmap_transmit
(nm_os_onenter,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_freebsd.c#L1488).
Two functions then pick a TX queue for the same packet, each on its own:

* netmap_transmit looks at TX kring ``MBUF_TXQ(m) % num_tx_rings``, ``MBUF_TXQ`` being
  ``m_pkthdr.flowid``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4305):
  if that kring is in netmap mode the packet goes to the host RX ring; if not, to the
  driver's own transmit, ``MBUF_TRANSMIT`` (ena_mq_start).
* ena_mq_start takes ``flowid % num_io_queues`` for a packet with a hash type, and
  ``curcpu % num_io_queues`` for one without
  (https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L139);
  a kernel built with ``options RSS`` takes the RSS bucket of the flowid instead.
  ena_start_xmit does not ask whether that queue is in netmap mode.

ena_netmap_attach sets ``num_tx_rings = num_io_queues``, so for a hashed packet (and no
RSS option) both pick the same queue.  For a packet without a hash type -- every packet
of a socket the stack has not hashed, ARP, anything from a CPU other than the flowid's --
they differ, and the stack's packet is queued on a TX queue that netmap owns: its
descriptors go into the SQ that ena_netmap_txsync fills, its req_id comes from the same
free list, and its completion is read by ena_netmap_tx_cleanup, which frees no mbuf
(``ENA-NM-TXQ-APART``, refuted as shipped).  The hardened choice, while netmap mode is on
for any ring, is the one netmap_transmit checked: ``flowid % num_io_queues`` for every
packet.

The model keeps the residues, not the numbers: a step takes ``txq`` (``flowid %
num_io_queues``), ``cpuq`` (``curcpu % num_io_queues``) and ``rssq`` (the RSS bucket modulo
the queues) in ``[0, nq)``.  Every combination is reachable (pick the flowid, the CPU and
the bucket), and the rules depend on nothing else.  The queue modes are a bit mask over at
most 15 queues (u16); the rule reads the same for ENA's 32.  One kring pair per queue, its
TX and RX switched together, as NR_REG_ONE_NIC and NR_REG_ALL_NIC bind them.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Not, Param, Step, Term, Var
from model.ena_bits import add16, bit, depth, ite, sub16, ule, ult
from model.ena_machine import EnaMachine, replace

#: Queues the u16 mode mask can hold.
MAX_QUEUES = 15

__all__ = ["MAX_QUEUES", "NETMAP_TXQ", "NetmapTxq", "txq_init"]


@dataclass(frozen=True)
class NetmapTxq:
    """The IO queues, which of them are in netmap mode, and where the host stack's
    packets went."""

    nq: Term
    on: Term
    to_host: Term
    sent: Term
    mixed: Term

    def replace(self, **changes: Term) -> NetmapTxq:
        return replace(self, **changes)

    def __repr__(self) -> str:
        return (f"NetmapTxq(nq={self.nq}, on={self.on}, to_host={self.to_host}, "
                f"sent={self.sent}, mixed={self.mixed})")


def txq_init(k: Term = 0) -> NetmapTxq:
    """An adapter with 4 IO queues, none in netmap mode, nothing sent.  (The argument is
    the ring depth the other ENA machines take; this machine has no ring.)"""
    del k
    return NetmapTxq(nq=4, on=0, to_host=0, sent=0, mixed=0)


NETMAP_TXQ = EnaMachine(
    name="ena_netmap_txq",
    title="ENA netmap on some queues: the stack's TX queue",
    state_type=NetmapTxq,
    vars=(
        Var("nq", "driver", "u16", "adapter->num_io_queues (= netmap's num_tx_rings)."),
        Var("on", "driver", "u16", "Bit q: TX kring q is in netmap mode (nr_mode == "
            "NKR_NETMAP_ON, what ena_tx_ring_in_netmap reads)."),
        Var("to_host", "ghost", "u16", "Ghost: stack packets netmap_transmit queued for the "
            "host RX ring."),
        Var("sent", "ghost", "u16", "Ghost: stack packets ena_mq_start queued on a TX queue "
            "in mbuf mode."),
        Var("mixed", "ghost", "u16", "Ghost: stack packets ena_mq_start queued on a TX "
            "queue in netmap mode."),
    ),
    init=txq_init,
    doc=txq_init.__doc__ or "",
    driver_fields=("nq", "on"),
    min_log2=1,
    max_log2=1,
)


def all_queues(s: NetmapTxq) -> Term:
    """The mask of every queue: ``2^nq - 1``."""
    return sub16(depth(s.nq), 1)


def netmap_reg(s: NetmapTxq, onoff: Term, rings: Term) -> NetmapTxq:
    """ena_netmap_reg: the krings of ``rings`` whose mode is pending switch to ``onoff``
    (between ena_down and ena_up; the rest keep theirs)."""
    rings = rings & all_queues(s)
    return s.replace(on=ite(Eq(onoff, 1), s.on | rings, s.on & ~rings))


_REG = (Param("onoff", "bit", "1: the rings enter netmap mode, 0: they leave it"),
        Param("rings", "u16", "the queue pairs switching (bit q: pair q; NR_REG_ONE_NIC "
              "sets one bit, NR_REG_ALL_NIC all)"))


@NETMAP_TXQ.transition(actor="driver", params=_REG)
def register(s: NetmapTxq, onoff: Term, rings: Term) -> Step:
    """A NIOCREGIF or the last close of a binding: netmap_do_regif / netmap_do_unregif
    call ena_netmap_reg when a kring changes mode."""
    return Step(True, netmap_reg(s, onoff, rings))


def stack_transmit(s: NetmapTxq, txq: Term, hashed: Term, cpuq: Term, rss: Term,
                   rssq: Term, hardened: bool) -> Step:
    """The stack sends one packet: ``if_transmit`` is netmap_transmit while any ring is
    in netmap mode (else ena_mq_start, and no queue is in netmap mode).  netmap_transmit
    takes it for the host RX ring if TX kring ``txq`` is in netmap mode, else hands it to
    ena_mq_start, which queues it on the queue of its own choice (hardened: ``txq``)."""
    guard = And(ult(txq, s.nq), ult(cpuq, s.nq), ult(rssq, s.nq))
    native = Not(Eq(s.on, 0))
    to_host = And(native, Eq(bit(s.on, txq), 1))
    shipped = ite(Eq(hashed, 1), ite(Eq(rss, 1), rssq, txq), cpuq)
    queue = ite(native, txq, shipped) if hardened else shipped
    mixed = And(Not(to_host), Eq(bit(s.on, queue), 1))
    sent = And(Not(to_host), Not(mixed))
    return Step(guard, s.replace(
        to_host=ite(to_host, add16(s.to_host, 1), s.to_host),
        sent=ite(sent, add16(s.sent, 1), s.sent),
        mixed=ite(mixed, add16(s.mixed, 1), s.mixed)))


_SEND = (Param("txq", "u16", "m_pkthdr.flowid % num_io_queues"),
         Param("hashed", "bit", "M_HASHTYPE_GET(m) != M_HASHTYPE_NONE"),
         Param("cpuq", "u16", "curcpu % num_io_queues"),
         Param("rss", "bit", "the kernel has options RSS"),
         Param("rssq", "u16", "the flowid's RSS bucket % num_io_queues"))


@NETMAP_TXQ.transition(actor="driver", params=_SEND, breaks=("ENA-NM-TXQ-APART",))
def stack_transmit_as_shipped(s: NetmapTxq, txq: Term, hashed: Term, cpuq: Term,
                              rss: Term, rssq: Term) -> Step:
    """netmap_transmit, then ena_mq_start's own choice of queue."""
    return stack_transmit(s, txq, hashed, cpuq, rss, rssq, hardened=False)


@NETMAP_TXQ.transition(actor="driver", params=_SEND)
def stack_transmit_hardened(s: NetmapTxq, txq: Term, hashed: Term, cpuq: Term,
                            rss: Term, rssq: Term) -> Step:
    """netmap_transmit, then ena_mq_start on the queue netmap_transmit checked
    (``flowid % num_io_queues``) while any ring is in netmap mode."""
    return stack_transmit(s, txq, hashed, cpuq, rss, rssq, hardened=True)


@NETMAP_TXQ.invariant(
    "ENA-NM-TXQ-SHAPE",
    "There are 1 to 15 IO queues, and only existing queues are in netmap mode.")
def txq_shape(s: NetmapTxq) -> Term:
    return And(ule(1, s.nq), ule(s.nq, MAX_QUEUES), Eq(s.on & ~all_queues(s), 0))


@NETMAP_TXQ.invariant(
    "ENA-NM-TXQ-APART",
    "The host stack never queues a packet on a TX queue in netmap mode: netmap_transmit "
    "takes it for the host ring, or the driver sends it on a queue in mbuf mode.")
def txq_apart(s: NetmapTxq) -> Term:
    return Eq(s.mixed, 0)
