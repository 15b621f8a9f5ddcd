"""An ENA adapter with netmap on some of its queue pairs (NR_REG_ONE_NIC registrations
added and closed in any order) while the stack and the netmap user both send.

Rules: a registration or a close of one queue pair or of all (ena_netmap_reg, the classic
way), the stack sending (with or without a hash type, from either CPU), the netmap user
sending on a bound ring and syncing, the device running, time passing.  After every step:
the adapter's queue modes read as a :class:`model.ena_netmap_txq.NetmapTxq` satisfy
ENA-NM-TXQ-SHAPE; hardened, no stack packet is queued or in flight on a TX queue in netmap
mode (ENA-NM-TXQ-APART read off the implementation; as shipped the test records when one
is) and every netmap buffer is in exactly one place; the stack's ledger balances; no frame
comes back more often than it was sent; and when the last ring leaves netmap mode the
registration's memory goes back to host memory.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule
from support.ena_netmap_machine import EnaAdapterMachine
from support.ena_txq import impl_place, model_place

from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from model.ena_netmap_txq import NETMAP_TXQ, NetmapTxq
from ringspec.ena_netmap_run import put_frames, room

QUEUES = 2


class EnaNetmapSomeRings(EnaAdapterMachine):
    @initialize(policy=st.sampled_from(list(Policy)), first=st.sampled_from([0, 1, None, -1]))
    def start(self, policy: Policy, first: int | None) -> None:
        """``first``: the queue pair a netmap application binds at once (None: all, -1:
        none yet)."""
        self.setup(policy, nvec=QUEUES + 1)
        self.an = AdapterNetmap(self.ad)
        event(policy.value)
        if first != -1:
            self.register(True, first)

    def view(self) -> NetmapTxq:
        """The adapter's queue modes as the model's state (its ghosts are not kept)."""
        on = sum(1 << q for q in np.flatnonzero(self.an.on).tolist())
        return NetmapTxq(nq=self.ad.num_io_queues, on=on, to_host=0, sent=0, mixed=0)

    @rule(onoff=st.booleans(), ring=st.sampled_from([0, 1, None]))
    def register(self, onoff: bool, ring: int | None) -> None:
        before = self.an.on.copy()
        base = self.an.rings.base if self.an.rings is not None else None
        rc = self.an.reg(onoff, rings=ring)
        assert rc == 0
        pairs = np.ones(QUEUES, dtype=bool) if ring is None else np.arange(QUEUES) == ring
        assert (self.an.on == (before | pairs if onoff else before & ~pairs)).all()
        if not self.an.native:
            assert self.an.rings is None
            assert base not in self.rig.bus.mem._blocks, "its netmap memory was kept"
        event(f"modes {self.an.on.astype(int).tolist()}")

    @precondition(lambda self: self.ad.driver is not None)
    @rule(n=st.integers(1, 12), flowid=st.integers(0, 1), hashed=st.booleans(),
          cpu=st.integers(0, 1), seed=st.integers(0, 99))
    def stack_sends(self, n: int, flowid: int, hashed: bool, cpu: int, seed: int) -> None:
        assert self.ad.driver is not None
        batch = self.rig.frames(n, seed)
        on = self.an.on.copy()
        res = self.ad.driver.transmit(batch, flowid=np.full(n, flowid),
                                      hashtype=np.full(n, int(hashed)), curcpu=cpu)
        if self.an.native:
            want = model_place(self.hardened, QUEUES, on, flowid, int(hashed), cpu)
            assert {impl_place(int(q), on) for q in res.queue} == {want}
        to_host = res.queue < 0
        self.sent += [batch.frame(i) for i in np.flatnonzero(~to_host).tolist()]
        if to_host.any():
            event("netmap_transmit took a packet for the host ring")

    @precondition(lambda self: self.an.port is not None)
    @rule(k=st.integers(1, 6), size=st.integers(60, 1500), pick=st.integers(0, 1))
    def netmap_sends(self, k: int, size: int, pick: int) -> None:
        port = self.an.port
        assert port is not None
        q = int(np.flatnonzero(self.an.on)[pick % int(self.an.on.sum())])
        k = min(k, room(port, q))
        frames = [[bytes([(len(self.sent) + i) & 0xFF]) * size] for i in range(k)]
        put_frames(port, frames, q=q)
        port.txsync(q)
        self.sent += [f[0] for f in frames]

    @invariant()
    def modes_as_the_model_says(self) -> None:
        if not hasattr(self, "ad"):
            return
        assert NETMAP_TXQ.invariants["ENA-NM-TXQ-SHAPE"](self.view()) is True
        drv = self.ad.driver
        if drv is None:
            return
        assert (drv.netmap_tx is None) == (not self.an.native)
        if self.an.native:
            assert drv.netmap_tx is not None and (drv.netmap_tx == self.an.on).all()
        tx = drv.tx
        stack = ((tx.inflight & (tx.pkt_id >= 0)).sum(axis=1) + tx.drbr.count) > 0
        mixed = bool((stack & self.an.on).any())
        if self.hardened:
            assert not mixed, "ENA-NM-TXQ-APART: a stack packet on a netmap queue"
        elif mixed:
            event("as shipped: a stack packet on a queue in netmap mode")

    @invariant()
    def nothing_lost(self) -> None:
        if not hasattr(self, "ad"):
            return
        self.ledger_and_buffers_hold()
        assert self.none_back_twice()

    def teardown(self) -> None:
        if not hasattr(self, "ad"):
            return
        if self.an.native:
            self.register(False, None)


TestEnaNetmapSomeRings = EnaNetmapSomeRings.TestCase
TestEnaNetmapSomeRings.settings = settings(max_examples=150, stateful_step_count=30)
