"""ENA register BAR offsets and register fields, and the reset reasons.

``ena-com/ena_defs/ena_regs_defs.h``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_regs_defs.h#L64
(offsets) and ``enum ena_regs_reset_reason_types``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_regs_defs.h#L37

The IO queues' doorbell and unmask registers have no fixed offsets: the device returns
them in the CREATE_SQ / CREATE_CQ completions (``sq_doorbell_offset``,
``cq_interrupt_unmask_register_offset``). This simulator places them in the window
:data:`IO_DOORBELL_BASE` / :data:`IO_UNMASK_BASE` (4 bytes per queue); drivers must use
the offsets the completion returns, never these bases.
"""

from __future__ import annotations

from enum import IntEnum

from impl.ena_defs.bitfield import Field

VERSION_OFF = 0x0
CONTROLLER_VERSION_OFF = 0x4
CAPS_OFF = 0x8
CAPS_EXT_OFF = 0xC
AQ_BASE_LO_OFF = 0x10
AQ_BASE_HI_OFF = 0x14
AQ_CAPS_OFF = 0x18
ACQ_BASE_LO_OFF = 0x20
ACQ_BASE_HI_OFF = 0x24
ACQ_CAPS_OFF = 0x28
AQ_DB_OFF = 0x2C
ACQ_TAIL_OFF = 0x30
AENQ_CAPS_OFF = 0x34
AENQ_BASE_LO_OFF = 0x38
AENQ_BASE_HI_OFF = 0x3C
AENQ_HEAD_DB_OFF = 0x40
AENQ_TAIL_OFF = 0x44
INTR_MASK_OFF = 0x4C
DEV_CTL_OFF = 0x54
DEV_STS_OFF = 0x58
MMIO_REG_READ_OFF = 0x5C
MMIO_RESP_LO_OFF = 0x60
MMIO_RESP_HI_OFF = 0x64
RSS_IND_ENTRY_UPDATE_OFF = 0x68
PHC_DB_OFF = 0x100

REG_OFFSETS: dict[str, int] = {
    name[: -len("_OFF")]: value for name, value in dict(globals()).items()
    if name.endswith("_OFF") and isinstance(value, int)
}
"""Every fixed register, by its C name without ``ENA_REGS_`` and ``_OFF``."""

IO_DOORBELL_BASE = 0x1000
"""Simulator choice: SQ ``i``'s doorbell is at ``IO_DOORBELL_BASE + 4 * i``."""
IO_UNMASK_BASE = 0x2000
"""Simulator choice: CQ ``i``'s interrupt-unmask register is at ``IO_UNMASK_BASE + 4 * i``."""
IO_NUMA_BASE = 0x3000
"""Simulator choice: CQ ``i``'s NUMA node config register."""
REG_BAR_SIZE = 0x4000
"""Size of the simulated register BAR (BAR 0)."""


MMIO_READ_TIMEOUT = 0xFFFFFFFF
"""``ENA_MMIO_READ_TIMEOUT``: what a failed readless read returns (timeout or mismatch)."""


class Version:
    """Fields of the VERSION register (``ENA_REGS_VERSION_*``)."""

    MINOR = Field("version", 0, 8)
    MAJOR = Field("version", 8, 8)


class ControllerVersion:
    """Fields of the CONTROLLER_VERSION register (``ENA_REGS_CONTROLLER_VERSION_*``)."""

    SUBMINOR = Field("controller_version", 0, 8)
    MINOR = Field("controller_version", 8, 8)
    MAJOR = Field("controller_version", 16, 8)
    IMPL_ID = Field("controller_version", 24, 8)


MIN_CTRL_VER = (0 << 16) | (0 << 8) | 1
"""``MIN_ENA_CTRL_VER``: controller version 0.0.1, compared without the implementation id."""


class Caps:
    """Fields of the CAPS register (``ENA_REGS_CAPS_*``).  Both timeouts count 100 ms."""

    CONTIGUOUS_QUEUE_REQUIRED = Field("caps", 0, 1)
    RESET_TIMEOUT = Field("caps", 1, 5)
    DMA_ADDR_WIDTH = Field("caps", 8, 8)
    ADMIN_CMD_TO = Field("caps", 16, 4)


class QueueCaps:
    """Fields of AQ_CAPS, ACQ_CAPS and AENQ_CAPS (``ENA_REGS_*_CAPS_*``)."""

    DEPTH = Field("caps", 0, 16)
    ENTRY_SIZE = Field("caps", 16, 16)


class MmioRegRead:
    """Fields of MMIO_REG_READ (``ENA_REGS_MMIO_REG_READ_*``)."""

    REQ_ID = Field("mmio_reg_read", 0, 16)
    REG_OFF = Field("mmio_reg_read", 16, 16)


class RssIndEntryUpdate:
    """Fields of RSS_IND_ENTRY_UPDATE."""

    INDEX = Field("rss_ind_entry_update", 0, 16)
    CQ_IDX = Field("rss_ind_entry_update", 16, 16)


ADMIN_INTR_MASK = 1
"""``ENA_REGS_ADMIN_INTR_MASK``: the INTR_MASK value that masks the admin interrupt."""


class DevCtl:
    """Fields of the DEV_CTL register (``ENA_REGS_DEV_CTL_*``)."""

    DEV_RESET = Field("dev_ctl", 0, 1)
    AQ_RESTART = Field("dev_ctl", 1, 1)
    QUIESCENT = Field("dev_ctl", 2, 1)
    IO_RESUME = Field("dev_ctl", 3, 1)
    RESET_REASON_EXT = Field("dev_ctl", 24, 4)
    RESET_REASON = Field("dev_ctl", 28, 4)


class DevSts:
    """Fields of the DEV_STS register (``ENA_REGS_DEV_STS_*``)."""

    READY = Field("dev_sts", 0, 1)
    AQ_RESTART_IN_PROGRESS = Field("dev_sts", 1, 1)
    AQ_RESTART_FINISHED = Field("dev_sts", 2, 1)
    RESET_IN_PROGRESS = Field("dev_sts", 3, 1)
    RESET_FINISHED = Field("dev_sts", 4, 1)
    FATAL_ERROR = Field("dev_sts", 5, 1)
    QUIESCENT_STATE_IN_PROGRESS = Field("dev_sts", 6, 1)
    QUIESCENT_STATE_ACHIEVED = Field("dev_sts", 7, 1)


class ResetReason(IntEnum):
    """``enum ena_regs_reset_reason_types``."""

    NORMAL = 0
    KEEP_ALIVE_TO = 1
    ADMIN_TO = 2
    MISS_TX_CMPL = 3
    INV_RX_REQ_ID = 4
    INV_TX_REQ_ID = 5
    TOO_MANY_RX_DESCS = 6
    INIT_ERR = 7
    DRIVER_INVALID_STATE = 8
    OS_TRIGGER = 9
    OS_NETDEV_WD = 10
    SHUTDOWN = 11
    USER_TRIGGER = 12
    GENERIC = 13
    MISS_INTERRUPT = 14
    SUSPECTED_POLL_STARVATION = 15
    RX_DESCRIPTOR_MALFORMED = 16
    TX_DESCRIPTOR_MALFORMED = 17
    MISSING_ADMIN_INTERRUPT = 18
    DEVICE_REQUEST = 19
    LAST = 20


RESET_REASON_LSB_MASK = 0xF
"""``ENA_RESET_REASON_LSB_MASK``: the reason bits DEV_CTL.RESET_REASON carries."""
RESET_REASON_MSB_SHIFT = 4
"""``ENA_RESET_REASON_MSB_OFFSET``: the reason bits above go to DEV_CTL.RESET_REASON_EXT."""
