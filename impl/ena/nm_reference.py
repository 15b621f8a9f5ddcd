"""A slot-at-a-time port of ena_netmap_tx_frames, ena_netmap_tx_cleanup,
ena_netmap_rx_frames and ena_netmap_rx_cleanup: DIFFERENTIAL ORACLE ONLY.

Not a datapath: it walks slots, packets and completions one at a time, statement by
statement as ena_netmap_tx_frames / ena_netmap_tx_frame / ena_netmap_tx_map_slots /
ena_netmap_unmap_last_socket_chain, ena_netmap_tx_cleanup / ena_netmap_tx_clean_one,
ena_netmap_rx_frames / ena_netmap_rx_load_desc and ena_netmap_rx_cleanup /
ena_refill_rx_bufs / ena_netmap_alloc_rx_slot do, with the queue accesses of
:mod:`impl.ena.reference_loops` (ena_com_prepare_tx, ena_com_rx_pkt,
ena_com_add_single_rx_desc), over the same state objects as :mod:`impl.ena.nm_tx` and
:mod:`impl.ena.nm_rx`, so a test can run both on twin rigs and
compare everything.  It makes the choices :mod:`impl.ena.nm_tx` documents where the C
mishandles its input (a chain open at rhead waits; a zero-length slot, and hardened a
bad buffer or length, is EINVAL).

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L350
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L800
"""

from __future__ import annotations

import errno

from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.reference_loops import (
    ENOMEM,
    _doorbell,
    _free,
    _prepare_tx,
    _Sq,
    add_rx_desc,
    end_refill,
    rx_pkt,
)
from impl.ena_defs.constants import DB_THRESHOLD
from impl.ena_defs.layouts import TxCdesc
from impl.ena_defs.regs import ResetReason
from impl.netmap.layout import NS_BUF_CHANGED, NS_MOREFRAG


def tx_frames(nm: EnaNetmapRings, q: int, now_ns: int = 0) -> tuple[int, int]:
    """ena_netmap_tx_frames on TX ring ``q``: (rc, packets sent)."""
    kr, tx = nm.tx, nm.drv.tx
    cfg = tx.cfg
    n, mask = kr.num_slots, cfg.depth - 1
    hwcur, head = int(kr.hwcur[q]), int(kr.rhead[q])
    nm_i, nt, rc, sent = hwcur, int(tx.next_to_use[q]), 0, 0
    sq = _Sq(tx, q)
    while nm_i != head:
        slots, j = [nm_i], nm_i
        while kr.slot_flags[q, j] & NS_MOREFRAG and (j + 1) % n != head:
            j = (j + 1) % n
            slots.append(j)
        lengths = [int(kr.slot_len[q, s]) for s in slots]
        bufs = [int(kr.slot_buf_idx[q, s]) for s in slots]
        bad = any(ln == 0 for ln in lengths) or (nm.hardened and any(
            not 2 <= b < nm.mem.nbufs or ln > nm.buf_size for b, ln in zip(bufs, lengths,
                                                                          strict=True)))
        if len(slots) > cfg.max_tx_sgl_size or bad:
            rc = errno.EINVAL
            break
        if kr.slot_flags[q, slots[-1]] & NS_MOREFRAG:
            break  # a chain still open at rhead waits
        total = sum(lengths)
        push = min(total, cfg.tx_max_header_size) if cfg.llq else 0
        segs, start = [], 0
        for b, ln in zip(bufs, lengths, strict=True):
            skip = max(push - start, 0)
            if start + ln > push:
                segs.append((int(nm.buf_addr(b)) + skip, ln - skip))
            start += ln
        header = None
        if cfg.llq:
            header = nm.drv.bus.mem.gather([int(nm.buf_addr(b)) for b in bufs],
                                           [min(max(push - s, 0), ln) for s, ln in
                                            zip(_starts(lengths), lengths, strict=True)])
            if push > lengths[0]:
                tx.stats.llq_buffer_copy[q] += 1
        rid = int(tx.free_ids[q, nt])
        meta = 1 if cfg.disable_meta_caching else 0
        ctx = {"bufs": segs, "push": header, "header_len": push, "req_id": rid,
               "meta_valid": meta, "meta_key": 0, "l3": 0, "l4": 0, "l3_csum": 0,
               "l4_csum": 0, "tso": 0, "df": 0}
        n_descs = len(segs) + meta
        need = 1 + (-(-(n_descs - 2) // cfg.descs_per_entry) if n_descs > 2 else 0)
        if tx.acum_pkts[q] == DB_THRESHOLD or (cfg.burst and need > tx.burst_left[q]):
            _doorbell(tx, q)
        err, nb = _prepare_tx(sq, ctx)
        if err:
            if err != ENOMEM:
                nm.drv.reset.trigger(ResetReason.DRIVER_INVALID_STATE)
            tx.stats.prepare_ctx_err[q] += 1
            for s in slots:  # ena_netmap_unmap_last_socket_chain
                kr.slot_flags[q, s] = (kr.slot_flags[q, s] | NS_BUF_CHANGED if nm.hardened
                                       else NS_BUF_CHANGED)
            rc = 0 if err == ENOMEM else err
            break
        tx.stats.cnt[q] += 1
        tx.stats.bytes[q] += total
        tx.tx_descs[q, rid] = nb
        tx.pkt_len[q, rid] = total
        for k, s in enumerate(slots):
            nm.tx_socket_buf[q, rid, k] = bufs[k]
            kr.slot_buf_idx[q, s] = 0
        nm.tx_sockets[q, rid] = len(slots)
        if nm.hardened:
            tx.inflight[q, rid] = True
            tx.sent_ns[q, rid] = now_ns
            tx.print_once[q, rid] = True
        nt = (nt + 1) & mask
        nm_i = (slots[-1] + 1) % n
        tx.acum_pkts[q] += 1
        sent += 1
    if nm_i != hwcur:
        _doorbell(tx, q)
        tx.next_to_use[q] = nt
        kr.hwcur[q] = nm_i
    return rc, sent


def _starts(lengths: list[int]) -> list[int]:
    out, at = [], 0
    for ln in lengths:
        out.append(at)
        at += ln
    return out


def tx_cleanup(nm: EnaNetmapRings, q: int, cdesc_mbz: bool) -> tuple[int, int]:
    """ena_netmap_tx_cleanup on TX ring ``q``: (completions, reset reason or 0)."""
    kr, tx = nm.tx, nm.drv.tx
    cfg = tx.cfg
    n, depth = kr.num_slots, cfg.depth
    assert tx.cq is not None
    nm_i, nt = int(kr.hwtail[q]), int(tx.next_to_clean[q])
    lim = n - 1
    total_descs, done, reason = 0, 0, 0
    while True:
        head = int(tx.cq_head[q])
        cd = tx.cq[q, head & (depth - 1)]
        flags = int(cd["flags"])
        if flags & 1 != int(tx.cq_phase[q]):
            break
        if cdesc_mbz and flags & TxCdesc.MBZ6.mask:
            reason = int(ResetReason.TX_DESCRIPTOR_MALFORMED)
            break
        rid = int(cd["req_id"])
        if rid >= depth:
            tx.stats.bad_req_id[q] += 1
            reason = int(ResetReason.INV_TX_REQ_ID)
            break
        tx.cq_head[q] = (head + 1) & 0xFFFF
        if int(tx.cq_head[q]) & (depth - 1) == 0:
            tx.cq_phase[q] ^= 1
        for k in range(int(nm.tx_sockets[q, rid])):  # ena_netmap_tx_clean_one
            nm_i = (nm_i + 1) % n
            kr.slot_buf_idx[q, nm_i] = nm.tx_socket_buf[q, rid, k]
            kr.slot_flags[q, nm_i] = NS_BUF_CHANGED
            nm.tx_socket_buf[q, rid, k] = 0
        nm.tx_sockets[q, rid] = 0
        tx.inflight[q, rid] = False
        tx.free_ids[q, nt] = rid
        nt = (nt + 1) & ((depth if nm.hardened else lim) - 1)
        total_descs += int(tx.tx_descs[q, rid])
        done += 1
    kr.hwtail[q] = nm_i
    if total_descs > 0:
        tx.next_to_clean[q] = nt
        tx.next_to_comp[q] = (int(tx.next_to_comp[q]) + total_descs) & 0xFFFF
    if reason:
        nm.drv.reset.trigger(reason)
    return done, reason


_RX_ERRNO = {int(ResetReason.RX_DESCRIPTOR_MALFORMED): errno.EFAULT,
             int(ResetReason.TOO_MANY_RX_DESCS): errno.ENOSPC,
             int(ResetReason.INV_RX_REQ_ID): errno.EIO}


def rx_frames(nm: EnaNetmapRings, q: int, cdesc_mbz: bool) -> tuple[int, int]:
    """ena_netmap_rx_frames on RX ring ``q``: (rc, reset reason or 0)."""
    rx, kr = nm.drv.rx, nm.rx
    n, mask = kr.num_slots, rx.cfg.depth - 1
    nt, nm_i, reason = int(rx.next_to_clean[q]), int(kr.hwtail[q]), 0
    while True:
        pkt = rx_pkt(rx, q, cdesc_mbz)
        if isinstance(pkt, int):
            reason = pkt
            break
        _, bufs = pkt
        ids = [rid for _, rid in bufs]
        if nm.hardened and (len(set(ids)) < len(ids) or not all(nm.rx_buf[q, ids])):
            rx.stats.bad_req_id[q] += 1
            reason = int(ResetReason.INV_RX_REQ_ID)
            break
        for blen, rid in bufs:  # ena_netmap_rx_load_desc
            kr.slot_buf_idx[q, nm_i] = nm.rx_buf[q, rid]
            nm.rx_buf[q, rid] = 0
            rx.posted[q, rid] = False
            kr.slot_flags[q, nm_i] |= NS_MOREFRAG | NS_BUF_CHANGED
            kr.slot_len[q, nm_i] = blen
            rx.free_ids[q, nt] = rid
            nm_i = (nm_i + 1) % n
            nt = (nt + 1) & mask
        kr.slot_flags[q, (nm_i - 1) % n] &= 0xFFFF ^ NS_MOREFRAG
        rx.stats.cnt[q] += 1
        rx.stats.bytes[q] += sum(blen for blen, _ in bufs)
    kr.hwtail[q] = nm_i
    rx.next_to_clean[q] = nt
    if reason:
        nm.drv.reset.trigger(reason)
    return _RX_ERRNO.get(reason, 0), reason


def refill(nm: EnaNetmapRings, q: int, num: int) -> tuple[int, int]:
    """ena_refill_rx_bufs with ena_netmap_alloc_rx_slot: (posted, rc)."""
    rx, kr = nm.drv.rx, nm.rx
    n, depth = kr.num_slots, rx.cfg.depth
    ntu, i, rc = int(rx.next_to_use[q]), 0, 0
    while i < num:
        rid = int(rx.free_ids[q, ntu])
        if nm.rx_buf[q, rid] == 0:  # else: the buffer of an earlier try is reused
            nm_i = int(kr.hwcur[q])
            stop = (nm_i + 1) % n if nm.hardened else nm_i
            if stop == int(kr.rhead[q]) and nm.rx_initialized[q]:
                rc = errno.ENOMEM
                break
            buf = int(kr.slot_buf_idx[q, nm_i])
            if buf == 0 or buf >= nm.mem.nbufs:
                rc = errno.EFAULT
                break
            nm.rx_buf[q, rid] = buf
            kr.slot_buf_idx[q, nm_i] = 0
            kr.hwcur[q] = (nm_i + 1) % n
        if _free(int(rx.tail[q]), int(rx.next_to_comp[q]), depth) < 1:
            rc = errno.ENOSPC
            break
        rx.posted[q, rid] = True
        add_rx_desc(rx, q, rid, int(nm.buf_addr(nm.rx_buf[q, rid])), nm.buf_size)
        ntu = (ntu + 1) & (depth - 1)
        i += 1
    end_refill(rx, q, i, num, ntu)
    return i, rc


def rx_cleanup(nm: EnaNetmapRings, q: int) -> tuple[int, int]:
    """ena_netmap_rx_cleanup: the refill count, computed once (hardened: the released
    slots), then the refill."""
    kr, n = nm.rx, nm.rx.num_slots
    hwcur, hwtail, rhead = int(kr.hwcur[q]), int(kr.hwtail[q]), int(kr.rhead[q])
    if nm.hardened:
        need = (rhead - hwcur - 1) % n
    else:
        need = rhead - hwcur - (1 if hwcur != hwtail else 0)
        if need < 0:
            need += n
    return refill(nm, q, need) if need else (0, 0)
