"""RSS: Toeplitz against Microsoft's published verification vectors (IPv4 and IPv6, with
and without ports), CRC32 against zlib, hash inputs taken from parsed frames (with the
byte-reversed key the driver programs), input sort, and the indirection table."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from support.frames import MS_IPV4, MS_KEY, VECTORS, addr, frame

from impl.device.parse import parse
from impl.device.rss import MAX_INPUT, RssConfig, crc32, toeplitz, toeplitz_tables
from impl.ena_defs import FlowHashProto, HashFunction
from impl.packets import PacketBatch


def _rows(rows: list[bytes]) -> np.ndarray:
    return np.array([list(r.ljust(MAX_INPUT, b"\0")) for r in rows], dtype=np.uint8)


@pytest.mark.parametrize("with_ports", [False, True])
def test_toeplitz_matches_the_microsoft_vectors(with_ports: bool) -> None:
    rows = [addr(s) + addr(d) + (struct.pack("!HH", sp, dp) if with_ports else b"")
            for d, dp, s, sp, _, _ in VECTORS]
    want = [wp if with_ports else wa for *_, wa, wp in VECTORS]
    got = toeplitz(toeplitz_tables(MS_KEY), _rows(rows))
    assert [hex(x) for x in got] == [hex(x) for x in want]


def test_toeplitz_rejects_a_short_key() -> None:
    with pytest.raises(ValueError):
        toeplitz_tables(MS_KEY[:20])


def test_crc32_is_zlib_without_the_final_complement() -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, (50, MAX_INPUT), dtype=np.uint8)
    lengths = rng.integers(0, MAX_INPUT + 1, 50)
    got = crc32(data, lengths, 0xFFFFFFFF)
    want = [zlib.crc32(bytes(r[:n])) ^ 0xFFFFFFFF for r, n in zip(data, lengths, strict=True)]
    assert got.tolist() == want
    assert crc32(data[:1], np.array([0]), 0x1234).tolist() == [0x1234]


def test_hash_of_parsed_frames_with_the_reversed_driver_key() -> None:
    frames = [frame(s, d, sp, dp) for d, dp, s, sp, _, _ in VECTORS]
    frames += [frame(s, d, sp, dp, proto=17) for d, dp, s, sp, _, _ in VECTORS]
    p = parse(PacketBatch.from_frames(frames))
    assert not p.l3_csum_err.any() and not p.l4_csum_err.any() and p.l4_csum_checked.all()
    rss = RssConfig(hw_key=MS_KEY[::-1])
    want = [wp for *_, wp in VECTORS] * 2
    assert rss.hash(p).tolist() == want
    # addresses only when the protocol's fields say so (TCP4 and TCP6 entries)
    rss.fields[FlowHashProto.TCP4] = rss.fields[FlowHashProto.IP4]
    rss.fields[FlowHashProto.TCP6] = rss.fields[FlowHashProto.IP6]
    got = rss.hash(p).tolist()
    assert got[:8] == [wa for *_, wa, _ in VECTORS] and got[8:] == want[8:]


def test_fragments_hash_addresses_only_and_non_ip_hashes_l2() -> None:
    d, dp, s, sp, wa, _ = MS_IPV4[0]
    f = frame(s, d, sp, dp, frag=0x2000)  # MF set
    non_ip = bytes(range(1, 13)) + b"\x88\xb5" + bytes(50)
    p = parse(PacketBatch.from_frames([f, non_ip]))
    assert p.ipv4_frag.tolist() == [True, False] and not p.l4_csum_checked.any()
    rss = RssConfig(hw_key=MS_KEY[::-1])
    h = rss.hash(p)
    assert int(h[0]) == wa
    l2 = _rows([bytes(range(1, 13))])
    assert int(h[1]) == int(toeplitz(toeplitz_tables(MS_KEY), l2)[0])


def test_input_sort_makes_the_hash_symmetric() -> None:
    d, dp, s, sp, *_ = MS_IPV4[1]
    p = parse(PacketBatch.from_frames([frame(s, d, sp, dp), frame(d, s, dp, sp)]))
    rss = RssConfig(hw_key=MS_KEY[::-1])
    a, b = rss.hash(p).tolist()
    assert a != b
    rss.l3_sort = rss.l4_sort = True
    a, b = rss.hash(p).tolist()
    assert a == b


def test_crc32_function_and_indirection() -> None:
    d, dp, s, sp, *_ = MS_IPV4[2]
    p = parse(PacketBatch.from_frames([frame(s, d, sp, dp)]))
    rss = RssConfig(hw_key=MS_KEY[::-1], function=HashFunction.CRC32, init_val=0xFFFFFFFF)
    data = addr(s) + addr(d) + struct.pack("!HH", sp, dp)
    assert int(rss.hash(p)[0]) == zlib.crc32(data) ^ 0xFFFFFFFF
    rss.table[:] = np.arange(128) % 3
    h = np.array([0, 1, 130, 0xFFFFFFFF], dtype=np.uint32)
    assert rss.queue(h, default_sq=9).tolist() == [0, 1, 2 % 3, 127 % 3]
    rss.table[5] = -1
    assert rss.queue(np.array([5]), default_sq=9).tolist() == [9]
