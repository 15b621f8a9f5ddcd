"""Test-only: start a driver's IO queues as if traffic had already passed through them.

A real driver starts every queue at zero (``ena_com_create_io_queue``: tail, head and
next_to_comp 0, phase 1; ``ena_setup_tx_resources`` / ``ena_setup_rx_resources``:
``free_*_ids[i] = i``, next_to_use = next_to_clean = 0).  A state a long run reaches --
counters just before the u16 wrap, a pass about to end, a free list in another order --
is reached here at creation instead: :class:`QueueStart` gives the counter every SQ and
CQ starts at (with the phase of that pass) and the free-id lists, and the device is
created with the same counter (``DeviceConfig.counter_base``), so both sides agree as they
would after ``counter`` entries.  The default is the C's start.

https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1461
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L639
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from impl.ena import ring


@dataclass(frozen=True)
class QueueStart:
    """Where every IO queue of the adapter starts (default: where the C starts)."""

    counter: int = 0
    """Every SQ (tail, next_to_comp) and CQ (head) counter, TX and RX; each phase is
    that of the counter's pass."""
    tx_free_ids: tuple[int, ...] | None = None
    """``free_tx_ids`` (a permutation of ``0..depth-1``); None: the identity."""
    tx_next: int = 0
    """TX next_to_use = next_to_clean (every id free)."""
    rx_free_ids: tuple[int, ...] | None = None
    """``free_rx_ids``; None: the identity."""
    rx_next: int = 0
    """RX next_to_use = next_to_clean."""

    def apply(self, tx: Any, rx: Any) -> None:
        """Set the counters and free lists of fresh :class:`~impl.ena.txq.TxQueues` and
        :class:`~impl.ena.rxq.RxQueues` (before any buffer is posted)."""
        every = slice(None)
        self._start(tx, self.tx_free_ids, self.tx_next, every)
        self._start(rx, self.rx_free_ids, self.rx_next, every)

    def apply_rx(self, rx: Any, qs: np.ndarray) -> None:
        """The same start for the RX queues ``qs`` alone, created again on a running
        adapter (:meth:`impl.ena.driver.EnaDriver.create_rx_queue`)."""
        self._start(rx, self.rx_free_ids, self.rx_next, np.asarray(qs, dtype=np.int64))

    def _start(self, q: Any, ids: tuple[int, ...] | None, nxt: int,
               qs: slice | np.ndarray) -> None:
        d = q.cfg.depth
        if ids is not None:
            if sorted(ids) != list(range(d)):
                raise ValueError("free ids must be a permutation of 0..depth-1")
            q.free_ids[qs] = np.asarray(ids, dtype=np.int64)[None, :]
        else:
            q.free_ids[qs] = np.arange(d, dtype=np.int64)[None, :]
        if not 0 <= nxt < d:
            raise ValueError("next_to_use must be a slot of the ring")
        q.next_to_use[qs] = q.next_to_clean[qs] = nxt
        # the counter and phase after `counter` increments from the C's start
        c, ph = ring.advance(np.zeros(1, np.int64), np.ones(1, np.int64),
                             ring.u16(self.counter), d)
        q.tail[qs] = q.next_to_comp[qs] = q.cq_head[qs] = int(c[0])
        q.phase[qs] = q.cq_phase[qs] = int(ph[0])
