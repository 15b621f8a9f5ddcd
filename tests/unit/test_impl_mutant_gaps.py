"""Behaviour of impl/netmap that mutation testing (mutmut over impl/netmap and impl/switch)
found no test looking at: what the reprs show (they are what a Hypothesis trace and the
stateful tests' "nothing changed" checks print), the wire log's reset, and the paths a
sync of one ring takes (Python ints instead of arrays) through the prologue checks and the
driver's stop at a bad slot."""

from __future__ import annotations

import re

import numpy as np
import pytest

from impl.netmap import AS_SHIPPED, HARDENED, NetmapAdapter, SoftRxDevice
from impl.netmap.prologue import POLICIES
from impl.netmap.prologue import head_cur_passes as impl_head_cur_passes
from impl.netmap.ranges import good_prefix
from impl.netmap.reinit import sanitize_slots
from model import netmap_sync as sync
from model.core import U32_MAX
from model.netmap_ring import RX, TX


def adapter_after_one_frame() -> NetmapAdapter:
    """One TX ring of 4 slots: the user queues two 5-byte frames, txsync hands both to the
    NIC, the NIC completes one."""
    a = NetmapAdapter(1, 1, 4, buf_size=16)
    a.user_fill(0, np.arange(10, dtype=np.uint8).reshape(2, 5))
    a.user_advance("tx", 0, 2)
    a.txsync()
    a.device_complete(0, 1)
    return a


def test_the_reprs_show_the_kring_and_device_state() -> None:
    """Krings list every kernel field and the user's head/cur/tail per ring; the soft NIC
    its registers; the wire log how many frames and bytes it holds."""
    a = adapter_after_one_frame()
    assert repr(a.tx) == (
        "Krings(kind='tx', count=1, num_slots=4, base=0, hwcur=[2], hwtail=[3], rhead=[2], "
        "rcur=[2], rtail=[3], nkr_hwofs=[0], ring_head=[2], ring_cur=[2], ring_tail=[3])"
    )
    assert repr(a.txdev) == "SoftTxDevice(count=1, num_slots=4, head=[1], tail=[2], owned=[1])"
    assert repr(a.rxdev) == "SoftRxDevice(count=1, num_slots=4, head=[0], tail=[3], owned=[3])"
    assert repr(a.wire) == "WireLog(frames=1, bytes=5)"


def test_clearing_the_wire_log_forgets_every_frame() -> None:
    """After ``clear`` the log is empty, and frames sent afterwards are numbered from 0."""
    a = adapter_after_one_frame()
    a.wire.clear()
    assert len(a.wire) == 0 and a.wire.lengths().size == 0 and a.wire.data().size == 0
    assert repr(a.wire) == "WireLog(frames=0, bytes=0)"
    a.device_complete(0, 1)
    assert len(a.wire) == 1 and a.wire.frame(0) == bytes(range(5, 10))


@pytest.mark.parametrize("policy", POLICIES)
def test_the_user_checks_agree_with_the_model_for_one_ring_and_a_batch(policy: str) -> None:
    """The prologues' head/cur checks (NM_FAIL_ON in nm_txsync_prologue /
    nm_rxsync_prologue, netmap.c L1744-1761 and L1807-1823) give the model's verdict
    (model.netmap_sync.head_cur_passes) for every head, cur and interval [lo .. hi] of a
    4-slot ring, head and cur also N and 2^32-1 -- computed on Python ints, as for a sync
    of one ring, and on arrays, as for a batch."""
    n = 4
    values = [*range(n), n, U32_MAX]
    cases = [(h, c, lo, hi) for h in values for c in values for lo in range(n)
             for hi in range(n)]
    expected = [bool(sync.head_cur_passes(policy, TX.init(n).replace(head=h, cur=c), lo, hi))
                for h, c, lo, hi in cases]
    one = [impl_head_cur_passes(policy, n, h, c, lo, hi) for h, c, lo, hi in cases]
    assert all(type(v) is bool for v in one)
    assert one == expected
    h, c, lo, hi = (np.array(col, dtype=np.int64) for col in zip(*cases, strict=True))
    assert impl_head_cur_passes(policy, n, h, c, lo, hi).tolist() == expected
    assert 0 < sum(expected) < len(expected)


@pytest.mark.parametrize("kind", ["tx", "rx"])
def test_one_ring_sync_hands_the_nic_the_slots_before_the_first_bad_one(kind: str) -> None:
    """The driver stops at the first slot without a real buffer also when one ring is
    synced (the single-ring path): TX sends slots 0..1 of the 5 published, RX gives back
    slots 0..1 of the 5 released, and reports slot 2; the model agrees once told how
    many slots the driver managed to hand over."""
    a = NetmapAdapter(1, 1, num_slots=8, buf_size=32)
    if kind == "rx":
        a.device_deliver(0, 6)
        a.rxsync(0)
    a.user_advance(kind, 0, 5)
    a.slots(kind, 0)["buf_idx"][2] = 1  # a reserved buffer
    before = a.abstract(kind, 0)
    res = a.txsync(0) if kind == "tx" else a.rxsync(0)
    handed = res.sent if kind == "tx" else res.refilled
    assert handed.tolist() == [2] and res.bad_slot.tolist() == [2] and res.stopped.all()
    machine, arg = (TX, "sent") if kind == "tx" else (RX, "refill")
    step = machine.transitions[f"{kind}sync_hardened"](before, **{arg: 2})
    assert step.post == a.abstract(kind, 0)
    if kind == "tx":  # the descriptors carry the buffers of the two slots sent
        slot_bufs = a.slots("tx", 0)["buf_idx"][:2].astype(np.int64)
        got = a.device_buffers("tx", 0)
        assert got.dtype == np.int64 and got.tolist() == slot_bufs.tolist()  # indices


def test_the_good_prefix_of_one_segment() -> None:
    """good_prefix for one ring (an ``int`` count): the slots before the first bad one,
    all of them if none is bad, none of none."""
    off = np.arange(5, dtype=np.int64)
    assert good_prefix(np.zeros(5, dtype=bool), 0, off, 5) == 5
    assert good_prefix(off == 3, 0, off, 5) == 3
    assert good_prefix(off >= 0, 0, off, 5) == 0
    assert good_prefix(np.zeros(0, dtype=bool), 0, off[:0], 0) == 0


def test_every_buffer_is_in_one_place_as_an_index() -> None:
    """``buffer_places`` lists buffer indices (int64): each of 2..nbufs-1 exactly once on
    a fresh adapter (the slots' own, then the free list)."""
    a = NetmapAdapter(2, 1, 4, buf_size=16, extra_bufs=3)
    places = a.buffer_places()
    assert places.dtype == np.int64
    assert np.sort(places).tolist() == list(range(2, a.mem.nbufs))


def test_a_loaded_tx_ring_sends_the_lengths_of_its_slots() -> None:
    """``load`` rewrites every TX descriptor from its slot, the length included, so the
    frames the device then sends are the slots' frames (model state from TX.init)."""
    a = NetmapAdapter(1, 0, 4, buf_size=16)
    a.slots("tx", 0)["len"][:] = [5, 9, 1, 16]
    state = TX.transitions["txsync_hardened"](
        TX.transitions["user_advance"](TX.init(4), dh=2, dc=0).post, sent=2).post
    a.load("tx", 0, state)
    assert a.abstract("tx", 0) == state
    a.device_complete(0, 2)
    assert a.wire.lengths().tolist() == [5, 9]


def test_frames_delivered_into_one_buffer_twice_leave_the_last() -> None:
    """Two posted descriptors that carry the same buffer (a user scribbled a slot's
    buf_idx): the device writes both frames in order, so the buffer holds the second
    (the DMA's "last write wins"); ``deliver`` returns one count per ring asked."""
    bufs = np.zeros((8, 4), dtype=np.uint8)
    dev = SoftRxDevice(1, 4, bufs)
    dev.desc_buf[0] = [2, 2, 3, 4]
    dev.doorbell(0, 3)
    frames = np.array([[1, 1, 1, 1], [2, 2, 2, 2]], dtype=np.uint8)
    got = dev.deliver(np.array([0]), 2, frames=frames)
    assert got.shape == (1,) and got.tolist() == [2]
    assert bufs[2].tolist() == [2, 2, 2, 2] and dev.desc_len[0, :2].tolist() == [4, 4]


def test_a_negative_refill_is_refused_by_name() -> None:
    """rxsync names the argument it refuses (as txsync does for ``sent``)."""
    a = NetmapAdapter(0, 2, 4, buf_size=16)
    with pytest.raises(ValueError, match=r"^refill must be >= 0, got -1$"):
        a.rxsync(0, refill=-1)
    with pytest.raises(ValueError, match=r"^refill must be >= 0, got \[1, -1\]$"):
        a.rxsync(refill=[1, -1])


@pytest.mark.parametrize("kind", ["tx", "rx"])
@pytest.mark.parametrize("adapter_policy,call_policy",
                         [(AS_SHIPPED, HARDENED), (HARDENED, AS_SHIPPED)])
def test_a_sync_runs_the_policy_it_is_given(kind: str, adapter_policy: str,
                                            call_policy: str) -> None:
    """A sync's ``policy=`` overrides the adapter's: on a ring where the user wrote a
    head / cur the prologue refuses, the ring ends as the model's sync of the policy
    asked for (the two policies end differently there)."""
    a = NetmapAdapter(1, 1, 8, buf_size=16, policy=adapter_policy)
    if kind == "rx":
        a.device_deliver(0, 3)
        a.rxsync(0)
        a.set_user_indices("rx", 0, head=5, cur=5)  # past tail
    else:
        a.set_user_indices("tx", 0, head=3, cur=2)  # cur before head
    before = a.abstract(kind, 0)
    machine, arg = (TX, "sent") if kind == "tx" else (RX, "refill")
    post = {p: machine.transitions[f"{kind}sync_{p}"](before, **{arg: 8}).post
            for p in POLICIES}
    assert post[AS_SHIPPED] != post[HARDENED]
    res = a.txsync(0, policy=call_policy) if kind == "tx" else a.rxsync(0, policy=call_policy)
    assert res.accepted.tolist() == [False]
    assert a.abstract(kind, 0) == post[call_policy]


def test_the_rx_refill_ignores_the_length_of_released_slots() -> None:
    """An RX slot goes back to the NIC as an empty buffer, whatever ``len`` the user left
    in it (the driver checks lengths on TX only): a len past the buffer size does not stop
    the refill, and the model's rxsync agrees."""
    a = NetmapAdapter(0, 1, 8, buf_size=16)
    a.device_deliver(0, 4)
    a.rxsync(0)
    a.user_advance("rx", 0, 4)
    a.slots("rx", 0)["len"][:4] = [16, 17, 999, 0]
    before = a.abstract("rx", 0)
    res = a.rxsync(0)
    assert res.refilled.tolist() == [4] and res.bad_slot.tolist() == [-1]
    assert a.abstract("rx", 0) == RX.transitions["rxsync_hardened"](before, refill=8).post


def test_the_tx_device_counts_and_refusals_name_the_operation() -> None:
    """``complete`` returns one count per ring asked (an array also for one ring) and
    refuses to complete more than it owns, saying so; txsync names a refused ``sent``."""
    a = NetmapAdapter(1, 0, 4, buf_size=16)
    a.user_advance("tx", 0, 2)
    a.txsync(0)
    with pytest.raises(ValueError, match=re.escape(
            "tx ring 0: cannot complete 3 descriptors, only 2 owned (head=0, tail=2)")):
        a.device_complete(0, 3)
    got = a.device_complete(0, 1)
    assert got.shape == (1,) and got.tolist() == [1]
    with pytest.raises(ValueError, match=r"^sent must be >= 0, got -2$"):
        a.txsync(0, sent=-2)


def test_reinit_repairs_bad_slots_and_counts_them_per_ring() -> None:
    """netmap_ring_reinit's slot loop (netmap.c L1847): a buf_idx below 2 or past the
    pool becomes 0 with len 0, an oversized len becomes 0, and the rest is kept;
    sanitize_slots reports how many slots it repaired on each ring."""
    a = NetmapAdapter(2, 0, 4, buf_size=16)
    slots = a.slots("tx", 0)
    good = slots["buf_idx"].astype(np.int64)
    slots["buf_idx"][:3] = [1, a.mem.nbufs, good[2]]
    slots["len"][:] = [5, 6, 17, 16]
    repaired = sanitize_slots(a.tx, np.array([0, 1]))
    assert repaired.dtype == np.int64 and repaired.tolist() == [3, 0]
    assert slots["buf_idx"].tolist() == [0, 0, good[2], good[3]]
    assert slots["len"].tolist() == [0, 0, 0, 16]
    assert sanitize_slots(a.tx, np.zeros(0, dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize("policy", POLICIES)
def test_ring_reinit_returns_one_reset_flag_per_ring(policy: str) -> None:
    """``ring_reinit`` answers a bool per ring asked, none for no ring; hardened always
    resets, as shipped only a ring with a user index past N-1 (netmap_ring_reinit's
    ``errors``, netmap.c L1847)."""
    a = NetmapAdapter(2, 0, 4, buf_size=16, policy=policy)
    none = a.ring_reinit("tx", [])
    assert none.shape == (0,) and none.dtype == bool
    a.set_user_indices("tx", 1, head=4)
    flags = a.ring_reinit("tx", [0, 1])
    assert flags.dtype == bool
    assert flags.tolist() == ([True, True] if policy == HARDENED else [False, True])


def test_the_soft_nic_generates_the_frames_its_seed_names() -> None:
    """The adapter's ``seed`` seeds the RX device's frame generator (default 0): the same
    seed gives the same frames, another seed others."""
    def frames(a: NetmapAdapter) -> list[int]:
        a.device_deliver(0, 5)
        a.rxsync(0)
        lengths, data = a.user_read(0)
        return [*lengths.tolist(), *data.tolist()]

    assert frames(NetmapAdapter(0, 1, 8, seed=7)) == frames(NetmapAdapter(0, 1, 8, seed=7))
    assert frames(NetmapAdapter(0, 1, 8)) == frames(NetmapAdapter(0, 1, 8, seed=0))
    assert frames(NetmapAdapter(0, 1, 8, seed=7)) != frames(NetmapAdapter(0, 1, 8, seed=8))
    assert "seed=7)" in repr(NetmapAdapter(0, 1, 8, seed=7))


def test_user_helpers_refuse_indices_and_moves_out_of_range() -> None:
    """nm_ring_space needs head and tail below N (tail == N is refused too); the user
    cannot move head or cur backwards; a bad head is named in the refusal."""
    a = NetmapAdapter(1, 0, 4, buf_size=16)
    a.set_user_indices("tx", 0, tail=4)
    with pytest.raises(ValueError, match=r"^tx ring 0: head=0 / tail=4 not slot indices$"):
        a.ring_space("tx", 0)
    a.set_user_indices("tx", 0, tail=3)
    for dh, dc in ((-1, 0), (0, -1)):
        with pytest.raises(ValueError, match="cannot advance by"):
            a.user_advance("tx", 0, dh, dc)
    assert a.user_indices("tx", 0) == (0, 0, 3)
    with pytest.raises(ValueError, match=re.escape(f"{{'head': {2**32}}}")):
        a.set_user_indices("tx", 0, head=2**32)


def test_one_tx_ring_sends_a_full_buffer_and_stops_at_an_oversized_one() -> None:
    """A slot whose len equals the buffer size is sent; one longer stops the driver (one
    ring, the single-ring path)."""
    a = NetmapAdapter(1, 0, 8, buf_size=16)
    a.user_advance("tx", 0, 3)
    a.slots("tx", 0)["len"][:3] = [16, 16, 17]
    res = a.txsync(0)
    assert res.sent.tolist() == [2] and res.bad_slot.tolist() == [2]


def test_the_device_names_the_ring_that_cannot_take_the_count() -> None:
    """complete on several rings: the refusal names the first ring asked for more than it
    owns (not one asked for exactly what it owns), and a negative count by its name."""
    a = NetmapAdapter(2, 0, 4, buf_size=16)
    a.user_advance("tx", 0, 1)
    a.user_advance("tx", 1, 1)
    a.txsync()
    with pytest.raises(ValueError, match=r"^tx ring 1: cannot complete 2 descriptors"):
        a.device_complete([0, 1], [1, 2])
    with pytest.raises(ValueError, match=r"^complete count must be >= 0, got -1$"):
        a.device_complete(0, -1)
