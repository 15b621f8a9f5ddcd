"""Lockstep: the model's SQ and CQ machines stepped alongside the implementation.

Before a step of a run every TX and RX SQ and CQ is read as a model state
(:mod:`impl.ena.abstract`); after it, the model's own transitions are applied to the state
before -- as many of each as the implementation's counters moved, in one order the C
allows -- and the result must be the state read after the step.  So the step is a
sequence of enabled model transitions (no guard fails on the way) and everything the
transitions compute from the counts -- the phases, the phase bits written into CQ memory,
the order of the SQ pointers -- is what the implementation did.

The counts come from the implementation (how far ``tail``, ``dev_head``, ``next_to_comp``,
the CQ head and the device's completion counter moved); the order within one step:

* SQ: the driver acknowledges completions (``sq_comp_ack``), writes entries up to the
  doorbell it rang (``sq_produce``), rings it (``sq_doorbell``), the device reads
  (``device_consume``), the driver writes entries it has not published yet;
* CQ: the device writes completions (``cq_produce``), the driver takes them
  (``cq_consume``).

One count is also checked against the driver's other bookkeeping: a TX SQ's tail moves by
the ``tx_descs`` of the request ids that went in flight in the step, and its
next_to_comp by the ``tx_descs`` of those released (ena_xmit_mbuf records
``nb_hw_desc``; ena_tx_cleanup passes their sum to ena_com_comp_ack; ena_datapath.c).
"""

from __future__ import annotations

from typing import Any

from impl.ena import abstract
from model.ena_queue import CQ, SQ, EnaCq, EnaSq

U16 = 0xFFFF
#: the fields of a CQ state the implementation has (the others are ghosts, witnessed)
CQ_SEEN = ("depth_log2", "head", "phase", "dev_tail", "dev_phase", "mem_phase")


class GuardFailedError(AssertionError):
    """A model transition the step needs is not enabled in the state it reaches."""


def _apply(machine: Any, name: str, state: Any, times: int = 1, **args: Any) -> Any:
    fn = machine.transitions[name].fn
    for _ in range(times):
        step = fn(state, **args)
        if step.guard is not True:
            raise GuardFailedError(f"{machine.name}.{name} not enabled in {state}")
        state = step.post
    return state


def sq_successor(pre: EnaSq, post: EnaSq) -> EnaSq:
    """``pre`` stepped by the model as far as ``post``'s counters moved (see above)."""
    s = _apply(SQ, "sq_comp_ack", pre, n=(post.next_to_comp - pre.next_to_comp) & U16)
    written = (post.tail - pre.tail) & U16
    rang = post.db_tail != pre.db_tail
    before_db = (post.db_tail - pre.tail) & U16 if rang else 0
    s = _apply(SQ, "sq_produce", s, min(before_db, written))
    if rang:
        s = _apply(SQ, "sq_doorbell", s)
    s = _apply(SQ, "device_consume", s, (post.dev_head - pre.dev_head) & U16)
    return _apply(SQ, "sq_produce", s, (post.tail - s.tail) & U16)


def cq_successor(pre: EnaCq, post: EnaCq) -> EnaCq:
    """``pre`` stepped by the model: the completions the device wrote, then those the
    driver took."""
    s = _apply(CQ, "cq_produce", pre, (post.dev_tail - pre.dev_tail) & U16)
    return _apply(CQ, "cq_consume", s, (post.head - pre.head) & U16)


def read(drv: Any, dev: Any) -> dict[tuple[str, int], Any]:
    """Every TX and RX SQ and CQ of the run, by (name, queue), and each TX queue's ids in
    flight with their ``tx_descs``."""
    out: dict[tuple[str, int], Any] = {}
    for q in range(drv.cfg.num_queues):
        out["tx_ids", q] = (drv.tx.inflight[q].copy(), drv.tx.tx_descs[q].copy())
        out["tx_sq", q] = abstract.tx_sq_state(drv, dev, q)
        out["rx_sq", q] = abstract.rx_sq_state(drv, dev, q)
        out["tx_cq", q] = abstract.tx_cq_state(drv, dev, q)
        out["rx_cq", q] = abstract.rx_cq_state(drv, dev, q)
    return out


def _tx_entries(q: int, pre: tuple[Any, Any], post: tuple[Any, Any], sq0: EnaSq,
                sq1: EnaSq) -> list[str]:
    """The TX SQ counters moved by the entries of the packets sent and completed."""
    sent = ~pre[0] & post[0]
    done = pre[0] & ~post[0]
    out = []
    if (sq1.tail - sq0.tail) & U16 != int(post[1][sent].sum()) & U16:
        out.append(f"tx queue {q}: tail moved {(sq1.tail - sq0.tail) & U16}, packets "
                   f"sent use {int(post[1][sent].sum())} entries")
    if (sq1.next_to_comp - sq0.next_to_comp) & U16 != int(pre[1][done].sum()) & U16:
        out.append(f"tx queue {q}: next_to_comp moved "
                   f"{(sq1.next_to_comp - sq0.next_to_comp) & U16}, packets completed "
                   f"used {int(pre[1][done].sum())} entries")
    return out


def _seen(s: EnaCq) -> dict[str, Any]:
    return {f: getattr(s, f) for f in CQ_SEEN}


def mismatches(before: dict[tuple[str, int], Any],
               after: dict[tuple[str, int], Any]) -> list[str]:
    """Where the model's successor of ``before`` is not ``after`` (empty: in lockstep)."""
    out = []
    for key, pre in before.items():
        post = after[key]
        try:
            if key[0] == "tx_ids":
                out += _tx_entries(key[1], pre, post, before["tx_sq", key[1]],
                                   after["tx_sq", key[1]])
            elif key[0].endswith("_sq"):
                want = sq_successor(pre, post)
                if want != post:
                    out.append(f"{key}: model {want}, implementation {post}")
            else:
                want = cq_successor(pre, post)
                if _seen(want) != _seen(post):
                    diff = {f: (getattr(want, f), getattr(post, f)) for f in CQ_SEEN
                            if getattr(want, f) != getattr(post, f)}
                    out.append(f"{key}: model vs implementation {diff}")
        except GuardFailedError as e:
            out.append(f"{key}: {e}")
    return out
