"""The model drives the implementation: Hypothesis state machines over netmap adapters.

Every rule is a model transition (model/netmap_ring.py) with bounded explicit arguments;
its precondition is the model's guard, evaluated concretely.  Each step runs on the
implementation (impl/netmap) and on the model, and after every step the machine checks
what the model says about indices and what a user and the NIC actually see:

* ``adapter.abstract(kind, q) == model state`` for every ring (the refinement bridge);
* under the hardened policy, every kernel invariant, and the user-view invariant for rings
  the user has not scribbled since their last sync;
* every field of every sync result: the rings, the prologue verdict (the model's
  prologue), the counts (the model's sync), the stop marker and the dtypes.  The driver's
  stopping point is computed from the slot contents (the first slot without a real
  buffer, or on TX with a length past the buffer), never taken from the implementation;
* slot contents: every slot's ``buf_idx``, ``len`` and ``flags`` are what the user wrote,
  what the NIC delivered (RX lengths, reported at the sync that reports the slot) and what
  the driver contract changes (handing a slot to the NIC clears NS_BUF_CHANGED and only
  that, as ixgbe does:
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/ixgbe_netmap.h#L451;
  reporting a received slot sets its flags to 0,
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/ixgbe_netmap.h#L411);
* RX data: the bytes in every slot the kernel has not yet given back to the NIC
  ([rhead, nic), i.e. the user's, unshown and ready regions) are the frame the NIC
  delivered into that slot;
* the NIC's side: its [head, tail) descriptors are exactly the model's device region
  (TX in flight [nic, hwcur), RX free [nic, hwcur-1)) in order, and each descriptor holds
  the buffer (and on TX the length) of the slot it stands for.  The refill writes the
  slot's buffer whether or not NS_BUF_CHANGED is set (ixgbe writes the address from PNMB
  on every refill:
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/ixgbe_netmap.h#L457);
* buffer conservation: every buffer index is in exactly one place (a slot or the free
  list), and with the previous check the device owns only buffers of its own slots, each
  once; always, the device owns only real buffers or netmap's dummy buffer 0;
* on TX, each completion puts on the wire exactly the next frames the user published, in
  order: frames the user filled, and frames forwarded zero-copy from an RX ring, which
  must be the bytes the NIC delivered there (checked until the user scribbles;
  netmap_reset drops what was pending).

The slot, data and NIC checks hold until the user scribbles a slot (a scribbled buf_idx
can duplicate or lose a buffer: netmap keeps no ownership table, nor does the model), and
the data and NIC checks only in states satisfying the model's kernel invariants (the
as-shipped findings break them on purpose).

:class:`HardenedRings` must never fail.  :class:`AsShippedRings` checks only that the
implementation does what the faithful model does, and records (as Hypothesis events and
in :data:`STATS`) every invariant the as-shipped code lets the user break.
"""

from __future__ import annotations

import errno
import itertools
from collections import Counter
from typing import Any

import numpy as np
from hypothesis import assume, event, note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from impl.netmap import (
    NS_BUF_CHANGED,
    NS_MOREFRAG,
    NS_PORT_SHIFT,
    NS_REPORT,
    RESERVED_BUFS,
    NetmapAdapter,
)
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from model.core import Machine, ring_dist
from model.netmap_poll import POLLS, PollCall
from model.netmap_ring import (
    AS_SHIPPED,
    HARDENED,
    RX,
    TX,
    NetmapRing,
    caller_accepts,
    nm_rxsync_prologue,
    nm_txsync_prologue,
    rx_regions,
    tx_regions,
)
from ringspec.seeds import BOUNDARY_SEEDS, boundary_state

KINDS = {"tx": TX, "rx": RX}
PROLOGUES = {"tx": nm_txsync_prologue, "rx": nm_rxsync_prologue}
MAX_RINGS = 3
RING = st.integers(0, MAX_RINGS - 1)
KIND = st.sampled_from(("tx", "rx"))
COUNT = st.integers(0, 9)
COUNTS = st.lists(COUNT, min_size=MAX_RINGS, max_size=MAX_RINGS)
PICK = st.integers(0, 80)
SMALL = st.integers(0, 9)
# Mostly small values (in range but possibly illegal: the interesting case), sometimes any.
U32 = st.one_of(SMALL, SMALL, SMALL, st.integers(0, 2**32 - 1))
#: Slot flags a user sets when publishing / releasing: none, netmap's low flags, a VALE
#: destination port in the high byte (NS_PORT_SHIFT), all high bits.
FLAGS = st.sampled_from(
    (0, NS_REPORT, NS_BUF_CHANGED, NS_MOREFRAG | (3 << NS_PORT_SHIFT),
     0xFF00 | NS_BUF_CHANGED | NS_REPORT)
)
SLOT_FIELDS = ("buf_idx", "len", "flags")

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


def rx_frames(ring: int, seq: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic RX frames for the NIC to deliver: distinct bytes everywhere (a
    sequence number up front) and lengths 1..width, full-buffer frames included."""
    j = np.arange(width)[None, :]
    out = ((seq[:, None] * 13 + ring * 101 + j * 7 + 1) % 256).astype(np.uint8)
    out[:, :4] = seq.astype("<u4").view(np.uint8).reshape(-1, 4)
    return out, 1 + (seq * 37 + ring * 11) % width


def ring_slots(start: int, count: int, n: int) -> np.ndarray:
    """Kring slot indices [start, start + count) of a ring of n slots."""
    return (int(start) + np.arange(int(count), dtype=np.int64)) % n


def device_region(kind: str, s: NetmapRing) -> np.ndarray:
    """The slots the model gives the device, in NIC order from its head pointer: TX the
    in-flight region, RX the free (posted, empty) region."""
    size = tx_regions(s)["in_flight"] if kind == "tx" else rx_regions(s)["free"]
    return ring_slots(s.nic, size, s.n)


class NetmapRings(RuleBasedStateMachine):
    """One adapter with R TX and R RX rings of N slots, driven in lockstep with R model
    states per direction."""

    policy = HARDENED
    FRAME = 16
    BUF_SIZE = 64
    HOST_RINGS = False
    """The hardware-ring machines run without host rings (HostTrafficRings adds them)."""

    def __init__(self) -> None:
        super().__init__()
        self.adapter: NetmapAdapter | None = None
        self.models: dict[str, list[NetmapRing]] = {}
        self.view_scribbled: dict[str, list[bool]] = {}
        self.slots_scribbled = False
        self.wire_trusted = True  # no scribble yet: the wire must carry what was filled
        self.queued: list[list[bytes]] = []
        self.next_seq: list[int] = []
        self.on_wire: list[int] = []
        # What a user must see in the slots, per kind: (rings, N) arrays.
        self.expect: dict[str, dict[str, np.ndarray]] = {}
        # The frame the NIC last delivered into each RX slot (bytes and length).
        self.rx_bytes = np.zeros((0, 0, 0), dtype=np.uint8)
        self.rx_len = np.zeros((0, 0), dtype=np.int64)
        self.rx_known = np.zeros((0, 0), dtype=bool)  # False once forwarded away
        self.rx_seq: list[int] = []

    # ------------------------------------------------------------------ set-up

    @initialize(
        n=st.integers(2, 8),
        rings=st.integers(1, MAX_RINGS),
        start=st.sampled_from(("fresh", "rotated", *BOUNDARY_SEEDS)),
        rotate=st.integers(1, 7),
    )
    def setup(self, n: int, rings: int, start: str, rotate: int) -> None:
        """A fresh adapter, one whose rings start as fresh ones moved ``rotate`` slots
        round (so ranges wrap past slot N-1 after a few steps, as after long traffic), or
        one whose rings start in a boundary state found by z3."""
        self.adapter = NetmapAdapter(rings, rings, n, buf_size=self.BUF_SIZE,
                                     policy=self.policy, host_rings=self.HOST_RINGS)
        self.models = {kind: [self.adapter.abstract(kind, q) for q in range(rings)]
                       for kind in KINDS}
        for kind, machine in KINDS.items():
            for q in range(rings):
                assert self.models[kind][q] == machine.init(n), (kind, q)
        for kind, machine in KINDS.items():
            if start == "rotated":
                init = machine.init(n)
                state = init.replace(**{
                    f: (getattr(init, f) + rotate) % n
                    for f in ("head", "cur", "tail", "hwcur", "hwtail", "rhead", "rcur",
                              "rtail", "nic")
                })
                assert not machine.violated(state), state
            else:
                state = None if start == "fresh" else boundary_state(start, kind, n)
            if state is not None:
                for q in range(rings):
                    self.adapter.load(kind, q, state)
                    self.models[kind][q] = state
        self.view_scribbled = {kind: [False] * rings for kind in KINDS}
        self.stopped = {kind: [False] * rings for kind in KINDS}
        self.wire_trusted = True
        # A loaded TX ring has frames in flight and pending already: empty ones (every
        # slot starts with len 0), which the NIC must send before anything published next.
        self.queued = [[b""] * int(ring_dist(s.nic, s.head, n)) for s in self.models["tx"]]
        self.next_seq = [0] * rings
        self.on_wire = [0] * rings
        # A new adapter: every slot has its own buffer, len 0, flags 0, zeroed bytes.
        self.expect = {
            kind: {f: np.array(self.adapter.mem.slots[kr.base : kr.base + kr.count][f],
                               dtype=np.int64)
                   for f in SLOT_FIELDS}
            for kind, kr in (("tx", self.adapter.tx), ("rx", self.adapter.rx))
        }
        for kind in KINDS:
            assert not self.expect[kind]["len"].any() and not self.expect[kind]["flags"].any()
        self.rx_bytes = np.zeros((rings, n, self.BUF_SIZE), dtype=np.uint8)
        self.rx_len = np.zeros((rings, n), dtype=np.int64)
        self.rx_known = np.ones((rings, n), dtype=bool)
        self.rx_seq = [0] * rings
        STATS["starts"][start] += 1
        record(f"start: {start}")
        if currently_in_test_context():
            note(f"{self.adapter!r}; start={start}")

    @property
    def rings(self) -> int:
        return len(self.queued)

    @property
    def slots_trusted(self) -> bool:
        """Slot contents are what the user, NIC and driver wrote (no slot scribble)."""
        return not self.slots_scribbled

    def sane(self, kind: str, q: int, user_view: bool = False) -> bool:
        """The model state of ring q satisfies every kernel (and maybe user) invariant."""
        return not KINDS[kind].violated(self.models[kind][q], user_view=user_view)

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

    def good_prefix(self, kind: str, q: int, want: int, reinit: bool = False) -> int:
        """How many of the ``want`` slots from hwcur the driver can hand over: it stops
        at the first slot without a real buffer (RESERVED_BUFS <= buf_idx < nbufs) or,
        on TX, with a length past the buffer, reading the slots as they are now -- or,
        with ``reinit``, as netmap_ring_reinit leaves them (it zeroes a length past the
        buffer and the index of a slot without a real buffer)."""
        mem = self.adapter.mem
        idx = ring_slots(self.models[kind][q].hwcur, want, self.adapter.num_slots)
        slots = self.adapter.slots(kind, q)
        buf = slots["buf_idx"][idx].astype(np.int64)
        bad = (buf < RESERVED_BUFS) | (buf >= mem.nbufs)
        if kind == "tx" and not reinit:
            bad |= slots["len"][idx].astype(np.int64) > mem.buf_size
        return int(np.argmax(bad)) if bad.any() else want

    def admissible(self, kind: str, q: int, transition: str, pick: int) -> dict[str, int]:
        """The ``pick``-th argument tuple (cyclically) among those whose model guard holds
        in ring q's state, counts ranging over 0..N, leaving out the all-zero tuple (a
        no-op) unless it is the only one; pick 0 is the smallest, so failures shrink to
        small arguments.  No admissible tuple: the rule does not apply."""
        t = KINDS[kind].transitions[transition]
        state = self.models[kind][q]
        names = [p.name for p in t.params]
        choices = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(range(state.n + 1), repeat=len(names))
            if t(state, **dict(zip(names, combo, strict=True))).guard
        ]
        assume(choices)
        choices = [c for c in choices if any(c.values())] or choices
        return choices[pick % len(choices)]

    # ------------------------------------------------------------------ user rules

    @rule(kind=KIND, ring=RING, pick=PICK, flags=FLAGS)
    def user_advance(self, kind: str, ring: int, pick: int, flags: int) -> None:
        """Publish (TX: after filling the slots with frames) or release dh slots, setting
        ``flags`` on them."""
        q = ring % self.rings
        dh, dc = self.admissible(kind, q, "user_advance", pick).values()
        idx = ring_slots(self.models[kind][q].head, dh, self.adapter.num_slots)
        if kind == "tx" and dh and self.wire_trusted:
            frames = frame_bytes(q, np.arange(self.next_seq[q], self.next_seq[q] + dh), self.FRAME)
            self.next_seq[q] += dh
            self.adapter.user_fill(q, frames)
            self.queued[q] += [f.tobytes() for f in frames]
            self.expect["tx"]["len"][q, idx] = self.FRAME
        self.adapter.slots(kind, q)["flags"][idx] = flags
        self.expect[kind]["flags"][q, idx] = flags
        self.adapter.user_advance(kind, q, dh, dc)
        self.step(kind, q, "user_advance", dh=dh, dc=dc)

    @rule(rx_ring=RING, tx_ring=RING, pick=PICK)
    def user_forward(self, rx_ring: int, tx_ring: int, pick: int) -> None:
        """Zero-copy forwarding (netmap's bridge): swap the buffers of the next k received
        RX slots and the next k free TX slots, TX len = RX len, NS_BUF_CHANGED on both,
        then release the RX slots and publish the TX ones."""
        qr, qt = rx_ring % self.rings, tx_ring % self.rings
        if not (self.slots_trusted and self.sane("rx", qr, True) and self.sane("tx", qt, True)):
            return  # a no-op, not assume(): that would throw the whole example away
        rx_t, tx_t = RX.transitions["user_advance"], TX.transitions["user_advance"]
        rx_s, tx_s = self.models["rx"][qr], self.models["tx"][qt]
        ks = [k for k in range(1, rx_s.n + 1)
              if rx_t(rx_s, dh=k, dc=0).guard and tx_t(tx_s, dh=k, dc=0).guard]
        if not ks:
            return
        k = ks[pick % len(ks)]
        n = self.adapter.num_slots
        ri, ti = ring_slots(rx_s.head, k, n), ring_slots(tx_s.head, k, n)
        rs, ts = self.adapter.slots("rx", qr), self.adapter.slots("tx", qt)
        rbuf, tbuf = rs["buf_idx"][ri].copy(), ts["buf_idx"][ti].copy()
        # What goes on the wire is what the NIC delivered, not what memory holds now; a slot
        # a reinit showed again after an earlier forward holds that forward's TX buffer,
        # and the user forwards whatever that buffer holds.
        frames = [self.rx_bytes[qr, s, : self.rx_len[qr, s]].tobytes() if self.rx_known[qr, s]
                  else self.adapter.buffer(int(b))[: int(rs["len"][s])].tobytes()
                  for s, b in zip(ri, rbuf, strict=True)]
        rs["buf_idx"][ri], ts["buf_idx"][ti] = tbuf, rbuf
        ts["len"][ti] = rs["len"][ri]
        rs["flags"][ri] |= NS_BUF_CHANGED
        ts["flags"][ti] |= NS_BUF_CHANGED
        ex_r, ex_t = self.expect["rx"], self.expect["tx"]
        ex_r["buf_idx"][qr, ri], ex_t["buf_idx"][qt, ti] = (
            ex_t["buf_idx"][qt, ti].copy(), ex_r["buf_idx"][qr, ri].copy())
        ex_t["len"][qt, ti] = ex_r["len"][qr, ri]
        ex_r["flags"][qr, ri] |= NS_BUF_CHANGED
        ex_t["flags"][qt, ti] |= NS_BUF_CHANGED
        self.queued[qt] += frames
        self.rx_known[qr, ri] = False  # the slot now holds the TX buffer, until refilled
        self.adapter.user_advance("rx", qr, k, 0)
        self.adapter.user_advance("tx", qt, k, 0)
        self.step("rx", qr, "user_advance", dh=k, dc=0)
        self.step("tx", qt, "user_advance", dh=k, dc=0)
        STATS["rules"]["user_forward"] += 1

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
        if not (state.head < n and state.tail < n):
            return  # nothing to overrun from (a no-op rather than a discarded example)
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

    def check_result(self, kind: str, result: Any, qs: list[int], accepted: list[bool],
                     counts: dict[str, list[int]], bad: list[int]) -> None:
        """Every field of a sync result, against the model-derived expectations (a
        stopped ring is skipped: nothing ran on it, and the ioctl returns EIO)."""
        skipped = [self.stopped[kind][q] for q in qs]
        fields = {"rings": qs, "accepted": accepted, "bad_slot": bad, "skipped": skipped,
                  **counts}
        for name, want in fields.items():
            got = getattr(result, name)
            assert isinstance(got, np.ndarray) and got.shape == (len(qs),), (name, got)
            boolean = name in ("accepted", "skipped")
            assert got.dtype == (np.bool_ if boolean else np.int64), (name, got)
            assert got.tolist() == want, f"{kind}sync {name}: got {got.tolist()}, want {want}"
        assert result.stopped.tolist() == [b >= 0 for b in bad]
        assert result.errno == (errno.EIO if any(skipped) else 0)

    @rule(rings=st.lists(RING, min_size=1, max_size=MAX_RINGS, unique=True), sent=COUNTS)
    def txsync(self, rings: list[int], sent: list[int]) -> None:
        """NIOCTXSYNC on a batch of rings in one call, with a count per ring."""
        qs = sorted({r % self.rings for r in rings})
        sent = sent[: len(qs)]
        name = f"txsync_{self.policy}"
        accepted, done, bad, pre = [], [], [], []
        for q, cap in zip(qs, sent, strict=True):
            s = self.models["tx"][q]
            if self.stopped["tx"][q]:
                accepted.append(False)
                done.append(0)
                bad.append(-1)
                pre.append(None)
                continue
            want = self.handed_over("tx", q, name, sent=cap)
            k = self.good_prefix("tx", q, want)
            accepted.append(bool(caller_accepts(PROLOGUES["tx"](self.policy, s))))
            done.append(k)
            bad.append((s.hwcur + k) % s.n if k < want else -1)
            pre.append(s)
        result = self.adapter.txsync(qs, sent=sent)
        self.check_result("tx", result, qs, accepted, {"sent": done}, bad)
        for q, k, s in zip(qs, done, pre, strict=True):
            if s is None:
                continue
            self.step("tx", q, name, sent=k)
            self.expect["tx"]["flags"][q, ring_slots(s.hwcur, k, s.n)] &= ~NS_BUF_CHANGED
            self.after_sync("tx", q)

    @rule(rings=st.lists(RING, min_size=1, max_size=MAX_RINGS, unique=True), refill=COUNTS)
    def rxsync(self, rings: list[int], refill: list[int]) -> None:
        """NIOCRXSYNC on a batch of rings in one call, with a count per ring."""
        qs = sorted({r % self.rings for r in rings})
        refill = refill[: len(qs)]
        name = f"rxsync_{self.policy}"
        accepted, done, bad, reported, pre = [], [], [], [], []
        for q, cap in zip(qs, refill, strict=True):
            s = self.models["rx"][q]
            if self.stopped["rx"][q]:
                accepted.append(False)
                done.append(0)
                bad.append(-1)
                reported.append(0)
                pre.append(None)
                continue
            want = self.handed_over("rx", q, name, refill=cap)
            k = self.good_prefix("rx", q, want)
            post = RX.transitions[name](s, refill=k).post
            accepted.append(bool(caller_accepts(PROLOGUES["rx"](self.policy, s))))
            done.append(k)
            bad.append((s.hwcur + k) % s.n if k < want else -1)
            reported.append(int(ring_dist(s.hwtail, post.hwtail, s.n)))
            pre.append(s)
        result = self.adapter.rxsync(qs, refill=refill)
        self.check_result("rx", result, qs, accepted,
                          {"reported": reported, "refilled": done}, bad)
        ex = self.expect["rx"]
        for q, k, r, s in zip(qs, done, reported, pre, strict=True):
            if s is None:
                continue
            self.step("rx", q, name, refill=k)
            shown = ring_slots(s.hwtail, r, s.n)
            ex["len"][q, shown] = self.rx_len[q, shown]
            ex["flags"][q, shown] = 0
            ex["flags"][q, ring_slots(s.hwcur, k, s.n)] &= ~NS_BUF_CHANGED
            self.after_sync("rx", q)

    @rule(ring=RING, events=st.sampled_from((POLLIN, POLLOUT, POLLIN | POLLOUT)),
          txpoll=st.booleans(), lock_free=st.booleans())
    def poll(self, ring: int, events: int, txpoll: bool, lock_free: bool) -> None:
        """poll(2) on a handle bound to TX ring q and RX ring q, against
        model/netmap_poll.py: the revents, the waits and both rings afterwards.  In each
        pass the driver hands over the good prefix of what the model asks for (a retry
        pass asks for more only when the first pass was refused and reinit adopted a new
        head)."""
        q = ring % self.rings
        n = self.adapter.num_slots
        results, done, pre = {}, {}, {}
        for kind, bit in (("tx", POLLOUT), ("rx", POLLIN)):
            s = pre[kind] = self.models[kind][q]
            poll = POLLS[kind.upper()]

            stop = self.stopped[kind][q]

            def run(first: int, second: int, s: NetmapRing = s, poll: Any = poll,
                    bit: int = bit, stop: bool = stop) -> tuple[int, bool]:
                call = PollCall(bool(events & bit), txpoll, lock_free, first, second, stop)
                r = poll(self.policy, s, call)
                return int((r.post.hwcur - s.hwcur) % n), bool(r.first_refused)

            k1 = self.good_prefix(kind, q, run(n, 0)[0])
            both, refused = run(k1, n)
            k2 = self.good_prefix(kind, q, both, reinit=refused) - k1 if both > k1 else 0
            done[kind] = k1 + k2
            call = PollCall(bool(events & bit), txpoll, lock_free, k1, k2, stop)
            results[kind] = poll(self.policy, s, call)
        got = self.adapter.poll(events, q, q, txpoll=txpoll, lock_free=lock_free)
        ready = ((POLLOUT if results["tx"].ready else 0)
                 | (POLLIN if results["rx"].ready else 0))
        err = POLLERR if results["tx"].err or results["rx"].err else 0
        assert got.revents == ready | err, f"{got!r}, model: ready {ready:#x} err {err:#x}"
        record(f"poll: revents {got.revents:#x}")
        for kind, result in results.items():
            s, post = pre[kind], result.post
            self.models[kind][q] = post
            STATS["rules"][f"{kind}.poll_{self.policy}"] += 1
            ex = self.expect[kind]
            ex["flags"][q, ring_slots(s.hwcur, done[kind], n)] &= ~NS_BUF_CHANGED
            if kind == "rx":
                shown = ring_slots(s.hwtail, int(ring_dist(s.hwtail, post.hwtail, n)), n)
                ex["len"][q, shown] = self.rx_len[q, shown]
                ex["flags"][q, shown] = 0
            if result.synced:
                self.after_sync(kind, q)

    @rule(kind=KIND, ring=RING, stop=st.booleans())
    def stop_or_start(self, kind: str, ring: int, stop: bool) -> None:
        """nm_kr_stop(NM_KR_STOPPED) / nm_kr_start on one ring (the interface going down
        and up, a driver reset): while stopped, syncs skip it (EIO) and poll reports
        POLLERR; the ring itself does not change."""
        q = ring % self.rings
        (self.adapter.stop_rings if stop else self.adapter.start_rings)(kind, [q])
        self.stopped[kind][q] = stop
        STATS["rules"][f"{kind}.{'stop' if stop else 'start'}"] += 1

    @rule(kind=KIND, ring=RING)
    def ring_reinit(self, kind: str, ring: int) -> None:
        """netmap_ring_reinit on its own."""
        q = ring % self.rings
        self.adapter.ring_reinit(kind, [q])
        post = self.step(kind, q, f"ring_reinit_{self.policy}")
        if kind == "tx":  # head may move back (hardened: to rhead): unsynced frames go
            self.queued[q] = self.queued[q][: int(ring_dist(post.nic, post.head, post.n))]
        self.after_sync(kind, q)

    @rule(kind=KIND, ring=RING)
    def netmap_reset(self, kind: str, ring: int) -> None:
        """The driver reinitialises the NIC ring."""
        q = ring % self.rings
        pre = self.models[kind][q]
        self.adapter.netmap_reset(kind, [q])
        self.step(kind, q, "netmap_reset")
        if kind == "tx":  # in-flight and pending frames count as sent; they never will be
            regions = tx_regions(pre)
            self.queued[q] = self.queued[q][regions["in_flight"] + regions["pending"] :]
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
            ends = np.cumsum(wire.lengths())
            data = wire.data()
            mine = np.flatnonzero(wire.rings() == q)[self.on_wire[q]:]
            sent = [data[ends[i] - wire.lengths()[i] : ends[i]].tobytes() for i in mine]
            assert sent == self.queued[q][:k], f"tx ring {q}: wrong frames on the wire"
            self.queued[q] = self.queued[q][k:]
            self.on_wire[q] += k

    @rule(ring=RING, pick=PICK)
    def device_deliver(self, ring: int, pick: int) -> None:
        """The NIC receives k frames into posted RX buffers."""
        q = ring % self.rings
        k = self.admissible("rx", q, "device_deliver", pick)["k"]
        seq = np.arange(self.rx_seq[q], self.rx_seq[q] + k)
        self.rx_seq[q] += k
        frames, lengths = rx_frames(q, seq, self.BUF_SIZE)
        into = ring_slots(self.models["rx"][q].nic, k, self.adapter.num_slots)
        self.adapter.device_deliver([q], k, frames, lengths)
        self.step("rx", q, "device_deliver", k=k)
        self.rx_bytes[q, into] = frames
        self.rx_len[q, into] = lengths
        self.rx_known[q, into] = True

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
    def slots_hold_what_was_written(self) -> None:
        """buf_idx, len and flags of every slot of every ring, as the user reads them."""
        if self.adapter is None or not self.slots_trusted:
            return
        for kind, kr in (("tx", self.adapter.tx), ("rx", self.adapter.rx)):
            for f in SLOT_FIELDS:
                got = self.adapter.mem.slots[kr.base : kr.base + kr.count][f]
                want = self.expect[kind][f]
                assert np.array_equal(got, want), (
                    f"{kind} slot {f}: got {got.tolist()}, want {want.tolist()}"
                )

    @invariant()
    def user_sees_what_the_nic_delivered(self) -> None:
        """The bytes of every RX slot in [rhead, nic) are the frame delivered into it
        (except slots whose buffer the user has just forwarded to a TX ring)."""
        if self.adapter is None or not self.slots_trusted:
            return
        for q in range(self.rings):
            s = self.models["rx"][q]
            if not self.sane("rx", q):
                continue
            held = ring_slots(s.rhead, ring_dist(s.rhead, s.nic, s.n), s.n)
            held = held[self.rx_known[q, held]]
            if held.size == 0:
                continue
            length = self.rx_len[q, held]
            mask = np.arange(self.BUF_SIZE)[None, :] < length[:, None]
            got = self.adapter.mem.bufs[self.expect["rx"]["buf_idx"][q, held]]
            assert np.array_equal(got[mask], self.rx_bytes[q, held][mask]), (
                f"rx ring {q}: slots {held.tolist()} do not hold the frames delivered"
            )

    @invariant()
    def nic_owns_exactly_its_region(self) -> None:
        """The device's [head, tail) descriptors are the model's device region, each
        holding its slot's buffer (TX: and length)."""
        if self.adapter is None or not self.slots_trusted:
            return
        for kind in KINDS:
            kr, dev = self.adapter.krings(kind), self.adapter.device(kind)
            for q in range(self.rings):
                if not self.sane(kind, q):
                    continue
                region = device_region(kind, self.models[kind][q])
                nic_idx = dev.owned_descriptors(q)
                slots = kr.n2k(np.array([q]), nic_idx)
                assert slots.tolist() == region.tolist(), (
                    f"{kind} ring {q}: the NIC owns slots {slots.tolist()}, "
                    f"model: {region.tolist()}"
                )
                got = dev.desc_buf[q, nic_idx].astype(np.int64)
                want = self.expect[kind]["buf_idx"][q, region]
                assert got.tolist() == want.tolist(), (
                    f"{kind} ring {q}: NIC descriptors hold {got.tolist()}, "
                    f"slots {region.tolist()} hold {want.tolist()}"
                )
                if kind == "tx":
                    got_len = dev.desc_len[q, nic_idx].astype(np.int64)
                    assert got_len.tolist() == self.expect["tx"]["len"][q, region].tolist()

    @invariant()
    def buffers_conserved(self) -> None:
        if self.adapter is None:
            return
        nbufs = self.adapter.mem.nbufs
        owned = np.concatenate([self.adapter.device_buffers(kind, q)
                                for kind in KINDS for q in range(self.rings)])
        valid = (owned >= RESERVED_BUFS) & (owned < nbufs)
        # After slot scribbles a ring reset may post netmap's dummy buffer 0 (what PNMB
        # returns for an invalid index); anything else must be a real, unshared buffer.
        dummy = (owned == 0) & self.slots_scribbled
        assert (valid | dummy).all(), f"device owns invalid buffers {owned}"
        if self.slots_trusted:
            assert np.unique(owned).size == owned.size, f"device owns a buffer twice: {owned}"
            places = np.sort(self.adapter.buffer_places())
            assert np.array_equal(places, np.arange(RESERVED_BUFS, nbufs)), (
                "a buffer is lost or duplicated"
            )


class HardenedRings(NetmapRings):
    """The hardened policy: the implementation matches the model and no invariant ever
    breaks, whatever the user writes."""

    policy = HARDENED


class WellBehavedRings(HardenedRings):
    """The hardened machine with a user who follows the rules (no index or slot
    scribbles), so that the slot, data and NIC checks stay on for the whole run."""

    # Not rules of this machine (Hypothesis collects rules from the class attributes).
    user_scribble = user_overrun = scribble_slot = None

    @initialize(
        n=st.integers(2, 8),
        rings=st.integers(1, 2),
        start=st.sampled_from(("fresh", "rotated", "rotated", *BOUNDARY_SEEDS)),
        rotate=st.integers(1, 7),
    )
    def setup(self, n: int, rings: int, start: str, rotate: int) -> None:
        """As for the other machines, with at most two rings per direction (sequences
        that matter, e.g. a reset while the user holds slots then a refill, hit one ring
        more often) and rotated starts twice as likely."""
        super().setup(n, rings, start, rotate)


class AsShippedRings(NetmapRings):
    """The as-shipped policy: the implementation matches the faithful model; broken
    invariants are the findings (docs/findings.md) and are recorded, not failed."""

    policy = AS_SHIPPED

    def check_broken(self, kind: str, q: int, state: NetmapRing, broken: list[str]) -> None:
        for inv in broken:
            STATS["findings"][inv] += 1
            record(f"as-shipped admits: {inv}")
