"""Every queue of a driver + device run read as states of the model's ENA machines
(through :mod:`impl.ena.abstract`), for the tests that judge a run after every step."""

from __future__ import annotations

from typing import Any

from impl.ena import abstract
from model import ena_queue, ena_reqid, ena_txq


def queue_states(drv: Any, dev: Any) -> list[tuple[Any, Any, Any]]:
    """``(queue, machine, state)`` for every queue: TX and RX SQ and CQ, TX request ids,
    RX request ids while no reset was triggered (see tests/stateful/test_ena_datapath.py:
    the as-shipped ena_rx_cleanup leaves next_to_clean behind on the reset paths), and in
    host placement the TX stop/resume machine (it counts descriptors)."""
    out = []
    for q in range(drv.cfg.num_queues):
        out += [(q, ena_queue.SQ, abstract.tx_sq_state(drv, dev, q)),
                (q, ena_queue.CQ, abstract.tx_cq_state(drv, dev, q)),
                (q, ena_queue.SQ, abstract.rx_sq_state(drv, dev, q)),
                (q, ena_queue.CQ, abstract.rx_cq_state(drv, dev, q)),
                (q, ena_reqid.TX, abstract.tx_reqid_state(drv, q))]
        if not drv.reset.triggered:
            out.append((q, ena_reqid.RX, abstract.rx_reqid_state(drv, q)))
        if not drv.cfg.llq:
            out.append((q, ena_txq.TXQ, abstract.tx_queue_state(drv, q)))
    return out


def violations(drv: Any, dev: Any) -> list[tuple[Any, str, list[str]]]:
    """``(queue, machine, broken invariant ids)`` for every state that breaks one."""
    return [(q, m.name, bad) for q, m, s in queue_states(drv, dev) if (bad := m.violated(s))]


#: the driver's free-running u16 counters and the phase that goes with each
COUNTERS = (("tx", "tail", "phase"), ("tx", "cq_head", "cq_phase"),
            ("rx", "tail", "phase"), ("rx", "cq_head", "cq_phase"))


class Crossings:
    """Which of the driver's u16 counters crossed 65535 -> 0 and which phases flipped,
    seen from one call of :meth:`update` to the next (a counter moves by less than 65536
    per step, so a smaller value means it wrapped)."""

    def __init__(self, drv: Any) -> None:
        self.wrapped: set[str] = set()
        self.flipped: set[str] = set()
        self._last = self._read(drv)

    @staticmethod
    def _read(drv: Any) -> dict[str, tuple[Any, Any]]:
        return {f"{side}.{c}": (getattr(getattr(drv, side), c).copy(),
                                getattr(getattr(drv, side), p).copy())
                for side, c, p in COUNTERS}

    def update(self, drv: Any) -> tuple[set[str], set[str]]:
        """Record this step's crossings; returns the counters that wrapped and flipped in
        it."""
        now = self._read(drv)
        wrapped = {k for k, (c, _) in now.items() if (c < self._last[k][0]).any()}
        flipped = {k for k, (_, p) in now.items() if (p != self._last[k][1]).any()}
        self.wrapped |= wrapped
        self.flipped |= flipped
        self._last = now
        return wrapped, flipped
