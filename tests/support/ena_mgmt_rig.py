"""A bus with a device and the driver's register accessors, for the management tests."""

from __future__ import annotations

from dataclasses import dataclass

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock
from impl.device.mgmt_faults import MgmtFaults
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
