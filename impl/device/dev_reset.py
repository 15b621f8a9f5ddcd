"""The device side of the reset handshake through DEV_CTL and DEV_STS.

``ena_com_dev_reset`` writes DEV_CTL = DEV_RESET | reason bits, waits for
DEV_STS.RESET_IN_PROGRESS = 1, writes DEV_CTL = 0 and waits for RESET_IN_PROGRESS = 0:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2566

The device decodes the reason as ``RESET_REASON | RESET_REASON_EXT << 4`` (a device
without ``EXTENDED_RESET_REASONS`` would ignore the high nibble; ena_com then never sets
it). The reset's effect on the device (queues destroyed, admin queue and AENQ
disabled, readless address cleared) happens when the write arrives; RESET_IN_PROGRESS
rises ``reset_latency_ns`` later and falls ``reset_duration_ns`` after the release
write, when READY and RESET_FINISHED are set again. With the ``reset_unresponsive``
fault the device never leaves the reset.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impl.device.clock import SimClock
from impl.device.mgmt_faults import MgmtFaults, MgmtStats, hit
from impl.ena_defs.regs import RESET_REASON_MSB_SHIFT, DevCtl, DevSts


class DeviceReset:
    """DEV_CTL in, DEV_STS out."""

    def __init__(self, clock: SimClock, latency_ns: int, duration_ns: int,
                 faults: MgmtFaults, rng: np.random.Generator, stats: MgmtStats,
                 on_reset: Callable[[], None]) -> None:
        self.clock = clock
        self.latency_ns = latency_ns
        self.duration_ns = duration_ns
        self.faults = faults
        self.rng = rng
        self.stats = stats
        self.on_reset = on_reset
        self.ready = True
        self.in_progress = False
        self.finished = False
        self.dev_ctl = 0
        self.reasons: list[int] = []
        """The decoded reason of every reset requested, in order."""
        self._active = False
        """A reset was asserted and the device is not ready again yet."""
        self._stuck = False
        self._released = False
        self._epoch = 0

    def __repr__(self) -> str:
        return (f"DeviceReset(dev_sts={self.dev_sts:#x}, dev_ctl={self.dev_ctl:#x}, "
                f"resets={len(self.reasons)}, last_reason={self.reasons[-1:]})")

    @property
    def dev_sts(self) -> int:
        """The DEV_STS register value."""
        return (DevSts.READY.mask * self.ready
                | DevSts.RESET_IN_PROGRESS.mask * self.in_progress
                | DevSts.RESET_FINISHED.mask * self.finished)

    def write_ctl(self, value: int) -> None:
        """A DEV_CTL write: DEV_RESET set starts a reset, cleared releases it."""
        self.dev_ctl = value
        if DevCtl.DEV_RESET.is_set(value):
            if self._active:
                return  # already resetting: a repeated assert changes nothing
            reason = int(DevCtl.RESET_REASON.get(value)) | (
                int(DevCtl.RESET_REASON_EXT.get(value)) << RESET_REASON_MSB_SHIFT)
            self.reasons.append(reason)
            self.stats.add("resets")
            self._epoch += 1
            self._stuck = hit(self.rng, self.faults.reset_unresponsive)
            if self._stuck:
                self.stats.add("reset_unresponsive")
            self._released = False
            self._active = True
            self.ready = False
            self.finished = False
            self.on_reset()
            epoch = self._epoch
            self.clock.call_after(self.latency_ns, lambda: self._enter(epoch))
        elif self._active and not self._released:
            self._released = True
            if self.in_progress:
                self._schedule_exit()

    def _enter(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        self.in_progress = True
        if self._released:
            self._schedule_exit()

    def _schedule_exit(self) -> None:
        if self._stuck:
            return
        epoch = self._epoch
        self.clock.call_after(self.duration_ns, lambda: self._exit(epoch))

    def _exit(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        self._active = False
        self.in_progress = False
        self.finished = True
        self.ready = True
