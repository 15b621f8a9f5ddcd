"""The device side of the AENQ (asynchronous event notification queue): the producer.

The driver programs AENQ_BASE/AENQ_CAPS (depth 16, 64-byte entries,
``ena_com_admin_init_aenq``) and then writes its consumer head to AENQ_HEAD_DB, starting
at the depth (``ena_com_admin_aenq_enable``: "all entries available"). The device may
write while ``head - tail`` (u16) is positive; each entry carries the pass's phase in
``flags`` bit 0 (1 on the first pass), the group, the syndrome and the device's time.
After writing, it raises the management vector (0). Events of groups not enabled by
SET_FEATURE AENQ_CONFIG are not posted; a full ring drops the event (counted).
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2444
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import numpy as np

from impl.bus import Bus
from impl.device.clock import SimClock
from impl.device.regs_bar import MgmtRegs
from impl.ena_defs import regs
from impl.ena_defs.mgmt_layouts import (
    AENQ_ENTRY_DTYPE,
    ENTRY_SIZE,
    HW_HINTS_DTYPE,
    KEEP_ALIVE_DTYPE,
    LINK_CHANGE_DTYPE,
)
from impl.ena_defs.regs import QueueCaps

U16 = 0xFFFF


class AenqGroup(IntEnum):
    """``enum ena_admin_aenq_group``."""

    LINK_CHANGE = 0
    FATAL_ERROR = 1
    WARNING = 2
    NOTIFICATION = 3
    KEEP_ALIVE = 4
    REFRESH_CAPABILITIES = 5
    CONF_NOTIFICATIONS = 6
    DEVICE_REQUEST_RESET = 7


UPDATE_HINTS = 2
"""``ENA_ADMIN_UPDATE_HINTS``: the NOTIFICATION syndrome whose payload is HW hints."""


class DeviceAenq:
    """The AENQ producer."""

    def __init__(self, bus: Bus, clock: SimClock, mgmt: MgmtRegs,
                 enabled: Callable[[], int]) -> None:
        self.bus = bus
        self.clock = clock
        self.mgmt = mgmt
        self.enabled = enabled
        """The groups SET_FEATURE AENQ_CONFIG enabled (a bitmask)."""
        self.tail = 0
        self.head = 0
        self.posted = 0
        self.dropped_full = 0
        self.dropped_disabled = 0
        self.pending_link: bool | None = None
        """A link announcement that found no room: posted at the next head doorbell."""
        mgmt.on_write(regs.AENQ_HEAD_DB_OFF, self._head_db)
        mgmt.on_read(regs.AENQ_TAIL_OFF, lambda: self.tail)

    def __repr__(self) -> str:
        return (f"DeviceAenq(head={self.head}, tail={self.tail}, posted={self.posted}, "
                f"dropped_full={self.dropped_full}, "
                f"dropped_disabled={self.dropped_disabled})")

    def reset(self) -> None:
        self.tail = self.head = 0
        self.pending_link = None

    def _head_db(self, value: int) -> None:
        self.head = value & U16
        if self.pending_link is not None:
            up, self.pending_link = self.pending_link, None
            if self.link_change(up):
                self.dropped_full -= 1  # it was held, not lost

    def _ring(self) -> tuple[int, int] | None:
        base = self.mgmt.reg(regs.AENQ_BASE_LO_OFF) | (self.mgmt.reg(regs.AENQ_BASE_HI_OFF) << 32)
        caps = self.mgmt.reg(regs.AENQ_CAPS_OFF)
        depth = int(QueueCaps.DEPTH.get(caps))
        if base == 0 or depth == 0 or depth & (depth - 1) or \
                int(QueueCaps.ENTRY_SIZE.get(caps)) != ENTRY_SIZE:
            return None
        return base, depth

    def post(self, entry: np.ndarray) -> bool:
        """Write one 64-byte event (group/syndrome/payload filled in by the caller) and
        raise the management vector; False if the group is disabled or the ring full."""
        group = int(entry.view(AENQ_ENTRY_DTYPE)["aenq_common_desc"]["group"][0])
        ring = self._ring()
        if ring is None or not self.enabled() >> group & 1:
            self.dropped_disabled += 1
            return False
        base, depth = ring
        if ((self.head - self.tail) & U16) == 0 or ((self.head - self.tail) & U16) > depth:
            self.dropped_full += 1
            return False
        e = entry.view(AENQ_ENTRY_DTYPE).copy()
        common = e["aenq_common_desc"]
        now = self.clock.now_ns
        common["timestamp_low"] = now & 0xFFFFFFFF
        common["timestamp_high"] = (now >> 32) & 0xFFFFFFFF
        common["flags"] = (self.tail // depth) & 1 ^ 1
        slot = base + (self.tail & (depth - 1)) * ENTRY_SIZE
        self.bus.mem.view(slot, ENTRY_SIZE)[:] = e.view(np.uint8)
        self.tail = (self.tail + 1) & U16
        self.posted += 1
        msix = self.bus.msix
        if msix.unmask(np.array([0])).size == 0:
            msix.raise_vectors(np.array([0]))
        return True

    # -- the events the device sends
    def link_change(self, up: bool) -> bool:
        e = np.zeros(1, LINK_CHANGE_DTYPE)
        e["aenq_common_desc"]["group"] = AenqGroup.LINK_CHANGE
        e["flags"] = int(up)
        return self.post(e)

    def keep_alive(self, rx_drops: int, tx_drops: int, rx_overruns: int = 0) -> bool:
        e = np.zeros(1, KEEP_ALIVE_DTYPE)
        e["aenq_common_desc"]["group"] = AenqGroup.KEEP_ALIVE
        for name, v in (("rx_drops", rx_drops), ("tx_drops", tx_drops),
                        ("rx_overruns", rx_overruns)):
            e[f"{name}_low"] = v & 0xFFFFFFFF
            e[f"{name}_high"] = v >> 32
        return self.post(e)

    def notify_hints(self, hints: dict[str, int]) -> bool:
        e = np.zeros(1, AENQ_ENTRY_DTYPE)
        e["aenq_common_desc"]["group"] = AenqGroup.NOTIFICATION
        e["aenq_common_desc"]["syndrome"] = UPDATE_HINTS
        h = np.zeros(1, HW_HINTS_DTYPE)
        for name, v in hints.items():
            h[name] = v
        e.view(np.uint8)[16:16 + h.itemsize] = h.view(np.uint8)
        return self.post(e)

    def conf_notification(self, bitmap: int) -> bool:
        """CONF_NOTIFICATIONS: a 64-bit bitmap of sub-optimal configuration codes."""
        e = np.zeros(1, AENQ_ENTRY_DTYPE)
        e["aenq_common_desc"]["group"] = AenqGroup.CONF_NOTIFICATIONS
        e.view(np.uint8)[16:24] = np.frombuffer(int(bitmap).to_bytes(8, "little"), np.uint8)
        return self.post(e)

    def event(self, group: int) -> bool:
        """An event of ``group`` with no payload (FATAL_ERROR, WARNING, ...)."""
        e = np.zeros(1, AENQ_ENTRY_DTYPE)
        e["aenq_common_desc"]["group"] = group
        return self.post(e)

    def request_reset(self) -> bool:
        e = np.zeros(1, AENQ_ENTRY_DTYPE)
        e["aenq_common_desc"]["group"] = AenqGroup.DEVICE_REQUEST_RESET
        return self.post(e)
