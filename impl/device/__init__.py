"""The simulated ENA device: a separate actor that sees only the bus (doorbell and unmask
register writes, DMA into and out of host memory, the LLQ BAR) and raises MSI-X vectors.
IO queues are created through the queue-creation port (:class:`QueueTable`)."""

from impl.device.config import DeviceConfig
from impl.device.queues import QueueTable

__all__ = ["DeviceConfig", "QueueTable"]
