"""The device's fixed management registers (offsets below ``IO_DOORBELL_BASE``).

What a read of each register returns and what a write does (``ena_regs_defs.h``):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_regs_defs.h#L64

* VERSION, CONTROLLER_VERSION, CAPS (reset timeout, DMA address width, admin command
  timeout), CAPS_EXT: read-only, from :class:`~impl.device.config.DeviceConfig`;
* DEV_CTL / DEV_STS: the reset handshake (:class:`~impl.device.dev_reset.DeviceReset`);
* MMIO_REG_READ, MMIO_RESP_LO/HI: the readless read (:class:`~impl.device.readless.Readless`);
* the admin queue, ACQ and AENQ base/caps registers, AQ_DB, AENQ_HEAD_DB and INTR_MASK are
  latched and handed to whoever registered for them (the admin queue, the AENQ);
  ACQ_TAIL and AENQ_TAIL read the producer counters those report.

Any other offset in the window reads as the last value written (0 after power-on).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impl.bus import Bus
from impl.device.clock import SimClock
from impl.device.config import DeviceConfig
from impl.device.dev_reset import DeviceReset
from impl.device.mgmt_faults import MgmtFaults, MgmtStats
from impl.device.readless import Readless
from impl.ena_defs import regs
from impl.ena_defs.constants import PCI_VENDOR_ID
from impl.ena_defs.regs import Caps, ControllerVersion, Version

WriteHook = Callable[[int], None]
ReadHook = Callable[[], int]


def caps_value(cfg: DeviceConfig) -> int:
    """The CAPS register of a device with configuration ``cfg``."""
    return int(Caps.RESET_TIMEOUT.put(cfg.reset_timeout) | Caps.DMA_ADDR_WIDTH.put(
        cfg.dma_addr_width) | Caps.ADMIN_CMD_TO.put(cfg.admin_cmd_to))


def version_value(cfg: DeviceConfig) -> int:
    major, minor = cfg.version
    return int(Version.MAJOR.put(major) | Version.MINOR.put(minor))


def controller_version_value(cfg: DeviceConfig) -> int:
    major, minor, sub, impl_id = cfg.controller_version
    return int(ControllerVersion.MAJOR.put(major) | ControllerVersion.MINOR.put(minor)
               | ControllerVersion.SUBMINOR.put(sub) | ControllerVersion.IMPL_ID.put(impl_id))


class MgmtRegs:
    """Reads and writes of the fixed registers, one at a time (the management plane is not
    a datapath: each access has its own protocol step)."""

    def __init__(self, bus: Bus, clock: SimClock, config: DeviceConfig, faults: MgmtFaults,
                 stats: MgmtStats, on_reset: Callable[[], None]) -> None:
        self.config = config
        self.rng = np.random.default_rng([config.seed, 0x3E6D])
        """The management generator (separate from the datapath's)."""
        self.latched: dict[int, int] = {}
        self._write_hooks: dict[int, WriteHook] = {}
        self._read_hooks: dict[int, ReadHook] = {}
        self.readless = Readless(bus, clock, config.readless_latency_ns, faults, self.rng,
                                 stats, self.read)
        self.reset = DeviceReset(clock, config.reset_latency_ns, config.reset_duration_ns,
                                 faults, self.rng, stats, self._on_reset)
        self._device_reset = on_reset
        bus.pci.vendor_id = PCI_VENDOR_ID
        bus.pci.device_id = config.pci_device_id
        bus.pci.revision_id = config.pci_revision_id

    def __repr__(self) -> str:
        return (f"MgmtRegs(caps={caps_value(self.config):#x}, {self.reset!r}, "
                f"{self.readless!r})")

    def on_write(self, offset: int, hook: WriteHook) -> None:
        """Call ``hook(value)`` after each write to ``offset`` (the value is latched too)."""
        self._write_hooks[offset] = hook

    def on_read(self, offset: int, hook: ReadHook) -> None:
        """Answer reads of ``offset`` with ``hook()``."""
        self._read_hooks[offset] = hook

    def _on_reset(self) -> None:
        self.readless.clear()
        for off in (regs.AQ_BASE_LO_OFF, regs.AQ_BASE_HI_OFF, regs.AQ_CAPS_OFF,
                    regs.ACQ_BASE_LO_OFF, regs.ACQ_BASE_HI_OFF, regs.ACQ_CAPS_OFF,
                    regs.AENQ_BASE_LO_OFF, regs.AENQ_BASE_HI_OFF, regs.AENQ_CAPS_OFF,
                    regs.AQ_DB_OFF, regs.AENQ_HEAD_DB_OFF):
            self.latched.pop(off, None)
        self.latched[regs.INTR_MASK_OFF] = regs.ADMIN_INTR_MASK
        self._device_reset()

    def reg(self, offset: int) -> int:
        """The last value written to ``offset`` (0 if never, INTR_MASK starts masked)."""
        default = regs.ADMIN_INTR_MASK if offset == regs.INTR_MASK_OFF else 0
        return self.latched.get(offset, default)

    def read(self, offset: int) -> int:
        """The register's value as the device answers a read (direct or readless)."""
        cfg = self.config
        if offset in self._read_hooks:
            return self._read_hooks[offset]() & 0xFFFFFFFF
        if offset == regs.VERSION_OFF:
            return version_value(cfg)
        if offset == regs.CONTROLLER_VERSION_OFF:
            return controller_version_value(cfg)
        if offset == regs.CAPS_OFF:
            return caps_value(cfg)
        if offset == regs.CAPS_EXT_OFF:
            return 0
        if offset == regs.DEV_STS_OFF:
            return self.reset.dev_sts
        if offset == regs.DEV_CTL_OFF:
            return self.reset.dev_ctl
        return self.reg(offset)

    def write(self, offset: int, value: int) -> None:
        """One register write, with its side effect."""
        value &= 0xFFFFFFFF
        self.latched[offset] = value
        if offset == regs.DEV_CTL_OFF:
            self.reset.write_ctl(value)
        elif offset == regs.MMIO_REG_READ_OFF:
            self.readless.request(value)
        elif offset == regs.MMIO_RESP_LO_OFF:
            self.readless.resp_lo = value
        elif offset == regs.MMIO_RESP_HI_OFF:
            self.readless.resp_hi = value
        elif offset in self._write_hooks:
            self._write_hooks[offset](value)
