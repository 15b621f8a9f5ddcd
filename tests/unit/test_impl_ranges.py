"""impl.netmap.ranges (flat index ranges over wrapped rings) and impl.netmap.dma."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from impl.netmap import dma
from impl.netmap.ranges import flat_ranges, good_prefix, has_duplicates


def test_flat_ranges_wrap_and_empty_segments() -> None:
    seg, off, idx = flat_ranges(np.array([6, 3, 0, 7]), np.array([4, 0, 2, 1]), 8)
    assert seg.tolist() == [0, 0, 0, 0, 2, 2, 3]
    assert off.tolist() == [0, 1, 2, 3, 0, 1, 0]
    assert idx.tolist() == [6, 7, 0, 1, 0, 1, 7]
    seg, off, idx = flat_ranges(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 8)
    assert seg.size == off.size == idx.size == 0


def test_good_prefix_stops_at_first_bad() -> None:
    count = np.array([4, 0, 3, 2])
    seg, off, _ = flat_ranges(np.zeros(4), count)
    bad = np.zeros(seg.size, dtype=bool)
    bad[[2, 3, 4, 8]] = True  # segment 0: offsets 2, 3; segment 2: offset 0; segment 3: 1
    assert good_prefix(bad, seg, off, count).tolist() == [2, 0, 0, 1]
    assert good_prefix(np.zeros(0, bool), *flat_ranges([], [])[:2], np.array([], int)).size == 0


def test_has_duplicates() -> None:
    assert not has_duplicates(np.array([3, 1, 2]))
    assert has_duplicates(np.array([3, 1, 3]))
    assert not has_duplicates(np.array([], dtype=np.int64))


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 8)), max_size=12),
    st.integers(0, 2**32 - 1),
)
def test_dma_scatter_gather_match_frame_by_frame(frames: list[tuple[int, int]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    bufs = rng.integers(0, 256, size=(6, 8), dtype=np.uint8)
    expect = bufs.copy()
    buf = np.array([b for b, _ in frames], dtype=np.int64)
    length = np.array([ln for _, ln in frames], dtype=np.int64)
    data = rng.integers(0, 256, size=int(length.sum()), dtype=np.uint8)
    pos = 0
    for b, ln in frames:  # the obvious per-frame reference: later frames win byte by byte
        expect[b, :ln] = data[pos : pos + ln]
        pos += ln
    dma.scatter(bufs, buf, length, data)
    assert np.array_equal(bufs, expect)
    got = dma.gather(bufs, buf, length)
    want = [expect[b, :ln] for b, ln in frames]
    assert np.array_equal(got, np.concatenate(want) if want else np.zeros(0, np.uint8))
