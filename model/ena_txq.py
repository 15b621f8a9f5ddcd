"""ENA TX queue stop and resume: the queue stops when a largest packet might not fit and
resumes when 21 entries are free; it never stays stopped with nothing in flight.

Parametric in the depth 2^k for every k >= 8 (ENA_MIN_RING_SIZE = 256 up to 2^15) and in
``max_tx_sgl_size`` (1..ENA_PKT_MAX_BUFS = 19); host placement (entries = descriptors).

Upstream: the stop test after a successful xmit (``!have_enough_space(max_tx_sgl_size +
2)``: "one for the meta descriptor and one for header") and the re-check that closes the
race with a concurrent cleanup, in ena_xmit_mbuf
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L975);
the resume test at the end of ena_tx_cleanup
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L245);
ENA_TX_RESUME_THRESH = ENA_PKT_MAX_BUFS + 2
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L127);
the space test ena_com_sq_have_enough_space
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L117).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Implies, Not, Param, Step, Term, Var
from model.ena_bits import add16, depth, ite, sub16, ule, ult
from model.ena_machine import EnaMachine, replace

__all__ = ["PKT_MAX_BUFS", "TXQ", "TX_RESUME_THRESH", "EnaTxQueue", "txq_free", "txq_init",
           "txq_space"]

PKT_MAX_BUFS = 19
TX_RESUME_THRESH = PKT_MAX_BUFS + 2
MIN_RING_LOG2 = 8  # ENA_MIN_RING_SIZE = 256


@dataclass(frozen=True)
class EnaTxQueue:
    """A TX ring's SQ occupancy and ``tx_ring->running``."""

    depth_log2: Term
    max_sgl: Term
    used: Term
    running: Term

    def replace(self, **changes: Term) -> EnaTxQueue:
        return replace(self, **changes)


TXQ_VARS = (
    Var("depth_log2", "constant", "log2", "log2(ring_size), 8 <= k <= 15."),
    Var("max_sgl", "constant", "u16", "adapter->max_tx_sgl_size, 1..19."),
    Var("used", "driver", "u16", "SQ entries in use: (u16)(tail - next_to_comp)."),
    Var("running", "driver", "bit", "tx_ring->running: 1 = the queue takes packets."),
)


def txq_init(k: Term, max_sgl: Term = PKT_MAX_BUFS) -> EnaTxQueue:
    """A fresh TX ring: empty and running."""
    return EnaTxQueue(depth_log2=k, max_sgl=max_sgl, used=0, running=1)


TXQ = EnaMachine(
    name="ena_txq",
    title="ENA TX queue stop/resume",
    state_type=EnaTxQueue,
    vars=TXQ_VARS,
    init=txq_init,
    doc=txq_init.__doc__ or "",
    driver_fields=("depth_log2", "max_sgl", "used", "running"),
    min_log2=MIN_RING_LOG2,
)


def txq_free(s: EnaTxQueue) -> Term:
    """ena_com_free_q_entries: depth - 1 - used."""
    return sub16(sub16(depth(s.depth_log2), 1), s.used)


def txq_space(s: EnaTxQueue, required: Term) -> Term:
    """ena_com_sq_have_enough_space in host placement: free >= required."""
    return ule(required, txq_free(s))


def stop_check(s: EnaTxQueue, stop_at: Term, resume_at: Term) -> EnaTxQueue:
    """After a successful xmit: stop if a ``stop_at``-entry packet may not fit, then re-check
    (``mb()``) and run again if ``resume_at`` entries are already free."""
    stopped = ite(txq_space(s, stop_at), s.running, 0)
    return s.replace(running=ite(And(Eq(stopped, 0), txq_space(s, resume_at)), 1, stopped))


def resume_check(s: EnaTxQueue, resume_at: Term) -> EnaTxQueue:
    """End of ena_tx_cleanup: a stopped queue with ``resume_at`` free entries runs again."""
    return s.replace(running=ite(And(Eq(s.running, 0), txq_space(s, resume_at)), 1,
                                 s.running))


XMIT_PARAMS = (Param("descs", "u16", "SQ entries the packet uses (data descriptors plus "
                     "an optional meta descriptor), 1..max_tx_sgl_size"),)


def xmit(s: EnaTxQueue, descs: Term, stop_at: Term | None = None,
         resume_at: Term = TX_RESUME_THRESH) -> Step:
    guard = And(Eq(s.running, 1), ule(1, descs), ule(descs, s.max_sgl), txq_space(s, descs))
    post = s.replace(used=add16(s.used, descs))
    return Step(guard, stop_check(post, add16(s.max_sgl, 2) if stop_at is None else stop_at,
                                  resume_at))


@TXQ.transition(actor="driver", params=XMIT_PARAMS)
def tx_xmit(s: EnaTxQueue, descs: Term) -> Step:
    """ena_xmit_mbuf on a running queue: ena_com_prepare_tx needs room for the packet, the
    entries are used, then the stop test at max_tx_sgl_size + 2 and the resume re-check
    at 21."""
    return xmit(s, descs)


@TXQ.transition(actor="driver", params=(Param("n", "u16", "entries completed"),))
def tx_cleanup(s: EnaTxQueue, n: Term) -> Step:
    """ena_tx_cleanup: completions free n entries (ena_com_comp_ack), then the resume test
    at ENA_TX_RESUME_THRESH = 21."""
    return Step(ule(n, s.used), resume_check(s.replace(used=sub16(s.used, n)),
                                             TX_RESUME_THRESH))


@TXQ.invariant(
    "ENA-TXQ-CONFIG",
    "1 <= max_tx_sgl_size <= ENA_PKT_MAX_BUFS (19) and at most depth - 1 entries are used.",
)
def txq_config(s: EnaTxQueue) -> Term:
    return And(ule(1, s.max_sgl), ule(s.max_sgl, PKT_MAX_BUFS),
               ule(s.used, sub16(depth(s.depth_log2), 1)),
               Eq(s.running, s.running & 1))


@TXQ.invariant(
    "ENA-TXQ-ROOM",
    "A running queue has room for a largest packet plus one: have_enough_space("
    "max_tx_sgl_size + 2), so ena_com_prepare_tx never reports a full ring to it.",
)
def txq_room(s: EnaTxQueue) -> Term:
    return Implies(Eq(s.running, 1), txq_space(s, add16(s.max_sgl, 2)))


@TXQ.invariant(
    "ENA-TXQ-WAKE",
    "A stopped queue has entries in flight and fewer than 21 free: the completions of "
    "those entries run ena_tx_cleanup, which resumes it; it never waits on nothing.",
)
def txq_wake(s: EnaTxQueue) -> Term:
    return Implies(Eq(s.running, 0), And(ult(0, s.used), Not(txq_space(s, TX_RESUME_THRESH))))


@TXQ.contract(
    "ENA-TXQ-NO-DEADLOCK",
    "A cleanup that completes everything in flight leaves the queue running.",
    transitions=("tx_cleanup",),
)
def txq_no_deadlock(s: EnaTxQueue, args: dict[str, Term], step: Step) -> Term:
    return Implies(Eq(args["n"], s.used), And(step.guard, Eq(step.post.running, 1)))
