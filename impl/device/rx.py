"""The RX side: frames from the wire scattered over the buffers the driver posted, and
the 16-byte RX completions that describe them.

The driver posts one 16-byte descriptor per buffer (``ena_com_add_single_rx_desc``:
length, ``ctrl`` = FIRST|LAST|COMP_REQ|phase, req_id, address) and rings the RX SQ
doorbell; the device takes posted buffers in order. Each frame goes to the RX queue RSS
chose (:mod:`impl.device.rss`) and is scattered over ``ceil(len / cap)`` consecutive
buffers, ``cap`` being the smallest buffer length posted in that queue's window (so no
buffer ever receives more than its length); ``length`` 0 means 64 KiB. One completion
per buffer: FIRST on the first, LAST on the last, BUFFER set, the buffer's req_id and
byte count; the L3/L4 protocol, checksum results, fragment flag and RSS hash go into the
last one, which is where ``ena_com_rx_pkt`` reads them:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.c#L598

Frames that find no (or too few) posted buffers in their queue are dropped and counted
(``rx_no_buffer``); once a frame does not fit, the later frames of that queue in the same
batch do not either (a NIC does not reorder). A posted descriptor whose phase is not its
pass parity is not a buffer (``rx_bad_phase``): the window ends before it.
"""

from __future__ import annotations

import numpy as np

from impl import byteranges
from impl.device.faults import DeviceStats, Faults, draw
from impl.device.parse import Parsed
from impl.device.queues import QueueTable
from impl.device.segs import clean_prefix, group_rank
from impl.device.tx import expected_phase
from impl.ena_defs.layouts import RX_CDESC_DTYPE, RX_DESC_DTYPE, RxCdesc, RxDesc
from impl.netmap.ranges import segment_min
from impl.packets import PacketBatch, even_segments


def posted_window(qt: QueueTable, sqs: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """For RX SQs ``sqs``, over the posted descriptors ``[head, tail)`` up to the first bad
    phase: per queue the number of usable buffers and the smallest buffer length, and how
    many posted descriptors the bad phases hid (:func:`posted_descs` reads the ones a
    delivery uses)."""
    head, tail, depth = qt.sq_head[sqs], qt.sq_tail[sqs], qt.sq_depth[sqs]
    n = (tail - head) & 0xFFFF
    n = np.minimum(n, depth)
    rings = _rings(qt, sqs)
    if rings is not None:
        # every ring read whole (one row copy per queue); slot s is window place
        # (s - head) & (d - 1), on head's pass from head's slot on, on the next one before
        d = rings.shape[1]
        col = np.arange(d, dtype=np.int32)[None, :]
        head_slot = (head & (d - 1)).astype(np.int32)[:, None]
        pos = (col - head_slot) & (d - 1)
        want = expected_phase(head, d).astype(np.uint8)[:, None] ^ (col < head_slot)
        phase = (rings["ctrl"] >> np.uint8(RxDesc.PHASE.shift)) & np.uint8(RxDesc.PHASE.max)
        bad = (pos < n[:, None]) & (phase != want)
        avail = np.minimum(n, np.where(bad, pos, d).min(axis=1))
        # length 0 means 64 KiB: length - 1 in u16 orders every length, 0 last
        less_one = rings["length"] - np.uint16(1)
        cap = np.where(pos < avail[:, None], less_one, np.uint16(0xFFFF)).min(
            axis=1, initial=0xFFFF).astype(np.int64) + 1
        return avail, cap, int((n - avail).sum())
    j = np.repeat(np.arange(sqs.size), n)
    within = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    ctr = head[j] + within
    addr = qt.sq_ba[sqs][j] + (ctr & (depth[j] - 1)) * RX_DESC_DTYPE.itemsize
    desc = qt.bus.mem.records(addr, RX_DESC_DTYPE)
    good = RxDesc.PHASE.get(desc["ctrl"]) == expected_phase(ctr, depth[j])
    usable = clean_prefix(~good, n)
    avail = np.bincount(j, weights=usable, minlength=sqs.size).astype(np.int64)
    length = desc["length"].astype(np.int64)
    length = np.where(length == 0, 1 << 16, length)
    cap = segment_min(np.where(usable, length, 1 << 16), n, np.full(sqs.size, 1 << 16))
    return avail, cap, int((n - avail).sum())


def _rings(qt: QueueTable, sqs: np.ndarray) -> np.ndarray | None:
    """The whole descriptor ring of each SQ as one row, ``(len(sqs), depth)`` records,
    when they share one power-of-two depth and lie, aligned, inside host memory; else
    None (the caller reads the windows descriptor by descriptor)."""
    size = RX_DESC_DTYPE.itemsize
    depth, ba = qt.sq_depth[sqs], qt.sq_ba[sqs]
    d = int(depth[0])
    mem = qt.bus.mem
    if (d <= 0 or d & (d - 1) or (depth != d).any() or int(ba.min()) < 0
            or (ba % size).any() or int(ba.max()) + d * size > mem.size):
        return None
    # rows of raw bytes (a memcpy each; rows of records would be copied record by record)
    return byteranges.windows(mem.data, d * size)[ba].view(RX_DESC_DTYPE)


def posted_descs(qt: QueueTable, sq: np.ndarray, i: np.ndarray) -> np.ndarray:
    """The ``i[x]``-th posted descriptor from the head of RX SQ ``sq[x]`` (records)."""
    ctr = qt.sq_head[sq] + i
    return qt.bus.mem.records(qt.sq_ba[sq] + (ctr & (qt.sq_depth[sq] - 1))
                              * RX_DESC_DTYPE.itemsize, RX_DESC_DTYPE)


def deliver(qt: QueueTable, frames: PacketBatch, parsed: Parsed, hashes: np.ndarray,
            sq_of_frame: np.ndarray, faults: Faults, rng: np.random.Generator,
            stats: DeviceStats) -> np.ndarray:
    """Scatter ``frames`` into their RX queues and write the completions. Returns the CQs
    that received completions (for interrupts)."""
    nf = len(frames)
    if nf == 0:
        return np.zeros(0, np.int64)
    sqs = np.unique(sq_of_frame)
    j_of_frame = np.searchsorted(sqs, sq_of_frame)
    avail, cap, badphase = posted_window(qt, sqs)
    stats.add("rx_bad_phase", badphase)
    length = frames.lengths
    need = np.maximum(-(-length // cap[j_of_frame]), 1)
    many = draw(rng, faults.rx_too_many_descs, nf) & (length >= faults.rx_too_many)
    need = np.where(many, np.maximum(need, faults.rx_too_many), need)
    order = np.argsort(j_of_frame, kind="stable")
    jo = j_of_frame[order]
    cum = np.cumsum(need[order])
    start_of_group = np.concatenate([[True], jo[1:] != jo[:-1]])
    base = np.repeat(cum[start_of_group] - need[order][start_of_group],
                     np.bincount(np.cumsum(start_of_group) - 1))
    used_before = cum - need[order] - base
    fits_o = used_before + need[order] <= avail[jo]
    fits = np.zeros(nf, bool)
    fits[order] = fits_o
    stats.add("rx_no_buffer", (~fits).sum())
    first_buf = np.zeros(nf, np.int64)
    first_buf[order] = used_before
    # pieces of the delivered frames, frame order kept
    fr = np.flatnonzero(fits)
    m = need[fr]
    capsplit_len = length[fr]
    k = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    pf = np.repeat(fr, m)
    cap_p = cap[j_of_frame[pf]]
    plen = np.minimum(cap_p, np.repeat(capsplit_len, m) - k * cap_p)
    plen = np.where(many[pf], even_segments(length[fr], m), plen)
    stats.add("rx_too_many_descs", many[fr].sum())
    # buffers: the (first_buf[frame] + k)-th posted descriptor of the frame's queue
    bufs = posted_descs(qt, sqs[j_of_frame[pf]], first_buf[pf] + k)
    addr = bufs["buff_addr_lo"].astype(np.int64) | (bufs["buff_addr_hi"].astype(np.int64) << 32)
    ok = qt.bus.mem.in_range(addr, plen)
    stats.add("rx_dma_error", (~ok).sum())
    src = byteranges.gather(frames.arena, np.repeat(frames.offsets[fr], m) +
                            (np.cumsum(plen) - plen - np.repeat(
                                (np.cumsum(plen) - plen)[np.cumsum(m) - m], m)), plen)
    if ok.all():
        qt.bus.mem.scatter(addr, plen, src)
    else:
        src_off = np.cumsum(plen) - plen
        qt.bus.mem.scatter(addr[ok], plen[ok], byteranges.gather(src, src_off[ok], plen[ok]))
    # completions
    sq_p = sqs[j_of_frame[pf]]
    cq_p = qt.sq_cq[sq_p]
    is_first = k == 0
    is_last = k == np.repeat(m - 1, m)
    status = RxCdesc.FIRST.put(is_first) | RxCdesc.LAST.put(is_last) | RxCdesc.BUFFER.put(1)
    info = (RxCdesc.L3_PROTO_IDX.put(parsed.l3_proto[pf]) |
            RxCdesc.L4_PROTO_IDX.put(parsed.l4_proto[pf]) |
            RxCdesc.SRC_VLAN_CNT.put(parsed.vlan_cnt[pf]) |
            RxCdesc.L3_CSUM_ERR.put(parsed.l3_csum_err[pf]) |
            RxCdesc.L4_CSUM_ERR.put(parsed.l4_csum_err[pf]) |
            RxCdesc.IPV4_FRAG.put(parsed.ipv4_frag[pf]) |
            RxCdesc.L4_CSUM_CHECKED.put(parsed.l4_csum_checked[pf]))
    status |= np.where(is_last, info, np.uint64(0))
    req = bufs["req_id"].astype(np.int64)
    npieces = pf.size
    # faults, per frame then per piece
    multi = m >= 2
    fnf = draw(rng, faults.rx_first_not_first, fr.size) & multi
    second = np.cumsum(m) - m + 1
    status[second[fnf]] |= np.uint64(RxCdesc.FIRST.mask)
    stats.add("rx_first_not_first", fnf.sum())
    bad_req = draw(rng, faults.rx_req_id_invalid, fr.size)
    piece_of = np.cumsum(m) - m + (rng.integers(0, m) if bad_req.any() else 0)
    rows = piece_of[bad_req]
    d = qt.sq_depth[sq_p[rows]]
    req[rows] = d + (rng.random(rows.size) * (65536 - d)).astype(np.int64)
    stats.add("rx_req_id_invalid", bad_req.sum())
    by_sq = np.argsort(sq_p, kind="stable")
    has_prev = np.zeros(npieces, dtype=bool)
    has_prev[by_sq[1:]] = sq_p[by_sq[1:]] == sq_p[by_sq[:-1]]
    dup = draw(rng, faults.rx_req_id_dup, npieces) & has_prev
    prev = np.empty(npieces, dtype=np.int64)
    prev[by_sq[1:]] = by_sq[:-1]
    req[dup] = req[prev[dup]]
    stats.add("rx_req_id_dup", dup.sum())
    mbz = draw(rng, faults.cdesc_mbz, npieces)
    status |= np.where(mbz, np.uint64(RxCdesc.MBZ7.mask), np.uint64(0))
    stats.add("rx_cdesc_mbz", mbz.sum())
    # write at each CQ's tail, in piece order within the CQ
    o = np.argsort(cq_p, kind="stable")
    rank = group_rank(cq_p[o])
    cq_s = cq_p[o]
    cctr = qt.cq_tail[cq_s] + rank
    cdepth = qt.cq_depth[cq_s]
    rec = np.zeros(npieces, RX_CDESC_DTYPE)
    rec["status"] = (status[o] | RxCdesc.PHASE.put(expected_phase(cctr, cdepth))).astype(np.uint32)
    rec["length"] = plen[o].astype(np.uint16)
    rec["req_id"] = (req[o] & 0xFFFF).astype(np.uint16)
    rec["hash"] = np.where(is_last[o], hashes[pf[o]], 0).astype(np.uint32)
    size = RX_CDESC_DTYPE.itemsize
    caddr = qt.cq_ba[cq_s] + (cctr & (cdepth - 1)) * size
    qt.bus.mem.write_records(caddr, rec)
    np.add.at(qt.cq_tail, cq_s, 1)
    # SQ heads: buffers consumed per queue
    used = np.bincount(j_of_frame[fr], weights=m, minlength=sqs.size).astype(np.int64)
    qt.sq_head[sqs] = (qt.sq_head[sqs] + used) & 0xFFFF
    stats.add("rx_pkts", fr.size)
    stats.add("rx_bytes", length[fr].sum())
    stats.add("rx_descs", npieces)
    return np.unique(cq_p)
