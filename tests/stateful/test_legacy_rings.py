"""The 2013 API implemented (:mod:`impl.netmap.legacy`) in lockstep with its model
(:mod:`model.netmap_legacy`), and, while the user behaves, against today's API through the
refinement mapping.

Rules: the user fills TX slots and reads RX packets (keeping some as ``reserved``), the
legacy txsync / rxsync, the device completing and delivering, and a misbehaving user
writing any u32 into ``cur``, ``avail`` or ``reserved``.  After every step each ring of
the implementation, read as a :class:`model.netmap_legacy.LegacyRing`, is the state the
model's transition gives from the state before, whenever that state satisfies the model's
kernel invariants (so the u32 wraps of the findings happen on the real rings; past them
the model's reading of the driver's next_to_clean / next_to_check no longer holds); an
rxsync the model says never returns is reported ``hung`` and changes nothing.  While the
user behaves, a twin modern adapter (hardened) runs the matching modern steps: every ring
maps (``to_modern``) onto the twin's, the legacy invariants hold, and both put the same
frames on the wire and hand the user the same received bytes.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.layout import NS_BUF_CHANGED, NS_MOREFRAG, NS_REPORT
from impl.netmap.legacy import LegacyPort
from model import LEGACY_RX, LEGACY_TX
from model.core import ring_dist
from model.netmap_legacy import LegacyRing, to_modern

RINGS = 2
Q = st.integers(0, RINGS - 1)
SMALL = st.integers(0, 9)
#: What a misbehaving user writes: small values, values just below 2^32 (a negative int
#: stored in a u32 field), anything.
U32 = st.one_of(SMALL, SMALL, st.integers(2**32 - 9, 2**32 - 1), st.integers(0, 2**32 - 1))
FLAGS = st.sampled_from([0, NS_REPORT, NS_BUF_CHANGED, NS_REPORT | NS_MOREFRAG])
MODELS = {"tx": LEGACY_TX, "rx": LEGACY_RX}
WIDTH = 24


def frames_for(seq: int, k: int) -> np.ndarray:
    out = np.zeros((k, WIDTH), dtype=np.uint8)
    out[:, :4] = (seq + np.arange(k)).astype("<u4").view(np.uint8).reshape(-1, 4)
    return out


def slot_bytes(ad: NetmapAdapter, q: int, idx: np.ndarray) -> list[bytes]:
    """The frames in RX slots ``idx`` of ring ``q``."""
    slots = ad.slots("rx", q)
    return [ad.buffer(int(b))[:int(ln)].tobytes()
            for b, ln in zip(slots["buf_idx"][idx], slots["len"][idx], strict=True)]


class LegacyRings(RuleBasedStateMachine):
    @initialize(n=st.sampled_from([4, 8, 16]))
    def setup(self, n: int) -> None:
        self.n = n
        self.ad = NetmapAdapter(RINGS, RINGS, n)
        self.port = LegacyPort(self.ad)
        self.twin: NetmapAdapter | None = NetmapAdapter(RINGS, RINGS, n)
        self.seq = 0
        self.read: list[bytes] = []
        self.twin_read: list[bytes] = []

    def state(self, kind: str, q: int) -> LegacyRing:
        return self.port.abstract(kind, q)

    def lockstep(self, kind: str, q: int, transition: str, pre: LegacyRing,
                 **args: int) -> None:
        step = MODELS[kind].transitions[transition](pre, **args)
        assert step.guard, f"{transition}{args} not enabled in {pre}"
        if MODELS[kind].violated(pre, user_view=False):
            # the model reads the driver's next_to_clean / next_to_check off hwcur +
            # hwavail, which they equal only in states its kernel invariants allow
            event("a state past the kernel invariants: lockstep paused")
            return
        got = self.state(kind, q)
        assert got == step.post, f"{transition}{args}: {pre} -> {got}, model {step.post}"

    def misbehaved(self) -> None:
        if self.twin is not None:
            event("the user misbehaved: twin dropped")
        self.twin = None

    # ------------------------------------------------------------------ user
    @rule(q=Q, k=SMALL, flags=FLAGS)
    def user_fill(self, q: int, k: int, flags: int) -> None:
        pre = self.state("tx", q)
        if not (k <= pre.avail and k < self.n and pre.cur < self.n):
            return
        idx = (pre.cur + np.arange(k)) % self.n
        slots = self.ad.slots("tx", q)
        frames = frames_for(self.seq, k)
        self.seq += k
        for b, f in zip(slots["buf_idx"][idx], frames, strict=True):
            self.ad.buffer(int(b))[:WIDTH] = f
        slots["len"][idx] = WIDTH
        slots["flags"][idx] = flags
        hdr = self.port.header["tx"]
        hdr["cur"][q] = (pre.cur + k) % self.n
        hdr["avail"][q] = (pre.avail - k) & 0xFFFFFFFF
        self.lockstep("tx", q, "user_fill", pre, k=k)
        if self.twin is not None:
            self.twin.user_fill(q, frames)
            self.twin.user_advance("tx", q, k)

    @rule(q=Q, k=SMALL, keep=SMALL)
    def user_read(self, q: int, k: int, keep: int) -> None:
        pre = self.state("rx", q)
        if not (k <= pre.avail and keep <= pre.reserved + k and max(k, keep) < self.n
                and pre.cur < self.n):
            return
        idx = (pre.cur + np.arange(k)) % self.n
        self.read += slot_bytes(self.ad, q, idx)
        hdr = self.port.header["rx"]
        cur = (pre.cur + k) % self.n
        hdr["cur"][q], hdr["avail"][q], hdr["reserved"][q] = (
            cur, (pre.avail - k) & 0xFFFFFFFF, keep)
        self.lockstep("rx", q, "user_read", pre, k=k, keep=keep)
        if self.twin is not None:  # today's user reads the same slots: [cur, cur + k)
            self.twin_read += slot_bytes(self.twin, q, idx)
            self.twin.set_user_indices("rx", q, head=(cur - keep) % self.n, cur=cur)

    @rule(kind=st.sampled_from(["tx", "rx"]), q=Q,
          field=st.sampled_from(["cur", "avail", "reserved"]), value=U32)
    def user_scribbles(self, kind: str, q: int, field: str, value: int) -> None:
        if kind == "tx" and field == "reserved":
            return
        self.port.header[kind][field][q] = value
        self.misbehaved()

    # ------------------------------------------------------------------ kernel
    @rule(q=Q)
    def txsync(self, q: int) -> None:
        pre = self.state("tx", q)
        flags = self.ad.slots("tx", q)["flags"].copy()
        res = self.port.txsync(q)
        self.lockstep("tx", q, "txsync", pre)
        # each slot handed to the NIC loses NS_REPORT and NS_BUF_CHANGED, and only those
        # (ixgbe_netmap_txsync of 2013); the others are untouched
        sent = (pre.hwcur + np.arange(int(res.moved[0]))) % self.n
        want = flags.copy()
        want[sent] &= 0xFFFF ^ (NS_REPORT | NS_BUF_CHANGED)
        assert self.ad.slots("tx", q)["flags"].tolist() == want.tolist()
        event(f"txsync reinit={bool(res.reinit[0])}")
        if self.twin is not None:
            self.twin.txsync(q)

    @rule(q=Q)
    def rxsync(self, q: int) -> None:
        pre = self.state("rx", q)
        step = LEGACY_RX.transitions["rxsync"](pre)
        res = self.port.rxsync(q)
        if not step.guard:  # the 2013 kernel never returns
            assert bool(res.hung[0]) and self.state("rx", q) == pre
            event("rxsync: the 2013 release loop never ends")
            return
        assert not res.hung[0]
        self.lockstep("rx", q, "rxsync", pre)
        if self.twin is not None:
            self.twin.rxsync(q)

    # ------------------------------------------------------------------ device
    @rule(q=Q, pick=st.integers(0, 40))
    def device_complete(self, q: int, pick: int) -> None:
        pre = self.state("tx", q)
        k = pick % (ring_dist(pre.nic, pre.hwcur, self.n) + 1)
        self.ad.device_complete(q, k)
        self.lockstep("tx", q, "device_complete", pre, k=k)
        if self.twin is not None:
            self.twin.device_complete(q, k)

    @rule(q=Q, pick=st.integers(0, 40))
    def device_deliver(self, q: int, pick: int) -> None:
        pre = self.state("rx", q)
        k = pick % (ring_dist(pre.nic, (pre.hwcur - 1) % self.n, self.n) + 1)
        frames = frames_for(1_000_000 + self.seq, k)
        self.seq += k
        self.ad.device_deliver(q, k, frames)
        self.lockstep("rx", q, "device_deliver", pre, k=k)
        if self.twin is not None:
            self.twin.device_deliver(q, k, frames)

    # ------------------------------------------------------------------ refinement
    @precondition(lambda self: getattr(self, "twin", None) is not None)
    @invariant()
    def refines_the_modern_rings(self) -> None:
        assert self.twin is not None
        for kind in ("tx", "rx"):
            for q in range(RINGS):
                s = self.state(kind, q)
                assert MODELS[kind].violated(s, user_view=True) == [], s
                want = self.twin.abstract(kind, q)
                got = to_modern(s).replace(rcur=want.rcur)
                assert got == want, f"{kind}[{q}]: {s} maps to {got}, modern is {want}"
        assert self.ad.wire.lengths().tolist() == self.twin.wire.lengths().tolist()
        assert np.array_equal(self.ad.wire.data(), self.twin.wire.data())
        assert self.read == self.twin_read


TestLegacyRings = LegacyRings.TestCase
TestLegacyRings.settings = settings(max_examples=150, stateful_step_count=30)
