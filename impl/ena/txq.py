"""TX queues: ena_com's io_sq / io_cq and the driver's ``ena_ring`` for every queue, as
arrays indexed by queue, and ``ena_start_xmit`` over all queues at once.

State per queue ``q`` (C name in parentheses):

* SQ: ``tail``, ``phase``, ``next_to_comp`` (u16 counters; in LLQ mode ``tail`` counts LLQ
  entries), ``burst_left`` (``entries_in_tx_burst_left``), ``cached_meta``
  (``cached_tx_meta``), the four LLQ bounce buffers and their ``bounce_ntu``;
* CQ: ``cq_head``, ``cq_phase``;
* ring: ``next_to_use`` / ``next_to_clean`` (masked indices into ``free_ids``, the
  ``free_tx_ids`` array), ``running``, ``acum_pkts``, and per req_id the ``tx_buffer_info``
  fields the datapath uses: ``inflight`` (``mbuf != NULL``), ``pkt_id`` (which mbuf),
  ``tx_descs``, ``pkt_len``.

``ena_start_xmit`` and ``ena_xmit_mbuf``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L1109
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L975
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from impl import vec
from impl.bus import Bus
from impl.ena import ring, txdesc, txmap
from impl.ena.bufring import BufRings
from impl.ena.ragged import greedy_breaks
from impl.ena.reset import ResetState
from impl.ena.stats import tx_counters
from impl.ena_defs.constants import BUS_DMA_SEGS, DB_THRESHOLD, TX_RESUME_THRESH
from impl.ena_defs.constants import COM_BOUNCE_BUFFER_CNTRL_CNT as BOUNCE_BUFS
from impl.ena_defs.layouts import DESC_SIZE, LLQ_DESC_CHUNK, TX_CDESC_DTYPE
from impl.ena_defs.regs import ResetReason

MAX_HEADER_SIZE = 256
"""ena_com_create_io_queue: "header length is limited to 8 bits" (``min(value, 256)``)."""

# Why a packet ended a queue's xmit loop (codes, in the order the C meets them).
NONE, STOPPED, COLLAPSE_ENOMEM, MAP_EFBIG, RING_FULL, BURST_NO_SPACE = range(6)


@dataclass(frozen=True)
class TxConfig:
    """What the TX path needs of the negotiated configuration."""

    nqueues: int
    depth: int
    llq: bool
    llq_entry_size: int
    max_entries_in_tx_burst: int
    disable_meta_caching: bool
    max_tx_sgl_size: int
    dma_addr_bits: int
    buf_ring_size: int
    device_max_header_size: int = 0
    """Host mode: the device's ``max_tx_header_size`` (LLQ: entry size - 32 replaces it)."""
    u8_header_size: bool = True
    """As shipped, ``tx_ring->tx_max_header_size`` is a ``uint8_t``: a device value of 256
    or more wraps. Hardened: a ``u16`` with ena_com's clamp, ``min(value, 256)``
    (``ena_com_create_io_queue``), the limit ``ena_com_prepare_tx`` enforces."""

    @property
    def descs_per_entry(self) -> int:
        return self.llq_entry_size // DESC_SIZE

    @property
    def tx_max_header_size(self) -> int:
        """``tx_ring->tx_max_header_size``: the LLQ push header (entry size - 32), or in
        host mode the device's value (as a ``uint8_t`` as shipped). Host mode pushes no
        header; there it only feeds the collapse rule."""
        size = self.llq_entry_size - LLQ_DESC_CHUNK if self.llq else self.device_max_header_size
        return size & 0xFF if self.u8_header_size else min(size, MAX_HEADER_SIZE)

    @property
    def push_skip(self) -> int:
        """Bytes of each packet the LLQ header carries instead of a buffer (0 in host mode)."""
        return self.tx_max_header_size if self.llq else 0

    @property
    def burst(self) -> int:
        """The LLQ burst limit in entries; 0 = none (``is_llq_max_tx_burst_exists``)."""
        return self.max_entries_in_tx_burst if self.llq else 0


class DoorbellPlan(NamedTuple):
    """What :meth:`TxQueues.plan_doorbells` decided for one xmit loop."""

    dbi: np.ndarray
    """Flat indices of the packets the doorbell is rung before."""
    written: np.ndarray
    """SQ entries each packet wrote."""
    total_written: np.ndarray
    """Per queue."""
    last_db: np.ndarray
    """Per queue: rank of the packet the last mid-loop doorbell preceded, -1 if none."""
    acum_end: np.ndarray
    """Per queue: ``acum_pkts`` before the final doorbell (0: no final doorbell)."""
    since_db: np.ndarray
    """Per queue: entries written since the last mid-loop doorbell."""


class XmitResult(NamedTuple):
    sent: np.ndarray
    """Ids of packets handed to the device."""
    dropped: np.ndarray
    """Ids of packets dropped by the xmit loop (``dma_mapping_err``)."""


class TxQueues:
    """All TX queues of one adapter."""

    def __init__(self, cfg: TxConfig, bus: Bus) -> None:
        ring.check_depth(cfg.depth)
        if not 1 <= cfg.max_tx_sgl_size <= 19:
            raise ValueError("max_tx_sgl_size must be in [1, ENA_PKT_MAX_BUFS = 19]")
        n, d = cfg.nqueues, cfg.depth
        self.cfg = cfg
        self.bus = bus
        z = np.zeros(n, dtype=np.int64)
        self.tail, self.next_to_comp, self.cq_head = z.copy(), z.copy(), z.copy()
        self.phase, self.cq_phase = np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
        self.burst_left = np.full(n, cfg.burst, dtype=np.int64)
        self.cached_meta = z.copy()
        self.bounce = np.zeros((n, BOUNCE_BUFS, cfg.llq_entry_size), dtype=np.uint8)
        self.bounce_ntu = np.ones(n, dtype=np.int64)
        self.next_to_use, self.next_to_clean = z.copy(), z.copy()
        self.free_ids = np.tile(np.arange(d, dtype=np.int64), (n, 1))
        self.inflight = np.zeros((n, d), dtype=bool)
        self.pkt_id = np.full((n, d), -1, dtype=np.int64)
        self.tx_descs = np.zeros((n, d), dtype=np.int64)
        self.pkt_len = np.zeros((n, d), dtype=np.int64)
        self.sent_ns = np.zeros((n, d), dtype=np.int64)
        """``tx_info->timestamp`` of each in-flight id (set at xmit; meaningful only where
        ``inflight``, which is the C's ``bintime_isset``)."""
        self.print_once = np.ones((n, d), dtype=bool)
        """``tx_info->print_once``: the missing-completion watchdog counts an id once."""
        self.now_ns: Callable[[], int] = lambda: 0
        """The clock the xmit path stamps with (``getbinuptime``)."""
        self.running = np.ones(n, dtype=bool)
        self.acum_pkts = z.copy()
        self.drbr = BufRings(n, cfg.buf_ring_size, min(cfg.max_tx_sgl_size, BUS_DMA_SEGS))
        self.stats = tx_counters(n)
        # memory, set by attach()
        self.sq_words: np.ndarray | None = None
        self.cq: np.ndarray | None = None
        self.db_off = z.copy()
        self.llq_off = z.copy()

    def attach(self, sq_base: int, cq_base: int, db_off: np.ndarray,
               llq_off: np.ndarray) -> None:
        """Point at the rings the queue-creation port accepted (one block per kind, queue
        ``q``'s ring at ``base + q * depth * entry``)."""
        n, d = self.cfg.nqueues, self.cfg.depth
        if not self.cfg.llq:
            self.sq_words = self.bus.mem.array(sq_base, np.dtype("<u4"), n * d * 4).reshape(
                n, d, 4)
        self.cq = self.bus.mem.array(cq_base, TX_CDESC_DTYPE, n * d).reshape(n, d)
        self.db_off = np.asarray(db_off, dtype=np.int64)
        self.llq_off = np.asarray(llq_off, dtype=np.int64)

    # -- space
    def free(self, queues: np.ndarray | slice = slice(None)) -> np.ndarray:
        return ring.free_entries(self.tail[queues], self.next_to_comp[queues], self.cfg.depth)

    def enough(self, free: np.ndarray, required: np.ndarray | int) -> np.ndarray:
        return ring.have_enough_space(free, required, self.cfg.llq, self.cfg.descs_per_entry)

    # -- ena_start_xmit on every queue
    def start_xmit(self, reset: ResetState) -> XmitResult:
        """One ``ena_start_xmit`` pass on every running queue with queued packets."""
        cfg, st = self.cfg, self.stats
        mask = cfg.depth - 1
        empty = np.zeros(0, dtype=np.int64)
        act = np.flatnonzero(self.running & (self.drbr.count > 0))
        if act.size == 0:
            return XmitResult(empty, empty)
        free0 = self.free(act)
        # at most free0 packets fit; one more shows why the loop stopped
        q, rank, slot = self.drbr.window(act, free0 + 1)
        nper = np.bincount(np.searchsorted(act, q), minlength=act.size).astype(np.int64)
        start = np.cumsum(nper) - nper
        qi = np.repeat(np.arange(act.size), nper)
        br = self.drbr
        at = q * br.size + slot  # one flat index into the drbr's (queue, slot) arrays
        length = _rows(br.length)[at]
        addr = _rows(br.addr)[at]
        used = _rows(br.used_segs)[at]
        # segment columns past every packet's last used one are never read
        seg_len = _rows(br.seg_len)[at, :max(1, int(used.max(initial=0)))].astype(np.int64)

        col = txmap.collapse_plan(length, _rows(br.nsegs)[at], cfg.max_tx_sgl_size,
                                  cfg.tx_max_header_size)
        collapse_fail = col.needed & ~col.ok
        map_fail = used > cfg.max_tx_sgl_size - 1
        kcol = np.arange(seg_len.shape[1])[None, :]
        seg_end = np.cumsum(seg_len, axis=1)
        skip = cfg.push_skip
        kept = (seg_end > skip) & (kcol < used[:, None])
        if cfg.llq:
            header_len = np.minimum(length, skip)
            push_copy = header_len > seg_len[:, 0]
            num_bufs = kept.sum(axis=1)
        else:
            header_len = np.zeros_like(length)
            push_copy = np.zeros(length.size, dtype=bool)
            num_bufs = used
        meta = txmap.tx_csum(self.bus.mem.data, addr, _rows(br.csum_flags)[at],
                             _rows(br.tso_segsz)[at], cfg.disable_meta_caching)
        has_meta, cached_after = self._meta_chain(meta, start, nper, qi, act)
        n_data = np.where((num_bufs > 0) | (header_len > 0), np.maximum(num_bufs, 1), 0)
        n_desc = has_meta + n_data
        entries = txdesc.entries_for(n_desc, cfg.llq, cfg.descs_per_entry)

        # sequential effects, assuming every earlier packet of the queue was sent
        pre = np.cumsum(entries) - entries
        pre -= np.repeat(pre[start] if pre.size else empty, nper)
        free_before = free0[qi] - pre
        free_after = free_before - entries
        stop_after = ~self.enough(free_after, cfg.max_tx_sgl_size + 2)
        wake_now = self.enough(free_after, TX_RESUME_THRESH)
        stopped_prev = np.zeros(q.size, dtype=bool)
        stopped_prev[1:] = (stop_after & ~wake_now)[:-1]
        stopped_prev[start[nper > 0]] = False
        ring_full = ~self.enough(free_before, num_bufs + 1)
        burst = cfg.burst
        burst_fail = (entries > burst) if burst else np.zeros(q.size, dtype=bool)
        kind = vec.select([stopped_prev, collapse_fail, map_fail, ring_full, burst_fail],
                          [STOPPED, COLLAPSE_ENOMEM, MAP_EFBIG, RING_FULL, BURST_NO_SPACE],
                          NONE)
        term_rank = np.full(act.size, -1, dtype=np.int64)
        hit = np.flatnonzero(kind != NONE)
        if hit.size:
            firsts = hit[np.unique(qi[hit], return_index=True)[1]]
            term_rank[qi[firsts]] = rank[firsts]
        sent_n = np.where(term_rank >= 0, term_rank, nper)
        term_kind = np.full(act.size, NONE, dtype=np.int64)
        has_term = term_rank >= 0
        term_kind[has_term] = kind[start[has_term] + term_rank[has_term]]
        ok = rank < sent_n[qi]
        at_term = rank == term_rank[qi]
        tk = term_kind[qi]
        reached_doorbell = ok | (at_term & ((tk == RING_FULL) | (tk == BURST_NO_SPACE)))
        reached_map = reached_doorbell
        reached_collapse = ok | (at_term & (tk >= COLLAPSE_ENOMEM))
        burst_term = at_term & (tk == BURST_NO_SPACE)

        db = self.plan_doorbells(act, qi, start, nper, rank, pre, entries, reached_doorbell,
                                 ok, burst_term, sent_n)
        total_written = db.total_written

        # descriptors of the sent packets (and of the burst-failed one, as far as written)
        gen = ok | burst_term
        tail0, phase0 = self.tail[act], self.phase[act]
        self._write_descs(act, qi[gen], q[gen], rank[gen], pre[gen], db.written[gen],
                          has_meta[gen], n_data[gen], num_bufs[gen], header_len[gen],
                          addr[gen], seg_len[gen], kept[gen], used[gen], meta, gen,
                          tail0, phase0, total_written)

        self.ring_doorbells(act, qi, start, nper, rank, pre, db)
        sq = q[ok]
        rid = _rows(self.free_ids)[sq * cfg.depth + ((self.next_to_use[sq] + rank[ok]) & mask)]
        per_id = sq * cfg.depth + rid  # flat index into the (queue, req_id) arrays
        _rows(self.inflight)[per_id] = True
        _rows(self.sent_ns)[per_id] = self.now_ns()
        _rows(self.print_once)[per_id] = True
        _rows(self.pkt_id)[per_id] = _rows(br.pkt_id)[at[ok]]
        _rows(self.tx_descs)[per_id] = entries[ok]
        _rows(self.pkt_len)[per_id] = length[ok]
        self.next_to_use[act] = (self.next_to_use[act] + sent_n) & mask
        has_upd = np.flatnonzero(gen)
        if has_upd.size and not cfg.disable_meta_caching:
            lastk = has_upd[np.r_[np.flatnonzero(np.diff(qi[has_upd])), has_upd.size - 1]]
            self.cached_meta[act[qi[lastk]]] = cached_after[lastk]
        np.add.at(st.cnt, sq, 1)
        np.add.at(st.bytes, sq, length[ok])
        np.add.at(st.collapse, q[reached_collapse & col.needed], 1)
        np.add.at(st.collapse_err, q[at_term & (tk == COLLAPSE_ENOMEM)], 1)
        np.add.at(st.dma_mapping_err, q[at_term & (tk == MAP_EFBIG)], 1)
        np.add.at(st.prepare_ctx_err, q[at_term & ((tk == RING_FULL) | (tk == BURST_NO_SPACE))],
                  1)
        np.add.at(st.llq_buffer_copy, q[reached_map & push_copy], 1)
        # queue stop after the last sent packet (and the immediate re-check)
        bounce_back = ok & stop_after & wake_now
        np.add.at(st.queue_stop, q[ok & stop_after], 1)
        np.add.at(st.queue_wakeup, q[bounce_back], 1)
        stops = act[has_term & (term_kind == STOPPED)]
        last_ok = ok & (rank == sent_n[qi] - 1) & stop_after & ~wake_now
        self.running[q[last_ok]] = False
        self.running[stops] = False
        drop = at_term & (tk == MAP_EFBIG)
        dropped = br.pkt_id[q[drop], slot[drop]]
        br.advance(act, sent_n + np.bincount(qi[drop], minlength=act.size))
        if burst_term.any():
            reset.trigger(ResetReason.DRIVER_INVALID_STATE)
        return XmitResult(_rows(self.pkt_id)[per_id], dropped)

    def plan_doorbells(self, act: np.ndarray, qi: np.ndarray, start: np.ndarray,
                       nper: np.ndarray, rank: np.ndarray, pre: np.ndarray,
                       entries: np.ndarray, reached_doorbell: np.ndarray, ok: np.ndarray,
                       burst_term: np.ndarray, sent_n: np.ndarray) -> DoorbellPlan:
        """Where one xmit loop over the queues ``act`` rings the doorbell: before a packet
        when ``acum_pkts == ENA_DB_THRESHOLD`` or ``ena_com_is_doorbell_needed`` (its
        entries overflow what is left of the LLQ burst), and once at the end when packets
        went out since the last one.  Packets are flat, queue by queue (``qi`` the local
        queue, ``start`` / ``nper`` each queue's slice, ``rank`` the place in it, ``pre``
        the entries before it); ``ok`` were sent, ``burst_term`` failed on the burst
        after writing a full burst of entries (the mbuf and the netmap xmit loops run
        the same test, ena_xmit_mbuf and ena_netmap_tx_frame)."""
        burst = self.cfg.burst
        acum0 = self.acum_pkts[act]
        left0 = self.burst_left[act]
        first_db = np.minimum(DB_THRESHOLD - acum0, nper)
        if burst:
            over = np.where(pre + entries > left0[qi], rank, nper[qi])
            first_db = np.minimum(first_db, _segment_min(over, start, nper))
        db_mask = greedy_breaks(start, nper, np.minimum(entries, max(burst, 1)),
                                start + first_db, DB_THRESHOLD, burst) & reached_doorbell
        written = np.where(ok, entries, np.where(burst_term, burst, 0))
        total_written = np.bincount(qi, weights=written, minlength=act.size).astype(np.int64)
        # last doorbell position per queue (rank), -1 if none
        last_db = np.full(act.size, -1, dtype=np.int64)
        dbi = np.flatnonzero(db_mask)
        if dbi.size:
            uq, ufirst = np.unique(qi[dbi], return_index=True)
            last_db[uq] = np.maximum.reduceat(rank[dbi], ufirst)
        acum_end = np.where(last_db >= 0, sent_n - last_db, acum0 + sent_n)
        since_db = np.bincount(qi, weights=np.where(rank >= last_db[qi], written, 0),
                               minlength=act.size).astype(np.int64)
        return DoorbellPlan(dbi, written, total_written, last_db, acum_end, since_db)

    def ring_doorbells(self, act: np.ndarray, qi: np.ndarray, start: np.ndarray,
                       nper: np.ndarray, rank: np.ndarray, pre: np.ndarray,
                       db: DoorbellPlan, final: np.ndarray | None = None) -> None:
        """Write the planned doorbells (mid-loop ones in order, then each queue's final
        one) and advance tail, phase, ``acum_pkts`` and the burst budget.  ``final``:
        which queues ring at the end (default: those with packets since the last
        doorbell, ena_start_xmit's ``acum_pkts != 0``; ena_netmap_tx_frames rings
        whenever it sent anything)."""
        burst, depth = self.cfg.burst, self.cfg.depth
        dbi, total_written = db.dbi, db.total_written
        tail0, phase0 = self.tail[act], self.phase[act]
        ring_end = db.acum_end != 0 if final is None else final
        db_q = np.concatenate([act[qi[dbi]], act[ring_end]])
        db_val = np.concatenate([ring.u16(tail0[qi[dbi]] + pre[dbi]),
                                 ring.u16(tail0[ring_end] + total_written[ring_end])])
        order = np.argsort(np.concatenate([2 * (start[qi[dbi]] + rank[dbi]),
                                           2 * (start[ring_end] + nper[ring_end]) - 1]),
                           kind="stable")
        if order.size:
            self.bus.regs.write32_batch(self.db_off[db_q[order]], db_val[order])
        np.add.at(self.stats.doorbells, db_q, 1)
        self.tail[act], self.phase[act] = ring.advance(tail0, phase0, total_written, depth)
        self.acum_pkts[act] = np.where(ring_end, 0, db.acum_end)
        if burst:
            left0 = self.burst_left[act]
            self.burst_left[act] = np.where(ring_end, burst,
                                            np.where(db.last_db >= 0, burst, left0)
                                            - db.since_db)

    def _meta_chain(self, meta: txmap.TxMeta, start: np.ndarray, nper: np.ndarray,
                    qi: np.ndarray, act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``ena_com_create_and_store_tx_meta_desc`` along each queue: does packet ``j``
        emit a meta descriptor, and what is the cache after it."""
        n = qi.size
        if self.cfg.disable_meta_caching:
            return np.ones(n, dtype=np.int64), meta.meta_key
        valid = meta.meta_valid == 1
        idx = np.arange(n, dtype=np.int64)
        last = np.maximum.accumulate(np.where(valid, idx, -1)) if n else idx
        qstart = np.repeat(start, nper)
        has_last = last >= qstart
        cached_after = np.where(has_last, meta.meta_key[np.maximum(last, 0)],
                                self.cached_meta[act][qi])
        cached_before = np.empty(n, dtype=np.int64)
        if n:
            cached_before[1:] = cached_after[:-1]
            cached_before[qstart == idx] = self.cached_meta[act][qi[qstart == idx]]
        has_meta = (valid & (meta.meta_key != cached_before)).astype(np.int64)
        return has_meta, cached_after

    def _write_descs(self, act: np.ndarray, gqi: np.ndarray, gq: np.ndarray,
                     grank: np.ndarray, gpre: np.ndarray, gwritten: np.ndarray,
                     has_meta: np.ndarray, n_data: np.ndarray, num_bufs: np.ndarray,
                     header_len: np.ndarray, addr: np.ndarray, seg_len: np.ndarray,
                     kept: np.ndarray, used: np.ndarray, meta: txmap.TxMeta, gen: np.ndarray,
                     tail0: np.ndarray, phase0: np.ndarray, total_written: np.ndarray) -> None:
        cfg = self.cfg
        depth, mask = cfg.depth, cfg.depth - 1
        if gq.size == 0:
            return
        rid = self.free_ids[gq, (self.next_to_use[gq] + grank) & mask]
        pk = txdesc.PacketFields(
            has_meta=has_meta, n_data=n_data, req_id=rid, header_len=header_len,
            meta_valid=meta.meta_valid[gen], meta_key=meta.meta_key[gen],
            l3_proto=meta.l3_proto[gen], l4_proto=meta.l4_proto[gen],
            l3_csum_enable=meta.l3_csum_enable[gen], l4_csum_enable=meta.l4_csum_enable[gen],
            tso_enable=meta.tso_enable[gen], df=meta.df[gen])
        lay = txdesc.layout(has_meta + n_data, cfg.llq, cfg.descs_per_entry)
        keep = lay.entry < gwritten[lay.pkt]
        lay = txdesc.DescBatch(*(a[keep] for a in lay))
        p = lay.pkt
        off = gpre[p] + lay.entry
        qa = gqi[p]
        phase = ring.phases_at(tail0[qa], phase0[qa], off, depth)
        # buffer b of packet p: its (first kept + b)-th segment, trimmed past the header
        b = lay.d - has_meta[p]
        first_kept = np.argmax(kept, axis=1) if cfg.llq else np.zeros(gq.size, dtype=np.int64)
        k = np.minimum(np.maximum(first_kept[p] + b, 0), seg_len.shape[1] - 1)
        seg_end = np.cumsum(seg_len, axis=1)
        s_end = seg_end[p, k]
        s_start = s_end - seg_len[p, k]
        skip = cfg.push_skip
        has_buf = (b >= 0) & (b < num_bufs[p])
        b_start = np.maximum(s_start, skip)
        buf_len = np.where(has_buf, s_end - b_start, 0)
        buf_addr = np.where(has_buf, addr[p] + b_start, 0)
        words = txdesc.encode(lay, phase, pk, buf_len, buf_addr, cfg.dma_addr_bits)
        if not cfg.llq:
            assert self.sq_words is not None
            self.sq_words[gq[p], (tail0[qa] + off) & mask] = words
            return
        # LLQ: entries built in the bounce buffers, copied to the LLQ BAR
        gstart = np.cumsum(total_written) - total_written
        n_rows = int(total_written.sum())
        row = gstart[qa] + off
        hdr_row = gstart[gqi] + gpre
        hdr_src = self.bus.mem.gather(addr, header_len)
        rows = txdesc.llq_entries(lay, words, row, n_rows, cfg.llq_entry_size, hdr_row,
                                  hdr_src, header_len)
        self.push_llq(act, tail0, total_written, rows)

    def push_llq(self, act: np.ndarray, tail0: np.ndarray, total_written: np.ndarray,
                 rows: np.ndarray) -> None:
        """``ena_com_write_bounce_buffer_to_dev`` for every entry written: queue
        ``act[i]``'s ``total_written[i]`` entries (``rows``, queue by queue) go to the LLQ
        BAR from its tail ``tail0[i]`` on, and the bounce buffers keep what the C's do
        (entry e of the queue's life built in buffer e & 3, the next one zeroed)."""
        mask, entry = self.cfg.depth - 1, self.cfg.llq_entry_size
        gstart = np.cumsum(total_written) - total_written
        local = np.repeat(np.arange(act.size), total_written)
        rq = act[local]
        re = np.arange(rows.shape[0]) - gstart[local]
        self.bus.llq.write_entries(self.llq_off[rq] + ((tail0[local] + re) & mask) * entry,
                                   rows)
        nb = self.bounce.shape[1]
        e_abs = self.bounce_ntu[rq] - 1 + re
        recent = re >= total_written[local] - (nb - 1)
        self.bounce[rq[recent], e_abs[recent] & (nb - 1)] = rows[recent]
        self.bounce_ntu[act] += total_written
        moved = act[total_written > 0]
        self.bounce[moved, (self.bounce_ntu[moved] - 1) & (nb - 1)] = 0


def _rows(a: np.ndarray) -> np.ndarray:
    """``a`` with its (queue, index) axes as one: ``_rows(a)[q * a.shape[1] + i]`` is
    ``a[q, i]``, one flat index instead of two (a view: the per-queue arrays are
    C-contiguous; copy=False refuses anything else, so a write cannot be lost)."""
    return a.reshape((-1, *a.shape[2:]), copy=False)


def _segment_min(values: np.ndarray, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Minimum of each queue's slice of ``values``; ``count`` where the slice is empty."""
    out = count.copy()
    ne = count > 0
    if values.size and ne.any():
        out[ne] = np.minimum(out[ne], np.minimum.reduceat(values, start[ne]))
    return out
