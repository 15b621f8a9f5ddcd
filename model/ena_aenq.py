"""The ENA asynchronous event notification queue (AENQ): the device posts events (link
change, keep-alive, notifications, reset requests) into a 16-entry ring; the management
interrupt takes them in order while their phase bit matches and returns the slots with the
AENQ head doorbell.

The depth is fixed at ENA_ASYNC_QUEUE_DEPTH = 16 (the AENQ is never created with another);
the counters are free-running u16 as in C, so every obligation is quantifier-free.

Upstream: ena_com_admin_init_aenq starts ``head`` at the depth (16) with phase 1
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L172)
and ena_com_admin_aenq_enable writes 16 to AENQ_HEAD_DB: every entry is the device's
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1605).
ena_intr_msix_mgmnt processes the AENQ only while ENA_FLAG_DEVICE_RUNNING is set
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1712).
ena_com_aenq_intr_handler takes entries while their phase bit equals ``aenq->phase``,
dispatches each by group (ena_com_get_specific_aenq_cb: ``handlers[group]`` if set, else
the unimplemented handler;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2429),
flips the phase on wrap, then adds the count to ``head`` and, only if it took something,
writes ``head`` to AENQ_HEAD_DB
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2444).
The KEEP_ALIVE handler, ena_keep_alive_wd, stamps ``keep_alive_timestamp``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3132).

Event ``e`` (the device's count) goes into slot ``e & 15`` with the phase of its pass, as
on every ENA completion queue (:mod:`model.ena_queue`); the driver's ``head`` runs 16
ahead of the event it expects, so the entry it takes is event ``head - 16``, and, as
ENA-CQ-SLOTS and ENA-CQ-VISIBLE prove there, its phase bit is the current pass's exactly
when the device has written it.  The doorbell lets the device write events below
``AENQ_HEAD_DB`` (in the driver's count): 16 past the last one returned.  A reset
(ena_destroy_device, then ena_restore_device) resets the device, which forgets the ring,
and re-creates it as at attach while ENA_FLAG_DEVICE_RUNNING is clear (``aenq_reinit``).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Implies, Not, Param, Step, Term, Var
from model.ena_bits import add16, ite, pass_phase, sub16, ule, ult
from model.ena_machine import EnaMachine, choose, replace
from model.ena_queue import phase_after

__all__ = [
    "AENQ",
    "AENQ_DEPTH",
    "AENQ_LOG2",
    "KEEP_ALIVE",
    "EnaAenq",
    "aenq_init",
    "aenq_take",
]

#: ENA_ASYNC_QUEUE_DEPTH and its log2.
AENQ_DEPTH = 16
AENQ_LOG2 = 4
#: ENA_ADMIN_KEEP_ALIVE: the group whose handler stamps the keep-alive timestamp.
KEEP_ALIVE = 4


@dataclass(frozen=True)
class EnaAenq:
    """``struct ena_com_aenq`` (head, phase), the AENQ_HEAD_DB register, the device's
    event counter, the interrupt handler's loop state and the keep-alive timestamp."""

    head: Term
    phase: Term
    db: Term
    dev_tail: Term
    running: Term
    in_handler: Term
    processed: Term
    timestamp: Term
    db_writes: Term

    def replace(self, **changes: Term) -> EnaAenq:
        return replace(self, **changes)


AENQ_VARS = (
    Var("head", "driver", "u16", "aenq->head: 16 + the number of events taken."),
    Var("phase", "driver", "bit", "aenq->phase: the phase a fresh entry at head carries."),
    Var("db", "driver", "u16", "The value last written to AENQ_HEAD_DB."),
    Var("dev_tail", "device", "u16", "The device's count of events written."),
    Var("running", "driver", "bit", "ENA_FLAG_DEVICE_RUNNING."),
    Var("in_handler", "driver", "bit", "The management interrupt is inside "
        "ena_com_aenq_intr_handler's loop."),
    Var("processed", "driver", "u16", "The handler's count of events taken in this call."),
    Var("timestamp", "driver", "u16", "adapter->keep_alive_timestamp (the time of the "
        "handler that stamped it; the clock itself is in ena_keepalive)."),
    Var("db_writes", "ghost", "u16", "Ghost: how many times AENQ_HEAD_DB was written."),
)


def aenq_init(k: Term = 0) -> EnaAenq:
    """ena_com_admin_init_aenq and ena_com_admin_aenq_enable: head = 16, phase 1, the
    doorbell at 16 (every entry is the device's), no event yet, the device running.  (The
    argument is the ring depth the other ENA machines take: the AENQ depth is fixed.)"""
    del k
    return EnaAenq(head=AENQ_DEPTH, phase=1, db=AENQ_DEPTH, dev_tail=0, running=1,
                   in_handler=0, processed=0, timestamp=0, db_writes=0)


AENQ = EnaMachine(
    name="ena_aenq",
    title="ENA asynchronous event queue",
    state_type=EnaAenq,
    vars=AENQ_VARS,
    init=aenq_init,
    doc=aenq_init.__doc__ or "",
    driver_fields=("head", "phase", "db", "running", "timestamp"),
    min_log2=AENQ_LOG2,
    max_log2=AENQ_LOG2,
)


# ---------------------------------------------------------------------------- helpers


def _bit(cond: Term) -> Term:
    return Eq(cond, 1)


def taken(s: EnaAenq) -> Term:
    """The events the driver has taken: ``head - 16``."""
    return sub16(s.head, AENQ_DEPTH)


def returned(s: EnaAenq) -> Term:
    """The events whose slots the doorbell gave back: ``db - 16``."""
    return sub16(s.db, AENQ_DEPTH)


def entry_fresh(s: EnaAenq) -> Term:
    """The handler's phase test on the entry at head (event ``head - 16``): its phase bit
    is that event's pass phase if the device has written it, the other one otherwise."""
    ours = pass_phase(taken(s), AENQ_LOG2)
    written = Not(Eq(s.dev_tail, taken(s)))
    return Eq(ite(written, ours, 1 ^ ours), s.phase)


def aenq_take(s: EnaAenq, group: Term, now: Term, test_phase: bool = True) -> Step:
    """One turn of the handler's loop (``test_phase`` off: a mutant)."""
    head = add16(s.head, 1)
    stamped = ite(Eq(group, KEEP_ALIVE), now, s.timestamp)
    guard = And(_bit(s.in_handler), entry_fresh(s)) if test_phase else _bit(s.in_handler)
    return Step(guard, s.replace(
        head=head, phase=phase_after(taken(s.replace(head=head)), s.phase, AENQ_LOG2),
        processed=add16(s.processed, 1), timestamp=stamped))


# ---------------------------------------------------------------------------- transitions


@AENQ.transition(actor="device")
def device_post(s: EnaAenq) -> Step:
    """The device writes its next event with the phase of its pass, into a slot the
    doorbell has given back: fewer than 16 events past the last one returned."""
    return Step(ult(sub16(s.dev_tail, returned(s)), AENQ_DEPTH),
                s.replace(dev_tail=add16(s.dev_tail, 1)))


@AENQ.transition(actor="driver")
def intr_enter(s: EnaAenq) -> Step:
    """ena_intr_msix_mgmnt: the admin completions first, then the AENQ handler, only if
    ENA_FLAG_DEVICE_RUNNING is set; otherwise the interrupt leaves the AENQ alone."""
    return Step(Eq(s.in_handler, 0),
                choose(_bit(s.running), s.replace(in_handler=1, processed=0), s))


@AENQ.transition(actor="driver", params=(
    Param("group", "u16", "the entry's group, as the device wrote it"),
    Param("now", "u16", "the time the handler runs"),
))
def aenq_process(s: EnaAenq, group: Term, now: Term) -> Step:
    """The entry at head has the expected phase: it is dispatched by group (KEEP_ALIVE:
    ena_keep_alive_wd stamps the timestamp; other groups touch nothing modelled here), and
    head advances, the phase flipping on wrap."""
    return aenq_take(s, group, now)


def leave(s: EnaAenq, always_ring: bool = False) -> Step:
    """The loop's exit (``always_ring``: a mutant that writes the doorbell regardless)."""
    ring = ult(0, s.processed) if not always_ring else True
    rung = s.replace(db=s.head, db_writes=add16(s.db_writes, 1))
    return Step(And(_bit(s.in_handler), Not(entry_fresh(s))),
                choose(ring, rung, s).replace(in_handler=0, processed=0))


@AENQ.transition(actor="driver")
def intr_leave(s: EnaAenq) -> Step:
    """The entry at head is not fresh, so the loop ends; if it took any event, the
    handler writes ``head`` to AENQ_HEAD_DB (after a barrier), giving those slots back."""
    return leave(s)


@AENQ.transition(actor="driver", params=(Param("on", "bit", "the flag's new value"),))
def set_running(s: EnaAenq, on: Term) -> Step:
    """ena_destroy_device clears ENA_FLAG_DEVICE_RUNNING, ena_restore_device sets it
    (between interrupts: ena_destroy_device frees the management IRQ first)."""
    return Step(Eq(s.in_handler, 0), s.replace(running=on))


@AENQ.transition(actor="driver")
def aenq_reinit(s: EnaAenq) -> Step:
    """ena_restore_device, with ENA_FLAG_DEVICE_RUNNING still clear: the device was reset
    (it forgot the ring and its events), ena_com_admin_init_aenq starts a new ring at head
    16 with phase 1 and ena_com_admin_aenq_enable writes 16 to AENQ_HEAD_DB.  The
    keep-alive timestamp is the adapter's and stays."""
    fresh = aenq_init()
    return Step(And(Eq(s.running, 0), Eq(s.in_handler, 0)),
                fresh.replace(running=0, timestamp=s.timestamp,
                              db_writes=add16(s.db_writes, 1)))


# ---------------------------------------------------------------------------- invariants


@AENQ.invariant(
    "ENA-AENQ-PHASE",
    "The driver's phase is that of the pass of the event it expects: 1 ^ bit 4 of "
    "head - 16.",
)
def aenq_phase(s: EnaAenq) -> Term:
    return Eq(s.phase, pass_phase(taken(s), AENQ_LOG2))


@AENQ.invariant(
    "ENA-AENQ-ORDER",
    "From the last event returned one meets the handler's head, then the device's: the "
    "doorbell never passes the consumer and the consumer never passes the producer, so "
    "every event is taken at most once, in order.",
)
def aenq_order(s: EnaAenq) -> Term:
    base = returned(s)
    return ule(sub16(taken(s), base), sub16(s.dev_tail, base))


@AENQ.invariant(
    "ENA-AENQ-ROOM",
    "The device is never more than 16 events past the last one returned, so it never "
    "writes over an event the driver has not taken: none is lost across the wrap.",
)
def aenq_room(s: EnaAenq) -> Term:
    return ule(sub16(s.dev_tail, returned(s)), AENQ_DEPTH)


@AENQ.invariant(
    "ENA-AENQ-RETURNED",
    "Outside the handler the doorbell is up to date: every event taken has been "
    "returned; inside, the handler counts exactly the events it took since it began.",
)
def aenq_returned(s: EnaAenq) -> Term:
    return ite(_bit(s.in_handler), Eq(sub16(s.head, s.db), s.processed),
               And(Eq(s.head, s.db), Eq(s.processed, 0)))


@AENQ.invariant(
    "ENA-AENQ-RUNNING",
    "The handler runs only while the device does.",
)
def aenq_running(s: EnaAenq) -> Term:
    return Implies(_bit(s.in_handler), _bit(s.running))


# ---------------------------------------------------------------------------- contracts


@AENQ.contract(
    "ENA-AENQ-DOORBELL",
    "The handler writes AENQ_HEAD_DB when it leaves having taken at least one event, and "
    "only then.",
    ("intr_leave",),
)
def aenq_doorbell(pre: EnaAenq, args: dict[str, Term], step: Step) -> Term:
    """post.db_writes moved <=> pre.processed > 0."""
    return Eq(Not(Eq(step.post.db_writes, pre.db_writes)), ult(0, pre.processed))


@AENQ.contract(
    "ENA-AENQ-KEEPALIVE",
    "A KEEP_ALIVE event stamps keep_alive_timestamp with the time it is handled; no other "
    "event touches it.",
    ("aenq_process",),
)
def aenq_keepalive(pre: EnaAenq, args: dict[str, Term], step: Step) -> Term:
    """post.timestamp == (group == KEEP_ALIVE ? now : pre.timestamp)."""
    return Eq(step.post.timestamp,
              ite(Eq(args["group"], KEEP_ALIVE), args["now"], pre.timestamp))
