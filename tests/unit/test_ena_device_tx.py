"""The device's TX side, driven through the bus only: host mode and LLQ (128/256 B
entries), FIRST/LAST/META, req_id split, phase across wraps, completions in and out of
order, interrupts with auto-mask, malformed descriptors, the LLQ burst limit."""

from __future__ import annotations

import numpy as np
import pytest
from support.ena_wire_driver import (
    device,
    make_queue,
    send_host,
    send_llq,
    tx_completions,
)

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire
from impl.ena_defs import SqDirection, TxCdesc, TxDesc


def frames(n: int, seed: int = 0, lo: int = 60, hi: int = 400) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, int(k), dtype=np.uint8).tobytes()
            for k in rng.integers(lo, hi, n)]


@pytest.mark.parametrize("meta", [False, True])
def test_host_mode_gathers_segments_and_completes_in_order(meta: bool) -> None:
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 64)
    fs = frames(5)
    ids = [3, 1023, 1024, 40000, 7]  # exercises the 10 + 6 bit split
    for f, nseg, rid in zip(fs, [1, 3, 2, 4, 1], ids, strict=True):
        send_host(q, f, nseg, rid, meta=meta)
    assert sink.got == fs
    assert dev.pending_tx == 5 and tx_completions(q) == []
    assert dev.complete_tx() == 5
    got = tx_completions(q)
    assert [r for r, _ in got] == ids
    assert all(TxCdesc.MBZ6.get(f) == 0 for _, f in got)
    assert dev.stats.tx_pkts == 5 and dev.stats.tx_descs == 11 + 5 * meta


def test_phase_flips_on_every_wrap_and_partial_packets_wait() -> None:
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 8)
    fs = frames(40, seed=1)
    sent = 0
    for i, f in enumerate(fs):
        send_host(q, f, 1 + i % 3, i)
        dev.complete_tx()
        assert [r for r, _ in tx_completions(q)] == [i]
        sent += 1
    assert sink.got == fs and q.tail > 5 * 8  # several wraps of the SQ and the CQ
    # a packet whose LAST descriptor is not yet published is not sent
    send_host(q, fs[0], 3, 99, doorbell=False)
    q.tail -= 1  # hide the last descriptor
    q.ring_doorbell()
    assert len(sink.got) == sent
    q.tail += 1
    q.ring_doorbell()
    assert sink.got[-1] == fs[0]


def test_out_of_order_completions_stay_within_the_window() -> None:
    dev, _ = device(seed=5, tx_window=8)
    q = make_queue(dev, SqDirection.TX, 256)
    for i in range(64):
        send_host(q, b"\xaa" * 60, 1, i)
    dev.complete_tx()
    got = [r for r, _ in tx_completions(q)]
    assert sorted(got) == list(range(64)) and got != list(range(64))
    for w in range(8):  # each run of 8 is a permutation of itself
        assert sorted(got[8 * w:8 * w + 8]) == list(range(8 * w, 8 * w + 8))
    again, _ = device(seed=5, tx_window=8)
    q2 = make_queue(again, SqDirection.TX, 256)
    for i in range(64):
        send_host(q2, b"\xaa" * 60, 1, i)
    again.complete_tx()
    assert [r for r, _ in tx_completions(q2)] == got  # one seed, one run


def test_complete_a_few_at_a_time() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.TX, 64)
    for i in range(10):
        send_host(q, b"x" * 64, 1, i)
    assert dev.complete_tx(max_per_queue=4) == 4 and dev.pending_tx == 6
    assert [r for r, _ in tx_completions(q)] == [0, 1, 2, 3]
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == list(range(4, 10))


def test_interrupt_fires_once_then_waits_for_unmask() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.TX, 64, vector=2)
    msix = dev.bus.msix
    q.unmask_intr()
    send_host(q, b"y" * 60, 1, 0)
    dev.complete_tx()
    assert msix.fired[2] == 1 and msix.masked[2]
    send_host(q, b"y" * 60, 1, 1)
    dev.complete_tx()
    assert msix.fired[2] == 1 and msix.pending[2]  # auto-masked
    q.unmask_intr()
    assert msix.fired[2] == 2  # the pending one fires on unmask
    assert dev.stats.unmasks == 2


@pytest.mark.parametrize("entry", [128, 256])
@pytest.mark.parametrize("meta", [False, True])
def test_llq_entries_carry_the_header_and_descriptors(entry: int, meta: bool) -> None:
    dev, sink = device(llq_entry_size=entry)
    q = make_queue(dev, SqDirection.TX, 64, llq=True)
    fs = frames(30, seed=2, lo=40, hi=1500)
    used = []
    for i, f in enumerate(fs):
        used.append(send_llq(q, f, 1 + i % (entry // 16 + 3), i, entry, meta=meta))
    assert sink.got == fs
    assert max(used) >= 3  # some packets span continuation entries
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == list(range(30))
    assert dev.stats.tx_llq_entries == sum(used)


def test_llq_burst_limit_drops_what_exceeds_it() -> None:
    dev, sink = device(llq_entry_size=128, max_tx_burst_bytes=4 * 128)
    q = make_queue(dev, SqDirection.TX, 64, llq=True)
    for i in range(6):  # 6 one-entry packets in one burst: 2 too many
        send_llq(q, bytes([i]) * 60, 1, i, 128, doorbell=False)
    q.ring_doorbell()
    assert len(sink.got) == 4 and dev.stats.llq_burst_overrun == 1
    assert dev.stats.llq_burst_dropped_pkts == 2
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == [0, 1, 2, 3]
    send_llq(q, b"z" * 60, 1, 9, 128)  # the next burst is fine
    assert sink.got[-1] == b"z" * 60


def test_llq_burst_overrun_knob_enforces_one_entry_less() -> None:
    dev, sink = device(llq_entry_size=128, max_tx_burst_bytes=4 * 128,
                       faults=Faults(llq_burst_overrun=1.0))
    q = make_queue(dev, SqDirection.TX, 64, llq=True)
    for i in range(4):
        send_llq(q, bytes([i]) * 60, 1, i, 128, doorbell=False)
    q.ring_doorbell()
    assert len(sink.got) == 3 and dev.stats.llq_burst_dropped_pkts == 1


def test_malformed_packets_are_dropped_without_completion() -> None:
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 64)
    ring = dev.bus.mem.array(q.sq_ba, TxDesc.dtype, 64)
    send_host(q, b"a" * 60, 1, 0)
    # MBZ bit 22 set on the data descriptor
    send_host(q, b"b" * 60, 1, 1, doorbell=False)
    ring[1]["len_ctrl"] |= np.uint32(1 << 22)
    # a packet without FIRST
    send_host(q, b"c" * 60, 2, 2, doorbell=False)
    ring[2]["len_ctrl"] &= np.uint32(~TxDesc.FIRST.mask & 0xFFFFFFFF)
    # a buffer outside host memory
    send_host(q, b"d" * 60, 1, 3, doorbell=False)
    ring[4]["buff_addr_hi_hdr_sz"] |= np.uint32(0xFFFF)
    send_host(q, b"e" * 60, 1, 4)
    assert sink.got == [b"a" * 60, b"e" * 60]
    assert dev.stats.tx_malformed == 2 and dev.stats.tx_dma_error == 1
    dev.complete_tx()
    assert [r for r, _ in tx_completions(q)] == [0, 4]


def test_a_wrong_phase_stops_the_queue_until_fixed() -> None:
    dev, sink = device()
    q = make_queue(dev, SqDirection.TX, 64)
    ring = dev.bus.mem.array(q.sq_ba, TxDesc.dtype, 64)
    send_host(q, b"a" * 60, 1, 0, doorbell=False)
    ring[0]["len_ctrl"] ^= np.uint32(TxDesc.PHASE.mask)
    q.ring_doorbell()
    assert sink.got == [] and dev.stats.tx_bad_phase == 1
    ring[0]["len_ctrl"] ^= np.uint32(TxDesc.PHASE.mask)
    q.ring_doorbell()
    assert sink.got == [b"a" * 60]


def test_doorbell_past_the_ring_is_refused() -> None:
    dev, _ = device()
    q = make_queue(dev, SqDirection.TX, 8)
    dev.bus.regs.write32(q.doorbell, 9)
    assert dev.stats.tx_doorbell_overrun == 1 and dev.queues.sq_tail[q.sq_idx] == 0


def test_two_queues_in_one_batched_doorbell_write() -> None:
    dev, sink = device()
    a = make_queue(dev, SqDirection.TX, 16)
    b = make_queue(dev, SqDirection.TX, 16, vector=2)
    send_host(a, b"A" * 60, 1, 1, doorbell=False)
    send_host(b, b"B" * 70, 2, 2, doorbell=False)
    dev.bus.regs.write32_batch(np.array([b.doorbell, a.doorbell]), np.array([b.tail, a.tail]))
    assert sorted(sink.got) == [b"A" * 60, b"B" * 70]
    dev.complete_tx()
    assert [r for r, _ in tx_completions(a)] == [1] and [r for r, _ in tx_completions(b)] == [2]


def test_loopback_wire_timestamps_increase() -> None:
    clock = SimClock()
    dev = EnaDevice(Bus(mem_size=1 << 20, nvec=3), DeviceConfig(max_queues=2), clock=clock)
    wire = Wire(clock)
    wire.loopback(dev)
    q = make_queue(dev, SqDirection.TX, 16)
    send_host(q, b"L" * 100, 1, 0)
    assert len(dev.inbox) == 1 and dev.inbox[0].frames() == [b"L" * 100]
    assert clock.now_ns == (100 + 20) * 8 / 10.0
