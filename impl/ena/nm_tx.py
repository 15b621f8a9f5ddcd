"""ena_netmap_txsync's body for a batch of TX rings: ena_netmap_tx_frames, then
ena_netmap_tx_cleanup.

**Frames.** From ``nr_hwcur`` to ``rhead``, one packet per NS_MOREFRAG chain, in ring
order, each through ena_netmap_tx_frame:

1. more slots than ``max_tx_sgl_size`` -> EINVAL: the loop stops and the error goes to
   netmap (which then skips nm_sync_finalize, so ``ring->tail`` does not move);
2. ``req_id = free_tx_ids[next_to_use]``; ena_netmap_tx_map_slots maps every slot (host
   mode: one buffer per slot; LLQ: the first ``min(len, tx_max_header_size)`` bytes are
   the pushed header -- from the first slot, or copied across slots -- and the buffers
   carry the rest), saves each slot's ``buf_idx`` in ``socket_buf_idx`` and zeroes it;
3. the doorbell, if ``acum_pkts`` reached 64 or the LLQ burst needs it;
4. ena_com_prepare_tx: no room for ``num_bufs + 1`` descriptors -> ENA_COM_NO_MEM: the
   chain is rolled back (ena_netmap_unmap_last_socket_chain) and the loop stops with 0
   (a full ring is not an error); a packet larger than the LLQ burst -> reset
   DRIVER_INVALID_STATE, rolled back, the error returned;
5. sent: ``tx_descs`` recorded, ``next_to_use`` advanced (mask ``ring_size - 1``).

At the end, if anything was sent, the doorbell (again, if the failing packet's own
doorbell test just rang it) and ``nr_hwcur`` past the last packet.

**Cleanup.** Completions in CQ order, no budget, each validated by
``ena_com_tx_comp_req_id_get`` (phase: stop quietly; MBZ bits with CDESC_MBZ ->
TX_DESCRIPTOR_MALFORMED; ``req_id >= depth`` -> INV_TX_REQ_ID) -- there is no
"already completed" test on this path -- then ena_netmap_tx_clean_one: the packet's
buffers go back to the slots after ``nr_hwtail`` with NS_BUF_CHANGED, and
``free_tx_ids[next_to_clean] = req_id``.  The SQ gets the descriptors back
(``ena_com_comp_ack``) once at the end.

**As shipped vs hardened** (:class:`impl.ena.driver.Policy`, the rules of
:mod:`model.ena_netmap`):

* ``next_to_clean`` advances with ``ENA_TX_RING_IDX_NEXT(nt, lim)``, whose mask is
  ``ring_size - 2``: with a power-of-two ring it never leaves 0, every completion
  overwrites ``free_tx_ids[0]`` and later packets reuse ids still in flight
  (ENA-NM-TX-IDS).  Hardened: mask ``ring_size - 1``.
* no ``tx_info->timestamp``: the missing-completion watchdog (which scans stamped ids,
  :mod:`impl.ena.watchdog`) never sees a netmap packet (ENA-NM-TX-WATCHED).  Hardened:
  stamped at send, cleared at completion, as ena_xmit_mbuf / ena_tx_cleanup do.
* the rollback writes ``flags = NS_BUF_CHANGED``, erasing the user's NS_MOREFRAG: the next
  sync sends the chain's slots as separate packets.  Hardened: the flags are kept and
  NS_BUF_CHANGED added.

Deviations, both policies (the C mishandles these inputs in ways a simulation cannot run
to completion; a driver author should refuse them as ringspec does):

* a chain still open at ``rhead`` (NS_MOREFRAG on the last published slot) waits for the
  next sync; the C's ena_netmap_count_slots and the map loop read on past ``rhead``;
* a slot of length 0 -> EINVAL.  In the C, host mode maps nothing for it, so ``nm_i`` does
  not move and ena_netmap_tx_frames spins on the same slot; in LLQ mode its id and buffer
  go out with no descriptor and never come back;
* hardened only: a slot whose ``buf_idx`` is not a real buffer or whose ``len`` exceeds
  the buffer -> EINVAL (as shipped, ``PNMB`` maps a bad index to buffer 0 and the length
  is not checked, so the device reads past the buffer).

Upstream:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L326
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L350
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L390
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L552
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L768
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L800
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L833
"""

from __future__ import annotations

import errno
from typing import NamedTuple

import numpy as np

from impl.ena import ring, txdesc
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena_defs.layouts import TxCdesc
from impl.ena_defs.regs import ResetReason
from impl.netmap.layout import NS_BUF_CHANGED, NS_MOREFRAG
from impl.netmap.ranges import flat_ranges, ring_dist

# why a ring's frame loop stopped (the C's order)
ALL_SENT, TOO_MANY_SLOTS, BAD_SLOT, OPEN_CHAIN, RING_FULL, BURST = range(6)


class TxFramesResult(NamedTuple):
    rc: np.ndarray
    """Per ring: what ena_netmap_tx_frames returns (0, EINVAL, or ENOSPC for the burst)."""
    sent: np.ndarray
    """Per ring: packets handed to the device."""
    slots: np.ndarray
    """Per ring: slots those packets took (``nr_hwcur`` moved by this much)."""
    why: np.ndarray
    """Per ring: why the loop stopped (ALL_SENT, TOO_MANY_SLOTS, ...)."""


class TxCleanupResult(NamedTuple):
    completed: np.ndarray
    """Per ring: completions taken."""
    returned: np.ndarray
    """Per ring: slots given back (``nr_hwtail`` moved by this much)."""
    reasons: np.ndarray
    """Per ring: reset reason triggered (0 = none)."""


class _Packets(NamedTuple):
    """The packets of [hwcur, rhead) of every ring, flat in ring order."""

    ring: np.ndarray  # local ring index (into qs)
    rank: np.ndarray  # place within its ring
    first: np.ndarray  # flat slot index of its first slot
    nslots: np.ndarray
    length: np.ndarray
    complete: np.ndarray  # its chain ends before rhead
    bad: np.ndarray  # a slot of length 0, or (hardened) a bad buffer or length
    start: np.ndarray  # per ring: first packet
    count: np.ndarray  # per ring: packets


def _packets(nm: EnaNetmapRings, qs: np.ndarray, seg: np.ndarray, off: np.ndarray,
             more: np.ndarray, length: np.ndarray, bufs: np.ndarray) -> _Packets:
    opens = (off == 0) | ~np.r_[False, more[:-1]]
    pid = np.cumsum(opens) - 1
    total = int(opens.sum())
    first = np.flatnonzero(opens)
    nslots = np.bincount(pid, minlength=total).astype(np.int64)
    plen = np.bincount(pid, weights=length, minlength=total).astype(np.int64)
    last = first + nslots - 1
    complete = ~more[last] if total else np.zeros(0, dtype=bool)
    bad_slot = length == 0
    if nm.hardened:
        bad_slot |= ~nm.mem.valid_buf(bufs) | (length > nm.buf_size)
    bad = np.bincount(pid, weights=bad_slot, minlength=total) > 0
    pring = seg[first]
    count = np.bincount(pring, minlength=qs.size).astype(np.int64)
    start = np.cumsum(count) - count
    rank = np.arange(total, dtype=np.int64) - start[pring]
    return _Packets(pring, rank, first, nslots, plen, complete, bad, start, count)


def tx_frames(nm: EnaNetmapRings, qs: np.ndarray, now_ns: int = 0) -> TxFramesResult:
    """ena_netmap_tx_frames on the TX rings ``qs`` (distinct queue ids)."""
    tx, kr = nm.drv.tx, nm.tx
    cfg = tx.cfg
    n, mask = kr.num_slots, cfg.depth - 1
    qs = np.asarray(qs, dtype=np.int64)
    hwcur = kr.hwcur[qs]
    seg, off, idx = flat_ranges(hwcur, ring_dist(hwcur, kr.rhead[qs], n), n)
    rows = qs[seg]
    flags = kr.slot_flags[rows, idx].astype(np.int64)
    length = kr.slot_len[rows, idx].astype(np.int64)
    bufs = kr.slot_buf_idx[rows, idx].astype(np.int64)
    pk = _packets(nm, qs, seg, off, (flags & NS_MOREFRAG) != 0, length, bufs)
    qi = pk.ring

    # per packet: descriptors and entries it needs (ena_netmap_tx_map_slots)
    slot_pid = np.repeat(np.arange(pk.nslots.size), pk.nslots)
    slot_end = np.cumsum(length) - np.repeat(np.cumsum(pk.length) - pk.length, pk.nslots)
    push = np.minimum(pk.length, cfg.tx_max_header_size) if cfg.llq else 0 * pk.length
    kept = slot_end > np.repeat(push, pk.nslots)
    num_bufs = np.bincount(slot_pid, weights=kept, minlength=pk.nslots.size).astype(np.int64)
    has_meta = np.full(pk.nslots.size, int(cfg.disable_meta_caching), dtype=np.int64)
    n_data = np.where((num_bufs > 0) | (push > 0), np.maximum(num_bufs, 1), 0)
    entries = txdesc.entries_for(has_meta + n_data, cfg.llq, cfg.descs_per_entry)
    pre = np.cumsum(entries) - entries
    pre -= np.repeat(pre[pk.start[pk.count > 0]], pk.count[pk.count > 0])
    free_before = tx.free(qs)[qi] - pre
    burst = cfg.burst
    kind = np.select(
        [pk.nslots > cfg.max_tx_sgl_size, pk.bad, ~pk.complete,
         ~tx.enough(free_before, num_bufs + 1),
         (entries > burst) if burst else np.zeros(qi.size, dtype=bool)],
        [TOO_MANY_SLOTS, BAD_SLOT, OPEN_CHAIN, RING_FULL, BURST], ALL_SENT)
    stop_rank = np.full(qs.size, -1, dtype=np.int64)
    hit = np.flatnonzero(kind != ALL_SENT)
    if hit.size:
        firsts = hit[np.unique(qi[hit], return_index=True)[1]]
        stop_rank[qi[firsts]] = pk.rank[firsts]
    sent_n = np.where(stop_rank >= 0, stop_rank, pk.count)
    why = np.full(qs.size, ALL_SENT, dtype=np.int64)
    stopped = stop_rank >= 0
    why[stopped] = kind[pk.start[stopped] + stop_rank[stopped]]
    ok = pk.rank < sent_n[qi]
    at_stop = pk.rank == stop_rank[qi]
    # the doorbell test runs for packets that got as far as ena_com_prepare_tx
    reached = ok | (at_stop & ((kind == RING_FULL) | (kind == BURST)))
    burst_term = at_stop & (kind == BURST)
    db = tx.plan_doorbells(qs, qi, pk.start, pk.count, pk.rank, pre, entries, reached, ok,
                           burst_term, sent_n)

    rid = tx.free_ids[qs[qi], (tx.next_to_use[qs[qi]] + pk.rank) & mask]
    gen = ok | burst_term
    _write(nm, qs, qi[gen], rid[gen], pk.rank[gen], pre[gen], db.written[gen],
           has_meta[gen], n_data[gen], num_bufs[gen], push[gen],
           pk.first[gen], pk.nslots[gen], idx, rows, length, bufs, kept, db.total_written)
    tx.ring_doorbells(qs, qi, pk.start, pk.count, pk.rank, pre, db, final=sent_n > 0)

    # the sent packets' slots go to their req_ids and are zeroed
    sq, srid = qs[qi[ok]], rid[ok]
    sslots = pk.nslots[ok]
    s_of = np.repeat(np.arange(sq.size), sslots)
    s_flat = np.repeat(pk.first[ok], sslots) + (np.arange(s_of.size)
                                                 - np.repeat(np.cumsum(sslots) - sslots, sslots))
    s_k = s_flat - np.repeat(pk.first[ok], sslots)
    nm.tx_socket_buf[sq[s_of], srid[s_of], s_k] = bufs[s_flat]
    nm.tx_sockets[sq, srid] = sslots
    kr.slot_buf_idx[rows[s_flat], idx[s_flat]] = 0
    tx.tx_descs[sq, srid] = entries[ok]
    tx.pkt_len[sq, srid] = pk.length[ok]
    if nm.hardened:
        tx.inflight[sq, srid] = True
        tx.sent_ns[sq, srid] = now_ns
        tx.print_once[sq, srid] = True
    st = tx.stats
    np.add.at(st.cnt, sq, 1)
    np.add.at(st.bytes, sq, pk.length[ok])
    np.add.at(st.prepare_ctx_err, qs[qi[at_stop & reached]], 1)
    if cfg.llq:
        first_len = length[pk.first]
        np.add.at(st.llq_buffer_copy, qs[qi[reached & (push > first_len)]], 1)
    # the rolled-back chain (ring full, burst): slots keep their buffers; the flags
    rolled = at_stop & reached
    _rollback_flags(nm, pk, rolled, rows, idx)
    moved = np.bincount(qi[ok], weights=pk.nslots[ok], minlength=qs.size).astype(np.int64)
    tx.next_to_use[qs] = (tx.next_to_use[qs] + sent_n) & mask
    kr.hwcur[qs] = (hwcur + moved) % n
    if burst_term.any():
        nm.drv.reset.trigger(ResetReason.DRIVER_INVALID_STATE)
    rc = np.select([(why == TOO_MANY_SLOTS) | (why == BAD_SLOT), why == BURST],
                   [errno.EINVAL, errno.ENOSPC], 0)
    return TxFramesResult(rc, sent_n, moved, why)


def _rollback_flags(nm: EnaNetmapRings, pk: _Packets, rolled: np.ndarray, rows: np.ndarray,
                    idx: np.ndarray) -> None:
    """ena_netmap_unmap_last_socket_chain gives the buffers back (they were never
    zeroed here) and sets each slot's flags: ``NS_BUF_CHANGED`` as shipped (NS_MOREFRAG
    lost), ``flags | NS_BUF_CHANGED`` hardened."""
    if not rolled.any():
        return
    ns = pk.nslots[rolled]
    flat = np.repeat(pk.first[rolled], ns) + (np.arange(int(ns.sum()))
                                              - np.repeat(np.cumsum(ns) - ns, ns))
    r, i = rows[flat], idx[flat]
    if nm.hardened:
        nm.tx.slot_flags[r, i] |= NS_BUF_CHANGED
    else:
        nm.tx.slot_flags[r, i] = NS_BUF_CHANGED


def _write(nm: EnaNetmapRings, qs: np.ndarray, gqi: np.ndarray, rid: np.ndarray,
           grank: np.ndarray, gpre: np.ndarray, gwritten: np.ndarray, has_meta: np.ndarray,
           n_data: np.ndarray, num_bufs: np.ndarray, push: np.ndarray, first: np.ndarray,
           nslots: np.ndarray, idx: np.ndarray, rows: np.ndarray, length: np.ndarray,
           bufs: np.ndarray, kept: np.ndarray, total_written: np.ndarray) -> None:
    """ena_com_prepare_tx for the packets being written: descriptors into the SQ (host
    mode) or LLQ entries with the pushed header through the LLQ BAR."""
    tx = nm.drv.tx
    cfg = tx.cfg
    depth, mask = cfg.depth, cfg.depth - 1
    if gqi.size == 0:
        return
    z = np.zeros(gqi.size, dtype=np.int64)
    pf = txdesc.PacketFields(has_meta=has_meta, n_data=n_data, req_id=rid, header_len=push,
                             meta_valid=has_meta, meta_key=z, l3_proto=z, l4_proto=z,
                             l3_csum_enable=z, l4_csum_enable=z, tso_enable=z, df=z)
    lay = txdesc.layout(has_meta + n_data, cfg.llq, cfg.descs_per_entry)
    keep = lay.entry < gwritten[lay.pkt]
    lay = txdesc.DescBatch(*(a[keep] for a in lay))
    p = lay.pkt
    tail0, phase0 = tx.tail[qs], tx.phase[qs]
    qa = gqi[p]
    off = gpre[p] + lay.entry
    phase = ring.phases_at(tail0[qa], phase0[qa], off, depth)
    # buffer b of packet p: its b-th kept slot, past the pushed header
    s_start = np.cumsum(length) - length
    pkt_base = s_start[first]
    kept_rank = np.cumsum(kept) - kept
    kept_idx = np.flatnonzero(kept)
    b = lay.d - has_meta[p]
    has_buf = (b >= 0) & (b < num_bufs[p])
    k0 = kept_rank[first]
    s = kept_idx[np.clip(k0[p] + b, 0, max(kept_idx.size - 1, 0))] if kept_idx.size else b * 0
    rel_start = s_start[s] - pkt_base[p]
    skip = np.maximum(push[p] - rel_start, 0)
    buf_len = np.where(has_buf, length[s] - skip, 0)
    buf_addr = np.where(has_buf, nm.buf_addr(bufs[s]) + skip, 0)
    words = txdesc.encode(lay, phase, pf, buf_len, buf_addr, cfg.dma_addr_bits)
    if not cfg.llq:
        assert tx.sq_words is not None
        tx.sq_words[qs[qa], (tail0[qa] + off) & mask] = words
        return
    gstart = np.cumsum(total_written) - total_written
    n_rows = int(total_written.sum())
    hdr_src = _pushed_headers(nm, first, nslots, push, length, bufs)
    llq_rows = txdesc.llq_entries(lay, words, gstart[qa] + off, n_rows, cfg.llq_entry_size,
                                  gstart[gqi] + gpre, hdr_src, push)
    tx.push_llq(qs, tail0, total_written, llq_rows)


def _pushed_headers(nm: EnaNetmapRings, first: np.ndarray, nslots: np.ndarray,
                    push: np.ndarray, length: np.ndarray, bufs: np.ndarray) -> np.ndarray:
    """The first ``push`` bytes of each packet, read from its slots' buffers in order
    (the first slot's buffer directly, or ena_netmap_copy_data across slots)."""
    total = int(nslots.sum())
    s_of = np.repeat(np.arange(first.size), nslots)
    flat = np.repeat(first, nslots) + (np.arange(total) - np.repeat(np.cumsum(nslots) - nslots,
                                                                     nslots))
    s_start = (np.cumsum(length) - length)[flat] - (np.cumsum(length) - length)[first][s_of]
    take = np.clip(push[s_of] - s_start, 0, length[flat])
    return nm.drv.bus.mem.gather(nm.buf_addr(bufs[flat]), take)


def tx_cleanup(nm: EnaNetmapRings, qs: np.ndarray, cdesc_mbz: bool) -> TxCleanupResult:
    """ena_netmap_tx_cleanup on the TX rings ``qs``."""
    tx, kr = nm.drv.tx, nm.tx
    cfg = tx.cfg
    depth, mask = cfg.depth, cfg.depth - 1
    n = kr.num_slots
    qs = np.asarray(qs, dtype=np.int64)
    assert tx.cq is not None
    k = np.arange(depth, dtype=np.int64)[None, :]
    head, ph = tx.cq_head[qs][:, None], tx.cq_phase[qs][:, None]
    cd = tx.cq[qs[:, None], (head + k) & mask]
    flags = cd["flags"]
    rid = cd["req_id"].astype(np.int64)
    fresh = TxCdesc.PHASE.get(flags) == ring.phases_at(head, ph, k, depth)
    mbz = TxCdesc.MBZ6.is_set(flags) if cdesc_mbz else np.zeros(flags.shape, dtype=bool)
    oor = rid >= depth
    stop = ~fresh | mbz | oor
    done = np.where(stop.any(axis=1), np.argmax(stop, axis=1), depth)
    at = np.minimum(done, depth - 1)
    rows = np.arange(qs.size)
    ended_fresh = (done < depth) & fresh[rows, at]
    reasons = np.select([ended_fresh & mbz[rows, at], ended_fresh & oor[rows, at]],
                        [int(ResetReason.TX_DESCRIPTOR_MALFORMED),
                         int(ResetReason.INV_TX_REQ_ID)], 0)
    tx.stats.bad_req_id[qs] += ended_fresh & ~mbz[rows, at] & oor[rows, at]

    ok = k < done[:, None]
    cq = np.broadcast_to(qs[:, None], ok.shape)[ok]
    crid = rid[ok]
    ck = np.broadcast_to(k, ok.shape)[ok]
    # each completion returns its packet's slots after hwtail, in completion order
    socks = nm.tx_sockets[cq, crid]
    # a duplicate id within the batch finds its sockets already returned
    first = np.ones(crid.size, dtype=bool)
    if crid.size:
        key = cq * depth + crid
        order = np.argsort(key, kind="stable")
        dup = np.r_[False, key[order][1:] == key[order][:-1]]
        first[order[dup]] = False
    socks = np.where(first, socks, 0)
    # a stack packet on a netmap ring: still with the device when the ring entered netmap
    # mode the RFC way (impl/ena/nm_rfc.py), its mbuf is freed and it counts as sent; put
    # there by ena_mq_start (model/ena_netmap_txq.py), ena_netmap_tx_clean_one leaves its
    # mbuf and timestamp to the next ena_down
    stack = first & (tx.pkt_id[cq, crid] >= 0)
    kept = np.zeros(stack.size, dtype=bool) if nm.frees_stack_mbufs else stack
    stack = stack & ~kept
    nm.drv.accounting.completed += int(stack.sum())
    tx.pkt_id[cq[stack], crid[stack]] = -1
    ret_n = np.bincount(np.searchsorted(qs, cq), weights=socks, minlength=qs.size)
    ret_n = ret_n.astype(np.int64)
    pos = np.cumsum(socks) - socks - np.repeat((np.cumsum(ret_n) - ret_n), done)
    s_of = np.repeat(np.arange(crid.size), socks)
    s_k = np.arange(int(socks.sum())) - np.repeat(np.cumsum(socks) - socks, socks)
    s_q = cq[s_of]
    slot = (kr.hwtail[s_q] + 1 + pos[s_of] + s_k) % n
    kr.slot_buf_idx[s_q, slot] = nm.tx_socket_buf[s_q, crid[s_of], s_k]
    kr.slot_flags[s_q, slot] = NS_BUF_CHANGED
    nm.tx_socket_buf[s_q, crid[s_of], s_k] = 0
    # every completion acks its id's tx_descs, a duplicate's again (never cleared)
    acked = np.bincount(np.searchsorted(qs, cq), weights=tx.tx_descs[cq, crid],
                        minlength=qs.size).astype(np.int64)
    nm.tx_sockets[cq, crid] = 0
    tx.inflight[cq[~kept], crid[~kept]] = False
    # free_tx_ids[nt] = req_id, then nt advances: hardened (nt + 1) & (N - 1); as shipped
    # ENA_TX_RING_IDX_NEXT(nt, lim) = (nt + 1) & (N - 2), which holds every even
    # position fixed and moves an odd one to the next even one
    nt0 = tx.next_to_clean[cq]
    if nm.hardened:
        nt_at = (nt0 + ck) & mask
        nt_end = (tx.next_to_clean[qs] + done) & mask
    else:
        nt_at = np.where(ck == 0, nt0, (nt0 + 1) & (n - 2))
        nt_end = np.where(done == 0, tx.next_to_clean[qs], (tx.next_to_clean[qs] + 1) & (n - 2))
    last = _last_writes(cq * depth + nt_at)
    tx.free_ids[cq[last], nt_at[last]] = crid[last]
    tx.next_to_clean[qs] = nt_end
    tx.next_to_comp[qs] = ring.u16(tx.next_to_comp[qs] + acked)
    tx.cq_head[qs], tx.cq_phase[qs] = ring.advance(tx.cq_head[qs], tx.cq_phase[qs], done,
                                                   depth)
    kr.hwtail[qs] = (kr.hwtail[qs] + ret_n) % n
    return TxCleanupResult(done, ret_n, reasons)


def _last_writes(key: np.ndarray) -> np.ndarray:
    """Indices of the last occurrence of each key: the write that wins when a loop
    stores to the same place several times."""
    if key.size == 0:
        return key.astype(np.int64)
    _, rev_first = np.unique(key[::-1], return_index=True)
    return key.size - 1 - rev_first
