"""TX completion handling: ``ena_tx_cleanup`` on many queues at once.

Per queue, up to ``ENA_TX_BUDGET`` = 128 completions are taken from the CQ head. Each one
is checked in the order the C checks it (``ena_com_tx_comp_req_id_get`` then
``ena_get_tx_req_id``):

1. phase != expected -> nothing new (``TRY_AGAIN``), stop quietly;
2. MBZ bits 7:6 set and the device has ``CDESC_MBZ`` -> ``ENA_COM_FAULT``: reset
   ``TX_DESCRIPTOR_MALFORMED`` (17); the head does not move;
3. ``req_id >= depth`` -> ``ENA_COM_INVAL``: ``bad_req_id++``, reset ``INV_TX_REQ_ID`` (5);
   the head does not move;
4. the head moves; ``tx_buffer_info[req_id].mbuf == NULL`` (never sent, or completed
   already: a duplicate or stale id) -> reset ``INV_TX_REQ_ID`` (5).

The loop stops at the first failure; the reset keeps the first reason. As shipped, step 4's
test also runs after a failed step 2 or 3 (at the stale, uninitialised or out-of-range
index); that read has no effect on state because the reason is already recorded, and is
counted in ``tx_info_oob_reads``; the hardened policy skips it.
Each completed packet returns its id to ``free_tx_ids[next_to_clean]`` and its
``tx_descs`` to the SQ (``ena_com_comp_ack``). The C publishes ``next_to_clean`` and
``next_to_comp`` every ``ENA_TX_COMMIT`` = 32 packets and once at the end; nothing reads
them in between within one call, so one update per call leaves the same state. At the end
a stopped queue with room for ``ENA_TX_RESUME_THRESH`` = 21 resumes (``queue_wakeup``).

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L245
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L211
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L232
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L573
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from impl import vec
from impl.ena import ring
from impl.ena.ragged import first_occurrence
from impl.ena.txq import TxQueues, _rows
from impl.ena_defs.constants import TX_BUDGET, TX_RESUME_THRESH
from impl.ena_defs.layouts import TxCdesc
from impl.ena_defs.regs import ResetReason

# what ended a queue's cleanup loop
EMPTY, MALFORMED, OUT_OF_RANGE, NOT_IN_FLIGHT, BUDGET = range(5)


class TxCleanResult(NamedTuple):
    completed: np.ndarray
    """Ids of the packets completed, queue by queue in completion order."""
    reasons: np.ndarray
    """Per queue given: the reset reason this queue triggered (0 = none)."""
    again: np.ndarray
    """Per queue given: the budget ran out (``ena_tx_cleanup`` returns true)."""


def tx_cleanup(tx: TxQueues, queues: np.ndarray, cdesc_mbz: bool,
               hardened: bool) -> TxCleanResult:
    """One ``ena_tx_cleanup`` call on each queue of ``queues`` (ascending, distinct)."""
    cfg = tx.cfg
    depth, mask = cfg.depth, cfg.depth - 1
    qs = np.asarray(queues, dtype=np.int64)
    assert tx.cq is not None
    if not (TxCdesc.PHASE.get(tx.cq[qs, tx.cq_head[qs] & mask]["flags"])
            == tx.cq_phase[qs]).any():
        return _nothing_new(tx, qs)
    k = np.arange(TX_BUDGET, dtype=np.int64)[None, :]
    head, ph = tx.cq_head[qs][:, None], tx.cq_phase[qs][:, None]
    cd = tx.cq[qs[:, None], (head + k) & mask]
    flags = cd["flags"]
    rid = cd["req_id"].astype(np.int64)
    valid = TxCdesc.PHASE.get(flags) == ring.phases_at(head, ph, k, depth)
    mbz = TxCdesc.MBZ6.is_set(flags) if cdesc_mbz else np.zeros(flags.shape, dtype=bool)
    oor = rid >= depth
    rid_c = np.where(oor, 0, rid)
    rows = np.repeat(np.arange(qs.size), TX_BUDGET)  # each entry's row, row by row
    first = first_occurrence(rows, rid_c.ravel(), depth).reshape(rid.shape)
    missing = ~tx.inflight[qs[:, None], rid_c] | ~first
    stop = ~valid | mbz | oor | missing
    done = np.where(stop.any(axis=1), np.argmax(stop, axis=1), TX_BUDGET)
    # why the loop ended: the first failing check of the entry it stopped at
    r, c = np.arange(qs.size), np.minimum(done, TX_BUDGET - 1)
    why = vec.select([done >= TX_BUDGET, ~valid[r, c], mbz[r, c], oor[r, c], missing[r, c]],
                     [BUDGET, EMPTY, MALFORMED, OUT_OF_RANGE, NOT_IN_FLIGHT], BUDGET)
    reasons = vec.select([why == MALFORMED, (why == OUT_OF_RANGE) | (why == NOT_IN_FLIGHT)],
                         [int(ResetReason.TX_DESCRIPTOR_MALFORMED),
                          int(ResetReason.INV_TX_REQ_ID)], 0)
    st = tx.stats
    st.bad_req_id[qs] += why == OUT_OF_RANGE
    if not hardened:
        st.tx_info_oob_reads[qs] += (why == OUT_OF_RANGE) | (why == MALFORMED)

    # completions: the first done[i] entries of row i
    ok = k < done[:, None]
    row, ck = np.nonzero(ok)  # row by row, as ok's true entries are
    cq = qs[row]
    crid = rid_c[ok]
    per_id = cq * depth + crid  # flat index into the (queue, req_id) arrays
    completed = _rows(tx.pkt_id)[per_id]
    _rows(tx.inflight)[per_id] = False
    _rows(tx.pkt_id)[per_id] = -1
    _rows(tx.free_ids)[cq * depth + ((tx.next_to_clean[cq] + ck) & mask)] = crid
    acked = np.bincount(np.searchsorted(qs, cq), weights=_rows(tx.tx_descs)[per_id],
                        minlength=qs.size).astype(np.int64)
    tx.next_to_clean[qs] = (tx.next_to_clean[qs] + done) & mask
    tx.next_to_comp[qs] = ring.u16(tx.next_to_comp[qs] + acked)
    moved = done + (why == NOT_IN_FLIGHT)
    tx.cq_head[qs], tx.cq_phase[qs] = ring.advance(tx.cq_head[qs], tx.cq_phase[qs], moved,
                                                   depth)
    _resume(tx, qs)
    return TxCleanResult(completed, reasons, done == TX_BUDGET)


def _nothing_new(tx: TxQueues, qs: np.ndarray) -> TxCleanResult:
    """No queue has a completion at its CQ head (its phase is not the expected one): each
    loop ends at once (``TRY_AGAIN``) with nothing taken, no reason and no count; only the
    resume check after it runs."""
    _resume(tx, qs)
    empty = np.zeros(0, dtype=np.int64)
    return TxCleanResult(empty, np.zeros(qs.size, dtype=np.int64),
                         np.zeros(qs.size, dtype=bool))


def _resume(tx: TxQueues, qs: np.ndarray) -> None:
    """The end of ``ena_tx_cleanup``: a stopped queue with room for
    ``ENA_TX_RESUME_THRESH`` entries resumes (``queue_wakeup``)."""
    wake = ~tx.running[qs] & tx.enough(tx.free(qs), TX_RESUME_THRESH)
    if wake.any():
        tx.running[qs[wake]] = True
        tx.stats.queue_wakeup[qs[wake]] += 1
