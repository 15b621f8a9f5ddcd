"""Bad input to impl/netmap gets an error that says what was wrong -- the exact message,
values included -- and changes nothing.

The messages are part of the interface (they are what a user reads in a Hypothesis
failure or a traceback); mutation testing showed that the suite checked that each call
raised, but never what it said."""

from __future__ import annotations

import re

import numpy as np
import pytest

from impl.netmap import NetmapAdapter
from impl.netmap.bufpool import BufferPool
from impl.netmap.kring import Krings
from impl.netmap.mem import NetmapMemory
from impl.netmap.prologue import check_policy
from impl.netmap.ranges import as_counts
from impl.netmap.softdev import SoftRxDevice
from model.netmap_ring import NetmapRing


def raises(message: str):  # type: ignore[no-untyped-def]
    return pytest.raises(ValueError, match=f"^{re.escape(message)}$")


@pytest.fixture
def ad() -> NetmapAdapter:
    return NetmapAdapter(2, 2, 8, buf_size=64)


def test_constructors_name_the_bad_argument() -> None:
    with raises("num_rings must be >= 0, got -1"):
        NetmapMemory(-1, 8, 64, 16)
    with raises("num_slots must be >= 2, got 1"):
        NetmapMemory(1, 1, 64, 16)
    with raises("buf_size must be in 1..65535 (slot len is u16), got 65536"):
        NetmapMemory(1, 8, 65536, 16)
    with raises("buf_size must be in 1..65535 (slot len is u16), got 0"):
        NetmapMemory(1, 8, 0, 16)
    with raises("nbufs must be >= 2, got 1"):
        BufferPool(1)
    with raises("extra_bufs must be >= 0, got -1"):
        NetmapAdapter(1, 1, 8, extra_bufs=-1)
    with raises("policy must be one of ('as_shipped', 'hardened'), got 'strict'"):
        check_policy("strict")


def test_krings_must_fit_the_memory() -> None:
    mem = NetmapMemory(3, 8, 64, 40)
    with raises("kind must be one of ('tx', 'rx'), got 'host'"):
        Krings("host", mem, 0, 1)
    with raises(f"rings 2..3 not in memory {mem!r}"):
        Krings("tx", mem, 2, 2)
    with raises(f"rings -1..0 not in memory {mem!r}"):
        Krings("tx", mem, -1, 2)
    with raises(f"rings 0..-2 not in memory {mem!r}"):
        Krings("tx", mem, 0, -1)
    assert Krings("rx", mem, 1, 2).count == 2  # the last rings fit exactly


def test_ring_ids_are_checked(ad: NetmapAdapter) -> None:
    with raises("ring ids must be a 1-D integer array, got [[0]]"):
        ad.tx.check_rings([[0]])
    with raises("ring ids must be a 1-D integer array, got [0.5]"):
        ad.tx.check_rings([0.5])
    with raises("tx ring id out of range 0..1: [2]"):
        ad.tx.check_rings([2])
    with raises("rx ring id out of range 0..1: -1"):
        ad.rx.check_rings(-1)
    with raises("ring ids repeated in one batch: [1, 1]"):
        ad.tx.check_rings([1, 1])
    assert ad.tx.check_rings([]).size == 0
    assert ad.tx.check_rings(np.array([], dtype=float)).size == 0  # empty: no dtype issue


def test_counts_are_checked() -> None:
    rings = np.arange(2)
    with raises("sent must be integers, got [0.5, 1.0]"):
        as_counts(rings, [0.5, 1.0], "sent")
    with raises("sent must be a scalar or one count per ring, got [1, 2, 3]"):
        as_counts(rings, [1, 2, 3], "sent")
    with raises("sent must be >= 0, got -1"):
        as_counts(rings, -1, "sent")
    assert as_counts(rings, [3, 0], "sent").tolist() == [3, 0]


def test_user_calls_say_what_is_wrong_and_change_nothing(ad: NetmapAdapter) -> None:
    before = repr(ad), ad.mem.arena.copy()
    with raises("kind must be one of ('tx', 'rx'), got 'host'"):
        ad.krings("host")
    with raises("tx ring 2 out of range 0..1"):
        ad.user_indices("tx", 2)
    with raises(f"ring indices are u32: {{'cur': {2**32}}} out of 0..{2**32 - 1}"):
        ad.set_user_indices("tx", 0, head=1, cur=2**32)
    with raises("buffer index -1 out of range 0.." + str(ad.mem.nbufs - 1)):
        ad.buffer(-1)
    space = ad.ring_space("tx", 0)
    with raises(f"tx ring 0: cannot advance by {space}+1 with space {space}"):
        ad.user_advance("tx", 0, space, 1)
    with raises("lengths must give one length <= row width per frame"):
        ad.user_fill(0, np.zeros((2, 10), np.uint8), np.array([4, 11]))
    with raises("frame longer than the buffer size 64"):
        ad.user_fill(0, np.zeros((1, 65), np.uint8))
    with raises(f"tx ring 0: {space + 1} frames do not fit in the user's free slots"):
        ad.user_fill(0, np.zeros((space + 1, 4), np.uint8))
    with raises("rx ring 1: only 0 received slots"):
        ad.user_read(1, 1)
    assert (repr(ad), ad.mem.arena.tobytes()) == (before[0], before[1].tobytes())
    ad.set_user_indices("tx", 0, head=8)
    with raises("tx ring 0: head=8 / tail=7 not slot indices"):
        ad.ring_space("tx", 0)


def test_slots_without_a_valid_buffer_are_refused(ad: NetmapAdapter) -> None:
    ad.slots("tx", 1)["buf_idx"][0] = ad.mem.nbufs  # a scribbled index
    with raises("tx ring 1: a slot in [head, head+2) has no valid buffer"):
        ad.user_fill(1, np.ones((2, 4), np.uint8))
    ad.device_deliver(0, 3)
    ad.rxsync()
    ad.slots("rx", 0)["buf_idx"][1] = 0  # buffer 0 is reserved
    with raises("rx ring 0: a slot in [head, head+2) has no valid buffer"):
        ad.user_read(0, 2)


def test_load_refuses_states_of_another_ring(ad: NetmapAdapter) -> None:
    s = NetmapRing(n=8, head=0, cur=0, tail=7, hwcur=0, hwtail=7, rhead=0, rcur=0, rtail=7,
                   nic=0, busy=0)
    with raises("state has n=9, ring has 8 slots"):
        ad.load("tx", 0, s.replace(n=9))
    with raises("nic=8 is not a slot index"):
        ad.load("tx", 0, s.replace(nic=8))
    bad = s.replace(busy=-1)
    with raises(f"rcur / busy out of range in {bad!r}"):
        ad.load("tx", 0, bad)
    ad.load("tx", 0, s)
    assert ad.abstract("tx", 0) == s


def test_the_soft_nic_checks_what_it_is_given() -> None:
    dev = SoftRxDevice(2, 8, np.zeros((32, 64), np.uint8), gen_max_len=60)
    dev.desc_buf[:] = np.arange(16).reshape(2, 8) + 2
    dev.doorbell(np.arange(2), np.array([7, 7]))
    one = np.array([0])
    with raises("rx ring 0: cannot deliver 8 descriptors, only 7 owned (head=0, tail=7)"):
        dev.deliver(one, 8)
    with raises("frames must have shape (2, width), got (3, 4)"):
        dev.deliver(one, 2, frames=np.zeros((3, 4), np.uint8))
    with raises("frames must have shape (2, width), got (2,)"):
        dev.deliver(one, 2, frames=np.zeros(2, np.uint8))
    with raises("lengths must have shape (2,), got (1,)"):
        dev.deliver(one, 2, lengths=np.array([3]))
    with raises("frame lengths must be in 0..64"):
        dev.deliver(one, 2, lengths=np.array([3, 65]))
    with raises("a frame length exceeds the width of its row"):
        dev.deliver(one, 2, frames=np.zeros((2, 4), np.uint8), lengths=np.array([4, 5]))
    assert dev.head.tolist() == [0, 0]  # nothing taken


def test_generated_frames_span_the_lengths_and_bytes_allowed() -> None:
    """Frames the soft NIC makes up: lengths over all of 1..gen_max_len, bytes over all of
    0..255, and the per-ring counts it returns (0 for rings not asked)."""
    dev = SoftRxDevice(3, 1024, np.zeros((4096, 8), np.uint8), gen_max_len=8)
    dev.desc_buf[:] = np.arange(3 * 1024).reshape(3, 1024) + 2
    dev.doorbell(np.arange(3), np.array([1023, 1023, 1023]))
    counts = dev.deliver(np.array([0, 2]), np.array([1000, 900]))
    assert counts.tolist() == [1000, 900] and counts.dtype == np.int64
    lengths = np.concatenate([dev.desc_len[0, :1000], dev.desc_len[2, :900]])
    assert lengths.min() == 1 and lengths.max() == 8
    written = dev.bufs[dev.desc_buf[0, :1000]][np.arange(8) < dev.desc_len[0, :1000, None]]
    assert set(np.unique(written).tolist()) == set(range(256))


def test_freeing_buffers_twice_or_out_of_range_is_refused() -> None:
    pool = BufferPool(8)
    got = pool.alloc(3)
    with raises("cannot free buffer 1: valid indices are 2..7"):
        pool.free(np.array([got[0], 1]))
    with raises("double free: a buffer index appears twice in one free() call"):
        pool.free(np.array([got[0], got[0]]))
    pool.free(got[:1])
    with raises(f"double free: buffer {got[0]} is already free"):
        pool.free(got[:2])
    with raises("cannot allocate a negative number of buffers (-1)"):
        pool.alloc(-1)
    assert pool.nfree == 4 and not pool.is_free[got[1:]].any()  # nothing changed
