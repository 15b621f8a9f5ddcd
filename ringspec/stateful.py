"""The model drives the implementation: Hypothesis state machines over netmap adapters.

Every rule is a model transition (model/netmap_ring.py) with bounded explicit arguments;
its precondition is the model's guard, evaluated concretely.  Each step runs on the
implementation (impl/netmap) and on the model, and after every step the machine checks:

* ``adapter.abstract(kind, q) == model state`` for every ring (the refinement bridge);
* under the hardened policy, every kernel invariant, and the user-view invariant for rings
  the user has not scribbled since their last sync;
* buffer conservation: while nobody has scribbled slot contents, every buffer index is
  in exactly one place (a slot or the free list) and the device owns distinct buffers;
  always, the device owns only real buffers or netmap's dummy buffer 0.  (A user who
  writes another slot's buffer index into a slot duplicates it; netmap keeps no ownership
  table that could notice, and neither does the model.)
* on TX, each completion puts on the wire exactly the next frames the user filled, in
  order (checked until the user scribbles; netmap_reset drops what was pending).

:class:`HardenedRings` must never fail.  :class:`AsShippedRings` checks only that the
implementation does what the faithful model does, and records (as Hypothesis events and
in :data:`STATS`) every invariant the as-shipped code lets the user break.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import numpy as np
from hypothesis import assume, event, note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from impl.netmap import NetmapAdapter
from model.core import Machine
from model.netmap_ring import AS_SHIPPED, HARDENED, RX, TX, NetmapRing
from ringspec.seeds import BOUNDARY_SEEDS, boundary_state

KINDS = {"tx": TX, "rx": RX}
MAX_RINGS = 3
RING = st.integers(0, MAX_RINGS - 1)
KIND = st.sampled_from(("tx", "rx"))
COUNT = st.integers(0, 9)
PICK = st.integers(0, 80)
SMALL = st.integers(0, 9)
# Mostly small values (in range but possibly illegal: the interesting case), sometimes any.
U32 = st.one_of(SMALL, SMALL, SMALL, st.integers(0, 2**32 - 1))

#: Rule and finding counters of the current process (``ringspec fuzz`` prints them).
STATS: dict[str, Counter] = {"rules": Counter(), "findings": Counter(), "starts": Counter()}


def record(label: str) -> None:
    """A Hypothesis event (shown by --hypothesis-show-statistics) when inside a test."""
    if currently_in_test_context():
        event(label)


def frame_bytes(ring: int, seq: np.ndarray, width: int) -> np.ndarray:
    """Deterministic TX payloads: ring id, then a little-endian sequence number."""
    out = np.zeros((seq.size, width), dtype=np.uint8)
    out[:, 0] = ring
    out[:, 1:5] = seq.astype("<u4").view(np.uint8).reshape(-1, 4)
    return out


class NetmapRings(RuleBasedStateMachine):
    """One adapter with R TX and R RX rings of N slots, driven in lockstep with R model
    states per direction."""

    policy = HARDENED
    FRAME = 16

    def __init__(self) -> None:
        super().__init__()
        self.adapter: NetmapAdapter | None = None
        self.models: dict[str, list[NetmapRing]] = {}
        self.view_scribbled: dict[str, list[bool]] = {}
        self.slots_scribbled = False
        self.wire_trusted = True  # no scribble yet: the wire must carry what was filled
        self.queued: list[np.ndarray] = []
        self.next_seq: list[int] = []
        self.on_wire: list[int] = []

    # ------------------------------------------------------------------ set-up

    @initialize(
        n=st.integers(2, 8),
        rings=st.integers(1, MAX_RINGS),
        start=st.sampled_from(("fresh", *BOUNDARY_SEEDS)),
    )
    def setup(self, n: int, rings: int, start: str) -> None:
        """A fresh adapter, or one whose rings start in a boundary state found by z3."""
        self.adapter = NetmapAdapter(rings, rings, n, buf_size=64, policy=self.policy)
        self.models = {kind: [self.adapter.abstract(kind, q) for q in range(rings)]
                       for kind in KINDS}
        for kind, machine in KINDS.items():
            for q in range(rings):
                assert self.models[kind][q] == machine.init(n), (kind, q)
        if start != "fresh":
            for kind in KINDS:
                state = boundary_state(start, kind, n)
                if state is not None:
                    for q in range(rings):
                        self.adapter.load(kind, q, state)
                        self.models[kind][q] = state
        self.view_scribbled = {kind: [False] * rings for kind in KINDS}
        self.wire_trusted = start == "fresh"
        self.queued = [np.zeros((0, self.FRAME), dtype=np.uint8) for _ in range(rings)]
        self.next_seq = [0] * rings
        self.on_wire = [0] * rings
        STATS["starts"][start] += 1
        record(f"start: {start}")
        if currently_in_test_context():
            note(f"{self.adapter!r}; start={start}")

    @property
    def rings(self) -> int:
        return len(self.queued)

    # ------------------------------------------------------------------ stepping

    def step(self, kind: str, q: int, transition: str, **args: Any) -> NetmapRing:
        """Apply a model transition to ring q's model state (its guard must hold)."""
        machine: Machine = KINDS[kind]
        st_ = machine.transitions[transition](self.models[kind][q], **args)
        assume(st_.guard)
        self.models[kind][q] = st_.post
        STATS["rules"][f"{kind}.{transition}"] += 1
        return st_.post

    def handed_over(self, kind: str, q: int, transition: str, **args: Any) -> int:
        """How far the model's sync, given the *requested* count, moves hwcur: the slots
        the driver must hand over when no slot is bad."""
        before = self.models[kind][q]
        after = KINDS[kind].transitions[transition](before, **args).post
        return (after.hwcur - before.hwcur) % before.n

    def admissible(self, kind: str, q: int, transition: str, pick: int) -> dict[str, int]:
        """The ``pick``-th argument tuple (cyclically) among those whose model guard holds
        in ring q's state, counts ranging over 0..N; pick 0 is the smallest, so failures
        shrink to small arguments.  No admissible tuple: the rule does not apply."""
        t = KINDS[kind].transitions[transition]
        state = self.models[kind][q]
        names = [p.name for p in t.params]
        choices = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(range(state.n + 1), repeat=len(names))
            if t(state, **dict(zip(names, combo, strict=True))).guard
        ]
        assume(choices)
        return choices[pick % len(choices)]

    # ------------------------------------------------------------------ user rules

    @rule(kind=KIND, ring=RING, pick=PICK)
    def user_advance(self, kind: str, ring: int, pick: int) -> None:
        """Publish (TX: after filling the slots with frames) or release dh slots."""
        q = ring % self.rings
        dh, dc = self.admissible(kind, q, "user_advance", pick).values()
        if kind == "tx" and dh and self.wire_trusted:
            frames = frame_bytes(q, np.arange(self.next_seq[q], self.next_seq[q] + dh), self.FRAME)
            self.next_seq[q] += dh
            self.adapter.user_fill(q, frames)
            self.queued[q] = np.concatenate([self.queued[q], frames])
        self.adapter.user_advance(kind, q, dh, dc)
        self.step(kind, q, "user_advance", dh=dh, dc=dc)

    @rule(kind=KIND, ring=RING, head=U32, cur=U32, tail=U32)
    def user_scribble(self, kind: str, ring: int, head: int, cur: int, tail: int) -> None:
        """An adversarial user writes arbitrary u32 head/cur/tail."""
        q = ring % self.rings
        self.adapter.set_user_indices(kind, q, head=head, cur=cur, tail=tail)
        self.step(kind, q, "user_scribble", head=head, cur=cur, tail=tail)
        self.view_scribbled[kind][q] = True
        self.wire_trusted = self.wire_trusted and kind == "rx"

    @rule(kind=KIND, ring=RING, extra=st.integers(1, 8), move_cur=st.booleans())
    def user_overrun(self, kind: str, ring: int, extra: int, move_cur: bool) -> None:
        """The most common user bug (netmap issue #801): advancing head (and cur) past
        tail without checking the space.  Modelled as the user_scribble it amounts to."""
        q = ring % self.rings
        state = self.models[kind][q]
        n = state.n
        assume(state.head < n and state.tail < n)
        head = (state.tail + extra) % n
        cur = head if move_cur else state.cur
        self.adapter.set_user_indices(kind, q, head=head, cur=cur)
        self.step(kind, q, "user_scribble", head=head, cur=cur, tail=state.tail)
        self.view_scribbled[kind][q] = True
        self.wire_trusted = self.wire_trusted and kind == "rx"

    @rule(kind=KIND, ring=RING, slot=st.integers(0, 7), buf_idx=U32,
          length=st.integers(0, 2**16 - 1))
    def scribble_slot(self, kind: str, ring: int, slot: int, buf_idx: int, length: int) -> None:
        """An adversarial user writes arbitrary slot contents (any slot, any region)."""
        q = ring % self.rings
        slots = self.adapter.slots(kind, q)
        slots["buf_idx"][slot % self.adapter.num_slots] = buf_idx
        slots["len"][slot % self.adapter.num_slots] = length
        self.slots_scribbled = True
        self.wire_trusted = False
        STATS["rules"][f"{kind}.scribble_slot"] += 1

    # ------------------------------------------------------------------ kernel rules

    @rule(rings=st.lists(RING, min_size=1, max_size=MAX_RINGS, unique=True), sent=COUNT)
    def txsync(self, rings: list[int], sent: int) -> None:
        """NIOCTXSYNC on a batch of rings in one call."""
        qs = sorted({r % self.rings for r in rings})
        result = self.adapter.txsync(qs, sent=sent)
        for i, q in enumerate(qs):
            done = int(result.sent[i])
            assert done <= sent
            if not self.slots_scribbled:
                assert done == self.handed_over("tx", q, f"txsync_{self.policy}", sent=sent), (
                    "the driver handed over fewer slots than the model allows, with no bad slot"
                )
            self.step("tx", q, f"txsync_{self.policy}", sent=done)
            self.after_sync("tx", q)

    @rule(rings=st.lists(RING, min_size=1, max_size=MAX_RINGS, unique=True), refill=COUNT)
    def rxsync(self, rings: list[int], refill: int) -> None:
        """NIOCRXSYNC on a batch of rings in one call."""
        qs = sorted({r % self.rings for r in rings})
        result = self.adapter.rxsync(qs, refill=refill)
        for i, q in enumerate(qs):
            done = int(result.refilled[i])
            assert done <= refill
            if not self.slots_scribbled:
                assert not bool(result.stopped[i]), "refill stopped although no slot is bad"
                assert done == self.handed_over("rx", q, f"rxsync_{self.policy}", refill=refill)
            self.step("rx", q, f"rxsync_{self.policy}", refill=done)
            self.after_sync("rx", q)

    @rule(kind=KIND, ring=RING)
    def ring_reinit(self, kind: str, ring: int) -> None:
        """netmap_ring_reinit on its own."""
        q = ring % self.rings
        self.adapter.ring_reinit(kind, [q])
        self.step(kind, q, f"ring_reinit_{self.policy}")
        self.after_sync(kind, q)

    @rule(kind=KIND, ring=RING)
    def netmap_reset(self, kind: str, ring: int) -> None:
        """The driver reinitialises the NIC ring."""
        q = ring % self.rings
        self.adapter.netmap_reset(kind, [q])
        self.step(kind, q, "netmap_reset")
        if kind == "tx":  # pending and in-flight frames count as sent; they never will be
            self.queued[q] = self.queued[q][:0]
            self.on_wire[q] = int((self.adapter.wire.rings() == q).sum())

    def after_sync(self, kind: str, q: int) -> None:
        self.view_scribbled[kind][q] = False

    # ------------------------------------------------------------------ device rules

    @rule(ring=RING, pick=PICK)
    def device_complete(self, ring: int, pick: int) -> None:
        """The NIC completes k in-flight TX slots."""
        q = ring % self.rings
        k = self.admissible("tx", q, "device_complete", pick)["k"]
        self.adapter.device_complete([q], k)
        self.step("tx", q, "device_complete", k=k)
        if self.wire_trusted and self.policy == HARDENED:
            wire = self.adapter.wire
            frames = wire.data().reshape(-1, self.FRAME)[wire.rings() == q][self.on_wire[q]:]
            assert np.array_equal(frames, self.queued[q][:k]), f"tx ring {q}: wrong frames"
            self.queued[q] = self.queued[q][k:]
            self.on_wire[q] += k

    @rule(ring=RING, pick=PICK)
    def device_deliver(self, ring: int, pick: int) -> None:
        """The NIC receives k frames into posted RX buffers."""
        q = ring % self.rings
        k = self.admissible("rx", q, "device_deliver", pick)["k"]
        self.adapter.device_deliver([q], k)
        self.step("rx", q, "device_deliver", k=k)

    # ------------------------------------------------------------------ checks

    @invariant()
    def implementation_matches_model(self) -> None:
        if self.adapter is None:
            return
        for kind in KINDS:
            for q in range(self.rings):
                got = self.adapter.abstract(kind, q)
                assert got == self.models[kind][q], (
                    f"{kind} ring {q}: implementation {got!r} != model {self.models[kind][q]!r}"
                )

    @invariant()
    def invariants_hold(self) -> None:
        if self.adapter is None:
            return
        for kind, machine in KINDS.items():
            for q in range(self.rings):
                state = self.models[kind][q]
                broken = machine.violated(state, user_view=not self.view_scribbled[kind][q])
                self.check_broken(kind, q, state, broken)

    def check_broken(self, kind: str, q: int, state: NetmapRing, broken: list[str]) -> None:
        assert not broken, f"{kind} ring {q}: {broken} violated in {state!r}"

    @invariant()
    def buffers_conserved(self) -> None:
        if self.adapter is None:
            return
        nbufs = self.adapter.mem.nbufs
        owned = np.concatenate([self.adapter.device_buffers(kind, q)
                                for kind in KINDS for q in range(self.rings)])
        valid = (owned >= 2) & (owned < nbufs)
        # After slot scribbles a ring reset may post netmap's dummy buffer 0 (what PNMB
        # returns for an invalid index); anything else must be a real, unshared buffer.
        dummy = (owned == 0) & self.slots_scribbled
        assert (valid | dummy).all(), f"device owns invalid buffers {owned}"
        if not self.slots_scribbled:
            assert np.unique(owned).size == owned.size, f"device owns a buffer twice: {owned}"
            places = np.sort(self.adapter.buffer_places())
            assert np.array_equal(places, np.arange(2, nbufs)), "a buffer is lost or duplicated"


class HardenedRings(NetmapRings):
    """The hardened policy: the implementation matches the model and no invariant ever
    breaks, whatever the user writes."""

    policy = HARDENED


class AsShippedRings(NetmapRings):
    """The as-shipped policy: the implementation matches the faithful model; broken
    invariants are the findings (docs/findings.md) and are recorded, not failed."""

    policy = AS_SHIPPED

    def check_broken(self, kind: str, q: int, state: NetmapRing, broken: list[str]) -> None:
        for inv in broken:
            STATS["findings"][inv] += 1
            record(f"as-shipped admits: {inv}")
