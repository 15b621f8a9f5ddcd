"""The driver's datapath rules, each on a hand-built scenario with the numbers of the C:
doorbell every 64 packets or at the LLQ burst limit, queue stop at max_tx_sgl_size + 2 and
resume at 21, TX completion checks in order (phase, MBZ, range, in flight) with their
reset reasons, RX budget and refill threshold, collapse/map rules, first reason wins,
nothing moves after a reset, bad input refused with nothing changed."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_harness import World, batch, complete, rx_write, state_of, world

from impl.ena.driver import Policy
from impl.ena.rxflags import (
    CSUM_IP_CHECKED,
    CSUM_IP_VALID,
    M_HASHTYPE_NONE,
    M_HASHTYPE_OPAQUE_HASH,
    M_HASHTYPE_RSS_IPV6,
    M_HASHTYPE_RSS_TCP_IPV4,
    M_HASHTYPE_RSS_UDP_IPV6,
    rx_checksum,
    rx_hash_type,
)
from impl.ena_defs.constants import L3Proto, L4Proto
from impl.ena_defs.layouts import RxCdesc
from impl.ena_defs.regs import ResetReason
from impl.packets import PacketBatch


def doorbells(w: World) -> list[int]:
    return [v for off, v in w.log.writes if off == int(w.drv.tx.db_off[0])]


def test_doorbell_every_64_packets_then_at_the_end() -> None:
    w = world(tx_ring_size=1024)
    r = w.drv.transmit(batch(w, [60] * 200))
    assert r.xmit.sent.size == 200
    assert doorbells(w) == [64, 128, 192, 200]
    assert int(w.drv.tx.stats.doorbells[0]) == 4
    assert int(w.drv.tx.acum_pkts[0]) == 0


def test_llq_burst_limit_rings_before_the_entry_that_would_overflow() -> None:
    # 1024 B / 128 B entries = 8 entries per burst; a 60 B frame is one entry (header only)
    w = world(tx_ring_size=1024, llq=True, max_tx_burst_bytes=1024)
    w.drv.transmit(batch(w, [60] * 20))
    assert doorbells(w) == [8, 16, 20]
    assert int(w.drv.tx.burst_left[0]) == 8
    # the header went to the LLQ BAR entry at byte 32, after the descriptor
    entry = w.bus.llq.data[int(w.drv.tx.llq_off[0]):][:128]
    assert np.array_equal(entry[32:92], w.bus.mem.data[int(w.drv.tx.drbr.addr[0, 0]):][:60])


def test_queue_stops_below_max_sgl_plus_2_and_resumes_at_21() -> None:
    w = world(tx_ring_size=64)
    r = w.drv.transmit(batch(w, [100] * 100))
    # free after k one-descriptor packets is 63 - k; it stops once 63 - k < 19 + 2
    assert r.xmit.sent.size == 43
    assert not w.drv.tx.running[0]
    assert int(w.drv.tx.stats.queue_stop[0]) == 1
    assert w.drv.queued() == 57
    complete(w, [0])  # free becomes 21: ENA_TX_RESUME_THRESH
    w.drv.cleanup()
    assert w.drv.tx.running[0]
    assert int(w.drv.tx.stats.queue_wakeup[0]) == 1
    assert w.drv.unaccounted() == 0


def test_completion_checks_run_in_the_c_order() -> None:
    # MBZ and an out-of-range id on the same completion: MBZ is checked first (17)
    w = world(tx_ring_size=64)
    w.drv.transmit(batch(w, [100] * 4))
    complete(w, [0, 70], [0, 0x40])
    c = w.drv.cleanup()
    assert c.completed.tolist() == [0]
    assert w.drv.reset.reason == ResetReason.TX_DESCRIPTOR_MALFORMED
    assert int(w.drv.tx.cq_head[0]) == 1  # the malformed entry is not consumed


@pytest.mark.parametrize("policy,reads", [(Policy.SHIPPED, 1), (Policy.HARDENED, 0)])
def test_out_of_range_req_id(policy: Policy, reads: int) -> None:
    w = world(tx_ring_size=64, policy=policy)
    w.drv.transmit(batch(w, [100] * 4))
    complete(w, [1, 64])
    w.drv.cleanup()
    tx = w.drv.tx
    assert w.drv.reset.reason == ResetReason.INV_TX_REQ_ID
    assert int(tx.stats.bad_req_id[0]) == 1
    assert int(tx.cq_head[0]) == 1
    assert int(tx.stats.tx_info_oob_reads[0]) == reads


def test_duplicate_completion_is_consumed_then_refused() -> None:
    w = world(tx_ring_size=64)
    w.drv.transmit(batch(w, [100] * 4))
    complete(w, [2, 2, 3])
    c = w.drv.cleanup()
    assert c.completed.tolist() == [2]
    assert w.drv.reset.reason == ResetReason.INV_TX_REQ_ID
    assert int(w.drv.tx.stats.bad_req_id[0]) == 0
    assert int(w.drv.tx.cq_head[0]) == 2  # the duplicate's head++ happened
    assert w.drv.in_flight() == 3


def test_stale_phase_is_nothing_new() -> None:
    w = world(tx_ring_size=64)
    w.drv.transmit(batch(w, [100] * 2))
    assert w.drv.tx.cq is not None
    w.drv.tx.cq[0, 0]["req_id"] = 0
    w.drv.tx.cq[0, 0]["flags"] = 0  # phase 0 on the first pass: not written yet
    c = w.drv.cleanup()
    assert c.completed.size == 0 and not w.drv.reset.triggered


def test_rx_budget_counts_descriptors_and_refill_waits_for_the_threshold() -> None:
    w = world(rx_ring_size=1024)
    rx = w.drv.rx
    rx_write(w, 0, [[100, 100]] * 140)  # 280 descriptors
    out = w.drv.rx.cleanup(np.array([0]), True)
    # 128 packets use 256 descriptors: the budget is spent, the rest waits
    assert out.lengths.size == 128 and bool(out.again[0])
    assert (out.lengths == 200).all()
    # 256 free > min(1024 / 8, 256) = 128: refilled, doorbell written
    assert rx.free(np.array([0]))[0] == 0
    assert doorbells_rx(w) == [(1023 + 256) & 0xFFFF]


def doorbells_rx(w: World) -> list[int]:
    return [v for off, v in w.log.writes if off == int(w.drv.rx.db_off[0])]


def test_rx_refill_threshold_not_reached() -> None:
    w = world(rx_ring_size=1024)
    rx_write(w, 0, [[64]] * 100)
    w.drv.rx.cleanup(np.array([0]), True)
    assert doorbells_rx(w) == []
    assert w.drv.rx.free(np.array([0]))[0] == 100


@pytest.mark.parametrize("bad,reason", [
    (RxCdesc.MBZ7.mask, ResetReason.RX_DESCRIPTOR_MALFORMED),
])
def test_rx_malformed_returns_without_refill(bad: int, reason: ResetReason) -> None:
    w = world(rx_ring_size=64)
    rx_write(w, 0, [[64], [64]], status=0)
    assert w.drv.rx.cq is not None
    w.drv.rx.cq[0, 1]["status"] |= bad
    ntc = int(w.drv.rx.next_to_clean[0])
    out = w.drv.rx.cleanup(np.array([0]), True)
    assert out.lengths.size == 1 and int(out.reasons[0]) == reason
    assert int(w.drv.rx.next_to_clean[0]) == ntc  # not written back on this path


def test_too_many_rx_descs() -> None:
    w = world(rx_ring_size=64, max_rx_sgl_size=3)
    rx_write(w, 0, [[64] * 4])
    out = w.drv.rx.cleanup(np.array([0]), True)
    assert int(out.reasons[0]) == ResetReason.TOO_MANY_RX_DESCS
    assert int(w.drv.rx.stats.bad_desc_num[0]) == 1


def test_first_reason_wins_rx_before_tx_in_a_round() -> None:
    w = world(tx_ring_size=64, rx_ring_size=64)
    w.drv.transmit(batch(w, [100] * 2))
    complete(w, [63])  # never sent: INV_TX_REQ_ID
    rx_write(w, 0, [[64, 64]])
    assert w.drv.rx.cq is not None
    w.drv.rx.cq[0, 1]["status"] |= RxCdesc.FIRST.mask  # FIRST on a non-first: 16
    w.drv.cleanup()
    assert w.drv.reset.reason == ResetReason.RX_DESCRIPTOR_MALFORMED


def test_nothing_moves_after_a_reset() -> None:
    w = world(tx_ring_size=64)
    w.drv.transmit(batch(w, [100] * 2))
    complete(w, [9])
    w.drv.cleanup()
    assert w.drv.reset.triggered
    b = batch(w, [100] * 3)
    before = state_of(w)
    r = w.drv.transmit(b)
    assert (r.error == errno.ENODEV).all() and (r.ids == -1).all()
    assert w.drv.cleanup().completed.size == 0
    after = state_of(w)
    for k in before:
        if k != "mem":
            assert np.array_equal(np.asarray(before[k], dtype=object),
                                  np.asarray(after[k], dtype=object)) or before[k] == after[k]


def test_frames_outside_host_memory_are_refused_with_nothing_changed() -> None:
    w = world()
    before = state_of(w)
    with pytest.raises(ValueError, match="host memory"):
        w.drv.transmit(PacketBatch.from_frames([b"x" * 60]))
    with pytest.raises(ValueError, match="lengths"):
        w.drv.transmit(batch(w, [70000]))
    assert w.drv.accounting.accepted == 0
    assert before["tx.tail"].tolist() == state_of(w)["tx.tail"].tolist()  # type: ignore[union-attr]


def test_collapse_and_the_max_sgl_chain_the_dma_tag_refuses() -> None:
    # 19 segments, 60 B < 96 B LLQ header: the collapse rule lets it through, the DMA tag
    # (18 segments) refuses it: dropped, counted
    w = world(llq=True)
    r = w.drv.transmit(batch(w, [60, 300], [19, 19]))
    st = w.drv.tx.stats
    assert r.xmit.sent.tolist() == [] and r.xmit.dropped.tolist() == [0]
    assert int(st.dma_mapping_err[0]) == 1 and int(st.collapse[0]) == 0
    assert w.drv.accounting.dropped["dma_mapping_err"] == 1
    # the next packet (300 B, 19 segments) is collapsed into one 2 KB cluster and sent
    w.drv.start_xmit()
    assert int(st.collapse[0]) == 1 and int(st.cnt[0]) == 1
    assert w.drv.unaccounted() == 0


def test_u8_header_size_as_shipped_and_hardened() -> None:
    # host mode: the device says 300; as shipped the uint8_t keeps 44
    shipped = world(device_max_header_size=300)
    hardened = world(device_max_header_size=300, policy=Policy.HARDENED)
    assert shipped.drv.tx.cfg.tx_max_header_size == 44
    assert hardened.drv.tx.cfg.tx_max_header_size == 256  # ena_com's min(dev, 256)
    # a 19-segment 100-byte frame: sent as is (hardened, < 256) or collapsed (shipped)
    for w, collapsed in ((shipped, 1), (hardened, 0)):
        w.drv.transmit(batch(w, [100], [19]))
        assert int(w.drv.tx.stats.collapse[0]) == collapsed


def test_checksum_flags_and_hash_types_as_freebsd_reports_them() -> None:
    l3 = np.array([L3Proto.IPV4, L3Proto.IPV4, L3Proto.IPV6, L3Proto.IPV4, 0])
    l4 = np.array([L4Proto.TCP, L4Proto.UDP, L4Proto.UDP, 0, L4Proto.TCP])
    l3e = np.array([0, 1, 0, 0, 0])
    l4e = np.array([0, 0, 1, 0, 0])
    flags, good, bad = rx_checksum(l3, l4, l3e, l4e)
    ok = CSUM_IP_CHECKED | CSUM_IP_VALID
    assert flags.tolist() == [ok, 0, 0, 0, ok]
    assert good.tolist() == [1, 0, 0, 0, 1] and bad.tolist() == [0, 1, 1, 0, 0]
    frag = np.array([0, 0, 0, 1, 1])
    assert rx_hash_type(l3, l4, frag, True).tolist() == [
        M_HASHTYPE_RSS_TCP_IPV4, 0x80 | 7, M_HASHTYPE_RSS_UDP_IPV6, M_HASHTYPE_OPAQUE_HASH,
        M_HASHTYPE_NONE]
    assert rx_hash_type(np.array([L3Proto.IPV6]), np.array([0]), np.array([0]),
                        True).tolist() == [M_HASHTYPE_RSS_IPV6]
    assert rx_hash_type(np.array([L3Proto.FCOE]), np.array([0]), np.array([0]),
                        True).tolist() == [M_HASHTYPE_OPAQUE_HASH]
    assert rx_hash_type(l3, l4, frag, False).tolist() == [0] * 5


@pytest.mark.parametrize("vectorized", [True, False])
def test_a_packet_missing_its_last_completion_resumes_next_call(vectorized: bool) -> None:
    from impl.ena import reference_loops as ref

    w = world(rx_ring_size=64)
    rx = w.drv.rx
    assert rx.cq is not None and rx.sq is not None

    def run() -> list[int]:
        if vectorized:
            return rx.cleanup(np.array([0]), True).lengths.tolist()
        out, _ = ref.rx_cleanup(rx, 0, True, [])
        return [len(p[0]) for p in out]

    rx_write(w, 0, [[100], [300, 200]])
    # the packet's second completion is not written yet (stale phase)
    rx.cq[0, 2]["status"] = 0
    assert run() == [100]
    assert int(rx.cur_count[0]) == 1 and int(rx.cq_head[0]) == 2
    rx.cq[0, 2]["status"] = RxCdesc.LAST.mask | 1 << 24
    rx.cq[0, 2]["length"] = 200
    assert run() == [500]
    assert int(rx.cur_count[0]) == 0 and int(rx.cur_start[0]) == 3
    assert int(rx.next_to_comp[0]) == 3
