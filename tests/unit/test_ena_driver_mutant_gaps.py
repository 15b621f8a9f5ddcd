"""Behaviour of the ENA driver's datapath (impl/ena: ring, ragged, txclean, txq, txmap,
bufring, rxq, rxflags) that mutation testing (mutmut 3.8.1) showed the other ENA tests
leave unchecked.

Ring counters: every depth 2 .. 32768, ``slots``, first occurrences with more queues than
ids.  TX cleanup: MBZ bits without CDESC_MBZ, the TX_BUDGET ending one queue while another
stops, a bad id as the budget's last entry, counters that add up, a wake-up per resume.
TX xmit: one queue's stop leaves the next alone, an LLQ packet of exactly a burst of
entries and one of more (DRIVER_INVALID_STATE, the doorbell before it, no final one), the
collapse rule at exactly tx_max_header_size, drbr enqueues and advances.  RX: the refill
threshold (strictly more than min(ring / 8, 256) free, also with nothing new), another
round only on a spent budget, refill without room, the id a short refill leaves with its
mbuf, RSS_IPV4 / RSS_IPV6 for other L4, MBZ without CDESC_MBZ, req_id == depth and a
never-posted id (INV_RX_REQ_ID), bad_desc_num per packet, a malformed completion
consumed, a packet split across two calls (ena_com's start index and count).

Each test checks the driver against the protocol rule it implements, taken from model/
where the rule lives there (ena_reqid's completion verdicts and reset reasons, ena_txq's
stop and resume tests, ena_queue's free-entry count, ena_llq's entry count, ena_bits'
depths and slots, ena_llq's hardened header limit).
"""

from __future__ import annotations

import numpy as np
import pytest
from support.ena_harness import World, batch, complete, rx_write, world

from impl.ena import ragged, ring
from impl.ena.driver import Policy
from impl.ena.rxflags import M_HASHTYPE_RSS_IPV4, M_HASHTYPE_RSS_IPV6, rx_hash_type
from impl.ena.txclean import tx_cleanup
from impl.ena_defs.constants import (
    RX_REFILL_THRESH_DIVIDER,
    RX_REFILL_THRESH_PACKET,
    TX_BUDGET,
    L3Proto,
)
from impl.ena_defs.layouts import RxCdesc, TxCdesc
from impl.ena_defs.regs import ResetReason
from model import ena_bits, ena_llq, ena_queue, ena_reqid, ena_txq


def tx_ids(w: World, q: int = 0) -> ena_reqid.ReqIds:
    """The model's view of TX queue ``q``'s request ids (which are in flight)."""
    tx = w.drv.tx
    k = int(tx.cfg.depth).bit_length() - 1
    s = ena_reqid.reqid_init(k)
    return s.replace(in_flight=tuple(int(b) for b in tx.inflight[q]))


# ---------------------------------------------------------------------------- ring counters


def test_every_depth_the_model_allows_is_accepted() -> None:
    # q_depth = 2^k for MIN_LOG2 <= k <= MAX_LOG2: 2 is a valid ring, as is 32768.
    for k in range(ena_bits.MIN_LOG2, ena_bits.MAX_LOG2 + 1):
        assert ring.check_depth(int(ena_bits.depth(k))) == 1 << k
    with pytest.raises(ValueError, match=r"power of two in \[2, 32768\], got 48"):
        ring.check_depth(48)


def test_slots_are_the_model_s_slot_of_the_counter_k_places_on() -> None:
    counters = np.array([0, 5, 65535, 65530, 1023, 6])
    ks = np.array([0, 3, 1, 10, 1, 1])
    for log2 in (1, 4, 10, 15):
        want = [ena_bits.slot(int(ena_bits.add16(c, k)), log2)
                for c, k in zip(counters.tolist(), ks.tolist(), strict=True)]
        assert ring.slots(counters, ks, 1 << log2).tolist() == want


def test_first_occurrence_with_more_groups_than_values() -> None:
    # (queue 2, id 0) and (queue 0, id 1) of a 2-entry ring are different pairs, each
    # seen for the first time; (queue 2, id 0) again is a repeat.
    got = ragged.first_occurrence(np.array([0, 2, 2]), np.array([1, 0, 0]), 2)
    assert got.tolist() == [True, True, False]


# ---------------------------------------------------------------------------- TX cleanup


def test_tx_mbz_bits_are_ignored_when_the_device_lacks_cdesc_mbz() -> None:
    # ena_com_tx_comp_req_id_get tests MBZ only with ENA_ADMIN_CDESC_MBZ: without it the
    # completion's mbz argument is 0 and the id, in flight, is accepted.
    w = world(tx_ring_size=64, cdesc_mbz=False)
    w.drv.transmit(batch(w, [100] * 2))
    expected = ena_reqid.tx_expected_reason(tx_ids(w), 1, 0, 0)
    assert expected == ena_reqid.NORMAL
    complete(w, [0], [TxCdesc.MBZ6.mask])
    c = w.drv.cleanup()
    assert c.completed.tolist() == [0]
    assert not w.drv.reset.triggered
    assert int(w.drv.tx.cq_head[0]) == 1


def test_tx_cleanup_budget_ends_one_queue_while_another_stops_early() -> None:
    # ena_tx_cleanup takes at most TX_BUDGET = 128 completions per call: queue 0 (130
    # completions) spends the budget and asks for another round, queue 1 stops at its
    # first stale entry; the second round finishes queue 0.
    w = world(num_queues=2, tx_ring_size=1024)
    n0 = 130
    w.drv.transmit(batch(w, [100] * (n0 + 1)), flowid=np.r_[np.zeros(n0), 1].astype(int),
                   hashtype=np.ones(n0 + 1, dtype=int))
    complete(w, list(range(n0)), q=0)
    complete(w, [0], q=1)
    first = tx_cleanup(w.drv.tx, np.array([0, 1]), True, False)
    assert first.completed.size == TX_BUDGET + 1
    assert first.again.tolist() == [True, False] and first.reasons.tolist() == [0, 0]
    assert w.drv.tx.cq_head.tolist() == [TX_BUDGET, 1]
    w.drv.cleanup()
    assert w.drv.in_flight() == 0 and not w.drv.reset.triggered


def test_tx_cleanup_bad_id_as_the_budget_s_last_completion() -> None:
    # 127 good completions, then an out-of-range req_id as the 128th entry the budget
    # admits: the verdict of that last entry still counts (INV_TX_REQ_ID, bad_req_id).
    w = world(tx_ring_size=1024)
    w.drv.transmit(batch(w, [100] * TX_BUDGET))
    bad = 2000
    complete(w, [*range(TX_BUDGET - 1), bad])
    s = tx_ids(w)
    c = tx_cleanup(w.drv.tx, np.array([0]), True, False)
    assert c.completed.size == TX_BUDGET - 1 and not c.again.any()
    assert c.reasons.tolist() == [ena_reqid.tx_expected_reason(s, 1, 0, bad)]
    assert int(w.drv.tx.stats.bad_req_id[0]) == 1
    # the counters add up (counter_u64_add): the same bad entry read again counts again
    tx_cleanup(w.drv.tx, np.array([0]), True, False)
    assert int(w.drv.tx.stats.bad_req_id[0]) == 2
    assert int(w.drv.tx.stats.tx_info_oob_reads[0]) == 2


def test_each_resume_of_a_stopped_queue_counts_a_wakeup() -> None:
    # Stopped at 43 packets (64 entries), resumed by a completion that frees 21 entries
    # (ENA_TX_RESUME_THRESH), stopped again by the next pass, resumed again: two stops,
    # two wake-ups (counter_u64_add each time).
    w = world(tx_ring_size=64)
    tx = w.drv.tx
    w.drv.transmit(batch(w, [100] * 100))
    for n in (1, 2):
        assert not tx.running[0] and int(tx.stats.queue_stop[0]) == n
        k = int(tx.cfg.depth).bit_length() - 1
        used = int(ring.used_entries(tx.tail[0], tx.next_to_comp[0]))
        stopped = ena_txq.txq_init(k).replace(used=used, running=0)
        resumed = ena_txq.tx_cleanup(stopped, 1)
        assert resumed.guard and resumed.post.running == 1
        ids = np.flatnonzero(tx.inflight[0])
        complete(w, [int(ids[0])])
        w.drv.cleanup()
        assert tx.running[0] and int(tx.stats.queue_wakeup[0]) == n
        w.drv.start_xmit()


# ---------------------------------------------------------------------------- TX xmit


def test_a_queue_that_stops_does_not_stop_the_next_queue() -> None:
    # Queue 0 (64 entries) stops after 43 packets (fewer than max_tx_sgl_size + 2 free);
    # queue 1's single packet is judged on queue 1's own state: running, room, sent.
    w = world(num_queues=2, tx_ring_size=64)
    n0 = 60
    r = w.drv.transmit(batch(w, [100] * (n0 + 1)), flowid=np.r_[np.zeros(n0), 1].astype(int),
                       hashtype=np.ones(n0 + 1, dtype=int))
    fresh = ena_txq.txq_init(6, w.drv.tx.cfg.max_tx_sgl_size)
    step = ena_txq.tx_xmit(fresh, 1)
    assert step.guard and step.post.running == 1
    tx = w.drv.tx
    assert np.bincount(r.queue[np.isin(r.ids, r.xmit.sent)], minlength=2).tolist() == [43, 1]
    assert tx.running.tolist() == [False, True]
    assert tx.stats.queue_stop.tolist() == [1, 0]


def tx_doorbells(w: World, q: int = 0) -> list[int]:
    return [v for off, v in w.log.writes if off == int(w.drv.tx.db_off[q])]


def llq_burst_world() -> World:
    w = world(llq=True, llq_entry_size=128, max_tx_burst_bytes=256)
    assert w.drv.tx.cfg.burst == 2 and w.drv.tx.cfg.descs_per_entry == 8
    return w


def test_llq_packet_of_exactly_a_burst_of_entries_is_sent() -> None:
    # 1000 B in 10 mbufs: the 96 B push header ends inside the first, so 10 data
    # descriptors, 1 + ceil((10 - 2) / 8) = 2 entries: the whole burst, not more.
    w = llq_burst_world()
    assert ena_llq.entries_needed(10, 8) == 2
    r = w.drv.transmit(batch(w, [1000], [10]))
    assert r.xmit.sent.tolist() == [0] and not w.drv.reset.triggered
    assert int(w.drv.tx.tail[0]) == 2 and int(w.drv.tx.stats.prepare_ctx_err[0]) == 0


def test_llq_packet_needing_more_entries_than_a_burst_is_an_invalid_state() -> None:
    # A (10 descriptors) takes the whole burst of 2 entries; B (12 descriptors) needs 3:
    # ena_com_is_doorbell_needed rings the doorbell before B (tail 2, acum_pkts back to
    # 0), B's first two entries go out and the third finds no burst left
    # (ENA_COM_NO_SPACE): DRIVER_INVALID_STATE, tail 4, the burst spent, and no final
    # doorbell since nothing was sent after the last one.
    w = llq_burst_world()
    assert ena_llq.entries_needed(10, 8) == 2 and ena_llq.entries_needed(12, 8) == 3
    r = w.drv.transmit(batch(w, [1000, 1200], [10, 12]))
    tx = w.drv.tx
    assert r.xmit.sent.tolist() == [0]
    assert w.drv.reset.reason == ResetReason.DRIVER_INVALID_STATE
    assert int(tx.stats.prepare_ctx_err[0]) == 1
    assert tx_doorbells(w) == [2]
    assert int(tx.tail[0]) == 4 and int(tx.acum_pkts[0]) == 0
    assert int(tx.burst_left[0]) == 0


def test_a_max_sgl_chain_as_long_as_the_push_header_is_collapsed() -> None:
    # ena_check_and_collapse_mbuf keeps a max_tx_sgl_size chain only when the packet is
    # *shorter* than tx_max_header_size (96 B with 128 B LLQ entries); one of exactly 96 B
    # is collapsed into one cluster and sent, not refused by the 18-segment DMA tag.
    w = world(llq=True, llq_entry_size=128)
    cfg = w.drv.tx.cfg
    assert cfg.tx_max_header_size == 96
    r = w.drv.transmit(batch(w, [96], [cfg.max_tx_sgl_size]))
    st = w.drv.tx.stats
    assert r.xmit.sent.tolist() == [0] and r.xmit.dropped.size == 0
    assert int(st.collapse[0]) == 1 and int(st.dma_mapping_err[0]) == 0


def test_drbr_enqueues_add_up_until_the_xmit_pass() -> None:
    # Two ena_mq_start calls before the start task runs: the buf_ring holds both
    # batches, and the xmit pass sends them in drbr_peek order.
    w = world(tx_ring_size=64)
    a, _, _ = w.drv.enqueue(batch(w, [100] * 3))
    b, _, _ = w.drv.enqueue(batch(w, [100] * 2))
    assert w.drv.queued() == 5 and int(w.drv.tx.drbr.count[0]) == 5
    assert w.drv.start_xmit().sent.tolist() == [*a.tolist(), *b.tolist()]
    assert w.drv.queued() == 0 and w.drv.unaccounted() == 0


def test_drbr_holds_exactly_the_packets_the_xmit_pass_left() -> None:
    # drbr_advance releases each sent packet's slot: after the 64-entry queue stops at
    # 43 packets, the buf_ring holds the other 17, in order, and nothing else.
    w = world(tx_ring_size=64)
    r = w.drv.transmit(batch(w, [100] * 60))
    assert r.xmit.sent.tolist() == r.ids[:43].tolist()
    assert sorted(w.drv.tx.drbr.queued_ids().tolist()) == r.ids[43:].tolist()


# ---------------------------------------------------------------------------- RX refill


def rx_free(w: World, q: int = 0) -> int:
    """ena_com_free_q_entries of RX SQ ``q``, by the model's rule."""
    rx = w.drv.rx
    k = int(rx.cfg.depth).bit_length() - 1
    sq = ena_queue.sq_init(k).replace(tail=int(rx.tail[q]), next_to_comp=int(rx.next_to_comp[q]))
    return int(ena_queue.free_q_entries(sq))


def rx_doorbells(w: World, q: int = 0) -> list[int]:
    return [v for off, v in w.log.writes if off == int(w.drv.rx.db_off[q])]


def test_rx_refill_needs_strictly_more_than_the_threshold_free_even_with_nothing_new() -> None:
    # ena_rx_cleanup refills when refill_required > min(ring_size / 8, 256): with 64
    # entries, 8 free is not enough, on the call that freed them nor on a later call that
    # finds nothing new; the ninth free entry is.
    w = world(rx_ring_size=64)
    thresh = min(64 // RX_REFILL_THRESH_DIVIDER, RX_REFILL_THRESH_PACKET)
    rx_write(w, 0, [[64]] * thresh)
    assert w.drv.rx.cleanup(np.array([0]), True).lengths.size == thresh
    assert rx_free(w) == thresh and rx_doorbells(w) == []
    w.drv.rx.cleanup(np.array([0]), True)  # nothing new
    assert rx_free(w) == thresh and rx_doorbells(w) == []
    rx_write(w, 0, [[64]])
    w.drv.rx.cleanup(np.array([0]), True)
    assert rx_free(w) == 0
    assert rx_doorbells(w) == [int(w.drv.rx.tail[0])]


def test_rx_cleanup_under_its_budget_does_not_ask_for_another_round() -> None:
    # ena_cleanup runs another round only while ena_rx_cleanup used its whole budget
    # (RX_BUDGET descriptors) or ena_tx_cleanup its TX_BUDGET; 3 packets use neither.
    w = world(rx_ring_size=64)
    rx_write(w, 0, [[64]] * 3)
    c = w.drv.cleanup()
    assert len(c.rx) == 1
    assert c.rx[0].lengths.size == 3 and not c.rx[0].again.any()


def test_rx_refill_without_room_posts_nothing_and_counts_each_partial_refill() -> None:
    # ena_refill_rx_bufs on a full ring (ena_up posted ring_size - 1): no descriptor fits
    # (ena_com_free_q_entries == 0), nothing is posted, refil_partial counts each call.
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    assert rx_free(w) == 0
    tail = int(rx.tail[0])
    for calls in (1, 2):
        assert rx.refill(np.array([0]), np.array([5])).tolist() == [0]
        assert int(rx.stats.refil_partial[0]) == calls
    assert int(rx.tail[0]) == tail and rx_free(w) == 0 and rx_doorbells(w) == []


def test_a_short_rx_refill_leaves_the_refused_id_with_its_mbuf() -> None:
    # ena_refill_rx_bufs allocates the mbuf of free_rx_ids[next_to_use] before
    # ena_com_add_single_rx_desc finds the ring full: asked for 7 with 5 free, ids
    # 63, 0..3 are posted and id 4, the sixth, keeps an mbuf (rx_info->mbuf != NULL)
    # that no descriptor carries.
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    rx_write(w, 0, [[64]] * 5)
    rx.cleanup(np.array([0]), True)  # 5 free: below the refill threshold
    assert rx_free(w) == 5 and int(rx.next_to_use[0]) == 63
    assert rx.refill(np.array([0]), np.array([7])).tolist() == [5]
    assert int(rx.stats.refil_partial[0]) == 1 and rx_free(w) == 0
    assert rx.sq is not None
    posted_ids = [int(rx.sq[0, s]["req_id"]) for s in (63, 0, 1, 2, 3)]
    assert posted_ids == [63, 0, 1, 2, 3]
    assert rx.posted[0].all()  # ids 0..3 and 5..63 posted, 4 only allocated
    assert int(rx.free_ids[0, int(rx.next_to_use[0])]) == 4


def test_rss_hash_type_of_ipv4_neither_tcp_nor_udp() -> None:
    # ena_rx_hash_mbuf: an IPv4 packet that is not a fragment and neither TCP nor UDP
    # gets M_HASHTYPE_RSS_IPV4 (with RSS active), IPv6 likewise RSS_IPV6.
    l3 = np.array([L3Proto.IPV4, L3Proto.IPV6])
    got = rx_hash_type(l3, np.array([0, 0]), np.array([0, 0]), True)
    assert got.tolist() == [M_HASHTYPE_RSS_IPV4, M_HASHTYPE_RSS_IPV6]


# ---------------------------------------------------------------------------- RX validation


def rx_one(w: World, req_id: int, status: int = 0, q: int = 0) -> None:
    """One single-descriptor RX packet at the CQ head, carrying ``req_id``."""
    rx = w.drv.rx
    assert rx.cq is not None
    d = rx.cfg.depth
    c = int(rx.cq_head[q])
    e = rx.cq[q, c % d]
    e["req_id"], e["length"] = req_id, 64
    e["status"] = (RxCdesc.FIRST.mask | RxCdesc.LAST.mask | status
                   | (1 ^ (c // d) & 1) << 24)


def rx_ids(w: World, q: int = 0) -> ena_reqid.ReqIds:
    """The model's view of RX queue ``q``'s request ids (which have a buffer posted)."""
    rx = w.drv.rx
    k = int(rx.cfg.depth).bit_length() - 1
    return ena_reqid.reqid_init(k).replace(in_flight=tuple(int(b) for b in rx.posted[q]))


def test_rx_mbz_bits_are_ignored_when_the_device_lacks_cdesc_mbz() -> None:
    # ena_com_cdesc_rx_pkt_get checks MBZ bits 7 and 17 only with ENA_ADMIN_CDESC_MBZ.
    w = world(rx_ring_size=64, cdesc_mbz=False)
    assert ena_reqid.rx_expected_reason(rx_ids(w), 1, 0, 0, 0) == ena_reqid.NORMAL
    rx_one(w, 0, RxCdesc.MBZ7.mask | RxCdesc.MBZ17.mask)
    out = w.drv.rx.cleanup(np.array([0]), False)
    assert out.lengths.tolist() == [64] and out.reasons.tolist() == [0]
    assert int(w.drv.rx.cq_head[0]) == 1 and int(w.drv.rx.cur_start[0]) == 1


@pytest.mark.parametrize("req_id", [64, 63])
def test_rx_req_id_at_the_depth_or_never_posted_is_inv_rx_req_id(req_id: int) -> None:
    # After a good packet, 64 == ring_size is out of range (ena_com_rx_pkt: req_id >=
    # q_depth, bad_req_id); 63 is in range but ena_up posted only ring_size - 1 buffers
    # (ids 0..62): no mbuf.
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    expected = ena_reqid.rx_expected_reason(rx_ids(w), 1, 0, 0, req_id)
    assert expected == ena_reqid.INV_RX_REQ_ID
    rx_one(w, 0)
    rx.cq_head[0] += 1  # write the second packet after the first ...
    rx_one(w, req_id)
    rx.cq_head[0] -= 1  # ... and read both
    out = rx.cleanup(np.array([0]), True)
    assert out.lengths.tolist() == [64] and out.reasons.tolist() == [expected]
    assert int(rx.stats.bad_req_id[0]) == (1 if req_id >= 64 else 0)
    # both packets were read whole: ena_com_cdesc_rx_pkt_get moved the start index past
    # them; ena_com_rx_pkt returned the bad one's descriptor to the SQ only when its id
    # was in range
    assert int(rx.cur_start[0]) == 2 and int(rx.cur_count[0]) == 0
    assert int(rx.next_to_comp[0]) == (1 if req_id >= 64 else 2)
    if req_id >= 64:  # counter_u64_add: a second bad id counts again
        rx_one(w, req_id)
        rx.cleanup(np.array([0]), True)
        assert int(rx.stats.bad_req_id[0]) == 2


def test_each_rx_packet_with_too_many_descriptors_counts() -> None:
    # ena_com_rx_pkt refuses more than max_rx_sgl_size descriptors (TOO_MANY_RX_DESCS,
    # bad_desc_num++), each time it meets such a packet.
    w = world(rx_ring_size=64, max_rx_sgl_size=3)
    rx = w.drv.rx
    for n in (1, 2):
        rx_write(w, 0, [[64] * 4])
        out = rx.cleanup(np.array([0]), True)
        assert out.reasons.tolist() == [ena_reqid.TOO_MANY_RX_DESCS]
        assert int(rx.stats.bad_desc_num[0]) == n

def test_a_malformed_rx_completion_is_consumed_and_nothing_after_it() -> None:
    # ena_com_cdesc_rx_pkt_get advances the CQ head over each completion it reads, the
    # malformed one included, then returns ENA_COM_FAULT: after one good packet and a
    # completion with an MBZ bit, the head is 2 (not further); the SQ gets back only the
    # delivered packet's descriptor; RX_DESCRIPTOR_MALFORMED.
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    rx_write(w, 0, [[64], [64], [64]])
    assert rx.cq is not None
    rx.cq[0, 1]["status"] |= RxCdesc.MBZ7.mask
    out = rx.cleanup(np.array([0]), True)
    assert out.lengths.tolist() == [64]
    assert out.reasons.tolist() == [ena_reqid.RX_DESCRIPTOR_MALFORMED]
    assert int(rx.cq_head[0]) == 2 and int(rx.cq_phase[0]) == 1
    assert int(rx.next_to_comp[0]) == 1 and int(rx.cur_start[0]) == 1


def test_a_packet_split_across_two_calls_keeps_ena_com_s_indices() -> None:
    # A 100 B packet, then one whose LAST completion is not written yet: the first call
    # delivers 100 B, consumes the waiting completion (head 2) and remembers it
    # (cur_rx_pkt_cdesc_count 1, start index 1); the second call finishes it: head 3,
    # start index 3, count 0.
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    assert rx.cq is not None
    rx_write(w, 0, [[100], [300, 200]])
    rx.cq[0, 2]["status"] = 0  # stale phase: not written yet
    assert rx.cleanup(np.array([0]), True).lengths.tolist() == [100]
    assert (int(rx.cq_head[0]), int(rx.cur_count[0]), int(rx.cur_start[0])) == (2, 1, 1)
    rx.cq[0, 2]["status"] = RxCdesc.LAST.mask | 1 << 24
    assert rx.cleanup(np.array([0]), True).lengths.tolist() == [500]
    assert (int(rx.cq_head[0]), int(rx.cur_count[0]), int(rx.cur_start[0])) == (3, 0, 3)


# ---------------------------------------------------------------------------- header limit


def test_hardened_header_limit_is_ena_com_s_clamp_not_the_whole_device_value() -> None:
    # The hardened fix of ENA-TX-HDR-LIMIT keeps the driver's copy in a u16 with ena_com's
    # clamp, min(dev, 256): with a device value of 300, a max_tx_sgl_size chain of 280 B
    # is not shorter than the limit, so it is collapsed into one cluster and sent (kept
    # whole it would pass as is and the 18-segment DMA tag would drop it).
    w = world(device_max_header_size=300, policy=Policy.HARDENED)
    setup = ena_llq.header_setup_hardened(ena_llq.header_init(1), 300)
    cfg = w.drv.tx.cfg
    assert cfg.tx_max_header_size == setup.post.ring_max == setup.post.sq_max == 256
    r = w.drv.transmit(batch(w, [280], [cfg.max_tx_sgl_size]))
    assert r.xmit.sent.tolist() == [0] and r.xmit.dropped.size == 0
    assert int(w.drv.tx.stats.collapse[0]) == 1
