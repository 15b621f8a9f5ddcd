"""Edges of the adapter's user and test-support API that mutation testing (mutmut over
impl/) showed no test looked at: argument bounds, empty results and their dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from impl.netmap import NetmapAdapter, NetmapNoMemError, WireLog
from model.core import U32_MAX
from model.netmap_ring import RX, TX


def test_user_read_bounds_and_head() -> None:
    a = NetmapAdapter(0, 1, 8, buf_size=16)
    fr = np.arange(48, dtype=np.uint8).reshape(3, 16)
    a.device_deliver(0, 3, fr, np.array([16, 5, 7]))
    a.rxsync(0)
    lengths, data = a.user_read(0, 0)
    assert lengths.size == 0 and data.size == 0
    for k in (-1, 4):
        with pytest.raises(ValueError):
            a.user_read(0, k)
    a.user_advance("rx", 0, 1, 1)  # head = 1, cur = 2: reading starts at head
    lengths, data = a.user_read(0, 1)
    assert lengths.tolist() == [5] and data.tolist() == fr[1, :5].tolist()


def test_empty_wire_log() -> None:
    w = WireLog()
    for arr, dtype in ((w.rings(), np.int64), (w.bufs(), np.int64),
                       (w.lengths(), np.int64), (w.data(), np.uint8)):
        assert arr.shape == (0,) and arr.dtype == dtype
    assert len(w) == 0


def test_buffer_bounds() -> None:
    a = NetmapAdapter(1, 0, 4, buf_size=16)
    assert a.buffer(0).shape == (16,) and a.buffer(a.mem.nbufs - 1).shape == (16,)
    for bad in (-1, a.mem.nbufs):
        with pytest.raises(ValueError):
            a.buffer(bad)


def test_user_fill_checks_lengths() -> None:
    a = NetmapAdapter(1, 0, 4, buf_size=16)
    fr = np.ones((2, 8), dtype=np.uint8)
    for lengths in ([-1, 3], [3, 9], [3], [[3, 3]]):
        with pytest.raises(ValueError):
            a.user_fill(0, fr, np.array(lengths))
    a.user_fill(0, fr, np.array([0, 8]))  # an empty frame is fine
    assert a.slots("tx", 0)["len"][:2].tolist() == [0, 8]


def test_load_validates_and_posts_empty_rx_buffers() -> None:
    a = NetmapAdapter(1, 1, 4, buf_size=16)
    good = TX.init(4)
    for bad in (good.replace(hwcur=4), good.replace(nic=4), good.replace(rcur=U32_MAX + 1),
                good.replace(busy=-1)):
        with pytest.raises(ValueError):
            a.load("tx", 0, bad)
    a.load("tx", 0, good.replace(rcur=U32_MAX))  # any u32 rcur is accepted
    a.slots("rx", 0)["len"][:] = 9
    state = RX.init(4).replace(nic=2, busy=1)  # slots 0, 1 filled, not yet reported
    a.load("rx", 0, state)
    assert a.rxdev.desc_len[0].tolist() == [0, 0, 0, 0]  # nothing received into them
    assert a.rxsync(0).reported.tolist() == [2]
    assert a.slots("rx", 0)["len"][:2].tolist() == [0, 0]


def test_no_memory_error_fields() -> None:
    a = NetmapAdapter(1, 0, 2, buf_size=16, extra_bufs=1)
    with pytest.raises(NetmapNoMemError) as err:
        a.mem.alloc(2)
    assert (err.value.wanted, err.value.available) == (2, 1)
    assert "ENOMEM" in str(err.value)
