"""RX queues: posting buffers (``ena_refill_rx_bufs``) and receiving (``ena_rx_cleanup``)
on many queues at once.

State per queue (C names): SQ ``tail``, ``phase``, ``next_to_comp``; CQ ``cq_head``,
``cq_phase``, ``cur_count`` / ``cur_start`` (``cur_rx_pkt_cdesc_count`` /
``cur_rx_pkt_cdesc_start_idx``: a packet whose LAST descriptor has not arrived yet);
ring ``next_to_use`` / ``next_to_clean`` into ``free_ids`` (``free_rx_ids``), and per
req_id ``posted`` (``rx_info->mbuf != NULL``) and the buffer's DMA address.

Refill posts one 16-byte descriptor per buffer (FIRST | LAST | COMP_REQ | phase, length,
req_id, address) while the SQ has room, then rings the doorbell if it posted any:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1112
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L664

Receive takes packets while the descriptor budget (256) lasts. A packet is the completions
up to one with LAST; ``ena_com_cdesc_rx_pkt_get`` consumes each (head++) and fails on a
FIRST bit past the packet's first completion or MBZ bits (with ``CDESC_MBZ``): reset
``RX_DESCRIPTOR_MALFORMED`` (16); a packet still missing its LAST is remembered and
resumed next call. ``ena_com_rx_pkt`` then refuses more than ``max_rx_sgl_size``
descriptors (``TOO_MANY_RX_DESCS`` 6, ``bad_desc_num``) and a req_id >= depth
(``INV_RX_REQ_ID`` 4, ``bad_req_id``); on these three errors ``ena_rx_cleanup`` returns at
once, without storing ``next_to_clean`` or refilling. ``ena_rx_mbuf`` finally needs a
posted buffer behind every req_id (a duplicate or stale id finds none): reset
``INV_RX_REQ_ID``, the packet's ids go back to ``free_rx_ids`` and the loop ends normally
(``next_to_clean`` stored, refill). Refill when more than ``min(ring / 8, 256)`` entries
are free:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L563
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L269
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L598
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L419
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from impl import vec
from impl.bus import Bus
from impl.ena import ring
from impl.ena.ragged import first_occurrence
from impl.ena.rxflags import rx_checksum, rx_hash_type
from impl.ena.stats import rx_counters
from impl.ena_defs.constants import (
    RX_DESC_BUDGET,
    RX_REFILL_THRESH_DIVIDER,
    RX_REFILL_THRESH_PACKET,
)
from impl.ena_defs.layouts import RX_CDESC_DTYPE, RX_DESC_DTYPE, RxCdesc, RxDesc
from impl.ena_defs.regs import ResetReason

# how a queue's receive loop ended
EMPTY, BUDGET, PARTIAL, MALFORMED, TOO_MANY, BAD_REQ_ID, NO_BUFFER = range(7)
_OK = -1


@dataclass(frozen=True)
class RxConfig:
    nqueues: int
    depth: int
    max_rx_sgl_size: int
    buf_size: int
    dma_addr_bits: int
    rss_active: bool = True
    rxcsum: bool = True


class RxResult(NamedTuple):
    """Packets delivered to the stack, in queue then arrival order."""

    queue: np.ndarray
    offsets: np.ndarray
    """Into ``payload``."""
    lengths: np.ndarray
    payload: np.ndarray
    flowid: np.ndarray
    hashtype: np.ndarray
    csum_flags: np.ndarray
    l3_proto: np.ndarray
    l4_proto: np.ndarray
    descs: np.ndarray
    reasons: np.ndarray
    """Per queue given: reset reason triggered (0 = none)."""
    again: np.ndarray
    """Per queue given: the budget ran out."""


class RxQueues:
    """All RX queues of one adapter."""

    def __init__(self, cfg: RxConfig, bus: Bus) -> None:
        ring.check_depth(cfg.depth)
        n, d = cfg.nqueues, cfg.depth
        self.cfg = cfg
        self.bus = bus
        z = np.zeros(n, dtype=np.int64)
        self.tail, self.next_to_comp, self.cq_head = z.copy(), z.copy(), z.copy()
        self.phase, self.cq_phase = np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
        self.cur_count, self.cur_start = z.copy(), z.copy()
        self.next_to_use, self.next_to_clean = z.copy(), z.copy()
        self.free_ids = np.tile(np.arange(d, dtype=np.int64), (n, 1))
        self.posted = np.zeros((n, d), dtype=bool)
        self.buf_addr = np.zeros((n, d), dtype=np.int64)
        """The id's own buffer (its mbuf's DMA address)."""
        self.dma_addr = np.zeros((n, d), dtype=np.int64)
        """The address the id was last posted with (its own buffer, or a netmap
        buffer): where the device wrote, so where a packet is read from."""
        self.stats = rx_counters(n)
        self.sq: np.ndarray | None = None
        self.sq_base = self.cq_base = 0
        """Host addresses of every queue's descriptor and completion rings (queue ``q``'s
        at ``q * depth`` entries), set by :meth:`attach`."""
        self.cq: np.ndarray | None = None
        self.db_off = z.copy()

    def attach(self, sq_base: int, cq_base: int, buf_base: int, db_off: np.ndarray) -> None:
        n, d = self.cfg.nqueues, self.cfg.depth
        self.sq_base, self.cq_base = sq_base, cq_base
        self.sq = self.bus.mem.array(sq_base, RX_DESC_DTYPE, n * d).reshape(n, d)
        self.cq = self.bus.mem.array(cq_base, RX_CDESC_DTYPE, n * d).reshape(n, d)
        self.buf_addr = buf_base + self.cfg.buf_size * np.arange(n * d).reshape(n, d)
        self.dma_addr = self.buf_addr.copy()
        self.db_off = np.asarray(db_off, dtype=np.int64)

    def zero_rings(self, qs: np.ndarray) -> None:
        """The descriptor and completion rings of queues ``qs`` zeroed, as
        ``ena_com_create_io_queue`` allocates them (``BUS_DMA_ZERO``; the same host memory
        here), so no stale completion can match the new queue's phase."""
        qs = np.asarray(qs, dtype=np.int64)
        assert self.sq is not None and self.cq is not None
        self.sq[qs] = np.zeros(1, dtype=RX_DESC_DTYPE)
        self.cq[qs] = np.zeros(1, dtype=RX_CDESC_DTYPE)

    def forget(self, qs: np.ndarray) -> None:
        """Queues ``qs`` as ``ena_setup_rx_resources``'s zeroed ``rx_buffer_info`` leaves
        them (nothing posted; each id's DMA address its own buffer's) and with no partial
        packet; the counters are :meth:`impl.ena.start.QueueStart.apply_rx`'s."""
        qs = np.asarray(qs, dtype=np.int64)
        self.posted[qs] = False
        self.dma_addr[qs] = self.buf_addr[qs]
        self.cur_count[qs] = self.cur_start[qs] = 0

    def free(self, queues: np.ndarray | slice = slice(None)) -> np.ndarray:
        return ring.free_entries(self.tail[queues], self.next_to_comp[queues], self.cfg.depth)

    # -- ena_refill_rx_bufs
    def refill(self, queues: np.ndarray, num: np.ndarray) -> np.ndarray:
        """Post up to ``num[i]`` buffers on ``queues[i]``; returns how many were posted."""
        cfg = self.cfg
        mask = cfg.depth - 1
        qs = np.asarray(queues, dtype=np.int64)
        num = np.asarray(num, dtype=np.int64)
        n = np.minimum(num, np.maximum(self.free(qs), 0))
        short = n < num
        self.stats.refil_partial[qs[short]] += 1
        # the buffer for the id that found no room is allocated before the check
        sq_ = qs[short]
        self.posted[sq_, self.free_ids[sq_, (self.next_to_use[sq_] + n[short]) & mask]] = True
        q = np.repeat(qs, n)
        i = np.arange(q.size, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        rid = self.free_ids[q, (self.next_to_use[q] + i) & mask]
        self.posted[q, rid] = True
        self.post(qs, n, rid, self.buf_addr[q, rid], cfg.buf_size)
        return n

    def post(self, qs: np.ndarray, n: np.ndarray, rid: np.ndarray, addr: np.ndarray,
             buf_len: int) -> None:
        """``ena_com_add_single_rx_desc`` for ``n[j]`` buffers on ``qs[j]`` (``rid`` and
        ``addr`` flat, queue by queue): one descriptor each (FIRST | LAST | COMP_REQ, the
        phase, ``buf_len``), ``next_to_use`` advanced, and the doorbell of every queue
        that posted any."""
        cfg = self.cfg
        depth, mask = cfg.depth, cfg.depth - 1
        q = np.repeat(qs, n)
        i = np.arange(q.size, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        assert self.sq is not None
        slot = (self.tail[q] + i) & mask
        ph = ring.phases_at(self.tail[q], self.phase[q], i, depth)
        desc = np.zeros(q.size, dtype=RX_DESC_DTYPE)
        desc["length"] = buf_len & 0xFFFF
        desc["ctrl"] = (RxDesc.FIRST.mask | RxDesc.LAST.mask | RxDesc.COMP_REQ.mask) | ph
        desc["req_id"] = rid
        desc["buff_addr_lo"] = addr & 0xFFFFFFFF
        desc["buff_addr_hi"] = (addr >> 32) & (((1 << cfg.dma_addr_bits) - 1) >> 32)
        self.sq[q, slot] = desc
        self.dma_addr[q, rid] = addr
        self.tail[qs], self.phase[qs] = ring.advance(self.tail[qs], self.phase[qs], n, depth)
        self.next_to_use[qs] = (self.next_to_use[qs] + n) & mask
        rang = qs[n > 0]
        if rang.size:
            self.bus.regs.write32_batch(self.db_off[rang], self.tail[rang])

    # -- ena_rx_cleanup
    def cleanup(self, queues: np.ndarray, cdesc_mbz: bool, refill: bool = True) -> RxResult:
        """One ``ena_rx_cleanup`` call on each queue of ``queues`` (ascending, distinct).

        The completions are read through a window that grows (doubling, at most
        ``log2(depth)`` times) until every queue's loop ends inside it.  ``refill=False``
        leaves out the refill at the end: the queues were destroyed and what is read is
        what the device wrote before (the RFC's reset exit, :mod:`impl.ena.nm_rfc`)."""
        cfg = self.cfg
        qs = np.asarray(queues, dtype=np.int64)
        assert self.cq is not None
        head = self.cq[qs, self.cq_head[qs] & (cfg.depth - 1)]["status"].astype(np.int64)
        if not (RxCdesc.PHASE.get(head) == self.cq_phase[qs]).any():
            return self._nothing_new(qs, refill)
        scan, dec = self.read_packets(qs, cdesc_mbz)
        return self._commit(qs, scan, dec, refill)

    def read_packets(self, qs: np.ndarray, cdesc_mbz: bool, budget: int = RX_DESC_BUDGET,
                     stale_ok: bool = False) -> tuple[_Scan, _Decision]:
        """Read each queue's completions (``ena_com_rx_pkt`` per packet) and decide where
        its receive loop ends, changing nothing.  ``budget``: descriptors of delivered
        packets one call takes; ``stale_ok``: a req_id with no posted buffer is not a
        failure (the netmap path does not look)."""
        cfg = self.cfg
        width = min(cfg.depth, budget + 2 * cfg.max_rx_sgl_size + 2)
        while True:
            scan = self._scan(qs, width, cdesc_mbz)
            if stale_ok:
                kind = scan.packets.kind
                scan = scan._replace(packets=scan.packets._replace(
                    kind=np.where(kind == NO_BUFFER, _OK, kind)))
            dec = _decide(scan, budget)
            if not dec.undecided.any() or width >= cfg.depth:
                return scan, dec
            width = min(2 * width, cfg.depth)

    def _nothing_new(self, qs: np.ndarray, refill: bool = True) -> RxResult:
        """No queue has a new completion at its CQ head: the C loop reads nothing and
        ends; only the refill check after it runs."""
        cfg = self.cfg
        need = self.free(qs)
        go = refill & (need > min(cfg.depth // RX_REFILL_THRESH_DIVIDER,
                                  RX_REFILL_THRESH_PACKET))
        if go.any():
            self.refill(qs[go], need[go])
        e = np.zeros(0, dtype=np.int64)
        return RxResult(e, e, e, np.zeros(0, dtype=np.uint8), e, e, e, e, e, e,
                        np.zeros(qs.size, dtype=np.int64), np.zeros(qs.size, dtype=bool))

    def _scan(self, qs: np.ndarray, width: int, cdesc_mbz: bool) -> _Scan:
        """Read the completions from the current packet's first one (``c0`` of them were
        consumed by earlier calls) and split them into packets."""
        cfg = self.cfg
        depth, mask = cfg.depth, cfg.depth - 1
        assert self.cq is not None
        c0 = self.cur_count[qs]
        w = width + int(c0.max(initial=0))
        k = np.arange(w, dtype=np.int64)[None, :]
        start = ring.u16(self.cq_head[qs] - c0)
        cd = self.cq[qs[:, None], (start[:, None] + k) & mask]
        status = cd["status"].astype(np.int64)
        scanned = k >= c0[:, None]
        phase_ok = RxCdesc.PHASE.get(status) == ring.phases_at(
            self.cq_head[qs][:, None], self.cq_phase[qs][:, None], k - c0[:, None], depth)
        bad = scanned & ~phase_ok
        run = np.where(bad.any(axis=1), np.argmax(bad, axis=1), w)
        inrun = k < run[:, None]
        last = RxCdesc.LAST.is_set(status) & inrun
        lastpos = np.where(last, k, -1)
        prev_last = np.concatenate([np.full((qs.size, 1), -1),
                                    np.maximum.accumulate(lastpos, axis=1)[:, :-1]], axis=1)
        pos = k - prev_last - 1
        mbz = ((status & RxCdesc.MBZ) != 0) if cdesc_mbz else np.zeros(status.shape, bool)
        fault = scanned & inrun & ((RxCdesc.FIRST.is_set(status) & (pos != 0)) | mbz)
        rid = cd["req_id"].astype(np.int64)
        # per packet, flat over queues
        row, kk = np.nonzero(inrun)
        pi = (np.cumsum(last, axis=1) - last)[row, kk]
        npk = np.zeros(qs.size, dtype=np.int64)
        if row.size:
            ends = np.r_[np.flatnonzero(np.diff(row)), row.size - 1]
            npk[row[ends]] = pi[ends] + 1
        pstart = np.cumsum(npk) - npk
        gp = pstart[row] + pi
        total = int(npk.sum())
        size = np.bincount(gp, minlength=total).astype(np.int64)
        first_k = np.full(total, w, dtype=np.int64)
        np.minimum.at(first_k, gp, kk)
        complete = np.zeros(total, dtype=bool)
        complete[gp[last[row, kk]]] = True
        fault_k = np.full(total, w, dtype=np.int64)
        f = fault[row, kk]
        np.minimum.at(fault_k, gp[f], kk[f])
        r = rid[row, kk]
        oor = r >= depth
        rc = np.where(oor, 0, r)
        posted = self.posted[qs[row], rc] & first_occurrence(row, rc, depth)
        bad_rid = np.zeros(total, dtype=bool)
        bad_rid[gp[oor]] = True
        nobuf_k = np.full(total, w, dtype=np.int64)
        nb = ~posted & ~oor
        np.minimum.at(nobuf_k, gp[nb], kk[nb])
        kind = vec.select(
            [fault_k < w, ~complete, size > cfg.max_rx_sgl_size, bad_rid, nobuf_k < w],
            [MALFORMED, PARTIAL, TOO_MANY, BAD_REQ_ID, NO_BUFFER], _OK)
        return _Scan(w, c0, start, run, rid, cd["length"].astype(np.int64),
                     cd["offset"].astype(np.int64), status, cd["hash"].astype(np.int64),
                     _Packets(npk, pstart, kind, first_k, size, fault_k, nobuf_k, row, kk,
                              gp))

    def _commit(self, qs: np.ndarray, s: _Scan, dec: _Decision,
                refill: bool = True) -> RxResult:
        cfg = self.cfg
        mask = cfg.depth - 1
        pk, why, nq = s.packets, dec.why, qs.size
        # entries consumed: those of delivered packets and of a NO_BUFFER terminal packet
        e_del = dec.delivered[pk.gp]
        e_nobuf = (why[pk.row] == NO_BUFFER) & (pk.gp == dec.tg[pk.row])
        e_cons = e_del | e_nobuf
        e_q = qs[pk.row]
        e_rid = s.rid[pk.row, pk.kk]
        consumed_n = np.bincount(pk.row[e_cons], minlength=nq).astype(np.int64)
        ci = np.cumsum(e_cons) - e_cons - (np.cumsum(consumed_n) - consumed_n)[pk.row]
        ntc0 = self.next_to_clean[e_q]
        self.free_ids[e_q[e_cons], (ntc0[e_cons] + ci[e_cons]) & mask] = e_rid[e_cons]
        taken = e_del | (e_nobuf & (pk.kk < pk.nobuf_k[pk.gp]))
        self.posted[e_q[taken], e_rid[taken]] = False
        self.consume(qs, s, dec)
        why = dec.why
        fatal = vec.isin(why, (MALFORMED, TOO_MANY, BAD_REQ_ID))
        self.next_to_clean[qs] = np.where(fatal, self.next_to_clean[qs],
                                          (self.next_to_clean[qs] + consumed_n) & mask)
        reasons = reset_reasons(why)
        st = self.stats

        out = self._deliver(qs, s, dec)
        np.add.at(st.cnt, qs[out.queue_local], 1)
        np.add.at(st.bytes, qs[out.queue_local], out.lengths)
        # refill after a normal end (not after the three early returns)
        refill_q = qs[~fatal]
        need = self.free(refill_q)
        thresh = min(cfg.depth // RX_REFILL_THRESH_DIVIDER, RX_REFILL_THRESH_PACKET)
        go = refill & (need > thresh)
        if go.any():
            self.refill(refill_q[go], need[go])
        again = ~fatal & (dec.n_del >= RX_DESC_BUDGET)
        return RxResult(qs[out.queue_local], out.offsets, out.lengths, out.payload, out.flowid,
                        out.hashtype, out.csum_flags, out.l3, out.l4, out.descs, reasons, again)

    def consume(self, qs: np.ndarray, s: _Scan, dec: _Decision) -> None:
        """What ``ena_com_rx_pkt`` leaves behind for the loop :meth:`read_packets`
        decided: the CQ head and phase, the partial-packet memory, the SQ's
        ``next_to_comp``, and the ``bad_desc_num`` / ``bad_req_id`` counters."""
        depth, mask = self.cfg.depth, self.cfg.depth - 1
        why = dec.why
        t_first, t_end = dec.t_first, dec.t_end
        # CQ head and the partial-packet memory
        head_off = vec.select(
            [why == MALFORMED, why == PARTIAL,
             (why == TOO_MANY) | (why == BAD_REQ_ID) | (why == NO_BUFFER)],
            [dec.t_fault + 1, s.run, t_end], dec.end_del)
        head_off = np.maximum(head_off, s.c0)
        self.cq_head[qs], self.cq_phase[qs] = ring.advance(
            self.cq_head[qs], self.cq_phase[qs], head_off - s.c0, depth)
        any_del = dec.end_del > 0
        ended = vec.isin(why, (TOO_MANY, BAD_REQ_ID, NO_BUFFER))
        normal = vec.isin(why, (EMPTY, BUDGET))
        self.cur_count[qs] = vec.select(
            [why == PARTIAL, ended | any_del], [s.run - t_first, 0], s.c0)
        new_start = vec.select([why == PARTIAL, ended], [s.start + t_first, s.start + t_end],
                               s.start + dec.end_del)
        touch = (why == PARTIAL) | ended | ((normal | (why == MALFORMED)) & any_del)
        self.cur_start[qs] = np.where(touch, new_start & mask, self.cur_start[qs])
        sq_done = dec.n_del + np.where(why == NO_BUFFER, t_end - t_first, 0)
        self.next_to_comp[qs] = ring.u16(self.next_to_comp[qs] + sq_done)
        self.stats.bad_desc_num[qs] += why == TOO_MANY
        self.stats.bad_req_id[qs] += why == BAD_REQ_ID

    def _deliver(self, qs: np.ndarray, s: _Scan, dec: _Decision) -> _Delivered:
        """Assemble the delivered packets (``ena_rx_mbuf``: the first buffer from the
        completion's offset, the others appended whole) and their flags."""
        cfg = self.cfg
        pk = s.packets
        dl = np.flatnonzero(dec.delivered)
        qloc = pk.row[np.searchsorted(pk.gp, dl)] if dl.size else dl
        size = pk.size[dl]
        first = pk.first_k[dl]
        starts = np.cumsum(size) - size
        e_row = np.repeat(qloc, size)
        e_k = np.repeat(first, size) + np.arange(int(size.sum())) - np.repeat(starts, size)
        is_first = np.arange(e_k.size) == np.repeat(starts, size)
        e_len = s.length[e_row, e_k]
        e_off = np.where(is_first, s.offset[e_row, e_k], 0)
        addr = self.dma_addr[qs[e_row], s.rid[e_row, e_k]] + e_off
        payload = self.bus.mem.gather(addr, e_len)
        lengths = np.add.reduceat(e_len, starts) if dl.size else e_len
        offsets = np.cumsum(lengths) - lengths
        last_k = first + size - 1
        status = s.status[qloc, last_k]
        l3 = RxCdesc.L3_PROTO_IDX.get(status)
        l4 = RxCdesc.L4_PROTO_IDX.get(status)
        hashtype = rx_hash_type(l3, l4, RxCdesc.IPV4_FRAG.get(status), cfg.rss_active)
        flowid = s.hash[qloc, last_k] if cfg.rss_active else qs[qloc]
        if cfg.rxcsum:
            csum, good, bad = rx_checksum(l3, l4, RxCdesc.L3_CSUM_ERR.get(status),
                                          RxCdesc.L4_CSUM_ERR.get(status))
            np.add.at(self.stats.csum_good, qs[qloc], good)
            np.add.at(self.stats.csum_bad, qs[qloc], bad)
        else:
            csum = np.zeros(dl.size, dtype=np.int64)
        return _Delivered(qloc, offsets, lengths, payload, flowid, hashtype, csum, l3, l4, size)


class _Packets(NamedTuple):
    npk: np.ndarray
    pstart: np.ndarray
    kind: np.ndarray
    first_k: np.ndarray
    size: np.ndarray
    fault_k: np.ndarray
    nobuf_k: np.ndarray
    row: np.ndarray
    kk: np.ndarray
    gp: np.ndarray


class _Scan(NamedTuple):
    width: int
    c0: np.ndarray
    start: np.ndarray
    run: np.ndarray
    rid: np.ndarray
    length: np.ndarray
    offset: np.ndarray
    status: np.ndarray
    hash: np.ndarray
    packets: _Packets


class _Decision(NamedTuple):
    why: np.ndarray
    tg: np.ndarray
    delivered: np.ndarray
    n_del: np.ndarray
    end_del: np.ndarray
    t_first: np.ndarray
    t_end: np.ndarray
    t_fault: np.ndarray
    undecided: np.ndarray


class _Delivered(NamedTuple):
    queue_local: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    payload: np.ndarray
    flowid: np.ndarray
    hashtype: np.ndarray
    csum_flags: np.ndarray
    l3: np.ndarray
    l4: np.ndarray
    descs: np.ndarray


def reset_reasons(why: np.ndarray) -> np.ndarray:
    """The reset reason each way a receive loop can end triggers (0 = none)."""
    return vec.select([why == MALFORMED, why == TOO_MANY,
                       (why == BAD_REQ_ID) | (why == NO_BUFFER)],
                      [int(ResetReason.RX_DESCRIPTOR_MALFORMED),
                       int(ResetReason.TOO_MANY_RX_DESCS),
                       int(ResetReason.INV_RX_REQ_ID)], 0)


def _decide(s: _Scan, budget: int = RX_DESC_BUDGET) -> _Decision:
    """How each queue's loop ends: the first packet that fails, or that the budget
    (descriptors of delivered packets; 256 for ena_rx_cleanup) no longer admits; no
    state is changed."""
    pk = s.packets
    nq = s.c0.size
    total = pk.kind.size
    pq = np.repeat(np.arange(nq), pk.npk)
    okp = pk.kind == _OK
    used = np.cumsum(np.where(okp, pk.size, 0))
    used_before = used - np.where(okp, pk.size, 0)
    if total:
        used_before -= np.repeat(used_before[np.minimum(pk.pstart, total - 1)], pk.npk)
    stop = ~okp | (budget - used_before <= 0)
    local = np.arange(total) - pk.pstart[pq] if total else np.zeros(0, dtype=np.int64)
    t_local = np.full(nq, -1, dtype=np.int64)
    hit = np.flatnonzero(stop)
    if hit.size:
        firsts = hit[np.unique(pq[hit], return_index=True)[1]]
        t_local[pq[firsts]] = local[firsts]
    has_t = t_local >= 0
    tg = pk.pstart + np.where(has_t, t_local, 0)
    tgc = np.minimum(tg, max(total - 1, 0))

    def at(a: np.ndarray, default: int) -> np.ndarray:
        return np.where(has_t, a[tgc], default) if total else np.full(nq, default)

    t_budget = has_t & (budget - at(used_before, 0) <= 0)
    delivered = okp & (local < np.where(has_t, t_local, pk.npk)[pq]) if total else okp
    n_del = np.bincount(pq[delivered], weights=pk.size[delivered], minlength=nq).astype(
        np.int64)
    end_del = np.zeros(nq, dtype=np.int64)
    if delivered.any():
        np.maximum.at(end_del, pq[delivered], (pk.first_k + pk.size)[delivered])
    why = np.where(has_t & ~t_budget, at(pk.kind, EMPTY),
                   np.where(t_budget | (n_del >= budget), BUDGET, EMPTY))
    t_first = np.where(has_t, at(pk.first_k, 0), 0)
    t_end = t_first + np.where(has_t, at(pk.size, 0), 0)
    undecided = vec.isin(why, (EMPTY, PARTIAL)) & (s.run >= s.width)
    return _Decision(why, tg, delivered, n_del, end_del, t_first, t_end,
                     at(pk.fault_k, 0), undecided)
