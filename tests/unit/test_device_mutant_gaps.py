"""Behaviour of the simulated ENA device's datapath (impl/device: tx, txcomp, parse, rx,
segs, rss) that mutation testing (mutmut 3.8.1) showed the other device tests leave
unchecked.

TX submission (ena_com_prepare_tx's descriptor stream): LLQ bursts of packets of one and
several entries behind one doorbell, pushed-header bytes that look like descriptors, each
queue's window starting at a packet when several doorbells come in one MMIO batch; FIRST
only on the opening descriptor, a packet with no data descriptor is malformed; buffer
bounds checked on every byte (a 1-byte buffer past host memory) and not on empty buffers.

TX completions: a window of 2 permutes pairs; ``sq_head_idx``; per-CQ order when the CQ
order differs from the SQ order; the dup, stale and out-of-range req_id knobs (within each
queue, their counts, only ids not in flight, ids at or above the depth).

RX: the posted window ends at a bad phase (counted once), head != 0; a length of 0 means
64 KiB; a buffer address above 4 GiB is a DMA error, not an alias; frames for a missing
queue raise no interrupt; wire order and posted-buffer order per queue over two queues; a
starved queue consumes nothing; only the last completion carries protocol bits; the
rx_too_many_descs, rx_req_id_invalid and rx_req_id_dup knobs.

Parsing: 802.1Q-tagged frames, IPv4/IPv6 header bounds, IPv4 options, truncated
datagrams, bare TCP/UDP headers, other IP protocols, IP look-alikes behind other
ethertypes, the UDP zero checksum (IPv4 only), fragments, empty frames.

Phase windows over several queues (a bad phase on one queue, a valid descriptor behind a
bad one) and RSS inputs: each address and port field on its own, CRC32 over each frame's
own input length (IP4_FRAG's fields for a fragment), input sort over a batch of flows,
the Toeplitz key length.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from support.ena_wire_driver import (
    Queue,
    device,
    make_queue,
    post_rx,
    rx_completions,
    rx_packets,
    send_host,
    send_llq,
    tx_completions,
    tx_descs,
)
from support.frames import MS_IPV4, MS_KEY, VECTORS, addr, frame, inet_csum

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults
from impl.device.parse import parse
from impl.device.rss import MAX_INPUT, RssConfig, toeplitz, toeplitz_tables
from impl.ena_defs import (
    RX_DESC_DTYPE,
    TX_CDESC_DTYPE,
    TX_DESC_DTYPE,
    FlowHashFields,
    FlowHashProto,
    HashFunction,
    L3Proto,
    L4Proto,
    PlacementPolicy,
    RxCdesc,
    RxDesc,
    SqDirection,
    TxDesc,
)
from impl.ena_defs.admin import CreateCqCmd, CreateSqCmd
from impl.packets import PacketBatch


def payload(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def test_llq_burst_of_packets_of_one_and_several_entries() -> None:
    dev, sink = device(llq_entry_size=128)
    q = make_queue(dev, SqDirection.TX, 64, llq=True)
    # (frame length, data descriptors): a 128-B entry pushes 96 header bytes, so a frame
    # of more than 96 B has body descriptors; more than 2 of them spill into entries of 8
    shapes = [(200, 9), (50, 1), (300, 3), (97, 1), (400, 14), (120, 2), (96, 1), (500, 7)]
    fs = [payload(n, i) for i, (n, _) in enumerate(shapes)]
    used = [
        send_llq(q, f, k, i, 128, doorbell=False)
        for i, (f, (_, k)) in enumerate(zip(fs, shapes, strict=True))
    ]
    assert used == [2, 1, 2, 1, 3, 1, 1, 2]
    q.ring_doorbell()
    assert sink.got == fs
    assert dev.stats.tx_llq_entries == sum(used) and dev.stats.tx_malformed == 0
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == list(range(len(fs)))


def test_llq_pushed_header_bytes_that_look_like_descriptors_are_not_descriptors() -> None:
    # a header of 0xFF bytes read as descriptors would hold LAST with a valid phase; each
    # packet is 2 entries (2 + 3 data descriptors, LAST at slot 2 of the second), so every
    # entry's boundary role depends on all the entries before it in the burst
    dev, sink = device(llq_entry_size=128)
    q = make_queue(dev, SqDirection.TX, 64, llq=True)
    fs = [b"\xff" * 96 + payload(60 + 7 * i, i) for i in range(7)]
    used = [send_llq(q, f, 5, i, 128, doorbell=False) for i, f in enumerate(fs)]
    assert used == [2] * 7
    q.ring_doorbell()
    assert sink.got == fs and dev.stats.tx_malformed == 0
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == list(range(7))


def test_llq_each_queue_window_starts_at_a_packet() -> None:
    # queue a publishes only the first entry of a 2-entry packet; queue b's doorbell comes in
    # the same MMIO batch: its first entry still opens a packet
    dev, sink = device(llq_entry_size=128)
    a = make_queue(dev, SqDirection.TX, 16, llq=True, vector=1)
    b = make_queue(dev, SqDirection.TX, 16, llq=True, vector=2)
    big = payload(300, 1)
    assert send_llq(a, big, 5, 0, 128, doorbell=False) == 2
    small = [payload(40 + i, 10 + i) for i in range(3)]
    for i, f in enumerate(small):
        send_llq(b, f, 1, i, 128, doorbell=False)
    dev.bus.regs.write32_batch(np.array([a.doorbell, b.doorbell]), np.array([a.tail - 1, b.tail]))
    assert sink.got == small and dev.stats.tx_malformed == 0
    a.ring_doorbell()  # the rest of a's packet
    assert sink.got == [*small, big]


# -- RX


def test_rx_window_ends_at_a_bad_phase_and_counts_only_that_descriptor() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 16)
    post_rx(q, 4, 128)
    dev.receive(PacketBatch.from_frames([bytes([i]) * 60 for i in range(4)]))
    assert dev.rx() == 4 and dev.stats.rx_bad_phase == 0  # head 4 = tail 4: nothing posted
    post_rx(q, 3, 128, doorbell=False)
    ring = dev.bus.mem.array(q.sq_ba, RX_DESC_DTYPE, 16)
    ring[6]["ctrl"] ^= np.uint8(RxDesc.PHASE.mask)  # the last one posted is not valid
    q.ring_doorbell()
    fs = [bytes([10 + i]) * 60 for i in range(3)]
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == 2
    assert [p for p, _ in rx_packets(q)] == [bytes([i]) * 60 for i in range(4)] + fs[:2]
    assert dev.stats.rx_bad_phase == 1 and dev.stats.rx_no_buffer == 1


def test_rx_buffer_length_zero_means_64_kib() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 8)
    post_rx(q, 3, 1 << 16)  # the descriptor's 16-bit length field holds 0
    assert int(dev.bus.mem.array(q.sq_ba, RX_DESC_DTYPE, 8)[0]["length"]) == 0
    fs = [payload(9000, 1), payload(60, 2), payload(65535, 3)]
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == 3
    pkts = rx_packets(q)
    assert [p for p, _ in pkts] == fs and [len(c) for _, c in pkts] == [1, 1, 1]


def test_rx_buffer_above_4_gib_is_a_dma_error_not_an_alias() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 8)
    post_rx(q, 1, 128, doorbell=False)
    ring = dev.bus.mem.array(q.sq_ba, RX_DESC_DTYPE, 8)
    ring[0]["buff_addr_hi"] = 1  # 4 GiB + the buffer's address: outside host memory
    q.ring_doorbell()
    addr, n = q.bufs[0]
    dev.receive(PacketBatch.from_frames([b"\xab" * 60]))
    dev.rx()
    assert dev.stats.rx_dma_error == 1
    assert not dev.bus.mem.data[addr : addr + n].any()  # nothing written at the low 32 bits


def test_rx_frames_for_a_queue_that_does_not_exist_raise_no_interrupt() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 8, vector=1)
    assert q.cq_idx == 0
    post_rx(q, 4, 128)
    q.unmask_intr()
    dev.rss.table[:] = 3  # an SQ index that is not an RX queue
    dev.receive(PacketBatch.from_frames([b"q" * 60, b"r" * 60]))
    assert dev.rx() == 0 and dev.stats.rx_no_queue == 2
    assert dev.bus.msix.fired.sum() == 0 and rx_completions(q) == []


def two_rx_queues(
    dev: EnaDevice, frames: list[bytes], post: tuple[int, int]
) -> tuple[list[Queue], list[int]]:
    """Two RX queues with ``post`` buffers of 2 KiB each, the indirection table sending
    each frame to one of them by its hash (non-IP frames: the hash of the MACs); returns
    the queues and the queue (0 or 1) of each frame."""
    qs = [make_queue(dev, SqDirection.RX, 128, vector=1 + i) for i in range(2)]
    for q, k in zip(qs, post, strict=True):
        if k:
            post_rx(q, k, 2048)
    dev.rss.set_key(MS_KEY[::-1])
    h = dev.rss.hash(parse(PacketBatch.from_frames(frames))).astype(np.int64) & 127
    side = np.zeros(128, np.int64)
    side[h[1::2]] = 1
    dev.rss.table[:] = np.where(side == 1, qs[1].sq_idx, qs[0].sq_idx)
    return qs, side[h].tolist()


def mac_frames(n: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, 12, dtype=np.uint8).tobytes() + b"\x88\xb5" + bytes([i]) * 50
        for i in range(n)
    ]


def test_rx_frames_keep_wire_order_per_queue_and_buffers_go_in_posted_order() -> None:
    dev, _ = device()
    fs = mac_frames(100, 7)
    qs, side = two_rx_queues(dev, fs, (100, 100))
    assert 20 < sum(side) < 80
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == 100
    for k, q in enumerate(qs):
        cds = rx_completions(q)
        mine = [f for f, s in zip(fs, side, strict=True) if s == k]
        assert [int(c["req_id"]) for c in cds] == list(range(len(mine)))
        q.cq_head -= len(cds)
        assert [p for p, _ in rx_packets(q)] == mine


def test_rx_a_queue_without_buffers_drops_only_its_own_frames() -> None:
    dev, _ = device()
    fs = mac_frames(20, 8)
    qs, side = two_rx_queues(dev, fs, (20, 0))
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == side.count(0)
    assert dev.stats.rx_no_buffer == side.count(1) > 0
    assert [p for p, _ in rx_packets(qs[0])] == [f for f, s in zip(fs, side, strict=True) if s == 0]
    # the starved queue consumed nothing: buffers posted now take its frames
    theirs = [f for f, s in zip(fs, side, strict=True) if s == 1]
    post_rx(qs[1], len(theirs), 2048)
    dev.receive(PacketBatch.from_frames(theirs))
    assert dev.rx() == len(theirs)
    assert [p for p, _ in rx_packets(qs[1])] == theirs


def test_rx_too_many_descs_knob_applies_from_a_frame_of_exactly_that_many_bytes() -> None:
    dev = EnaDevice(
        Bus(mem_size=1 << 22, nvec=5),
        DeviceConfig(max_queues=4),
        Faults(rx_too_many_descs=1.0, rx_too_many=64),
    )
    q = make_queue(dev, SqDirection.RX, 128)
    post_rx(q, 127, 2048)
    fs = [payload(64, 1), payload(63, 2)]  # 63 bytes cannot fill 64 buffers
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == 2
    pkts = rx_packets(q)
    assert [p for p, _ in pkts] == fs and [len(c) for _, c in pkts] == [64, 1]
    assert dev.stats.rx_too_many_descs == 1


def test_rx_only_the_last_completion_of_a_frame_carries_protocol_and_checksum_bits() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 16)
    post_rx(q, 8, 128)
    d, dp, s, sp, *_ = MS_IPV4[0]
    dev.receive(PacketBatch.from_frames([frame(s, d, sp, dp, payload=b"p" * 300)]))
    assert dev.rx() == 1
    ((_, cds),) = rx_packets(q)
    assert len(cds) == 3
    phase = RxCdesc.PHASE.mask
    bare = [int(c["status"]) & ~phase for c in cds[:-1]]
    assert bare == [RxCdesc.FIRST.mask | RxCdesc.BUFFER.mask, RxCdesc.BUFFER.mask]
    assert RxCdesc.L3_PROTO_IDX.get(int(cds[-1]["status"])) == L3Proto.IPV4


def test_rx_req_id_invalid_knob_corrupts_one_completion_of_each_frame() -> None:
    dev = EnaDevice(
        Bus(mem_size=1 << 22, nvec=5),
        DeviceConfig(max_queues=4, seed=3),
        Faults(rx_req_id_invalid=1.0),
    )
    q = make_queue(dev, SqDirection.RX, 64)
    post_rx(q, 63, 128)
    dev.receive(PacketBatch.from_frames([payload(300, i) for i in range(8)]))
    dev.rx()
    ids = [int(c["req_id"]) for c in rx_completions(q)]
    assert len(ids) == 24 and dev.stats.rx_req_id_invalid == 8
    for f in range(8):  # frame f used buffers 3f, 3f+1, 3f+2; one of them is misnamed
        mine = ids[3 * f : 3 * f + 3]
        bad = [r for r in mine if r >= 64]
        assert len(bad) == 1
        assert set(mine) - set(bad) < {3 * f, 3 * f + 1, 3 * f + 2}


def test_rx_req_id_dup_knob_repeats_the_previous_buffer_of_the_same_queue() -> None:
    dev = EnaDevice(
        Bus(mem_size=1 << 22, nvec=5),
        DeviceConfig(max_queues=4),
        Faults(rx_req_id_dup=1.0),
    )
    fs = mac_frames(40, 9)
    qs, side = two_rx_queues(dev, fs, (64, 64))
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == 40
    for k, q in enumerate(qs):
        n = side.count(k)
        # the first completion of the queue names its own buffer (0), each later one the
        # buffer of the one before it
        assert [int(c["req_id"]) for c in rx_completions(q)] == [0, *range(n - 1)]
    assert dev.stats.rx_req_id_dup == 40 - 2


# -- parse: 802.1Q, look-alikes, empty frames


def tagged(f: bytes, tci: int = 0x0064) -> bytes:
    """``f`` with one 802.1Q tag inserted after the MAC addresses."""
    return f[:12] + b"\x81\x00" + tci.to_bytes(2, "big") + f[12:]


def test_parse_a_vlan_tagged_frame_as_its_untagged_self() -> None:
    plain = [frame(s, d, sp, dp, proto=p) for d, dp, s, sp, *_ in VECTORS for p in (6, 17)]
    # a TCI whose bytes would read as an IPv4 / IPv6 ethertype if taken for one
    tags = [0x0800, 0x86DD, 0x0064, 0x0FFF] * 4
    both = parse(
        PacketBatch.from_frames(plain + [tagged(f, t) for f, t in zip(plain, tags, strict=True)])
    )
    n = len(plain)
    assert both.vlan_cnt.tolist() == [0] * n + [1] * n
    for name in ("l3_proto", "l4_proto", "src", "dst", "ports", "l4_csum_checked"):
        a = getattr(both, name)
        assert (a[:n] == a[n:]).all(), name
    assert both.l4_csum_checked.all()
    assert not both.l3_csum_err.any() and not both.l4_csum_err.any()
    rss = RssConfig(hw_key=MS_KEY[::-1])
    assert rss.hash(both)[n::2].tolist() == [wp for *_, wp in VECTORS]


def test_parse_checksum_errors_behind_a_vlan_tag() -> None:
    d, dp, s, sp, *_ = MS_IPV4[1]
    good = tagged(frame(s, d, sp, dp))
    bad_ip = bytearray(good)
    bad_ip[18 + 10] ^= 0x5A  # the IPv4 header checksum
    bad_l4 = bytearray(good)
    bad_l4[-1] ^= 0x5A
    p = parse(PacketBatch.from_frames([good, bytes(bad_ip), bytes(bad_l4)]))
    assert p.l3_csum_err.tolist() == [False, True, False]
    assert p.l4_csum_err.tolist() == [False, False, True]


def test_parse_ip_look_alikes_are_not_ip() -> None:
    d, dp, s, sp, *_ = MS_IPV4[0]
    v4 = frame(s, d, sp, dp)
    d6, dp6, s6, sp6, *_ = VECTORS[5]
    v6 = frame(s6, d6, sp6, dp6)
    frames = [
        v4[:12] + b"\x88\xb5" + v4[14:],  # an IPv4 packet behind another ethertype
        v6[:12] + b"\x88\xb5" + v6[14:],
        v4[:14] + b"\x65" + v4[15:],  # IPv4 ethertype, version 6
        v6[:14] + b"\x45" + v6[15:],  # IPv6 ethertype, version 4
    ]
    p = parse(PacketBatch.from_frames(frames))
    assert p.l3_proto.tolist() == [L3Proto.UNKNOWN] * 4
    assert p.l4_proto.tolist() == [L4Proto.UNKNOWN] * 4
    assert not p.l4_csum_checked.any() and not p.l3_csum_err.any()
    assert not p.src.any() and not p.dst.any() and not p.ports.any()


def test_parse_empty_frames() -> None:
    p = parse(PacketBatch.from_frames([b"", b""]))
    assert p.l3_proto.tolist() == [L3Proto.UNKNOWN] * 2 and not p.l2.any()
    assert p.vlan_cnt.tolist() == [0, 0] and not p.l4_csum_checked.any()


def ipv4_frame(l4: bytes, proto: int, options: bytes = b"", ihl: int | None = None) -> bytes:
    """Ethernet + an IPv4 header (with ``options``, correct header checksum) + ``l4``."""
    hl = 20 + len(options)
    words = (hl // 4) if ihl is None else ihl
    ip = (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x40 | words,
            0,
            hl + len(l4),
            1,
            0,
            64,
            proto,
            0,
            addr("10.0.0.1"),
            addr("10.0.0.2"),
        )
        + options
    )
    ip = ip[:10] + struct.pack("!H", inet_csum(ip)) + ip[12:]
    return bytes(range(1, 13)) + b"\x08\x00" + ip + l4


def test_parse_ipv4_header_bounds() -> None:
    frames = [
        ipv4_frame(b"", 253),  # a bare 20-byte header ending at the frame's end
        ipv4_frame(b"", 253, options=b"\x01" * 4),  # the same with 4 bytes of options
        ipv4_frame(b"", 253)[:33],  # one byte short of a header
        ipv4_frame(b"\x00" * 20, 6, ihl=4),  # IHL below 5
        ipv4_frame(b"\x00" * 20, 6, ihl=15),  # IHL past the frame's end (14+60 > 54)
    ]
    p = parse(PacketBatch.from_frames(frames))
    v4, unk = int(L3Proto.IPV4), int(L3Proto.UNKNOWN)
    assert p.l3_proto.tolist() == [v4, v4, unk, unk, unk]
    assert p.l3_csum_err.tolist() == [False] * 5
    assert p.l4_proto.tolist() == [L4Proto.UNKNOWN] * 5
    assert p.src[:2, :4].tolist() == [[10, 0, 0, 1]] * 2 and not p.src[2:].any()


def test_parse_ipv4_options_move_the_l4_header() -> None:
    d, dp, s, sp, *_ = MS_IPV4[3]
    base = frame(s, d, sp, dp, proto=17, payload=b"o" * 30)
    udp = base[34:]
    # the UDP checksum does not cover the IP options, so the segment is reused unchanged
    ip = bytearray(base[14:34])
    ip[0] = 0x46
    ip[2:4] = struct.pack("!H", 24 + len(udp))
    ip[10:12] = b"\x00\x00"
    ip += b"\x94\x04\x00\x00"  # router alert
    ip[10:12] = struct.pack("!H", inet_csum(bytes(ip)))
    f = base[:14] + bytes(ip) + udp
    p = parse(PacketBatch.from_frames([f]))
    assert p.l3_proto.tolist() == [L3Proto.IPV4] and p.l4_proto.tolist() == [L4Proto.UDP]
    assert not p.l3_csum_err.any() and not p.l4_csum_err.any() and p.l4_csum_checked.all()
    assert p.ports[0].tobytes() == struct.pack("!HH", sp, dp)


def test_parse_ipv6_header_bounds_and_truncated_datagrams() -> None:
    d6, dp6, s6, sp6, *_ = VECTORS[5]
    v6 = frame(s6, d6, sp6, dp6)
    bare6 = v6[:14] + v6[14:18] + struct.pack("!HBB", 0, 59, 64) + v6[22:54]  # no next header
    d, dp, s, sp, *_ = MS_IPV4[0]
    frames = [
        bare6,  # a 40-byte IPv6 header ending at the frame's end
        bare6[:53],  # one byte short of a header
        v6[:-3],  # a TCP segment cut short: the payload length claims more than is there
        frame(s, d, sp, dp, proto=17)[:-3],  # the same over IPv4
    ]
    p = parse(PacketBatch.from_frames(frames))
    v4i, v6i, unk = int(L3Proto.IPV4), int(L3Proto.IPV6), int(L3Proto.UNKNOWN)
    assert p.l3_proto.tolist() == [v6i, unk, v6i, v4i]
    assert p.l4_proto.tolist() == [L4Proto.UNKNOWN] * 4
    assert not p.l4_csum_checked.any() and not p.l4_csum_err.any()


def test_parse_l4_headers_without_payload_and_other_ip_protocols() -> None:
    d, dp, s, sp, *_ = MS_IPV4[2]
    d6, dp6, s6, sp6, *_ = VECTORS[6]
    icmp = b"\x08\x00\xf7\xff" + b"\x00" * 8  # echo request, 12 bytes
    frames = [
        frame(s, d, sp, dp, proto=6, payload=b""),  # a bare 20-byte TCP header (an ACK)
        frame(s, d, sp, dp, proto=17, payload=b""),  # a bare 8-byte UDP header
        frame(s6, d6, sp6, dp6, proto=6, payload=b""),
        frame(s6, d6, sp6, dp6, proto=17, payload=b""),
        ipv4_frame(icmp, 1),
    ]
    p = parse(PacketBatch.from_frames(frames))
    tcp, udp, unk = int(L4Proto.TCP), int(L4Proto.UDP), int(L4Proto.UNKNOWN)
    assert p.l4_proto.tolist() == [tcp, udp, tcp, udp, unk]
    assert p.l4_csum_checked.tolist() == [True] * 4 + [False]
    assert not p.l4_csum_err.any() and not p.l3_csum_err.any()
    assert p.ports[4].tolist() == [0, 0, 0, 0]


def test_parse_a_vlan_tag_counts_only_when_the_frame_holds_it() -> None:
    tag = bytes(range(1, 13)) + b"\x81\x00\x00\x07\x88\xb5"
    p = parse(PacketBatch.from_frames([tag, tag[:17]]))
    assert p.vlan_cnt.tolist() == [1, 0]


def with_l4_csum(f: bytes, at: int, value: int) -> bytes:
    """``f`` with the 16-bit L4 checksum at frame offset ``at`` replaced."""
    return f[:at] + struct.pack("!H", value) + f[at + 2 :]


def test_parse_udp_checksum_zero_means_none_over_ipv4_only() -> None:
    d, dp, s, sp, *_ = MS_IPV4[4]
    d6, dp6, s6, sp6, *_ = VECTORS[5]
    u4 = frame(s, d, sp, dp, proto=17, payload=b"u" * 21)
    u6 = frame(s6, d6, sp6, dp6, proto=17, payload=b"u" * 21)
    at4, at6 = 14 + 20 + 6, 14 + 40 + 6
    good4 = struct.unpack("!H", u4[at4 : at4 + 2])[0]
    t4 = bytearray(frame(s, d, sp, dp, proto=6))
    t4[14 + 20 + 6 : 14 + 20 + 8] = b"\x00\x00"  # sequence number low half 0 (bytes 6-7)
    frames = [
        with_l4_csum(u4, at4, 0),  # UDP over IPv4 without a checksum: not an error
        with_l4_csum(u4, at4, good4 ^ 0x0101),  # a wrong non-zero checksum
        with_l4_csum(u6, at6, 0),  # over IPv6 a zero checksum is not allowed
        bytes(t4),  # TCP whose bytes 6-7 are 0 and whose checksum is now wrong
    ]
    p = parse(PacketBatch.from_frames(frames))
    assert p.l4_csum_checked.all()
    assert p.l4_csum_err.tolist() == [False, True, True, True]
    assert p.l2.shape == (4, 12) and p.ports.shape == (4, 4)


def test_parse_fragments_are_not_checksummed_and_have_no_ports() -> None:
    d, dp, s, sp, *_ = MS_IPV4[1]
    frames = [frame(s, d, sp, dp, frag=0x2000), frame(s, d, sp, dp, proto=17, frag=0x0010)]
    p = parse(PacketBatch.from_frames(frames))
    assert p.ipv4_frag.all() and not p.l4_csum_checked.any() and not p.l4_csum_err.any()
    assert not p.ports.any()
    assert p.src[0, :4].tobytes() == addr(s) and p.dst[1, :4].tobytes() == addr(d)


# -- TX completions


def tx_device(faults: Faults | None = None, **kw: object) -> EnaDevice:
    window = int(kw.pop("tx_window", 1))  # type: ignore[call-overload]
    return EnaDevice(
        Bus(mem_size=1 << 22, nvec=5),
        DeviceConfig(max_queues=4, **kw),  # type: ignore[arg-type]
        faults,
        tx_window=window,
    )


def cdescs(q: Queue, n: int) -> np.ndarray:
    """The first ``n`` TX cdescs of ``q``'s CQ ring, raw."""
    return q.bus.mem.array(q.cq_ba, TX_CDESC_DTYPE, q.depth)[:n].copy()


def test_tx_window_of_two_permutes_pairs() -> None:
    dev = tx_device(seed=1, tx_window=2)
    q = make_queue(dev, SqDirection.TX, 64)
    for i in range(32):
        send_host(q, b"w" * 60, 1, i)
    dev.complete_tx()
    got = [r for r, _ in tx_completions(q)]
    assert got != list(range(32))
    assert all(sorted(got[k : k + 2]) == [k, k + 1] for k in range(0, 32, 2))


def test_tx_cdesc_reports_the_sq_head() -> None:
    dev = tx_device()
    q = make_queue(dev, SqDirection.TX, 64)
    for i in range(3):
        send_host(q, b"h" * 120, 2, i)
    dev.complete_tx()
    assert cdescs(q, 3)["sq_head_idx"].tolist() == [6, 6, 6]


def crossed_tx_queues(dev: EnaDevice, depth: int) -> list[Queue]:
    """Two TX queues whose CQ order is the reverse of their SQ order: SQ 0 completes to
    CQ 1 and SQ 1 to CQ 0."""
    bus = dev.bus
    cqs = []
    for vector in (1, 2):
        ba = bus.mem.alloc(depth * 8, 4096)
        resp = dev.create_cq(CreateCqCmd(depth, ba, vector, 2))
        cqs.append((resp, ba, vector))
    out = []
    for resp, cq_ba, vector in reversed(cqs):
        sq_ba = bus.mem.alloc(depth * 16, 4096)
        sq = dev.create_sq(
            CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, resp.cq_idx, depth, sq_ba)
        )
        out.append(
            Queue(
                dev,
                bus,
                depth,
                SqDirection.TX,
                False,
                sq.sq_idx,
                resp.cq_idx,
                sq_ba,
                cq_ba,
                sq.sq_doorbell_offset,
                resp.cq_interrupt_unmask_register_offset,
                sq.llq_descriptors_offset,
                vector,
            )
        )
    return out


def test_tx_completions_of_two_queues_stay_in_order_on_crossed_cqs() -> None:
    dev = tx_device()
    q0, q1 = crossed_tx_queues(dev, 64)
    assert (q0.sq_idx, q0.cq_idx, q1.sq_idx, q1.cq_idx) == (0, 1, 1, 0)
    for i in range(24):
        send_host(q0, b"a" * 60, 1, i)
        send_host(q1, b"b" * 60, 1, 100 + i)
    assert dev.complete_tx() == 48
    assert [r for r, _ in tx_completions(q0)] == list(range(24))
    assert [r for r, _ in tx_completions(q1)] == list(range(100, 124))


def test_tx_req_id_dup_knob_within_each_queue_and_its_count() -> None:
    dev = tx_device(Faults(tx_req_id_dup=1.0))
    qs = [make_queue(dev, SqDirection.TX, 16, vector=1 + k) for k in range(2)]
    for i in range(4):
        for q in qs:
            send_host(q, b"d" * 60, 1, i)
    dev.complete_tx()
    # the first completion of a queue has no previous one: it keeps its own id
    assert [[r for r, _ in tx_completions(q)] for q in qs] == [[0, 0, 1, 2]] * 2
    assert dev.stats.tx_req_id_dup == 6
    half = tx_device(Faults(tx_req_id_dup=0.5), seed=4)
    q = make_queue(half, SqDirection.TX, 64)
    for i in range(40):
        send_host(q, b"d" * 60, 1, i)
    half.complete_tx()
    got = [r for r, _ in tx_completions(q)]
    repeats = sum(r == i - 1 for i, r in enumerate(got))
    assert 0 < repeats < 39 and half.stats.tx_req_id_dup == repeats


def test_tx_req_id_stale_knob_names_only_ids_not_in_flight() -> None:
    # all 8 ids of a depth-8 queue in flight: no stale id exists, the completions are true
    full = tx_device(Faults(tx_req_id_stale=1.0))
    q = make_queue(full, SqDirection.TX, 8)
    for i in range(8):
        send_host(q, b"s" * 60, 1, i)
    full.complete_tx()
    assert [r for r, _ in tx_completions(q)] == list(range(8))
    assert full.stats.tx_req_id_stale == 0
    # two queues, each with exactly one free id (7 on one, 0 on the other)
    dev = tx_device(Faults(tx_req_id_stale=1.0), seed=2)
    qa = make_queue(dev, SqDirection.TX, 8, vector=1)
    qb = make_queue(dev, SqDirection.TX, 8, vector=2)
    for i in range(7):
        send_host(qa, b"s" * 60, 1, i)
        send_host(qb, b"s" * 60, 1, i + 1)
    dev.complete_tx()
    assert [r for r, _ in tx_completions(qa)] == [7] * 7
    assert [r for r, _ in tx_completions(qb)] == [0] * 7
    assert dev.stats.tx_req_id_stale == 14


def test_req_id_oob_knobs_name_ids_at_or_above_the_depth() -> None:
    # depth 1024: an id drawn below the depth would show up within a few hundred draws
    tx = tx_device(Faults(tx_req_id_oob=1.0), seed=6)
    q = make_queue(tx, SqDirection.TX, 1024)
    for i in range(400):
        send_host(q, b"o" * 60, 1, i, doorbell=False)
    q.ring_doorbell()
    tx.complete_tx()
    got = [r for r, _ in tx_completions(q)]
    assert len(got) == 400 and min(got) >= 1024
    rx = tx_device(Faults(rx_req_id_invalid=1.0), seed=6)
    r = make_queue(rx, SqDirection.RX, 1024)
    post_rx(r, 400, 64)
    rx.receive(PacketBatch.from_frames([b"i" * 60] * 400))
    rx.rx()
    ids = [int(c["req_id"]) for c in rx_completions(r)]
    assert len(ids) == 400 and min(ids) >= 1024


# -- TX descriptor rules


def publish(q: Queue, descs: list[np.ndarray]) -> None:
    """Write ``descs`` at the SQ tail with the pass's phase and ring the doorbell."""
    ring = q.bus.mem.array(q.sq_ba, TX_DESC_DTYPE, q.depth)
    for d in descs:
        d["len_ctrl"] = d["len_ctrl"] | np.uint32(TxDesc.PHASE.put(q.phase(q.tail)))
        ring[q.tail & (q.depth - 1)] = d[0]
        q.tail += 1
    q.ring_doorbell()


def set_bits(d: np.ndarray, mask: int, on: bool) -> np.ndarray:
    lc = int(d["len_ctrl"][0])
    d["len_ctrl"] = np.uint32(lc | mask if on else lc & ~mask)
    return d


def test_tx_first_must_be_on_the_opening_descriptor_only_and_data_must_follow() -> None:
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 64)
    first = TxDesc.FIRST.mask
    two_firsts = tx_descs(q, b"a" * 80, 2, 1, meta=False)
    set_bits(two_firsts[1], first, True)
    late_first = tx_descs(q, b"b" * 80, 2, 2, meta=False)
    set_bits(late_first[0], first, False)
    set_bits(late_first[1], first, True)
    meta_only = tx_descs(q, b"c" * 60, 1, 3, meta=True)[:1]  # a meta descriptor, no data
    set_bits(meta_only[0], TxDesc.LAST.mask, True)
    good = tx_descs(q, b"g" * 70, 2, 4, meta=True)
    publish(q, two_firsts + late_first + meta_only + good)
    assert sink.got == [b"g" * 70]
    assert dev.stats.tx_malformed == 3 and dev.stats.tx_dma_error == 0
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == [4]
    assert q.tail == 2 + 2 + 1 + 3  # every descriptor was consumed
    assert int(dev.queues.sq_head[q.sq_idx]) == q.tail


def test_tx_buffer_bounds_apply_to_every_byte_and_to_no_empty_buffer() -> None:
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 64)
    size = dev.bus.mem.size
    one_byte_out = tx_descs(q, b"x" * 61, 2, 1, meta=False)  # 31 + 30 bytes
    tail = one_byte_out[1]
    tail["len_ctrl"] = np.uint32(
        int(tail["len_ctrl"][0]) & ~TxDesc.LENGTH.mask | TxDesc.LENGTH.put(1)
    )
    tail["buff_addr_lo"] = np.uint32(size)  # the one byte lies just past host memory
    empty_anywhere = tx_descs(q, b"y" * 60, 2, 2, meta=False)
    empty_anywhere.insert(1, set_bits(np.zeros(1, TX_DESC_DTYPE), 0, True))
    empty_anywhere[1]["buff_addr_lo"] = np.uint32(size + 4096)  # 0 bytes: nothing to read
    publish(q, one_byte_out + empty_anywhere)
    assert sink.got == [b"y" * 60]
    assert dev.stats.tx_dma_error == 1 and dev.stats.tx_malformed == 0


def test_tx_host_mode_ignores_the_header_length_field() -> None:
    # Linux's ena_tx_map_skb fills header_len in host mode too; only LLQ pushes a header
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 16)
    descs = tx_descs(q, b"e" * 14 + b"p" * 66, 2, 5, meta=False)
    descs[0]["buff_addr_hi_hdr_sz"] = np.uint32(TxDesc.HEADER_LENGTH.put(14))
    publish(q, descs)
    assert sink.got == [b"e" * 14 + b"p" * 66] and dev.stats.tx_malformed == 0


# -- phase windows over several queues (segs.clean_prefix)


def test_tx_a_bad_phase_on_one_queue_does_not_stop_the_next_queue() -> None:
    dev, sink = device()
    qa = make_queue(dev, SqDirection.TX, 16, vector=1)
    qb = make_queue(dev, SqDirection.TX, 16, vector=2)
    send_host(qa, b"a" * 60, 1, 0, doorbell=False)
    ring = dev.bus.mem.array(qa.sq_ba, TX_DESC_DTYPE, 16)
    ring[0]["len_ctrl"] ^= np.uint32(TxDesc.PHASE.mask)
    send_host(qb, b"b" * 60, 1, 0, doorbell=False)  # one descriptor each
    dev.bus.regs.write32_batch(np.array([qa.doorbell, qb.doorbell]), np.array([1, 1]))
    assert sink.got == [b"b" * 60] and dev.stats.tx_bad_phase == 1


def test_rx_a_valid_buffer_behind_a_bad_phase_is_not_usable() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 16)
    post_rx(q, 3, 128, doorbell=False)
    ring = dev.bus.mem.array(q.sq_ba, RX_DESC_DTYPE, 16)
    for i in (0, 2):  # bad, good, bad: the window ends before the first
        ring[i]["ctrl"] ^= np.uint8(RxDesc.PHASE.mask)
    q.ring_doorbell()
    dev.receive(PacketBatch.from_frames([b"z" * 60]))
    assert dev.rx() == 0 and dev.stats.rx_no_buffer == 1 and rx_completions(q) == []


# -- RSS inputs


def test_rss_fields_select_each_address_and_port_on_their_own() -> None:
    d, dp, s, sp, *_ = MS_IPV4[0]
    fs = [frame(s, d, sp, dp), frame(s, d, sp, dp, proto=17)]
    p = parse(PacketBatch.from_frames(fs))
    rss = RssConfig(hw_key=MS_KEY[::-1])
    rss.fields[FlowHashProto.TCP4] = FlowHashFields.L3_SA | FlowHashFields.L4_SP
    rss.fields[FlowHashProto.UDP4] = FlowHashFields.L3_DA | FlowHashFields.L4_DP
    rows = [addr(s) + struct.pack("!H", sp), addr(d) + struct.pack("!H", dp)]
    tables = toeplitz_tables(MS_KEY)
    want = toeplitz(tables, np.array([list(r.ljust(MAX_INPUT, b"\0")) for r in rows], np.uint8))
    assert rss.hash(p).tolist() == want.tolist()


def test_rss_crc32_hashes_each_frame_over_its_own_input_length() -> None:
    d, dp, s, sp, *_ = MS_IPV4[1]
    d6, dp6, s6, sp6, *_ = VECTORS[5]
    fs = [frame(s, d, sp, dp), frame(s6, d6, sp6, dp6), frame(s, d, sp, dp, frag=0x2000)]
    p = parse(PacketBatch.from_frames(fs))
    rss = RssConfig(function=HashFunction.CRC32, init_val=0xFFFFFFFF)
    want = [
        addr(s) + addr(d) + struct.pack("!HH", sp, dp),
        addr(s6) + addr(d6) + struct.pack("!HH", sp6, dp6),
        addr(s) + addr(d),  # a fragment: IP4_FRAG's fields, the addresses only
    ]
    assert rss.hash(p).tolist() == [zlib.crc32(w) ^ 0xFFFFFFFF for w in want]


def test_rss_input_sort_is_symmetric_for_every_flow_of_a_batch() -> None:
    fs = [frame(s, d, sp, dp) for d, dp, s, sp, *_ in VECTORS]
    fs += [frame(d, s, dp, sp) for d, dp, s, sp, *_ in VECTORS]
    rss = RssConfig(hw_key=MS_KEY[::-1], l3_sort=True, l4_sort=True)
    h = rss.hash(parse(PacketBatch.from_frames(fs))).tolist()
    n = len(VECTORS)
    assert h[:n] == h[n:] and len(set(h[:n])) == n


def test_toeplitz_key_must_cover_the_input_plus_32_bits() -> None:
    with pytest.raises(ValueError):
        toeplitz_tables(MS_KEY[:39])  # 36 input bytes need 40 key bytes
    assert toeplitz_tables(MS_KEY[:40]).shape == (MAX_INPUT, 256)


def test_rx_frames_before_any_buffer_is_posted_are_dropped() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.RX, 16)
    dev.receive(PacketBatch.from_frames([b"n" * 60, b"m" * 70]))
    assert dev.rx() == 0 and dev.stats.rx_no_buffer == 2 and dev.stats.rx_bad_phase == 0
    assert rx_completions(q) == []
