"""The ENA driver and device together, judged by the ENA model after every step.

Traffic of random sizes and fragment counts on several queues, host mode and LLQ,
completions in random order within the device's window, one datapath fault knob at a time
(or none), in either driver policy, starting at zero as the C does or at a boundary state
z3 chose from the model's invariants (a counter just before the u16 wrap, a phase-0 pass
about to end, a TX queue about to stop across the wrap: tests/support/ena_boundary.py);
after every step every queue's state, read through :mod:`impl.ena.abstract`, satisfies
every invariant of the model's SQ and CQ (TX and RX), TX and RX request-id and (host mode)
TX stop/resume machines; every packet handed to the driver is queued, in flight,
completed or dropped with a counted reason; and every frame the wire brought to the
device is waiting, dropped by the device with a counted reason, in an RX ring, delivered
by the driver exactly once (the same bytes), or lost to an ena_rx_cleanup call that
stopped with a reset reason (tests/support/ena_judge.py: RxLedger).  A fault ends in the
reset reason the C gives, recorded first-wins, and a stopped datapath.  Which counters
crossed 65535 -> 0 and which phases flipped is reported as Hypothesis events.  Each step
is also checked in lockstep with the model (tests/support/ena_lockstep.py): every TX and
RX SQ and CQ after the step is the state before it stepped by the model's own
transitions (produce, doorbell, device read, completion ack; completion write and take).

One exception, found by this test: when ena_rx_cleanup stops on a malformed packet, too
many descriptors or an out-of-range req_id, it returns without storing next_to_clean, so
the ids of the packets it delivered earlier in the same call are back in free_rx_ids but
next_to_clean has not moved past them (ENA-REQID-COUNT breaks on that RX ring).  The C
does this; the reset it has just requested rebuilds the ring, so after a reset the RX
request ids are not judged (test_rx_cleanup_error_leaves_next_to_clean_behind shows it;
the model has it as the finding rx_cleanup_error_after_packet_as_shipped).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from support import ena_boundary
from support import ena_lockstep as lockstep
from support.ena_judge import Crossings, RxLedger, violations
from support.ena_rig import frames, rig

from impl.device import Faults
from impl.ena import abstract
from impl.ena.driver import Policy
from impl.ena.start import QueueStart
from impl.ena_defs.regs import ResetReason
from model import ena_reqid

KNOBS = ["", "tx_req_id_oob", "tx_req_id_dup", "tx_req_id_stale", "cdesc_mbz",
         "tx_comp_lost", "rx_first_not_first", "rx_too_many_descs", "rx_req_id_invalid",
         "llq_burst_overrun"]
#: where the queues start: a z3 boundary state, or "" at zero as the C (the wrap first:
#: the ci profile draws the first entries most often)
STARTS = ["u16-wrap", "", *(b for b in ena_boundary.BOUNDARIES if b != "u16-wrap")]


class EnaDatapath(RuleBasedStateMachine):
    @initialize(llq=st.booleans(), nq=st.integers(1, 3), knob=st.sampled_from(KNOBS),
                rate=st.sampled_from([0.05, 0.3]), window=st.sampled_from([1, 8, 64]),
                policy=st.sampled_from(list(Policy)), seed=st.integers(0, 2**16),
                boundary=st.sampled_from(STARTS))
    def start(self, llq: bool, nq: int, knob: str, rate: float, window: int,
              policy: Policy, seed: int, boundary: str) -> None:
        faults = Faults(**{knob: rate}) if knob else None
        self.bus, self.dev, self.drv = rig(llq, nq=nq, faults=faults, window=window,
                                           seed=seed, policy=policy,
                                           start=seed_of(boundary))
        self.llq = llq
        self.rng = np.random.default_rng(seed)
        self.ledger = RxLedger(self.dev)
        self.crossings = Crossings(self.drv)
        event(f"fault {knob or 'none'}")
        event(f"start {boundary or 'at zero'}")

    def _step(self, action: Callable[[], object]) -> object:
        """Run one action of the implementation; the model, stepped alongside, must reach
        the state the implementation reached."""
        before = lockstep.read(self.drv, self.dev)
        out = action()
        assert lockstep.mismatches(before, lockstep.read(self.drv, self.dev)) == []
        self._crossed()
        return out

    def _crossed(self) -> None:
        wrapped, flipped = self.crossings.update(self.drv)
        for name in sorted(wrapped):
            event(f"{name} crossed 65535 -> 0")
        for name in sorted(flipped):
            event(f"{name} phase flipped")

    @rule(n=st.integers(1, 300))
    def transmit(self, n: int) -> None:
        batch = frames(self.bus, self.rng, n)
        stopped = not self.drv.datapath_up
        tail = self.drv.tx.tail.copy()
        self._step(lambda: self.drv.transmit(batch, flowid=self.rng.integers(0, 1000, n),
                                             hashtype=np.ones(n)))
        if stopped:  # after a reset nothing new reaches the rings
            assert np.array_equal(tail, self.drv.tx.tail)

    @rule(steps=st.integers(1, 3))
    def device_runs(self, steps: int) -> None:
        for _ in range(steps):
            self._step(self.dev.step)

    @rule()
    def interrupts(self) -> None:
        self.ledger.record(self._step(self.drv.handle_interrupts))
        if self.drv.reset.triggered:
            event(f"reset {self.drv.reset.reason.name}")

    @invariant()
    def every_queue_satisfies_the_model(self) -> None:
        """TX and RX SQ and CQ, request ids (RX only before a reset, see above) and, in
        host placement, TX stop/resume (tests/support/ena_judge.py: queue_states)."""
        assert violations(self.drv, self.dev) == []

    @invariant()
    def every_packet_is_accounted_for(self) -> None:
        assert self.drv.unaccounted() == 0

    @invariant()
    def every_frame_received_is_accounted_for(self) -> None:
        assert self.ledger.problems(self.drv, self.dev) == []


def seed_of(boundary: str) -> QueueStart | None:
    """The queue start for a named boundary (None: the C's start at zero)."""
    return ena_boundary.seed(boundary).start if boundary else None


TestEnaDatapath = EnaDatapath.TestCase
# each step moves real frames through driver and device: fewer, shorter runs than the
# profile's (longer campaigns: ringspec fuzz / HypoFuzz)
TestEnaDatapath.settings = settings(max_examples=40, stateful_step_count=20)


def test_rx_cleanup_error_leaves_next_to_clean_behind() -> None:
    """A good packet then a malformed one in one ena_rx_cleanup call (CDESC_MBZ fault):
    reset RX_DESCRIPTOR_MALFORMED, the good packet delivered and its id released, but
    next_to_clean not stored -- the as-shipped C, in both policies."""
    for policy in Policy:
        bus, dev, drv = rig(False, nq=1, faults=Faults(cdesc_mbz=0.05), window=1, seed=1,
                            policy=policy)
        rng = np.random.default_rng(1)
        before = abstract.rx_reqid_state(drv, 0)
        assert ena_reqid.RX.violated(before) == []
        drv.transmit(frames(bus, rng, 2), flowid=rng.integers(0, 1000, 2), hashtype=np.ones(2))
        dev.step()
        rx = drv.handle_interrupts().rx
        after = abstract.rx_reqid_state(drv, 0)
        assert drv.reset.reason == ResetReason.RX_DESCRIPTOR_MALFORMED
        assert sum(len(r.lengths) for r in rx) == 1 and after.used == before.used - 1
        assert after.next_to_clean == before.next_to_clean
        assert ena_reqid.RX.violated(after) == ["ENA-REQID-COUNT"]
