"""Encoding TX descriptors and LLQ entries, many at once (``ena_com_prepare_tx``).

A packet is an optional meta descriptor then one data descriptor per buffer (at least one,
even for a packet that fits the LLQ push header: a zero-length descriptor then):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L439

* the meta descriptor (``ena_com_create_meta``): META_DESC, EXT_VALID, ETH_META_TYPE,
  META_STORE, FIRST, the phase, MSS split 10 + 4 bits, L3 header length and offset, L4
  header length in words; no req_id;
* the first data descriptor: FIRST unless a meta descriptor precedes it, COMP_REQ, the
  req_id split into 10 low bits (``meta_ctrl``) and 6 high bits (``len_ctrl``), DF, the
  header length, and when ``meta_valid`` the TSO / protocol / checksum enables;
* every data descriptor: the phase, buffer length and address (high bits masked to the DMA
  width); LAST on the packet's final descriptor.

In LLQ mode the descriptors go into 128/256-byte entries: the packet's first entry holds
two descriptors then the pushed header at byte 32, later entries ``entry_size / 16``
descriptors each (``get_sq_desc_llq``, ``ena_com_sq_update_llq_tail``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl.ena_defs.layouts import DESC_SIZE, LLQ_DESCS_BEFORE_HEADER, TxDesc, TxMetaDesc


class DescBatch(NamedTuple):
    """Flat descriptors of several packets: ``pkt`` indexes the packet arrays, ``d`` is
    the descriptor's position in its packet, ``entry`` its SQ entry offset from the start
    of the packet, ``slot`` its place in that entry (always 0 in host mode)."""

    pkt: np.ndarray
    d: np.ndarray
    entry: np.ndarray
    slot: np.ndarray


def layout(n_desc: np.ndarray, llq: bool, descs_per_entry: int) -> DescBatch:
    """Where each descriptor of each packet goes."""
    n_desc = np.asarray(n_desc, dtype=np.int64)
    pkt = np.repeat(np.arange(n_desc.size), n_desc)
    d = np.arange(pkt.size, dtype=np.int64) - np.repeat(np.cumsum(n_desc) - n_desc, n_desc)
    if not llq:
        return DescBatch(pkt, d, d, np.zeros_like(d))
    before = LLQ_DESCS_BEFORE_HEADER
    after = np.maximum(d - before, 0)
    entry = np.where(d < before, 0, 1 + after // descs_per_entry)
    slot = np.where(d < before, d, after % descs_per_entry)
    return DescBatch(pkt, d, entry, slot)


def entries_for(n_desc: np.ndarray, llq: bool, descs_per_entry: int) -> np.ndarray:
    """SQ entries a packet of ``n_desc`` descriptors takes: descriptors in host mode; LLQ
    entries otherwise (``1 + ceil((n - 2) / descs_per_entry)``, the estimate of
    ``ena_com_is_doorbell_needed``, which is exact)."""
    n_desc = np.asarray(n_desc, dtype=np.int64)
    if not llq:
        return n_desc
    extra = np.maximum(n_desc - LLQ_DESCS_BEFORE_HEADER, 0)
    return np.where(n_desc > 0, 1 + -(-extra // descs_per_entry), 0)


class PacketFields(NamedTuple):
    """Per packet (indexed by ``DescBatch.pkt``)."""

    has_meta: np.ndarray
    n_data: np.ndarray
    req_id: np.ndarray
    header_len: np.ndarray
    meta_valid: np.ndarray
    meta_key: np.ndarray
    l3_proto: np.ndarray
    l4_proto: np.ndarray
    l3_csum_enable: np.ndarray
    l4_csum_enable: np.ndarray
    tso_enable: np.ndarray
    df: np.ndarray


def _u32(bits: np.ndarray) -> np.ndarray:
    return np.asarray(bits).astype(np.uint64).astype(np.uint32)


def encode(batch: DescBatch, phase: np.ndarray, pk: PacketFields, buf_len: np.ndarray,
           buf_addr: np.ndarray, dma_addr_bits: int) -> np.ndarray:
    """The 16 bytes of every descriptor, as ``(n, 4)`` little-endian ``uint32`` words.

    ``phase`` is per descriptor; ``buf_len`` / ``buf_addr`` per descriptor (ignored for
    meta descriptors; 0 for the empty data descriptor of a header-only LLQ packet)."""
    p = batch.pkt
    is_meta = (pk.has_meta[p] == 1) & (batch.d == 0)
    b = batch.d - pk.has_meta[p]
    first = ~is_meta & (b == 0)
    last = ~is_meta & (b == pk.n_data[p] - 1)
    n = p.size
    words = np.zeros((n, 4), dtype=np.uint32)
    u = np.uint64

    # data descriptors
    rid_lo = pk.req_id[p] & 0x3FF
    rid_hi = pk.req_id[p] >> 10
    len_ctrl = (TxDesc.LENGTH.put(buf_len) | TxDesc.PHASE.put(phase)
                | np.where(first, TxDesc.COMP_REQ.put(1) | TxDesc.REQ_ID_HI.put(rid_hi), u(0))
                | np.where(first & (pk.has_meta[p] == 0), TxDesc.FIRST.put(1), u(0))
                | np.where(last, TxDesc.LAST.put(1), u(0)))
    offl = first & (pk.meta_valid[p] == 1)
    meta_ctrl = (np.where(first, TxDesc.REQ_ID_LO.put(rid_lo) | TxDesc.DF.put(pk.df[p]), u(0))
                 | np.where(offl, TxDesc.TSO_EN.put(pk.tso_enable[p])
                            | TxDesc.L3_PROTO_IDX.put(pk.l3_proto[p])
                            | TxDesc.L4_PROTO_IDX.put(pk.l4_proto[p])
                            | TxDesc.L3_CSUM_EN.put(pk.l3_csum_enable[p])
                            | TxDesc.L4_CSUM_EN.put(pk.l4_csum_enable[p]), u(0)))
    addr = np.asarray(buf_addr, dtype=np.int64)
    hi_mask = ((1 << dma_addr_bits) - 1) >> 32
    hi_hdr = (TxDesc.ADDR_HI.put((addr >> 32) & hi_mask)
              | np.where(first, TxDesc.HEADER_LENGTH.put(pk.header_len[p]), u(0)))

    if not is_meta.any():  # no meta descriptor in the batch: the data words alone
        words[:, 0] = _u32(len_ctrl)
        words[:, 1] = _u32(meta_ctrl)
        words[:, 2] = _u32(addr.astype(np.uint64) & u(0xFFFFFFFF))
        words[:, 3] = _u32(hi_hdr)
        return words

    # meta descriptors
    key = pk.meta_key[p]
    mss = key & 0xFFFF
    m_len_ctrl = (TxMetaDesc.META_DESC.put(1) | TxMetaDesc.EXT_VALID.put(1)
                  | TxMetaDesc.MSS_HI.put(mss >> 10) | TxMetaDesc.ETH_META_TYPE.put(1)
                  | TxMetaDesc.PHASE.put(phase) | TxMetaDesc.FIRST.put(1)
                  | TxMetaDesc.META_STORE.put(1))
    m_word2 = (TxMetaDesc.MSS_LO.put(mss) | TxMetaDesc.L3_HDR_LEN.put((key >> 16) & 0xFFFF)
               | TxMetaDesc.L3_HDR_OFF.put((key >> 32) & 0xFFFF)
               | TxMetaDesc.L4_HDR_LEN_IN_WORDS.put((key >> 48) & 0xFFFF))

    words[:, 0] = _u32(np.where(is_meta, m_len_ctrl, len_ctrl))
    words[:, 1] = _u32(np.where(is_meta, u(0), meta_ctrl))
    words[:, 2] = _u32(np.where(is_meta, m_word2, addr.astype(np.uint64) & u(0xFFFFFFFF)))
    words[:, 3] = _u32(np.where(is_meta, u(0), hi_hdr))
    return words


def llq_entries(batch: DescBatch, words: np.ndarray, row: np.ndarray, n_rows: int,
                entry_size: int, hdr_row: np.ndarray, hdr_src: np.ndarray,
                hdr_len: np.ndarray) -> np.ndarray:
    """Build ``n_rows`` LLQ entries (bytes, zero elsewhere): descriptor ``i`` at
    ``row[i]``, byte ``16 * slot``; packet ``k``'s header (``hdr_len[k]`` bytes of
    ``hdr_src``, concatenated) at row ``hdr_row[k]``, byte 32."""
    out = np.zeros((n_rows, entry_size), dtype=np.uint8)
    as_bytes = words.view(np.uint8).reshape(-1, DESC_SIZE)
    col = batch.slot[:, None] * DESC_SIZE + np.arange(DESC_SIZE)[None, :]
    out[row[:, None], col] = as_bytes
    if hdr_src.size:
        hrows = np.repeat(hdr_row, hdr_len)
        hcols = (LLQ_DESCS_BEFORE_HEADER * DESC_SIZE
                 + np.arange(hrows.size) - np.repeat(np.cumsum(hdr_len) - hdr_len, hdr_len))
        out[hrows, hcols] = hdr_src
    return out
