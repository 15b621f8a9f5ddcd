"""``ena_device_init``: bring the management plane of a (re)attached device up, in the
order the FreeBSD driver uses.

1. readless read init, read mode from the PCI revision id;
2. ``ena_com_dev_reset(NORMAL)``;
3. ``ena_com_validate_version``, ``ena_com_get_dma_width`` (32..48);
4. ``ena_com_admin_init`` (DEV_STS.READY, AQ/ACQ/AENQ rings) and admin **polling** mode;
5. ``ena_config_host_info`` (SET HOST_ATTR_CONFIG; a failure is only logged);
6. ``ena_com_get_dev_attr_feat``;
7. SET AENQ_CONFIG with the groups FreeBSD handles, masked by what the device supports
   (``wd_active`` = the KEEP_ALIVE group is on);
8. the TX placement policy (``ena_set_queues_placement_policy``): LLQ if the device has
   the feature and the configuration asks for it, SET LLQ, and host mode if that fails.

Each failure unwinds what was set up (admin queue, readless buffer) and returns the code.
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2993
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2739
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

import numpy as np

from impl.bus import Bus
from impl.device.clock import SimClock
from impl.ena import com_reset
from impl.ena.admin_cmds import (
    AENQ_CONFIG,
    LLQ,
    ComFeatures,
    DevFeatures,
    get_dev_attr_feat,
    set_feature,
)
from impl.ena.admin_queue import AdminQueue
from impl.ena.aenq import Aenq
from impl.ena.com_reset import ResetTimeouts
from impl.ena.mmio import MmioRead
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.regs import ResetReason

HOST_ATTR_CONFIG = 28
HOST_INFO_SIZE = 4096
FREEBSD_AENQ_GROUPS = sum(1 << g for g in (0, 1, 2, 3, 4, 6, 7))
"""LINK_CHANGE, FATAL_ERROR, WARNING, NOTIFICATION, KEEP_ALIVE, CONF_NOTIFICATIONS,
DEVICE_REQUEST_RESET (not REFRESH_CAPABILITIES)."""
KEEP_ALIVE_GROUP = 4


@dataclass
class ComDev:
    """``struct ena_com_dev``: what ``ena_device_init`` sets up and the reset tears down."""

    mmio: MmioRead
    timeouts: ResetTimeouts = field(default_factory=ResetTimeouts)
    aq: AdminQueue | None = None
    aenq: Aenq | None = None
    com: ComFeatures = field(default_factory=ComFeatures)
    feats: DevFeatures = field(default_factory=DevFeatures)
    host_info_addr: int = 0
    llq: bool = False
    llq_entry_size: int = 128
    aenq_groups: int = 0

    @property
    def wd_active(self) -> bool:
        return bool(self.aenq_groups >> KEEP_ALIVE_GROUP & 1)

    def teardown(self) -> None:
        """The unwinding of the error paths and of ``ena_destroy_device``: admin queue,
        host info, readless buffer."""
        if self.aq is not None:
            self.aq.destroy()
        if self.aenq is not None:
            self.aenq.destroy()
        if self.host_info_addr:
            self.mmio.bus.mem.free(self.host_info_addr)
            self.host_info_addr = 0
        self.mmio.destroy()


def _config_host_info(dev: ComDev) -> None:
    """``ena_config_host_info``: allocate the host-info page and SET it, unchecked
    (``ena_com_set_host_attributes`` runs before the supported features are known);
    failures are logged only, so they are ignored here."""
    assert dev.aq is not None
    mem = dev.mmio.bus.mem
    dev.host_info_addr = mem.alloc(HOST_INFO_SIZE, 4096)
    rec = np.zeros(1, m.HOST_ATTR_DTYPE)
    m.set_addr(rec, "os_info_ba", dev.host_info_addr)
    set_feature(dev.aq, dev.com, HOST_ATTR_CONFIG, rec, check_supported=False)


def _placement(dev: ComDev, want_llq: bool, large_llq: bool) -> None:
    """``ena_set_queues_placement_policy`` with ``ena_set_llq_configurations``: LLQ only
    if wanted and advertised; entry size 256 only if asked and supported; a refused SET LLQ
    falls back to host mode (not an error)."""
    assert dev.aq is not None
    llq = dev.feats.llq
    dev.llq = False
    if not want_llq or not dev.com.supports(LLQ) or llq is None or \
            int(llq["max_llq_num"][0]) == 0:
        return
    sizes = int(llq["entry_size_ctrl_supported"][0])
    size = 256 if large_llq and sizes & m.LLQ_ENTRY_SIZE_BITS[256] else 128
    rec = np.zeros(1, m.LLQ_DTYPE)
    rec["header_location_ctrl_enabled"] = m.LLQ_INLINE_HEADER
    rec["entry_size_ctrl_enabled"] = m.LLQ_ENTRY_SIZE_BITS[size]
    rec["desc_num_before_header_enabled"] = m.LLQ_DESCS_BEFORE_HEADER_2
    rec["descriptors_stride_ctrl_enabled"] = m.LLQ_MULTIPLE_DESCS_PER_ENTRY
    rec["accel_mode"][0, 0] = int(llq["accel_mode"][0, 0]) & 0xFFFF
    if set_feature(dev.aq, dev.com, LLQ, rec) == 0:
        dev.llq, dev.llq_entry_size = True, size


def device_init(bus: Bus, clock: SimClock, *, want_llq: bool = True,
                large_llq: bool = False) -> tuple[int, ComDev | None]:
    """``ena_device_init``: ``(0, dev)`` with the admin queue in polling mode, or
    ``(rc, None)`` with everything released."""
    mmio = MmioRead(bus, clock)
    mmio.set_read_mode_from_pci()
    dev = ComDev(mmio)
    rc = com_reset.dev_reset(mmio, ResetReason.NORMAL, False, dev.timeouts)
    if rc == 0:
        rc = com_reset.validate_version(mmio)
    if rc == 0:
        rc, dev.com.dma_addr_bits = com_reset.get_dma_width(mmio)
    if rc == 0:
        dev.aq = AdminQueue(mmio, dev.timeouts)
        rc = dev.aq.init()
        if rc:
            dev.aq = None
    if rc:
        mmio.destroy()
        return (rc if rc > 0 else errno.EINVAL), None
    assert dev.aq is not None
    dev.aenq = Aenq(mmio)
    dev.aenq.init()
    dev.aq.set_polling_mode(True)
    _config_host_info(dev)
    rc, dev.feats = get_dev_attr_feat(dev.aq, dev.com)
    if rc == 0:
        supported = int(dev.feats.aenq["supported_groups"][0]) if dev.feats.aenq is not None \
            else 0
        dev.aenq_groups = FREEBSD_AENQ_GROUPS & supported
        rec = np.zeros(1, m.AENQ_FEAT_DTYPE)
        rec["enabled_groups"] = dev.aenq_groups
        rc = set_feature(dev.aq, dev.com, AENQ_CONFIG, rec)
    if rc:
        dev.teardown()
        return rc, None
    _placement(dev, want_llq, large_llq)
    return 0, dev
