"""The driver side of the AENQ: ring setup, the consumer, and the FreeBSD handlers.

* ``ena_com_admin_init_aenq`` (ring, AENQ_BASE/AENQ_CAPS, head = depth, phase 1) and
  ``ena_com_admin_aenq_enable`` (AENQ_HEAD_DB = head)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L172
* ``ena_com_aenq_intr_handler``: while the entry at head has the expected phase, dispatch
  by group (an unknown or unset group goes to the unimplemented handler), advance with a
  phase flip at each wrap; then ``head += processed`` and, only if something was
  processed, write head to AENQ_HEAD_DB
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2444
* the handlers of ``aenq_handlers`` in ena.c: link change, notification (hints),
  keep-alive (drop counters, timestamp), configuration notifications (each set bit b of
  the 64-bit bitmap logged as code b + 1), device-requested reset; any other group
  (FATAL_ERROR, WARNING, ...) goes to the unimplemented handler, which only logs
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L4292
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from impl.ena.mmio import MmioRead
from impl.ena.reset import ResetState
from impl.ena_defs import regs
from impl.ena_defs.constants import ASYNC_QUEUE_DEPTH
from impl.ena_defs.mgmt_layouts import (
    AENQ_ENTRY_DTYPE,
    ENTRY_SIZE,
    HW_HINTS_DTYPE,
    KEEP_ALIVE_DTYPE,
    LINK_CHANGE_DTYPE,
)
from impl.ena_defs.regs import QueueCaps, ResetReason

Handler = Callable[[np.ndarray], None]
GROUPS_NUM = 8
LINK_CHANGE, NOTIFICATION, KEEP_ALIVE, CONF_NOTIFICATIONS, DEVICE_REQUEST_RESET = 0, 3, 4, 6, 7
UPDATE_HINTS = 2


class Aenq:
    """``struct ena_com_aenq``: the ring and the consumer."""

    def __init__(self, mmio: MmioRead, depth: int = ASYNC_QUEUE_DEPTH) -> None:
        self.mmio = mmio
        self.depth = depth
        self.addr = 0
        self.head = depth
        self.phase = 1
        self.handlers: dict[int, Handler] = {}
        self.unimplemented: Handler = lambda _e: None

    def __repr__(self) -> str:
        return (f"Aenq(depth={self.depth}, head={self.head}, phase={self.phase}, "
                f"handlers={sorted(self.handlers)})")

    @property
    def entries(self) -> np.ndarray:
        return self.mmio.bus.mem.array(self.addr, AENQ_ENTRY_DTYPE, self.depth)

    def init(self) -> None:
        """``ena_com_admin_init_aenq``."""
        self.addr = self.mmio.bus.mem.alloc(self.depth * ENTRY_SIZE)
        self.head = self.depth
        self.phase = 1
        self.mmio.write32(regs.AENQ_BASE_LO_OFF, self.addr & 0xFFFFFFFF)
        self.mmio.write32(regs.AENQ_BASE_HI_OFF, self.addr >> 32)
        self.mmio.write32(regs.AENQ_CAPS_OFF, int(QueueCaps.DEPTH.put(self.depth)
                                                   | QueueCaps.ENTRY_SIZE.put(ENTRY_SIZE)))

    def destroy(self) -> None:
        """``ena_com_admin_destroy`` (AENQ part): free the ring."""
        if self.addr:
            self.mmio.bus.mem.free(self.addr)
            self.addr = 0

    def enable(self) -> None:
        """``ena_com_admin_aenq_enable``: all entries available."""
        self.mmio.write32(regs.AENQ_HEAD_DB_OFF, self.head)

    def intr_handler(self) -> int:
        """``ena_com_aenq_intr_handler``: returns how many events were processed."""
        ring = self.entries
        masked = self.head & (self.depth - 1)
        phase = self.phase
        n = 0
        while int(ring["aenq_common_desc"]["flags"][masked]) & 1 == phase:
            entry = ring[masked:masked + 1].copy()
            group = int(entry["aenq_common_desc"]["group"][0])
            self.handlers.get(group, self.unimplemented)(entry)
            masked += 1
            n += 1
            if masked == self.depth:
                masked = 0
                phase ^= 1
        self.head = (self.head + n) & 0xFFFF
        self.phase = phase
        if n:
            self.mmio.write32(regs.AENQ_HEAD_DB_OFF, self.head)
        return n


    def pending(self) -> np.ndarray:
        """The entries the device has written and the consumer not yet taken, in order
        (the run from head whose phase matches, at most one lap)."""
        ring = self.entries
        k = np.arange(self.depth)
        pos = (self.head + k) & (self.depth - 1)
        want = np.where((self.head & (self.depth - 1)) + k >= self.depth, self.phase ^ 1,
                        self.phase)
        match = (ring["aenq_common_desc"]["flags"][pos] & 1) == want
        n = int(np.argmin(match)) if not match.all() else self.depth
        return ring[pos[:n]]

    def has_keep_alive(self) -> bool:
        """``ena_com_aenq_has_keep_alive``: is a KEEP_ALIVE among the unprocessed events?
        (the watchdog then blames a lost management interrupt, not the device).
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2506
        """
        return bool((self.pending()["aenq_common_desc"]["group"] == KEEP_ALIVE).any())


def _u64(rec: np.ndarray, name: str) -> int:
    return int(rec[f"{name}_low"][0]) | (int(rec[f"{name}_high"][0]) << 32)


@dataclass
class AenqEvents:
    """What the FreeBSD handlers record (adapter fields they touch)."""

    link_up: bool = False
    keep_alive_timestamp_ns: int = 0
    rx_drops: int = 0
    tx_drops: int = 0
    rx_overruns: int = 0
    hints: dict[str, int] = field(default_factory=dict)
    unimplemented: list[int] = field(default_factory=list)
    conf_codes: list[int] = field(default_factory=list)
    """The codes ``ena_conf_notification`` logged: bit b of the bitmap is code b + 1."""


def install_handlers(aenq: Aenq, events: AenqEvents, reset: ResetState,
                     now_ns: Callable[[], int]) -> None:
    """The ``aenq_handlers`` table of ena.c on ``aenq``."""

    def link_change(e: np.ndarray) -> None:
        """``ena_update_on_link_change``: flags bit 0 is the link status."""
        events.link_up = bool(int(e.view(LINK_CHANGE_DTYPE)["flags"][0]) & 1)

    def keep_alive(e: np.ndarray) -> None:
        """``ena_keep_alive_wd``: the device's drop counters, and the time it was heard."""
        k = e.view(KEEP_ALIVE_DTYPE)
        events.rx_drops, events.tx_drops = _u64(k, "rx_drops"), _u64(k, "tx_drops")
        events.rx_overruns = _u64(k, "rx_overruns")
        events.keep_alive_timestamp_ns = now_ns()

    def notification(e: np.ndarray) -> None:
        """``ena_notification``: UPDATE_HINTS carries HW hints; other syndromes are
        logged."""
        if int(e["aenq_common_desc"]["syndrome"][0]) != UPDATE_HINTS:
            events.unimplemented.append(NOTIFICATION)
            return
        h = np.frombuffer(e.view(np.uint8)[16:16 + HW_HINTS_DTYPE.itemsize].tobytes(),
                          HW_HINTS_DTYPE)
        events.hints = {n: int(h[n][0]) for n in HW_HINTS_DTYPE.names or () if n != "reserved"}

    def conf_notification(e: np.ndarray) -> None:
        """``ena_conf_notification``: each set bit b of the bitmap is logged as code
        b + 1."""
        bitmap = int(e.view(np.uint8)[16:24].view("<u8")[0])
        bits = np.flatnonzero(np.unpackbits(np.frombuffer(bitmap.to_bytes(8, "little"),
                                                          np.uint8), bitorder="little"))
        events.conf_codes.extend((bits + 1).tolist())

    def device_reset(_e: np.ndarray) -> None:
        """``ena_admin_device_request_reset``: reset with reason DEVICE_REQUEST."""
        reset.trigger(ResetReason.DEVICE_REQUEST)

    def unimplemented(e: np.ndarray) -> None:
        """``unimplemented_aenq_handler``: logged only."""
        events.unimplemented.append(int(e["aenq_common_desc"]["group"][0]))

    aenq.handlers.update({LINK_CHANGE: link_change, KEEP_ALIVE: keep_alive,
                          NOTIFICATION: notification, CONF_NOTIFICATIONS: conf_notification,
                          DEVICE_REQUEST_RESET: device_reset})
    aenq.unimplemented = unimplemented
