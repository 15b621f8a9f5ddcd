"""The 2013 host rings implemented (:mod:`impl.netmap.legacy_host`) in lockstep with
their model (:mod:`model.netmap_legacy_host`), as shipped and hardened.

Rules: the user fills host TX slots (some with a length the kernel refuses) and reads
host RX packets (keeping some as ``reserved``), the stack transmits batches (some too
long), the two 2013 syncs, and a misbehaving user writing any u32 into ``cur``,
``avail`` or ``reserved``.  After every step the implementation, read as the model's
state, is what the model's transition gives from the state before; a host txsync the
model says never returns is reported ``hung`` and changes nothing.  The data is checked
too: what goes up the stack is the bytes of the slots the model's grab end says the walk
covers, and while the user behaves it reads exactly the packets netmap_transmit
accepted, in order.  Hardened, the kernel invariants hold after every step whatever the
user writes; no host slot ever changes buffer (these paths copy).
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.legacy_host import LegacyHostPort
from impl.netmap.prologue import AS_SHIPPED, HARDENED
from model import LEGACY_HOST_RX, LEGACY_HOST_TX
from model.core import Machine, ring_dist
from model.netmap_legacy_host import grab_end

SMALL = st.integers(0, 9)
U32 = st.one_of(SMALL, SMALL, st.integers(2**32 - 9, 2**32 - 1), st.integers(0, 2**32 - 1))
WIDTH = 32
#: lengths a user or the stack may give: valid ones, runts the walk skips, too long
LENGTHS = st.lists(st.sampled_from([14, 20, 32, 60, 5, 4000]), max_size=6)


def frames_for(seq: int, lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of WIDTH bytes numbered from ``seq``; the lengths clipped to the row."""
    out = np.zeros((len(lengths), WIDTH), dtype=np.uint8)
    out[:, :4] = (seq + np.arange(len(lengths))).astype("<u4").view(np.uint8).reshape(-1, 4)
    out[:, 4:] = (seq % 251) + 1
    return out, np.minimum(np.array(lengths, dtype=np.int64), WIDTH)


class LegacyHostRings(RuleBasedStateMachine):
    policy = AS_SHIPPED

    @initialize(n=st.sampled_from([4, 8, 16]))
    def setup(self, n: int) -> None:
        self.n = n
        self.ad = NetmapAdapter(1, 1, n)
        self.port = LegacyHostPort(self.ad, self.policy)
        self.bufs = {k: kr.slot_buf_idx.copy() for k, kr in
                     (("tx", self.port.host.tx), ("rx", self.port.host.rx))}
        self.seq = 0
        self.expected_rx: list[bytes] | None = []  # None once the user misbehaved

    def name(self, base: str) -> str:
        return f"{base}_{'as_shipped' if self.policy == AS_SHIPPED else 'hardened'}"

    def lockstep(self, machine: Machine, transition: str, pre: object, got: object,
                 **args: int) -> None:
        step = machine.transitions[transition](pre, **args)
        assert step.guard, f"{transition}{args} not enabled in {pre}"
        assert got == step.post, f"{transition}{args}: {pre} -> {got}, model {step.post}"

    # ------------------------------------------------------------------ host TX
    @rule(lengths=LENGTHS)
    def user_fill(self, lengths: list[int]) -> None:
        pre = self.port.abstract_tx()
        if pre.cur >= self.n or len(lengths) > pre.avail:
            return
        frames, ln = frames_for(self.seq, lengths)
        self.seq += len(lengths)
        self.port.user_fill(frames, ln)
        self.lockstep(LEGACY_HOST_TX, "host_tx_fill", pre, self.port.abstract_tx(),
                      k=len(lengths))

    @rule(c=U32, r=U32)
    def tx_write(self, c: int, r: int) -> None:
        pre = self.port.abstract_tx()
        hdr = self.port.header["tx"]
        hdr["cur"][0], hdr["reserved"][0] = c, r
        self.lockstep(LEGACY_HOST_TX, "host_tx_write", pre, self.port.abstract_tx(), c=c, r=r)

    @rule(r=SMALL)
    def tx_hold(self, r: int) -> None:
        """The user sets only ``reserved``, as netmap.h tells it to for held slots."""
        pre = self.port.abstract_tx()
        self.port.header["tx"]["reserved"][0] = r
        self.lockstep(LEGACY_HOST_TX, "host_tx_write", pre, self.port.abstract_tx(),
                      c=pre.cur, r=r)

    @rule()
    def txsync_to_host(self) -> None:
        pre = self.port.abstract_tx()
        kr = self.port.host.tx
        end = grab_end(pre.cur, pre.reserved, self.n) if self.policy == AS_SHIPPED else pre.cur
        before = len(self.port.stack)
        want: list[bytes] = []
        if pre.cur < self.n and end < self.n:  # the walk the model says, read off the slots
            for i in (pre.hwcur + np.arange(ring_dist(pre.hwcur, end, self.n))) % self.n:
                ln = int(kr.slot_len[0, i])
                if 14 <= ln <= self.port.mem.buf_size:
                    want.append(self.ad.buffer(int(kr.slot_buf_idx[0, i]))[:ln].tobytes())
        step = LEGACY_HOST_TX.transitions[self.name("txsync_to_host")](pre)
        res = self.port.txsync_to_host()
        if not step.guard:
            assert res.hung and self.port.abstract_tx() == pre
            event(f"host txsync: the 2013 walk never ends (flood={res.flood})")
            return
        assert not res.hung
        self.lockstep(LEGACY_HOST_TX, self.name("txsync_to_host"), pre,
                      self.port.abstract_tx())
        assert self.port.stack.frames()[before:] == want
        event(f"host txsync reinit={res.reinit} stray={self.port.stray > 0} "
              f"lost={self.port.lost > 0}")

    # ------------------------------------------------------------------ host RX
    @rule(lengths=LENGTHS)
    def stack_transmits(self, lengths: list[int]) -> None:
        frames, ln = frames_for(1_000_000 + self.seq, lengths)
        ln = np.where(np.array(lengths) > WIDTH, 4000, ln).astype(np.int64)
        wide = np.zeros((len(lengths), 4000), dtype=np.uint8)
        wide[:, :WIDTH] = frames
        self.seq += len(lengths)
        pre = self.port.abstract_rx()
        got = self.port.netmap_transmit(wide, ln)
        state = pre
        for i, length in enumerate(ln):
            step = LEGACY_HOST_RX.transitions["transmit_2013"](
                state, fits=int(length <= self.port.mem.buf_size))
            assert (got[i] == 0) == (step.post.accepted > state.accepted), (i, got, state)
            state = step.post
            if got[i] == 0 and self.expected_rx is not None:
                self.expected_rx.append(wide[i, :length].tobytes())
        assert self.port.abstract_rx() == state, (pre, self.port.abstract_rx(), state)

    @rule(k=SMALL, keep=SMALL)
    def user_read(self, k: int, keep: int) -> None:
        pre = self.port.abstract_rx()
        if not (pre.cur < self.n and k <= pre.avail and keep <= pre.reserved + k
                and k < self.n):
            return
        got = self.port.user_read(k, keep)
        self.lockstep(LEGACY_HOST_RX, "host_rx_read", pre, self.port.abstract_rx(),
                      k=k, keep=keep)
        if self.expected_rx is not None:
            assert got == self.expected_rx[:k]
            del self.expected_rx[:k]

    @rule(c=U32, a=U32, r=U32)
    def rx_write(self, c: int, a: int, r: int) -> None:
        pre = self.port.abstract_rx()
        hdr = self.port.header["rx"]
        hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = c, a, r
        self.lockstep(LEGACY_HOST_RX, "host_rx_write", pre, self.port.abstract_rx(),
                      c=c, a=a, r=r)
        self.expected_rx = None

    @rule(d=st.integers(1, 9), e=st.integers(0, 15))
    def rx_write_wrapping(self, d: int, e: int) -> None:
        """reserved = 2^32 - d with avail = d + e: their u32 sum is e, which passes the
        2013 test when e < N, and the release point lands past the ring."""
        pre = self.port.abstract_rx()
        hdr = self.port.header["rx"]
        hdr["avail"][0], hdr["reserved"][0] = d + e, 2**32 - d
        self.lockstep(LEGACY_HOST_RX, "host_rx_write", pre, self.port.abstract_rx(),
                      c=pre.cur, a=d + e, r=2**32 - d)
        self.expected_rx = None

    @rule()
    def rxsync_from_host(self) -> None:
        pre = self.port.abstract_rx()
        res = self.port.rxsync_from_host()
        self.lockstep(LEGACY_HOST_RX, self.name("rxsync_from_host"), pre,
                      self.port.abstract_rx())
        post = self.port.abstract_rx()
        event(f"host rxsync reinit={res.reinit} hwcur_outside={post.hwcur >= self.n} "
              f"hwavail_wrapped={post.hwavail > self.n}")

    # ------------------------------------------------------------------ invariants
    @invariant()
    def slots_keep_their_buffers(self) -> None:
        for kind, kr in (("tx", self.port.host.tx), ("rx", self.port.host.rx)):
            assert np.array_equal(kr.slot_buf_idx, self.bufs[kind]), kind

    @invariant()
    def hardened_keeps_the_kernel_invariants(self) -> None:
        if self.policy == AS_SHIPPED:
            return
        assert LEGACY_HOST_TX.violated(self.port.abstract_tx(), user_view=False) == []
        assert LEGACY_HOST_RX.violated(self.port.abstract_rx(), user_view=False) == []


class HardenedLegacyHostRings(LegacyHostRings):
    policy = HARDENED


TestLegacyHostRingsAsShipped = LegacyHostRings.TestCase
TestLegacyHostRingsAsShipped.settings = settings(max_examples=150, stateful_step_count=30,
                                                 deadline=None)
TestLegacyHostRingsHardened = HardenedLegacyHostRings.TestCase
TestLegacyHostRingsHardened.settings = settings(max_examples=150, stateful_step_count=30,
                                                deadline=None)
