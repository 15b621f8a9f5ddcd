"""Boundary states of the ENA queues, chosen by z3 from the model's invariants
(:func:`proofs.ena_seeds.satisfying_state`), and the :class:`impl.ena.start.QueueStart`
that creates a driver and device there.

A boundary is a condition on an SQ state (:class:`model.ena_queue.EnaSq`) stated with the
model's own functions.  z3 picks a state ``b`` that satisfies every SQ invariant and the
condition; the run starts with every queue empty at ``b.next_to_comp`` (the oldest entry
``b`` remembers), so the traffic of a short run reaches ``b``'s side of the boundary.  The
empty start state, the CQ at that counter (with the phase bits its memory holds) and the
TX and RX free-id lists (all ids free, in an order z3 chooses, the next one at the
counter's slot) are z3's too: the test checks that the driver and device created from the
``QueueStart`` read back as exactly those states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from impl.ena.start import QueueStart
from model.core import And, Eq, Not, Term
from model.ena_bits import depth, select, slot, sub16, ule, ult
from model.ena_queue import CQ, SQ, EnaSq, have_enough_space
from model.ena_reqid import NORMAL, RX, TX, ReqIds
from model.ena_txq import PKT_MAX_BUFS
from proofs.ena_seeds import satisfying_state

#: log2 of the ring the stateful and boundary tests build (256 entries)
RING_LOG2 = 8
#: how close to a boundary a run starts (entries)
NEAR = 16


def quiescent(s: EnaSq) -> Term:
    """Nothing in flight: every entry written was published, read and completed."""
    return And(Eq(s.tail, s.next_to_comp), Eq(s.db_tail, s.tail), Eq(s.dev_head, s.tail))


def before_wrap(s: EnaSq) -> Term:
    """Empty, tail 1..NEAR entries before the u16 wrap (65535 -> 0)."""
    return And(quiescent(s), ult(0, sub16(0, s.tail)), ule(sub16(0, s.tail), NEAR))


def before_pass_end(s: EnaSq) -> Term:
    """Empty, tail 1..NEAR entries before the end of a pass whose phase is 0 (it flips
    back to 1 there; the CQ memory then holds the 1s of the pass before), far from the
    u16 wrap."""
    k = s.depth_log2
    to_end = sub16(depth(k), slot(s.tail, k))
    return And(quiescent(s), ult(0, to_end), ule(to_end, NEAR),
               ult(depth(k), sub16(0, s.tail)), Eq(s.phase, 0))


def stopped_across_wrap(s: EnaSq) -> Term:
    """Every entry in flight read by the device, too few free entries for a largest packet
    (the TX queue's stop test), and the entries in flight straddling the u16 wrap, whose
    oldest is at most depth / 8 before it."""
    k = s.depth_log2
    return And(Eq(s.dev_head, s.tail), Eq(s.db_tail, s.tail),
               Not(have_enough_space(s, PKT_MAX_BUFS + 2)), ult(s.tail, s.next_to_comp),
               ule(sub16(0, s.next_to_comp), depth(k) >> 3))


BOUNDARIES: dict[str, Callable[[EnaSq], Term]] = {
    "u16-wrap": before_wrap,
    "phase-flip": before_pass_end,
    "stopped-across-wrap": stopped_across_wrap,
}


@dataclass(frozen=True)
class Seed:
    """z3's states for one boundary and the start that realises them."""

    boundary: EnaSq
    sq: EnaSq
    cq: Any
    tx_ids: ReqIds
    rx_ids: ReqIds
    start: QueueStart


def _free_list_at(counter: int) -> Callable[[ReqIds], Term]:
    def where(s: ReqIds) -> Term:
        return And(Eq(s.used, 0), Eq(s.next_to_use, slot(counter, s.depth_log2)),
                   Eq(s.reason, NORMAL), Eq(s.oob, 0), Not(Eq(select(s.ids, 0), 0)))
    return where


@cache
def seed(name: str) -> Seed:
    """The states z3 picks for boundary ``name`` (cached: one solver run per boundary)."""
    b = satisfying_state(SQ, RING_LOG2, BOUNDARIES[name])
    c = b.next_to_comp
    sq = satisfying_state(SQ, RING_LOG2, lambda s: And(quiescent(s), Eq(s.tail, c)))
    cq = satisfying_state(CQ, RING_LOG2, lambda s: And(Eq(s.head, c), Eq(s.dev_tail, c)))
    ids = satisfying_state(TX, RING_LOG2, _free_list_at(c))
    # the RX machine has the TX machine's invariants: one query serves both lists
    assert RX.violated(ids) == []
    start = QueueStart(counter=c, tx_free_ids=ids.ids, tx_next=ids.next_to_use,
                       rx_free_ids=ids.ids, rx_next=ids.next_to_use)
    return Seed(b, sq, cq, ids, ids, start)
