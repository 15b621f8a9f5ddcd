"""Pictures of the ENA queues and request ids, drawn from states the model's own transitions
produce when the page is generated.

* SQ and CQ (:func:`sq_figure`, :func:`cq_figure`): an 8-entry queue after 65533 entries
  went round (the transitions run that many times), then steps that carry the free-running
  u16 counters across 65535 -> 0.  Each slot is ``counter & (depth - 1)``
  (:func:`model.ena_bits.slot`); a slot shows the counter of the entry in it and that
  entry's phase bit (:func:`model.ena_bits.pass_phase` for the SQ, the CQ memory's
  ``mem_phase`` and ghost ``mem_seq`` for the CQ).  The SQ regions are cut at the model's
  counters (``next_to_comp``, ``dev_head``, ``db_tail``, ``tail``) and
  :func:`model.ena_queue.free_q_entries`; what is left over is the slot kept empty.
* Request ids (:func:`reqid_figure`): the free-id list by position (the free window is
  :func:`model.ena_reqid.in_free_window`) and the in-flight flag per id, along the page's
  worked example, then each way a completion is refused, run from the same state, with the
  reset reason the model records, named by the model's constant.

Every row also names the invariants its state breaks (none, unless the model is wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from model import ena_reqid
from model.ena_bits import add16, depth, pass_phase, slot, sub16
from model.ena_machine import EnaMachine
from model.ena_queue import CQ, SQ, cq_outstanding, free_q_entries, sq_used
from ringspec.docgen import pictures
from ringspec.docgen.cell_pictures import Cell, Row, draw

K = 3  # depth 8
ROUNDS = 65533  # entries that went round before the picture starts: 3 short of the wrap

SQ_LEGEND = {
    "read": ("read by the device, completion not acknowledged", "#fdae6b"),
    "published": ("published by the doorbell, not yet read", "#c6dbef"),
    "written": ("written, doorbell not rung", "#a1d99b"),
    "free": ("free", "#f7f7f7"),
    "empty": ("kept empty", "#d9d9d9"),
}
CQ_LEGEND = {
    "new": ("written by the device, not yet taken", "#fdae6b"),
    "old": ("taken (or never written): phase of the other pass", "#f7f7f7"),
}
REQID_LEGEND = {
    "free": ("free id (in the free window)", "#a1d99b"),
    "out": ("position of an id in flight", "#d9d9d9"),
    "flight": ("id in flight (its mbuf is set)", "#fdae6b"),
    "idle": ("id not in flight", "#f7f7f7"),
}


def step(machine: EnaMachine, state: Any, name: str, **args: int) -> Any:
    """The state after the model's transition ``name``; refuses a step that is not
    enabled."""
    st = machine.transitions[name](state, **args)
    if st.guard is not True:
        raise ValueError(f"{machine.name}: {name}({args}) is not enabled in {state}")
    return st.post


def run(machine: EnaMachine, state: Any, moves: Sequence[tuple[str, dict[str, int], int]]) -> Any:
    for name, args, times in moves:
        for _ in range(times):
            state = step(machine, state, name, **args)
    return state


def enabled(machine: EnaMachine, state: Any, name: str, **args: int) -> bool:
    return machine.transitions[name](state, **args).guard is True


def label(name: str, times: int = 1, **args: int) -> str:
    text = name + (f"({', '.join(f'{k}={v}' for k, v in args.items())})" if args else "")
    return text + (f" ×{times}" if times > 1 else "")


def counter_marks(s: Any, fields: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """One label per distinct counter value, under its slot: the fields holding it, then
    ``= value``."""
    by_value: dict[int, list[str]] = {}
    for f in fields:
        by_value.setdefault(getattr(s, f), []).append(f)
    return tuple((slot(v, s.depth_log2), "\n".join(names) + f"\n= {v}")
                 for v, names in by_value.items())


def _note(machine: EnaMachine, state: Any) -> str:
    broken = machine.violated(state)
    return "invariants broken: " + ", ".join(broken) if broken else ""


# ---------------------------------------------------------------------------- SQ


def sq_after_rounds() -> Any:
    """sq_init at depth 8, then :data:`ROUNDS` entries each written, published, read and
    acknowledged."""
    one = (("sq_produce", {}, 1), ("sq_doorbell", {}, 1), ("device_consume", {}, 1),
           ("sq_comp_ack", {"n": 1}, 1))
    return run(SQ, SQ.init(K), one * ROUNDS)


def sq_row(caption: str, s: Any) -> Row:
    n = depth(s.depth_log2)
    base = s.next_to_comp
    bounds = [("read", sub16(s.dev_head, base)), ("published", sub16(s.db_tail, base)),
              ("written", sq_used(s)), ("free", sq_used(s) + free_q_entries(s)),
              ("empty", n)]
    cells: dict[int, Cell] = {}
    for d in range(n):
        c = add16(base, d)
        kind = next(k for k, bound in bounds if d < bound)
        used = kind in ("read", "published", "written")
        cells[slot(c, s.depth_log2)] = Cell(
            kind, text=str(c) if used else "", top=f"slot {slot(c, s.depth_log2)}",
            sub=f"phase {pass_phase(c, s.depth_log2)}" if used else "")
    marks = counter_marks(s, ("next_to_comp", "dev_head", "db_tail", "tail"))
    return Row(caption, tuple(cells[i] for i in range(n)), marks, _note(SQ, s),
               f"phase {s.phase}, free_q_entries {free_q_entries(s)}")


def sq_figure(name: str = "ena-sq-wrap") -> pictures.Figure:
    s0 = sq_after_rounds()
    s1 = run(SQ, s0, [("sq_produce", {}, 5)])
    s2 = run(SQ, s1, [("sq_doorbell", {}, 1), ("device_consume", {}, 3)])
    s3 = run(SQ, s2, [("sq_comp_ack", {"n": 3}, 1)])
    s4 = run(SQ, s3, [("sq_produce", {}, free_q_entries(s3))])
    full = "" if enabled(SQ, s4, "sq_produce") else ": sq_produce is no longer enabled"
    rows = [
        sq_row(f"after {ROUNDS} entries went round", s0),
        sq_row(f"{label('sq_produce', 5)}: tail crosses 65535 -> 0", s1),
        sq_row(f"{label('sq_doorbell')}, {label('device_consume', 3)}", s2),
        sq_row(label("sq_comp_ack", n=3), s3),
        sq_row(f"{label('sq_produce', free_q_entries(s3))}{full}", s4),
    ]
    return draw(name, "ENA SQ of 8 entries: " + "; ".join(r.caption for r in rows), rows,
                SQ_LEGEND, cell_w=2.0, aside_w=4.0)


# ---------------------------------------------------------------------------- CQ


def cq_after_rounds() -> Any:
    """cq_init at depth 8, then :data:`ROUNDS` completions each written and taken."""
    return run(CQ, CQ.init(K), (("cq_produce", {}, 1), ("cq_consume", {}, 1)) * ROUNDS)


def cq_row(caption: str, s: Any) -> Row:
    n = depth(s.depth_log2)
    cells: dict[int, Cell] = {}
    for d in range(n):
        i = slot(add16(s.head, d), s.depth_log2)
        cells[i] = Cell("new" if d < cq_outstanding(s) else "old", text=str(s.mem_seq[i]),
                        top=f"slot {i}", sub=f"phase {s.mem_phase[i]}")
    marks = counter_marks(s, ("head", "dev_tail"))
    return Row(caption, tuple(cells[i] for i in range(n)), marks, _note(CQ, s),
               f"driver phase {s.phase}, device phase {s.dev_phase}")


def cq_figure(name: str = "ena-cq-wrap") -> pictures.Figure:
    s0 = cq_after_rounds()
    s1 = run(CQ, s0, [("cq_produce", {}, 5)])
    s2 = run(CQ, s1, [("cq_consume", {}, 4)])
    s3 = run(CQ, s2, [("cq_consume", {}, 1)])
    stop = "" if enabled(CQ, s3, "cq_consume") else (
        ": the entry at head has the old phase, cq_consume is not enabled")
    rows = [
        cq_row(f"after {ROUNDS} completions written and taken", s0),
        cq_row(f"{label('cq_produce', 5)}: dev_tail crosses 65535 -> 0", s1),
        cq_row(f"{label('cq_consume', 4)}: head crosses 65535 -> 0", s2),
        cq_row(f"{label('cq_consume')}{stop}", s3),
    ]
    return draw(name, "ENA CQ of 8 entries: " + "; ".join(r.caption for r in rows), rows,
                CQ_LEGEND, cell_w=2.0, aside_w=6.0)


# ---------------------------------------------------------------------------- request ids

#: Reset reason value -> the model's name for it (model/ena_reqid.py).
REASONS = {getattr(ena_reqid, n): n for n in sorted(ena_reqid.__all__)
           if n.isupper() and isinstance(getattr(ena_reqid, n), int)}


def reason_text(value: int) -> str:
    return f"{REASONS.get(value, '?')} ({value})"


def reqid_row(machine: EnaMachine, caption: str, s: Any) -> Row:
    n = depth(s.depth_log2)
    positions = tuple(
        Cell("free", text=f"id {s.ids[p]}", top=f"free_ids[{p}]")
        if ena_reqid.in_free_window(s, p) else Cell("out", top=f"free_ids[{p}]")
        for p in range(n))
    ids = tuple(Cell("flight" if s.in_flight[i] else "idle", top=f"id {i}",
                     text="mbuf set" if s.in_flight[i] else "NULL")
                for i in range(n))
    marks = ((s.next_to_use, "next_to_use"), (s.next_to_clean, "next_to_clean"))
    return Row(caption, positions + ids, marks, _note(machine, s),
               f"reset_reason {reason_text(s.reason)}", gaps=(n,))


#: Per machine: the completion transition, its arguments for a valid completion of id x,
#: and the refusals (caption, arguments), each run from the same state.
def _tx_args(req_id: int, **faults: int) -> dict[str, int]:
    return {"ready": 1, "mbz": 0, "req_id": req_id, "stale": 0, **faults}


def _rx_args(req_id: int, **faults: int) -> dict[str, int]:
    return {"ready": 1, "malformed": 0, "too_many": 0, "req_id": req_id, **faults}


def _refusals(machine: EnaMachine, n: int, done: int, never: int) -> list[tuple[str, dict]]:
    if machine is ena_reqid.TX:
        return [
            (f"req_id {n} >= depth (out of range)", _tx_args(n)),
            (f"req_id {done} again (duplicate: already completed)", _tx_args(done)),
            (f"req_id {never} (stale: not in flight)", _tx_args(never)),
            ("MBZ bits set (req_id not written; the stale variable is not read)",
             _tx_args(0, mbz=1, stale=done)),
        ]
    return [
        (f"req_id {n} >= depth (out of range)", _rx_args(n)),
        (f"req_id {done} again (duplicate: already completed)", _rx_args(done)),
        ("malformed descriptor (FIRST bit or MBZ)", _rx_args(0, malformed=1)),
        ("more descriptors than max_rx_sgl_size", _rx_args(0, too_many=1)),
    ]


def reqid_figure(machine: EnaMachine, name: str) -> pictures.Figure:
    """Allocate ids, complete one (it goes back to the free list), then every refusal from
    that state with the reason the model records."""
    completion = ("tx_completion_hardened" if machine is ena_reqid.TX
                  else "rx_completion_hardened")
    args = _tx_args if machine is ena_reqid.TX else _rx_args
    s0 = machine.init(2)
    n = depth(2)
    s1 = run(machine, s0, [("reqid_alloc", {}, n - 1)])
    done = s0.ids[1]
    s2 = step(machine, s1, completion, **args(done))
    never = s0.ids[n - 1]
    rows = [
        reqid_row(machine, "init: every id free", s0),
        reqid_row(machine, f"{label('reqid_alloc', n - 1)}: ids go in flight", s1),
        reqid_row(machine, f"{completion}: req_id {done} is valid and goes back to the "
                  "free list at next_to_clean", s2),
    ]
    for caption, a in _refusals(machine, n, done, never):
        after = step(machine, s2, completion, **a)
        rows.append(reqid_row(machine, f"from the state above, {caption}: refused", after))
    return draw(name, f"{machine.title}: " + "; ".join(r.caption for r in rows), rows,
                REQID_LEGEND, cell_w=1.6, aside_w=7.0)
