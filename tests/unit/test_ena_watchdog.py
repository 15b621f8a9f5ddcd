"""``check_for_missing_completions`` vectorized over the scanned queues, against a
slot-at-a-time port of the C loop (ena.c: check_for_missing_completions,
check_missing_comp_in_tx_queue, check_for_rx_interrupt_queue, check_cdesc_in_tx_cq)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.ena.watchdog import (
    QueueWatch,
    empty_rx_rings,
    ns_to_sbt,
    scan_missing_completions,
)
from impl.ena_defs.layouts import RX_CDESC_DTYPE, TX_CDESC_DTYPE
from impl.ena_defs.regs import ResetReason

SECOND = 1_000_000_000


def c_loop(tx, rx_nonempty, tx_nonempty, watch, start, budget, now, timeout, threshold,
           pending):  # type: ignore[no-untyped-def]
    """The C, one queue and one tx_info at a time: ``(reason, direct, next_qid)``."""
    nq, depth = tx.cfg.nqueues, tx.cfg.depth
    i = start
    while i < nq:
        q = i
        missed = new = 0
        for k in range(depth):
            if not tx.inflight[q, k]:
                continue
            age = int(ns_to_sbt(now)) - int(ns_to_sbt(int(tx.sent_ns[q, k])))
            if not watch.first_interrupt[q] and age > 2 * timeout:
                return ResetReason.MISS_INTERRUPT, False, None
            if age > timeout:
                if tx.print_once[q, k]:
                    new += 1
                tx.print_once[q, k] = False
                missed += 1
        stop = None
        if missed > threshold:
            reason = ResetReason.MISS_TX_CMPL
            if not pending[q]:
                reason = ResetReason.MISS_INTERRUPT if tx_nonempty[q] else ResetReason.MISS_TX_CMPL
            stop = (reason, True, None)
        watch.missing_tx_comp[q] += new
        if stop:
            return stop
        if not watch.first_interrupt[q] and rx_nonempty[q]:
            watch.no_interrupt_event_cnt[q] += 1
            if watch.no_interrupt_event_cnt[q] == 3:
                return ResetReason.MISS_INTERRUPT, False, None
        budget -= 1
        if budget == 0:
            i += 1
            break
        i += 1
    return 0, False, i % nq


@st.composite
def states(draw):  # type: ignore[no-untyped-def]
    nq = draw(st.integers(1, 4))
    depth = draw(st.sampled_from([4, 8, 16]))
    now = 20 * SECOND
    shape = (nq, depth)
    inflight = np.array(draw(st.lists(st.booleans(), min_size=nq * depth,
                                      max_size=nq * depth))).reshape(shape)
    sent = np.array(draw(st.lists(st.integers(now - 12 * SECOND, now), min_size=nq * depth,
                                  max_size=nq * depth)), dtype=np.int64).reshape(shape)
    once = np.array(draw(st.lists(st.booleans(), min_size=nq * depth,
                                  max_size=nq * depth))).reshape(shape)

    def qbools() -> np.ndarray:
        return np.array(draw(st.lists(st.booleans(), min_size=nq, max_size=nq)))
    return dict(
        nq=nq, depth=depth, now=now, inflight=inflight, sent=sent, once=once,
        first=qbools(), cnt=np.array(draw(st.lists(st.integers(0, 2), min_size=nq,
                                                   max_size=nq)), dtype=np.int64),
        rx_ne=qbools(), tx_ne=qbools(), pending=qbools(),
        start=draw(st.integers(0, nq - 1)), budget=draw(st.integers(-1, 5)),
        timeout=draw(st.sampled_from([1, 3, 5])) * (1 << 32),
        threshold=draw(st.integers(0, depth)))


def _queues(s):  # type: ignore[no-untyped-def]
    nq, d = s["nq"], s["depth"]
    txcq = np.zeros((nq, d), TX_CDESC_DTYPE)
    txcq["flags"][:, 0] = s["tx_ne"].astype(np.uint8)  # phase 1 at the head = a completion
    rxcq = np.zeros((nq, d), RX_CDESC_DTYPE)
    rxcq["status"][:, 0] = s["rx_ne"].astype(np.uint32) << 24
    cfg = SimpleNamespace(nqueues=nq, depth=d)
    tx = SimpleNamespace(cfg=cfg, inflight=s["inflight"].copy(), sent_ns=s["sent"].copy(),
                         print_once=s["once"].copy(), cq=txcq, cq_head=np.zeros(nq, np.int64),
                         cq_phase=np.ones(nq, np.int64))
    rx = SimpleNamespace(cfg=cfg, cq=rxcq, cq_head=np.zeros(nq, np.int64),
                         cq_phase=np.ones(nq, np.int64))
    watch = QueueWatch.new(nq)
    watch.first_interrupt[:] = s["first"]
    watch.no_interrupt_event_cnt[:] = s["cnt"]
    return tx, rx, watch


@settings(max_examples=400, deadline=None)
@given(states())
def test_vectorized_scan_is_the_c_loop(s) -> None:  # type: ignore[no-untyped-def]
    tx, rx, watch = _queues(s)
    got = scan_missing_completions(tx, rx, watch, s["start"], s["budget"], s["now"],
                                   s["timeout"], s["threshold"], s["pending"])
    otx, _, owatch = _queues(s)
    want = c_loop(otx, s["rx_ne"], s["tx_ne"], owatch, s["start"], s["budget"], s["now"],
                  s["timeout"], s["threshold"], s["pending"])
    assert (int(got.reason), got.direct, got.next_qid) == (int(want[0]), want[1], want[2])
    np.testing.assert_array_equal(tx.print_once, otx.print_once)
    np.testing.assert_array_equal(watch.missing_tx_comp, owatch.missing_tx_comp)
    np.testing.assert_array_equal(watch.no_interrupt_event_cnt, owatch.no_interrupt_event_cnt)


def test_a_stuck_queue_past_the_threshold_is_reported_by_what_its_cq_holds() -> None:
    s = dict(nq=2, depth=8, now=20 * SECOND, inflight=np.ones((2, 8), bool),
             sent=np.zeros((2, 8), np.int64), once=np.ones((2, 8), bool),
             first=np.ones(2, bool), cnt=np.zeros(2, np.int64), rx_ne=np.zeros(2, bool),
             tx_ne=np.array([False, True]), pending=np.zeros(2, bool), start=0, budget=4,
             timeout=5 << 32, threshold=7)
    tx, rx, watch = _queues(s)
    r = scan_missing_completions(tx, rx, watch, 0, 4, s["now"], s["timeout"], 7,
                                 s["pending"])
    assert (r.reason, r.direct, r.next_qid) == (ResetReason.MISS_TX_CMPL, True, None)
    assert watch.missing_tx_comp.tolist() == [8, 0], "queue 1 was never reached"
    tx, rx, watch = _queues({**s, "inflight": np.array([[False] * 8, [True] * 8])})
    r = scan_missing_completions(tx, rx, watch, 0, 4, s["now"], s["timeout"], 7,
                                 s["pending"])
    assert r.reason == ResetReason.MISS_INTERRUPT, "a completion is waiting: the IRQ is lost"


def test_an_empty_rx_ring_is_refilled_on_the_second_tick() -> None:
    rx = SimpleNamespace(cfg=SimpleNamespace(depth=8),
                         free=lambda: np.array([7, 3, 7]))
    w = QueueWatch.new(3)
    assert empty_rx_rings(rx, w).tolist() == []  # type: ignore[arg-type]
    assert empty_rx_rings(rx, w).tolist() == [0, 2]  # type: ignore[arg-type]
    assert w.empty_rx_ring.tolist() == [1, 0, 1] and w.empty_rx_queue.tolist() == [0, 0, 0]


def _one_queue(**over):  # type: ignore[no-untyped-def]
    s = dict(nq=1, depth=4, now=20 * SECOND, inflight=np.zeros((1, 4), bool),
             sent=np.zeros((1, 4), np.int64), once=np.ones((1, 4), bool),
             first=np.zeros(1, bool), cnt=np.zeros(1, np.int64), rx_ne=np.zeros(1, bool),
             tx_ne=np.zeros(1, bool), pending=np.zeros(1, bool), start=0, budget=4,
             timeout=5 << 32, threshold=7)
    s.update(over)
    return s


def _scan(s):  # type: ignore[no-untyped-def]
    tx, rx, watch = _queues(s)
    r = scan_missing_completions(tx, rx, watch, s["start"], s["budget"], s["now"],
                                 s["timeout"], s["threshold"], s["pending"])
    return r, tx, watch


def test_rx_without_interrupts_resets_on_the_third_tick_not_before() -> None:
    s = _one_queue(rx_ne=np.ones(1, bool))
    for cnt, want in ((0, 0), (1, 0), (2, ResetReason.MISS_INTERRUPT)):
        r, _, w = _scan({**s, "cnt": np.array([cnt])})
        assert (int(r.reason), int(w.no_interrupt_event_cnt[0])) == (want, cnt + 1)


def test_ids_looked_at_before_a_miss_interrupt_lose_print_once() -> None:
    # id 0 is late (7 s), id 2 is very late (12 s > 2 x 5 s), no interrupt ever came
    s = _one_queue(inflight=np.array([[True, False, True, True]]),
                   sent=np.array([[13, 0, 8, 0]]) * SECOND)
    r, tx, w = _scan(s)
    assert r.reason == ResetReason.MISS_INTERRUPT
    assert tx.print_once[0].tolist() == [False, True, True, True]
    assert w.missing_tx_comp[0] == 0, "the C returns before adding the count"
