"""The ENA driver and device, read as states of the ENA model (model/ena_*.py).

This is the one bridge between the implementation and the model's ENA machines: after any
step of a driver + device run, each function below builds the model state of one queue
from the arrays the driver keeps (and, for the SQ, the two registers the device keeps), so
the model's invariants can judge the implementation (``machine.violated(state)``).

Ghost fields have no counterpart in the C and are built as witnesses: the req_id machine's
permutation ``who``/``pos`` puts the free ids on the free window and the ids in flight,
in increasing order, on the other positions; ``used`` counts the ids in flight.  If the
driver's arrays are not a permutation (an id free twice, an id lost), no witness makes
ENA-REQID-IDS / ENA-REQID-POSITIONS hold, and the state says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impl.device.tx import expected_phase
from impl.ena_defs.layouts import RxCdesc, TxCdesc
from model.ena_queue import EnaCq, EnaSq
from model.ena_reqid import ReqIds
from model.ena_txq import EnaTxQueue

__all__ = ["rx_cq_state", "rx_reqid_state", "rx_sq_state", "tx_cq_state", "tx_queue_state",
           "tx_reqid_state", "tx_sq_state"]

U16 = 0xFFFF


def _log2(depth: int) -> int:
    return int(depth).bit_length() - 1


def tx_sq_state(driver: Any, device: Any, q: int) -> EnaSq:
    """TX queue ``q``'s SQ: the driver's tail / next_to_comp / phase, the device's
    doorbell value (``sq_tail``) and read pointer (``sq_head``), found by the doorbell
    offset the queue was created with."""
    qt = device.queues
    sq = int((driver.tx.db_off[q] - qt.doorbell_offset(0)) // 4)
    return EnaSq(depth_log2=_log2(driver.tx.cfg.depth), tail=int(driver.tx.tail[q]),
                 next_to_comp=int(driver.tx.next_to_comp[q]), phase=int(driver.tx.phase[q]),
                 db_tail=int(qt.sq_tail[sq]) & U16, dev_head=int(qt.sq_head[sq]) & U16)


def _sq_index(device: Any, db_off: int) -> int:
    """The device's SQ index behind the doorbell offset the queue was created with."""
    return int((db_off - device.queues.doorbell_offset(0)) // 4)


def rx_sq_state(driver: Any, device: Any, q: int) -> EnaSq:
    """RX queue ``q``'s SQ: the driver posts buffers (tail, phase), ena_rx_cleanup returns
    their entries (next_to_comp); the device's doorbell value and read pointer."""
    qt, rx = device.queues, driver.rx
    sq = _sq_index(device, int(rx.db_off[q]))
    return EnaSq(depth_log2=_log2(rx.cfg.depth), tail=int(rx.tail[q]),
                 next_to_comp=int(rx.next_to_comp[q]), phase=int(rx.phase[q]),
                 db_tail=int(qt.sq_tail[sq]) & U16, dev_head=int(qt.sq_head[sq]) & U16)


def _cq(depth: int, head: int, phase: int, mem_phase: np.ndarray, dev_tail: int) -> EnaCq:
    """A CQ state from the driver's head and phase, the phase bits in CQ memory and the
    device's completion counter (its phase is the one it writes on that pass).

    Ghosts, as witnesses: each slot's ``mem_seq`` is the completion of the current pass
    that wrote it if the device has written one there, else the one of the pass before;
    ``last_seq`` = head - 1 and ``dropped`` = 0 (nothing in the driver takes a completion
    without handing it on).  ENA-CQ-SLOTS then judges the phase bits in memory."""
    head, dev_tail = head & U16, dev_tail & U16
    out = (dev_tail - head) & U16
    off = (np.arange(depth) - head) & (depth - 1)  # slot i is head + off[i]
    c = (head + off) & U16
    seq = np.where(off < out, c, (c - depth) & U16)
    return EnaCq(depth_log2=_log2(depth), head=head, phase=int(phase), dev_tail=dev_tail,
                 dev_phase=int(expected_phase(dev_tail, depth)),
                 mem_phase=tuple(int(x) for x in mem_phase), mem_seq=tuple(int(x) for x in seq),
                 last_seq=(head - 1) & U16, dropped=0)


def tx_cq_state(driver: Any, device: Any, q: int) -> EnaCq:
    """TX queue ``q``'s CQ: the driver's cq head / phase, the phase bit of every cdesc in
    CQ memory, and the device's completion counter for the CQ bound to the queue's SQ."""
    qt, tx = device.queues, driver.tx
    cq = int(qt.sq_cq[_sq_index(device, int(tx.db_off[q]))])
    return _cq(tx.cfg.depth, int(tx.cq_head[q]), int(tx.cq_phase[q]),
               TxCdesc.PHASE.get(tx.cq[q]["flags"]), int(qt.cq_tail[cq]))


def rx_cq_state(driver: Any, device: Any, q: int) -> EnaCq:
    """RX queue ``q``'s CQ (one completion per buffer), as :func:`tx_cq_state`."""
    qt, rx = device.queues, driver.rx
    cq = int(qt.sq_cq[_sq_index(device, int(rx.db_off[q]))])
    return _cq(rx.cfg.depth, int(rx.cq_head[q]), int(rx.cq_phase[q]),
               RxCdesc.PHASE.get(rx.cq[q]["status"]), int(qt.cq_tail[cq]))


def _reqids(depth: int, ids: np.ndarray, ntu: int, ntc: int, in_flight: np.ndarray,
            reason: int) -> ReqIds:
    used = int(in_flight.sum())
    positions = (ntu + np.arange(depth)) % depth  # the free window first, from next_to_use
    free = depth - used
    who = np.empty(depth, dtype=np.int64)
    who[positions[:free]] = ids[positions[:free]]
    who[positions[free:]] = np.flatnonzero(in_flight)[: depth - free]
    pos = np.full(depth, depth, dtype=np.int64)  # depth: "no position" (fails the range)
    pos[np.clip(who, 0, depth - 1)] = np.arange(depth)
    return ReqIds(depth_log2=_log2(depth), ids=tuple(int(x) for x in ids), next_to_use=ntu,
                  next_to_clean=ntc, in_flight=tuple(int(x) for x in in_flight), used=used,
                  who=tuple(int(x) for x in who), pos=tuple(int(x) for x in pos),
                  reason=int(reason), oob=0)


def tx_reqid_state(driver: Any, q: int) -> ReqIds:
    """TX queue ``q``'s request ids: ``free_tx_ids``, next_to_use / next_to_clean, the ids
    whose ``tx_buffer_info`` holds a packet, and the adapter's reset reason."""
    tx = driver.tx
    return _reqids(tx.cfg.depth, tx.free_ids[q], int(tx.next_to_use[q]),
                   int(tx.next_to_clean[q]), tx.inflight[q], int(driver.reset.reason))


def rx_reqid_state(driver: Any, q: int) -> ReqIds:
    """RX queue ``q``'s request ids: ``free_rx_ids`` and the ids with a posted buffer."""
    rx = driver.rx
    return _reqids(rx.cfg.depth, rx.free_ids[q], int(rx.next_to_use[q]),
                   int(rx.next_to_clean[q]), rx.posted[q], int(driver.reset.reason))


def tx_queue_state(driver: Any, q: int) -> EnaTxQueue:
    """TX queue ``q``'s stop/resume state (host placement: SQ entries are descriptors)."""
    tx = driver.tx
    used = (int(tx.tail[q]) - int(tx.next_to_comp[q])) & U16
    return EnaTxQueue(depth_log2=_log2(tx.cfg.depth), max_sgl=int(tx.cfg.max_tx_sgl_size),
                      used=used, running=int(bool(tx.running[q])))
