"""Behaviour of the ENA datapath modules (impl/ena: txclean, rxq, ...) that mutation testing
(mutmut 3.8.1, ``HYPOTHESIS_PROFILE=mutmut``) showed the other ENA tests leave unchecked,
after tests/unit/test_ena_driver_mutant_gaps.py.

TX cleanup: a cleanup call that finds nothing new runs the resume check
(``ENA_TX_RESUME_THRESH``) on its own queue only, never waking another stopped queue; a
completion hands back its packet's descriptors, not one entry per packet.
TX xmit: the queue stops after the packet that leaves fewer than max_tx_sgl_size + 2
entries free also when that packet is the last one queued (no later packet to refuse).
TX offload metadata: the meta descriptor of a TSO packet carries the MSS, L3 header
length and offset and L4 header length ena_tx_csum parsed (VLAN, IPv4, TCP), and the meta
cache holds the same four fields; a checksum request without TSO is an offload too (meta
descriptor with the parsed L3 header, protocols and checksum enables in the data
descriptor, for TCP/IPv4, UDP/IPv6 and UDP/IPv4 without DF); a collapsed chain's 2 KB
clusters end with the remainder of the frame.
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
from impl.ena.txmap import (
    CSUM_IP,
    CSUM_IP6_UDP,
    CSUM_IP_TCP,
    CSUM_IP_TSO,
    CSUM_IP_UDP,
    unpack_meta,
)
from impl.ena_defs.bitfield import Field
from impl.ena_defs.constants import L3Proto, L4Proto
from impl.ena_defs.layouts import TX_META_DESC_DTYPE, RxCdesc, TxDesc, TxMetaDesc
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


def test_tso_meta_descriptor_carries_the_parsed_header_lengths_and_mss() -> None:
    # ena_tx_csum (ena_datapath.c) fills ena_meta: mss = tso_segsz, l3_hdr_len = the
    # IPv4 IHL * 4 (20), l3_hdr_offset = the Ethernet header with its VLAN tag (18),
    # l4_hdr_len = the TCP data offset (8 words, TSO only); ena_com_create_meta
    # (ena_eth_com.c) writes mss bits 9:0 to word2 31:22 and 13:10 to len_ctrl 19:16.
    w = world(tx_ring_size=64)
    b = batch(w, [1514])
    o = int(b.offsets[0])
    hdr = (bytes(12) + bytes([0x81, 0x00, 0x00, 0x05, 0x08, 0x00])       # VLAN, IPv4
           + bytes([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6]) + bytes(10)     # IHL 5, TCP
           + bytes(12) + bytes([0x80]))                                    # data offset 8
    w.bus.mem.data[o:o + len(hdr)] = np.frombuffer(hdr, dtype=np.uint8)
    mss = 0x2A5B
    r = w.drv.transmit(b, csum_flags=np.array([CSUM_IP | CSUM_IP_TSO]),
                       tso_segsz=np.array([mss]))
    assert r.xmit.sent.tolist() == [0]
    meta = w.drv.tx.sq_words[0, 0].copy().view(TX_META_DESC_DTYPE)[0]

    def field(f: Field) -> int:
        return int(f.get(np.int64(meta[f.word])))

    assert field(TxMetaDesc.META_DESC) == 1 and field(TxMetaDesc.EXT_VALID) == 1
    assert field(TxMetaDesc.MSS_LO) == mss & 0x3FF and field(TxMetaDesc.MSS_HI) == mss >> 10
    assert field(TxMetaDesc.L3_HDR_LEN) == 20
    assert field(TxMetaDesc.L3_HDR_OFF) == 18
    assert field(TxMetaDesc.L4_HDR_LEN_IN_WORDS) == 8
    # ena_com_create_meta keeps a copy in io_sq->cached_tx_meta (the meta cache, which
    # the slot-at-a-time port reads field by field)
    cached = unpack_meta(w.drv.tx.cached_meta[0:1])
    assert [int(x[0]) for x in cached] == [mss, 20, 18, 8]


def test_checksum_offload_without_tso_sends_the_parsed_headers() -> None:
    # ena_tx_csum: offload is true for tso_segsz != 0 *or* any of CSUM_TSO, CSUM_OFFLOAD,
    # CSUM6_OFFLOAD, so checksum requests alone give each packet a meta descriptor
    # (tx_descs 2) with the parsed L3 header length and offset (14: no VLAN tag), and a
    # data descriptor with the L3/L4 protocols, DF and the checksum enables:
    # TCP/IPv4 with CSUM_IP | CSUM_IP_TCP (IHL 5, DF set), UDP/IPv6 with CSUM_IP6_UDP
    # (40-byte header, DF always, no L3 checksum), UDP/IPv4 without DF with CSUM_IP_UDP.
    w = world(tx_ring_size=64)
    b = batch(w, [100, 120, 90])
    h4 = (bytes(12) + bytes([0x08, 0x00]) + bytes([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6])
          + bytes(10) + bytes(12) + bytes([0x50]))
    h6 = bytes(12) + bytes([0x86, 0xDD]) + bytes([0x60, 0, 0, 0, 0, 8, 17, 64]) + bytes(40)
    u4 = bytes(12) + bytes([0x08, 0x00]) + bytes([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17]) + bytes(18)
    for o, h in zip(b.offsets.tolist(), (h4, h6, u4), strict=True):
        w.bus.mem.data[o:o + len(h)] = np.frombuffer(h, dtype=np.uint8)
    r = w.drv.transmit(b, csum_flags=np.array([CSUM_IP | CSUM_IP_TCP, CSUM_IP6_UDP,
                                               CSUM_IP_UDP]))
    tx = w.drv.tx
    assert r.xmit.sent.tolist() == [0, 1, 2]
    assert int(tx.tail[0]) == 6 and tx.tx_descs[0, :3].tolist() == [2, 2, 2]
    v4, v6 = int(L3Proto.IPV4), int(L3Proto.IPV6)
    tcp, udp = int(L4Proto.TCP), int(L4Proto.UDP)
    want = [(20, v4, tcp, 1, 1), (40, v6, udp, 0, 1), (20, v4, udp, 0, 0)]
    for p, (l3len, l3, l4, l3csum, df) in enumerate(want):
        meta, data = tx.sq_words[0, 2 * p], tx.sq_words[0, 2 * p + 1]
        assert int(TxMetaDesc.META_DESC.get(np.int64(meta[0]))) == 1
        w2 = np.int64(meta[2])
        assert int(TxMetaDesc.L3_HDR_LEN.get(w2)) == l3len
        assert int(TxMetaDesc.L3_HDR_OFF.get(w2)) == 14
        assert int(TxMetaDesc.L4_HDR_LEN_IN_WORDS.get(w2)) == 0
        ctrl = np.int64(data[1])
        assert int(TxDesc.L3_PROTO_IDX.get(ctrl)) == l3
        assert int(TxDesc.L4_PROTO_IDX.get(ctrl)) == l4
        assert int(TxDesc.DF.get(ctrl)) == df and int(TxDesc.TSO_EN.get(ctrl)) == 0
        assert int(TxDesc.L3_CSUM_EN.get(ctrl)) == l3csum
        assert int(TxDesc.L4_CSUM_EN.get(ctrl)) == 1


def test_collapsed_chain_ends_with_the_rest_of_the_frame() -> None:
    # ena_check_and_collapse_mbuf: a 3000 B frame in max_tx_sgl_size (19) mbufs is
    # m_collapse'd into 2 KB clusters: 2048 B and the remaining 952 B, one data
    # descriptor each (ena_tx_map_mbuf's segments).
    w = world(tx_ring_size=64)
    r = w.drv.transmit(batch(w, [3000], [19]))
    tx = w.drv.tx
    assert r.xmit.sent.tolist() == [0] and int(tx.stats.collapse[0]) == 1
    assert int(tx.tail[0]) == 2
    lens = [int(TxDesc.LENGTH.get(np.int64(tx.sq_words[0, i, 0]))) for i in range(2)]
    assert lens == [2048, 952]


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
