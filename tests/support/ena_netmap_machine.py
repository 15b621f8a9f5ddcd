"""What the stateful machines of netmap on a whole ENA adapter share: the adapter with
its rings at 256 slots and the frames its stack receives, the device, the clock and the
netmap user's syncs as rules, and the check that no frame comes back more often than it
was sent."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena.rxq import RxResult
from ringspec.ena_netmap_run import every_buffer_once, stack_frames, take_packets
from support.ena_adapter_rig import SECOND, AdapterRig, adapter_rig


class EnaAdapterMachine(RuleBasedStateMachine):
    """``rig``, ``ad``, ``sent`` (frames handed to the stack or the netmap user) and
    ``back`` (frames the stack or the netmap user received), set by :meth:`setup`; ``an``,
    netmap on the adapter, set by the machine."""

    rig: AdapterRig
    an: AdapterNetmap

    def setup(self, policy: Policy, nvec: int) -> None:
        """An adapter with ``nvec - 1`` queue pairs of 256 slots (the smallest ring
        ena_up accepts, set before the interface comes up: each mode switch stays
        cheap), up."""
        self.rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy), nvec=nvec,
                               up=False)
        self.ad = self.rig.adapter
        self.ad.requested_tx_ring_size = self.ad.requested_rx_ring_size = 256
        assert self.ad.up() == 0 and self.ad.num_io_queues == nvec - 1
        self.hardened = policy is Policy.HARDENED
        self.sent: list[bytes] = []
        self.back: list[bytes] = []

        def stack_receives(r: RxResult) -> None:
            self.back += stack_frames(r)
        self.ad.on_stack_rx = stack_receives

    @rule()
    def device_runs(self) -> None:
        self.rig.dev.step()
        self.ad.handle_interrupts()

    @rule(ms=st.sampled_from([100, 700, 1500]))
    def time_passes(self, ms: int) -> None:
        self.ad.advance(ms * SECOND // 1000)

    @precondition(lambda self: self.an.port is not None)
    @rule()
    def netmap_syncs(self) -> None:
        """NIOCTXSYNC and NIOCRXSYNC on every bound ring; the user reads everything."""
        port = self.an.port
        assert port is not None
        port.txsync()
        port.rxsync()
        for q in np.flatnonzero(self.an.on).tolist():
            self.back += take_packets(port, q)

    def ledger_and_buffers_hold(self) -> None:
        """The stack's ledger balances; hardened, every netmap buffer is in exactly one
        place."""
        if self.ad.driver is not None:
            assert self.ad.driver.unaccounted() == 0
        port = self.an.port
        if self.hardened and port is not None and self.an.rings is not None:
            assert every_buffer_once(port)

    def none_back_twice(self) -> bool:
        """No frame came back more often than it was sent."""
        back, sent = Counter(self.back), Counter(self.sent)
        return all(n <= sent[b] for b, n in back.items())
