"""A driver and a device on one bus, frames looped back on the wire, and random frames:
the set-up the ENA end-to-end and stateful tests share."""

from __future__ import annotations

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire
from impl.ena.driver import DriverConfig, EnaDriver, Policy
from impl.ena.start import QueueStart
from impl.packets import PacketBatch


def rig(llq: bool, nq: int = 2, faults: Faults | None = None, window: int = 8,
        ring: int = 256, seed: int = 0, loop: bool = True,
        policy: Policy = Policy.SHIPPED,
        start: QueueStart | None = None) -> tuple[Bus, EnaDevice, EnaDriver]:
    """``start``: where every IO queue starts (default: at zero, as the C); the device
    gets the same counter base, so both sides agree as after that much traffic."""
    burst = 2048 if llq else 0
    start = start or QueueStart()
    bus = Bus(mem_size=1 << 24)
    dev = EnaDevice(bus, DeviceConfig(llq_entry_size=128, max_tx_burst_bytes=burst, seed=seed,
                                      counter_base=start.counter),
                    faults=faults, tx_window=window)
    bus.regs.attach(dev)
    bus.llq.attach(dev)
    if loop:
        Wire(SimClock()).loopback(dev)
    drv = EnaDriver(bus, dev, DriverConfig(num_queues=nq, tx_ring_size=ring, rx_ring_size=ring,
                                           llq=llq, max_tx_burst_bytes=burst,
                                           policy=policy, start=start))
    drv.up()
    return bus, dev, drv


def frames(bus: Bus, rng: np.random.Generator, n: int) -> PacketBatch:
    lengths = rng.integers(60, 4000, n)
    base = bus.mem.alloc(int(lengths.sum()), 64)
    bus.mem.data[base:base + int(lengths.sum())] = rng.integers(0, 256, int(lengths.sum()),
                                                                dtype=np.uint8)
    return PacketBatch.from_arrays(bus.mem.data, base + np.cumsum(lengths) - lengths, lengths,
                                   rng.integers(1, 5, n))
