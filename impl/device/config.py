"""The simulated device's configuration: what it advertises and how it misbehaves.

Until the admin queue (GET_FEATURE / SET_FEATURE) exists, the values the driver would
negotiate are fixed here: the LLQ entry size and TX burst limit (``ena_admin_feature_llq_desc``
and ``ena_admin_accel_mode_get.max_tx_burst_size``), the capabilities word (bit
``AqCaps.CDESC_MBZ`` makes the driver check completion MBZ bits), the DMA width.
"""

from __future__ import annotations

from dataclasses import dataclass

from impl.ena_defs.constants import AqCaps


@dataclass(frozen=True)
class DeviceConfig:
    """Static properties of one simulated ENA device."""

    max_queues: int = 32
    """IO SQs (and CQs) the device can hold."""
    llq_entry_size: int = 128
    """128 (96 B push header) or 256 (224 B)."""
    max_tx_burst_bytes: int = 0
    """``max_tx_burst_size`` in bytes; 0 = no burst limit. The limit in entries is this
    divided by ``llq_entry_size``."""
    caps: int = 1 << AqCaps.CDESC_MBZ
    """``ena_admin_device_attr_feature_desc.capabilities`` bits."""
    dma_addr_width: int = 48
    seed: int = 0
    """The one seed every random choice of the device derives from."""
    counter_base: int = 0
    """Test-only (a real device starts every queue at 0): each IO queue created starts as
    if ``counter_base`` entries had already passed through it -- SQ head and tail and CQ
    tail at ``counter_base`` (u16), and the CQ ring holding the phase bits of the
    completions that pass wrote (:meth:`impl.device.queues.QueueTable.create_cq`).  The
    driver takes the same base (:class:`impl.ena.start.QueueStart`); tests use it to start
    runs at a counter wrap or a phase flip."""

    @property
    def max_entries_in_tx_burst(self) -> int:
        """``max_tx_burst_size / llq_ring_entry_size`` (0 = unlimited)."""
        return self.max_tx_burst_bytes // self.llq_entry_size

    def has_cap(self, cap: AqCaps) -> bool:
        return bool(self.caps >> int(cap) & 1)
