"""Who a notify wakes, on a whole adapter, against model/netmap_wakeup.py
stepped for every ring.

Processes register handles with the NR_REG_* modes (every hardware ring, one ring, the
host rings, both), block in poll() on a direction of their binding, close while awake, and
rings are notified (an interrupt, or a sync that found slots) in any order.  After every
call, each ring of each direction of :class:`impl.netmap.control.PortControl` equals the
model stepped for that ring: ``regif_multi`` / ``close_multi`` for a handle bound to
several rings of the direction (it sleeps on the global selinfo), ``regif_single`` /
``close_single`` for one bound to that ring alone, ``notify`` on the ring notified and
``notify_other`` on the others.  ``missed`` is read off the implementation: the handles
still asleep after a notify on one of their rings.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from impl.netmap import control as c
from model import WAKE
from model import netmap_wakeup as mi

BINDINGS = [(c.NR_REG_ALL_NIC, 0), (c.NR_REG_ONE_NIC, 0), (c.NR_REG_ONE_NIC, 1),
            (c.NR_REG_ONE_NIC, 2), (c.NR_REG_SW, 0), (c.NR_REG_NIC_SW, 0),
            (c.NR_REG_ONE_SW, 0)]


class WakeupMachine(RuleBasedStateMachine):
    @initialize(tx=st.integers(1, 3), rx=st.integers(1, 3))
    def start(self, tx: int, rx: int) -> None:
        self.port = c.PortControl(tx, rx, host_rings=1, ring_size=8)
        self.rings = [(t, r) for t in (c.TX, c.RX) for r in range(self.port.users[t].size)]
        self.models = {k: mi.wake_init(8) for k in self.rings}
        self.asleep: set[tuple[int, int]] = set()
        self.missed = dict.fromkeys(self.rings, 0)

    def _bound(self) -> dict[int, c.Binding]:
        return {h: b for h, b in self.port.handles.items() if b is not None}

    def _kind(self, b: c.Binding, t: int, r: int) -> str | None:
        if mi.sleeps_on_global(b.last[t] - b.first[t]):
            return "multi"
        if b.first[t] == r and b.last[t] == r + 1:
            return "single"
        return None

    def _step(self, name_of) -> None:
        for k, s in self.models.items():
            name = name_of(k)
            if name is None:
                continue
            step = WAKE.transitions[name](s)
            assert step.guard, (name, k, s)
            self.models[k] = step.post

    @rule(binding=st.sampled_from(BINDINGS))
    def register(self, binding: tuple[int, int]) -> None:
        h = self.port.open()
        if self.port.regif(h, *binding) != 0:
            self.port.close(h)
            return
        b = self.port.handles[h]
        self._step(lambda k: {"multi": "regif_multi", "single": "regif_single"}.get(
            self._kind(b, *k)))

    @precondition(lambda self: self.port.handles)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        awake = sorted(h for h in self._bound() if all((h, t) not in self.asleep
                                                       for t in (c.TX, c.RX)))
        if not awake:
            return
        h = data.draw(st.sampled_from(awake))
        b = self.port.handles[h]
        self._step(lambda k: {"multi": "close_multi", "single": "close_single"}.get(
            self._kind(b, *k)))
        assert self.port.close(h) == 0

    @precondition(lambda self: self.port.handles)
    @rule(data=st.data(), t=st.sampled_from([c.TX, c.RX]))
    def sleep(self, data: st.DataObject, t: int) -> None:
        """poll() blocks on direction ``t`` of a handle that is awake there."""
        cands = sorted(h for h, b in self._bound().items()
                       if (h, t) not in self.asleep and b.last[t] > b.first[t])
        if not cands:
            return
        h = data.draw(st.sampled_from(cands))
        b = self.port.handles[h]
        self.port.waits.selrecord(h, b, t)
        self.asleep.add((h, t))
        self._step(lambda k: None if k[0] != t else
                   {"multi": "sleep_multi", "single": "sleep_single"}.get(
                       self._kind(b, *k)))

    @rule(data=st.data())
    def notify(self, data: st.DataObject) -> None:
        t, r = data.draw(st.sampled_from(self.rings))
        bound = self._bound()
        woken = self.port.waits.notify(t, r)
        assert all((h, t) in self.asleep for h in woken), "woke a handle that was not asleep"
        self.asleep -= {(h, t) for h in woken}
        left = [h for h, d in self.asleep
                if d == t and h in bound and bound[h].first[t] <= r < bound[h].last[t]]
        self.missed[(t, r)] += len(left)
        self._step(lambda k: None if k[0] != t else ("notify" if k == (t, r)
                                                     else "notify_other"))

    @invariant()
    def rings_match_the_model(self) -> None:
        bound = self._bound()
        for (t, r), s in self.models.items():
            kinds = [self._kind(b, t, r) for b in bound.values()]
            asleep = [self._kind(bound[h], t, r) for h, d in self.asleep if d == t]
            impl = mi.WakeState(
                8, self.port.waits.si_users[t], kinds.count("multi"), kinds.count("single"),
                asleep.count("multi"), asleep.count("single"), self.missed[(t, r)])
            assert impl == s, ((t, r), impl, s)
            assert WAKE.holds(impl), ((t, r), WAKE.violated(impl))
        for t in (c.TX, c.RX):
            assert self.port.waits.asleep(t) == {h for h, d in self.asleep if d == t}


TestWakeups = WakeupMachine.TestCase
