"""The TX submission side: fetch what the driver published, parse descriptors into
packets, gather the frames.

Host mode: the SQ is a ring of 16-byte descriptors in host memory; the device reads
entries ``[head, tail)`` (u16 counters, slot = counter & (depth-1)). LLQ mode: the ring is
in the LLQ BAR and its unit is an *entry* (128/256 B): the first entry of a packet holds
2 descriptor slots and the pushed header from byte 32, the following ones only
descriptors (8 or 16). ena_com writes them in ``ena_com_prepare_tx``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L439

Rules the device applies to a descriptor stream:

* a descriptor is valid only if its phase bit equals the pass parity of its counter
  (1 on the first pass, flipping at each wrap); the device stops at the first invalid one
  (``tx_bad_phase``) and waits;
* a packet runs from a descriptor with FIRST to the next with LAST; a meta descriptor
  (META_DESC set) may only open a packet, and then the next data descriptor has no FIRST;
  only whole packets are consumed, a trailing partial packet waits for the next doorbell;
* the req_id is split over the first data descriptor: bits 9:0 in ``meta_ctrl`` 31:22,
  bits 15:10 in ``len_ctrl`` 21:16; COMP_REQ there asks for a completion;
* a packet with MBZ bits set, more than one FIRST, no data descriptor, a buffer outside
  host memory or (LLQ) a header longer than the entry allows is dropped (``tx_malformed``,
  ``tx_dma_error``) without a completion.

In LLQ mode whether an entry opens a packet depends on whether the previous entry closed
one; that two-state recurrence is solved for all entries at once by a parallel prefix
composition of the per-entry transition functions (log2(n) numpy steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impl import byteranges
from impl.bus import Bus
from impl.device.segs import clean_prefix
from impl.ena_defs.layouts import (
    DESC_SIZE,
    LLQ_DESC_CHUNK,
    LLQ_DESCS_BEFORE_HEADER,
    TX_DESC_DTYPE,
    TxDesc,
    join_req_id,
)
from impl.netmap.ranges import flat_offsets

U16 = 1 << 16


@dataclass(frozen=True)
class DescStream:
    """Descriptors fetched from several SQs, in order, one flat array."""

    sq: np.ndarray
    """Queue of each descriptor."""
    desc: np.ndarray
    """TX_DESC_DTYPE records."""
    unit: np.ndarray
    """Counter of the SQ unit holding it (descriptor in host mode, LLQ entry in LLQ)."""
    valid: np.ndarray
    """Phase matches the unit's pass parity."""
    hdr_at: np.ndarray
    """LLQ: LLQ-BAR offset of the entry's pushed header if this descriptor is in a
    packet's first entry, else -1."""


def expected_phase(counter: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Phase of the pass that free-running counter ``counter`` is in: 1, 0, 1, ..."""
    return 1 - ((counter // depth) & 1)


def _segments(sq: np.ndarray, head: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, ...]:
    """Flat (queue, counter, index-within-queue) for ``n[j]`` units from ``head[j]``."""
    q = np.repeat(sq, n)
    within = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return q, np.repeat(head, n) + within, within


def fetch_host(bus: Bus, sq: np.ndarray, ba: np.ndarray, depth: np.ndarray,
               head: np.ndarray, n: np.ndarray) -> DescStream:
    """Read ``n[j]`` descriptors from host-mode SQ ``sq[j]`` starting at counter ``head[j]``."""
    q, ctr, _ = _segments(sq, head, n)
    d = np.repeat(depth, n)
    addr = np.repeat(ba, n) + (ctr & (d - 1)) * DESC_SIZE
    desc = bus.mem.records(addr, TX_DESC_DTYPE)
    valid = TxDesc.PHASE.get(desc["len_ctrl"]) == expected_phase(ctr, d)
    return DescStream(q, desc, ctr, valid, np.full(q.size, -1, np.int64))


def _compose_scan(f_h: np.ndarray, f_c: np.ndarray) -> np.ndarray:
    """State before each entry for the recurrence ``s[e+1] = (f_h if s[e]==H else f_c)[e]``
    with ``s[0] = H`` (0 = H, 1 = C): inclusive prefix composition (Hillis-Steele)."""
    n = f_h.size
    g_h, g_c = f_h.copy(), f_c.copy()  # g[e] = f[e] o f[e-1] o ... after the scan
    d = 1
    while d < n:
        ph, pc = g_h[:-d], g_c[:-d]  # earlier composite (applied first)
        cur_h, cur_c = g_h[d:], g_c[d:]
        new_h = np.where(ph == 0, cur_h, cur_c)
        new_c = np.where(pc == 0, cur_h, cur_c)
        g_h = np.concatenate([g_h[:d], new_h])
        g_c = np.concatenate([g_c[:d], new_c])
        d *= 2
    after = g_h  # state after entry e, starting from H
    return np.concatenate([[0], after[:-1]]).astype(np.int64) if n else after


def fetch_llq(bus: Bus, sq: np.ndarray, llq_off: np.ndarray, depth: np.ndarray,
              head: np.ndarray, n: np.ndarray, entry_size: int) -> DescStream:
    """Read ``n[j]`` LLQ entries of SQ ``sq[j]`` from counter ``head[j]`` (each window starts
    at a packet boundary, since the device consumes whole packets only)."""
    q, ctr, _ = _segments(sq, head, n)
    d = np.repeat(depth, n)
    base = np.repeat(llq_off, n) + (ctr & (d - 1)) * entry_size
    dpe = entry_size // DESC_SIZE
    raw = bus.llq.data[base[:, None] + np.arange(entry_size)[None, :]]
    slots = raw.reshape(-1).view(TX_DESC_DTYPE).reshape(q.size, dpe) if q.size else \
        np.zeros((0, dpe), TX_DESC_DTYPE)
    lc = slots["len_ctrl"]
    ok = TxDesc.PHASE.get(lc) == expected_phase(ctr, d)[:, None]
    last = TxDesc.LAST.is_set(lc) & ok
    # the first slot holding LAST, per interpretation, and whether the entry closes a packet
    col = np.arange(dpe)[None, :]
    last_h = (last & (col < LLQ_DESCS_BEFORE_HEADER)).any(axis=1)
    last_c = last.any(axis=1)
    f_h = np.where(last_h, 0, 1)
    f_c = np.where(last_c, 0, 1)
    seg_last = np.cumsum(n) - 1
    f_h[seg_last[n > 0]] = 0  # a new queue's window starts at a packet
    f_c[seg_last[n > 0]] = 0
    state = _compose_scan(f_h, f_c)
    is_hdr = state == 0
    nslots = np.where(is_hdr, LLQ_DESCS_BEFORE_HEADER, dpe)
    first_last = np.where(last.any(axis=1), np.argmax(last, axis=1), dpe)
    used = np.minimum(nslots, first_last + 1)
    keep = col < used[:, None]
    rows = np.nonzero(keep)[0]
    desc = slots[keep]
    valid = ok[keep]
    hdr_at = np.where(is_hdr, base + LLQ_DESC_CHUNK, -1)[rows]
    return DescStream(q[rows], desc, ctr[rows], valid, hdr_at)


@dataclass(frozen=True)
class TxPackets:
    """Whole packets parsed from a descriptor stream."""

    sq: np.ndarray
    req_id: np.ndarray
    comp_req: np.ndarray
    units: np.ndarray
    """SQ units each packet used (descriptors, or LLQ entries)."""
    ok: np.ndarray
    """False: malformed or bad DMA, dropped without completion."""
    dma_error: np.ndarray
    dropped: np.ndarray
    """Dropped because of an LLQ burst overrun."""
    first_unit: np.ndarray
    """Counter of the packet's first unit."""
    payload: np.ndarray
    lengths: np.ndarray
    """Frame bytes of the good packets, concatenated, and their lengths."""


def consumed(stream: DescStream) -> np.ndarray:
    """Per descriptor: inside the prefix of its queue's stream that ends with the last LAST
    before the first invalid descriptor (whole packets only)."""
    m = stream.sq.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    new_q = np.concatenate([[True], stream.sq[1:] != stream.sq[:-1]])
    qid = np.cumsum(new_q) - 1
    good = clean_prefix(~stream.valid, np.bincount(qid))
    is_last = TxDesc.LAST.is_set(stream.desc["len_ctrl"]) & good
    idx = np.arange(m)
    last_pos = np.full(qid.max() + 1, -1)
    np.maximum.at(last_pos, qid, np.where(is_last, idx, -1))
    return idx <= last_pos[qid]


def select(stream: DescStream, keep: np.ndarray) -> DescStream:
    """The descriptors of ``stream`` where ``keep``."""
    return DescStream(stream.sq[keep], stream.desc[keep], stream.unit[keep],
                      stream.valid[keep], stream.hdr_at[keep])


def parse_packets(bus: Bus, stream: DescStream, llq_header_max: int,
                  drop: np.ndarray | None = None) -> TxPackets:
    """Group a consumed descriptor stream into packets and gather their frames. ``drop``
    (per descriptor) drops every packet holding a marked descriptor (LLQ burst overrun)."""
    lc = stream.desc["len_ctrl"].astype(np.int64)
    mc = stream.desc["meta_ctrl"].astype(np.int64)
    hi = stream.desc["buff_addr_hi_hdr_sz"].astype(np.int64)
    m = lc.size
    is_last = TxDesc.LAST.is_set(lc)
    start = np.concatenate([[True], is_last[:-1]]) if m else np.zeros(0, bool)
    pkt = np.cumsum(start) - 1
    npkt = int(start.sum())
    meta = TxDesc.META_DESC.is_set(lc)
    first = TxDesc.FIRST.is_set(lc)
    data = ~meta
    if npkt == m:  # one descriptor per packet: a packet's count is its descriptor's
        def cnt(mask: np.ndarray) -> np.ndarray:
            return np.asarray(mask).astype(np.int64)
    else:
        def cnt(mask: np.ndarray) -> np.ndarray:
            return np.bincount(pkt, weights=mask, minlength=npkt).astype(np.int64)
    # the first data descriptor of each packet
    data_rank = np.cumsum(data) - np.repeat(np.cumsum(data)[start] - data[start], cnt(np.ones(m)))
    first_data = data & (data_rank == 1)
    fd = np.flatnonzero(first_data)
    has_data = cnt(data) >= 1
    meta_ok = cnt(meta & ~start) == 0
    first_ok = (cnt(first) == 1) & cnt(first & start).astype(bool)
    mbz_ok = cnt(data & ((lc & TxDesc.LEN_CTRL_MBZ) != 0)) == 0
    mbz_ok &= cnt(data & ((mc & TxDesc.META_CTRL_MBZ) != 0)) == 0
    req = np.zeros(npkt, np.int64)
    comp = np.zeros(npkt, bool)
    hlen = np.zeros(npkt, np.int64)
    fd_pkt = pkt[fd]
    req[fd_pkt] = join_req_id(TxDesc.REQ_ID_LO.get(mc[fd]), TxDesc.REQ_ID_HI.get(lc[fd]))
    comp[fd_pkt] = TxDesc.COMP_REQ.is_set(lc[fd])
    hdr_at = np.full(npkt, -1, np.int64)
    hdr_at[pkt[start]] = stream.hdr_at[start]
    hlen[fd_pkt] = np.where(hdr_at[fd_pkt] >= 0, TxDesc.HEADER_LENGTH.get(hi[fd]), 0)
    hdr_ok = hlen <= llq_header_max
    # buffers: every data descriptor
    length = TxDesc.LENGTH.get(lc)
    addr = stream.desc["buff_addr_lo"].astype(np.int64) | (TxDesc.ADDR_HI.get(hi) << 32)
    in_mem = bus.mem.in_range(addr, length) | (length == 0)
    dma_ok = cnt(data & ~in_mem) == 0
    ok = has_data & meta_ok & first_ok & mbz_ok & hdr_ok & dma_ok
    dropped = cnt(drop) > 0 if drop is not None else np.zeros(npkt, bool)
    ok &= ~dropped
    # units per packet: descriptors (host) or distinct LLQ entries
    units_desc = cnt(np.ones(m))
    new_unit = np.concatenate([[True], stream.unit[1:] != stream.unit[:-1]]) if m else start
    units = np.where(hdr_at >= 0, cnt(new_unit | start), units_desc)
    # frame = LLQ header (if any) + data buffers, for the good packets only
    if not (hdr_at >= 0).any():  # no pushed header: the data buffers in stream order
        piece_len = np.where(data & ok[pkt], length, 0)
        return TxPackets(sq=stream.sq[start], req_id=req, comp_req=comp, units=units, ok=ok,
                         dma_error=~dma_ok & ~dropped, dropped=dropped,
                         first_unit=stream.unit[start],
                         payload=byteranges.gather(bus.mem.data, addr, piece_len),
                         lengths=cnt(piece_len)[ok])
    piece_src = np.concatenate([np.zeros(npkt, np.int64), np.ones(m, np.int64)])
    piece_pkt = np.concatenate([np.arange(npkt), pkt])
    piece_len = np.concatenate([np.where(hdr_at >= 0, hlen, 0), np.where(data, length, 0)])
    piece_addr = np.concatenate([hdr_at, addr])
    order = np.argsort(piece_pkt, kind="stable")
    piece_src, piece_pkt = piece_src[order], piece_pkt[order]
    piece_len, piece_addr = piece_len[order], piece_addr[order]
    piece_len = np.where(ok[piece_pkt], piece_len, 0)
    out_off = np.cumsum(piece_len) - piece_len
    payload = np.zeros(int(piece_len.sum()), np.uint8)
    h = piece_src == 0
    payload[flat_offsets(out_off[h], piece_len[h])] = \
        bus.llq.data[flat_offsets(piece_addr[h], piece_len[h])]
    b = ~h
    payload[flat_offsets(out_off[b], piece_len[b])] = \
        bus.mem.data[flat_offsets(piece_addr[b], piece_len[b])]
    lengths = np.bincount(piece_pkt, weights=piece_len, minlength=npkt).astype(np.int64)
    return TxPackets(sq=stream.sq[start], req_id=req, comp_req=comp, units=units, ok=ok,
                     dma_error=~dma_ok & ~dropped, dropped=dropped,
                     first_unit=stream.unit[start], payload=payload,
                     lengths=lengths[ok])
