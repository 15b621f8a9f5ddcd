"""Several handles on one soft-NIC adapter, polling over their bindings while frames arrive
and transmissions complete, with interrupts waking the sleepers: the pieces of poll() put
together (:mod:`impl.netmap.control` bindings, :mod:`impl.netmap.poll_rings`,
:mod:`impl.netmap.intr`, NKR_PENDINTR in the driver).

Handles bind every hardware ring (NR_REG_ALL_NIC), one ring pair (NR_REG_ONE_NIC), the
host rings (NR_REG_SW) or both (NR_REG_NIC_SW); the device interrupts as soon as it has
delivered a frame or completed a transmission, the host stack's netmap_transmit notifies
the host RX kring when it queues a packet, and a notify wakes the ring's sleepers
(:meth:`impl.netmap.intr.SelWaits.notify`).  A handle
polls only while awake; when poll returns nothing it sleeps on its selinfo, and when it
returns an event its user reads and releases every received slot, or publishes frames.

After every step, with the hardened driver (and as shipped where the one-ring claims
hold): every ring keeps the model's invariants; a notify leaves no handle bound to the
ring asleep; and a handle sleeps only with nothing to wake up for on any ring it is bound
to -- every RX ring shows cur == tail and has no frame the NIC wrote (or the stack queued)
that no sync reported, and (hardened; always on the host TX kring) every TX ring shows
cur == tail with no completed slot left unreclaimed: no wake-up is lost between the
device, the stack, the interrupt and poll(), whatever ``dev.netmap.no_pendintr`` says.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from impl.netmap import NetmapAdapter
from impl.netmap import control as c
from impl.netmap.intr import netmap_rx_irq, netmap_tx_irq
from impl.netmap.poll import POLLIN, POLLOUT
from impl.netmap.poll_rings import netmap_poll_rings
from model.netmap_poll_host import HOST_RING
from model.netmap_poll_rings import nothing_left, nothing_seen
from model.netmap_ring import RX, TX
from model.netmap_sync import AS_SHIPPED, HARDENED
from model.netmap_wakeup import sleeps_on_global

N, RINGS = 8, 2
HOST = RINGS
"""The host kring's index in each direction (after the hardware rings)."""
BINDINGS = [(c.NR_REG_ALL_NIC, 0), (c.NR_REG_ONE_NIC, 0), (c.NR_REG_ONE_NIC, 1),
            (c.NR_REG_NIC_SW, 0), (c.NR_REG_SW, 0)]
KIND = {c.TX: "tx", c.RX: "rx"}


class PollSystem(RuleBasedStateMachine):
    @initialize(policy=st.sampled_from([AS_SHIPPED, HARDENED]), no_pendintr=st.booleans(),
                lock_free=st.booleans(), first=st.sampled_from(BINDINGS))
    def start(self, policy: str, no_pendintr: bool, lock_free: bool,
              first: tuple[int, int]) -> None:
        self.policy, self.lock_free = policy, lock_free
        self.ad = NetmapAdapter(RINGS, RINGS, N, policy=policy, buf_size=256)
        self.host = self.ad.host_rings()
        self.ad.no_pendintr = no_pendintr
        self.port = c.PortControl(RINGS, RINGS, host_rings=1, ring_size=N)
        self.asleep: set[tuple[int, int]] = set()
        self.register(first)

    def _bound(self) -> dict[int, c.Binding]:
        return {h: b for h, b in self.port.handles.items() if b is not None}

    def _rings(self, b: c.Binding, t: int) -> list[int]:
        return list(range(b.first[t], b.last[t]))

    def _view(self, t: int, q: int):
        """Ring ``q`` of direction ``t`` as the model reads it (the host kring as the NIC
        ring of model/netmap_poll_host.py)."""
        if q == HOST:
            return self.host.ring_view(KIND[t].upper())
        return self.ad.abstract(KIND[t], q)

    def _notify(self, t: int, q: int) -> None:
        woken = self.port.waits.notify(t, q)
        self.asleep -= {(h, t) for h in woken}
        left = [h for h, d in self.asleep if d == t and q in self._rings(self._bound()[h], t)]
        assert not left, f"a notify on {KIND[t]} ring {q} left {left} asleep"

    @rule(binding=st.sampled_from(BINDINGS))
    def register(self, binding: tuple[int, int]) -> None:
        if len(self.port.handles) >= 4:
            return
        h = self.port.open()
        assert self.port.regif(h, *binding) == 0

    @rule(q=st.integers(0, RINGS - 1), k=st.integers(1, 3))
    def frames_arrive(self, q: int, k: int) -> None:
        k = min(k, int(self.ad.rxdev.available(q)))
        if k == 0:
            return
        self.ad.device_deliver(q, k)
        netmap_rx_irq(self.ad.rx, q)
        self._notify(c.RX, q)

    @rule(q=st.integers(0, RINGS - 1), k=st.integers(1, 3))
    def tx_completes(self, q: int, k: int) -> None:
        k = min(k, int(self.ad.txdev.available(q)))
        if k == 0:
            return
        self.ad.device_complete(q, k)
        netmap_tx_irq(self.ad.tx, q)
        self._notify(c.TX, q)

    @rule(k=st.integers(1, 3))
    def stack_transmits(self, k: int) -> None:
        """netmap_transmit of ``k`` packets; the host RX kring is notified if one was
        queued."""
        queued = self.ad.netmap_transmit(np.full((k, 60), 0x5A, np.uint8)) == 0
        if queued.any():
            self._notify(c.RX, HOST)

    @rule(data=st.data(), events=st.sampled_from([POLLIN, POLLOUT, POLLIN | POLLOUT]))
    def poll(self, data: st.DataObject, events: int) -> None:
        awake = sorted(h for h in self._bound()
                       if (h, c.TX) not in self.asleep and (h, c.RX) not in self.asleep)
        if not awake:
            return
        h = data.draw(st.sampled_from(awake))
        b = self.port.handles[h]
        hw = {t: [q for q in self._rings(b, t) if q != HOST] for t in (c.TX, c.RX)}
        got = netmap_poll_rings(
            self.policy, (self.ad.tx, self.ad.txdev, hw[c.TX]),
            (self.ad.rx, self.ad.rxdev, hw[c.RX]), events,
            lock_free=self.lock_free, no_pendintr=self.ad.no_pendintr, host=self.host,
            host_rings=(HOST in self._rings(b, c.TX), HOST in self._rings(b, c.RX)))
        if got.blocks:
            for t, bit in ((c.TX, POLLOUT), (c.RX, POLLIN)):
                if events & bit:
                    self.port.waits.selrecord(h, b, t)
                    self.asleep.add((h, t))
            return
        if got.revents & POLLIN:
            for q in hw[c.RX]:  # the user reads and releases everything
                head, _, tail = self.ad.user_indices("rx", q)
                self.ad.user_advance("rx", q, (tail - head) % N)
            if HOST in self._rings(b, c.RX):
                view = self.host.ring_view("RX")
                self.host.user_release((view.tail - view.head) % N)
        if got.revents & POLLOUT:
            room = [q for q in self._rings(b, c.TX) if q == HOST or self.ad.ring_space("tx", q)]
            q = room[0]
            if q != HOST:
                self.ad.user_advance("tx", q, min(2, self.ad.ring_space("tx", q)))
            else:
                view = self.host.ring_view("TX")
                k = min(2, (view.tail - view.head) % N)
                self.host.user_send(np.full((k, 60), 0xA5, np.uint8))

    @invariant()
    def rings_keep_the_invariants(self) -> None:
        if not hasattr(self, "ad"):
            return
        for q in range(RINGS + 1):
            assert TX.violated(self._view(c.TX, q)) == [], q
            assert RX.violated(self._view(c.RX, q)) == [], q
        for direction in ("TX", "RX"):
            assert HOST_RING[direction](self.host.ring_view(direction)), direction

    @invariant()
    def sleepers_have_nothing_to_wake_up_for(self) -> None:
        if not hasattr(self, "ad"):
            return
        bound = self._bound()
        for h, t in self.asleep:
            for q in self._rings(bound[h], t):
                s = self._view(t, q)
                assert nothing_seen(s), (h, KIND[t], q, s)
                if nothing_left(KIND[t].upper(), s):
                    continue
                assert t == c.TX and q != HOST, ("left behind", h, KIND[t], q, s)
                assert self.policy == AS_SHIPPED, ("completions unreclaimed", h, q, s)
                event("as shipped: asleep with completed TX slots (NM-POLL-TX-LIVE)")
        assert self.port.waits.asleep(c.TX) == {h for h, d in self.asleep if d == c.TX}
        assert self.port.waits.asleep(c.RX) == {h for h, d in self.asleep if d == c.RX}
        np.testing.assert_array_equal(self.port.waits.si_users, [
            sum(sleeps_on_global(len(self._rings(b, t))) for b in bound.values())
            for t in (c.TX, c.RX)])


TestPollSystem = PollSystem.TestCase
