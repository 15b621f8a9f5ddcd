"""Every counterexample the proofs print is replayed against the implementation.

* A refuted as-shipped obligation (a finding): the as-shipped implementation, put into
  the counterexample's pre-state, does exactly what the faithful model does, and the
  resulting state breaks the same invariant.  The hardened implementation, from the same
  pre-state, keeps every kernel invariant.
* A refuted prologue soundness obligation: the whole as-shipped sync from its pre-state
  breaks a kernel invariant on the implementation too; the hardened sync does not.
* A refuted "a refused prologue keeps the kring" obligation: the implementation's
  prologue, stopped before reinit, returns the model's value and leaves the kring and
  ring->tail exactly as the model (i.e. netmap.c) does, which differs from the pre-state;
  the hardened prologue leaves them as they were.
* A killed mutant: the implementation does *not* have the mutant's bug.  From the
  counterexample's pre-state it does what the real transition does (or, where the mutant
  widened a guard, the device refuses with ValueError and nothing changes), and the
  invariant the mutant broke still holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import model
from impl.netmap import NetmapAdapter
from impl.netmap.prologue import nm_rxsync_prologue, nm_txsync_prologue
from model.netmap_ring import AS_SHIPPED, HARDENED, PROLOGUES, NetmapRing
from proofs.solve import discharge
from proofs.suite import all_obligations

MACHINES = {m.name: m for m in model.MACHINES}
KIND = {"netmap_tx": "tx", "netmap_rx": "rx"}


def _refuted() -> list[Any]:
    wanted = [
        o for o in all_obligations()
        if o.machine in KIND and o.expect == "refuted" and o.transition != "init"
    ]
    return [discharge(o) for o in wanted]


RESULTS = _refuted()
FINDINGS = [r for r in RESULTS if r.obligation.kind == "step"]
MUTANTS = [r for r in RESULTS if r.obligation.kind == "mutant"]
PROLOGUE_FINDINGS = [r for r in RESULTS if r.obligation.kind.startswith("prologue-sound")]
KEEPS_FINDINGS = [r for r in RESULTS if r.obligation.kind.startswith("prologue-reject-keeps")]
SYNC = {"tx": ("txsync", "sent"), "rx": ("rxsync", "refill")}
KEPT = {"prologue-reject-keeps-kring": ("rhead", "rcur"), "prologue-reject-keeps-tail": ("tail",)}


def run_on_impl(adapter: NetmapAdapter, kind: str, transition: str, args: dict) -> dict:
    """Perform ``transition`` on ring 0 of ``adapter``; return the arguments the model
    should see (the driver reports how many slots it really handed over)."""
    if transition.startswith("txsync"):
        return {"sent": int(adapter.txsync([0], sent=args["sent"]).sent[0])}
    if transition.startswith("rxsync"):
        return {"refill": int(adapter.rxsync([0], refill=args["refill"]).refilled[0])}
    if transition.startswith("ring_reinit"):
        adapter.ring_reinit(kind, [0])
    elif transition == "netmap_reset":
        adapter.netmap_reset(kind, [0])
    elif transition == "device_complete":
        adapter.device_complete([0], args["k"])
    elif transition == "device_deliver":
        adapter.device_deliver([0], args["k"])
    elif transition == "user_advance":
        adapter.user_advance(kind, 0, args["dh"], args["dc"])
    elif transition == "user_scribble":
        adapter.set_user_indices(kind, 0, **args)
    else:
        raise AssertionError(f"no implementation step for {transition}")
    return args


def loaded(kind: str, pre: NetmapRing, policy: str) -> NetmapAdapter:
    adapter = NetmapAdapter(1, 1, pre.n, buf_size=64, policy=policy)
    adapter.load(kind, 0, pre)
    assert adapter.abstract(kind, 0) == pre
    return adapter


@pytest.mark.parametrize("result", FINDINGS, ids=lambda r: r.obligation.id)
def test_finding_replays_on_the_as_shipped_implementation(result):
    ob = result.obligation
    machine, kind = MACHINES[ob.machine], KIND[ob.machine]
    pre = NetmapRing(**result.counterexample["pre"])
    args = result.counterexample["args"]
    adapter = loaded(kind, pre, AS_SHIPPED)
    seen = run_on_impl(adapter, kind, ob.transition, args)
    post = machine.transitions[ob.transition](pre, **seen).post
    assert adapter.abstract(kind, 0) == post
    assert ob.invariant in machine.violated(post), f"{ob.invariant} holds after replay"

    hardened = loaded(kind, pre, HARDENED)
    fixed = ob.transition.replace(AS_SHIPPED, HARDENED)
    seen = run_on_impl(hardened, kind, fixed, args)
    after = machine.transitions[fixed](pre, **seen).post
    assert hardened.abstract(kind, 0) == after
    assert machine.violated(after, user_view=False) == []


@pytest.mark.parametrize("result", MUTANTS, ids=lambda r: r.obligation.id)
def test_mutant_counterexample_does_not_fool_the_implementation(result):
    ob = result.obligation
    machine, kind = MACHINES[ob.machine], KIND[ob.machine]
    pre = NetmapRing(**result.counterexample["pre"])
    args = result.counterexample["args"]
    real = machine.transitions[ob.transition]
    adapter = loaded(kind, pre, HARDENED)
    if not real(pre, **args).guard:
        with pytest.raises(ValueError):
            run_on_impl(adapter, kind, ob.transition, args)
        assert adapter.abstract(kind, 0) == pre
        return
    seen = run_on_impl(adapter, kind, ob.transition, args)
    post = real(pre, **seen).post
    assert adapter.abstract(kind, 0) == post
    assert machine.invariants[ob.invariant](post), f"{ob.invariant} broken by the real step"


@pytest.mark.parametrize("result", PROLOGUE_FINDINGS, ids=lambda r: r.obligation.id)
def test_prologue_finding_replays_as_a_whole_sync(result):
    """The pre-state of a refuted prologue obligation, run through a whole as-shipped
    sync on the implementation (driver doing nothing more), ends in a state that breaks a
    kernel invariant; the hardened sync from the same state breaks none."""
    ob = result.obligation
    machine, kind = MACHINES[ob.machine], KIND[ob.machine]
    pre = NetmapRing(**result.counterexample["pre"])
    sync, arg = SYNC[kind]
    for policy in (AS_SHIPPED, HARDENED):
        adapter = loaded(kind, pre, policy)
        seen = run_on_impl(adapter, kind, f"{sync}_{policy}", {arg: 0})
        post = machine.transitions[f"{sync}_{policy}"](pre, **seen).post
        assert adapter.abstract(kind, 0) == post
        broken = machine.violated(post, user_view=False)
        assert bool(broken) == (policy == AS_SHIPPED), (policy, broken)


@pytest.mark.parametrize("result", KEEPS_FINDINGS, ids=lambda r: r.obligation.id)
def test_refused_prologue_leaves_the_kring_as_netmap_c_does(result):
    """Between the prologue and reinit, the implementation's kring and ring->tail are the
    model's (as shipped: changed by a prologue the caller refuses; hardened: untouched),
    and both prologues return what the model's return."""
    ob = result.obligation
    machine, kind = MACHINES[ob.machine], KIND[ob.machine]
    pre = NetmapRing(**result.counterexample["pre"])
    prologue = {"tx": nm_txsync_prologue, "rx": nm_rxsync_prologue}[kind]
    rings = np.array([0], dtype=np.int64)
    for policy in (AS_SHIPPED, HARDENED):
        ret, after = PROLOGUES[machine.name](policy, pre)
        adapter = loaded(kind, pre, policy)
        got = prologue(policy, adapter.krings(kind), rings)
        assert got.tolist() == [ret] and ret >= pre.n  # the caller refuses the sync
        assert adapter.abstract(kind, 0) == after
        changed = {f for f in ("rhead", "rcur", "tail") if getattr(after, f) != getattr(pre, f)}
        if policy == AS_SHIPPED:
            assert changed & set(KEPT[ob.kind]), changed
        else:
            assert not changed, changed


def test_every_netmap_finding_and_mutant_is_replayed():
    """Guards the parametrization itself: nothing refuted is silently skipped."""
    assert {r.obligation.id for r in FINDINGS} == {
        o.id for o in all_obligations()
        if o.machine in KIND and o.kind == "step" and o.expect == "refuted"
    }
    assert len(MUTANTS) == sum(len(MACHINES[m].mutants) for m in KIND)
    assert len(PROLOGUE_FINDINGS) == 4 and len(KEEPS_FINDINGS) == 4
    assert all(r.result == "refuted" and r.counterexample for r in RESULTS)
