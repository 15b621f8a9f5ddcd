"""Host-ring rules for the stateful ring machines (:mod:`ringspec.stateful`).

The host stack transmits, the user reads the host RX ring and sends on the host TX ring,
and both host rings sync, interleaved with everything the hardware-ring rules do on the
same adapter.  The host rings run in lockstep with :mod:`model.netmap_host` (the model
decides which packets netmap_transmit accepts and what each sync does), and the bytes
are checked end to end: the user reads the stack's accepted packets in order, and the
stack receives the user's packets with a valid length in order.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from impl.netmap import NetmapAdapter
from impl.netmap.host import ETH_HLEN, split_frames
from model.netmap_host import (
    HOST_RX,
    HOST_TX,
    HostRx,
    HostTx,
    host_rx_init,
    host_tx_init,
    netmap_transmit,
    rxsync_from_host,
    txsync_to_host,
    user_release,
    user_send,
)
from ringspec.seeds import BOUNDARY_SEEDS
from ringspec.stateful import HardenedRings

HOST_FRAME = 40
"""Width of the frames the stack and the user put on the host rings (buffers are 64)."""


class HostRingRules:
    """Mixin: the host rings of ``self.adapter`` and their model states."""

    HOST_RINGS = True
    adapter: NetmapAdapter | None
    policy: str
    host_rx: HostRx
    host_tx: HostTx

    def setup_host(self, n: int) -> None:
        self.host_rx, self.host_tx = host_rx_init(n), host_tx_init(n)
        self.host_seq = 0
        self.host_accepted: list[bytes] = []
        self.host_read = 0
        self.host_sent_good: list[bytes] = []

    def _host_frames(self, k: int, tag: int) -> np.ndarray:
        out = np.zeros((k, HOST_FRAME), np.uint8)
        serial = self.host_seq + np.arange(k)
        out[:, 0] = tag
        out[:, 1:5] = (serial[:, None] >> (8 * np.arange(4))) & 0xFF
        self.host_seq += k
        return out

    @rule(k=st.integers(1, 9), long_every=st.integers(0, 4))
    def stack_transmit(self, k: int, long_every: int) -> None:
        """The stack sends ``k`` packets to the interface (every ``long_every``-th one
        longer than a netmap buffer)."""
        if self.adapter is None:
            return
        buf = self.adapter.mem.buf_size
        lengths = np.full(k, HOST_FRAME)
        if long_every:
            lengths[long_every - 1 :: long_every] = buf + 1
        frames = np.zeros((k, buf + 1), np.uint8)
        frames[:, :HOST_FRAME] = self._host_frames(k, 0xAA)
        got = self.adapter.netmap_transmit(frames, lengths)
        for length, err in zip(lengths.tolist(), got.tolist(), strict=True):
            before = self.host_rx
            self.host_rx = netmap_transmit(before, int(length <= buf)).post
            assert (err == 0) == (self.host_rx.accepted > before.accepted)
        self.host_accepted += [bytes(f[:HOST_FRAME]) for f, e in zip(frames, got.tolist(),
                                                                       strict=True) if e == 0]

    @rule()
    def host_rxsync(self) -> None:
        if self.adapter is None:
            return
        result = self.adapter.host_rxsync(can_forward_down=False)
        assert result.accepted
        self.host_rx = rxsync_from_host(self.host_rx).post

    @rule(pick=st.integers(0, 9))
    def host_user_read(self, pick: int) -> None:
        """The user reads and releases some of the packets the host RX ring shows."""
        if self.adapter is None:
            return
        s = self.host_rx
        k = pick % (int((s.tail - s.head) % s.n) + 1)
        step = user_release(s, k)
        assert step.guard
        got = split_frames(*self.adapter.host_rings().user_release(k))
        assert got == self.host_accepted[self.host_read : self.host_read + k]
        self.host_read += k
        self.host_rx = step.post

    @rule(pick=st.integers(0, 9), short=st.booleans())
    def host_user_send(self, pick: int, short: bool) -> None:
        """The user sends packets on the host TX ring, the first one maybe too short."""
        if self.adapter is None:
            return
        s = self.host_tx
        k = pick % (int((s.tail - s.head) % s.n) + 1)
        assume(k > 0)
        lengths = np.full(k, HOST_FRAME)
        lengths[0] = ETH_HLEN - 1 if short else HOST_FRAME
        frames = self._host_frames(k, 0xBB)
        step = user_send(s, k, int(short))
        assert step.guard
        self.adapter.host_rings().user_send(frames, lengths)
        self.host_sent_good += [bytes(f) for i, f in enumerate(frames) if i or not short]
        self.host_tx = step.post

    @rule()
    def host_txsync(self) -> None:
        if self.adapter is None:
            return
        assert self.adapter.host_txsync().accepted
        self.host_tx = txsync_to_host(self.host_tx).post

    @invariant()
    def host_rings_match_the_model(self) -> None:
        if self.adapter is None:
            return
        host = self.adapter.host_rings()
        for got, want, machine in ((host.abstract_rx(), self.host_rx, HOST_RX),
                                   (host.abstract_tx(), self.host_tx, HOST_TX)):
            assert got == want, f"implementation {got!r} != model {want!r}"
            assert not machine.violated(want), (machine.name, want)
        assert host.stack.frames() == self.host_sent_good[: len(host.stack)]


class HostTrafficRings(HostRingRules, HardenedRings):
    """The hardened ring machine with host-stack traffic on the same adapter: every
    hardware-ring rule and check, plus the host rings in lockstep with their models."""

    @initialize(
        n=st.integers(2, 8),
        rings=st.integers(1, 2),
        start=st.sampled_from(("fresh", "rotated", *BOUNDARY_SEEDS)),
        rotate=st.integers(1, 7),
    )
    def setup(self, n: int, rings: int, start: str, rotate: int) -> None:
        """As for the hardware-ring machines, with fresh host rings."""
        super().setup(n, rings, start, rotate)
        self.setup_host(n)
