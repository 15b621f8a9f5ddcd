"""TX completions: which packets complete, in what order, and the 8-byte cdescs written.

A completion carries the req_id of a packet that asked for one (COMP_REQ). The device
completes the packets of each queue in order, or out of order within a window of ``w``
consecutive packets (each run of ``w`` is permuted by the seeded generator; ``w = 1`` is in
order). Fault knobs (:mod:`impl.device.faults`) then corrupt or drop single completions.

A cdesc is written at CQ counter ``cq_tail`` (slot ``cq_tail & (depth-1)``) with phase
``1 - (cq_tail // depth) & 1``; ena_com reads it in ``ena_com_tx_comp_req_id_get``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L232
"""

from __future__ import annotations

import numpy as np

from impl.device.faults import DeviceStats, Faults, draw
from impl.device.queues import QueueTable
from impl.device.tx import expected_phase
from impl.ena_defs.layouts import TX_CDESC_DTYPE, TxCdesc


def window_order(sq: np.ndarray, seq: np.ndarray, window: int,
                 rng: np.random.Generator) -> np.ndarray:
    """A permutation of the pending completions: by queue, then by run of ``window``
    consecutive packets, randomly inside a run."""
    if window <= 1 or sq.size == 0:
        return np.lexsort((seq, sq))
    shuffle = rng.random(sq.size)
    run = seq // window
    # np.lexsort((shuffle, run, sq)) in two cheaper steps: a stable sort by (queue, run)
    # on one integer key, then each group (at most ``window`` packets when the sequence
    # numbers are distinct) sorted by its random keys as a row of a padded matrix, ties
    # kept in the first order as lexsort keeps them
    lo, span = int(run.min()), int(run.max()) - int(run.min()) + 1
    if int(sq.min()) < 0 or int(sq.max()) >= (1 << 62) // span:
        return np.lexsort((shuffle, run, sq))
    by_group = np.argsort(sq.astype(np.int64) * span + (run - lo), kind="stable")
    key = sq[by_group].astype(np.int64) * span + (run[by_group] - lo)
    new = np.empty(key.size, dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, key.size))
    width = int(sizes.max())
    if starts.size * width > 4 * key.size:  # groups of very unequal size
        return np.lexsort((shuffle, run, sq))
    if starts.size * width == key.size:  # every group full: the rows need no padding
        rank = np.argsort(shuffle[by_group].reshape(starts.size, width), axis=1,
                          kind="stable")
        return by_group[(starts[:, None] + rank).reshape(-1)]
    flat = np.arange(key.size) + np.repeat(np.arange(starts.size) * width - starts, sizes)
    keys = np.full(starts.size * width, np.inf)
    keys[flat] = shuffle[by_group]
    rank = np.argsort(keys.reshape(starts.size, width), axis=1, kind="stable")  # inf last
    return by_group[(starts[:, None] + rank)[rank < sizes[:, None]]]


def corrupt(sq: np.ndarray, req_id: np.ndarray, depth: np.ndarray, inflight: np.ndarray,
            last_req: np.ndarray, faults: Faults, rng: np.random.Generator,
            stats: DeviceStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply the TX completion knobs to completions in write order. Returns the req_ids
    to write, a keep mask (False: lost) and an MBZ mask."""
    n = sq.size
    out = req_id.copy()
    lost = draw(rng, faults.tx_comp_lost, n)
    oob = draw(rng, faults.tx_req_id_oob, n) & ~lost
    dup = draw(rng, faults.tx_req_id_dup, n) & ~lost & ~oob
    stale = draw(rng, faults.tx_req_id_stale, n) & ~lost & ~oob & ~dup
    mbz = draw(rng, faults.cdesc_mbz, n) & ~lost
    if oob.any():
        d = depth[oob]
        out[oob] = d + (rng.random(d.size) * (65536 - d)).astype(np.int64)
    if dup.any():
        # the previous completion written on the same queue (or the last one before)
        new_q = np.concatenate([[True], sq[1:] != sq[:-1]])
        prev = np.concatenate([[0], req_id[:-1]])
        prev = np.where(new_q, last_req[sq], prev)
        ok = prev >= 0
        out[dup & ok] = prev[dup & ok]
        dup &= ok
    if stale.any():
        rows = np.flatnonzero(stale)
        d = depth[rows]
        busy = inflight[sq[rows]].copy()  # ids in flight (the packet's own id among them)
        busy &= np.arange(busy.shape[1])[None, :] < d[:, None]
        free = ~busy & (np.arange(busy.shape[1])[None, :] < d[:, None])
        nfree = free.sum(axis=1)
        has = nfree > 0
        k = (rng.random(rows.size) * np.maximum(nfree, 1)).astype(np.int64)
        pick = np.argmax(np.cumsum(free, axis=1) > k[:, None], axis=1)
        out[rows[has]] = pick[has]
        stale[rows[~has]] = False
    stats.add("tx_comp_lost", lost.sum())
    stats.add("tx_req_id_oob", oob.sum())
    stats.add("tx_req_id_dup", dup.sum())
    stats.add("tx_req_id_stale", stale.sum())
    stats.add("tx_cdesc_mbz", mbz.sum())
    return out, ~lost, mbz


def write_cdescs(qt: QueueTable, cq: np.ndarray, req_id: np.ndarray, mbz: np.ndarray,
                 sq_head: np.ndarray) -> None:
    """Write TX cdescs in order (grouped by CQ is not required) and advance ``cq_tail``."""
    n = cq.size
    if n == 0:
        return
    order = np.argsort(cq, kind="stable")
    cq_s = cq[order]
    new = np.concatenate([[True], cq_s[1:] != cq_s[:-1]])
    rank = np.arange(n) - np.repeat(np.flatnonzero(new), np.diff(np.append(np.flatnonzero(new), n)))
    ctr = qt.cq_tail[cq_s] + rank
    depth = qt.cq_depth[cq_s]
    rec = np.zeros(n, TX_CDESC_DTYPE)
    rec["req_id"] = req_id[order].astype(np.uint16)
    flags = TxCdesc.PHASE.put(expected_phase(ctr, depth))
    flags |= np.where(mbz[order], np.uint64(TxCdesc.MBZ6.mask), np.uint64(0))
    rec["flags"] = flags.astype(np.uint8)
    rec["sq_head_idx"] = (sq_head[order] & 0xFFFF).astype(np.uint16)
    addr = qt.cq_ba[cq_s] + (ctr & (depth - 1)) * TX_CDESC_DTYPE.itemsize
    qt.bus.mem.write_records(addr, rec)
    np.add.at(qt.cq_tail, cq_s, 1)
