"""ena_com's device bring-up checks and the reset handshake, over the register BAR only.

* ``ena_com_validate_version``: both version registers must read (no readless timeout)
  and CONTROLLER_VERSION without its implementation id must be >= 0.0.1
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1683
* ``ena_com_get_dma_width``: CAPS.DMA_ADDR_WIDTH in [32, 48]
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1658
* ``ena_com_dev_reset`` and ``wait_for_reset_state``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2566
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1036

Return codes are FreeBSD's ``ENA_COM_*`` values: 0, ``ETIMEDOUT``
(``ENA_COM_TIMER_EXPIRED``), ``EINVAL`` (``ENA_COM_INVAL``) and, for a too-old
controller, ``-1`` as the C returns.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from impl.ena.mmio import MmioRead
from impl.ena.poll import US, backoff_us
from impl.ena_defs import regs
from impl.ena_defs.constants import ADMIN_CMD_TIMEOUT_US, ADMIN_POLL_DELAY_US
from impl.ena_defs.constants import MAX_PHYS_ADDR_SIZE_BITS as MAX_DMA_BITS
from impl.ena_defs.regs import (
    MIN_CTRL_VER,
    MMIO_READ_TIMEOUT,
    RESET_REASON_LSB_MASK,
    RESET_REASON_MSB_SHIFT,
    Caps,
    ControllerVersion,
    DevCtl,
    DevSts,
    ResetReason,
)

MIN_DMA_BITS = 32
RESET_TIMEOUT_UNIT_US = 100_000
"""CAPS.RESET_TIMEOUT and CAPS.ADMIN_CMD_TO count 100 ms."""


@dataclass
class ResetTimeouts:
    """What ``ena_com_dev_reset`` leaves in ``ena_com_dev``."""

    completion_timeout_us: int = ADMIN_CMD_TIMEOUT_US
    """``admin_queue.completion_timeout``: CAPS.ADMIN_CMD_TO x 100 ms, or 3 s if 0."""
    min_poll_delay_us: int = ADMIN_POLL_DELAY_US


def validate_version(mmio: MmioRead) -> int:
    """``ena_com_validate_version``: 0, ETIMEDOUT (a read failed) or -1 (too old)."""
    ver = mmio.read32(regs.VERSION_OFF)
    ctrl = mmio.read32(regs.CONTROLLER_VERSION_OFF)
    if MMIO_READ_TIMEOUT in (ver, ctrl):
        return errno.ETIMEDOUT
    if ctrl & ~ControllerVersion.IMPL_ID.mask < MIN_CTRL_VER:
        return -1
    return 0


def get_dma_width(mmio: MmioRead) -> tuple[int, int]:
    """``ena_com_get_dma_width``: ``(0, width)``, ``(ETIMEDOUT, 0)`` or ``(EINVAL, 0)``."""
    caps = mmio.read32(regs.CAPS_OFF)
    if caps == MMIO_READ_TIMEOUT:
        return errno.ETIMEDOUT, 0
    width = int(Caps.DMA_ADDR_WIDTH.get(caps))
    if not MIN_DMA_BITS <= width <= MAX_DMA_BITS:
        return errno.EINVAL, 0
    return 0, width


def reset_ctl_value(reason: int, extended_reasons: bool) -> int:
    """The DEV_CTL value that starts a reset: DEV_RESET, the reason's low nibble in
    RESET_REASON and, if the device has ``EXTENDED_RESET_REASONS``, its high nibble in
    RESET_REASON_EXT; without that capability a reason >= 16 is sent as GENERIC."""
    lsb = reason & RESET_REASON_LSB_MASK
    msb = (reason >> RESET_REASON_MSB_SHIFT) & RESET_REASON_LSB_MASK
    val = DevCtl.DEV_RESET.mask | int(DevCtl.RESET_REASON.put(lsb))
    if extended_reasons:
        return val | int(DevCtl.RESET_REASON_EXT.put(msb))
    if msb:
        return DevCtl.DEV_RESET.mask | int(DevCtl.RESET_REASON.put(ResetReason.GENERIC))
    return val


def wait_for_reset_state(mmio: MmioRead, timeout_100ms: int, exp_state: int,
                         min_poll_delay_us: int) -> int:
    """``wait_for_reset_state``: poll DEV_STS (readless) with exponential backoff until
    RESET_IN_PROGRESS equals ``exp_state``; 0 or ETIMEDOUT (deadline passed, or a read
    failed)."""
    deadline = mmio.clock.now_ns + timeout_100ms * RESET_TIMEOUT_UNIT_US * US
    exp = 0
    while True:
        val = mmio.read32(regs.DEV_STS_OFF)
        if val == MMIO_READ_TIMEOUT:
            return errno.ETIMEDOUT
        if val & DevSts.RESET_IN_PROGRESS.mask == exp_state:
            return 0
        if mmio.clock.now_ns > deadline:
            return errno.ETIMEDOUT
        mmio.clock.advance(backoff_us(exp, min_poll_delay_us) * US)
        exp += 1


def dev_reset(mmio: MmioRead, reason: ResetReason | int, extended_reasons: bool,
              timeouts: ResetTimeouts) -> int:
    """``ena_com_dev_reset``: 0, ETIMEDOUT or EINVAL (device not ready, or CAPS gives no
    reset timeout). On success ``timeouts.completion_timeout_us`` is set from CAPS."""
    stat = mmio.read32(regs.DEV_STS_OFF)
    cap = mmio.read32(regs.CAPS_OFF)
    if MMIO_READ_TIMEOUT in (stat, cap):
        return errno.ETIMEDOUT
    if not stat & DevSts.READY.mask:
        return errno.EINVAL
    timeout = int(Caps.RESET_TIMEOUT.get(cap))
    if timeout == 0:
        return errno.EINVAL
    mmio.write32(regs.DEV_CTL_OFF, reset_ctl_value(int(reason), extended_reasons))
    mmio.write_dev_addr()
    rc = wait_for_reset_state(mmio, timeout, DevSts.RESET_IN_PROGRESS.mask,
                              timeouts.min_poll_delay_us)
    if rc:
        return rc
    mmio.write32(regs.DEV_CTL_OFF, 0)
    rc = wait_for_reset_state(mmio, timeout, 0, timeouts.min_poll_delay_us)
    if rc:
        return rc
    admin_to = int(Caps.ADMIN_CMD_TO.get(cap))
    timeouts.completion_timeout_us = (admin_to * RESET_TIMEOUT_UNIT_US if admin_to
                                      else ADMIN_CMD_TIMEOUT_US)
    return 0
