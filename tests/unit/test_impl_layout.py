"""impl.netmap layouts, shared-memory aliasing and the buffer allocator."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from impl.netmap import (
    NETMAP_API,
    NETMAP_RING_DTYPE,
    NETMAP_SLOT_DTYPE,
    NR_FORWARD,
    NR_TIMESTAMP,
    NS_BUF_CHANGED,
    NS_FORWARD,
    NS_INDIRECT,
    NS_MOREFRAG,
    NS_NO_LEARN,
    NS_PORT_SHIFT,
    NS_REPORT,
    NS_TXMON,
    BufferPool,
    NetmapAdapter,
    NetmapMemory,
    NetmapNoMemError,
)

# utils/ctrl-api-test.c:binarycomp() (netmap's own ABI test)
RING_OFFSETS = {
    "buf_ofs": 0, "num_slots": 8, "nr_buf_size": 12, "ringid": 16, "dir": 18, "head": 20,
    "cur": 24, "tail": 28, "flags": 32, "ts": 40, "offset_mask": 56, "buf_align": 64,
    "sem": 128,
}
RING_SIZES = {
    "buf_ofs": 8, "num_slots": 4, "nr_buf_size": 4, "ringid": 2, "dir": 2, "head": 4,
    "cur": 4, "tail": 4, "flags": 4, "ts": 16, "offset_mask": 8, "buf_align": 8, "sem": 128,
}


def test_ring_header_abi() -> None:
    assert NETMAP_RING_DTYPE.itemsize == 256
    for name, off in RING_OFFSETS.items():
        assert NETMAP_RING_DTYPE.fields[name][1] == off, name
        assert NETMAP_RING_DTYPE.fields[name][0].itemsize == RING_SIZES[name], name
    ts = NETMAP_RING_DTYPE.fields["ts"][0]
    assert ts.fields["tv_sec"][1] == 0 and ts.fields["tv_usec"][1] == 8
    for name in ("head", "cur", "tail", "num_slots"):
        assert NETMAP_RING_DTYPE.fields[name][0] == np.dtype("<u4")
    assert NETMAP_RING_DTYPE.fields["buf_ofs"][0] == np.dtype("<i8")


def test_slot_abi() -> None:
    assert NETMAP_SLOT_DTYPE.itemsize == 16
    expect = {"buf_idx": (0, "<u4"), "len": (4, "<u2"), "flags": (6, "<u2"), "ptr": (8, "<u8")}
    for name, (off, fmt) in expect.items():
        assert NETMAP_SLOT_DTYPE.fields[name][1] == off
        assert NETMAP_SLOT_DTYPE.fields[name][0] == np.dtype(fmt)


def test_constants() -> None:
    assert (NS_BUF_CHANGED, NS_REPORT, NS_FORWARD, NS_NO_LEARN) == (1, 2, 4, 8)
    assert (NS_INDIRECT, NS_MOREFRAG, NS_TXMON, NS_PORT_SHIFT) == (0x10, 0x20, 0x40, 8)
    assert (NR_TIMESTAMP, NR_FORWARD, NETMAP_API) == (2, 4, 14)


def test_arena_aliasing_headers_and_slots() -> None:
    mem = NetmapMemory(num_rings=3, num_slots=5, buf_size=32, nbufs=20)
    assert mem.stride == 256 + 16 * 5
    mem.headers[2]["head"] = 0x11223344
    off = 2 * mem.stride + 20
    assert bytes(mem.arena[off : off + 4]) == (0x11223344).to_bytes(4, "little")
    mem.slots[1, 3]["buf_idx"] = 0xA1B2C3D4
    mem.slots[1, 3]["len"] = 0x0102
    off = 1 * mem.stride + 256 + 3 * 16
    assert bytes(mem.arena[off : off + 6]) == bytes([0xD4, 0xC3, 0xB2, 0xA1, 0x02, 0x01])
    # Writing raw bytes shows up in the field views (both directions alias).
    mem.arena[off + 6 : off + 8] = [0x20, 0x00]
    assert mem.slot_flags[1, 3] == NS_MOREFRAG
    # Nothing else changed: the only non-zero bytes are the ones written above.
    assert np.count_nonzero(mem.arena) == 4 + 6 + 1


def test_buf_ofs_locates_buffers() -> None:
    """NETMAP_BUF(ring, i) = (char *)ring + ring->buf_ofs + i * nr_buf_size; the host
    TX and RX rings (memory rings 5 and 6) carry the ring ids after the hardware rings."""
    a = NetmapAdapter(2, 3, num_slots=4, buf_size=64)
    assert a.mem.num_rings == 7
    for r, (direction, ringid) in enumerate(
        [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (0, 2), (1, 3)]
    ):
        hdr = a.mem.headers[r]
        assert hdr["nr_buf_size"] == 64 and hdr["num_slots"] == 4
        assert (hdr["dir"], hdr["ringid"]) == (direction, ringid)
        start = r * a.mem.stride + int(hdr["buf_ofs"]) + 7 * 64
        a.mem.bufs[7, :3] = [r + 1, 2, 3]
        assert list(a.mem.arena[start : start + 3]) == [r + 1, 2, 3]


def test_initial_buffers_distinct_and_places_complete() -> None:
    a = NetmapAdapter(2, 2, num_slots=6, buf_size=32, extra_bufs=5)
    idx = a.mem.slot_buf_idx.astype(np.int64).ravel()
    assert np.unique(idx).size == idx.size == (4 + 2) * 6  # hardware rings, host rings
    assert idx.min() >= 2
    places = np.sort(a.buffer_places())
    assert np.array_equal(places, np.arange(2, a.mem.nbufs))
    assert a.mem.pool.nfree == 5


def test_alloc_free_errors() -> None:
    pool = BufferPool(8)
    got = pool.alloc(3)
    assert got.tolist() == [2, 3, 4]
    with pytest.raises(NetmapNoMemError) as exc:
        pool.alloc(4)
    assert exc.value.errno == errno.ENOMEM and pool.nfree == 3
    for bad in ([0], [1], [8], [-1]):
        with pytest.raises(ValueError):
            pool.free(np.array(bad))
    with pytest.raises(ValueError, match="already free"):
        pool.free(np.array([5]))
    with pytest.raises(ValueError, match="twice"):
        pool.free(np.array([2, 2]))
    assert pool.nfree == 3  # failed frees change nothing
    pool.free(np.array([3, 2]))
    assert pool.nfree == 5
    again = pool.alloc(5)
    assert sorted(again.tolist()) == [2, 3, 5, 6, 7]
    with pytest.raises(NetmapNoMemError):
        pool.alloc(1)
    with pytest.raises(ValueError):
        pool.alloc(-1)


def test_adapter_alloc_is_vectorized_pool() -> None:
    a = NetmapAdapter(1, 1, num_slots=4, buf_size=16, extra_bufs=3)
    got = a.mem.alloc(3)
    assert not np.isin(got, a.mem.slot_buf_idx).any()
    with pytest.raises(NetmapNoMemError):
        a.mem.alloc(1)
    a.mem.free(got)
    with pytest.raises(ValueError, match="already free"):
        a.mem.free(got[:1])
    assert np.array_equal(np.sort(a.buffer_places()), np.arange(2, a.mem.nbufs))


def test_user_index_writes_are_u32() -> None:
    a = NetmapAdapter(1, 1, num_slots=4, buf_size=16)
    a.set_user_indices("tx", 0, head=2**32 - 1, cur=7, tail=0)
    assert a.user_indices("tx", 0) == (2**32 - 1, 7, 0)
    with pytest.raises(ValueError):
        a.set_user_indices("tx", 0, head=1, cur=2**32)
    with pytest.raises(ValueError):
        a.set_user_indices("rx", 0, tail=-1)
    assert a.user_indices("tx", 0) == (2**32 - 1, 7, 0)  # nothing written on error
    assert a.mem.headers[0]["head"] == 2**32 - 1
