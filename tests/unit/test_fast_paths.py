"""The datapath's shortcuts give what the general code gives: :mod:`impl.vec`'s select and
isin against numpy's, HostMemory's whole-record DMA against the byte-by-byte path, and
flat_offsets' equal-length path against the concatenated ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from impl import vec
from impl.bus import HostMemory
from impl.ena_defs.layouts import RX_CDESC_DTYPE, TX_DESC_DTYPE
from impl.netmap.ranges import flat_offsets

SMALL = st.integers(0, 6)


@given(st.data(), st.integers(0, 12), st.integers(1, 4),
       st.sampled_from([np.int64, np.uint16, np.int32]))
def test_select_is_numpys(data: st.DataObject, n: int, k: int, dtype: type) -> None:
    conds = [np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
             for _ in range(k)]
    as_arrays = data.draw(st.booleans())
    choices = [np.array(data.draw(st.lists(SMALL, min_size=n, max_size=n)), dtype)
               if as_arrays else data.draw(SMALL) for _ in range(k)]
    default = data.draw(SMALL)
    got, want = vec.select(conds, choices, default), np.select(conds, choices, default)
    assert got.dtype == want.dtype and np.array_equal(got, want)


@given(st.lists(SMALL, max_size=20), st.lists(SMALL, min_size=1, max_size=4))
def test_isin_is_numpys(a: list[int], values: list[int]) -> None:
    arr = np.array(a, np.int64)
    assert np.array_equal(vec.isin(arr, values), np.isin(arr, values))


@given(st.data(), st.sampled_from([TX_DESC_DTYPE, RX_CDESC_DTYPE]))
def test_record_dma_is_the_byte_path(data: st.DataObject, dtype: np.dtype) -> None:
    size = dtype.itemsize
    mem = HostMemory(8192)
    mem.data[:] = np.arange(mem.size) % 251
    aligned = data.draw(st.booleans())
    slots = data.draw(st.lists(st.integers(0, 8192 // size - 2), min_size=1, max_size=8))
    addr = np.array(slots, np.int64) * size + (0 if aligned else data.draw(st.integers(1, 7)))
    raw = mem.data[addr[:, None] + np.arange(size)[None, :]].copy()
    got = mem.records(addr, dtype)
    assert got.dtype == dtype and got.view(np.uint8).reshape(-1, size).tolist() == raw.tolist()
    recs = np.frombuffer(np.random.default_rng(len(slots)).integers(
        0, 256, addr.size * size, dtype=np.uint8).tobytes(), dtype)
    want = mem.data.copy()
    for a, r in zip(addr, recs.view(np.uint8).reshape(-1, size), strict=True):
        want[a:a + size] = r  # in order: a later record wins where two overlap
    mem.write_records(addr, recs)
    assert np.array_equal(mem.data, want)


@given(st.lists(st.integers(0, 100), max_size=6), st.integers(0, 5), st.booleans())
def test_flat_offsets_concatenates_the_ranges(starts: list[int], width: int,
                                              equal: bool) -> None:
    start = np.array(starts, np.int64)
    count = (np.full(start.size, width) if equal
             else (np.arange(start.size) + width) % 4).astype(np.int64)
    want = [s + i for s, c in zip(start.tolist(), count.tolist(), strict=True)
            for i in range(c)]
    assert flat_offsets(start, count).tolist() == want
