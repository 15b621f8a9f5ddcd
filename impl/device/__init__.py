"""The simulated ENA device: a separate actor that sees only the bus (doorbell and unmask
register writes, DMA into and out of host memory, the LLQ BAR) and raises MSI-X vectors.
IO queues are created through the queue-creation port (:class:`QueueTable`, also offered
by :class:`EnaDevice`)."""

from impl.device.clock import SimClock
from impl.device.config import DeviceConfig
from impl.device.device import EnaDevice
from impl.device.faults import DeviceStats, Faults
from impl.device.mgmt_faults import MgmtFaults, MgmtStats
from impl.device.queues import QueueTable
from impl.device.rss import RssConfig
from impl.device.wire import Wire, replay

__all__ = ["DeviceConfig", "DeviceStats", "EnaDevice", "Faults", "MgmtFaults", "MgmtStats",
           "QueueTable", "RssConfig", "SimClock", "Wire", "replay"]
