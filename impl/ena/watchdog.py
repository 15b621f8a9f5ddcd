"""The timer service's datapath checks, vectorized over the queues they scan.

* ``check_for_missing_completions``: from ``next_monitored_tx_qid``, up to
  ``missing_tx_max_queues`` queue pairs; per pair ``check_missing_comp_in_tx_queue`` then
  ``check_for_rx_interrupt_queue``; the first pair that asks for a reset ends the scan
  (and the start index is then left where it was);
* ``check_missing_comp_in_tx_queue``: an in-flight id older than twice the timeout on a
  queue that never had an interrupt -> MISS_INTERRUPT; ids older than the timeout are
  counted (each logged once, ``print_once``); more than ``missing_tx_threshold`` ->
  TRIGGER_RESET and, **assigned directly**, MISS_TX_CMPL or -- when the CQ holds a
  completion the cleanup never took and no cleanup is pending -- MISS_INTERRUPT;
* ``check_for_rx_interrupt_queue``: no interrupt yet but the RX CQ is not empty, for the
  third time -> MISS_INTERRUPT;
* ``check_for_empty_rx_ring``: nothing posted for two ticks in a row -> run the cleanup
  task (which refills).

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3343
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3247
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3198
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L3398

One simplification, invisible to the reset decision: ``check_cdesc_in_tx_cq`` in the C
*consumes* the completion it finds (``ena_com_tx_comp_req_id_get`` advances the CQ head;
a reset follows, so nothing reads the queue again) -- here it only looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impl.ena.rxq import RxQueues
from impl.ena.txq import TxQueues
from impl.ena_defs.constants import EMPTY_RX_REFILL, MAX_NO_INTERRUPT_ITERATIONS
from impl.ena_defs.layouts import RxCdesc, TxCdesc
from impl.ena_defs.regs import ResetReason

SBT_1S = 1 << 32
SBT_1MS = SBT_1S // 1000
"""FreeBSD's ``SBT_1MS`` (``SBT_1S / 1000``, truncated)."""
NS_PER_S = 1_000_000_000


def ns_to_sbt(ns: np.ndarray | int) -> np.ndarray:
    """``sbintime_t`` (32.32 fixed-point seconds) of a simulated time in ns, without
    overflowing int64."""
    t = np.asarray(ns, dtype=np.int64)
    return ((t // NS_PER_S) << 32) + (((t % NS_PER_S) << 32) // NS_PER_S)


def tx_cq_nonempty(tx: TxQueues, qs: np.ndarray) -> np.ndarray:
    """A completion waits at the head of each TX CQ of ``qs`` (``!ena_com_cq_empty``)."""
    assert tx.cq is not None
    flags = tx.cq[qs, tx.cq_head[qs] & (tx.cfg.depth - 1)]["flags"]
    return np.asarray(TxCdesc.PHASE.get(flags) == tx.cq_phase[qs])


def rx_cq_nonempty(rx: RxQueues, qs: np.ndarray) -> np.ndarray:
    assert rx.cq is not None
    status = rx.cq[qs, rx.cq_head[qs] & (rx.cfg.depth - 1)]["status"].astype(np.int64)
    return np.asarray(RxCdesc.PHASE.get(status) == rx.cq_phase[qs])


@dataclass
class QueueWatch:
    """Per queue pair: ``first_interrupt`` (TX and RX set together by ``ena_cleanup``),
    ``no_interrupt_event_cnt``, ``empty_rx_queue`` and the counters the checks keep."""

    first_interrupt: np.ndarray
    no_interrupt_event_cnt: np.ndarray
    empty_rx_queue: np.ndarray
    missing_tx_comp: np.ndarray
    empty_rx_ring: np.ndarray

    @staticmethod
    def new(n: int) -> QueueWatch:
        def z() -> np.ndarray:
            return np.zeros(n, dtype=np.int64)
        return QueueWatch(np.zeros(n, dtype=bool), z(), z(), z(), z())


@dataclass(frozen=True)
class ScanResult:
    reason: int
    """0, or the reset reason of the pair that stopped the scan."""
    direct: bool
    """The reason was assigned directly to ``reset_reason`` (the threshold path)."""
    next_qid: int | None
    """The new ``next_monitored_tx_qid`` (None: the scan stopped, it stays)."""


def scan_missing_completions(tx: TxQueues, rx: RxQueues, watch: QueueWatch, start: int,
                             budget: int, now_ns: int, timeout_sbt: int, threshold: int,
                             cleanup_pending: np.ndarray) -> ScanResult:
    """The loop of ``check_for_missing_completions`` over the pairs ``start ..
    start + budget - 1`` (clipped at the last queue), vectorized: every pair's verdict is
    computed, the first that stops the scan wins, and only the pairs up to it take their
    side effects (``print_once``, counters)."""
    nq = tx.cfg.nqueues
    qs = np.arange(start, min(nq, start + max(budget, 0)), dtype=np.int64)
    if budget <= 0:
        qs = np.arange(start, nq, dtype=np.int64)  # budget-- from 0 never reaches 0
    age = ns_to_sbt(now_ns) - ns_to_sbt(tx.sent_ns[qs])
    live = tx.inflight[qs]
    very_late = live & (age > 2 * timeout_sbt)
    tx_mi = ~watch.first_interrupt[qs] & very_late.any(axis=1)
    late = live & (age > timeout_sbt)
    # on a MISS_INTERRUPT queue the C returns at the first such id: the ids before it were
    # already looked at (print_once cleared), but its count is never added
    before_mi = np.arange(late.shape[1])[None, :] < np.argmax(very_late, axis=1)[:, None]
    missed = late.sum(axis=1)
    tx_thr = ~tx_mi & (missed > threshold)
    rx_hit = ~watch.first_interrupt[qs] & rx_cq_nonempty(rx, qs)
    rx_mi = ~tx_mi & ~tx_thr & rx_hit & (
        watch.no_interrupt_event_cnt[qs] + 1 == MAX_NO_INTERRUPT_ITERATIONS)
    stop = tx_mi | tx_thr | rx_mi
    last = int(np.argmax(stop)) if stop.any() else qs.size - 1
    upto = np.arange(qs.size) <= last
    # TX side effects on every scanned pair up to the stop that did not hit MISS_INTERRUPT
    counted = upto & ~tx_mi
    new = late & tx.print_once[qs] & counted[:, None]
    watch.missing_tx_comp[qs] += new.sum(axis=1)
    looked = counted[:, None] | ((upto & tx_mi)[:, None] & before_mi)
    tx.print_once[qs] &= ~(late & looked)
    # RX side: pairs whose TX check passed
    rx_seen = upto & ~tx_mi & ~tx_thr & rx_hit
    watch.no_interrupt_event_cnt[qs[rx_seen]] += 1
    if not stop.any():
        return ScanResult(0, False, int(start + qs.size) % nq)
    q = int(qs[last])
    if tx_mi[last]:
        return ScanResult(ResetReason.MISS_INTERRUPT, False, None)
    if rx_mi[last]:
        return ScanResult(ResetReason.MISS_INTERRUPT, False, None)
    found = bool(tx_cq_nonempty(tx, np.array([q]))[0])
    reason = ResetReason.MISS_INTERRUPT if found and not cleanup_pending[q] \
        else ResetReason.MISS_TX_CMPL
    return ScanResult(reason, True, None)


def empty_rx_rings(rx: RxQueues, watch: QueueWatch) -> np.ndarray:
    """``check_for_empty_rx_ring``: the queues whose cleanup task must run to refill."""
    empty = rx.free() == rx.cfg.depth - 1
    watch.empty_rx_queue[:] = np.where(empty, watch.empty_rx_queue + 1, 0)
    fire = np.flatnonzero(watch.empty_rx_queue >= EMPTY_RX_REFILL)
    watch.empty_rx_ring[fire] += 1
    watch.empty_rx_queue[fire] = 0
    return fire
