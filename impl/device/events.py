"""The device's own timeline: the events it sends without being asked.

Every simulated second (the period the ENA README gives for keep-alives) the device

* sends a KEEP_ALIVE AENQ event carrying its drop counters (``rx_drops`` = RX packets it
  had no buffer or queue for, ``tx_drops`` = TX packets it dropped), unless the
  ``keep_alive_missing`` knob fires for that second;
* with the ``device_reset_request`` knob, sends DEVICE_REQUEST_RESET;
* with the ``link_flap`` knob, sends LINK_CHANGE(down) and, one second later,
  LINK_CHANGE(up).

Events go through :meth:`impl.device.aenq.DeviceAenq.post`, which drops them while the
AENQ is not configured (before SET_FEATURE AENQ_CONFIG, and after a device reset until
the driver configures it again) -- so a device under reset sends nothing, as a real one.
The knobs are drawn from the management generator (:mod:`impl.device.mgmt_faults`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impl.device.aenq import DeviceAenq
from impl.device.clock import SimClock
from impl.device.mgmt_faults import MgmtFaults, MgmtStats, hit

SECOND_NS = 1_000_000_000


class DeviceEvents:
    """The one-second event source of one device."""

    def __init__(self, clock: SimClock, aenq: DeviceAenq, faults: Callable[[], MgmtFaults],
                 rng: np.random.Generator, stats: MgmtStats,
                 drops: Callable[[], tuple[int, int]], period_ns: int = SECOND_NS) -> None:
        self.clock = clock
        self.aenq = aenq
        self.faults = faults
        self.rng = rng
        self.stats = stats
        self.drops = drops
        """``(rx_drops, tx_drops)`` as the device counts them."""
        self.period_ns = period_ns
        self.link_up = True
        self._epoch = 0
        self.running = False

    def __repr__(self) -> str:
        return (f"DeviceEvents(running={self.running}, link_up={self.link_up}, "
                f"keep_alives={self.stats.keep_alives})")

    def start(self) -> None:
        """Start (or restart) the one-second timeline from now."""
        self._epoch += 1
        self.running = True
        epoch = self._epoch
        self.clock.call_after(self.period_ns, lambda: self._tick(epoch))

    def stop(self) -> None:
        self._epoch += 1
        self.running = False

    def _tick(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        f = self.faults()
        if hit(self.rng, f.keep_alive_missing):
            self.stats.add("keep_alive_missing")
        else:
            rx, tx = self.drops()
            if self.aenq.keep_alive(rx, tx):
                self.stats.add("keep_alives")
        if hit(self.rng, f.device_reset_request):
            self.stats.add("device_reset_request")
            self.aenq.request_reset()
        if self.link_up and hit(self.rng, f.link_flap):
            self.stats.add("link_flap")
            self.link_up = False
            self.aenq.link_change(False)
            self.clock.call_after(self.period_ns, lambda: self._link_back(epoch))
        self.clock.call_after(self.period_ns, lambda: self._tick(epoch))

    def _link_back(self, epoch: int) -> None:
        if epoch == self._epoch:
            self.link_up = True
            self.aenq.link_change(True)
