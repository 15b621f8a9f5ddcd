"""The shortcuts the ENA datapath benchmarks brought in give what the general code gives:
:mod:`impl.byteranges`' row copies against the per-byte ranges, the device's window order
against ``np.lexsort``, the parser's row-wise reads against its clamped per-byte ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl import byteranges
from impl.device import parse
from impl.device.rss import HashFunction, RssConfig
from impl.device.txcomp import window_order
from impl.ena.ragged import greedy_breaks
from impl.netmap.ranges import flat_offsets
from impl.packets import PacketBatch
from ringspec.bench.ena_rig import udp_frames


@given(st.data(), st.integers(1, 40), st.integers(0, 9), st.booleans())
def test_gather_is_the_per_byte_gather(data: st.DataObject, size: int, width: int,
                                       equal: bool) -> None:
    arena = np.arange(size, dtype=np.uint8) * 7
    n = data.draw(st.integers(0, 6))
    start = np.array(data.draw(st.lists(st.integers(0, size), min_size=n, max_size=n)),
                     dtype=np.int64)
    count = (np.full(n, width, np.int64) if equal else np.array(
        data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), dtype=np.int64))
    try:
        want = arena[flat_offsets(start, count)]
    except IndexError:
        want = None
    try:
        got = byteranges.gather(arena, start, count)
    except IndexError:
        got = None
    assert (got is None) == (want is None)
    if want is not None:
        assert got is not None and got.dtype == want.dtype and np.array_equal(got, want)


@given(st.data(), st.integers(1, 40), st.integers(1, 9))
def test_scatter_is_the_per_byte_scatter(data: st.DataObject, size: int, width: int) -> None:
    n = data.draw(st.integers(0, 6))
    start = np.array(data.draw(st.lists(st.integers(0, max(size - width, 0)), min_size=n,
                                        max_size=n)), dtype=np.int64)  # ranges may overlap
    count = np.full(n, min(width, size), np.int64)
    src = np.arange(int(count.sum()), dtype=np.uint8) + 1
    want, got = np.zeros(size, np.uint8), np.zeros(size, np.uint8)
    want[flat_offsets(start, count)] = src
    byteranges.scatter(got, start, count, src)
    assert np.array_equal(got, want)  # the later range wins where two overlap, as there


def test_windows_of_a_strided_arena() -> None:
    a = np.arange(50, dtype=np.uint8)
    assert np.array_equal(byteranges.windows(a[::2], 3)[4], [8, 10, 12])
    assert np.array_equal(byteranges.windows(a[5:], 4)[0], [5, 6, 7, 8])


class _Keys:
    """A generator whose random draws are given (ties included)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def random(self, n: int) -> np.ndarray:
        return self.values[:n]


@settings(max_examples=300)
@given(st.data(), st.integers(1, 60), st.integers(2, 9), st.booleans(), st.booleans())
def test_window_order_is_lexsort(data: st.DataObject, n: int, window: int, distinct: bool,
                                 ties: bool) -> None:
    sq = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), np.int64)
    base = data.draw(st.integers(0, 10**9))
    seq = (base + np.array(data.draw(st.permutations(range(2 * n))))[:n] if distinct
           else np.array(data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))))
    keys = (np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))) / 4
            if ties else np.random.default_rng(data.draw(st.integers(0, 99))).random(n))
    got = window_order(sq, seq, window, _Keys(keys))
    assert np.array_equal(got, np.lexsort((keys, seq // window, sq)))


def test_window_order_full_runs_is_lexsort() -> None:
    rng = np.random.default_rng(1)
    sq = np.repeat(np.arange(4), 64)
    seq = 8 * 1000 + np.arange(sq.size)
    perm = rng.permutation(sq.size)
    keys = rng.random(sq.size)
    got = window_order(sq[perm], seq[perm], 8, _Keys(keys))
    assert np.array_equal(got, np.lexsort((keys, seq[perm] // 8, sq[perm])))


@given(st.data(), st.integers(1, 5), st.integers(1, 12), st.integers(1, 12))
def test_take_and_u16_are_the_clamped_reads(data: st.DataObject, n: int, cols: int,
                                            width: int) -> None:
    h = np.random.default_rng(cols).integers(0, 256, (n, cols), dtype=np.uint8)
    off = np.array(data.draw(st.lists(st.integers(-3, cols + 3), min_size=n, max_size=n)),
                   np.int64)
    idx = np.minimum(np.maximum(off[:, None] + np.arange(width)[None, :], 0), cols - 1)
    assert np.array_equal(parse._take(h, off, width), h[np.arange(n)[:, None], idx])
    if cols >= 2:
        o = np.minimum(np.maximum(off, 0), cols - 2)
        rows = np.arange(n)
        want = (h[rows, o].astype(np.int64) << 8) | h[rows, o + 1]
        got = parse._u16(h, off)
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_l4_checksum_rows_are_the_per_byte_sums() -> None:
    """Equal UDP segments take the row path; one more frame of another length sends the
    same frames through the per-byte path, which must agree on every one of them."""
    f = udp_frames(40, seed=3)
    f[::3, 40:42] = (0x12, 0x34)  # UDP checksums, mostly wrong; every third non-zero
    f[1::5, 41] = 0xFF
    odd = np.zeros((1, 64), np.uint8)
    odd[0, :64] = f[0]
    rows = PacketBatch.from_payload(f.ravel(), np.full(40, 64))
    both = PacketBatch.from_payload(np.concatenate([f.ravel(), odd[0, :60]]),
                                    np.r_[np.full(40, 64), 60])
    a, b = parse.parse(rows), parse.parse(both)
    for name, value in vars(a).items():
        assert np.array_equal(value, getattr(b, name)[:40]), name
    assert a.l4_csum_checked.all() and a.l4_csum_err.any() and not a.l4_csum_err.all()


def test_equal_frames_header_rows_and_hash_inputs_are_the_general_ones() -> None:
    """A batch of equal frames (one length, one protocol) takes the row copy of
    header_matrix and the one-row masks of the RSS inputs; the same frames followed by a
    frame of another length and kind go the general way, and must agree on them."""
    for size in (64, 150):
        f = np.zeros((30, size), np.uint8)
        f[:, :64] = udp_frames(30, seed=size)
        other = np.r_[f[0, :14], np.zeros(40, np.uint8)]  # not IP, 54 bytes
        other[12:14] = (0x88, 0xB5)
        rows = PacketBatch.from_payload(f.ravel(), np.full(30, size))
        both = PacketBatch.from_payload(np.concatenate([f.ravel(), other]),
                                        np.r_[np.full(30, size), other.size])
        assert np.array_equal(parse.header_matrix(rows), parse.header_matrix(both)[:30])
        a, b = parse.parse(rows), parse.parse(both)
        for fn in (HashFunction.TOEPLITZ, HashFunction.CRC32):
            for flip in (False, True):
                cfg = RssConfig(function=fn, l3_sort=flip, l4_sort=flip, init_val=7)
                cfg.set_key(bytes(range(3, 43)))
                da, la = cfg.inputs(a)
                db, lb = cfg.inputs(b)
                assert np.array_equal(da, db[:30]) and np.array_equal(la, lb[:30])
                assert np.array_equal(cfg.hash(a), cfg.hash(b)[:30])


def test_posted_window_by_rings_is_the_flat_window() -> None:
    """The device's RX window read ring by ring (one row per queue) gives the usable
    buffers, smallest length and hidden count of the descriptor-by-descriptor read, with
    windows that wrap, fill the ring, stop at bad phases or hold zero lengths."""
    from unittest import mock

    from impl.device import rx as device_rx
    from impl.ena_defs.constants import SqDirection
    from ringspec.bench.ena_rig import rig
    from ringspec.bench.registry import Config

    g = np.random.default_rng(0)
    seen_cut = False
    for trial in range(12):
        ring = int(g.choice([256, 1024]))
        bus, dev, _ = rig(Config(int(g.integers(1, 4)), ring, 32), seed=trial)
        qt = dev.queues
        sqs = np.flatnonzero(qt.sq_used & (qt.sq_dir == int(SqDirection.RX)))
        qt.sq_head[sqs] = g.integers(0, 65536, sqs.size)
        qt.sq_tail[sqs] = (qt.sq_head[sqs] + g.integers(0, ring + 3, sqs.size)) & 0xFFFF
        recs = bus.mem.data[:bus.mem.size - bus.mem.size % 16].view(device_rx.RX_DESC_DTYPE)
        slots = (qt.sq_ba[sqs] // 16)[:, None] + np.arange(ring)[None, :]
        ctr = qt.sq_head[sqs][:, None] + ((np.arange(ring)[None, :]
                                           - (qt.sq_head[sqs] & (ring - 1))[:, None])
                                          & (ring - 1))
        good_phase = 1 - ((ctr // ring) & 1)
        flip = g.random(slots.shape) < g.choice([0.0, 0.002, 0.05])
        recs["ctrl"][slots] = np.where(flip, 1 - good_phase, good_phase)
        recs["length"][slots] = g.choice([0, 100, 2048, 60000], slots.shape, p=[.01, .01, .97, .01])
        sub = np.sort(sqs[g.permutation(sqs.size)[:int(g.integers(1, sqs.size + 1))]])
        assert device_rx._rings(qt, sub) is not None
        fast = device_rx.posted_window(qt, sub)
        with mock.patch.object(device_rx, "_rings", lambda qt, s: None):
            flat = device_rx.posted_window(qt, sub)
        assert np.array_equal(fast[0], flat[0]) and np.array_equal(fast[1], flat[1])
        assert fast[0].dtype == flat[0].dtype and fast[1].dtype == flat[1].dtype
        assert fast[2] == flat[2]
        seen_cut |= flat[2] > 0
    assert seen_cut


def _greedy_loop(start: np.ndarray, count: np.ndarray, first: np.ndarray,
                 max_items: int) -> np.ndarray:
    """The greedy loop of greedy_breaks without a cost limit, one element at a time."""
    mask = np.zeros(int(count.sum()), dtype=bool)
    for s, c, f in zip(start.tolist(), count.tolist(), first.tolist(), strict=True):
        at = f
        while at < s + c:
            mask[at] = True
            at += max_items
    return mask


@given(st.data(), st.integers(1, 5), st.integers(1, 9))
def test_greedy_breaks_without_cost_limit_is_the_loop(data: st.DataObject, nq: int,
                                                      max_items: int) -> None:
    count = np.array(data.draw(st.lists(st.integers(0, 30), min_size=nq, max_size=nq)))
    start = np.cumsum(count) - count
    first = start + np.array(data.draw(st.lists(st.integers(0, 35), min_size=nq,
                                                max_size=nq)))
    got = greedy_breaks(start, count, np.ones(int(count.sum()), np.int64), first,
                        max_items, 0)
    assert got.dtype == bool
    assert np.array_equal(got, _greedy_loop(start, count, first, max_items))
