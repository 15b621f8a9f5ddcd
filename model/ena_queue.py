"""ENA IO queues over free-running u16 counters: the submission queue (SQ) space and
doorbell, and the completion queue (CQ) with its phase bit.

Parametric: every proof leaves the depth 2^``depth_log2`` symbolic (1 <= k <= 15), so it
covers every ring size ENA can have at once; counters wrap at 65536 exactly as C ``u16``.

SQ (driver produces, device consumes; host placement; in LLQ placement the same counters
count LLQ entries, see :mod:`model.ena_llq`)::

    [next_to_comp, dev_head)  read by the device, completion not yet acknowledged
    [dev_head, db_tail)       published by the doorbell, not yet read by the device
    [db_tail, tail)           written by the driver, doorbell not yet rung
    [tail, next_to_comp - 1)  free; one slot is always kept empty

``ena_com_free_q_entries`` = ``depth - 1 - (u16)(tail - next_to_comp)``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L105);
``ena_com_sq_update_tail`` advances ``tail`` and flips the phase when the slot wraps to 0
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L252);
``ena_com_write_sq_doorbell`` writes ``tail`` unmasked
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L183);
``ena_com_comp_ack`` adds the completed packet's entries to ``next_to_comp``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L218).

CQ (device produces, driver consumes): the device writes completion ``c`` (its own
counter) into slot ``c & mask`` with the phase of pass ``c >> k`` (1, 0, 1, ...; memory
starts zeroed); the driver takes the entry at ``head`` only if its phase equals
``io_cq->phase``, then ``ena_com_cq_inc_head`` advances ``head`` and flips the phase on
wrap (https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L223,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L232).
The ghost ``mem_seq`` records which completion last wrote each slot, so "the consumer
takes every entry exactly once and never a stale one" is a state invariant
(ENA-CQ-ONCE: the last entry taken is completion ``head - 1``).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Implies, Not, Param, Step, Term, Var, solver_module
from model.ena_bits import (
    add16,
    depth,
    filled,
    forall_below,
    ite,
    pass_phase,
    select,
    slot,
    store,
    sub16,
    ule,
    ult,
)
from model.ena_machine import EnaMachine, choose, replace

__all__ = [
    "CQ",
    "SQ",
    "EnaCq",
    "EnaSq",
    "advance_tail",
    "cq_consume",
    "cq_entry_ready",
    "cq_init",
    "cq_outstanding",
    "cq_produce",
    "device_consume",
    "free_q_entries",
    "have_enough_space",
    "phase_after",
    "sq_comp_ack",
    "sq_doorbell",
    "sq_init",
    "sq_produce",
    "sq_used",
]

# ============================================================================ SQ


@dataclass(frozen=True)
class EnaSq:
    """One IO submission queue: ``struct ena_com_io_sq`` counters and the device's read
    pointer.  All counters are free-running u16; ``phase`` is 0/1."""

    depth_log2: Term
    tail: Term
    next_to_comp: Term
    phase: Term
    db_tail: Term
    dev_head: Term

    def replace(self, **changes: Term) -> EnaSq:
        return replace(self, **changes)


SQ_VARS = (
    Var("depth_log2", "constant", "log2", "log2(q_depth); q_depth = 2^k, 1 <= k <= 15."),
    Var("tail", "driver", "u16", "io_sq->tail: next SQ entry the driver writes."),
    Var("next_to_comp", "driver", "u16", "io_sq->next_to_comp: first entry whose completion "
        "has not been acknowledged (ena_com_comp_ack)."),
    Var("phase", "driver", "bit", "io_sq->phase: the phase bit written into the next entry."),
    Var("db_tail", "driver", "u16", "The tail value last written to the SQ doorbell register."),
    Var("dev_head", "device", "u16", "The device's read pointer: next entry it fetches."),
)


def sq_init(k: Term) -> EnaSq:
    """ena_com_create_io_queue: tail = next_to_comp = 0, phase = 1; the device has read
    nothing and no doorbell was rung."""
    return EnaSq(depth_log2=k, tail=0, next_to_comp=0, phase=1, db_tail=0, dev_head=0)


SQ = EnaMachine(
    name="ena_sq",
    title="ENA submission queue",
    state_type=EnaSq,
    vars=SQ_VARS,
    init=sq_init,
    doc=sq_init.__doc__ or "",
    driver_fields=("depth_log2", "tail", "next_to_comp", "phase", "db_tail"),
)


def sq_used(s: EnaSq) -> Term:
    """Entries in use: ``(u16)(tail - next_to_comp)``."""
    return sub16(s.tail, s.next_to_comp)


def free_q_entries(s: EnaSq) -> Term:
    """ena_com_free_q_entries: ``q_depth - 1 - (u16)(tail - next_to_comp)`` (u16 here; the C
    returns it as an int, equal while ENA-SQ-SPACE holds)."""
    return sub16(sub16(depth(s.depth_log2), 1), sq_used(s))


def have_enough_space(
    s: EnaSq, required: Term, llq: bool = False, descs_per_entry: int = 8
) -> Term:
    """ena_com_sq_have_enough_space: host placement ``free >= required``; LLQ placement
    ``free > required / descs_per_entry + 2`` (one line for the header, one for rounding
    down)."""
    if llq:
        return ult(add16(required // descs_per_entry if isinstance(required, int)
                         else _udiv(required, descs_per_entry), 2), free_q_entries(s))
    return ule(required, free_q_entries(s))


def _udiv(x: Term, d: int) -> Term:
    return solver_module(x).UDiv(x, d)


def phase_after(counter: Term, phase: Term, k: Term) -> Term:
    """The phase once a counter has moved to ``counter``: flipped when its slot is 0 (it
    wrapped), as ena_com_sq_update_tail and ena_com_cq_inc_head do (and the admin queue
    and AENQ loops in ena_com.c)."""
    return ite(Eq(slot(counter, k), 0), 1 ^ phase, phase)


def advance_tail(s: EnaSq) -> EnaSq:
    """tail++, flipping the phase when the new tail's slot is 0 (a wrap)."""
    tail = add16(s.tail, 1)
    return s.replace(tail=tail, phase=phase_after(tail, s.phase, s.depth_log2))


@SQ.transition(actor="driver")
def sq_produce(s: EnaSq) -> Step:
    """The driver writes one entry at ``tail & mask`` with the current phase and advances
    tail (ena_com_sq_update_tail).  Allowed while ena_com_sq_have_enough_space(1)."""
    return Step(have_enough_space(s, 1), advance_tail(s))


@SQ.transition(actor="driver")
def sq_doorbell(s: EnaSq) -> Step:
    """ena_com_write_sq_doorbell: the device may now read up to ``tail``."""
    return Step(True, s.replace(db_tail=s.tail))


@SQ.transition(actor="device")
def device_consume(s: EnaSq) -> Step:
    """The device fetches the entry at ``dev_head``; it reads only what a doorbell
    published."""
    return Step(Not(Eq(s.dev_head, s.db_tail)), s.replace(dev_head=add16(s.dev_head, 1)))


@SQ.transition(actor="driver", params=(Param("n", "u16", "entries the completion frees"),))
def sq_comp_ack(s: EnaSq, n: Term) -> Step:
    """ena_com_comp_ack(n): the driver returns the entries of completed packets (their
    ``tx_descs``, or the RX descriptors of a packet); only entries the device has read can
    be completed."""
    return Step(ule(n, sub16(s.dev_head, s.next_to_comp)),
                s.replace(next_to_comp=add16(s.next_to_comp, n)))


@SQ.invariant(
    "ENA-SQ-SPACE",
    "At most depth - 1 entries are in use: (u16)(tail - next_to_comp) <= depth - 1, so "
    "ena_com_free_q_entries never goes negative and one slot always stays empty.",
)
def sq_space(s: EnaSq) -> Term:
    return ule(sq_used(s), sub16(depth(s.depth_log2), 1))


@SQ.invariant(
    "ENA-SQ-PHASE",
    "The phase the driver writes is the phase of the pass tail is in: 1 ^ bit k of tail.",
)
def sq_phase(s: EnaSq) -> Term:
    return Eq(s.phase, pass_phase(s.tail, s.depth_log2))


@SQ.invariant(
    "ENA-SQ-ORDER",
    "From next_to_comp one meets dev_head, then db_tail, then tail: the device reads only "
    "entries a doorbell published, and only read entries are acknowledged.",
)
def sq_order(s: EnaSq) -> Term:
    base = s.next_to_comp
    return And(
        ule(sub16(s.dev_head, base), sub16(s.db_tail, base)),
        ule(sub16(s.db_tail, base), sub16(s.tail, base)),
    )


# ============================================================================ CQ


@dataclass(frozen=True)
class EnaCq:
    """One IO completion queue: ``struct ena_com_io_cq`` (head, phase), the device's
    producer counter and phase, and the completion memory (phase bit per slot, and the
    ghost number of the completion that last wrote it)."""

    depth_log2: Term
    head: Term
    phase: Term
    dev_tail: Term
    dev_phase: Term
    mem_phase: Term
    mem_seq: Term
    last_seq: Term
    dropped: Term

    def replace(self, **changes: Term) -> EnaCq:
        return replace(self, **changes)


CQ_VARS = (
    Var("depth_log2", "constant", "log2", "log2(q_depth); q_depth = 2^k, 1 <= k <= 15."),
    Var("head", "driver", "u16", "io_cq->head: next completion the driver takes."),
    Var("phase", "driver", "bit", "io_cq->phase: the phase a fresh entry at head carries."),
    Var("dev_tail", "device", "u16", "The device's count of completions written."),
    Var("dev_phase", "device", "bit", "The phase the device writes in its current pass."),
    Var("mem_phase", "memory", "array", "Phase bit of each CQ slot (cdesc flags bit 0 / "
        "status bit 24), zero at allocation (BUS_DMA_ZERO)."),
    Var("mem_seq", "ghost", "array", "Ghost: the completion number (device counter) that "
        "last wrote each slot."),
    Var("last_seq", "ghost", "u16", "Ghost: the completion number of the last entry taken."),
    Var("dropped", "ghost", "u16", "Ghost: completions taken from the CQ but not handed to "
        "the cleanup path (the missing-completion diagnostic)."),
)


def cq_init(k: Term) -> EnaCq:
    """CQ memory zeroed, head = 0, phase = 1 (ena_com_create_io_queue): an untouched CQ
    never looks valid.  The device starts at completion 0 with phase 1."""
    return EnaCq(depth_log2=k, head=0, phase=1, dev_tail=0, dev_phase=1,
                 mem_phase=filled(k, 0), mem_seq=filled(k, 0), last_seq=0xFFFF, dropped=0)


CQ = EnaMachine(
    name="ena_cq",
    title="ENA completion queue",
    state_type=EnaCq,
    vars=CQ_VARS,
    init=cq_init,
    doc=cq_init.__doc__ or "",
    driver_fields=("depth_log2", "head", "phase"),
)


def cq_entry_ready(s: EnaCq) -> Term:
    """The driver's test: the entry at head carries the expected phase."""
    return Eq(select(s.mem_phase, slot(s.head, s.depth_log2)), s.phase)


def _take(s: EnaCq) -> EnaCq:
    """ena_com_cq_inc_head after reading the entry at head."""
    k = s.depth_log2
    head = add16(s.head, 1)
    return s.replace(
        head=head,
        phase=ite(Eq(slot(head, k), 0), 1 ^ s.phase, s.phase),
        last_seq=select(s.mem_seq, slot(s.head, k)),
    )


@CQ.transition(actor="device")
def cq_produce(s: EnaCq) -> Step:
    """The device writes completion ``dev_tail`` into its slot with its phase, then
    advances (flipping its phase on wrap).  It never has more than depth completions
    outstanding: one per SQ entry read, and ENA-SQ-SPACE keeps those below depth."""
    k = s.depth_log2
    i = slot(s.dev_tail, k)
    tail = add16(s.dev_tail, 1)
    return Step(
        ult(sub16(s.dev_tail, s.head), depth(k)),
        s.replace(
            mem_phase=store(s.mem_phase, i, s.dev_phase),
            mem_seq=store(s.mem_seq, i, s.dev_tail),
            dev_tail=tail,
            dev_phase=ite(Eq(slot(tail, k), 0), 1 ^ s.dev_phase, s.dev_phase),
        ),
    )


@CQ.transition(actor="driver")
def cq_consume(s: EnaCq) -> Step:
    """The driver takes the entry at head when its phase matches (ena_com_tx_comp_req_id_get
    / ena_com_cdesc_rx_pkt_get), then ena_com_cq_inc_head.  A mismatch is ENA_COM_TRY_AGAIN:
    nothing new (this step is then not enabled)."""
    return Step(cq_entry_ready(s), _take(s))


@CQ.transition(actor="driver", breaks=("ENA-CQ-HANDED",))
def missing_tx_diagnostic_as_shipped(s: EnaCq) -> Step:
    """check_cdesc_in_tx_cq as shipped: to tell MISS_TX_CMPL from MISS_INTERRUPT it calls
    ena_com_tx_comp_req_id_get, which advances head past a valid entry: the completion is
    consumed and never handed to ena_tx_cleanup (its req_id stays in flight)."""
    ready = cq_entry_ready(s)
    taken = _take(s).replace(dropped=add16(s.dropped, 1))
    return Step(True, choose(ready, taken, s))


@CQ.transition(actor="driver")
def missing_tx_diagnostic_hardened(s: EnaCq) -> Step:
    """check_cdesc_in_tx_cq hardened: it only peeks at the phase of the entry at head."""
    return Step(True, s)


def cq_outstanding(s: EnaCq) -> Term:
    """Completions written by the device and not yet taken: (u16)(dev_tail - head)."""
    return sub16(s.dev_tail, s.head)


@CQ.invariant(
    "ENA-CQ-PHASE",
    "Driver and device phases are those of their passes: phase = 1 ^ bit k of head, "
    "dev_phase = 1 ^ bit k of dev_tail.",
)
def cq_phase(s: EnaCq) -> Term:
    k = s.depth_log2
    return And(Eq(s.phase, pass_phase(s.head, k)), Eq(s.dev_phase, pass_phase(s.dev_tail, k)))


@CQ.invariant(
    "ENA-CQ-BOUND",
    "The device is never more than depth completions ahead: (u16)(dev_tail - head) <= "
    "depth.",
)
def cq_bound(s: EnaCq) -> Term:
    return ule(cq_outstanding(s), depth(s.depth_log2))


def cq_offset_ok(s: EnaCq, d: Term) -> Term:
    """The slot of completion c = head + d (d < depth): if c was written (d < outstanding)
    the slot carries c and c's phase; otherwise it carries the other phase (a stale entry
    of the previous pass, or zeroed memory).  As d runs over 0..depth-1 the slot
    ``(head + d) & mask`` runs over every slot once."""
    k = s.depth_log2
    c = add16(s.head, d)
    i = slot(c, k)
    ph = select(s.mem_phase, i)
    return ite(
        ult(d, cq_outstanding(s)),
        And(Eq(select(s.mem_seq, i), c), Eq(ph, pass_phase(c, k))),
        Eq(ph, 1 ^ pass_phase(c, k)),
    )


@CQ.invariant(
    "ENA-CQ-SLOTS",
    "Every slot holds either the completion of the current pass with that pass's phase, "
    "or an entry whose phase is the other one: a stale entry never looks fresh.",
)
def cq_slots(s: EnaCq) -> Term:
    return forall_below(depth(s.depth_log2), lambda d: cq_offset_ok(s, d))


def _cq_instances(s: EnaCq, args: dict[str, Term], fresh: list[Term]) -> list[Term]:
    """ENA-CQ-SLOTS speaks about offsets from head: a step that moves head by one needs
    the offset after the goal's, and the entries at head (offset 0) and after it (1)."""
    return [*fresh, *(add16(d, 1) for d in fresh), 0, 1]


CQ.own_instances = _cq_instances


@CQ.invariant(
    "ENA-CQ-ONCE",
    "The last entry the driver took is completion head - 1: entries are taken in order, "
    "each exactly once, never a stale one.",
)
def cq_once(s: EnaCq) -> Term:
    return Eq(s.last_seq, sub16(s.head, 1))


@CQ.invariant(
    "ENA-CQ-VISIBLE",
    "If the device has written a completion the driver has not taken, the entry at head "
    "carries the expected phase: nothing written is missed.",
)
def cq_visible(s: EnaCq) -> Term:
    return Implies(Not(Eq(s.dev_tail, s.head)), cq_entry_ready(s))


@CQ.invariant(
    "ENA-CQ-HANDED",
    "Every completion taken from the CQ goes to the cleanup path (none dropped).",
)
def cq_handed(s: EnaCq) -> Term:
    return Eq(s.dropped, 0)
