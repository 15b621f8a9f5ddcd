"""The ENA admin queue: the admin SQ and its completion queue (ACQ), the completion contexts
the waiters sleep on, and ``running_state``, which the timer service turns into an ADMIN_TO
reset when it is false.

The depth is fixed at ENA_ADMIN_QUEUE_DEPTH = 32 (the admin queue is never created with
another), so the per-context flags are exact 32-bit masks (bit ``i`` is
``comp_ctx[i]``) and every obligation is quantifier-free; the counters are free-running u16
as in C.

Upstream: a submission (__ena_com_submit_admin_cmd,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L255)
refuses with NO_SPACE when ``outstanding_cmds >= q_depth``; otherwise it takes
``command_id = curr_cmd_id``, claims ``comp_ctx[command_id]`` through get_comp_ctxt (INVAL
if it is still occupied;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L225),
sets ``curr_cmd_id = (curr_cmd_id + 1) & (q_depth - 1)``, advances ``sq.tail`` and flips
the SQ phase on wrap.  Its wrapper ena_com_submit_admin_cmd refuses with NO_DEVICE when
``running_state`` is false and sets ``running_state = false`` on *any* error of the inner
function, NO_SPACE included
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L337).
ena_com_handle_admin_completion takes ACQ entries while their phase bit equals
``cq.phase``, flipping it on wrap
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L527);
for each, ena_com_handle_single_admin_completion looks the context up by
``command & 0xfff``: none (id >= depth) sets ``running_state = false``; a context that is
not occupied is ignored; otherwise it is marked COMPLETED and the entry copied to its
``user_cqe``
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L497).
The waiter (ena_com_wait_and_process_admin_cq_polling,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L598,
and _interrupts,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L821)
returns on COMPLETED or ABORTED, or after ``completion_timeout`` sets ``running_state =
false`` (the interrupt waiter also when the ACQ pass it then makes finds the command
COMPLETED: the entry came, its interrupt did not); it always releases the context
(comp_ctxt_release: ``user_cqe = NULL``, not occupied, ``outstanding_cmds--``;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L217).
ena_com_abort_admin_commands marks every context ABORTED
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1530)
when ena_destroy_device tears the device down (first, unless graceful, it stops the queue
with ena_com_set_admin_running_state(false), so the IO-queue destroys of its ena_down are
refused with NO_DEVICE).  check_for_admin_com_state requests an
ADMIN_TO reset whenever ``running_state`` is false
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3183).

The ACQ is the CQ of :mod:`model.ena_queue` at depth 32: its entries are not stored here,
because ENA-CQ-SLOTS and ENA-CQ-VISIBLE (proved there for every depth) say what the phase
bit at ``head`` is: the current pass's phase exactly when the device has written an entry
the driver has not taken.  The device is adversarial: the command id in each completion is
an arbitrary u16 (an argument of ``acq_process``).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Not, Or, Param, Step, Term, Var, solver_module
from model.ena_bits import add16, ite, pass_phase, sub16, ule, ult
from model.ena_machine import EnaMachine, choose, replace
from model.ena_queue import phase_after

__all__ = [
    "ADMIN",
    "ADMIN_DEPTH",
    "ADMIN_LOG2",
    "COMMAND_ID_MASK",
    "EnaAdmin",
    "admin_init",
    "ctx_bit",
    "popcount",
]

#: ENA_ADMIN_QUEUE_DEPTH and its log2.
ADMIN_DEPTH = 32
ADMIN_LOG2 = 5
#: ENA_ADMIN_ACQ_COMMON_DESC_COMMAND_ID_MASK: the 12-bit command id of an ACQ entry.
COMMAND_ID_MASK = 0xFFF
#: All 32 contexts.
ALL_CTX = 0xFFFFFFFF


@dataclass(frozen=True)
class EnaAdmin:
    """``struct ena_com_admin_queue`` (counters, ``curr_cmd_id``, ``outstanding_cmds``,
    ``running_state``), the per-context flags as 32-bit masks, the device's ACQ producer
    counter and two ghosts."""

    sq_tail: Term
    sq_phase: Term
    cq_head: Term
    cq_phase: Term
    dev_tail: Term
    curr_cmd_id: Term
    outstanding: Term
    running: Term
    occupied: Term
    completed: Term
    aborted: Term
    cause: Term
    stray: Term

    def replace(self, **changes: Term) -> EnaAdmin:
        return replace(self, **changes)


ADMIN_VARS = (
    Var("sq_tail", "driver", "u16", "admin_queue->sq.tail: the next admin SQ entry."),
    Var("sq_phase", "driver", "bit", "admin_queue->sq.phase: the phase written into the "
        "next command."),
    Var("cq_head", "driver", "u16", "admin_queue->cq.head: the next ACQ entry the driver "
        "takes."),
    Var("cq_phase", "driver", "bit", "admin_queue->cq.phase: the phase a fresh ACQ entry at "
        "head carries."),
    Var("dev_tail", "device", "u16", "The device's count of ACQ entries written."),
    Var("curr_cmd_id", "driver", "u16", "admin_queue->curr_cmd_id: the id (and context) of "
        "the next command."),
    Var("outstanding", "driver", "u16", "admin_queue->outstanding_cmds."),
    Var("running", "driver", "bit", "admin_queue->running_state."),
    Var("occupied", "driver", "mask32", "Bit i: comp_ctx[i].occupied (a waiter owns it)."),
    Var("completed", "driver", "mask32", "Bit i: comp_ctx[i].status is ENA_CMD_COMPLETED."),
    Var("aborted", "driver", "mask32", "Bit i: comp_ctx[i].status is ENA_CMD_ABORTED."),
    Var("cause", "ghost", "bit", "Ghost: the queue met a reason to stop: a command timed "
        "out (its completion missing, or its interrupt), the device completed an id past "
        "the depth, a command id collided with a command still outstanding, or the device "
        "is being torn down."),
    Var("stray", "ghost", "bit", "Ghost: a completion was written into a context no "
        "waiter owns (a released one)."),
)


def admin_init(k: Term = 0) -> EnaAdmin:
    """ena_com_admin_init: both queues empty with phase 1 (the ACQ memory zeroed, so no
    entry looks fresh), command id 0, no context occupied, ``running_state`` true.  (The
    argument is the ring depth the other ENA machines take: the admin depth is fixed.)"""
    del k
    return EnaAdmin(sq_tail=0, sq_phase=1, cq_head=0, cq_phase=1, dev_tail=0,
                    curr_cmd_id=0, outstanding=0, running=1, occupied=0, completed=0,
                    aborted=0, cause=0, stray=0)


ADMIN = EnaMachine(
    name="ena_admin",
    title="ENA admin queue",
    state_type=EnaAdmin,
    vars=ADMIN_VARS,
    init=admin_init,
    doc=admin_init.__doc__ or "",
    driver_fields=("sq_tail", "sq_phase", "cq_head", "cq_phase", "curr_cmd_id",
                   "outstanding", "running", "occupied", "completed", "aborted"),
    min_log2=ADMIN_LOG2,
    max_log2=ADMIN_LOG2,
)


# ---------------------------------------------------------------------------- helpers


def _bit(cond: Term) -> Term:
    return Eq(cond, 1)


def ctx_bit(i: Term) -> Term:
    """The mask of context ``i``: ``1 << i`` (0 when i >= 32, as a shift past the width
    gives)."""
    if isinstance(i, int):
        return (1 << i) & ALL_CTX if i < ADMIN_DEPTH else 0
    mod = solver_module(i)
    return mod.BitVecVal(1, 32, i.ctx) << mod.ZeroExt(16, i)


def has(mask: Term, i: Term) -> Term:
    """Context ``i`` is in ``mask`` (i < 32)."""
    bit = ctx_bit(i)
    if isinstance(mask, int) and isinstance(bit, int):
        return mask & bit != 0
    return Not(Eq(mask & bit, 0))


def without(mask: Term, i: Term) -> Term:
    bit = ctx_bit(i)
    return mask & (ALL_CTX ^ bit) if isinstance(bit, int) else mask & ~bit


def popcount(mask: Term) -> Term:
    """The number of contexts in ``mask``, as a u16."""
    if isinstance(mask, int):
        return bin(mask).count("1")
    mod = solver_module(mask)
    # a tree of adders, each only as wide as its partial count (6 bits at the top): far
    # smaller once bit-blasted than 31 additions of 16 bits
    terms = [mod.Extract(j, j, mask) for j in range(ADMIN_DEPTH)]
    while len(terms) > 1:
        pairs = zip(terms[::2], terms[1::2], strict=True)
        terms = [mod.ZeroExt(1, a) + mod.ZeroExt(1, b) for a, b in pairs]
    return mod.ZeroExt(10, terms[0])


def acq_entry_fresh(s: EnaAdmin) -> Term:
    """The phase test of the ACQ loop: the entry at head carries ``cq.phase``.  Its phase
    bit is the current pass's, ``pass_phase(head)``, when the device has written it and
    the other one otherwise (ENA-CQ-SLOTS and ENA-CQ-VISIBLE of :mod:`model.ena_queue`)."""
    ours = pass_phase(s.cq_head, ADMIN_LOG2)
    written = Not(Eq(s.dev_tail, s.cq_head))
    return Eq(ite(written, ours, 1 ^ ours), s.cq_phase)


def release(s: EnaAdmin, i: Term) -> EnaAdmin:
    """comp_ctxt_release: the context is no longer occupied (its ``user_cqe`` cleared) and
    ``outstanding_cmds`` drops by one."""
    return s.replace(occupied=without(s.occupied, i), outstanding=sub16(s.outstanding, 1))


def claim(s: EnaAdmin) -> EnaAdmin:
    """__ena_com_submit_admin_cmd past its checks: context ``curr_cmd_id`` is occupied and
    SUBMITTED, the id advances modulo the depth, the SQ tail advances (phase flipped on
    wrap)."""
    i = s.curr_cmd_id
    tail = add16(s.sq_tail, 1)
    return s.replace(
        occupied=s.occupied | ctx_bit(i), completed=without(s.completed, i),
        aborted=without(s.aborted, i), outstanding=add16(s.outstanding, 1),
        curr_cmd_id=add16(i, 1) & (ADMIN_DEPTH - 1),
        sq_tail=tail, sq_phase=phase_after(tail, s.sq_phase, ADMIN_LOG2),
    )


def submit(s: EnaAdmin, full_stops_the_queue: bool) -> Step:
    """ena_com_submit_admin_cmd: NO_DEVICE while not running; NO_SPACE when
    ``outstanding_cmds >= 32`` (``running_state = false`` as shipped, untouched hardened);
    INVAL when the context of ``curr_cmd_id`` is still occupied (``running_state =
    false``); otherwise the command is submitted."""
    full = ule(ADMIN_DEPTH, s.outstanding)
    collides = has(s.occupied, s.curr_cmd_id)
    stopped = s.replace(running=0)
    refused_full = stopped if full_stops_the_queue else s
    post = choose(Not(_bit(s.running)), s,
                  choose(full, refused_full,
                         choose(collides, stopped.replace(cause=1), claim(s))))
    return Step(True, post)


# ---------------------------------------------------------------------------- transitions


@ADMIN.transition(actor="driver", breaks=("ENA-ADMIN-DOWN",))
def submit_as_shipped(s: EnaAdmin) -> Step:
    """ena_com_submit_admin_cmd as shipped: a full queue (NO_SPACE) also sets
    ``running_state = false``, so the next timer tick requests an ADMIN_TO reset for a
    queue that was merely busy."""
    return submit(s, full_stops_the_queue=True)


@ADMIN.transition(actor="driver")
def submit_hardened(s: EnaAdmin) -> Step:
    """The same, NO_SPACE leaving ``running_state`` alone: the caller gets the error and
    may retry."""
    return submit(s, full_stops_the_queue=False)


@ADMIN.transition(actor="device")
def device_complete(s: EnaAdmin) -> Step:
    """The device writes an ACQ entry (with the phase of its pass).  It never has more than
    32 entries the driver has not taken (one per command, and at most 32 are
    outstanding)."""
    return Step(ult(sub16(s.dev_tail, s.cq_head), ADMIN_DEPTH),
                s.replace(dev_tail=add16(s.dev_tail, 1)))


@ADMIN.transition(actor="driver", params=(
    Param("command", "u16", "the entry's command field, as the device wrote it"),))
def acq_process(s: EnaAdmin, command: Term) -> Step:
    """One turn of ena_com_handle_admin_completion's loop: the entry at head has the
    expected phase; its id ``command & 0xfff`` past the depth stops the queue
    (``running_state = false``); a context no waiter owns is left alone; an occupied one
    becomes COMPLETED and gets the entry.  Then head advances, the phase flipping on
    wrap."""
    return process_entry(s, command, owned_only=True)


def process_entry(s: EnaAdmin, command: Term, owned_only: bool) -> Step:
    """acq_process; with ``owned_only`` off the entry is written into any context below the
    depth, occupied or not (a mutant)."""
    i = command & COMMAND_ID_MASK
    bad = ule(ADMIN_DEPTH, i)
    owned = has(s.occupied, i)
    writes = And(Not(bad), owned) if owned_only else Not(bad)
    done = s.replace(completed=s.completed | ctx_bit(i), aborted=without(s.aborted, i),
                     stray=ite(owned, s.stray, 1))
    t = choose(bad, s.replace(running=0, cause=1), choose(writes, done, s))
    head = add16(s.cq_head, 1)
    return Step(acq_entry_fresh(s),
                t.replace(cq_head=head, cq_phase=phase_after(head, s.cq_phase, ADMIN_LOG2)))


_CTX = Param("ctx", "u16", "the waiter's context (its command id)")


@ADMIN.transition(actor="driver", params=(_CTX,))
def wait_returns(s: EnaAdmin, ctx: Term) -> Step:
    """The waiter finds its command COMPLETED (status to errno) or ABORTED (NO_DEVICE) and
    releases the context."""
    ended = Or(has(s.completed, ctx), has(s.aborted, ctx))
    return Step(And(ult(ctx, ADMIN_DEPTH), has(s.occupied, ctx), ended), release(s, ctx))


@ADMIN.transition(actor="driver", params=(_CTX,))
def wait_times_out(s: EnaAdmin, ctx: Term) -> Step:
    """The waiter's ``completion_timeout`` passes with the command still SUBMITTED:
    ``running_state = false``, ETIMEDOUT, and the context is released, so a completion
    that comes later finds it unoccupied and is ignored."""
    submitted = And(Not(has(s.completed, ctx)), Not(has(s.aborted, ctx)))
    return Step(And(ult(ctx, ADMIN_DEPTH), has(s.occupied, ctx), submitted),
                release(s.replace(running=0, cause=1), ctx))


@ADMIN.transition(actor="driver", params=(_CTX,))
def wait_misses_interrupt(s: EnaAdmin, ctx: Term) -> Step:
    """ena_com_wait_and_process_admin_cq_interrupts: the wait times out, and the ACQ pass it
    then makes finds the command COMPLETED -- the device wrote the entry but its MSI-X never
    came (``is_missing_admin_interrupt``).  Without auto-polling (FreeBSD never turns it
    on) ``running_state = false``, ETIMEDOUT, and the context is released."""
    return Step(And(ult(ctx, ADMIN_DEPTH), has(s.occupied, ctx), has(s.completed, ctx)),
                release(s.replace(running=0, cause=1), ctx))


@ADMIN.transition(actor="driver")
def admin_stop(s: EnaAdmin) -> Step:
    """ena_destroy_device (not graceful) calls ena_com_set_admin_running_state(false)
    before ena_down, so the commands ena_down sends (the IO queues' destroys) are refused
    with NO_DEVICE."""
    return Step(True, s.replace(running=0, cause=1))


@ADMIN.transition(actor="driver")
def abort_all(s: EnaAdmin) -> Step:
    """ena_com_abort_admin_commands (ena_destroy_device, after ``admin_stop`` unless
    graceful; ena_restore_device's error path) sets every context's status to ABORTED --
    a status is one value: a COMPLETED one is COMPLETED no more -- which wakes each waiter
    with NO_DEVICE.  It leaves ``running_state`` alone."""
    return Step(True, s.replace(completed=0, aborted=ALL_CTX))


@ADMIN.transition(actor="driver")
def admin_reinit(s: EnaAdmin) -> Step:
    """ena_com_wait_for_abort_completion waits for ``outstanding_cmds == 0``; the restore
    re-creates the admin queue as at attach."""
    return Step(Eq(s.outstanding, 0), admin_init())


# ---------------------------------------------------------------------------- invariants


@ADMIN.invariant(
    "ENA-ADMIN-IDS",
    "outstanding_cmds is the number of occupied contexts: every outstanding command owns "
    "the context of its own command id, so no two outstanding commands share an id.",
)
def admin_ids(s: EnaAdmin) -> Term:
    return Eq(s.outstanding, popcount(s.occupied))


@ADMIN.invariant(
    "ENA-ADMIN-BOUND",
    "At most 32 commands are outstanding, and the next command id is below 32, so it names "
    "a context.",
)
def admin_bound(s: EnaAdmin) -> Term:
    return And(ule(s.outstanding, ADMIN_DEPTH), ult(s.curr_cmd_id, ADMIN_DEPTH))


@ADMIN.invariant(
    "ENA-ADMIN-PHASE",
    "The SQ and ACQ phases are those of the passes their counters are in: 1 ^ bit 5 of "
    "sq.tail and of cq.head.",
)
def admin_phase(s: EnaAdmin) -> Term:
    return And(Eq(s.sq_phase, pass_phase(s.sq_tail, ADMIN_LOG2)),
               Eq(s.cq_phase, pass_phase(s.cq_head, ADMIN_LOG2)))


@ADMIN.invariant(
    "ENA-ADMIN-ACQ",
    "The driver never takes an ACQ entry the device has not written, and the device is "
    "never more than 32 entries ahead: (u16)(dev_tail - cq.head) <= 32.",
)
def admin_acq(s: EnaAdmin) -> Term:
    return ule(sub16(s.dev_tail, s.cq_head), ADMIN_DEPTH)


@ADMIN.invariant(
    "ENA-ADMIN-NO-STRAY",
    "No completion is ever written into a released context: a late completion (after its "
    "waiter timed out) finds the context unoccupied and is ignored.",
)
def admin_no_stray(s: EnaAdmin) -> Term:
    return Eq(s.stray, 0)


@ADMIN.invariant(
    "ENA-ADMIN-DOWN",
    "running_state is false only for a reason: a timeout, a completion with an id past "
    "the depth, a command id collision, or the teardown. A full queue is not one (the "
    "timer would reset the device for it, with ADMIN_TO).",
)
def admin_down(s: EnaAdmin) -> Term:
    return Or(_bit(s.running), _bit(s.cause))
