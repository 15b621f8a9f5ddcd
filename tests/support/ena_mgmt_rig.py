"""A bus with a device and the driver's register accessors, for the management tests."""

from __future__ import annotations

from dataclasses import dataclass

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock
from impl.device.features import DEFAULT_SUPPORTED
from impl.device.mgmt_faults import MgmtFaults
from impl.ena import com_reset
from impl.ena.admin_cmds import ComFeatures, get_dev_attr_feat
from impl.ena.admin_queue import AdminQueue
from impl.ena.com_reset import ResetTimeouts
from impl.ena.mmio import MmioRead


@dataclass
class MgmtRig:
    bus: Bus
    clock: SimClock
    dev: EnaDevice
    mmio: MmioRead


def mgmt_rig(config: DeviceConfig | None = None, faults: MgmtFaults | None = None,
             reg_read_to: int = 0) -> MgmtRig:
    bus = Bus(mem_size=1 << 20, nvec=5)
    clock = SimClock()
    dev = EnaDevice(bus, config or DeviceConfig(), clock=clock, mgmt_faults=faults)
    mmio = MmioRead(bus, clock, reg_read_to)
    mmio.set_read_mode_from_pci()
    return MgmtRig(bus, clock, dev, mmio)


@dataclass
class AdminRig:
    r: MgmtRig
    aq: AdminQueue
    feat: ComFeatures
    timeouts: ResetTimeouts

    @property
    def dev(self) -> EnaDevice:
        return self.r.dev

    @property
    def clock(self) -> SimClock:
        return self.r.clock

    @property
    def bus(self) -> Bus:
        return self.r.bus


def admin_rig(config: DeviceConfig | None = None, faults: MgmtFaults | None = None,
              polling: bool = False, learn: bool = True) -> AdminRig:
    """A device reset, the admin queue up (polling or interrupts), and -- with ``learn``
    -- the device attributes read (supported features and capabilities known)."""
    r = mgmt_rig(config, faults)
    t = ResetTimeouts()
    assert com_reset.dev_reset(r.mmio, 0, False, t) == 0
    aq = AdminQueue(r.mmio, t)
    assert aq.init() == 0
    aq.set_polling_mode(polling)
    feat = ComFeatures(supported_features=DEFAULT_SUPPORTED)
    if learn:
        rc, _ = get_dev_attr_feat(aq, feat)
        assert rc == 0
    return AdminRig(r, aq, feat, t)
