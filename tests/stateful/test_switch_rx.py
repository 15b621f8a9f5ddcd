"""Entering and leaving netmap mode on RX rings: the implementation against the model.

A Hypothesis machine drives :class:`impl.switch.SwitchRxRings` (several rings, either
strategy) with traffic, rxsync harvests and refills, link changes and switches in both
directions, interleaved at random.  After every step, for every ring, the implementation's
counts (``abstract``) equal the model (:mod:`model.netmap_switch`) stepped with the same
arguments, and the model's invariants hold on them.  Beyond the counts, the real objects
are checked: every netmap buffer is in exactly one place (allocator or a ring), every live
mbuf sits in a descriptor, and every frame offered is exactly once in a filled descriptor,
a delivery log or a drop log.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from support.switch_harness import SwitchHarness

from impl.switch import SwitchRxRings
from impl.switch.rx import FrameLog
from model import SWITCH_RX_CLASSIC, SWITCH_RX_RFC
from model import netmap_switch as sw

MACHINES = {"classic": SWITCH_RX_CLASSIC, "rfc": SWITCH_RX_RFC}


class SwitchRx(SwitchHarness, RuleBasedStateMachine):
    """Model-checked RX rings across netmap enter/exit."""

    @initialize(strategy=st.sampled_from(sorted(MACHINES)), queues=st.integers(1, 3),
                n=st.sampled_from([2, 3, 4, 8]))
    def start(self, strategy: str, queues: int, n: int) -> None:
        self.rings = SwitchRxRings(queues, n, strategy)
        self.machine = MACHINES[strategy]
        self.models = [sw.init(n) for _ in range(queues)]
        assert [self.rings.abstract(q) for q in range(queues)] == self.models

    @rule(data=st.data())
    def wire(self, data: st.DataObject) -> None:
        k = self._counts(data)
        before = [self.rings.abstract(q) for q in range(self.rings.q)]
        self.rings.wire(k)
        # while leaving the NIC's order decides the mix; the model takes it as an argument
        j = [self.rings.abstract(q).ready_n - b.ready_n for q, b in enumerate(before)]
        self._expect(lambda q, s: sw.wire(s, int(k[q]), j[q]))

    @rule(data=st.data())
    def harvest(self, data: st.DataObject) -> None:
        k = self._counts(data)
        before = [self.rings.abstract(q) for q in range(self.rings.q)]
        self.rings.harvest(k)
        j = [b.ready_n - self.rings.abstract(q).ready_n for q, b in enumerate(before)]
        self._expect(lambda q, s: sw.harvest(s, int(k[q]), j[q]))

    @rule(data=st.data())
    def traffic_round(self, data: st.DataObject) -> None:
        """A busy ring in one go: frames arrive, rxsync reports them all, the user
        releases everything it holds."""
        self.wire(data)
        everything = np.full(self.rings.q, 2 * self.rings.n)
        before = [self.rings.abstract(q) for q in range(self.rings.q)]
        self.rings.harvest(everything)
        j = [b.ready_n - self.rings.abstract(q).ready_n for q, b in enumerate(before)]
        self._expect(lambda q, s: sw.harvest(s, int(everything[q]), j[q]))
        self.rings.release(everything)
        self._expect(lambda q, s: sw.release(s, int(everything[q])))

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        k = self._counts(data)
        self.rings.release(k)
        self._expect(lambda q, s: sw.release(s, int(k[q])))

    @rule(data=st.data())
    def regif(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.regif(mask)
        step = sw.regif_classic if self.rings.strategy == "classic" else sw.regif_rfc
        self._expect(lambda q, s: step(s) if mask[q] else None)

    @rule(data=st.data())
    def unregif(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.unregif(mask)
        step = sw.unregif_classic if self.rings.strategy == "classic" else sw.unregif_rfc
        self._expect(lambda q, s: step(s) if mask[q] else None)

    @precondition(lambda self: self.rings.strategy == "classic")
    @rule(data=st.data())
    def link_up(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.link_up(mask)
        self._expect(lambda q, s: sw.link_up(s) if mask[q] else None)

    @precondition(lambda self: self.rings.strategy == "rfc")
    @rule(data=st.data())
    def leave_done(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.leave_done(mask)
        self._expect(lambda q, s: sw.leave_done(s) if mask[q] else None)

    @precondition(lambda self: self.rings.strategy == "rfc")
    @rule(data=st.data())
    def ring_reset_exit(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.ring_reset_exit(mask)
        self._expect(lambda q, s: sw.ring_reset_exit(s) if mask[q] else None)

    @invariant()
    def matches_the_model(self) -> None:
        for s in self.models:
            if s.mode == sw.NETMAP and s.since >= s.n:
                event("a ring went one round in netmap mode")
            if s.mode == sw.LEAVING and s.posted_n + s.ready_n > 0:
                event("leaving with netmap buffers still in the NIC")
            if s.copies > 0:
                event("rxsync copied out of an mbuf")
        for q, expected in enumerate(self.models):
            got = self.rings.abstract(q)
            assert got == expected, f"ring {q}:\n  impl  {got!r}\n  model {expected!r}"
            assert self.machine.violated(got) == [], (q, self.machine.violated(got))

    @invariant()
    def every_frame_once(self) -> None:
        log = self.rings.log
        where = np.concatenate([self.rings.filled_frames(), FrameLog.cat(log.to_user),
                                FrameLog.cat(log.to_stack),
                                *[FrameLog.cat(v) for v in log.dropped.values()]])
        assert np.array_equal(np.sort(where), np.arange(self.rings.next_frame))


TestSwitchRx = SwitchRx.TestCase
