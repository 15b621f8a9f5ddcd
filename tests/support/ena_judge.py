"""Every queue of a driver + device run read as states of the model's ENA machines
(through :mod:`impl.ena.abstract`), for the tests that judge a run after every step."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from impl.ena import abstract
from impl.ena_defs.layouts import RxCdesc
from impl.packets import PacketBatch
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


class WireLog:
    """A link that records every frame it carries toward a device, then hands it on."""

    def __init__(self, link: Any) -> None:
        self.link = link
        self.frames: Counter[bytes] = Counter()
        self.count = 0

    def transmit(self, src: Any, frames: PacketBatch) -> None:
        self.frames.update(frames.frames())
        self.count += len(frames)
        self.link.transmit(src, frames)


def rx_frames_in_ring(drv: Any, dev: Any) -> int:
    """Frames the device wrote into an RX ring that the driver has not taken: completions
    with LAST between each RX CQ's head and the device's completion counter."""
    total = 0
    for q in range(drv.cfg.num_queues):
        cq = abstract.rx_cq_state(drv, dev, q)
        n = (cq.dev_tail - cq.head) & 0xFFFF
        slots = (cq.head + np.arange(n)) & (drv.rx.cfg.depth - 1)
        total += int(RxCdesc.LAST.is_set(drv.rx.cq[q]["status"][slots]).sum())
    return total


class RxLedger:
    """Where every frame the wire brought to the device is: waiting in the device's inbox,
    dropped by the device with a counted reason (``rx_no_queue``, ``rx_no_buffer``),
    written into an RX ring and not taken yet, delivered by the driver (exactly once, the
    bytes that were on the wire), or discarded by an ena_rx_cleanup call that stopped
    with a reset reason (at most one packet per such call: the one it failed on)."""

    def __init__(self, dev: Any) -> None:
        self.wire = WireLog(dev.link)
        dev.link = self.wire
        self.delivered: Counter[bytes] = Counter()
        self.failed_calls = 0

    def record(self, result: Any) -> None:
        """Note what one ``handle_interrupts`` / ``cleanup`` returned."""
        for r in result.rx:
            self.delivered.update(r.payload[o:o + n].tobytes() for o, n in
                                  zip(r.offsets.tolist(), r.lengths.tolist(), strict=True))
            self.failed_calls += int((r.reasons != 0).sum())

    def discarded(self, drv: Any, dev: Any) -> int:
        """Frames written into an RX ring that are neither delivered nor still there."""
        return (dev.stats.rx_pkts - self.delivered.total() - rx_frames_in_ring(drv, dev))

    def problems(self, drv: Any, dev: Any) -> list[str]:
        """Every way the ledger does not add up (empty: it does)."""
        st = dev.stats
        out = []
        if not self.delivered <= self.wire.frames:
            out.append("a frame delivered that was not on the wire, or delivered twice")
        inbox = sum(len(b) for b in dev.inbox)
        if self.wire.count != inbox + st.rx_no_queue + st.rx_no_buffer + st.rx_pkts:
            out.append(f"device: wire {self.wire.count} != inbox {inbox} + no_queue "
                       f"{st.rx_no_queue} + no_buffer {st.rx_no_buffer} + rx_pkts "
                       f"{st.rx_pkts}")
        discarded = self.discarded(drv, dev)
        if not 0 <= discarded <= self.failed_calls:
            out.append(f"driver: {discarded} frames neither delivered nor in the ring, "
                       f"{self.failed_calls} cleanup calls stopped with a reset reason")
        return out
