"""Deliberately broken ENA steps: each must be refuted against the invariant or contract it
names, at a depth of at most 8 with every quantifier expanded (so the kill is a real
state, not an artefact of instantiation).

Every invariant and contract of the ENA machines has one here: the phase not flipped on
wrap, the empty slot given away, a read past the doorbell, a stale CQ entry taken, a
missing range check, a free id pushed twice, off-by-one stop thresholds, a burst check
skipped.  ``ringspec prove`` fails if any survives.
"""

from __future__ import annotations

from model.core import And, Eq, Not, Step, Term
from model.ena_admin import (
    ADMIN,
    ADMIN_DEPTH,
    COMMAND_ID_MASK,
    EnaAdmin,
    acq_process,
    process_entry,
)
from model.ena_admin import claim as admin_claim
from model.ena_admin import has as admin_has
from model.ena_admin import submit as admin_submit
from model.ena_aenq import AENQ, AENQ_DEPTH, EnaAenq, aenq_process, aenq_take
from model.ena_aenq import leave as aenq_leave
from model.ena_bits import add16, depth, ite, slot, store, sub16, ule, ult
from model.ena_keepalive import (
    KEEPALIVE,
    NO_TIMEOUT,
    KeepAlive,
    aenq_keep_alive,
    ms,
    reset_task,
    run_timer_service,
    trigger_reset,
    update_hints,
    version_read,
)
from model.ena_llq import BEFORE_HEADER, HDR, LLQ, EnaLlq, EnaTxHeader
from model.ena_machine import EnaMachine, choose
from model.ena_queue import (
    CQ,
    SQ,
    EnaCq,
    EnaSq,
    advance_tail,
    cq_consume,
    cq_entry_ready,
    cq_outstanding,
    cq_produce,
    sq_produce,
    sq_used,
)
from model.ena_reqid import (
    INV_TX_REQ_ID,
    RX,
    TOO_MANY_RX_DESCS,
    TX,
    ReqIds,
    record_reason,
    reqid_alloc,
    reqid_release,
    rx_completion,
    tx_completion,
)
from model.ena_reset_buffers import (
    BUFFERS,
    Buffers,
    down_free_hardened,
    free_rings,
    nm_rx_refill,
    restore_device_hardened,
    run_up,
)
from model.ena_txq import TX_RESUME_THRESH, TXQ, EnaTxQueue, resume_check, xmit

# ---------------------------------------------------------------------------- SQ


@SQ.mutant("sq-space-counts-the-empty-slot", "ENA-SQ-SPACE", replaces="sq_produce")
def sq_space_counts_the_empty_slot(s: EnaSq) -> Step:
    """free = depth - used (no "- 1"): the driver fills the slot that must stay empty."""
    return Step(ult(sq_used(s), depth(s.depth_log2)), advance_tail(s))


@SQ.mutant("sq-no-phase-flip-on-wrap", "ENA-SQ-PHASE", replaces="sq_produce")
def sq_no_phase_flip_on_wrap(s: EnaSq) -> Step:
    """tail advances but the phase never flips when it wraps to slot 0."""
    step = sq_produce(s)
    return Step(step.guard, step.post.replace(phase=s.phase))


@SQ.mutant("sq-device-reads-past-doorbell", "ENA-SQ-ORDER", replaces="device_consume")
def sq_device_reads_past_doorbell(s: EnaSq) -> Step:
    """The device fetches up to tail instead of the doorbell value."""
    return Step(Not(Eq(s.dev_head, s.tail)), s.replace(dev_head=add16(s.dev_head, 1)))


# ---------------------------------------------------------------------------- CQ


@CQ.mutant("cq-no-phase-flip-on-wrap", "ENA-CQ-PHASE", replaces="cq_consume")
def cq_no_phase_flip_on_wrap(s: EnaCq) -> Step:
    """The driver keeps its expected phase when head wraps."""
    step = cq_consume(s)
    return Step(step.guard, step.post.replace(phase=s.phase))


@CQ.mutant("cq-device-one-too-many", "ENA-CQ-BOUND", replaces="cq_produce")
def cq_device_one_too_many(s: EnaCq) -> Step:
    """The device writes while depth completions are already outstanding (<= for <)."""
    return Step(ule(cq_outstanding(s), depth(s.depth_log2)), cq_produce(s).post)


@CQ.mutant("cq-device-writes-old-phase", "ENA-CQ-SLOTS", replaces="cq_produce")
def cq_device_writes_old_phase(s: EnaCq) -> Step:
    """The device writes its completions with the previous pass's phase."""
    step = cq_produce(s)
    i = slot(s.dev_tail, s.depth_log2)
    return Step(step.guard, step.post.replace(mem_phase=store(s.mem_phase, i, 1 ^ s.dev_phase)))


@CQ.mutant("cq-stale-entry-read", "ENA-CQ-ONCE", replaces="cq_consume")
def cq_stale_entry_read(s: EnaCq) -> Step:
    """The driver takes the entry at head without testing its phase: a stale one too."""
    return Step(True, cq_consume(s).post)


@CQ.mutant("cq-device-skips-the-write", "ENA-CQ-VISIBLE", replaces="cq_produce")
def cq_device_skips_the_write(s: EnaCq) -> Step:
    """The device advances its tail without writing the entry (posted write lost)."""
    step = cq_produce(s)
    return Step(step.guard, step.post.replace(mem_phase=s.mem_phase, mem_seq=s.mem_seq))


@CQ.mutant("cq-diagnostic-takes-the-entry", "ENA-CQ-HANDED",
           replaces="missing_tx_diagnostic_hardened")
def cq_diagnostic_takes_the_entry(s: EnaCq) -> Step:
    """The hardened diagnostic goes back to reading the completion (and so consuming it)."""
    taken = cq_consume(s).post.replace(dropped=add16(s.dropped, 1))
    ready = cq_entry_ready(s)
    return Step(True, choose(ready, taken, s))


# ---------------------------------------------------------------------------- req_id


def _register_reqid_mutants(machine: EnaMachine, side: str) -> None:
    @machine.mutant(f"{side}-alloc-without-room", "ENA-REQID-COUNT", replaces="reqid_alloc")
    def alloc_without_room(s: ReqIds) -> Step:
        """An id is allocated with every id already in flight (no room check)."""
        return Step(True, reqid_alloc(s).post)

    @machine.mutant(f"{side}-alloc-forgets-in-flight", "ENA-REQID-IDS",
                    replaces="reqid_alloc")
    def alloc_forgets_in_flight(s: ReqIds) -> Step:
        """The id leaves the free list but its buffer is not marked in flight."""
        step = reqid_alloc(s)
        return Step(step.guard, step.post.replace(in_flight=s.in_flight))

    @machine.mutant(f"{side}-free-id-pushed-twice", "ENA-REQID-POSITIONS",
                    replaces="reqid_release")
    def free_id_pushed_twice(s: ReqIds, req_id: Term) -> Step:
        """A completion for an id already free is released again (no in-flight test)."""
        return Step(ult(req_id, depth(s.depth_log2)),
                    reqid_release(s.replace(in_flight=store(s.in_flight, req_id, 1)),
                                  req_id).post)


_register_reqid_mutants(TX, "tx")
_register_reqid_mutants(RX, "rx")


@TX.mutant("tx-missing-range-check", "ENA-TX-NO-OOB-READ", replaces="tx_completion_hardened")
def tx_missing_range_check(s: ReqIds, ready: Term, mbz: Term, req_id: Term,
                           stale: Term) -> Step:
    """The hardened path loses its ``req_id >= q_depth`` check before the mbuf test, so
    ``tx_buffer_info[req_id]`` is read past the array."""
    step = tx_completion(s, ready, mbz, req_id, stale, hardened=True)
    oob = ite(And(Eq(ready, 1), Eq(mbz, 0), Not(ult(req_id, depth(s.depth_log2)))), 1, s.oob)
    return Step(step.guard, step.post.replace(oob=oob))


@TX.mutant("tx-reasons-out-of-order", "ENA-TX-VERDICT", replaces="tx_completion_hardened")
def tx_reasons_out_of_order(s: ReqIds, ready: Term, mbz: Term, req_id: Term,
                            stale: Term) -> Step:
    """The range check runs before the MBZ test: an entry with MBZ bits set and an
    out-of-range req_id resets with INV_TX_REQ_ID (5) instead of TX_DESCRIPTOR_MALFORMED
    (17)."""
    step = tx_completion(s, ready, mbz, req_id, stale, hardened=True)
    both = And(Eq(ready, 1), Eq(mbz, 1), Not(ult(req_id, depth(s.depth_log2))))
    swapped = step.post.replace(reason=record_reason(s.reason, INV_TX_REQ_ID))
    return Step(step.guard, choose(both, swapped, step.post))


@RX.mutant("rx-reasons-out-of-order", "ENA-RX-VERDICT", replaces="rx_completion_hardened")
def rx_reasons_out_of_order(s: ReqIds, ready: Term, malformed: Term, too_many: Term,
                            req_id: Term) -> Step:
    """The descriptor count is checked before the FIRST/MBZ test: a malformed packet that
    is also too long resets with TOO_MANY_RX_DESCS (6) instead of 16."""
    step = rx_completion(s, ready, malformed, too_many, req_id, hardened=True)
    both = And(Eq(ready, 1), Eq(malformed, 1), Eq(too_many, 1))
    swapped = s.replace(reason=record_reason(s.reason, TOO_MANY_RX_DESCS))
    return Step(step.guard, choose(both, swapped, step.post))


# ---------------------------------------------------------------------------- TX queue


@TXQ.mutant("txq-cleanup-frees-too-much", "ENA-TXQ-CONFIG", replaces="tx_cleanup")
def txq_cleanup_frees_too_much(s: EnaTxQueue, n: Term) -> Step:
    """comp_ack of one entry more than is in use (the u16 count wraps)."""
    return Step(ule(n, add16(s.used, 1)),
                resume_check(s.replace(used=sub16(s.used, n)), TX_RESUME_THRESH))


@TXQ.mutant("txq-stop-threshold-off-by-two", "ENA-TXQ-ROOM", replaces="tx_xmit")
def txq_stop_threshold_off_by_two(s: EnaTxQueue, descs: Term) -> Step:
    """The stop test forgets the meta descriptor and the header (max_tx_sgl_size, not + 2)."""
    return xmit(s, descs, stop_at=s.max_sgl)


@TXQ.mutant("txq-cleanup-never-resumes", "ENA-TXQ-WAKE", replaces="tx_cleanup")
def txq_cleanup_never_resumes(s: EnaTxQueue, n: Term) -> Step:
    """ena_tx_cleanup without the resume test."""
    return Step(ule(n, s.used), s.replace(used=sub16(s.used, n)))


@TXQ.mutant("txq-resume-needs-the-whole-ring", "ENA-TXQ-NO-DEADLOCK", replaces="tx_cleanup")
def txq_resume_needs_the_whole_ring(s: EnaTxQueue, n: Term) -> Step:
    """The resume threshold is the ring size, which free entries never reach."""
    return Step(ule(n, s.used),
                resume_check(s.replace(used=sub16(s.used, n)), depth(s.depth_log2)))


# ---------------------------------------------------------------------------- LLQ


@LLQ.mutant("llq-doorbell-overfills-burst", "ENA-LLQ-CONFIG", replaces="llq_doorbell")
def llq_doorbell_overfills_burst(s: EnaLlq) -> Step:
    """The doorbell grants one burst entry more than the device allows."""
    return Step(Eq(s.planned, 0), s.replace(burst_left=add16(s.max_burst, 1)))


@LLQ.mutant("llq-next-line-waits-for-two", "ENA-LLQ-LINE", replaces="llq_put_desc")
def llq_next_line_waits_for_two(s: EnaLlq) -> Step:
    """After a full line the next one is sized like a first line (2 descriptors)."""
    written = s.replace(pkt_descs=add16(s.pkt_descs, 1), idx=add16(s.idx, 1),
                        line_left=sub16(s.line_left, 1))
    full = Eq(written.line_left, 0)
    flushed = written.replace(burst_left=sub16(s.burst_left, 1), flushed=add16(s.flushed, 1),
                              idx=0, line_left=BEFORE_HEADER)
    return Step(ult(s.pkt_descs, s.planned),
                choose(full, flushed, written))


@LLQ.mutant("llq-no-doorbell-check", "ENA-LLQ-BURST", replaces="llq_begin_packet")
def llq_no_doorbell_check(s: EnaLlq, descs: Term) -> Step:
    """ena_com_is_doorbell_needed is never asked: the packet starts on what is left."""
    return Step(And(Eq(s.planned, 0), ule(1, descs), ule(descs, 32)), s.replace(planned=descs))


@LLQ.mutant("llq-close-flushes-empty-line", "ENA-LLQ-NO-OVERRUN", replaces="llq_close")
def llq_close_flushes_empty_line(s: EnaLlq) -> Step:
    """The bounce buffer is written at close even when it holds nothing."""
    empty = Eq(s.burst_left, 0)
    done = s.replace(burst_left=ite(empty, s.burst_left, sub16(s.burst_left, 1)),
                     overrun=ite(empty, 1, s.overrun), planned=0, pkt_descs=0, flushed=0,
                     idx=0, line_left=BEFORE_HEADER)
    return Step(And(Not(Eq(s.planned, 0)), Eq(s.pkt_descs, s.planned)), done)


@LLQ.mutant("llq-close-unfinished-packet", "ENA-LLQ-ENTRIES", replaces="llq_close")
def llq_close_unfinished_packet(s: EnaLlq) -> Step:
    """The packet is closed before all its descriptors are written."""
    step = LLQ.transitions["llq_close"].fn(s.replace(pkt_descs=s.planned))
    return Step(Not(Eq(s.planned, 0)), step.post)


# ---------------------------------------------------------------------------- header limit


@HDR.mutant("hdr-limit-not-clamped", "ENA-TX-HDR-LIMIT", replaces="header_setup_hardened")
def hdr_limit_not_clamped(s: EnaTxHeader, dev_max: Term) -> Step:
    """The driver keeps the device's value unclamped while ena_com uses min(dev, 256)."""
    step = HDR.transitions["header_setup_hardened"].fn(s, dev_max)
    return Step(step.guard, step.post.replace(ring_max=dev_max))


# ---------------------------------------------------------------------------- keep-alive


@KEEPALIVE.mutant("ka-check-at-equal", "ENA-KA-TRIGGER", replaces="timer_service")
def ka_check_at_equal(s: KeepAlive, in_aenq: Term, admin_down: Term,
                      tx_missing: Term) -> Step:
    """The watchdog fires at ``>=``: a gap of exactly the timeout already resets."""
    def due(k: KeepAlive, at: Term) -> Term:
        return And(Eq(k.wd_active, 1), Not(Eq(k.timeout, NO_TIMEOUT)),
                   ule(k.timeout, at - k.timestamp))
    return run_timer_service(s, in_aenq, admin_down, tx_missing, due)


@KEEPALIVE.mutant("ka-disabled-ignored", "ENA-KA-TRIGGER", replaces="timer_service")
def ka_disabled_ignored(s: KeepAlive, in_aenq: Term, admin_down: Term,
                        tx_missing: Term) -> Step:
    """The check forgets ENA_HW_HINTS_NO_TIMEOUT: 0xFFFF is read as a timeout of 0xFFFF
    sbintime units (15 us)."""
    def due(k: KeepAlive, at: Term) -> Term:
        return And(Eq(k.wd_active, 1), ult(k.timeout, at - k.timestamp))
    return run_timer_service(s, in_aenq, admin_down, tx_missing, due)


@KEEPALIVE.mutant("ka-restore-without-refresh", "ENA-KA-REFRESH", replaces="reset_task")
def ka_restore_without_refresh(s: KeepAlive, ok: Term) -> Step:
    """ena_restore_device forgets to refresh keep_alive_timestamp: the gap measured at the
    next tick includes the whole reset."""
    step = reset_task(s, ok)
    return Step(step.guard, step.post.replace(timestamp=s.timestamp))


@KEEPALIVE.mutant("ka-hint-zero-literal", "ENA-KA-TIMEOUT", replaces="update_hints")
def ka_hint_zero_literal(s: KeepAlive, hint: Term) -> Step:
    """A hint of 0 is taken literally: the timeout becomes 0 ms, and every tick resets."""
    step = update_hints(s, hint)
    return Step(step.guard, step.post.replace(
        timeout=ite(Eq(hint, 0), ms(hint), step.post.timeout)))


@KEEPALIVE.mutant("ka-trigger-last-wins", "ENA-RESET-FIRST-WINS", replaces="trigger_reset")
def ka_trigger_last_wins(s: KeepAlive, reason: Term) -> Step:
    """ena_trigger_reset records its reason even when a reset is already requested."""
    step = trigger_reset(s, reason)
    return Step(step.guard, step.post.replace(reason=reason))


@KEEPALIVE.mutant("ka-keep-alive-stamps-the-deadline", "ENA-KA-CLOCK",
                  replaces="aenq_keep_alive")
def ka_keep_alive_stamps_the_deadline(s: KeepAlive) -> Step:
    """The handler stamps the time of the next tick instead of now."""
    step = aenq_keep_alive(s)
    return Step(step.guard, step.post.replace(timestamp=s.deadline))


@KEEPALIVE.mutant("ka-unresponsive-still-queued", "ENA-KA-ARMED", replaces="version_read")
def ka_unresponsive_still_queued(s: KeepAlive, unresponsive: Term) -> Step:
    """The callout re-arms for an unresponsive device but queues the reset task as well:
    the reset runs against a device that does not answer, and the timer ticks on."""
    step = version_read(s, unresponsive)
    return Step(step.guard, step.post.replace(queued=1))


@KEEPALIVE.mutant("ka-restore-without-rearm", "ENA-KA-ARMED", replaces="reset_task")
def ka_restore_without_rearm(s: KeepAlive, ok: Term) -> Step:
    """ena_restore_device succeeds but forgets ENA_TIMER_RESET: nobody watches any more."""
    step = reset_task(s, ok)
    return Step(step.guard, step.post.replace(armed=0))


@KEEPALIVE.mutant("ka-destroy-keeps-the-reason", "ENA-RESET-PENDING", replaces="reset_task")
def ka_destroy_keeps_the_reason(s: KeepAlive, ok: Term) -> Step:
    """ena_destroy_device clears the flag but not reset_reason."""
    step = reset_task(s, ok)
    return Step(step.guard, step.post.replace(reason=s.reason))


# ---------------------------------------------------------------------------- admin queue


@ADMIN.mutant("admin-claim-without-occupancy-check", "ENA-ADMIN-IDS",
              replaces="submit_hardened")
def admin_claim_without_occupancy_check(s: EnaAdmin) -> Step:
    """get_comp_ctxt claims the context without testing ``occupied``: a new command shares
    the id of one still outstanding."""
    running, full = Eq(s.running, 1), ule(ADMIN_DEPTH, s.outstanding)
    return Step(True, choose(And(running, Not(full)), admin_claim(s), s))


@ADMIN.mutant("admin-id-not-masked", "ENA-ADMIN-BOUND", replaces="submit_hardened")
def admin_id_not_masked(s: EnaAdmin) -> Step:
    """``curr_cmd_id = curr_cmd_id + 1`` without ``& (q_depth - 1)``: after id 31 comes 32,
    which names no context."""
    step = admin_submit(s, full_stops_the_queue=False)
    moved = Not(Eq(step.post.sq_tail, s.sq_tail))
    return Step(step.guard, step.post.replace(
        curr_cmd_id=ite(moved, add16(s.curr_cmd_id, 1), s.curr_cmd_id)))


@ADMIN.mutant("admin-acq-no-phase-flip", "ENA-ADMIN-PHASE", replaces="acq_process")
def admin_acq_no_phase_flip(s: EnaAdmin, command: Term) -> Step:
    """The ACQ loop advances head but never flips its phase at the wrap."""
    step = acq_process(s, command)
    return Step(step.guard, step.post.replace(cq_phase=s.cq_phase))


@ADMIN.mutant("admin-acq-ignores-phase", "ENA-ADMIN-ACQ", replaces="acq_process")
def admin_acq_ignores_phase(s: EnaAdmin, command: Term) -> Step:
    """The ACQ loop takes the entry at head without testing its phase bit."""
    return Step(True, acq_process(s, command).post)


@ADMIN.mutant("admin-late-completion-written", "ENA-ADMIN-NO-STRAY", replaces="acq_process")
def admin_late_completion_written(s: EnaAdmin, command: Term) -> Step:
    """ena_com_handle_single_admin_completion without its ``occupied`` test: a completion
    that comes after its waiter timed out is copied into the released context."""
    return process_entry(s, command, owned_only=False)


@ADMIN.mutant("admin-spurious-completion-stops", "ENA-ADMIN-DOWN", replaces="acq_process")
def admin_spurious_completion_stops(s: EnaAdmin, command: Term) -> Step:
    """A completion for a context no waiter owns sets ``running_state = false`` (as an id
    past the depth does), though the C ignores it: the timer would reset the device."""
    step = acq_process(s, command)
    i = command & COMMAND_ID_MASK
    free = And(ult(i, ADMIN_DEPTH), Not(admin_has(s.occupied, i)))
    return Step(step.guard, step.post.replace(running=ite(free, 0, step.post.running)))


# ---------------------------------------------------------------------------- AENQ


@AENQ.mutant("aenq-no-phase-flip", "ENA-AENQ-PHASE", replaces="aenq_process")
def aenq_no_phase_flip(s: EnaAenq, group: Term, now: Term) -> Step:
    """The handler's loop wraps its masked head to 0 but keeps the phase."""
    step = aenq_process(s, group, now)
    return Step(step.guard, step.post.replace(phase=s.phase))


@AENQ.mutant("aenq-ignores-phase", "ENA-AENQ-ORDER", replaces="aenq_process")
def aenq_ignores_phase(s: EnaAenq, group: Term, now: Term) -> Step:
    """The handler takes the entry at head without testing its phase bit."""
    return aenq_take(s, group, now, test_phase=False)


@AENQ.mutant("aenq-device-fills-the-returned-slot", "ENA-AENQ-ROOM", replaces="device_post")
def aenq_device_fills_the_returned_slot(s: EnaAenq) -> Step:
    """The device writes up to 16 events past the doorbell instead of 15 past its last
    free slot: the 17th overwrites the oldest event not yet taken."""
    return Step(ule(sub16(s.dev_tail, sub16(s.db, AENQ_DEPTH)), AENQ_DEPTH),
                s.replace(dev_tail=add16(s.dev_tail, 1)))


@AENQ.mutant("aenq-doorbell-masked", "ENA-AENQ-RETURNED", replaces="intr_leave")
def aenq_doorbell_masked(s: EnaAenq) -> Step:
    """The handler writes ``head & (depth - 1)`` to AENQ_HEAD_DB instead of the free-running
    head."""
    step = aenq_leave(s)
    rung = Not(Eq(step.post.db, s.db))
    return Step(step.guard, step.post.replace(db=ite(rung, slot(s.head, 4), s.db)))


@AENQ.mutant("aenq-processed-while-stopped", "ENA-AENQ-RUNNING", replaces="intr_enter")
def aenq_processed_while_stopped(s: EnaAenq) -> Step:
    """ena_intr_msix_mgmnt calls the AENQ handler without testing
    ENA_FLAG_DEVICE_RUNNING."""
    return Step(Eq(s.in_handler, 0), s.replace(in_handler=1, processed=0))


@AENQ.mutant("aenq-doorbell-always", "ENA-AENQ-DOORBELL", replaces="intr_leave")
def aenq_doorbell_always(s: EnaAenq) -> Step:
    """The handler writes AENQ_HEAD_DB even when it took nothing."""
    return aenq_leave(s, always_ring=True)


@AENQ.mutant("aenq-every-event-stamps", "ENA-AENQ-KEEPALIVE", replaces="aenq_process")
def aenq_every_event_stamps(s: EnaAenq, group: Term, now: Term) -> Step:
    """Every event refreshes keep_alive_timestamp, not only KEEP_ALIVE: a device that
    sends link changes but no keep-alives is never found dead."""
    step = aenq_process(s, group, now)
    return Step(step.guard, step.post.replace(timestamp=now))


# ---------------------------------------------------------------------------- reset buffers


@BUFFERS.mutant("buf-free-forgets-tx-mbufs", "ENA-BUF-MBUFS", replaces="down_free_hardened")
def buf_free_forgets_tx_mbufs(s: Buffers) -> Step:
    """ena_free_tx_bufs clears ``tx_info->mbuf`` without m_free (and
    ena_free_tx_resources then finds NULL): the TX mbufs in flight never reach the
    pool."""
    step = down_free_hardened(s)
    return Step(step.guard, step.post.replace(pool=sub16(step.post.pool, s.tx_mbuf)))


@BUFFERS.mutant("buf-rx-free-skips-netmap-slots", "ENA-BUF-NETMAP",
                replaces="down_free_hardened")
def buf_rx_free_skips_netmap_slots(s: Buffers) -> Step:
    """ena_free_rx_bufs does not call ena_netmap_free_rx_slot (as when IFCAP_NETMAP is
    already off): the posted netmap buffers are dropped with ``rx_buffer_info``."""
    step = down_free_hardened(s)
    return Step(step.guard, step.post.replace(nm_rx_slots=s.nm_rx_slots))


@BUFFERS.mutant("buf-failed-restore-keeps-the-fill", "ENA-BUF-STOPPED",
                replaces="restore_device_hardened")
def buf_failed_restore_keeps_the_fill(s: Buffers, ok: Term, up_ok: Term,
                                      fill: Term) -> Step:
    """ena_up fails after ena_refill_all_rx_bufs and its error path frees the queues but
    not the buffers: the restore fails with buffers still posted on a dead device."""
    step = restore_device_hardened(s, ok, up_ok, fill)
    kept = run_up(s, 1, fill).replace(up=0, running=0, task=0)
    failed = And(Eq(ok, 1), Eq(s.up_before, 1), Eq(up_ok, 0))
    return Step(step.guard, choose(failed, kept, step.post))


@BUFFERS.mutant("buf-free-before-stop", "ENA-BUF-STOP-FIRST", replaces="if_down")
def buf_free_before_stop(s: Buffers) -> Step:
    """ena_down frees the buffers before it destroys the IO queues (or resets the
    device): the device may still write into freed RX buffers and read freed TX ones."""
    running = free_rings(s.replace(freeing=1), give_back_tx=True).replace(freeing=0)
    return Step(And(Eq(s.task, 0), Eq(s.reg, 0), Eq(s.freeing, 0), Eq(s.running, 1),
                    Eq(s.up, 1)),
                running.replace(up=0))


@BUFFERS.mutant("buf-restore-refills-from-nowhere", "ENA-BUF-REFILLED",
                replaces="restore_device_hardened")
def buf_restore_refills_from_nowhere(s: Buffers, ok: Term, up_ok: Term,
                                     fill: Term) -> Step:
    """The restore's refill posts mbufs the pool never gave: the pool is not debited."""
    step = restore_device_hardened(s, ok, up_ok, fill)
    return Step(step.guard, step.post.replace(pool=s.pool))


@BUFFERS.mutant("buf-restore-without-refill", "ENA-BUF-REFILLED",
                replaces="restore_device_hardened")
def buf_restore_without_refill(s: Buffers, ok: Term, up_ok: Term, fill: Term) -> Step:
    """ena_restore_device brings the interface up without ena_refill_all_rx_bufs."""
    step = restore_device_hardened(s, ok, up_ok, fill)
    return Step(step.guard, step.post.replace(pool=s.pool, rx_mbuf=s.rx_mbuf,
                                              nm_rx=s.nm_rx, nm_rx_slots=s.nm_rx_slots))


@BUFFERS.mutant("buf-rx-refill-takes-user-slots", "ENA-BUF-NM-USER", replaces="nm_rx_refill")
def buf_rx_refill_takes_user_slots(s: Buffers) -> Step:
    """ena_netmap_alloc_rx_slot posts while any slot holds a buffer, the user's and the
    gap included (no test against ``rhead``)."""
    step = nm_rx_refill(s)
    return Step(And(Eq(s.up, 1), Eq(s.nm, 1), ult(0, s.nm_rx_slots),
                    ult(add16(s.nm_rx, 1), s.rx_size)), step.post)
