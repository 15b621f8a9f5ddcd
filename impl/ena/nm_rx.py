"""ena_netmap_rxsync's body for a batch of RX rings: ena_netmap_rx_frames, then
ena_netmap_rx_cleanup (the refill), and the fill that ``ena_up`` does.

**Frames.** Packet by packet from the CQ (``ena_com_rx_pkt``: a FIRST bit past a packet's
first completion or MBZ bits -> RX_DESCRIPTOR_MALFORMED; more descriptors than
``max_rx_sgl_size`` -> TOO_MANY_RX_DESCS; ``req_id >= depth`` -> INV_RX_REQ_ID; each stops
the loop, triggers the reset and is returned to netmap, which then skips
nm_sync_finalize).  ena_netmap_rx_load_desc gives each descriptor's
``rx_info->netmap_buf_idx`` to the slot at ``nr_hwtail`` with the completion's length
and ``NS_MOREFRAG | NS_BUF_CHANGED`` (the packet's last slot loses NS_MOREFRAG), writes
``free_rx_ids[next_to_clean] = req_id`` and advances both.  No budget (ENA_MAX_FRAMES is
larger than any ring); the completion's ``offset`` is not used.

**Refill.** ``refill = rhead - nr_hwcur``, minus one when ``nr_hwcur != nr_hwtail``, plus
``nkr_num_slots`` when negative (hardened: ``rhead - nr_hwcur - 1`` mod N, the released
slots only), then ena_refill_rx_bufs, each buffer through ena_netmap_alloc_rx_slot:
an id whose ``netmap_buf_idx`` is still set is posted again as it is; otherwise slot
``nr_hwcur`` must not be ``rhead`` once the ring is initialized (ENOMEM; hardened: must
not be the gap, ``rhead - 1``) and must hold a
real buffer (EFAULT), its buffer goes to the id, the slot's ``buf_idx`` becomes 0 and
``nr_hwcur`` advances; then ``ena_com_add_single_rx_desc`` (no room: stop, the buffer
stays with the id).  ENA's ``nr_hwcur`` is the next slot it posts: netmap's hwcur minus
one.

**As shipped vs hardened** (:mod:`model.ena_netmap`):

* no test that a completion's id was posted: a duplicate or stale id hands the user
  ``buf_idx`` 0 and puts the id twice into ``free_rx_ids`` (ENA-NM-RX-IDS).  Hardened:
  such a packet triggers INV_RX_REQ_ID, as ena_rx_mbuf does on the mbuf path;
* the refill count posts the gap slot when ``nr_hwcur == nr_hwtail`` (ENA-NM-RX-RING),
  and ena_netmap_alloc_rx_slot's "no free slots" test (``nr_hwcur == rhead``) is one
  slot late for ENA's own convention: once the user has released every slot, ``nr_hwcur
  == rhead`` and nothing is ever posted again.  Hardened: the count is the released
  slots and the allocation stops at the gap (``nm_next(nr_hwcur) == rhead``);
* ``ena_up``'s fill (:func:`initial_fill`) starts at ``rhead`` and takes the buffers of
  the slots the user still holds (ENA-BUF-NM-USER of :mod:`model.ena_reset_buffers`).
  Hardened: it starts at ``nr_hwtail`` and posts the released slots only.

Upstream:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L872
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L900
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L927
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L1004
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L1040
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L107
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L1112
"""

from __future__ import annotations

import errno
from typing import NamedTuple

import numpy as np

from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.ragged import first_occurrence
from impl.ena.rxq import BAD_REQ_ID, MALFORMED, NO_BUFFER, TOO_MANY, reset_reasons
from impl.netmap.layout import NS_BUF_CHANGED, NS_MOREFRAG
from impl.netmap.ranges import ring_dist

_MORE = np.uint16(NS_MOREFRAG)


class RxFramesResult(NamedTuple):
    rc: np.ndarray
    """Per ring: 0, or the ena_com error that stopped the loop: ENA_COM_FAULT (EFAULT) for
    a malformed completion, ENA_COM_NO_SPACE (ENOSPC) for too many descriptors,
    ENA_COM_EIO (EIO) for a req_id past the ring (hardened: or not posted)."""
    packets: np.ndarray
    """Per ring: packets handed to the user."""
    slots: np.ndarray
    """Per ring: slots filled (``nr_hwtail`` moved by this much)."""
    reasons: np.ndarray
    """Per ring: reset reason triggered (0 = none)."""


class RefillResult(NamedTuple):
    posted: np.ndarray
    """Per ring: descriptors posted."""
    rc: np.ndarray
    """Per ring: why the refill stopped short (0, ENOMEM: reached rhead, EFAULT: a slot
    without a real buffer, ENOSPC: the SQ is full)."""


def rx_frames(nm: EnaNetmapRings, qs: np.ndarray, cdesc_mbz: bool) -> RxFramesResult:
    """ena_netmap_rx_frames on the RX rings ``qs`` (distinct, ascending)."""
    rx, kr = nm.drv.rx, nm.rx
    depth, mask = rx.cfg.depth, rx.cfg.depth - 1
    n = kr.num_slots
    qs = np.asarray(qs, dtype=np.int64)
    s, dec = rx.read_packets(qs, cdesc_mbz, budget=depth + 1, stale_ok=not nm.hardened)
    pk = s.packets
    rx.consume(qs, s, dec)
    # the delivered packets' descriptors, queue by queue in completion order
    e = dec.delivered[pk.gp]
    row, kk = pk.row[e], pk.kk[e]
    q = qs[row]
    rid = s.rid[row, kk]
    length = s.length[row, kk]
    cnt = np.bincount(row, minlength=qs.size).astype(np.int64)
    j = np.arange(row.size, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    slot = (kr.hwtail[q] + j) % n
    fresh = first_occurrence(row, rid, depth)
    _copy_out_of_mbufs(nm, q[fresh], rid[fresh], length[fresh])
    kr.slot_buf_idx[q, slot] = np.where(fresh, nm.rx_buf[q, rid], 0)
    nm.rx_buf[q, rid] = 0
    rx.posted[q, rid] = False
    last = (pk.first_k + pk.size - 1)[pk.gp[e]] == kk
    flags = kr.slot_flags[q, slot] | np.uint16(NS_MOREFRAG | NS_BUF_CHANGED)
    kr.slot_flags[q, slot] = np.where(last, flags & ~_MORE, flags)
    kr.slot_len[q, slot] = length
    rx.free_ids[q, (rx.next_to_clean[q] + j) & mask] = rid
    rx.next_to_clean[qs] = (rx.next_to_clean[qs] + cnt) & mask
    kr.hwtail[qs] = (kr.hwtail[qs] + cnt) % n
    # one row per delivered packet (pk.row is per descriptor, dec.delivered per packet)
    prow = pk.row[np.searchsorted(pk.gp, np.flatnonzero(dec.delivered))]
    npk = np.bincount(prow, minlength=qs.size).astype(np.int64)
    np.add.at(rx.stats.cnt, qs, npk)
    np.add.at(rx.stats.bytes, q, length)
    reasons = reset_reasons(dec.why)
    if nm.hardened:
        rx.stats.bad_req_id[qs] += dec.why == NO_BUFFER
    nm.drv.reset.trigger_first(reasons)
    rc = np.select([dec.why == MALFORMED, dec.why == TOO_MANY,
                    (dec.why == BAD_REQ_ID) | (dec.why == NO_BUFFER)],
                   [errno.EFAULT, errno.ENOSPC, errno.EIO], 0)
    return RxFramesResult(rc, npk, cnt, reasons)


def _copy_out_of_mbufs(nm: EnaNetmapRings, q: np.ndarray, rid: np.ndarray,
                       length: np.ndarray) -> None:
    """The RFC's copy (:mod:`impl.ena.nm_rfc`): an id still posted with the stack's mbuf
    when the ring entered netmap mode received into the mbuf; its bytes go into the
    netmap buffer parked under the id, which the slot then gets."""
    buf = nm.rx_buf[q, rid]
    src = nm.drv.rx.dma_addr[q, rid]
    mbuf = (buf != 0) & (src != nm.buf_addr(buf))
    if not mbuf.any():
        return
    q, src, buf, length = q[mbuf], src[mbuf], buf[mbuf], length[mbuf]
    mem = nm.drv.bus.mem
    mem.scatter(nm.buf_addr(buf), length, mem.gather(src, length))
    nm.copies[:] += np.bincount(q, minlength=nm.copies.size)


def refill_count(nm: EnaNetmapRings, qs: np.ndarray) -> np.ndarray:
    """ena_netmap_rx_cleanup's count (hardened: the released slots only)."""
    kr, n = nm.rx, nm.rx.num_slots
    hwcur, rhead = kr.hwcur[qs], kr.rhead[qs]
    if nm.hardened:
        return ring_dist(hwcur + 1, rhead, n)
    return ring_dist(hwcur, rhead, n) - (hwcur != kr.hwtail[qs])


def refill(nm: EnaNetmapRings, qs: np.ndarray, num: np.ndarray) -> RefillResult:
    """ena_refill_rx_bufs with ena_netmap_alloc_rx_slot: up to ``num[i]`` buffers on
    ``qs[i]``."""
    rx, kr = nm.drv.rx, nm.rx
    mask, n = rx.cfg.depth - 1, kr.num_slots
    qs = np.asarray(qs, dtype=np.int64)
    num = np.maximum(np.asarray(num, dtype=np.int64), 0)
    # every iteration the loop could reach, flat, queue by queue
    q = np.repeat(qs, num)
    local = np.repeat(np.arange(qs.size), num)
    i = np.arange(q.size, dtype=np.int64) - np.repeat(np.cumsum(num) - num, num)
    rid = rx.free_ids[q, (rx.next_to_use[q] + i) & mask]
    reuse = (nm.rx_buf[q, rid] != 0) | ~first_occurrence(local, rid, rx.cfg.depth)
    takes = ~reuse
    per_q = np.bincount(local, weights=takes, minlength=qs.size).astype(np.int64)
    taken_before = np.cumsum(takes) - takes - (np.cumsum(per_q) - per_q)[local]
    slot = (kr.hwcur[q] + taken_before) % n
    buf = kr.slot_buf_idx[q, slot].astype(np.int64)
    stop_slot = (slot + 1) % n if nm.hardened else slot
    at_head = takes & (stop_slot == kr.rhead[q]) & nm.rx_initialized[q]
    bad_buf = takes & ((buf == 0) | (buf >= nm.mem.nbufs))
    no_room = i >= rx.free(qs)[local]
    kind = np.select([at_head, bad_buf, no_room], [errno.ENOMEM, errno.EFAULT, errno.ENOSPC], 0)
    stop_at = np.full(qs.size, -1, dtype=np.int64)
    hit = np.flatnonzero(kind != 0)
    if hit.size:
        firsts = hit[np.unique(local[hit], return_index=True)[1]]
        stop_at[local[firsts]] = i[firsts]
    posted = np.where(stop_at >= 0, stop_at, num)
    rc = np.zeros(qs.size, dtype=np.int64)
    has = stop_at >= 0
    rc[has] = kind[(np.cumsum(num) - num)[has] + stop_at[has]]
    ok = i < posted[local]
    # a slot is taken by every posted iteration and by one stopped on a full SQ
    taken = takes & (ok | ((i == stop_at[local]) & (kind == errno.ENOSPC)))
    tq, tslot, trid = q[taken], slot[taken], rid[taken]
    nm.rx_buf[tq, trid] = kr.slot_buf_idx[tq, tslot]
    kr.slot_buf_idx[tq, tslot] = 0
    kr.hwcur[qs] = (kr.hwcur[qs] + np.bincount(local[taken], minlength=qs.size)) % n
    rx.posted[q[ok], rid[ok]] = True
    rx.post(qs, posted, rid[ok], nm.buf_addr(nm.rx_buf[q[ok], rid[ok]]), nm.buf_size)
    rx.stats.refil_partial[qs[posted < num]] += 1
    return RefillResult(posted, rc)


def rx_cleanup(nm: EnaNetmapRings, qs: np.ndarray) -> RefillResult:
    """ena_netmap_rx_cleanup: refill what :func:`refill_count` says (nothing when 0)."""
    qs = np.asarray(qs, dtype=np.int64)
    return refill(nm, qs, refill_count(nm, qs) % nm.rx.num_slots)


def initial_fill(nm: EnaNetmapRings, qs: np.ndarray) -> RefillResult:
    """``ena_up``'s ena_refill_all_rx_bufs in netmap mode, after netmap_reset set
    ``nr_hwcur = rhead`` and kept ``nr_hwtail``.

    As shipped: ``ring_size - 1`` buffers per ring from ``nr_hwcur`` on, rhead not
    consulted (``rx_ring->initialized`` is false until this fill is done), so the
    buffers of the slots the user still holds, ``[rhead, nr_hwtail)``, are posted
    (ENA-BUF-NM-USER of :mod:`model.ena_reset_buffers`).  Hardened: the fill starts at
    ``nr_hwtail``, the first slot the user does not hold, and posts the released slots
    up to the gap before ``rhead`` -- ``ring_size - 1 - held`` buffers, the model's
    ``*_hardened`` restore -- leaving ``nr_hwcur`` at the gap as the as-shipped fill of
    a ring the user holds nothing of does."""
    qs = np.asarray(qs, dtype=np.int64)
    num = np.full(qs.size, nm.drv.rx.cfg.depth - 1)
    if nm.hardened:
        nm.rx.hwcur[qs] = nm.rx.hwtail[qs]
        num = np.minimum(num, refill_count(nm, qs))
    nm.rx_initialized[qs] = False
    out = refill(nm, qs, num)
    nm.rx_initialized[qs] = True
    return out
