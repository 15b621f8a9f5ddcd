"""ENA request ids: the free-id list, ids in flight, and how a completion's req_id is
validated (which reset reason a bad one triggers).

Parametric: the depth 2^``depth_log2`` is symbolic in every proof (1 <= k <= 15); the
"for every id" / "for every position" invariants are instantiated at the terms each step
touches (:func:`model.ena_bits.forall_below`).

Upstream: ``free_tx_ids`` initialised to the identity in ena_setup_tx_resources
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L639);
allocation ``req_id = free_tx_ids[next_to_use]`` in ena_xmit_mbuf
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L975)
and ena_refill_rx_bufs
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1112);
release ``free_tx_ids[next_to_clean] = req_id`` in ena_tx_cleanup
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L245)
and ena_rx_mbuf
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L419);
both indices advance with ENA_TX_RING_IDX_NEXT
(https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L154).
TX validation: ena_com_tx_comp_req_id_get (phase, MBZ, range;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L232),
validate_tx_req_id (reason from the return code;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L573),
ena_get_tx_req_id (the "already completed" test;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L211),
ena_trigger_reset (first reason wins;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L655).
RX validation: ena_com_cdesc_rx_pkt_get (FIRST bit, MBZ;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L269),
ena_com_rx_pkt (descriptor count, range;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L598),
ena_rx_cleanup (reason from the return code, and the re-queue after a NULL mbuf;
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L563).

The free list is a ring of ``depth`` positions: the free ids sit at positions
``[next_to_use, next_to_use + depth - used)``, the ids in flight are the other ``used``.
The ghost permutation ``who``/``pos`` gives every id a position (in-flight ids the
positions outside the free window), which makes "free ids and ids in flight are a
permutation of 0..depth-1" a per-id and per-position statement a solver can check for a
symbolic depth.  RX packets are modelled one descriptor per completion.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, Implies, Not, Or, Param, Step, Term, Var
from model.ena_bits import (
    Identity,
    add16,
    depth,
    filled,
    forall_below,
    ite,
    mask,
    next_masked,
    select,
    store,
    sub16,
    ule,
    ult,
)
from model.ena_machine import EnaMachine, choose, replace

__all__ = [
    "INV_RX_REQ_ID", "INV_TX_REQ_ID", "NORMAL", "RX", "RX_DESCRIPTOR_MALFORMED",
    "TOO_MANY_RX_DESCS", "TX", "TX_DESCRIPTOR_MALFORMED", "ReqIds", "free_count",
    "in_free_window", "record_reason", "reqid_alloc", "reqid_init", "reqid_release",
    "rx_expected_reason", "tx_expected_reason",
]

# ena_regs_reset_reason_types
NORMAL = 0
INV_RX_REQ_ID = 4
INV_TX_REQ_ID = 5
TOO_MANY_RX_DESCS = 6
RX_DESCRIPTOR_MALFORMED = 16
TX_DESCRIPTOR_MALFORMED = 17


@dataclass(frozen=True)
class ReqIds:
    """The req_id bookkeeping of one TX or RX ring (``free_tx_ids`` / ``free_rx_ids``,
    ``tx_buffer_info[].mbuf`` / ``rx_buffer_info[].mbuf``), the adapter's reset reason, and
    ghosts."""

    depth_log2: Term
    ids: Term
    next_to_use: Term
    next_to_clean: Term
    in_flight: Term
    used: Term
    who: Term
    pos: Term
    reason: Term
    oob: Term

    def replace(self, **changes: Term) -> ReqIds:
        return replace(self, **changes)


REQID_VARS = (
    Var("depth_log2", "constant", "log2", "log2(ring_size); ring_size = 2^k, 1 <= k <= 15."),
    Var("ids", "driver", "array", "free_tx_ids / free_rx_ids: position -> id."),
    Var("next_to_use", "driver", "u16", "ring->next_to_use: position of the next id to "
        "allocate (masked, < depth)."),
    Var("next_to_clean", "driver", "u16", "ring->next_to_clean: position where the next "
        "released id is written (masked, < depth)."),
    Var("in_flight", "driver", "array", "id -> 1 while tx_info->mbuf / rx_info->mbuf is "
        "set (the buffer is with the device)."),
    Var("used", "ghost", "u16", "Ghost: ids in flight; disambiguates next_to_use == "
        "next_to_clean (all free or all in flight)."),
    Var("who", "ghost", "array", "Ghost: position -> id, a permutation; equals ids on the "
        "free window."),
    Var("pos", "ghost", "array", "Ghost: id -> position, the inverse of who."),
    Var("reason", "driver", "u16", "adapter->reset_reason once ENA_FLAG_TRIGGER_RESET is set "
        "(0 = NORMAL: no reset triggered)."),
    Var("oob", "ghost", "bit", "Ghost: 1 once tx_buffer_info was read at an index >= "
        "ring_size (past the array)."),
)


def reqid_init(k: Term) -> ReqIds:
    """ena_setup_tx_resources / ena_setup_rx_resources: ``free_*_ids[i] = i``, both
    indices 0, nothing in flight, no reset."""
    ident = tuple(range(1 << k)) if isinstance(k, int) else Identity()
    return ReqIds(depth_log2=k, ids=ident, next_to_use=0, next_to_clean=0,
                  in_flight=filled(k, 0), used=0, who=ident, pos=ident, reason=NORMAL, oob=0)



TX = EnaMachine(
    name="ena_tx_reqid",
    title="ENA TX request ids",
    state_type=ReqIds,
    vars=REQID_VARS,
    init=reqid_init,
    doc=reqid_init.__doc__ or "",
    driver_fields=("depth_log2", "ids", "next_to_use", "next_to_clean", "in_flight", "reason"),
)
RX = EnaMachine(
    name="ena_rx_reqid",
    title="ENA RX request ids",
    state_type=ReqIds,
    vars=REQID_VARS,
    init=reqid_init,
    doc=reqid_init.__doc__ or "",
    driver_fields=("depth_log2", "ids", "next_to_use", "next_to_clean", "in_flight", "reason"),
)

def _reqid_instances(s: ReqIds, args: dict[str, Term], fresh: list[Term]) -> list[Term]:
    """The ids and positions a step touches: the goal's fresh index, both indices, the id
    allocation hands out, the in-flight id whose position a release takes, and the
    completed req_id with its position."""
    terms = [*fresh, s.next_to_use, s.next_to_clean, select(s.ids, s.next_to_use),
             select(s.who, s.next_to_clean)]
    if "req_id" in args:
        terms += [args["req_id"], select(s.pos, args["req_id"])]
    return terms


TX.own_instances = _reqid_instances
RX.own_instances = _reqid_instances


# ---------------------------------------------------------------------------- helpers


def free_count(s: ReqIds) -> Term:
    return sub16(depth(s.depth_log2), s.used)


def in_free_window(s: ReqIds, p: Term) -> Term:
    """Position p (< depth) holds a free id: it lies in [next_to_use, next_to_use + free)."""
    return ult((p - s.next_to_use) & mask(s.depth_log2), free_count(s))


def is_in_flight(s: ReqIds, req_id: Term) -> Term:
    return Eq(select(s.in_flight, req_id), 1)


def record_reason(reason: Term, new: Term) -> Term:
    """ena_trigger_reset: the reason is recorded only if no reset was triggered yet."""
    return ite(Eq(reason, NORMAL), new, reason)


# ---------------------------------------------------------------------------- the two moves


def _alloc(s: ReqIds) -> Step:
    req_id = select(s.ids, s.next_to_use)
    return Step(
        ult(s.used, depth(s.depth_log2)),
        s.replace(
            in_flight=store(s.in_flight, req_id, 1),
            next_to_use=next_masked(s.next_to_use, s.depth_log2),
            used=add16(s.used, 1),
        ),
    )


def _release(s: ReqIds, req_id: Term) -> ReqIds:
    """The valid-completion bookkeeping: ``free_ids[next_to_clean] = req_id``,
    ``mbuf = NULL``, next_to_clean advances.  Ghost: req_id takes position next_to_clean
    and the in-flight id that held it takes req_id's old position."""
    q = s.next_to_clean
    p0 = select(s.pos, req_id)
    y = select(s.who, q)
    who = store(store(s.who, p0, y), q, req_id)
    pos = store(store(s.pos, y, p0), req_id, q)
    return s.replace(
        ids=store(s.ids, q, req_id),
        in_flight=store(s.in_flight, req_id, 0),
        next_to_clean=next_masked(q, s.depth_log2),
        used=sub16(s.used, 1),
        who=who,
        pos=pos,
    )


for _m in (TX, RX):

    @_m.transition(actor="driver", name="reqid_alloc")
    def _reqid_alloc(s: ReqIds) -> Step:
        """Allocate ``free_ids[next_to_use]`` (TX: ena_xmit_mbuf; RX: ena_refill_rx_bufs),
        mark it in flight and advance next_to_use.  The caller only allocates while the SQ
        has room, so fewer than depth ids are in flight."""
        return _alloc(s)

    @_m.transition(actor="driver", name="reqid_release",
                   params=(Param("req_id", "u16", "the completed id"),))
    def _reqid_release(s: ReqIds, req_id: Term) -> Step:
        """Release a validated completion's id (the success path of ena_tx_cleanup /
        ena_rx_mbuf)."""
        return Step(And(ult(req_id, depth(s.depth_log2)), is_in_flight(s, req_id)),
                    _release(s, req_id))


reqid_alloc = TX.transitions["reqid_alloc"].fn
reqid_release = TX.transitions["reqid_release"].fn

# ---------------------------------------------------------------------------- TX completion

TX_COMPLETION_PARAMS = (
    Param("ready", "bit", "the entry at CQ head has the expected phase"),
    Param("mbz", "bit", "MBZ bits 7:6 set and the device has the CDESC_MBZ capability"),
    Param("req_id", "u16", "cdesc->req_id"),
    Param("stale", "u16", "what the caller's req_id variable held before (read by the "
          "already-completed test when ena_com did not write it)"),
)


def tx_completion(s: ReqIds, ready: Term, mbz: Term, req_id: Term, stale: Term,
                  hardened: bool) -> Step:
    """ena_get_tx_req_id, in the C's order.  ``rc`` of ena_com_tx_comp_req_id_get: phase
    mismatch -> TRY_AGAIN (nothing); MBZ -> FAULT, req_id not written; req_id >= depth ->
    INVAL, req_id written; else 0.  validate_tx_req_id turns FAULT into
    TX_DESCRIPTOR_MALFORMED (17) and INVAL into INV_TX_REQ_ID (5).  Then, as shipped,
    ``tx_buffer_info[req_id].mbuf == NULL`` is tested *unconditionally* (with the stale
    variable after FAULT, with the out-of-range id after INVAL) and triggers
    INV_TX_REQ_ID; hardened, only when rc == 0."""
    n = depth(s.depth_log2)
    fault = Eq(mbz, 1)
    inval = And(Not(fault), Not(ult(req_id, n)))
    index = ite(fault, stale, req_id)
    reason = record_reason(s.reason, ite(fault, TX_DESCRIPTOR_MALFORMED,
                                         ite(inval, INV_TX_REQ_ID, s.reason)))
    ok = And(Not(fault), Not(inval))
    tested = True if not hardened else ok
    oob = ite(And(tested, Not(ult(index, n))), 1, s.oob)
    completed_already = And(ok, Not(is_in_flight(s, req_id)))
    reason = ite(completed_already, record_reason(reason, INV_TX_REQ_ID), reason)
    rejected = s.replace(reason=reason, oob=oob)
    accepted = _release(s, req_id)
    done = choose(And(ok, Not(completed_already)), accepted, rejected)
    return Step(True, choose(Eq(ready, 1), done, s))


@TX.transition(actor="driver", params=TX_COMPLETION_PARAMS, breaks=("ENA-TX-NO-OOB-READ",))
def tx_completion_as_shipped(s: ReqIds, ready: Term, mbz: Term, req_id: Term,
                             stale: Term) -> Step:
    """One TX completion through ena_get_tx_req_id as shipped: the already-completed test
    runs even after a failed validation, reading ``tx_buffer_info`` at an out-of-range
    req_id (or at the stale value of the variable after an MBZ fault)."""
    return tx_completion(s, ready, mbz, req_id, stale, hardened=False)


@TX.transition(actor="driver", params=TX_COMPLETION_PARAMS)
def tx_completion_hardened(s: ReqIds, ready: Term, mbz: Term, req_id: Term,
                           stale: Term) -> Step:
    """The same, with the already-completed test only after a successful validation."""
    return tx_completion(s, ready, mbz, req_id, stale, hardened=True)


def tx_expected_reason(s: ReqIds, ready: Term, mbz: Term, req_id: Term) -> Term:
    """The documented rule, first match wins: no fresh entry -> no reset; MBZ -> 17;
    req_id >= depth -> 5; req_id not in flight (duplicate or stale) -> 5; else none."""
    n = depth(s.depth_log2)
    return ite(Eq(ready, 0), NORMAL,
               ite(Eq(mbz, 1), TX_DESCRIPTOR_MALFORMED,
                   ite(Not(ult(req_id, n)), INV_TX_REQ_ID,
                       ite(Not(is_in_flight(s, req_id)), INV_TX_REQ_ID, NORMAL))))


def verdict_holds(expected: Term, s: ReqIds, args: dict[str, Term], step: Step) -> Term:
    """The step follows the rule ``expected`` (a reason, NORMAL = accept): it is enabled;
    the reason is recorded first-wins; an accepted id is released at next_to_clean and
    nothing else in the id bookkeeping moves; a rejected completion moves nothing."""
    post, req_id = step.post, args["req_id"]
    fields = ("ids", "next_to_use", "next_to_clean", "in_flight")
    same = And(*[Eq(getattr(post, f), getattr(s, f)) for f in fields])
    released = And(
        Eq(post.ids, store(s.ids, s.next_to_clean, req_id)),
        Eq(post.in_flight, store(s.in_flight, req_id, 0)),
        Eq(post.next_to_clean, next_masked(s.next_to_clean, s.depth_log2)),
        Eq(post.next_to_use, s.next_to_use),
    )
    accept = And(Eq(args["ready"], 1), Eq(expected, NORMAL))
    reason = ite(Eq(expected, NORMAL), s.reason, record_reason(s.reason, expected))
    return And(step.guard, Eq(post.reason, reason), ite(accept, released, same))


@TX.contract(
    "ENA-TX-VERDICT",
    "A TX completion is accepted exactly when its entry is fresh, its MBZ bits are clear and "
    "its req_id is < depth and in flight; otherwise the reset reason is the first that "
    "applies in the order MBZ (17), range (5), already completed (5), and no id moves.",
    transitions=("tx_completion_as_shipped", "tx_completion_hardened"),
)
def tx_verdict(s: ReqIds, args: dict[str, Term], step: Step) -> Term:
    expected = tx_expected_reason(s, args["ready"], args["mbz"], args["req_id"])
    return verdict_holds(expected, s, args, step)


# ---------------------------------------------------------------------------- RX completion

RX_COMPLETION_PARAMS = (
    Param("ready", "bit", "a complete packet is in the CQ (LAST seen)"),
    Param("malformed", "bit", "FIRST bit on a later descriptor, or MBZ bits 7/17 set with "
          "the CDESC_MBZ capability"),
    Param("too_many", "bit", "more descriptors than max_rx_sgl_size"),
    Param("req_id", "u16", "the descriptor's req_id"),
)


def rx_completion(s: ReqIds, ready: Term, malformed: Term, too_many: Term, req_id: Term,
                  hardened: bool) -> Step:
    """ena_rx_cleanup on a one-descriptor packet, in the C's order: ena_com_rx_pkt returns
    FAULT (RX_DESCRIPTOR_MALFORMED 16), NO_SPACE (TOO_MANY_RX_DESCS 6) or EIO for req_id >=
    depth (INV_RX_REQ_ID 4) before any buffer is touched; then ena_rx_mbuf finds
    ``rx_info->mbuf == NULL`` (a duplicate or stale id: INV_RX_REQ_ID 4).  As shipped,
    after that NULL the caller writes the packet's req_id back into ``free_rx_ids`` at
    next_to_clean and advances it, although the id was not in flight; hardened, it
    re-queues only ids it took."""
    n = depth(s.depth_log2)
    fault = Eq(malformed, 1)
    nospace = And(Not(fault), Eq(too_many, 1))
    eio = And(Not(fault), Not(nospace), Not(ult(req_id, n)))
    rc_ok = And(Not(fault), Not(nospace), Not(eio))
    null_mbuf = And(rc_ok, Not(is_in_flight(s, req_id)))
    reason = record_reason(s.reason, ite(fault, RX_DESCRIPTOR_MALFORMED,
                                         ite(nospace, TOO_MANY_RX_DESCS,
                                             ite(eio, INV_RX_REQ_ID, s.reason))))
    reason = ite(null_mbuf, record_reason(reason, INV_RX_REQ_ID), reason)
    rejected = s.replace(reason=reason)
    if not hardened:
        q = s.next_to_clean
        requeued = rejected.replace(ids=store(s.ids, q, req_id),
                                    next_to_clean=next_masked(q, s.depth_log2))
        rejected = choose(null_mbuf, requeued, rejected)
    done = choose(And(rc_ok, Not(null_mbuf)), _release(s, req_id), rejected)
    return Step(True, choose(Eq(ready, 1), done, s))


@RX.transition(actor="driver", params=RX_COMPLETION_PARAMS,
               breaks=("ENA-REQID-POSITIONS", "ENA-REQID-COUNT"))
def rx_completion_as_shipped(s: ReqIds, ready: Term, malformed: Term, too_many: Term,
                             req_id: Term) -> Step:
    """One RX packet through ena_rx_cleanup as shipped (duplicate id re-queued)."""
    return rx_completion(s, ready, malformed, too_many, req_id, hardened=False)


@RX.transition(actor="driver", params=RX_COMPLETION_PARAMS)
def rx_completion_hardened(s: ReqIds, ready: Term, malformed: Term, too_many: Term,
                           req_id: Term) -> Step:
    """The same, re-queueing nothing for an id that was not in flight."""
    return rx_completion(s, ready, malformed, too_many, req_id, hardened=True)


RX_STOP_PARAMS = (Param("req_id", "u16", "the req_id of the packet delivered first"),)


def rx_cleanup_stops(s: ReqIds, req_id: Term, hardened: bool) -> Step:
    """ena_rx_cleanup delivers a packet (its id written to ``free_rx_ids[next_to_clean]``
    and the local next_to_clean advanced by ena_rx_mbuf), then ena_com_rx_pkt fails on the
    next one (here: malformed, RX_DESCRIPTOR_MALFORMED 16; too many descriptors and a
    req_id >= depth take the same exit).  As shipped the function returns at once and
    ``rx_ring->next_to_clean`` keeps its old value; hardened, it is stored first."""
    delivered = _release(s, req_id)
    stored = delivered.next_to_clean if hardened else s.next_to_clean
    return Step(And(ult(req_id, depth(s.depth_log2)), is_in_flight(s, req_id)),
                delivered.replace(next_to_clean=stored,
                                  reason=record_reason(s.reason, RX_DESCRIPTOR_MALFORMED)))


@RX.transition(actor="driver", params=RX_STOP_PARAMS, breaks=("ENA-REQID-COUNT",))
def rx_cleanup_error_after_packet_as_shipped(s: ReqIds, req_id: Term) -> Step:
    """A packet delivered, then a fatal error: next_to_clean not stored."""
    return rx_cleanup_stops(s, req_id, hardened=False)


@RX.transition(actor="driver", params=RX_STOP_PARAMS)
def rx_cleanup_error_after_packet_hardened(s: ReqIds, req_id: Term) -> Step:
    """The same, storing next_to_clean before returning."""
    return rx_cleanup_stops(s, req_id, hardened=True)


def rx_expected_reason(s: ReqIds, ready: Term, malformed: Term, too_many: Term,
                       req_id: Term) -> Term:
    """The documented rule, first match wins: no packet -> none; malformed -> 16; too many
    descriptors -> 6; req_id >= depth -> 4; not in flight -> 4; else none."""
    n = depth(s.depth_log2)
    return ite(Eq(ready, 0), NORMAL,
               ite(Eq(malformed, 1), RX_DESCRIPTOR_MALFORMED,
                   ite(Eq(too_many, 1), TOO_MANY_RX_DESCS,
                       ite(Not(ult(req_id, n)), INV_RX_REQ_ID,
                           ite(Not(is_in_flight(s, req_id)), INV_RX_REQ_ID, NORMAL)))))


@RX.contract(
    "ENA-RX-VERDICT",
    "An RX packet is accepted exactly when it is complete, well formed, within the "
    "descriptor limit and its req_id is < depth and in flight; otherwise the reset reason "
    "is the first that applies in the order malformed (16), too many descriptors (6), "
    "range (4), already completed (4), and no id moves.",
    transitions=("rx_completion_as_shipped", "rx_completion_hardened"),
    breaks=("rx_completion_as_shipped",),
)
def rx_verdict(s: ReqIds, args: dict[str, Term], step: Step) -> Term:
    expected = rx_expected_reason(s, args["ready"], args["malformed"], args["too_many"],
                                  args["req_id"])
    return verdict_holds(expected, s, args, step)


# ---------------------------------------------------------------------------- invariants


def id_ok(s: ReqIds, x: Term) -> Term:
    """Id x has a position p = pos[x] < depth with who[p] = x; it is in flight exactly when p
    lies outside the free window."""
    p = select(s.pos, x)
    return And(
        ult(p, depth(s.depth_log2)),
        Eq(select(s.who, p), x),
        Eq(is_in_flight(s, x), Not(in_free_window(s, p))),
        Or(Eq(select(s.in_flight, x), 0), Eq(select(s.in_flight, x), 1)),
    )


def position_ok(s: ReqIds, p: Term) -> Term:
    """Position p holds id who[p] < depth with pos[who[p]] = p; in the free window the
    driver's list holds that id."""
    x = select(s.who, p)
    return And(
        ult(x, depth(s.depth_log2)),
        Eq(select(s.pos, x), p),
        Implies(in_free_window(s, p), Eq(select(s.ids, p), x)),
    )


for _m in (TX, RX):
    _m.invariant(
        "ENA-REQID-COUNT",
        "next_to_use and next_to_clean are positions (< depth), at most depth ids are in "
        "flight, and next_to_use is next_to_clean plus the ids in flight (mod depth).",
    )(lambda s: And(
        ult(s.next_to_use, depth(s.depth_log2)),
        ult(s.next_to_clean, depth(s.depth_log2)),
        ule(s.used, depth(s.depth_log2)),
        Eq(s.next_to_use, add16(s.next_to_clean, s.used) & mask(s.depth_log2)),
    ))
    _m.invariant(
        "ENA-REQID-IDS",
        "Every id 0..depth-1 is either in flight or in the free list, never both, never "
        "neither.",
    )(lambda s: forall_below(depth(s.depth_log2), lambda x: id_ok(s, x)))
    _m.invariant(
        "ENA-REQID-POSITIONS",
        "Every position of the free window holds a distinct valid free id: with "
        "ENA-REQID-IDS, the free ids and the ids in flight are a permutation of 0..depth-1.",
    )(lambda s: forall_below(depth(s.depth_log2), lambda p: position_ok(s, p)))

TX.invariant(
    "ENA-TX-NO-OOB-READ",
    "tx_buffer_info is never read at an index >= ring_size.",
)(lambda s: Eq(s.oob, 0))
