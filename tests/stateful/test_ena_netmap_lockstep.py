"""netmap on ENA, judged by model/ena_netmap.py after every sync.

A 4-slot ENA ring in native netmap mode (the model's ring size), host mode or LLQ, either
driver policy, the device completing TX out of order within its window and looping frames
back: the user publishes TX slots and releases RX slots at random, the device runs, and
NIOCTXSYNC / NIOCRXSYNC run.  Every sync must be a sequence of enabled model transitions
-- the user's publish or release the prologue accepted, one ``tx_frame`` per packet sent,
one ``tx_clean`` per completion taken (in CQ order, with the completion's req_id), one
``rx_frame`` per RX completion loaded, one ``rx_refill`` per buffer posted -- that ends in
the state the implementation reached (read by :meth:`impl.ena.nm_port.EnaNetmap.tx_state`
and ``rx_state``).  Hardened, every state also satisfies every invariant of the model's
TX and RX machines (so the netmap ring invariants hold for ENA, through the
refinement), and every netmap buffer is in exactly one place.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from support.ena_netmap_rig import netmap_rig, put_frames, room, take_packets

from impl.ena import ring
from impl.ena.driver import Policy
from impl.ena_defs.layouts import RxCdesc, TxCdesc
from model.ena_netmap import NETMAP_RX, NETMAP_TX


def apply(machine: Any, name: str, state: Any, **args: Any) -> Any:
    step = machine.transitions[name].fn(state, **args)
    assert step.guard is True, f"{machine.name}.{name}({args}) not enabled in {state}"
    return step.post


def pending_ids(cq: np.ndarray, head: int, phase: int, kind: str) -> list[int]:
    """req_ids of the completions from the CQ head on, up to the first whose phase is
    not the one the driver expects there."""
    k = np.arange(cq.shape[0])
    e = cq[(head + k) % cq.shape[0]]
    bits = TxCdesc.PHASE.get(e["flags"]) if kind == "tx" else RxCdesc.PHASE.get(e["status"])
    fresh = bits == ring.phases_at(head, phase, k, cq.shape[0])
    n = int(np.argmin(fresh)) if not fresh.all() else k.size
    return e["req_id"][:n].astype(int).tolist()


def is_subsequence(short: list[bytes], long: list[bytes]) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


class EnaNetmapRing(RuleBasedStateMachine):
    @initialize(llq=st.booleans(), window=st.sampled_from([1, 2, 4]),
                policy=st.sampled_from(list(Policy)), seed=st.integers(0, 2**16))
    def start(self, llq: bool, window: int, policy: Policy, seed: int) -> None:
        self.dev, self.nm = netmap_rig(llq=llq, ring=4, window=window, policy=policy,
                                       seed=seed)
        self.hardened = policy is Policy.HARDENED
        self.suffix = "hardened" if self.hardened else "as_shipped"
        self.tx_model = self.nm.tx_state(0)
        self.rx_model = self.nm.rx_state(0)
        self.sent: list[bytes] = []
        self.back: list[bytes] = []
        event(f"{policy.value} {'llq' if llq else 'host'}")

    @rule(k=st.integers(0, 3), size=st.integers(60, 2000))
    def user_sends(self, k: int, size: int) -> None:
        k = min(k, room(self.nm))
        frames = [[bytes([len(self.sent) + i & 0xFF]) * size] for i in range(k)]
        put_frames(self.nm, frames)
        self.sent += [f[0] for f in frames]

    @rule()
    def user_reads(self) -> None:
        self.back += take_packets(self.nm)

    @rule(one=st.booleans())
    def device_runs(self, one: bool) -> None:
        self.dev.complete_tx(max_per_queue=1 if one else None)
        self.dev.rx()
        self.nm.interrupts()

    @rule()
    def txsync(self) -> None:
        nm, tx = self.nm, self.nm.drv.tx
        head = int(nm.tx.ring_head[0])
        comps = pending_ids(tx.cq[0], int(tx.cq_head[0]), int(tx.cq_phase[0]), "tx")
        r = nm.txsync(0)
        s = self.tx_model
        if not r.accepted[0]:
            event("tx prologue refused")
            return
        s = apply(NETMAP_TX, "user_publish", s, dh=(head - s.rhead) % 4)
        assert r.frames is not None and r.cleanup is not None
        for _ in range(int(r.frames.sent[0])):
            s = apply(NETMAP_TX, f"tx_frame_{self.suffix}", s)
        done = int(r.cleanup.completed[0])
        for rid in comps[:done]:
            s = apply(NETMAP_TX, f"tx_clean_{self.suffix}", s, req_id=rid)
        assert nm.tx_state(0) == s
        self.tx_model = s

    @rule()
    def rxsync(self) -> None:
        nm, rx = self.nm, self.nm.drv.rx
        head = int(nm.rx.ring_head[0])
        comps = pending_ids(rx.cq[0], int(rx.cq_head[0]), int(rx.cq_phase[0]), "rx")
        full = int(nm.rx.hwcur[0]) == int(nm.rx.hwtail[0])
        r = nm.rxsync(0)
        s = self.rx_model
        if r.accepted[0]:
            s = apply(NETMAP_RX, "user_release", s, dh=(head - s.rhead) % 4)
        else:
            # the one refusal the model does not make: ENA's nr_hwcur is netmap's hwcur
            # minus one, so with nr_hwcur == nr_hwtail netmap's [nr_hwcur, nr_hwtail] is
            # one slot and any head but nr_hwtail fails; netmap_ring_reinit (hardened)
            # puts rhead back
            assert full and head != int(nm.rx.hwtail[0])
            event("rx prologue refused a full ENA ring")
        assert r.frames is not None
        for rid in comps[:int(r.frames.slots[0])]:
            s = apply(NETMAP_RX, f"rx_frame_{self.suffix}", s, req_id=rid)
        posted = 0
        if r.refill is not None:
            s = apply(NETMAP_RX, f"rx_cleanup_{self.suffix}", s)
            posted = int(r.refill.posted[0])
            for _ in range(posted):
                s = apply(NETMAP_RX, f"rx_refill_{self.suffix}", s)
            if s.refill != 0:
                s = apply(NETMAP_RX, f"rx_refill_stop_{self.suffix}", s)
        assert nm.rx_state(0) == s
        self.rx_model = s
        event(f"rx refill {posted}")

    @invariant()
    def hardened_keeps_every_invariant(self) -> None:
        if not hasattr(self, "nm") or not self.hardened:
            return
        for machine, state in ((NETMAP_TX, self.nm.tx_state(0)),
                               (NETMAP_RX, self.nm.rx_state(0))):
            for name, inv in machine.invariants.items():
                assert inv(state) is True, f"{name} broken in {state}"
        held = self.nm.rings.buffers_held()
        assert held.tolist() == list(range(2, self.nm.rings.mem.nbufs))

    def teardown(self) -> None:
        """Hardened, what came back is what was sent, in order, minus frames the device
        dropped for want of a posted buffer (its counted drop)."""
        if hasattr(self, "nm") and self.hardened:
            self.back += take_packets(self.nm)
            assert is_subsequence(self.back, self.sent)


TestEnaNetmapRing = EnaNetmapRing.TestCase
TestEnaNetmapRing.settings = settings(max_examples=150, stateful_step_count=40)
