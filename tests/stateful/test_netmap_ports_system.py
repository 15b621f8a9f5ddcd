"""Processes on ``/dev/netmap`` with real rings (:class:`impl.netmap.port.NetmapPorts`):
handles open, register with every binding (NR_NO_TX_POLL or not), poll, sync, sleep and
close in any order while the NIC receives and completes and the host stack transmits,
and rings jump to z3-found boundary states (ringspec.seeds);
users read, release and publish, and now and then zero a slot's ``buf_idx`` or write an
out-of-range ``cur``.  Per-ring modes switch as handles come and go, so rings are deleted
and created again under the other handles.

After every step: each kring's bookkeeping keeps :mod:`model.netmap_regif`'s invariants;
rings exist exactly as :func:`model.netmap_regif.ring_exists` says and the memory with the
krings; every ring that exists keeps the ring model's kernel invariants (hardened; as
shipped, a bad ``cur`` reaches the kring -- the ring's findings, which
tests/stateful/test_netmap_rings.py replays against the faithful model); each buffer of the
memory is in one place -- the free list or one slot -- except the ones users overwrote,
which are out of reach (:meth:`impl.netmap.port.Rings.unowned`) and come back only with
the memory; and a handle asleep has nothing to wake up for on its rings.
"""

from __future__ import annotations

import errno

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from impl.netmap import control as c
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from impl.netmap.port import NetmapPorts, Rings
from model import REGIF
from model.netmap_admode import RingConfig
from model.netmap_poll_host import HOST_RING
from model.netmap_poll_rings import nothing_left, nothing_seen
from model.netmap_regif import krings_while_open, ring_exists
from model.netmap_ring import RX, TX
from model.netmap_sync import AS_SHIPPED, HARDENED
from ringspec.seeds import BOUNDARIES, BOUNDARY_SEEDS, boundary_state

N, HW = 8, 2
HOST = HW
BINDINGS = [(c.NR_REG_ALL_NIC, 0), (c.NR_REG_ONE_NIC, 0), (c.NR_REG_ONE_NIC, 1),
            (c.NR_REG_NIC_SW, 0), (c.NR_REG_SW, 0)]
KIND = {c.TX: "tx", c.RX: "rx"}
MACHINE = {c.TX: TX, c.RX: RX}


class PortsSystem(RuleBasedStateMachine):
    @initialize(policy=st.sampled_from([AS_SHIPPED, HARDENED]),
                first=st.sampled_from(BINDINGS), no_tx_poll=st.booleans())
    def start(self, policy: str, first: tuple[int, int], no_tx_poll: bool) -> None:
        self.policy = policy
        self.s = NetmapPorts(policy=policy, buf_size=128)
        self.s.attach("em0", True, RingConfig(HW, N, HW, N))
        self.ctl = self.s.adapters["em0"].control
        self.open: list[int] = []
        self.asleep: set[tuple[int, int]] = set()
        self.lost = 0
        self.register(first, no_tx_poll)

    @property
    def r(self) -> Rings | None:
        return self.s.rings_of("em0")

    def _bound(self, h: int) -> c.Binding:
        return self.ctl.handles[self.s._bound[h]]

    def _rings(self, h: int, t: int) -> list[int]:
        b = self._bound(h)
        return list(range(b.first[t], b.last[t]))

    def _view(self, t: int, q: int):
        nic = self.r.nic
        return nic.host_rings().ring_view(KIND[t].upper()) if q == HOST else nic.abstract(
            KIND[t], q)

    def _woken(self, t: int, woken: set[int]) -> None:
        self.asleep -= {(h, t) for h in woken}

    # ------------------------------------------------------------------ handles

    @precondition(lambda self: len(self.open) < 4)
    @rule(binding=st.sampled_from(BINDINGS), no_tx_poll=st.booleans())
    def register(self, binding: tuple[int, int], no_tx_poll: bool) -> None:
        h = self.s.open()
        rc = self.s.register(h, "em0", *binding, c.NR_NO_TX_POLL if no_tx_poll else 0)
        if rc == errno.ENOMEM:
            event("ENOMEM: buffers lost to scribbles")
            assert self.s.handles[h] is None and self.s.txsync(h) == errno.ENXIO
            assert self.s.close(h) == 0
            return
        assert rc == 0
        self.open.append(h)

    @precondition(lambda self: self.open)
    @rule(data=st.data())
    def close(self, data: st.DataObject) -> None:
        h = data.draw(st.sampled_from(self.open))
        self.open.remove(h)
        self.asleep = {(x, t) for x, t in self.asleep if x != h}
        assert self.s.close(h) == 0
        if self.r is None:
            self.lost = 0

    @precondition(lambda self: self.open)
    @rule(data=st.data(), tx=st.booleans())
    def ioctl_sync(self, data: st.DataObject, tx: bool) -> None:
        h = data.draw(st.sampled_from(self.open))
        assert (self.s.txsync(h) if tx else self.s.rxsync(h)) == 0

    @precondition(lambda self: self.open)
    @rule(data=st.data(), events=st.sampled_from([POLLIN, POLLOUT, POLLIN | POLLOUT]))
    def poll(self, data: st.DataObject, events: int) -> None:
        awake = [h for h in self.open if not {(h, c.TX), (h, c.RX)} & self.asleep]
        if not awake:
            return
        h = data.draw(st.sampled_from(awake))
        bad = any(max(self._view(t, q).head, self._view(t, q).cur) >= N
                  for t in (c.TX, c.RX) for q in self._rings(h, t))
        got = self.s.poll(h, events)
        if got.revents & POLLERR:
            assert bad, "POLLERR only for a ring whose user wrote a bad index"
            event("poll: POLLERR after a bad cur")
        if got.blocks:
            self.asleep |= {(h, t) for t, bit in ((c.TX, POLLOUT), (c.RX, POLLIN))
                            if events & bit}
            assert all(h in self.s.asleep("em0", t) for x, t in self.asleep if x == h)
            return
        nic = self.r.nic
        if got.revents & POLLIN:
            for q in self._rings(h, c.RX):
                if q == HOST:
                    view = nic.host_rings().ring_view("RX")
                    nic.host_rings().user_release((view.tail - view.head) % N)
                else:
                    head, _, tail = nic.user_indices("rx", q)
                    if max(head, tail) < N:
                        nic.user_advance("rx", q, (tail - head) % N)
        if got.revents & POLLOUT:
            for q in self._rings(h, c.TX):
                if q == HOST:
                    view = nic.host_rings().ring_view("TX")
                    k = min(2, (view.tail - view.head) % N)
                    nic.host_rings().user_send(np.full((k, 60), 0xA5, np.uint8))
                elif max(nic.user_indices("tx", q)) < N and nic.ring_space("tx", q):
                    k = min(2, nic.ring_space("tx", q))
                    head = nic.user_indices("tx", q)[0]
                    if (nic.slots("tx", q)["buf_idx"][(head + np.arange(k)) % N] >= 2).all():
                        nic.user_fill(q, np.full((k, 60), q, np.uint8))
                    nic.user_advance("tx", q, k)

    # ------------------------------------------------------------------ the NIC and the stack

    @precondition(lambda self: self.r is not None)
    @rule(q=st.integers(0, HW - 1), k=st.integers(1, 3))
    def frames_arrive(self, q: int, k: int) -> None:
        if not self.r.live[c.RX][q]:
            return
        k = min(k, int(self.r.nic.rxdev.available(q)))
        if k:
            self._woken(c.RX, self.s.deliver("em0", q, k))

    @precondition(lambda self: self.r is not None)
    @rule(q=st.integers(0, HW - 1), k=st.integers(1, 3))
    def tx_completes(self, q: int, k: int) -> None:
        if not self.r.live[c.TX][q]:
            return
        k = min(k, int(self.r.nic.txdev.available(q)))
        if k:
            self._woken(c.TX, self.s.complete("em0", q, k))

    @precondition(lambda self: self.r is not None)
    @rule(k=st.integers(1, 3))
    def stack_transmits(self, k: int) -> None:
        got, woken = self.s.stack_transmit("em0", np.full((k, 60), 0x5A, np.uint8))
        assert (got is None) == (not self.r.live[c.RX][HOST])
        self._woken(c.RX, woken)

    # ------------------------------------------------------------------ adversarial users

    @precondition(lambda self: self.r is not None)
    @rule(t=st.sampled_from([c.TX, c.RX]), q=st.integers(0, HW - 1), i=st.integers(0, N - 1))
    def user_zeroes_a_buf_idx(self, t: int, q: int, i: int) -> None:
        """A user overwrites a slot it owns: its buffer is out of reach from now on."""
        if not self.r.live[t][q]:
            return
        nic = self.r.nic
        head, _, tail = nic.user_indices(KIND[t], q)
        if max(head, tail) >= N or (i - head) % N >= (tail - head) % N:
            return
        slots = nic.slots(KIND[t], q)["buf_idx"]
        if slots[i] >= 2:
            self.lost += 1
        slots[i] = 0

    @precondition(lambda self: self.r is not None)
    @rule(t=st.sampled_from([c.TX, c.RX]), q=st.integers(0, HW - 1),
          cur=st.integers(N, 2 * N))
    def user_writes_a_bad_cur(self, t: int, q: int, cur: int) -> None:
        """The next sync's prologue refuses it and netmap_ring_reinit puts the ring back.
        (Not on a ring a handle sleeps on: its process is in poll.)"""
        if self.r.live[t][q] and not any(d == t and q in self._rings(h, t)
                                         for h, d in self.asleep):
            self.r.nic.set_user_indices(KIND[t], q, cur=cur)

    @precondition(lambda self: self.r is not None)
    @rule(name=st.sampled_from(BOUNDARY_SEEDS), q=st.integers(0, HW - 1))
    def ring_at_a_boundary(self, name: str, q: int) -> None:
        """A live ring jumps to a z3-found boundary state of its direction (a full TX ring
        in flight, every RX slot held, a region wrapped past slot N-1, ...: ringspec.seeds)
        -- a state the ring invariants allow, which the rest of the system must handle.
        (Not on a ring a handle sleeps on: the seed would not ring its interrupt.)"""
        kind = BOUNDARIES[name][0]
        t = c.TX if kind == "tx" else c.RX
        state = boundary_state(name, kind, N)
        if state is None or not self.r.live[t][q] or any(
                d == t and q in self._rings(h, t) for h, d in self.asleep):
            return
        self.r.nic.load(kind, q, state)
        assert self.r.nic.abstract(kind, q) == state
        event(f"boundary {name}")

    # ------------------------------------------------------------------ invariants

    @invariant()
    def krings_keep_the_regif_invariants(self) -> None:
        if not hasattr(self, "s"):
            return
        for t in (c.TX, c.RX):
            for q in range(HW + 1):
                s = self.ctl.abstract(t, q)
                assert REGIF.violated(s) == [], (t, q, s)
        assert (self.r is not None) == bool(krings_while_open(self.ctl.abstract(c.TX, 0))
                                            and self.ctl.krings)

    @invariant()
    def rings_exist_while_used_and_keep_the_ring_invariants(self) -> None:
        if not hasattr(self, "s") or self.r is None:
            return
        for t in (c.TX, c.RX):
            for q in range(HW + 1):
                exists = bool(ring_exists(self.ctl.abstract(t, q)))
                assert bool(self.r.live[t][q]) == exists, (t, q, self.r)
                if not exists:
                    continue
                view = self._view(t, q)
                if q == HOST:
                    assert HOST_RING[KIND[t].upper()](view), (t, view)
                elif self.policy == HARDENED:
                    assert MACHINE[t].violated(view, user_view=False) == [], (t, q, view)

    @invariant()
    def every_buffer_is_in_one_place_or_lost_to_a_scribble(self) -> None:
        if not hasattr(self, "s") or self.r is None:
            return
        r = self.r
        mem = r.nic.mem
        idx = r.held()
        idx = np.concatenate([idx[(idx >= 2) & (idx < mem.nbufs)], mem.pool.free_indices()])
        assert np.unique(idx).size == idx.size, "a buffer in two places"
        assert r.unowned().size == self.lost == mem.nbufs - 2 - idx.size, r
        if self.lost:
            event("buffers out of reach after a scribble")

    @invariant()
    def sleepers_have_nothing_to_wake_up_for(self) -> None:
        if not hasattr(self, "s"):
            return
        for h, t in self.asleep:
            assert h in self.s.asleep("em0", t)
            for q in self._rings(h, t):
                view = self._view(t, q)
                assert nothing_seen(view), (h, KIND[t], q, view)
                if self.policy == HARDENED or t == c.RX or q == HOST:
                    assert nothing_left(KIND[t].upper(), view), (h, KIND[t], q, view)


TestPortsSystem = PortsSystem.TestCase
TestPortsSystem.settings = settings(max_examples=150, stateful_step_count=40)
