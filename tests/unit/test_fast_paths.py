"""The datapath's shortcuts give what the general code gives: :mod:`impl.vec`'s select and
isin against numpy's, HostMemory's whole-record DMA against the byte-by-byte path, and
flat_offsets' equal-length path against the concatenated ranges."""

from __future__ import annotations

import numpy as np
import pytest
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


DTYPES = [np.int64, np.uint16, np.int32, np.uint8, np.bool_]


def _int_or_array(data: st.DataObject, n: int) -> np.ndarray | int:
    """A plain int, or an array of ``n`` small values in one of DTYPES."""
    if data.draw(st.booleans()):
        return data.draw(SMALL)
    dtype = data.draw(st.sampled_from(DTYPES))
    return np.array(data.draw(st.lists(SMALL, min_size=n, max_size=n)), np.int64).astype(dtype)


@given(st.data(), st.integers(1, 12), st.integers(1, 4))
def test_select_mixed_choices_and_array_default(data: st.DataObject, n: int, k: int) -> None:
    """The shapes the datapath passes (rxq's ``[s.run - t_first, 0]`` with an array
    default, rxflags' ``[v4, v6, M_HASHTYPE_NONE]``): each choice and the default an int
    or an array of its own dtype.  Per element the choice of the first true condition,
    else the default; the dtype np.select's rule, NEP 50 promotion over the choices and
    the default with plain ints weak (np.select itself cannot be the oracle here: it
    raises when a plain-int choice meets a narrower array dtype)."""
    conds = [np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
             for _ in range(k)]
    choices = [_int_or_array(data, n) for _ in range(k)]
    default = _int_or_array(data, n)
    got = vec.select(conds, choices, default)

    def at(v: np.ndarray | int, i: int) -> int:
        return int(v) if type(v) is int else int(v[i])

    want = [next((at(ch, i) for c, ch in zip(conds, choices, strict=True) if c[i]),
                 at(default, i)) for i in range(n)]
    assert got.dtype == np.result_type(*choices, default)
    assert got.astype(np.int64).tolist() == want


def test_select_default_is_zero() -> None:
    """Without a default, an element no condition picks is 0, as np.select's default."""
    conds = [np.array([True, False, False]), np.array([False, True, False])]
    assert vec.select(conds, [7, 9]).tolist() == [7, 9, 0]
    assert vec.select(conds, [np.array([7, 7, 7], np.uint16), 9]).tolist() == [7, 9, 0]


def test_select_rejects_more_conditions_than_choices() -> None:
    """Lists of different lengths are an error (np.select's ValueError), not a silent
    truncation that drops the last conditions: with plain ints and with arrays."""
    conds = [np.array([False, True]), np.array([True, False])]
    for choices in ([5], [np.array([5, 5], np.int32)]):
        with pytest.raises(ValueError):
            np.select(conds, choices, 0)
        with pytest.raises(ValueError):
            vec.select(conds, choices, 0)


def test_select_default_fitting_only_the_promoted_dtype_keeps_its_value() -> None:
    """Choices int64 and uint8 with default 300: 300 fits the promoted int64 result, so an
    element no condition picks is 300 (np.select's answer), not 300 wrapped into the
    last choice's uint8 (44) on the way."""
    conds = [np.array([True, False]), np.array([False, False])]
    choices = [np.array([1, 2], np.int64), np.array([3, 4], np.uint8)]
    got, want = vec.select(conds, choices, 300), np.select(conds, choices, 300)
    assert got.dtype == want.dtype and got.tolist() == want.tolist() == [1, 300]


def test_select_refuses_a_plain_int_choice_outside_the_default_dtype() -> None:
    """A plain-int choice 300 over a uint8 default: the result is uint8 and 300 does not
    fit, an error (np.select raises too), never 300 wrapped to 44."""
    conds = [np.array([True, False])]
    default = np.array([3, 4], np.uint8)
    with pytest.raises((OverflowError, TypeError)):
        np.select(conds, [300], default)
    with pytest.raises(OverflowError):
        vec.select(conds, [300], default)


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
