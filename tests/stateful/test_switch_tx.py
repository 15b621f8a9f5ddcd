"""Entering and leaving netmap mode on TX rings: the implementation against the model.

As tests/stateful/test_switch_rx.py, for :class:`impl.switch.SwitchTxRings` and
:mod:`model.netmap_switch_tx`: stack traffic, user traffic, completions, cleanups, link
changes and switches both ways, interleaved; after every step each ring's counts equal
the model's, the model's invariants hold, every netmap buffer is in one place, every
live mbuf sits in a descriptor and every frame sent is in flight, on the wire or flushed,
exactly once.
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

from impl.switch import SwitchTxRings
from impl.switch.rx import FrameLog
from model import SWITCH_TX_CLASSIC, SWITCH_TX_RFC
from model import netmap_switch_tx as tx
from model.netmap_switch import LEAVING, NETMAP

MACHINES = {"classic": SWITCH_TX_CLASSIC, "rfc": SWITCH_TX_RFC}


class SwitchTx(SwitchHarness, RuleBasedStateMachine):
    """Model-checked TX rings across netmap enter/exit."""

    @initialize(strategy=st.sampled_from(sorted(MACHINES)), queues=st.integers(1, 3),
                n=st.sampled_from([2, 3, 4, 8]))
    def start(self, strategy: str, queues: int, n: int) -> None:
        self.rings = SwitchTxRings(queues, n, strategy)
        self.machine = MACHINES[strategy]
        self.models = [tx.init(n) for _ in range(queues)]

    @rule(data=st.data())
    def stack_xmit(self, data: st.DataObject) -> None:
        k = self._counts(data)
        self.rings.stack_xmit(k)
        self._expect(lambda q, s: tx.stack_xmit(s, int(k[q])))

    @rule(data=st.data())
    def user_send(self, data: st.DataObject) -> None:
        k = self._counts(data)
        self.rings.user_send(k)
        self._expect(lambda q, s: tx.user_send(s, int(k[q])))

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        k = self._counts(data)
        before = [self.rings.abstract(q) for q in range(self.rings.q)]
        self.rings.complete(k)
        # while leaving, the ring's order decides the mix; the model takes it as an argument
        j = [self.rings.abstract(q).done_n - b.done_n for q, b in enumerate(before)]
        self._expect(lambda q, s: tx.complete(s, int(k[q]), j[q]))

    @rule()
    def cleanup(self) -> None:
        self.rings.cleanup()
        self._expect(lambda q, s: tx.cleanup(s))

    @rule(data=st.data())
    def busy_round(self, data: st.DataObject) -> None:
        """Both senders fill what they may, the NIC sends it all, txsync reclaims."""
        self.stack_xmit(data)
        self.user_send(data)
        everything = np.full(self.rings.q, 2 * self.rings.n)
        before = [self.rings.abstract(q) for q in range(self.rings.q)]
        self.rings.complete(everything)
        j = [self.rings.abstract(q).done_n - b.done_n for q, b in enumerate(before)]
        self._expect(lambda q, s: tx.complete(s, int(everything[q]), j[q]))
        self.cleanup()

    @rule(data=st.data())
    def enter_under_load(self, data: st.DataObject) -> None:
        """The stack is sending when the switch comes, and the user starts at once."""
        self.stack_xmit(data)
        self.regif(data)
        self.user_send(data)

    @rule(data=st.data())
    def regif(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.regif(mask)
        step = tx.regif_classic if self.rings.strategy == "classic" else tx.regif_rfc
        self._expect(lambda q, s: step(s) if mask[q] else None)

    @rule(data=st.data())
    def unregif(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.unregif(mask)
        step = tx.unregif_classic if self.rings.strategy == "classic" else tx.unregif_rfc
        self._expect(lambda q, s: step(s) if mask[q] else None)

    @precondition(lambda self: self.rings.strategy == "classic")
    @rule(data=st.data())
    def link_up(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.link_up(mask)
        self._expect(lambda q, s: tx.link_up(s) if mask[q] else None)

    @precondition(lambda self: self.rings.strategy == "rfc")
    @rule(data=st.data())
    def leave_done(self, data: st.DataObject) -> None:
        mask = self._mask(data)
        self.rings.leave_done(mask)
        self._expect(lambda q, s: tx.leave_done(s) if mask[q] else None)

    @invariant()
    def matches_the_model(self) -> None:
        for s in self.models:
            if s.mode == NETMAP and tx.stack_bufs(s) > 0 and s.since > 0:
                event("user packets queued behind stack packets")
            if s.mode == LEAVING and s.flight_n + s.done_n > 0:
                event("leaving with netmap packets still in the NIC")
        for q, expected in enumerate(self.models):
            got = self.rings.abstract(q)
            assert got == expected, f"ring {q}:\n  impl  {got!r}\n  model {expected!r}"
            assert self.machine.violated(got) == [], (q, self.machine.violated(got))

    @invariant()
    def every_frame_once(self) -> None:
        log = self.rings.log
        where = np.concatenate([self.rings.in_flight_frames(), FrameLog.cat(log.on_wire),
                                FrameLog.cat(log.flushed)])
        assert np.array_equal(np.sort(where), np.arange(self.rings.next_frame))


TestSwitchTx = SwitchTx.TestCase
