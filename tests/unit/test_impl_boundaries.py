"""The edges of impl/netmap's plumbing: the smallest and largest values each constructor
accepts, the first and last real buffer, freshly created krings as netmap_krings_create
leaves them (the model's init), and the kring <-> NIC index translation with an offset,
for one ring (Python ints) and for a batch (arrays).  Mutation testing found each of these
edges unchecked."""

from __future__ import annotations

import numpy as np
import pytest

from impl.netmap.bufpool import BufferPool
from impl.netmap.kring import Krings
from impl.netmap.mem import NetmapMemory
from model.netmap_ring import RX, TX


def test_the_smallest_and_largest_values_are_accepted() -> None:
    assert NetmapMemory(0, 2, 1, 2).num_rings == 0
    assert NetmapMemory(1, 8, 0xFFFF, 4).buf_size == 0xFFFF
    pool = BufferPool(2)  # only the two reserved buffers
    assert pool.nfree == 0 and pool.alloc(0).size == 0
    with pytest.raises(MemoryError):
        pool.alloc(1)


def test_buffers_two_to_nbufs_minus_one_are_real() -> None:
    mem = NetmapMemory(1, 8, 64, 10)
    assert mem.valid_buf(np.array([0, 1, 2, 9, 10])).tolist() == [False, False, True, True,
                                                                  False]
    assert mem.all_valid(np.array([2, 9]))
    assert not mem.all_valid(np.array([1, 5]))
    assert not mem.all_valid(np.array([5, 10]))
    assert mem.valid_buf([3]).dtype == bool
    assert sorted(mem.alloc(8).tolist()) == list(range(2, 10))


@pytest.mark.parametrize("kind,machine", [("tx", TX), ("rx", RX)])
def test_new_krings_are_the_model_init(kind: str, machine) -> None:  # type: ignore[no-untyped-def]
    n = 8
    mem = NetmapMemory(3, n, 64, 40)
    kr = Krings(kind, mem, 1, 2)
    init = machine.init(n)
    for name in ("hwcur", "hwtail", "rhead", "rcur", "rtail"):
        assert getattr(kr, name).tolist() == [getattr(init, name)] * 2, name
    assert kr.ring_head.tolist() == [init.head] * 2
    assert kr.ring_tail.tolist() == [init.tail] * 2
    assert mem.headers["num_slots"][1:].tolist() == [n, n]
    assert mem.headers["ringid"][1:].tolist() == [0, 1]
    assert kr.headers is not None and kr.headers.size == 2
    with pytest.raises(ValueError):
        kr._ids[0] = 5  # the ring id table is read-only


def test_index_translation_with_an_offset() -> None:
    kr = Krings("rx", NetmapMemory(2, 8, 64, 20), 0, 2)
    kr.nkr_hwofs[:] = [0, 3]
    assert kr.k2n(1, 2) == 7 and kr.n2k(1, 7) == 2
    assert kr.k2n(1, 5) == 2 and kr.n2k(1, 2) == 5
    rings = np.array([1, 1, 0])
    k = kr.k2n(rings, np.array([0, 4, 6]))
    assert k.tolist() == [5, 1, 6] and k.dtype == np.int64
    n = kr.n2k(rings, np.array([5, 1, 6]))
    assert n.tolist() == [0, 4, 6] and n.dtype == np.int64
    assert kr.n2k(1, np.array([7])).tolist() == [2]  # one ring, an array of indices
