"""What mutation testing of the ENA driver's descriptor and queue helpers found uncovered:
impl/ena/txdesc.py, impl/ena/bufring.py, impl/ena/ring.py and impl/ena/ragged.py.

Each helper is checked against a plain loop written from the C it stands for, with the bit
positions of ``ena_eth_io_defs.h`` spelled out here rather than taken from
impl/ena_defs:

* ``ena_com_prepare_tx`` / ``ena_com_create_meta`` (ena_eth_com.c): the words of every
  descriptor of a packet;
* ``ena_com_sq_update_llq_tail`` / ``ena_com_write_header_to_bounce``: where a descriptor
  and the pushed header land in the LLQ entries, and ``ena_com_is_doorbell_needed``'s entry
  count;
* FreeBSD's ``buf_ring`` (``buf_ring_enqueue`` refuses the ``size``-th packet) through
  drbr;
* ena_com's u16 counters (``ena_com_free_q_entries``, ``ena_com_sq_have_enough_space``).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.ena import bufring, ragged, ring, txdesc

# ena_eth_io_defs.h, struct ena_eth_io_tx_desc
DESC_LENGTH_MASK = 0xFFFF
DESC_REQ_ID_HI_SHIFT, DESC_REQ_ID_HI_MASK = 16, 0x3F << 16
DESC_PHASE_SHIFT = 24
DESC_FIRST = 1 << 26
DESC_LAST = 1 << 27
DESC_COMP_REQ = 1 << 28
DESC_L3_PROTO_IDX_MASK = 0xF
DESC_DF_SHIFT = 4
DESC_TSO_EN_SHIFT = 7
DESC_L4_PROTO_IDX_SHIFT, DESC_L4_PROTO_IDX_MASK = 8, 0x1F << 8
DESC_L3_CSUM_EN_SHIFT = 13
DESC_L4_CSUM_EN_SHIFT = 14
DESC_REQ_ID_LO_SHIFT, DESC_REQ_ID_LO_MASK = 22, 0x3FF << 22
DESC_ADDR_HI_MASK = 0xFFFF
DESC_HEADER_LENGTH_SHIFT, DESC_HEADER_LENGTH_MASK = 24, 0xFF << 24
# struct ena_eth_io_tx_meta_desc
META_EXT_VALID = 1 << 14
META_MSS_HI_SHIFT, META_MSS_HI_MASK = 16, 0xF << 16
META_ETH_META_TYPE = 1 << 20
META_META_STORE = 1 << 21
META_META_DESC = 1 << 23
META_PHASE_SHIFT = 24
META_FIRST = 1 << 26
META_L3_HDR_LEN_MASK = 0xFF
META_L3_HDR_OFF_SHIFT, META_L3_HDR_OFF_MASK = 8, 0xFF << 8
META_L4_HDR_LEN_SHIFT, META_L4_HDR_LEN_MASK = 16, 0x3F << 16
META_MSS_LO_SHIFT, META_MSS_LO_MASK = 22, 0x3FF << 22
M32 = 0xFFFFFFFF


def c_prepare_tx(p: dict, phases: list[int], bufs: list[tuple[int, int]],
                 dma_addr_bits: int) -> list[list[int]]:
    """``ena_com_prepare_tx`` for one packet: its descriptors' four u32 words each."""
    out = []
    k = 0
    if p["has_meta"]:  # ena_com_create_meta
        m = [0, 0, 0, 0]
        m[0] |= META_META_DESC | META_EXT_VALID
        m[2] |= (p["mss"] << META_MSS_LO_SHIFT) & META_MSS_LO_MASK
        m[0] |= ((p["mss"] >> 10) << META_MSS_HI_SHIFT) & META_MSS_HI_MASK
        m[0] |= META_ETH_META_TYPE
        m[0] |= (phases[0] << META_PHASE_SHIFT) & (1 << META_PHASE_SHIFT)
        m[0] |= META_FIRST | META_META_STORE
        m[2] |= p["l3_hdr_len"] & META_L3_HDR_LEN_MASK
        m[2] |= (p["l3_hdr_off"] << META_L3_HDR_OFF_SHIFT) & META_L3_HDR_OFF_MASK
        m[2] |= (p["l4_hdr_len"] << META_L4_HDR_LEN_SHIFT) & META_L4_HDR_LEN_MASK
        out.append([w & M32 for w in m])
        k = 1
    hi_mask = ((1 << dma_addr_bits) - 1) & ~((1 << 32) - 1)  # GENMASK_ULL(bits - 1, 32)
    for i, (length, paddr) in enumerate(bufs):
        d = [0, 0, 0, 0]
        d[0] |= (phases[k + i] << DESC_PHASE_SHIFT) & (1 << DESC_PHASE_SHIFT)
        if i == 0:
            if not p["has_meta"]:
                d[0] |= DESC_FIRST
            d[3] |= (p["header_len"] << DESC_HEADER_LENGTH_SHIFT) & DESC_HEADER_LENGTH_MASK
            d[0] |= DESC_COMP_REQ
            d[1] |= (p["req_id"] << DESC_REQ_ID_LO_SHIFT) & DESC_REQ_ID_LO_MASK
            d[1] |= (p["df"] << DESC_DF_SHIFT) & (1 << DESC_DF_SHIFT)
            d[0] |= ((p["req_id"] >> 10) << DESC_REQ_ID_HI_SHIFT) & DESC_REQ_ID_HI_MASK
            if p["meta_valid"]:
                d[1] |= (p["tso"] << DESC_TSO_EN_SHIFT) & (1 << DESC_TSO_EN_SHIFT)
                d[1] |= p["l3_proto"] & DESC_L3_PROTO_IDX_MASK
                d[1] |= (p["l4_proto"] << DESC_L4_PROTO_IDX_SHIFT) & DESC_L4_PROTO_IDX_MASK
                d[1] |= (p["l3_csum"] << DESC_L3_CSUM_EN_SHIFT) & (1 << DESC_L3_CSUM_EN_SHIFT)
                d[1] |= (p["l4_csum"] << DESC_L4_CSUM_EN_SHIFT) & (1 << DESC_L4_CSUM_EN_SHIFT)
        d[0] |= length & DESC_LENGTH_MASK
        d[2] = paddr & M32
        d[3] |= ((paddr & hi_mask) >> 32) & DESC_ADDR_HI_MASK
        if i == len(bufs) - 1:
            d[0] |= DESC_LAST
        out.append([w & M32 for w in d])
    return out


packet = st.fixed_dictionaries({
    "has_meta": st.booleans(), "n_data": st.integers(1, 4),
    "req_id": st.integers(0, 0xFFFF), "header_len": st.integers(0, 255),
    "meta_valid": st.booleans(), "mss": st.integers(0, 0x3FFF),
    "l3_hdr_len": st.integers(0, 255), "l3_hdr_off": st.integers(0, 255),
    "l4_hdr_len": st.integers(0, 63), "l3_proto": st.integers(0, 15),
    "l4_proto": st.integers(0, 31), "l3_csum": st.integers(0, 1),
    "l4_csum": st.integers(0, 1), "tso": st.integers(0, 1), "df": st.integers(0, 1),
})


def fields(pkts: list[dict]) -> txdesc.PacketFields:
    def col(name: str) -> np.ndarray:
        return np.array([int(p[name]) for p in pkts], dtype=np.int64)
    key = (col("mss") | col("l3_hdr_len") << 16 | col("l3_hdr_off") << 32
           | col("l4_hdr_len") << 48)  # struct ena_com_tx_meta, as txmap.meta_key packs it
    return txdesc.PacketFields(
        has_meta=col("has_meta"), n_data=col("n_data"), req_id=col("req_id"),
        header_len=col("header_len"), meta_valid=col("meta_valid"), meta_key=key,
        l3_proto=col("l3_proto"), l4_proto=col("l4_proto"), l3_csum_enable=col("l3_csum"),
        l4_csum_enable=col("l4_csum"), tso_enable=col("tso"), df=col("df"))


@settings(max_examples=60)
@given(st.lists(packet, min_size=1, max_size=4), st.sampled_from([32, 40, 48]),
       st.booleans(), st.data())
def test_descriptor_words_are_those_of_ena_com_prepare_tx(
        pkts: list[dict], dma_addr_bits: int, llq: bool, data: st.DataObject) -> None:
    for p in pkts:  # a meta descriptor is sent only for a valid meta (ena_com_create_meta)
        p["meta_valid"] = p["meta_valid"] or p["has_meta"]
    batch = txdesc.layout(np.array([p["has_meta"] + p["n_data"] for p in pkts]), llq, 8)
    n = batch.pkt.size
    phase = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    buf_len = np.array(data.draw(st.lists(st.integers(0, 0xFFFF), min_size=n, max_size=n)))
    buf_addr = np.array(data.draw(st.lists(st.integers(0, (1 << 48) - 1), min_size=n,
                                           max_size=n)), dtype=np.int64)
    words = txdesc.encode(batch, phase, fields(pkts), buf_len, buf_addr, dma_addr_bits)
    assert words.dtype == np.uint32 and words.shape == (n, 4)
    expect = []
    for i, p in enumerate(pkts):
        at = np.flatnonzero(batch.pkt == i)
        bufs = [(int(buf_len[j]), int(buf_addr[j])) for j in at[int(p["has_meta"]):]]
        expect += c_prepare_tx(p, phase[at].tolist(), bufs, dma_addr_bits)
    assert words.tolist() == expect


def test_a_tso_packet_behind_its_meta_descriptor_word_by_word() -> None:
    # mss 1448 (0x5A8: low 10 bits 0x1A8, high 4 bits 0x1), IPv4 header of 20 bytes at 14,
    # TCP header of 32 bytes (8 words); req_id 0x1234 (low 10 bits 0x234, high 6 bits 4)
    p = {"has_meta": 1, "n_data": 2, "req_id": 0x1234, "header_len": 66, "meta_valid": 1,
         "mss": 1448, "l3_hdr_len": 20, "l3_hdr_off": 14, "l4_hdr_len": 8, "l3_proto": 1,
         "l4_proto": 3, "l3_csum": 1, "l4_csum": 1, "tso": 1, "df": 1}
    batch = txdesc.layout(np.array([3]), False, 8)
    words = txdesc.encode(batch, np.array([1, 1, 0]), fields([p]), np.array([0, 1000, 500]),
                          np.array([0, 0x12_3456_7000, 0x12_3456_8000]), 40)
    meta, d0, d1 = words.tolist()
    assert meta == [(1 << 23) | (1 << 14) | (1 << 16) | (1 << 20) | (1 << 24) | (1 << 26)
                    | (1 << 21), 0, 20 | 14 << 8 | 8 << 16 | 0x1A8 << 22, 0]
    assert d0 == [1000 | 4 << 16 | 1 << 24 | 1 << 28,
                  0x234 << 22 | 1 << 4 | 1 << 7 | 1 | 3 << 8 | 1 << 13 | 1 << 14,
                  0x3456_7000, 0x12 | 66 << 24]
    assert d1 == [500 | 1 << 27, 0, 0x3456_8000, 0x12]  # phase 0; only the address


def c_llq_positions(n_desc: int, descs_per_entry: int) -> list[tuple[int, int]]:
    """``ena_com_sq_update_llq_tail``: (entry, slot) of each descriptor of a packet; the
    first entry holds ``descs_num_before_header`` (2) descriptors, later ones
    ``descs_per_entry``."""
    out, entry, left, in_line = [], 0, 2, 0
    for _ in range(n_desc):
        if left == 0:
            entry, left, in_line = entry + 1, descs_per_entry, 0
        out.append((entry, in_line))
        in_line += 1
        left -= 1
    return out


@given(st.lists(st.integers(0, 40), max_size=6), st.sampled_from([8, 16]))
def test_llq_positions_and_entry_counts_follow_ena_com(n_desc: list[int], dpe: int) -> None:
    nd = np.array(n_desc, dtype=np.int64)
    lay = txdesc.layout(nd, True, dpe)
    want = [(i, d, e, s) for i, n in enumerate(n_desc)
            for d, (e, s) in enumerate(c_llq_positions(n, dpe))]
    assert list(zip(lay.pkt.tolist(), lay.d.tolist(), lay.entry.tolist(), lay.slot.tolist(),
                    strict=True)) == want
    # ena_com_is_doorbell_needed: 1 + DIV_ROUND_UP(n - 2, descs_per_entry) beyond 2
    entries = txdesc.entries_for(nd, True, dpe)
    assert entries.tolist() == [(1 + max(0, -(-(n - 2) // dpe))) if n else 0 for n in n_desc]
    host = txdesc.layout(nd, False, dpe)
    assert host.entry.tolist() == host.d.tolist() == [d for n in n_desc for d in range(n)]
    assert host.slot.tolist() == [0] * int(nd.sum())
    assert txdesc.entries_for(nd, False, dpe).tolist() == n_desc


def test_entry_counts_at_the_line_boundaries() -> None:
    # 2 descriptors fit before the header; the 3rd opens entry 1, the 11th entry 2 (8/line)
    got = txdesc.entries_for(np.array([1, 2, 3, 10, 11, 18, 19]), True, 8).tolist()
    assert got == [1, 1, 2, 2, 3, 3, 4]
    lay = txdesc.layout(np.array([11]), True, 8)
    assert lay.entry.tolist() == [0, 0] + [1] * 8 + [2]
    assert lay.slot.tolist() == [0, 1, *range(8), 0]


@settings(max_examples=40)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=4), st.sampled_from([128, 256]),
       st.data())
def test_llq_entries_are_the_bounce_buffers(n_desc: list[int], entry_size: int,
                                            data: st.DataObject) -> None:
    dpe = entry_size // 16
    lay = txdesc.layout(np.array(n_desc), True, dpe)
    n = lay.pkt.size
    words = np.array(data.draw(st.lists(st.lists(st.integers(0, M32), min_size=4, max_size=4),
                                        min_size=n, max_size=n)), dtype=np.uint32)
    entries = txdesc.entries_for(np.array(n_desc), True, dpe)
    first_row = np.cumsum(entries) - entries
    row = first_row[lay.pkt] + lay.entry
    n_rows = int(entries.sum())
    hdr_len = [data.draw(st.integers(0, entry_size - 32)) for _ in n_desc]
    hdr = [data.draw(st.binary(min_size=h, max_size=h)) for h in hdr_len]
    hdr_src = np.frombuffer(b"".join(hdr), dtype=np.uint8)
    out = txdesc.llq_entries(lay, words, row, n_rows, entry_size, first_row, hdr_src,
                             np.array(hdr_len, dtype=np.int64))
    expect = bytearray(n_rows * entry_size)  # the bounce buffers, zeroed
    for i in range(n):
        at = int(row[i]) * entry_size + 16 * int(lay.slot[i])
        expect[at:at + 16] = b"".join(int(w).to_bytes(4, "little") for w in words[i])
    for k, h in enumerate(hdr):  # the header at descs_num_before_header * 16 = 32
        at = int(first_row[k]) * entry_size + 32
        expect[at:at + len(h)] = h
    assert out.dtype == np.uint8 and out.shape == (n_rows, entry_size)
    assert out.tobytes() == bytes(expect)


class DrbrModel:
    """FreeBSD ``buf_ring`` per queue: ``size - 1`` packets at most, FIFO."""

    def __init__(self, nqueues: int, size: int) -> None:
        self.size = size
        self.q: list[deque[int]] = [deque() for _ in range(nqueues)]

    def enqueue(self, queue: int, pkt: int) -> bool:
        if len(self.q[queue]) >= self.size - 1:  # buf_ring_enqueue: ENOBUFS, br_drops++
            return False
        self.q[queue].append(pkt)
        return True


@settings(max_examples=60)
@given(st.integers(1, 3), st.sampled_from([1, 2, 4, 8]),
       st.lists(st.tuples(st.lists(st.integers(0, 2), max_size=12),
                          st.lists(st.integers(0, 9), min_size=3, max_size=3)), max_size=8))
def test_buf_rings_are_fifos_that_keep_one_slot_empty(
        nqueues: int, size: int, rounds: list[tuple[list[int], list[int]]]) -> None:
    br = bufring.BufRings(nqueues, size, max_segs=2)
    model = DrbrModel(nqueues, size)
    next_id = 0
    for queues, takes in rounds:
        qs = np.array([q % nqueues for q in queues], dtype=np.int64)
        ids = np.arange(next_id, next_id + qs.size, dtype=np.int64)
        next_id += qs.size
        rec = {"pkt_id": ids, "length": ids * 10 + 1,
                  "seg_len": np.stack([ids + 1, ids + 2], axis=1).astype(np.int32)}
        accepted = br.enqueue(qs, rec)
        assert accepted.tolist() == [model.enqueue(int(q), int(i))
                                     for q, i in zip(qs, ids, strict=True)]
        assert br.count.tolist() == [len(d) for d in model.q]
        assert br.space.tolist() == [size - 1 - len(d) for d in model.q]
        assert sorted(br.queued_ids().tolist()) == sorted(i for d in model.q for i in d)
        # drbr_peek order: the first min(count, limit) packets of each queue asked
        asked = np.arange(nqueues, dtype=np.int64)[::-1]
        limit = np.array(takes[:nqueues], dtype=np.int64)
        q, rank, slot = br.window(asked, limit)
        want = [(int(a), r, pid) for a, lim in zip(asked, limit, strict=True)
                for r, pid in enumerate(list(model.q[a])[:lim])]
        assert list(zip(q.tolist(), rank.tolist(), br.pkt_id[q, slot].tolist(),
                        strict=True)) == want
        assert br.length[q, slot].tolist() == [w[2] * 10 + 1 for w in want]
        assert br.seg_len[q, slot].tolist() == [[w[2] + 1, w[2] + 2] for w in want]
        # drbr_advance the packets peeked
        n = np.array([min(len(model.q[a]), lim) for a, lim in zip(asked, limit, strict=True)])
        br.advance(asked, n)
        for a, k in zip(asked, n, strict=True):
            for _ in range(k):
                model.q[a].popleft()
        assert br.count.tolist() == [len(d) for d in model.q]
        assert sorted(br.queued_ids().tolist()) == sorted(i for d in model.q for i in d)


def test_buf_ring_full_and_slot_zero_ids() -> None:
    # size 4 holds 3; the packet with id 0 counts as queued (ids are >= 0, -1 is empty)
    br = bufring.BufRings(2, 4, max_segs=1)
    acc = br.enqueue(np.array([1, 1, 1, 1, 0]), {"pkt_id": np.array([0, 1, 2, 3, 4])})
    assert acc.tolist() == [True, True, True, False, True]
    assert br.count.tolist() == [1, 3] and br.space.tolist() == [2, 0]
    assert sorted(br.queued_ids().tolist()) == [0, 1, 2, 4]
    br.advance(np.array([1]), np.array([1]))
    assert sorted(br.queued_ids().tolist()) == [1, 2, 4]
    assert br.pkt_id[1, 0] == -1


@pytest.mark.parametrize("size", [0, 3, 6, 4095])
def test_buf_ring_size_must_be_a_power_of_two(size: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        bufring.BufRings(1, size, 1)


def test_buf_ring_fresh_state() -> None:
    br = bufring.BufRings(3, 8, max_segs=5)
    assert (br.nqueues, br.size, br.max_segs) == (3, 8, 5)
    assert br.count.tolist() == [0, 0, 0] and br.space.tolist() == [7, 7, 7]
    assert br.queued_ids().size == 0 and (br.pkt_id == -1).all()
    assert br.seg_len.shape == (3, 8, 5) and br.seg_len.dtype == np.int32
    for a in (br.addr, br.length, br.nsegs, br.used_segs, br.csum_flags, br.tso_segsz):
        assert a.shape == (3, 8) and a.dtype == np.int64 and not a.any()


@given(st.lists(st.integers(0, 4), max_size=30))
def test_group_layout_is_a_stable_sort_by_queue(queue: list[int]) -> None:
    lay = ragged.group_layout(np.array(queue, dtype=np.int64), 5)
    order = sorted(range(len(queue)), key=lambda i: queue[i])  # sorted() is stable
    assert lay.order.tolist() == order
    assert lay.queue.tolist() == [queue[i] for i in order]
    count = [queue.count(q) for q in range(5)]
    assert lay.count.tolist() == count
    assert lay.start.tolist() == [sum(count[:q]) for q in range(5)]
    assert lay.rank.tolist() == [r for q in range(5) for r in range(count[q])]


def test_first_occurrence_of_nothing() -> None:
    out = ragged.first_occurrence(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 4)
    assert out.dtype == bool and out.size == 0
    # (group, value) pairs, not values: 1 in group 0 and 1 in group 1 are both first
    assert ragged.first_occurrence(np.array([0, 1, 0, 1]), np.array([1, 1, 1, 0]),
                                   2).tolist() == [True, True, False, True]


def test_greedy_breaks_without_items_or_live_queues() -> None:
    z = np.zeros(0, dtype=np.int64)
    assert ragged.greedy_breaks(z, z, z, z, 4, 0).size == 0
    # first_break at or past the queue's end: no break at all
    mask = ragged.greedy_breaks(np.array([0, 3]), np.array([3, 2]), np.ones(5, np.int64),
                                np.array([3, 5]), 1, 0)
    assert mask.tolist() == [False] * 5
    # a cost limit only (max_items large): costs 3, 3 | 2, 4 | 1 under 6; a group may
    # reach the limit exactly
    mask = ragged.greedy_breaks(np.array([0]), np.array([5]), np.array([3, 3, 2, 4, 1]),
                                np.array([0]), 100, 6)
    assert mask.tolist() == [True, False, True, False, True]
    # a cost limit of 1 (every cost 1) closes each group after one element, whatever
    # max_items allows: the limit is not "no limit"
    mask = ragged.greedy_breaks(np.array([0, 3]), np.array([3, 2]), np.ones(5, np.int64),
                                np.array([0, 3]), 4, 1)
    assert mask.tolist() == [True] * 5


def test_u16_counters_and_free_entries() -> None:
    assert ring.u16(-1).tolist() == 0xFFFF and ring.u16(65536 + 5).tolist() == 5
    assert ring.used_entries(2, 65534).tolist() == 4  # (u16)(tail - next_to_comp)
    assert ring.used_entries(65534, 2).tolist() == 65532
    assert ring.free_entries(10, 10, 1024).tolist() == 1023
    assert ring.free_entries(1033, 10, 1024).tolist() == 0


@pytest.mark.parametrize(("free", "n", "dpe", "ok"), [
    (2, 7, 8, False), (3, 7, 8, True), (3, 0, 8, True), (4, 8, 8, True), (3, 8, 8, False),
    (4, 15, 8, True), (5, 16, 8, True), (4, 16, 8, False), (3, 15, 16, True),
])
def test_llq_space_is_free_above_n_over_descs_per_entry_plus_2(free: int, n: int, dpe: int,
                                                               ok: bool) -> None:
    assert bool(ring.have_enough_space(np.array([free]), np.array([n]), True, dpe)[0]) is ok
    # host-memory SQ: free >= n
    assert bool(ring.have_enough_space(free, n, False, dpe)) is (free >= n)


def test_advance_and_phases_across_the_u16_wrap() -> None:
    c, p = ring.advance(np.array([65535, 100]), np.array([1, 0]), np.array([1, 300]), 256)
    assert c.tolist() == [0, 400] and p.tolist() == [0, 1]
    c, p = ring.advance(np.array([0]), np.array([0]), np.array([512]), 256)
    assert c.tolist() == [512] and p.tolist() == [0]  # two flips
    assert ring.phases_at(np.array([255, 255, 0]), np.array([1, 1, 1]), np.array([0, 1, 256]),
                          256).tolist() == [1, 0, 0]
    assert ring.slots(np.array([65535, 3]), np.array([2, 5]), 8).tolist() == [1, 0]


@pytest.mark.parametrize(("depth", "ok"), [(1, False), (2, True), (4, True), (6, False),
                                           (32768, True), (65536, False), (131072, False)])
def test_queue_depths(depth: int, ok: bool) -> None:
    if ok:
        assert ring.check_depth(depth) == depth
    else:
        with pytest.raises(ValueError, match="power of two"):
            ring.check_depth(depth)
