"""Behaviour of the ENA datapath modules (impl/ena: txclean, rxq, ...) that mutation testing
(mutmut 3.8.1, ``HYPOTHESIS_PROFILE=mutmut``) showed the other ENA tests leave unchecked,
after tests/unit/test_ena_driver_mutant_gaps.py.

TX cleanup: a cleanup call that finds nothing new runs the resume check
(``ENA_TX_RESUME_THRESH``) on its own queue only, never waking another stopped queue; a
completion hands back its packet's descriptors, not one entry per packet.
TX xmit: the queue stops after the packet that leaves fewer than max_tx_sgl_size + 2
entries free also when that packet is the last one queued (no later packet to refuse).
RX cleanup: ``refill=False`` (the RFC's reset exit reading what a destroyed queue's device
wrote) posts nothing also when the CQ head holds nothing new; a packet still missing its
LAST after more completions than one read covers is remembered whole (ena_com's
``cur_rx_pkt_cdesc_count``) and refused when its LAST comes (TOO_MANY_RX_DESCS); a
malformed completion after such a packet moves the head but leaves that memory (count and
start index) as it was.
RX descriptors: the buffer address above 4 GiB, bits dma_addr_bits-1 .. 32 in
``buff_addr_hi``, and the doorbell after a single posted buffer.
"""

from __future__ import annotations

import numpy as np
from support.ena_harness import batch, complete, rx_write, world

from impl.ena.txclean import tx_cleanup
from impl.ena_defs.layouts import RxCdesc
from impl.ena_defs.regs import ResetReason

# ---------------------------------------------------------------------------- TX cleanup


def test_tx_cleanup_with_nothing_new_resumes_only_its_own_queue() -> None:
    # ena_tx_cleanup (ena_datapath.c) ends with the resume test on its own tx_ring: a
    # call on queue 1 whose CQ head holds no completion (TRY_AGAIN at once) may wake
    # queue 1, never queue 0, even though queue 0 is stopped with room to resume.
    w = world(num_queues=2, tx_ring_size=64)
    tx = w.drv.tx
    tx.running[0] = False
    assert bool(tx.enough(tx.free(np.array([0])), 21)[0])
    r = tx_cleanup(tx, np.array([1]), True, False)
    assert r.completed.size == 0 and r.reasons.tolist() == [0]
    assert tx.running.tolist() == [False, True]
    assert tx.stats.queue_wakeup.tolist() == [0, 0]
    # the same call on queue 0 is the one that resumes it, and counts the wake-up
    tx_cleanup(tx, np.array([0]), True, False)
    assert tx.running.tolist() == [True, True]
    assert tx.stats.queue_wakeup.tolist() == [1, 0]


def test_tx_cleanup_acks_every_descriptor_of_each_completed_packet() -> None:
    # ena_tx_cleanup (ena_datapath.c) sums tx_info->tx_descs over the packets it completes
    # and passes the total to ena_com_comp_ack, which advances the SQ's next_to_comp by
    # it: a 4-descriptor packet and a 1-descriptor one give back 5 entries, so the whole
    # ring is free again (free entries are q_depth - 1 at the start).
    w = world(tx_ring_size=64)
    tx = w.drv.tx
    r = w.drv.transmit(batch(w, [1000, 300], [4, 1]))
    assert r.xmit.sent.tolist() == [0, 1] and tx.tx_descs[0, :2].tolist() == [4, 1]
    assert int(tx.tail[0]) == 5 and int(tx.next_to_comp[0]) == 0
    complete(w, [0, 1])
    c = tx_cleanup(tx, np.array([0]), True, False)
    assert c.completed.tolist() == [0, 1]
    assert int(tx.next_to_comp[0]) == 5
    assert int(tx.free(np.array([0]))[0]) == 63


# ---------------------------------------------------------------------------- TX xmit


def test_tx_queue_stops_after_its_last_queued_packet_when_room_runs_out() -> None:
    # ena_start_xmit (ena_datapath.c): after each packet sent, fewer than
    # max_tx_sgl_size + 2 = 21 free entries -> running = false, queue_stop++, and no
    # wake-up unless ENA_TX_RESUME_THRESH (21) entries are free.  On a 64-entry ring
    # the 43rd single-descriptor packet leaves 20: with exactly 43 queued the queue
    # stops after its last packet, nothing left behind it in the drbr; 42 leave 21
    # free and the queue running.
    for n, free, running, stops in ((42, 21, True, 0), (43, 20, False, 1)):
        w = world(tx_ring_size=64)
        tx = w.drv.tx
        r = w.drv.transmit(batch(w, [100] * n))
        assert r.xmit.sent.size == n and int(tx.drbr.count[0]) == 0
        assert int(tx.free(np.array([0]))[0]) == free
        assert bool(tx.running[0]) is running
        assert int(tx.stats.queue_stop[0]) == stops
        assert int(tx.stats.queue_wakeup[0]) == 0


# ---------------------------------------------------------------------------- RX cleanup


def test_rx_cleanup_without_refill_posts_nothing_when_nothing_is_new() -> None:
    # ena_rx_cleanup (ena_datapath.c) refills only after its loop; the reset exit reads a
    # destroyed queue's completions with the refill left out (rxq.cleanup refill=False).
    # 10 packets taken that way leave 10 entries free, more than min(64 / 8, 256) = 8,
    # and a second such call that finds nothing new must not post them (no descriptor,
    # no doorbell); an ordinary call then does (tail 63 -> 73, its doorbell).
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    q = np.array([0])
    rx_write(w, 0, [[100]] * 10)
    r = rx.cleanup(q, True, refill=False)
    assert r.lengths.tolist() == [100] * 10
    assert int(rx.tail[0]) == 63 and int(rx.free(q)[0]) == 10 and w.log.writes == []
    r = rx.cleanup(q, True, refill=False)
    assert r.lengths.size == 0 and r.reasons.tolist() == [0]
    assert r.payload.dtype == np.uint8 and r.payload.size == 0
    assert int(rx.tail[0]) == 63 and int(rx.free(q)[0]) == 10 and w.log.writes == []
    rx.cleanup(q, True)
    assert int(rx.tail[0]) == 73 and int(rx.free(q)[0]) == 0
    assert w.log.writes == [(int(rx.db_off[0]), 73)]


def test_rx_packet_open_across_more_completions_than_one_read_is_counted_whole() -> None:
    # ena_com_cdesc_rx_pkt_get (ena_eth_com.c) consumes completions up to one with LAST;
    # without it, it keeps their count in cur_rx_pkt_cdesc_count and returns 0.  300
    # completions (FIRST on the first, none with LAST) are more than rxq's first read
    # window (256 + 2 * 19 + 2 = 296 entries), so the read must go on to the end of
    # the run: 300 consumed and remembered, nothing delivered, no reset.  The LAST then
    # closes a 301-descriptor packet: more than max_rx_sgl_size, so ena_com_rx_pkt
    # refuses it (bad_desc_num, TOO_MANY_RX_DESCS) and next_to_clean is not stored.
    w = world(rx_ring_size=1024)
    rx = w.drv.rx
    assert rx.cq is not None and rx.sq is not None
    q = np.array([0])

    def write(c0: int, n: int, last: bool) -> None:
        for c in range(c0, c0 + n):
            e = rx.cq[0, c]
            e["req_id"], e["length"] = rx.sq[0, c]["req_id"], 64
            e["status"] = ((RxCdesc.FIRST.mask if c == 0 else 0)
                           | (RxCdesc.LAST.mask if last and c == c0 + n - 1 else 0)
                           | 1 << 24)

    write(0, 300, last=False)
    r = rx.cleanup(q, True)
    assert r.lengths.size == 0 and r.reasons.tolist() == [0]
    assert int(rx.cur_count[0]) == 300 and int(rx.cq_head[0]) == 300
    assert int(rx.next_to_comp[0]) == 0 and not w.drv.reset.triggered
    write(300, 1, last=True)
    r = rx.cleanup(q, True)
    assert r.lengths.size == 0
    assert r.reasons.tolist() == [int(ResetReason.TOO_MANY_RX_DESCS)]
    assert int(rx.stats.bad_desc_num[0]) == 1 and int(rx.cq_head[0]) == 301
    assert int(rx.next_to_clean[0]) == 0


def test_rx_fault_leaves_the_partial_packet_memory_as_it_was() -> None:
    # ena_com_cdesc_rx_pkt_get moves the CQ head past each completion it reads, then
    # returns ENA_COM_FAULT on a FIRST bit past a packet's first completion, before it
    # stores cur_rx_pkt_cdesc_count / cur_rx_pkt_cdesc_start_idx: a packet open over 2
    # completions stays remembered as 2 from index 0 through two such faults
    # (RX_DESCRIPTOR_MALFORMED each time), while the head goes 2 -> 3 -> 4.
    w = world(rx_ring_size=64)
    rx = w.drv.rx
    assert rx.cq is not None and rx.sq is not None
    q = np.array([0])

    def write(c: int, first: bool) -> None:
        e = rx.cq[0, c]
        e["req_id"], e["length"] = rx.sq[0, c]["req_id"], 64
        e["status"] = (RxCdesc.FIRST.mask if first else 0) | 1 << 24

    write(0, first=True)
    write(1, first=False)
    assert rx.cleanup(q, True).reasons.tolist() == [0]
    assert (int(rx.cur_count[0]), int(rx.cur_start[0]), int(rx.cq_head[0])) == (2, 0, 2)
    for head in (3, 4):
        write(head - 1, first=True)
        r = rx.cleanup(q, True)
        assert r.reasons.tolist() == [int(ResetReason.RX_DESCRIPTOR_MALFORMED)]
        assert r.lengths.size == 0
        assert (int(rx.cur_count[0]), int(rx.cur_start[0]), int(rx.cq_head[0])) == (2, 0, head)
        assert int(rx.next_to_comp[0]) == 0 and int(rx.next_to_clean[0]) == 0


def test_rx_descriptor_carries_the_address_bits_the_dma_width_allows() -> None:
    # ena_com_add_single_rx_desc (ena_eth_com.c): buff_addr_lo = (u32)paddr,
    # buff_addr_hi = (paddr & GENMASK_ULL(dma_addr_bits - 1, 32)) >> 32.  With a 40-bit
    # DMA width, bits 39..32 of an address (0xC5) go to buff_addr_hi; bits 40 and 45
    # are dropped.  One packet is taken without refill to free the entry.
    w = world(rx_ring_size=64, dma_addr_bits=40)
    rx = w.drv.rx
    assert rx.sq is not None
    q = np.array([0])
    rx_write(w, 0, [[100]])
    rx.cleanup(q, True, refill=False)
    assert int(rx.free(q)[0]) == 1
    slot = int(rx.tail[0]) & 63
    rid = rx.free_ids[0, int(rx.next_to_use[0]) & 63:][:1]
    addr = np.array([(1 << 45) | (1 << 40) | (0xC5 << 32) | 0x12345678])
    assert w.log.writes == []
    rx.post(q, np.array([1]), rid, addr, 2048)
    # one buffer posted is enough for the doorbell (ena_refill_rx_bufs: "if (likely(i
    # != 0)) ena_com_write_sq_doorbell"), with the new tail
    assert w.log.writes == [(int(rx.db_off[0]), int(rx.tail[0]))] and int(rx.tail[0]) == 64
    d = rx.sq[0, slot]
    assert int(d["buff_addr_lo"]) == 0x12345678
    assert int(d["buff_addr_hi"]) == 0xC5
    assert int(d["req_id"]) == int(rid[0]) and int(d["length"]) == 2048
