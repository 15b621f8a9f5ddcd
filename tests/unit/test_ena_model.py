"""The ENA model run concretely (u16 ints and tuples, no solver).

* Every ENA refutation the proofs report (as-shipped findings and mutants) replays: its
  state before satisfies *every* invariant of its machine in full (each quantifier over
  all the depth's indices, not only the instances the proof used), the step is enabled,
  and the state after breaks the invariant or contract the obligation names.
* Random walks from the initial state through the hardened transitions keep every
  invariant and meet every contract, at several depths.
* On those walks the SQ's netmap view (model/ena_abstraction.py) moves as netmap's TX
  kring does, and every abstraction claim has a mutant the proofs kill.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import model
from model.core import ring_dist, ring_next
from model.ena_abstraction import netmap_view
from model.ena_machine import EnaMachine
from model.ena_queue import SQ, free_q_entries
from proofs.ena_obligations import (
    ABSTRACTION_CLAIMS,
    abstraction_obligations,
    concrete_state,
    ena_obligations,
)
from proofs.solve import discharge

MACHINES: dict[str, EnaMachine] = {m.name: m for m in model.ENA_MACHINES}
REFUTED = [o for o in ena_obligations() if o.expect == "refuted"
           and o.invariant in MACHINES[o.machine].checked_ids()]  # not the abstraction's
RESULTS = {o.id: discharge(o) for o in REFUTED}


def test_every_ena_refutation_is_replayed() -> None:
    assert len(REFUTED) >= 30
    assert all(RESULTS[o.id].result == "refuted" for o in REFUTED)


@pytest.mark.parametrize("ob", REFUTED, ids=lambda o: o.id)
def test_ena_counterexample_is_a_real_state_and_a_real_violation(ob) -> None:
    machine = MACHINES[ob.machine]
    cex = RESULTS[ob.id].counterexample
    pre = concrete_state(machine, cex["pre"])
    args = cex["args"]
    assert machine.holds(pre) is True, [i.id for i in machine.invariants.values()
                                        if i(pre) is not True]
    fn = (machine.mutants[ob.id.rsplit("/", 1)[1]].fn if ob.kind == "mutant"
          else machine.transitions[ob.transition].fn)
    step = fn(pre, **args)
    assert step.guard is True or step.guard == 1
    assert step.post == concrete_state(machine, cex["post"])
    if ob.invariant in machine.contracts:
        assert machine.contracts[ob.invariant].fn(pre, args, step) is False
    else:
        assert machine.invariants[ob.invariant](step.post) is False


HARDENED = {
    m.name: [t for t in m.transitions.values() if not t.breaks and "as_shipped" not in t.name]
    for m in model.ENA_MACHINES
}


def _argument(domain: str, n: int) -> st.SearchStrategy[int]:
    if domain == "bit":
        return st.integers(0, 1)
    return st.one_of(st.integers(0, n + 2), st.sampled_from([0xFFFF, 0x7FFF, 256, 300]))


@pytest.mark.parametrize("machine", model.ENA_MACHINES, ids=lambda m: m.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_walks_keep_every_invariant_and_contract(machine: EnaMachine, data) -> None:
    k = data.draw(st.integers(machine.min_log2, machine.min_log2 + 2), label="depth_log2")
    n = 1 << k
    state = machine.init(k)
    assert machine.holds(state) is True
    for _ in range(30):
        t = data.draw(st.sampled_from(HARDENED[machine.name]), label="transition")
        args = {p.name: data.draw(_argument(p.domain, n), label=p.name) for p in t.params}
        step = t.fn(state, **args)
        for c in machine.contracts.values():
            if t.name in c.transitions:
                assert c.fn(state, args, step) is True, (c.id, state, args)
        if step.guard is not True:
            continue
        state = step.post
        broken = [i.id for i in machine.invariants.values() if i(state) is not True]
        assert not broken, (t.name, args, state)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 4), moves=st.lists(st.tuples(st.sampled_from(
    ["sq_produce", "sq_doorbell", "device_consume", "sq_comp_ack"]), st.integers(0, 20)),
    max_size=80), start=st.integers(0, 0xFFFF))
def test_sq_walks_move_the_netmap_view_like_a_tx_kring(k, moves, start) -> None:
    """Counters started anywhere in u16 (so they wrap): hwcur moves by nm_next on every
    produce, hwtail by n on every comp_ack, and netmap's free slots are ENA's."""
    s = SQ.state_type(depth_log2=k, tail=start, next_to_comp=start, phase=1 ^ ((start >> k) & 1),
                      db_tail=start, dev_head=start)
    assert SQ.holds(s) is True
    for name, n in moves:
        t = SQ.transitions[name]
        args = {"n": n} if t.params else {}
        step = t.fn(s, **args)
        if step.guard is not True:
            continue
        v, w = netmap_view(s), netmap_view(step.post)
        if name == "sq_produce":
            assert (w.hwcur, w.hwtail) == (ring_next(v.hwcur, v.n), v.hwtail)
        elif name == "sq_comp_ack":
            assert w.hwcur == v.hwcur and ring_dist(v.hwtail, w.hwtail, v.n) == n
        else:
            assert (w.hwcur, w.hwtail) == (v.hwcur, v.hwtail)
        s = step.post
        assert ring_dist(w.hwcur, w.hwtail, w.n) == free_q_entries(s)


def test_every_abstraction_claim_is_proved_and_has_a_killed_mutant() -> None:
    results = [discharge(o) for o in abstraction_obligations()]
    proved = {r.obligation.invariant for r in results if r.obligation.kind == "abstraction"
              and r.result == "proved"}
    killed = {r.obligation.invariant for r in results if r.obligation.kind == "mutant"
              and r.result == "refuted"}
    assert proved == killed == {f"abstraction-{c}" for c in ABSTRACTION_CLAIMS}


def test_an_unresponsive_device_makes_the_timer_wait_for_the_reset() -> None:
    """ena_timer_service with a reset requested reads the device's version: an answer
    queues the reset task and leaves the timer off; none (after the read's timeouts, 400
    ms here) re-arms it one second from then, the request kept for a later tick."""
    from model.ena_keepalive import KEEPALIVE, SBT_1MS, SBT_1S

    s = KEEPALIVE.init(10)
    s = KEEPALIVE.transitions["trigger_reset"](s, reason=5).post
    tick = KEEPALIVE.transitions["timer_service"](s, in_aenq=0, admin_down=0, tx_missing=0)
    assert tick.guard is True
    probing = tick.post
    assert (probing.probing, probing.armed, probing.queued) == (1, 0, 0)
    later = KEEPALIVE.transitions["clock_advance"](probing, dt_ms=400)
    assert later.guard is True  # the timer is off while the read waits
    read = KEEPALIVE.transitions["version_read"]
    queued = read(later.post, unresponsive=0)
    waiting = read(later.post, unresponsive=1)
    assert (queued.post.queued, queued.post.armed, queued.post.probing) == (1, 0, 0)
    assert (waiting.post.queued, waiting.post.armed, waiting.post.trigger) == (0, 1, 1)
    assert waiting.post.deadline == s.deadline + 400 * SBT_1MS + SBT_1S
    assert not read(s, unresponsive=0).guard  # only after a tick found a reset requested
