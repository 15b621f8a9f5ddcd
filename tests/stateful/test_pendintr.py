"""NKR_PENDINTR on the soft NIC against model/netmap_pendintr.py.

Frames arrive, RX interrupts fire (each frame's interrupt may be delayed, as interrupt
moderation does), root flips ``dev.netmap.no_pendintr``, and the ring is synced by
NIOCRXSYNC (NAF_FORCE_READ) or by poll() (without it), while more frames land behind
the driver's read loop and raise their interrupt inside the sync (the ``during`` window
of :class:`impl.netmap.driver.RxRead`).  The application reads everything it is given
and releases it before each sync, so the NIC never runs out of buffers.  After every
step the implementation's ring, read as the model's state (frames the NIC wrote and no
sync reported, NKR_PENDINTR, the test's own count of frames and of frames reported), equals
the model stepped with the same step under the same policy, and the hardened driver keeps
every invariant: no frame is ever left in the ring with no interrupt to announce it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.driver import RxRead
from impl.netmap.intr import netmap_rx_irq
from impl.netmap.ranges import ring_dist
from impl.netmap.sync import rxsync
from model import PENDINTR
from model import netmap_pendintr as mi
from model.netmap_ring import AS_SHIPPED, HARDENED

N = 16


class PendintrMachine(RuleBasedStateMachine):
    @initialize(policy=st.sampled_from([AS_SHIPPED, HARDENED]))
    def start(self, policy: str) -> None:
        self.policy = policy
        self.na = NetmapAdapter(1, 1, N, policy=policy, host_rings=False)
        self.model = mi.pendintr_init(N)
        self.irq_due = False
        self.arrived = 0
        self.read = 0
        self.no_pendintr = True

    def _free(self) -> int:
        return int(self.na.rxdev.available(0))

    def _step(self, name: str, **args: int) -> None:
        step = PENDINTR.transitions[name](self.model, **args)
        assert step.guard, (name, args, self.model)
        self.model = step.post

    def _arrive(self, k: int) -> None:
        self.na.device_deliver(0, k)
        self.arrived += k

    @rule(v=st.booleans())
    def set_no_pendintr(self, v: bool) -> None:
        self.no_pendintr = v
        self._step("set_no_pendintr", v=int(v))

    @precondition(lambda self: self._free() > 0)
    @rule()
    def frame_arrives(self) -> None:
        self._arrive(1)
        self.irq_due = True
        self._step("frame_arrives")

    @precondition(lambda self: self.irq_due)
    @rule()
    def interrupt(self) -> None:
        netmap_rx_irq(self.na.rx, 0)
        self.irq_due = False
        self._step("interrupt")

    @rule(force=st.booleans(), late=st.integers(0, 3))
    def rxsync(self, force: bool, late: int) -> None:
        """The user releases what it holds, then an rxsync; ``late`` frames land behind
        the read loop and their interrupt fires inside the sync."""
        head, _, tail = self.na.user_indices("rx", 0)
        self.na.user_advance("rx", 0, int(ring_dist(head, tail, N)))
        late = min(late, self._free())
        landed = []

        def during() -> None:
            if late:
                self._arrive(late)
                netmap_rx_irq(self.na.rx, 0)
                self.irq_due = False
            landed.append(late)

        r = rxsync(self.policy, self.na.rx, self.na.rxdev, np.array([0]), N, None,
                   RxRead(force=force, no_pendintr=self.no_pendintr, during=during))
        assert landed == [late], "the driver did not open the window"
        self.read += int(r.reported[0])
        name = "rxsync_as_shipped" if self.policy == AS_SHIPPED else "rxsync_hardened"
        self._step(name, force=int(force), late=late)

    @invariant()
    def ring_matches_the_model(self) -> None:
        kr = self.na.rx
        unread = int(ring_dist(kr.hwtail[0], kr.n2k(0, int(self.na.rxdev.head[0])), N))
        impl = mi.RxIntr(N, int(self.no_pendintr), unread, int(self.irq_due),
                         int(kr.pendintr[0]), self.arrived, self.read)
        assert impl == self.model, (impl, self.model)
        if self.policy == HARDENED:
            assert PENDINTR.holds(impl), PENDINTR.violated(impl)


TestPendintr = PendintrMachine.TestCase


def test_the_findings_trace_strands_a_frame_as_shipped_and_not_hardened() -> None:
    """The findings page's worked example, on the soft NIC: as shipped, the second frame
    stays in the ring with NKR_PENDINTR clear and nothing to set it; hardened, the next
    poll()'s rxsync reports it."""
    seen = {}
    for policy in (AS_SHIPPED, HARDENED):
        na = NetmapAdapter(1, 1, N, policy=policy, host_rings=False)
        poll_read = RxRead(force=False, no_pendintr=False)
        na.device_deliver(0, 1)
        netmap_rx_irq(na.rx, 0)

        def late(na: NetmapAdapter = na) -> None:
            na.device_deliver(0, 1)
            netmap_rx_irq(na.rx, 0)

        first = rxsync(policy, na.rx, na.rxdev, np.array([0]), N, None,
                       RxRead(force=False, no_pendintr=False, during=late))
        second = rxsync(policy, na.rx, na.rxdev, np.array([0]), N, None, poll_read)
        seen[policy] = (int(first.reported[0]), int(second.reported[0]),
                        bool(na.rx.pendintr[0]))
    assert seen[AS_SHIPPED] == (1, 0, False)
    assert seen[HARDENED] == (1, 1, False)
