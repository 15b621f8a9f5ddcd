"""The device side of the admin queue: fetch commands from the admin SQ, execute them,
write completions to the admin CQ (ACQ) with the phase bit, raise the management vector.

Protocol (the device's half of ``ena_com_submit_admin_cmd`` and
``ena_com_handle_admin_completion``):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L255
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L527

* The driver programs AQ_BASE/ACQ_BASE and AQ_CAPS/ACQ_CAPS (depth, entry size 64)
  after each reset (``ena_com_admin_init``); until then doorbells are ignored.
* An AQ_DB write carries the driver's free-running u16 SQ tail. A tail more than one
  ring ahead of the device's head is refused (counted, ignored).
* ``admin_latency_ns`` after a doorbell the device consumes every published entry in
  order. An entry is valid only if its phase bit (``flags`` bit 0) is the pass's phase (1
  on the first pass, flipping at each wrap); at the first stale entry it stops.
* Each command gets one 64-byte ACQ entry: ``command`` = the 12-bit command id,
  ``status``, ``sq_head_indx`` = the SQ head after the command, the phase in ``flags``,
  and the command's response body. Then, if INTR_MASK is 0, the management vector (0)
  fires once for the batch.

Faults (:mod:`impl.device.mgmt_faults`): ``admin_comp_lost`` drops one command's ACQ entry
(the command still takes effect); ``admin_comp_late`` writes it (and raises the vector)
only :data:`LATE_MARGIN_NS` past the command timeout the device advertises (CAPS.ADMIN_CMD_TO,
3 s if 0), when the driver's waiter has given up -- unless a device reset came first;
``admin_intr_lost`` drops the batch's interrupt.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impl.bus import Bus, BusError
from impl.device.clock import SimClock
from impl.device.mgmt_faults import MgmtFaults, MgmtStats, hit
from impl.device.regs_bar import MgmtRegs
from impl.ena_defs import regs
from impl.ena_defs.constants import ADMIN_CMD_TIMEOUT_US, AdminStatus
from impl.ena_defs.mgmt_layouts import (
    ACQ_COMMAND_ID,
    ACQ_ENTRY_DTYPE,
    AQ_COMMAND_ID,
    AQ_ENTRY_DTYPE,
    AQ_PHASE,
    ENTRY_SIZE,
)
from impl.ena_defs.regs import QueueCaps

U16 = 0xFFFF
LATE_MARGIN_NS = 50_000_000
"""How far past the advertised command timeout a late completion (``admin_comp_late``)
is written."""
ADMIN_CMD_TO_UNIT_NS = 100_000_000
"""CAPS.ADMIN_CMD_TO counts 100 ms."""
ADMIN_VECTOR = 0
"""MSI-X vector 0: management (admin completions and AENQ events)."""

Executor = Callable[[np.ndarray], tuple[int, np.ndarray]]
"""Runs one 64-byte command; returns its status and the 56-byte response body."""


def _ring(mgmt: MgmtRegs, lo: int, hi: int, caps: int) -> tuple[int, int] | None:
    """(base, depth) of a ring whose registers are programmed validly, else None."""
    base = mgmt.reg(lo) | (mgmt.reg(hi) << 32)
    c = mgmt.reg(caps)
    depth = int(QueueCaps.DEPTH.get(c))
    size = int(QueueCaps.ENTRY_SIZE.get(c))
    if base == 0 or size != ENTRY_SIZE or depth == 0 or depth & (depth - 1):
        return None
    return base, depth


class DeviceAdminQueue:
    """The device's admin SQ consumer and ACQ producer."""

    def __init__(self, bus: Bus, clock: SimClock, latency_ns: int, mgmt: MgmtRegs,
                 faults: MgmtFaults, stats: MgmtStats, execute: Executor) -> None:
        self.bus = bus
        self.clock = clock
        self.latency_ns = latency_ns
        self.mgmt = mgmt
        self.faults = faults
        self.rng = mgmt.rng
        self.stats = stats
        self.execute = execute
        self.sq_head = 0
        self.sq_tail = 0
        self.cq_tail = 0
        self.bad_phase = 0
        self.doorbell_overrun = 0
        self._scheduled = False
        self._epoch = 0
        mgmt.on_write(regs.AQ_DB_OFF, self.doorbell)
        mgmt.on_read(regs.ACQ_TAIL_OFF, lambda: self.cq_tail & U16)

    def __repr__(self) -> str:
        return (f"DeviceAdminQueue(sq_head={self.sq_head}, sq_tail={self.sq_tail}, "
                f"cq_tail={self.cq_tail}, cmds={self.stats.admin_cmds}, "
                f"bad_phase={self.bad_phase})")

    def reset(self) -> None:
        """Device reset: the queue is forgotten; commands not yet fetched are dropped."""
        self.sq_head = self.sq_tail = self.cq_tail = 0
        self._scheduled = False
        self._epoch += 1

    def doorbell(self, value: int) -> None:
        """AQ_DB write: latch the new tail and schedule the fetch."""
        sq = _ring(self.mgmt, regs.AQ_BASE_LO_OFF, regs.AQ_BASE_HI_OFF, regs.AQ_CAPS_OFF)
        tail = value & U16
        if sq is None or ((tail - self.sq_head) & U16) > sq[1]:
            self.doorbell_overrun += 1
            return
        self.sq_tail = tail
        if not self._scheduled:
            self._scheduled = True
            epoch = self._epoch
            self.clock.call_after(self.latency_ns, lambda: self._process(epoch))

    def _process(self, epoch: int) -> None:
        if epoch != self._epoch:
            return
        self._scheduled = False
        sq = _ring(self.mgmt, regs.AQ_BASE_LO_OFF, regs.AQ_BASE_HI_OFF, regs.AQ_CAPS_OFF)
        cq = _ring(self.mgmt, regs.ACQ_BASE_LO_OFF, regs.ACQ_BASE_HI_OFF, regs.ACQ_CAPS_OFF)
        if sq is None or cq is None:
            return
        (sq_base, sq_depth), (cq_base, cq_depth) = sq, cq
        wrote = 0
        while self.sq_head != self.sq_tail:  # one command at a time, in order
            slot = sq_base + (self.sq_head & (sq_depth - 1)) * ENTRY_SIZE
            try:
                raw = self.bus.mem.view(slot, ENTRY_SIZE).copy()
            except BusError:
                self.stats.add("admin_dma_error")
                return
            cmd = raw.view(AQ_ENTRY_DTYPE)["aq_common_descriptor"]
            want = (self.sq_head // sq_depth) & 1 ^ 1
            if int(AQ_PHASE.get(cmd["flags"])[0]) != want:
                self.bad_phase += 1
                return
            cmd_id = int(AQ_COMMAND_ID.get(cmd["command_id"])[0])
            status, body = self.execute(raw)
            self.stats.add("admin_cmds")
            self.sq_head = (self.sq_head + 1) & U16
            if hit(self.rng, self.faults.admin_comp_lost):
                self.stats.add("admin_comp_lost")
                continue
            if hit(self.rng, self.faults.admin_comp_late):
                self.stats.add("admin_comp_late")
                self._complete_late(epoch, cmd_id, status, body)
                continue
            self._complete(cq_base, cq_depth, cmd_id, status, body)
            wrote += 1
        if wrote:
            self._interrupt()

    def late_ns(self) -> int:
        """When a late completion comes after its command: the advertised command timeout
        (``ena_com_dev_reset`` sets the driver's ``completion_timeout`` from CAPS) plus
        :data:`LATE_MARGIN_NS`."""
        to = self.mgmt.config.admin_cmd_to
        return (to * ADMIN_CMD_TO_UNIT_NS if to else ADMIN_CMD_TIMEOUT_US * 1000) \
            + LATE_MARGIN_NS

    def _complete_late(self, epoch: int, cmd_id: int, status: int,
                       body: np.ndarray) -> None:
        """``admin_comp_late``: the entry is written (and the vector raised) after
        :meth:`late_ns`, in the ACQ as it is then; a device reset meanwhile forgets it."""

        def write() -> None:
            cq = _ring(self.mgmt, regs.ACQ_BASE_LO_OFF, regs.ACQ_BASE_HI_OFF,
                       regs.ACQ_CAPS_OFF)
            if epoch != self._epoch or cq is None:
                return
            self._complete(*cq, cmd_id, status, body)
            self._interrupt()
        self.clock.call_after(self.late_ns(), write)

    def _complete(self, base: int, depth: int, cmd_id: int, status: int,
                  body: np.ndarray) -> None:
        entry = np.zeros(1, ACQ_ENTRY_DTYPE)
        raw = entry.view(np.uint8)
        raw[8:] = body[:ENTRY_SIZE - 8]
        common = entry["acq_common_descriptor"]
        common["command"] = int(ACQ_COMMAND_ID.put(cmd_id))
        common["status"] = status
        common["sq_head_indx"] = self.sq_head
        common["flags"] = (self.cq_tail // depth) & 1 ^ 1
        slot = base + (self.cq_tail & (depth - 1)) * ENTRY_SIZE
        self.bus.mem.view(slot, ENTRY_SIZE)[:] = raw
        self.cq_tail = (self.cq_tail + 1) & U16

    def _interrupt(self) -> None:
        if self.mgmt.reg(regs.INTR_MASK_OFF) & regs.ADMIN_INTR_MASK:
            return
        if hit(self.rng, self.faults.admin_intr_lost):
            self.stats.add("admin_intr_lost")
            return
        self.stats.add("admin_interrupts")
        msix = self.bus.msix
        if msix.unmask(np.array([ADMIN_VECTOR])).size == 0:
            msix.raise_vectors(np.array([ADMIN_VECTOR]))


def bad_opcode(_raw: np.ndarray) -> tuple[int, np.ndarray]:
    """The executor of a device that knows no command."""
    return int(AdminStatus.BAD_OPCODE), np.zeros(ENTRY_SIZE - 8, np.uint8)
