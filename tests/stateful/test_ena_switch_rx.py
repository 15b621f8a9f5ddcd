"""The 2015 RFC's netmap switch on ENA's RX queues, in lockstep with
:mod:`model.netmap_switch` (``SWITCH_RX_RFC``).

A Hypothesis machine drives an ENA adapter (two queue pairs, rings of 2 or 4
descriptors) with netmap attached the RFC's way (``AdapterNetmap(strategy="rfc")``),
either RX exit (``rx_exit="wait"`` or ``"reset"``): frames arriving from the wire for
each queue (the device fills posted buffers or drops for want of one), IO interrupts
handled (the stack's RX cleanup, netmap's wake, or the exit's drain), rxsync with the
user releasing some of the slots it holds, NIOCREGIF, the last close (``reg(False)``:
the slots' buffers back, the drain, and with ``rx_exit="reset"`` the RX queues still
holding netmap buffers destroyed and created again -- also with frames arriving while
the first queue is destroyed, into the queues reset after it), and the drain called on
every queue.  A third of the runs start in netmap mode after busy rounds.

After every rule, for every RX queue, the queue read as a model state
(:func:`support.ena_switch_lockstep.abstract`, which also cross-checks the device's
descriptors against the driver) equals the model stepped through the transitions the
rule performed -- ``wire``, ``harvest``, ``release``, ``regif_rfc`` (with ENA's one
documented departure, :func:`support.ena_switch_lockstep.ena_regif`),
``unregif_rfc``, ``ring_reset_exit`` for each queue the reset exit reset, and
``leave_done`` -- and the model's invariants hold on it.  Beside the counts: every netmap
buffer of the registration is in exactly one place (and all of them in its allocator
when it ends), and every frame the stack or the netmap user received is one the wire
carried, received once, byte for byte.  At the end netmap is left, the exit driven to
its end, and the registration's memory is back with the device holding only the stack's
own buffers, and no reset was needed.

Driver policy: HARDENED.  As shipped, ENA's netmap refill count is the ENA-NM-RX-RING
finding of :mod:`model.ena_netmap` (the gap slot posted, nothing posted once the user
has released every slot), which this model's ``release`` does not describe:
``test_as_shipped_refill_departs_from_release`` shows the lockstep reporting it.
``test_the_reset_exit_in_lockstep`` drives both exits by hand through a close with
netmap buffers posted and completions waiting on both queues, and
``test_frames_racing_the_reset_exit_in_lockstep`` the reset exit reading completions
that arrived after the drain.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from support.ena_adapter_rig import adapter_rig
from support.ena_switch_lockstep import (
    MANY,
    Ghosts,
    SwitchLockstepError,
    abstract,
    all_back,
    compare,
    ena_regif,
    every_netmap_buffer_once,
    step,
)
from support.frames import frame

from impl.device.parse import parse
from impl.ena import nm_rfc
from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.rxq import RxResult
from impl.ena_defs.admin import DestroySqCmd
from impl.packets import PacketBatch
from model import netmap_switch as sw
from ringspec.ena_netmap_run import stack_frames

QUEUES = 2


def note(what: str) -> None:
    """A Hypothesis event, or nothing when the machine is driven by hand."""
    with contextlib.suppress(InvalidArgument):
        event(what)


class EnaSwitchRx(RuleBasedStateMachine):
    """ENA's RX queues across the RFC's enter and exit, checked against the model."""

    policy = Policy.HARDENED

    @initialize(rx_exit=st.sampled_from(["wait", "reset"]), n=st.sampled_from([2, 4]),
                rounds=st.integers(0, 2), data=st.data())
    def begin(self, rx_exit: str, n: int, rounds: int, data: st.DataObject) -> None:
        """A fresh adapter; with ``rounds`` > 0, already in netmap mode after that many
        busy rounds (so that closes with netmap buffers in the device are common)."""
        self.start(rx_exit, n)
        if rounds:
            self.enter()
            for _ in range(rounds):
                self.busy_round(data)

    def start(self, rx_exit: str, n: int) -> None:
        """A fresh adapter (two queue pairs, rings of ``n``), netmap attached the RFC's
        way but not registered."""
        rig = adapter_rig(adapter=AdapterConfig(ncpus=QUEUES, policy=self.policy),
                          attach=False)
        feats = rig.dev.features
        feats.limits = dataclasses.replace(feats.limits, max_queue_depth=n)
        assert rig.adapter.attach() == 0 and rig.adapter.up() == 0
        rig.dev.events.start()
        self.rig, self.dev, self.ad = rig, rig.dev, rig.adapter
        assert self.ad.num_io_queues == QUEUES and self.ad.rx_ring_size == n
        self.n = n
        self.an = AdapterNetmap(self.ad, strategy="rfc", rx_exit=rx_exit)
        self.blocks = rig.blocks()
        self.ghosts = [Ghosts() for _ in range(QUEUES)]
        self.models = [sw.init(n) for _ in range(QUEUES)]
        self.sent: set[bytes] = set()
        self.received: list[bytes] = []
        self.next_frame = 0
        self.ad.on_stack_rx = self._stack_rx
        self.rings: EnaNetmapRings | None = None
        self._check("start")

    # -- observing the implementation
    def _stack_rx(self, r: RxResult) -> None:
        """``if_input``: count per queue, keep the bytes."""
        for q in r.queue.tolist():
            self.ghosts[q].to_stack += 1
        self.received += stack_frames(r)

    def _read(self) -> list[sw.SwitchRx]:
        return [abstract(self.dev, self.an, q, self.ghosts[q]) for q in range(QUEUES)]

    def _check(self, what: str) -> None:
        """Every queue read equals its model, which keeps the invariants; the copies of
        netmap mode (the model's ghost) noted for after the close; and if the
        registration has just ended, all its buffers are back in its allocator."""
        self.broken = True  # until the checks pass: teardown then leaves it alone
        got = self._read()
        for q in range(QUEUES):
            compare(what, q, self.models[q], got[q])
            if got[q].mode == sw.NETMAP:
                self.ghosts[q].copies = got[q].copies
        if self.rings is not None and self.an.rings is not self.rings:
            all_back(self.rings)  # the registration ended: its buffers all came back
            note("a registration ended")
        self.rings = self.an.rings
        self.broken = False

    def _leave_done(self) -> None:
        self.models = [step("leave_done", s) for s in self.models]

    def _frames_for(self, q: int, k: int) -> PacketBatch:
        """``k`` new frames (each one descriptor long) that the device's RSS steers to
        RX queue ``q`` now."""
        drv = self.ad.driver
        assert drv is not None
        out: list[bytes] = []
        rx_sqs = np.flatnonzero(self.dev.queues.sq_used & (self.dev.queues.sq_dir == 1))
        while len(out) < k:
            cand = [frame("10.0.0.1", "10.0.0.2", 1000 + (self.next_frame + i) % 50000, 7,
                          proto=17, payload=(self.next_frame + i).to_bytes(4, "big") * 5)
                    for i in range(8 * (k + 1))]
            self.next_frame += len(cand)
            batch = PacketBatch.from_frames(cand)
            sq = self.dev.rss.queue(self.dev.rss.hash(parse(batch)), int(rx_sqs[0]))
            out += [f for f, s in zip(cand, sq.tolist(), strict=True)
                    if s == int(drv.sq_idx[q, 1])][:k - len(out)]
        self.sent.update(out)
        return PacketBatch.from_frames(out)

    # -- rules
    @rule(data=st.data())
    def wire(self, data: st.DataObject) -> None:
        """Frames for each queue reach the device, which fills posted buffers in ring
        order and drops the rest (``rx_no_buffer``): the model's ``wire``, the mix of
        buffer kinds (leaving) as the device took them."""
        for q in range(QUEUES):
            k = data.draw(st.integers(0, self.n + 1), label=f"frames for queue {q}")
            self.models[q] = step("wire", self.models[q], k=k, j=self._offer(q, k))
        self._check("wire")

    @rule()
    def interrupts(self) -> None:
        """The IO vectors that fired are handled: in netmap mode netmap's wake (nothing
        moves), otherwise the stack's RX cleanup or, while leaving, the exit's drain --
        every filled descriptor of those queues taken and refilled with an mbuf."""
        fired = self.rig.bus.msix.waiting(np.arange(1, QUEUES + 1))
        before = self._read()
        self.ad.handle_interrupts()
        after = self._read()
        for q in range(QUEUES):
            if fired[q] and before[q].mode != sw.NETMAP:
                j = before[q].ready_n - after[q].ready_n
                self.models[q] = step("harvest", self.models[q], k=MANY, j=j)
        self._leave_done()
        self._check("interrupts")

    @precondition(lambda self: self.an.port is not None)
    @rule(data=st.data())
    def rxsync(self, data: st.DataObject) -> None:
        """The user reads and releases ``k`` of the slots it holds on each ring, then
        NIOCRXSYNC: the completions are harvested (a packet in a stack mbuf copied into
        the slot's parked netmap buffer) and the released slots refilled."""
        port = self.an.port
        assert port is not None
        kr = port.rx
        ks = []
        for q in range(QUEUES):
            held = (int(kr.ring_tail[q]) - int(kr.ring_head[q])) % self.n
            ks.append(data.draw(st.one_of(st.just(held), st.integers(0, held)),
                                label=f"released on ring {q}"))
        self._sync(ks)

    def _sync(self, ks: list[int]) -> None:
        """The user reads and releases ``ks[q]`` slots of ring ``q``, then NIOCRXSYNC on
        every ring: the model's ``harvest`` (everything filled) then ``release``."""
        port = self.an.port
        assert port is not None
        kr, mem = port.rx, port.rings.mem
        read = []
        for q, k in enumerate(ks):
            for i in range(k):
                slot = (int(kr.ring_head[q]) + i) % self.n
                b, ln = int(kr.slot_buf_idx[q, slot]), int(kr.slot_len[q, slot])
                assert 2 <= b < mem.nbufs, f"the user holds slot {slot} with buffer {b}"
                read.append((q, mem.bufs[b, :ln].tobytes()))
            kr.ring_head[q] = kr.ring_cur[q] = (int(kr.ring_head[q]) + k) % self.n
        res = port.rxsync()
        assert res.rings.tolist() == list(range(QUEUES)) and res.frames is not None
        for i, q in enumerate(res.rings.tolist()):
            got = int(res.frames.packets[i])
            self.ghosts[q].to_user += got
            self.ghosts[q].since += got
            k = ks[q] if res.accepted[i] else 0
            if res.accepted[i]:  # the packets the user read and let go
                self.received += [b for rq, b in read if rq == q]
            else:  # ENA's nr_hwcur convention (impl.ena.nm_port): head must be nr_hwtail
                note("rxsync refused a partial release: nothing released")
            s = step("harvest", self.models[q], k=MANY, j=0)
            self.models[q] = step("release", s, k=k)
        self._check("rxsync")

    @precondition(lambda self: self.an.port is not None)
    @rule(data=st.data())
    def busy_round(self, data: st.DataObject) -> None:
        """A busy netmap user in one go: frames arrive, one rxsync takes them, the user
        reads and releases everything it holds, and a second rxsync refills (netmap
        buffers posted: what the exit then has to take back)."""
        self.wire(data)
        self._sync([0] * QUEUES)
        port = self.an.port
        assert port is not None
        kr = port.rx
        self._sync([(int(kr.ring_tail[q]) - int(kr.ring_head[q])) % self.n
                    for q in range(QUEUES)])

    @precondition(lambda self: not self.an.native)
    @rule()
    def enter(self) -> None:
        """NIOCREGIF the RFC's way: the interface stays up, the stack's posted mbufs stay
        posted with the slots' netmap buffers parked under them.  EBUSY while the
        previous registration is still leaving: nothing moves."""
        rc = self.an.reg(True)
        if rc == 0:
            self.models = [ena_regif(s) for s in self.models]
            for g in self.ghosts:
                g.since = g.copies = 0
        else:
            assert self.an.leaving, rc
            note("NIOCREGIF refused while leaving")
        self._check("enter")

    @precondition(lambda self: self.an.native)
    @rule()
    def leave(self) -> None:
        """The last close: the slots' and parked buffers back at once, the drain (every
        filled descriptor taken, netmap ones copied up the stack), and with the reset exit
        every RX queue still holding netmap buffers destroyed and created again (the
        model's ``ring_reset_exit``); then each ring is done once its NIC holds no netmap
        buffer."""
        self._close({})

    @precondition(lambda self: self.an.native and self.an.rx_exit == "reset")
    @rule(data=st.data())
    def leave_racing_the_reset(self, data: st.DataObject) -> None:
        """The close with the reset exit, frames arriving while the first RX queue is
        being destroyed: those for the queues reset after it land in their posted
        buffers (netmap ones first, in ring order), and their reset reads those
        completions up the stack before giving the buffers back (``ring_reset_exit``
        harvests ``ready``)."""
        drv = self.ad.driver
        assert drv is not None
        port = drv.port
        destroy_sq = port.destroy_sq
        raced: dict[int, tuple[int, int]] = {}

        def racing(cmd: DestroySqCmd) -> object:
            gone = int(np.flatnonzero(drv.sq_idx[:, 1] == cmd.sq_idx)[0])
            resp = destroy_sq(cmd)
            if not raced:
                rings = self.an.rings
                assert rings is not None
                for q in nm_rfc.rx_holding(rings).tolist():
                    if q != gone:
                        k = data.draw(st.integers(1, self.n), label=f"racing frames, queue {q}")
                        raced[q] = (k, self._offer(q, k))
            return resp
        port.destroy_sq = racing  # type: ignore[method-assign]
        try:
            self._close(raced)
        finally:
            del port.destroy_sq
        if raced:
            note("frames raced the reset exit into a queue reset later")

    def _close(self, raced: dict[int, tuple[int, int]]) -> None:
        """``reg(False)`` and the model beside it: ``unregif_rfc``, the drain's
        ``harvest``, frames that ``raced`` the reset exit into queue ``q`` (``(k, j)``),
        ``ring_reset_exit`` for each queue the reset exit reset, ``leave_done``."""
        rings = self.an.rings
        assert rings is not None
        resets = rings.ring_resets.copy()
        assert self.an.reg(False) == 0
        self.models = [step("harvest", step("unregif_rfc", s), k=MANY, j=MANY)
                       for s in self.models]
        for q, (k, j) in raced.items():
            self.models[q] = step("wire", self.models[q], k=k, j=j)
        for q in np.flatnonzero(rings.ring_resets != resets).tolist():
            note("the reset exit reset an RX queue")
            self.models[q] = step("ring_reset_exit", self.models[q])
        if self.an.rx_exit == "reset":
            assert not self.an.leaving  # no netmap TX in flight: the exit ends inside
        self._leave_done()
        self._check("leave")

    @precondition(lambda self: self.an.leaving)
    @rule()
    def drain(self) -> None:
        """The exit's drain on every queue (as an interrupt on each would run it)."""
        self.an.drain(np.arange(QUEUES))
        self.models = [step("harvest", s, k=MANY, j=MANY) for s in self.models]
        self._leave_done()
        self._check("drain")

    # -- checks beside the lockstep
    @invariant()
    def buffers_and_frames(self) -> None:
        """Every netmap buffer in one place; every frame received was sent, once."""
        if not hasattr(self, "an"):
            return
        every_netmap_buffer_once(self.an)
        assert len(set(self.received)) == len(self.received), "a frame received twice"
        assert set(self.received) <= self.sent, "a frame received that was never sent"
        for s in self.models:
            if s.mode == sw.NETMAP and s.copies > 0:
                note("rxsync copied out of a stack mbuf")
            if s.mode == sw.LEAVING:
                note("leaving with netmap buffers in the device")

    def teardown(self) -> None:
        """Leave netmap, bring the exit to its end (waiting: traffic into every queue
        still holding netmap buffers), and check nothing leaked: the registration's
        memory is back, no reset was needed, and the device holds the stack's buffers
        only (:func:`support.ena_switch_lockstep.abstract` checks every descriptor)."""
        if not hasattr(self, "an") or self.broken:
            return
        if self.an.native:
            self.leave()
        for _ in range(4):
            if not self.an.leaving:
                break
            for q in range(QUEUES):  # a ring's worth: every netmap buffer posted is filled
                self.models[q] = step("wire", self.models[q], k=self.n, j=self._offer(q, self.n))
            self._check("wire (teardown)")
            self.interrupts()
        assert not self.an.leaving and self.an.rings is None and not self.an.native
        assert self.rig.blocks() == self.blocks, "the registration's memory was not freed"
        assert not self.ad.reset.triggered and not self.ad.stats.total_resets
        assert all(s.mode == sw.STACK and s.pool == self.n for s in self._read())

    def _offer(self, q: int, k: int) -> int:
        """``k`` frames for queue ``q`` reach the device, which takes them at once;
        returns how many landed in netmap buffers (the ``j`` of the model's ``wire``).
        Only queue ``q`` is read: another may be half destroyed by the reset exit."""
        before = abstract(self.dev, self.an, q, self.ghosts[q])
        stats = self.dev.stats
        nobuf, noq = stats.rx_no_buffer, stats.rx_no_queue
        self.dev.receive(self._frames_for(q, k))
        self.dev.rx()
        assert stats.rx_no_queue == noq  # no frame meets a destroyed queue
        self.ghosts[q].offered += k
        self.ghosts[q].nobuf += stats.rx_no_buffer - nobuf
        return abstract(self.dev, self.an, q, self.ghosts[q]).ready_n - before.ready_n

TestEnaSwitchRx = EnaSwitchRx.TestCase
TestEnaSwitchRx.settings = settings(max_examples=100, stateful_step_count=25)


class Scripted:
    """A fixed sequence of draws for driving the machine by hand."""

    def __init__(self, *values: int) -> None:
        self.values = list(values)

    def draw(self, strategy: object, label: str | None = None) -> int:
        return self.values.pop(0)


def test_the_reset_exit_in_lockstep() -> None:
    """By hand, on both exits: netmap buffers posted on both queues, a frame filled in
    each, the close (the reset exit resets both queues, ``ring_reset_exit``; waiting
    leaves them leaving), then traffic ends the wait; every step checked."""
    for rx_exit in ("reset", "wait"):
        m = EnaSwitchRx()
        m.start(rx_exit=rx_exit, n=4)
        m.enter()
        m.busy_round(Scripted(2, 3))  # type: ignore[arg-type]
        m.wire(Scripted(1, 1))  # type: ignore[arg-type]
        assert [s.ready_m + s.ready_n for s in m.models] == [1, 1]
        m.leave()
        modes = [s.mode for s in m.models]
        assert modes == ([sw.STACK] * 2 if rx_exit == "reset" else [sw.LEAVING] * 2)
        m.teardown()
        assert [s.mode for s in m.models] == [sw.STACK] * 2


def test_as_shipped_refill_departs_from_release() -> None:
    """As shipped, ENA's refill count posts the gap slot when ``nr_hwcur == nr_hwtail``
    (ENA-NM-RX-RING of :mod:`model.ena_netmap`): on a 2-slot ring, the rxsync that hands
    the user the one packet and releases nothing also posts the gap slot's netmap buffer,
    which the model's ``release`` of 0 does not -- the lockstep reports exactly that
    count (posted + user would be N, one more than SW-RX-SLOTS allows)."""

    class AsShipped(EnaSwitchRx):
        policy = Policy.SHIPPED

    m = AsShipped()
    m.start(rx_exit="wait", n=2)
    m.enter()
    m.wire(Scripted(0, 1))  # type: ignore[arg-type]
    with pytest.raises(SwitchLockstepError, match=r"\{'posted_n': \(1, 0\)\}"):
        m.rxsync(Scripted(0, 0))  # type: ignore[arg-type]


def test_frames_racing_the_reset_exit_in_lockstep() -> None:
    """By hand: netmap buffers posted on both queues, the close with the reset exit, and
    two frames for queue 1 arriving while queue 0 is being destroyed: they land in queue
    1's netmap buffers and its own reset reads them up the stack (``ring_reset_exit``
    harvesting ``ready``), every step checked."""
    m = EnaSwitchRx()
    m.start(rx_exit="reset", n=4)
    m.enter()
    m.busy_round(Scripted(2, 3))  # type: ignore[arg-type]
    assert [s.posted_n for s in m.models] == [2, 3]
    m.leave_racing_the_reset(Scripted(2))  # type: ignore[arg-type]
    assert [s.to_stack for s in m.models] == [0, 2]
    assert [(s.mode, s.pool, s.posted_m) for s in m.models] == [(sw.STACK, 4, 3)] * 2
    m.teardown()
