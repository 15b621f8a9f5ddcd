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
    """CAPS.DMA_ADDR_WIDTH; ena_com accepts 32..48."""
    version: tuple[int, int] = (0, 10)
    """VERSION register: (major, minor)."""
    controller_version: tuple[int, int, int, int] = (0, 0, 1, 0)
    """CONTROLLER_VERSION: (major, minor, subminor, implementation id)."""
    reset_timeout: int = 10
    """CAPS.RESET_TIMEOUT in 100 ms units (5 bits; 0 makes ena_com_dev_reset refuse)."""
    admin_cmd_to: int = 0
    """CAPS.ADMIN_CMD_TO in 100 ms units (4 bits; 0: the driver's 3 s default)."""
    readless_latency_ns: int = 500
    """From the MMIO_REG_READ write to the response landing in host memory."""
    reset_latency_ns: int = 2_000
    """From the DEV_CTL reset write to DEV_STS.RESET_IN_PROGRESS rising."""
    reset_duration_ns: int = 1_000_000
    """From the DEV_CTL release (write 0) to the device being ready again."""
    admin_latency_ns: int = 20_000
    """From an AQ doorbell to the completion of the commands it published."""
    pci_device_id: int = 0x0EC2
    """``PCI_DEV_ID_ENA_PF``; a VF is 0xEC20."""
    pci_revision_id: int = 0
    """Bit 0 (``ENA_MMIO_DISABLE_REG_READ``) set: the driver reads registers directly."""
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
