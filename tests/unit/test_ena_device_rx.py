"""The device's RX side and the wire, through the bus: scatter over posted buffers,
FIRST/LAST, protocol/checksum/hash in the last completion, RSS queue choice, drops
without buffers; every fault knob; two devices back to back; pcap written and read back
with dpkt (an independent reader), and replayed as received traffic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire, replay
from impl.ena_defs import L3Proto, L4Proto, RxCdesc, SqDirection, TxCdesc
from impl.packets import PacketBatch
from tests.support.ena_wire_driver import (
    make_queue,
    post_rx,
    rx_completions,
    rx_packets,
    send_host,
    tx_completions,
)
from tests.unit.test_ena_rss import MS_IPV4, MS_KEY, frame


def device(seed: int = 0, faults: Faults | None = None) -> EnaDevice:
    return EnaDevice(Bus(mem_size=1 << 22, nvec=5), DeviceConfig(max_queues=4, seed=seed),
                     faults)


def st(c: np.void, field: RxCdesc) -> int:
    return int(field.get(int(c["status"])))


def test_frames_are_scattered_and_described_in_the_last_completion() -> None:
    dev = device()
    q = make_queue(dev, SqDirection.RX, 64)
    post_rx(q, 63, 128)
    d, dp, s, sp, *_ = MS_IPV4[0]
    fs = [frame(s, d, sp, dp, payload=b"p" * n) for n in (6, 200, 1000)]
    fs.append(frame(s, d, sp, dp, proto=17, payload=b"u" * 90))
    dev.rss.set_key(MS_KEY[::-1])
    dev.receive(PacketBatch.from_frames(fs))
    assert dev.rx() == 4
    pkts = rx_packets(q)
    assert [p for p, _ in pkts] == fs
    assert [len(c) for _, c in pkts] == [-(-len(f) // 128) for f in fs] == [1, 2, 9, 2]
    for (_, cds), l4 in zip(pkts, [L4Proto.TCP] * 3 + [L4Proto.UDP], strict=True):
        first, last = cds[0], cds[-1]
        assert st(first, RxCdesc.FIRST) == 1 and st(last, RxCdesc.LAST) == 1
        assert all(st(c, RxCdesc.FIRST) == 0 for c in cds[1:])
        assert all(st(c, RxCdesc.LAST) == 0 for c in cds[:-1])
        assert all(st(c, RxCdesc.BUFFER) == 1 for c in cds)
        assert st(last, RxCdesc.L3_PROTO_IDX) == L3Proto.IPV4
        assert st(last, RxCdesc.L4_PROTO_IDX) == l4
        assert st(last, RxCdesc.L4_CSUM_CHECKED) == 1
        assert st(last, RxCdesc.L3_CSUM_ERR) == 0 and st(last, RxCdesc.L4_CSUM_ERR) == 0
    assert [int(c[-1]["hash"]) for _, c in pkts[:3]] == [MS_IPV4[0][5]] * 3
    assert all(int(c["hash"]) == 0 for _, cds in pkts for c in cds[:-1])
    assert dev.stats.rx_pkts == 4 and dev.stats.rx_descs == 14


def test_checksum_errors_are_reported() -> None:
    dev = device()
    q = make_queue(dev, SqDirection.RX, 16)
    post_rx(q, 8, 2048)
    d, dp, s, sp, *_ = MS_IPV4[1]
    good = bytearray(frame(s, d, sp, dp))
    bad_ip = bytearray(good)
    bad_ip[14 + 10] ^= 0xFF
    bad_l4 = bytearray(good)
    bad_l4[-1] ^= 0xFF
    dev.receive(PacketBatch.from_frames([bytes(good), bytes(bad_ip), bytes(bad_l4)]))
    dev.rx()
    last = [c[-1] for _, c in rx_packets(q)]
    assert [st(c, RxCdesc.L3_CSUM_ERR) for c in last] == [0, 1, 0]
    assert [st(c, RxCdesc.L4_CSUM_ERR) for c in last] == [0, 0, 1]


def test_rss_spreads_frames_over_queues_by_the_indirection_table() -> None:
    dev = device()
    qs = [make_queue(dev, SqDirection.RX, 64, vector=1 + i) for i in range(2)]
    for q in qs:
        post_rx(q, 63, 2048)
    dev.rss.set_key(MS_KEY[::-1])
    dev.rss.table[:] = np.where(np.arange(128) % 2 == 0, qs[0].sq_idx, qs[1].sq_idx)
    fs = [frame(s, d, sp, dp) for d, dp, s, sp, *_ in MS_IPV4]
    want = [h for *_, h in MS_IPV4]
    dev.receive(PacketBatch.from_frames(fs))
    dev.rx()
    got = {q.sq_idx: rx_packets(q) for q in qs}
    for f, h in zip(fs, want, strict=True):
        q = qs[(h & 127) % 2]
        assert f in [p for p, _ in got[q.sq_idx]]
        cd = next(c for p, c in got[q.sq_idx] if p == f)
        assert int(cd[-1]["hash"]) == h
    assert dev.bus.msix.fired[1:3].tolist() == [0, 0]  # masked until unmasked
    qs[0].unmask_intr()
    assert dev.bus.msix.fired[1] == (1 if got[qs[0].sq_idx] else 0)


def test_frames_without_buffers_are_dropped_and_counted() -> None:
    dev = device()
    q = make_queue(dev, SqDirection.RX, 16)
    post_rx(q, 3, 100)
    dev.receive(PacketBatch.from_frames([b"a" * 150, b"b" * 150, b"c" * 60]))
    dev.rx()
    assert [p for p, _ in rx_packets(q)] == [b"a" * 150]
    assert dev.stats.rx_no_buffer == 2
    no_q = device()
    no_q.receive(PacketBatch.from_frames([b"x" * 60]))
    assert no_q.rx() == 0 and no_q.stats.rx_no_queue == 1


def test_rx_ring_wraps_with_phase() -> None:
    dev = device()
    q = make_queue(dev, SqDirection.RX, 8)
    for i in range(30):
        post_rx(q, 1, 64)
        dev.receive(PacketBatch.from_frames([bytes([i]) * 64]))
        dev.rx()
        assert [p for p, _ in rx_packets(q)] == [bytes([i]) * 64]


# -- fault knobs: each at rate 1 and what the completion shows


def tx_setup(faults: Faults, n: int = 4) -> tuple[EnaDevice, list[tuple[int, int]]]:
    dev = device(faults=faults)
    q = make_queue(dev, SqDirection.TX, 16)
    for i in range(n):
        send_host(q, b"t" * 60, 1, i)
    dev.complete_tx()
    return dev, tx_completions(q)


def test_tx_completion_knobs() -> None:
    dev, got = tx_setup(Faults(tx_req_id_oob=1.0))
    assert all(r >= 16 for r, _ in got) and dev.stats.tx_req_id_oob == 4
    dev, got = tx_setup(Faults(tx_req_id_dup=1.0))
    ids = [r for r, _ in got]
    assert ids[1:] == [0, 1, 2] and dev.stats.tx_req_id_dup == 3  # the first has no previous
    dev, got = tx_setup(Faults(tx_req_id_stale=1.0))
    assert all(4 <= r < 16 for r, _ in got) and dev.stats.tx_req_id_stale == 4
    dev, got = tx_setup(Faults(cdesc_mbz=1.0))
    assert [r for r, _ in got] == [0, 1, 2, 3]
    assert all(TxCdesc.MBZ6.get(f) == 3 for _, f in got)
    dev, got = tx_setup(Faults(tx_comp_lost=1.0))
    assert got == [] and dev.stats.tx_comp_lost == 4 and dev.pending_tx == 0


def rx_setup(faults: Faults, sizes: list[int]) -> tuple[EnaDevice, list[np.void]]:
    dev = device(faults=faults)
    q = make_queue(dev, SqDirection.RX, 64)
    post_rx(q, 63, 128)
    dev.receive(PacketBatch.from_frames([b"r" * n for n in sizes]))
    dev.rx()
    return dev, rx_completions(q)


def test_rx_completion_knobs() -> None:
    dev, cds = rx_setup(Faults(rx_first_not_first=1.0), [300, 60])
    assert [st(c, RxCdesc.FIRST) for c in cds] == [1, 1, 0, 1]  # 2nd of the 3-buffer one
    assert dev.stats.rx_first_not_first == 1
    dev, cds = rx_setup(Faults(rx_too_many_descs=1.0), [1000])
    assert len(cds) == 20 and sum(int(c["length"]) for c in cds) == 1000
    dev, cds = rx_setup(Faults(rx_req_id_invalid=1.0), [60, 60])
    assert all(int(c["req_id"]) >= 64 for c in cds)
    dev, cds = rx_setup(Faults(cdesc_mbz=1.0), [60])
    assert st(cds[0], RxCdesc.MBZ7) == 1 and dev.stats.rx_cdesc_mbz == 1


def test_fault_rates_are_reproducible_from_the_seed() -> None:
    def run(seed: int) -> list[int]:
        dev = device(seed=seed, faults=Faults(tx_req_id_oob=0.3))
        q = make_queue(dev, SqDirection.TX, 64)
        for i in range(40):
            send_host(q, b"s" * 60, 1, i)
        dev.complete_tx()
        return [r for r, _ in tx_completions(q)]

    assert run(1) == run(1) and run(1) != run(2)
    with pytest.raises(ValueError):
        Faults(cdesc_mbz=1.5)


# -- the wire


def test_two_devices_back_to_back() -> None:
    clock = SimClock()
    a, b = device(), device()
    wire = Wire(clock)
    wire.connect(a, b)
    tx = make_queue(a, SqDirection.TX, 32)
    rxq = make_queue(b, SqDirection.RX, 32)
    post_rx(rxq, 31, 512)
    fs = [bytes([i]) * (60 + 37 * i) for i in range(10)]
    for i, f in enumerate(fs):
        send_host(tx, f, 1 + i % 3, i)
    assert a.inbox == [] and b.rx() == 10
    assert [p for p, _ in rx_packets(rxq)] == fs
    assert wire.sent == 10


def test_pcap_is_readable_by_dpkt_byte_for_byte_and_replays(tmp_path: Path) -> None:
    dpkt = pytest.importorskip("dpkt")
    clock = SimClock(now_ns=1_700_000_000_123_456_000)
    dev = device()
    path = tmp_path / "tx.pcap"
    wire = Wire(clock, pcap=path)
    wire.loopback(dev)
    q = make_queue(dev, SqDirection.TX, 32)
    rng = np.random.default_rng(4)
    fs = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes()
          for n in rng.integers(60, 1514, 12)]
    for i, f in enumerate(fs):
        send_host(q, f, 2, i)
    wire.close()
    with path.open("rb") as fh:
        recs = list(dpkt.pcap.Reader(fh))
    assert [bytes(buf) for _, buf in recs] == fs
    ts = [t for t, _ in recs]
    assert ts == sorted(ts) and ts[0] == pytest.approx(1_700_000_000.123456)
    # replay into a fresh device's RX queue
    other = device()
    rxq = make_queue(other, SqDirection.RX, 64)
    post_rx(rxq, 63, 2048)
    assert replay(path, other) == 12 and other.rx() == 12
    assert [p for p, _ in rx_packets(rxq)] == fs
