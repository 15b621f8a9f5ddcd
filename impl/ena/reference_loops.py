"""A slot-at-a-time port of the C loops: BENCHMARK BASELINE AND DIFFERENTIAL ORACLE ONLY.

Not a datapath: these functions walk packets, descriptors, LLQ lines and completions one
at a time in plain Python, statement by statement as ``ena_start_xmit`` /
``ena_xmit_mbuf`` / ``ena_com_prepare_tx``, ``ena_tx_cleanup`` /
``ena_com_tx_comp_req_id_get``, ``ena_refill_rx_bufs`` and ``ena_rx_cleanup`` /
``ena_com_rx_pkt`` / ``ena_rx_mbuf`` do. They act on the same state objects as the
vectorized driver (:class:`~impl.ena.txq.TxQueues`, :class:`~impl.ena.rxq.RxQueues`), so a
test can run both on copies of one state and compare everything, and ``ringspec bench``
can time the C's shape against the numpy one.

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L1109
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L439
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L245
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L563
"""

from __future__ import annotations

import numpy as np

from impl.ena import txmap
from impl.ena.reset import ResetState
from impl.ena.rxflags import rx_checksum, rx_hash_type
from impl.ena.rxq import RxQueues
from impl.ena.txq import TxQueues
from impl.ena_defs.constants import (
    DB_THRESHOLD,
    RX_DESC_BUDGET,
    RX_REFILL_THRESH_DIVIDER,
    RX_REFILL_THRESH_PACKET,
    TX_BUDGET,
    TX_COMMIT,
    TX_RESUME_THRESH,
)
from impl.ena_defs.layouts import (
    DESC_SIZE,
    LLQ_DESC_CHUNK,
    LLQ_DESCS_BEFORE_HEADER,
    RxCdesc,
    RxDesc,
    TxCdesc,
    TxDesc,
    TxMetaDesc,
)
from impl.ena_defs.regs import ResetReason

ENOMEM, EFBIG, EINVAL = 12, 27, 22
NO_SPACE = 28  # ENA_COM_NO_SPACE = ENOSPC


def _free(tail: int, ntc: int, depth: int) -> int:
    return depth - 1 - ((tail - ntc) & 0xFFFF)


class _Sq:
    """``struct ena_com_io_sq`` of one TX queue, over the shared arrays."""

    def __init__(self, tx: TxQueues, q: int) -> None:
        self.tx, self.q = tx, q
        self.cfg = tx.cfg
        self.idx = 0
        self.left = LLQ_DESCS_BEFORE_HEADER

    def enough(self, n: int) -> bool:
        free = _free(int(self.tx.tail[self.q]), int(self.tx.next_to_comp[self.q]),
                     self.cfg.depth)
        if self.cfg.llq:
            return free > n // self.cfg.descs_per_entry + 2
        return free >= n

    def _inc_tail(self) -> None:
        t = self.tx
        t.tail[self.q] = (int(t.tail[self.q]) + 1) & 0xFFFF
        if int(t.tail[self.q]) & (self.cfg.depth - 1) == 0:
            t.phase[self.q] ^= 1

    def _cur(self) -> np.ndarray:
        t = self.tx
        return t.bounce[self.q, (int(t.bounce_ntu[self.q]) - 1) & (t.bounce.shape[1] - 1)]

    def _flush(self) -> int:
        """``ena_com_write_bounce_buffer_to_dev``, then take and zero the next buffer."""
        t, q, cfg = self.tx, self.q, self.cfg
        if cfg.burst:
            if t.burst_left[q] == 0:
                return NO_SPACE
            t.burst_left[q] -= 1
        dst = int(t.llq_off[q]) + (int(t.tail[q]) & (cfg.depth - 1)) * cfg.llq_entry_size
        t.bus.llq.write_entries(np.array([dst]), self._cur()[None, :].copy())
        self._inc_tail()
        t.bounce_ntu[q] += 1
        self._cur()[:] = 0
        return 0

    def get_desc(self) -> tuple[np.ndarray, int]:
        """``get_sq_desc``: where the next descriptor goes (array, byte offset)."""
        if self.cfg.llq:
            off = self.idx * DESC_SIZE
            self.idx += 1
            self.left -= 1
            return self._cur(), off
        t = self.tx
        assert t.sq_words is not None
        slot = int(t.tail[self.q]) & (self.cfg.depth - 1)
        return t.sq_words[self.q, slot].view(np.uint8), 0

    def update_tail(self) -> int:
        if not self.cfg.llq:
            self._inc_tail()
            return 0
        if self.left == 0:
            rc = self._flush()
            if rc:
                return rc
            self.idx = 0
            self.left = self.cfg.descs_per_entry
        return 0

    def close(self) -> int:
        if not self.cfg.llq:
            return 0
        if self.idx:
            rc = self._flush()
            if rc:
                return rc
        self.idx = 0
        self.left = LLQ_DESCS_BEFORE_HEADER
        return 0


def _put(buf: np.ndarray, off: int, words: list[int]) -> None:
    buf[off:off + DESC_SIZE] = np.array(words, dtype="<u4").view(np.uint8)


def _prepare_tx(sq: _Sq, ctx: dict) -> tuple[int, int]:
    """``ena_com_prepare_tx``: (rc, nb_hw_desc)."""
    t, q, cfg = sq.tx, sq.q, sq.cfg
    start_tail = int(t.tail[q])
    bufs = ctx["bufs"]
    if not sq.enough(len(bufs) + 1):
        return ENOMEM, 0
    hl = ctx["header_len"]
    if cfg.llq:
        if LLQ_DESC_CHUNK + hl > cfg.llq_entry_size:
            return 14, 0
        sq._cur()[LLQ_DESC_CHUNK:LLQ_DESC_CHUNK + hl] = ctx["push"]
    # meta descriptor
    key = ctx["meta_key"]
    if cfg.disable_meta_caching:
        have_meta = True
    elif ctx["meta_valid"] and key != int(t.cached_meta[q]):
        have_meta = True
        t.cached_meta[q] = key
    else:
        have_meta = False
    if have_meta:
        buf, off = sq.get_desc()
        mss, l3len, l3off, l4len = (int(x) for x in txmap.unpack_meta(np.array(key)))
        len_ctrl = (TxMetaDesc.META_DESC.mask | TxMetaDesc.EXT_VALID.mask
                    | ((mss >> 10) << 16 & TxMetaDesc.MSS_HI.mask)
                    | TxMetaDesc.ETH_META_TYPE.mask | (int(t.phase[q]) << 24)
                    | TxMetaDesc.FIRST.mask | TxMetaDesc.META_STORE.mask)
        word2 = ((mss << 22) & TxMetaDesc.MSS_LO.mask | l3len & 0xFF
                 | (l3off << 8) & TxMetaDesc.L3_HDR_OFF.mask
                 | (l4len << 16) & TxMetaDesc.L4_HDR_LEN_IN_WORDS.mask)
        _put(buf, off, [len_ctrl, 0, word2, 0])
        rc = sq.update_tail()
        if rc:
            return rc, 0
    if not bufs and not hl:
        rc = sq.close()
        return rc, (int(t.tail[q]) - start_tail) & 0xFFFF
    buf, off = sq.get_desc()
    rid = ctx["req_id"]
    len_ctrl = (0 if have_meta else TxDesc.FIRST.mask) | (int(t.phase[q]) << 24)
    len_ctrl |= TxDesc.COMP_REQ.mask | ((rid >> 10) << 16 & TxDesc.REQ_ID_HI.mask)
    meta_ctrl = ((rid << 22) & TxDesc.REQ_ID_LO.mask) | ((ctx["df"] << 4) & TxDesc.DF.mask)
    if ctx["meta_valid"]:
        meta_ctrl |= ((ctx["tso"] << 7) & TxDesc.TSO_EN.mask | ctx["l3"] & 0xF
                      | (ctx["l4"] << 8) & TxDesc.L4_PROTO_IDX.mask
                      | (ctx["l3_csum"] << 13) & TxDesc.L3_CSUM_EN.mask
                      | (ctx["l4_csum"] << 14) & TxDesc.L4_CSUM_EN.mask)
    hi_hdr = (hl << 24) & TxDesc.HEADER_LENGTH.mask
    addr_lo = 0
    hi_mask = ((1 << cfg.dma_addr_bits) - 1) >> 32
    for i, (paddr, blen) in enumerate(bufs):
        if i != 0:
            _put(buf, off, [len_ctrl, meta_ctrl, addr_lo, hi_hdr])
            rc = sq.update_tail()
            if rc:
                return rc, 0
            buf, off = sq.get_desc()
            len_ctrl, meta_ctrl, hi_hdr = int(t.phase[q]) << 24, 0, 0
        len_ctrl |= blen & 0xFFFF
        addr_lo = paddr & 0xFFFFFFFF
        hi_hdr |= (paddr >> 32) & hi_mask
    len_ctrl |= TxDesc.LAST.mask
    _put(buf, off, [len_ctrl, meta_ctrl, addr_lo, hi_hdr])
    rc = sq.update_tail()
    if rc:
        return rc, 0
    rc = sq.close()
    return rc, (int(t.tail[q]) - start_tail) & 0xFFFF


def _doorbell(tx: TxQueues, q: int) -> None:
    """``ena_ring_tx_doorbell``."""
    tx.bus.regs.write32(int(tx.db_off[q]), int(tx.tail[q]))
    if tx.cfg.burst:
        tx.burst_left[q] = tx.cfg.burst
    tx.stats.doorbells[q] += 1
    tx.acum_pkts[q] = 0


def _xmit(tx: TxQueues, sq: _Sq, q: int, slot: int, reset: ResetState) -> tuple[int, int]:
    """``ena_xmit_mbuf``: (rc, req_id)."""
    cfg, br, st = tx.cfg, tx.drbr, tx.stats
    length, nsegs = int(br.length[q, slot]), int(br.nsegs[q, slot])
    thms = cfg.tx_max_header_size
    if not (nsegs < cfg.max_tx_sgl_size or (nsegs == cfg.max_tx_sgl_size and length < thms)):
        st.collapse[q] += 1
        if -(-length // txmap.MCLBYTES) > cfg.max_tx_sgl_size - 1:
            st.collapse_err[q] += 1
            return ENOMEM, -1
    ntu = int(tx.next_to_use[q])
    rid = int(tx.free_ids[q, ntu])
    used = int(br.used_segs[q, slot])
    if used > cfg.max_tx_sgl_size - 1:  # bus_dmamap_load_mbuf_sg: too many segments
        st.dma_mapping_err[q] += 1
        return EFBIG, -1
    addr = int(br.addr[q, slot])
    segs, pos = [], addr
    for k in range(used):
        segs.append((pos, int(br.seg_len[q, slot, k])))
        pos += int(br.seg_len[q, slot, k])
    push, hl = None, 0
    if cfg.llq:
        hl = min(length, thms)
        if hl > segs[0][1]:
            st.llq_buffer_copy[q] += 1
        push = tx.bus.mem.data[addr:addr + hl].copy()
        if length <= thms:
            segs = []
        else:
            off, iseg, rest = thms, 0, []
            while off > 0:
                if off >= segs[iseg][1]:
                    off -= segs[iseg][1]
                else:
                    rest.append((segs[iseg][0] + off, segs[iseg][1] - off))
                    off = 0
                iseg += 1
            segs = rest + segs[iseg:]
    m = txmap.tx_csum(tx.bus.mem.data, np.array([addr]), np.array([br.csum_flags[q, slot]]),
                      np.array([br.tso_segsz[q, slot]]), cfg.disable_meta_caching)
    ctx = {"bufs": segs, "push": push, "header_len": hl, "req_id": rid,
           "meta_valid": int(m.meta_valid[0]), "meta_key": int(m.meta_key[0]),
           "l3": int(m.l3_proto[0]), "l4": int(m.l4_proto[0]),
           "l3_csum": int(m.l3_csum_enable[0]), "l4_csum": int(m.l4_csum_enable[0]),
           "tso": int(m.tso_enable[0]), "df": int(m.df[0])}
    changed = ctx["meta_valid"] and ctx["meta_key"] != int(tx.cached_meta[q])
    n_descs = len(segs) + (1 if cfg.disable_meta_caching or changed else 0)
    need = 1 + (-(-(n_descs - 2) // cfg.descs_per_entry) if n_descs > 2 else 0)
    if tx.acum_pkts[q] == DB_THRESHOLD or (cfg.burst and need > tx.burst_left[q]):
        _doorbell(tx, q)
    rc, nb = _prepare_tx(sq, ctx)
    if rc:
        if rc != ENOMEM:
            reset.trigger(ResetReason.DRIVER_INVALID_STATE)
        st.prepare_ctx_err[q] += 1
        return rc, -1
    st.cnt[q] += 1
    st.bytes[q] += length
    tx.inflight[q, rid] = True
    tx.pkt_id[q, rid] = br.pkt_id[q, slot]
    tx.pkt_len[q, rid] = length
    tx.tx_descs[q, rid] = nb
    tx.next_to_use[q] = (ntu + 1) & (cfg.depth - 1)
    if not sq.enough(cfg.max_tx_sgl_size + 2):
        tx.running[q] = False
        st.queue_stop[q] += 1
        if sq.enough(TX_RESUME_THRESH):
            tx.running[q] = True
            st.queue_wakeup[q] += 1
    return 0, rid


def start_xmit(tx: TxQueues, reset: ResetState) -> tuple[list[int], list[int]]:
    """``ena_start_xmit`` on every queue in order: (sent ids, dropped ids)."""
    sent, dropped = [], []
    br = tx.drbr
    for q in range(tx.cfg.nqueues):
        if not tx.running[q] or br.count[q] == 0:
            continue
        sq = _Sq(tx, q)
        while br.count[q] > 0:
            slot = int(br.cons[q]) & (br.size - 1)
            if not tx.running[q]:
                break
            rc, _rid = _xmit(tx, sq, q, slot, reset)
            if rc:
                if rc not in (ENOMEM, NO_SPACE):
                    dropped.append(int(br.pkt_id[q, slot]))
                    br.advance(np.array([q]), np.array([1]))
                break
            sent.append(int(br.pkt_id[q, slot]))
            br.advance(np.array([q]), np.array([1]))
            tx.acum_pkts[q] += 1
        if tx.acum_pkts[q] != 0:
            _doorbell(tx, q)
    return sent, dropped


def tx_cleanup(tx: TxQueues, q: int, cdesc_mbz: bool, hardened: bool,
               reset_reasons: list[int]) -> tuple[list[int], bool]:
    """``ena_tx_cleanup`` on queue ``q``: (completed ids, again). Triggered reasons are
    appended to ``reset_reasons``."""
    cfg, st = tx.cfg, tx.stats
    depth = cfg.depth
    assert tx.cq is not None
    ntc = int(tx.next_to_clean[q])
    total_done, commit, budget = 0, TX_COMMIT, TX_BUDGET
    done: list[int] = []
    req_id = -1  # the C's local: stale from the last iteration, uninitialised at first
    while True:
        head = int(tx.cq_head[q])
        cd = tx.cq[q, head & (depth - 1)]
        flags = int(cd["flags"])
        if flags & 1 != int(tx.cq_phase[q]):
            break
        rc = 0
        if cdesc_mbz and flags & TxCdesc.MBZ6.mask:
            rc = 14  # ENA_COM_FAULT
        else:
            req_id = int(cd["req_id"])
            if req_id >= depth:
                rc = EINVAL
            else:
                tx.cq_head[q] = (head + 1) & 0xFFFF
                if int(tx.cq_head[q]) & (depth - 1) == 0:
                    tx.cq_phase[q] ^= 1
        if rc:
            if rc == 14:
                reset_reasons.append(int(ResetReason.TX_DESCRIPTOR_MALFORMED))
            else:
                st.bad_req_id[q] += 1
                reset_reasons.append(int(ResetReason.INV_TX_REQ_ID))
            if not hardened:  # the unconditional mbuf test at an unchecked index
                st.tx_info_oob_reads[q] += 1
            break
        if not tx.inflight[q, req_id]:
            reset_reasons.append(int(ResetReason.INV_TX_REQ_ID))
            break
        done.append(int(tx.pkt_id[q, req_id]))
        tx.inflight[q, req_id] = False
        tx.pkt_id[q, req_id] = -1
        total_done += int(tx.tx_descs[q, req_id])
        tx.free_ids[q, ntc] = req_id
        ntc = (ntc + 1) & (depth - 1)
        commit -= 1
        if commit == 0:
            commit = TX_COMMIT
            tx.next_to_clean[q] = ntc
            tx.next_to_comp[q] = (int(tx.next_to_comp[q]) + total_done) & 0xFFFF
            total_done = 0
        budget -= 1
        if budget == 0:
            break
    if commit != TX_COMMIT:
        tx.next_to_clean[q] = ntc
        tx.next_to_comp[q] = (int(tx.next_to_comp[q]) + total_done) & 0xFFFF
    sq = _Sq(tx, q)
    if not tx.running[q] and sq.enough(TX_RESUME_THRESH):
        tx.running[q] = True
        st.queue_wakeup[q] += 1
    return done, budget == 0


def add_rx_desc(rx: RxQueues, q: int, rid: int, addr: int, length: int) -> None:
    """``ena_com_add_single_rx_desc`` (the caller checked for room)."""
    depth = rx.cfg.depth
    assert rx.sq is not None
    d = rx.sq[q, int(rx.tail[q]) & (depth - 1)]
    d["length"] = length & 0xFFFF
    d["reserved2"] = 0
    d["ctrl"] = (RxDesc.FIRST.mask | RxDesc.LAST.mask | RxDesc.COMP_REQ.mask
                 | int(rx.phase[q]))
    d["req_id"] = rid
    d["reserved6"] = 0
    d["buff_addr_lo"] = addr & 0xFFFFFFFF
    d["buff_addr_hi"] = (addr >> 32) & (((1 << rx.cfg.dma_addr_bits) - 1) >> 32)
    d["reserved16_w3"] = 0
    rx.tail[q] = (int(rx.tail[q]) + 1) & 0xFFFF
    if int(rx.tail[q]) & (depth - 1) == 0:
        rx.phase[q] ^= 1


def refill(rx: RxQueues, q: int, num: int) -> int:
    """``ena_refill_rx_bufs``."""
    cfg = rx.cfg
    depth = cfg.depth
    assert rx.sq is not None
    ntu = int(rx.next_to_use[q])
    i = 0
    while i < num:
        rid = int(rx.free_ids[q, ntu])
        rx.posted[q, rid] = True  # ena_alloc_rx_mbuf (reused if still set)
        if _free(int(rx.tail[q]), int(rx.next_to_comp[q]), depth) < 1:
            break
        add_rx_desc(rx, q, rid, int(rx.buf_addr[q, rid]), cfg.buf_size)
        ntu = (ntu + 1) & (depth - 1)
        i += 1
    end_refill(rx, q, i, num, ntu)
    return i


def end_refill(rx: RxQueues, q: int, posted: int, num: int, ntu: int) -> None:
    """The end of ``ena_refill_rx_bufs``: count a short refill, ring the doorbell if
    anything was posted, store ``next_to_use``."""
    if posted < num:
        rx.stats.refil_partial[q] += 1
    if posted:
        rx.bus.regs.write32(int(rx.db_off[q]), int(rx.tail[q]))
    rx.next_to_use[q] = ntu


def rx_pkt(rx: RxQueues, q: int, cdesc_mbz: bool) -> int | tuple[int, list[tuple[int, int]]]:
    """``ena_com_rx_pkt`` on queue ``q``: ``(first completion index, [(length, req_id)])``
    for the next whole packet (the SQ's ``next_to_comp`` advanced past it), 0 when no
    whole packet is there (a partial one is remembered), or the reset reason of the
    error that stopped it (``bad_desc_num`` / ``bad_req_id`` counted)."""
    cfg, st = rx.cfg, rx.stats
    depth = cfg.depth
    assert rx.cq is not None
    # ena_com_cdesc_rx_pkt_get
    count = int(rx.cur_count[q])
    last = False
    while True:
        head = int(rx.cq_head[q])
        status = int(rx.cq[q, head & (depth - 1)]["status"])
        if (status >> 24) & 1 != int(rx.cq_phase[q]):
            break
        rx.cq_head[q] = (head + 1) & 0xFFFF
        if int(rx.cq_head[q]) & (depth - 1) == 0:
            rx.cq_phase[q] ^= 1
        if (status & RxCdesc.FIRST.mask and count != 0) or (
                cdesc_mbz and status & RxCdesc.MBZ):
            return int(ResetReason.RX_DESCRIPTOR_MALFORMED)
        count += 1
        if status & RxCdesc.LAST.mask:
            last = True
            break
    if not last:
        rx.cur_count[q] = count
        return 0
    first_idx = int(rx.cur_start[q])
    rx.cur_count[q] = 0
    rx.cur_start[q] = int(rx.cq_head[q]) & (depth - 1)
    if count > cfg.max_rx_sgl_size:
        st.bad_desc_num[q] += 1
        return int(ResetReason.TOO_MANY_RX_DESCS)
    bufs = []
    for i in range(count):
        cd = rx.cq[q, (first_idx + i) & (depth - 1)]
        bufs.append((int(cd["length"]), int(cd["req_id"])))
        if bufs[-1][1] >= depth:
            st.bad_req_id[q] += 1
            return int(ResetReason.INV_RX_REQ_ID)
    rx.next_to_comp[q] = (int(rx.next_to_comp[q]) + count) & 0xFFFF
    return first_idx, bufs


def rx_cleanup(rx: RxQueues, q: int, cdesc_mbz: bool,
               reset_reasons: list[int]) -> tuple[list[tuple], bool]:
    """``ena_rx_cleanup`` on queue ``q``: (delivered packets as tuples
    (bytes, flowid, hashtype, csum_flags, l3, l4, descs), again)."""
    cfg, st = rx.cfg, rx.stats
    depth = cfg.depth
    assert rx.cq is not None
    ntc = int(rx.next_to_clean[q])
    budget = RX_DESC_BUDGET
    out: list[tuple] = []
    while True:
        pkt = rx_pkt(rx, q, cdesc_mbz)
        if isinstance(pkt, int):
            if pkt:
                reset_reasons.append(pkt)
                return out, False
            break
        first_idx, bufs = pkt
        ndesc = len(bufs)
        lastcd = rx.cq[q, (first_idx + ndesc - 1) & (depth - 1)]
        offset = int(rx.cq[q, first_idx & (depth - 1)]["offset"])
        # ena_rx_mbuf
        lntc, data, failed = ntc, b"", False
        for i, (blen, rid) in enumerate(bufs):
            if not rx.posted[q, rid]:
                reset_reasons.append(int(ResetReason.INV_RX_REQ_ID))
                failed = True
                break
            a = int(rx.buf_addr[q, rid]) + (offset if i == 0 else 0)
            data += rx.bus.mem.data[a:a + blen].tobytes()
            rx.posted[q, rid] = False
            rx.free_ids[q, lntc] = rid
            lntc = (lntc + 1) & (depth - 1)
        if failed:
            for _, rid in bufs:
                rx.free_ids[q, ntc] = rid
                ntc = (ntc + 1) & (depth - 1)
            break
        ntc = lntc
        s = int(lastcd["status"])
        l3, l4 = np.array([s & 0x1F]), np.array([(s >> 8) & 0x1F])
        hashtype = int(rx_hash_type(l3, l4, np.array([(s >> 15) & 1]), cfg.rss_active)[0])
        flowid = int(lastcd["hash"]) if cfg.rss_active else q
        csum = 0
        if cfg.rxcsum:
            f, good, bad = rx_checksum(l3, l4, np.array([(s >> 13) & 1]),
                                       np.array([(s >> 14) & 1]))
            csum = int(f[0])
            st.csum_good[q] += int(good[0])
            st.csum_bad[q] += int(bad[0])
        st.bytes[q] += len(data)
        st.cnt[q] += 1
        out.append((data, flowid, hashtype, csum, int(l3[0]), int(l4[0]), ndesc))
        budget -= ndesc
        if budget <= 0:
            break
    rx.next_to_clean[q] = ntc
    need = _free(int(rx.tail[q]), int(rx.next_to_comp[q]), depth)
    if need > min(depth // RX_REFILL_THRESH_DIVIDER, RX_REFILL_THRESH_PACKET):
        refill(rx, q, need)
    return out, budget <= 0


def cleanup(tx: TxQueues, rx: RxQueues, queues: list[int], cdesc_mbz: bool, hardened: bool,
            reset: ResetState) -> tuple[list[int], list[tuple], list[int]]:
    """``ena_cleanup`` on ``queues``, round by round as :meth:`EnaDriver.cleanup` orders
    them (each round: every live queue's RX then TX cleanup, in queue order; a triggered
    reset ends everything after the round). Returns (completed ids, delivered packets,
    unmasked queues); the caller writes the unmask registers."""
    from impl.ena_defs.constants import CLEAN_BUDGET

    completed: list[int] = []
    delivered: list[tuple] = []
    live = list(queues)
    for _ in range(CLEAN_BUDGET):
        again = []
        for q in live:
            reasons: list[int] = []
            out, rx_again = rx_cleanup(rx, q, cdesc_mbz, reasons)
            delivered += [(q, *p) for p in out]
            done, tx_again = tx_cleanup(tx, q, cdesc_mbz, hardened, reasons)
            completed += done
            for r in reasons:
                reset.trigger(r)
            if rx_again or tx_again:
                again.append(q)
        if reset.triggered:
            return completed, delivered, []
        live = again
        if not live:
            break
    return completed, delivered, list(queues)
