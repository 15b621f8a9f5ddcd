"""The driver's admin queue (ena_com): submission with command ids, completion by phase
bit, polling and interrupt waits on the simulated clock, status -> errno.

Upstream, all in ``ena-com/ena_com.c``:

* ``ena_com_admin_init`` (DEV_STS.READY, rings, base/caps registers)
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2112
* ``ena_com_submit_admin_cmd`` / ``__ena_com_submit_admin_cmd`` / ``get_comp_ctxt``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L225
* ``ena_com_handle_single_admin_completion`` / ``ena_com_handle_admin_completion``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L497
* ``ena_com_comp_status_to_errno``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L564
* ``ena_com_wait_and_process_admin_cq_polling`` / ``_interrupts``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L598
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L821
* ``ena_com_abort_admin_commands``, ``ena_com_set_admin_polling_mode``
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1530

Return codes are the FreeBSD ``ENA_COM_*`` ones (``ena_plat.h``) as Python ``errno``
names: ENOSPC, EINVAL, ENODEV, ETIMEDOUT, ENOMEM, EOPNOTSUPP, and ``-1`` for TRY_AGAIN.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from impl.ena.com_reset import ResetTimeouts
from impl.ena.mmio import MmioRead
from impl.ena.poll import US, backoff_us, wait_event
from impl.ena_defs import regs
from impl.ena_defs.constants import ADMIN_QUEUE_DEPTH, AdminStatus
from impl.ena_defs.mgmt_layouts import (
    ACQ_COMMAND_ID,
    ACQ_ENTRY_DTYPE,
    AQ_COMMAND_ID,
    AQ_COMMON_DTYPE,
    ENTRY_SIZE,
)
from impl.ena_defs.regs import MMIO_READ_TIMEOUT, DevSts, QueueCaps

TRY_AGAIN = -1
"""``ENA_COM_TRY_AGAIN``: the only negative ena_com code."""
ADMIN_VECTOR = 0


class CmdStatus(IntEnum):
    """``enum ena_cmd_status``."""

    SUBMITTED = 0
    COMPLETED = 1
    ABORTED = 2


STATUS_TO_ERRNO: dict[int, int] = {
    AdminStatus.SUCCESS: 0,
    AdminStatus.RESOURCE_ALLOCATION_FAILURE: errno.ENOMEM,
    AdminStatus.UNSUPPORTED_OPCODE: errno.EOPNOTSUPP,
    AdminStatus.BAD_OPCODE: errno.EINVAL,
    AdminStatus.MALFORMED_REQUEST: errno.EINVAL,
    AdminStatus.ILLEGAL_PARAMETER: errno.EINVAL,
    AdminStatus.UNKNOWN_ERROR: errno.EINVAL,
    AdminStatus.RESOURCE_BUSY: TRY_AGAIN,
}
"""The cases of ``ena_com_comp_status_to_errno``'s switch: each completion status and the
ena_com code (``ENA_COM_OK``, ``NO_MEM``, ``UNSUPPORTED``, ``INVAL``, ``TRY_AGAIN``)."""
UNKNOWN_STATUS_ERRNO = errno.EINVAL
"""What the switch falls through to for a status it does not name."""


def status_to_errno(status: int) -> int:
    """``ena_com_comp_status_to_errno``: :data:`STATUS_TO_ERRNO`, else
    :data:`UNKNOWN_STATUS_ERRNO`."""
    return STATUS_TO_ERRNO.get(status, UNKNOWN_STATUS_ERRNO)


@dataclass
class CompCtx:
    """``struct ena_comp_ctx``: one outstanding command."""

    status: CmdStatus = CmdStatus.SUBMITTED
    comp_status: int = 0
    cmd_opcode: int = 0
    occupied: bool = False
    user_cqe: np.ndarray | None = None
    """Where the completion is copied (64 bytes), until the waiter releases the context."""
    signalled: bool = False


@dataclass
class AdminStats:
    """``struct ena_com_stats_admin``."""

    aborted_cmd: int = 0
    submitted_cmd: int = 0
    completed_cmd: int = 0
    out_of_space: int = 0
    no_completion: int = 0


class AdminQueue:
    """``struct ena_com_admin_queue`` and its operations."""

    def __init__(self, mmio: MmioRead, timeouts: ResetTimeouts,
                 depth: int = ADMIN_QUEUE_DEPTH) -> None:
        self.mmio = mmio
        self.bus = mmio.bus
        self.clock = mmio.clock
        self.timeouts = timeouts
        self.depth = depth
        self.running_state = False
        self.polling = False
        self.auto_polling = False
        self.is_missing_admin_interrupt = False
        self.stats = AdminStats()
        self.sq_addr = 0
        self.cq_addr = 0
        self._reset_counters()
        self.comp_ctx = [CompCtx() for _ in range(depth)]
        self.extra_isr: Callable[[], None] | None = None
        """Run after the admin completions on each management interrupt (the AENQ)."""
        self._irq_installed = False

    def _reset_counters(self) -> None:
        self.sq_tail = 0
        self.sq_head = 0
        self.sq_phase = 1
        self.cq_head = 0
        self.cq_phase = 1
        self.curr_cmd_id = 0
        self.outstanding_cmds = 0

    def __repr__(self) -> str:
        mode = "polling" if self.polling else "interrupts"
        return (f"AdminQueue(depth={self.depth}, {mode}, running={self.running_state}, "
                f"sq_tail={self.sq_tail}, cq_head={self.cq_head}, phase={self.cq_phase}, "
                f"outstanding={self.outstanding_cmds}, curr_cmd_id={self.curr_cmd_id})")

    # -- rings in host memory
    @property
    def sq_entries(self) -> np.ndarray:
        """The admin SQ as ``depth`` rows of 64 bytes (a view of host memory)."""
        return self.bus.mem.view(self.sq_addr, self.depth * ENTRY_SIZE).reshape(
            self.depth, ENTRY_SIZE)

    @property
    def cq_entries(self) -> np.ndarray:
        return self.bus.mem.array(self.cq_addr, ACQ_ENTRY_DTYPE, self.depth)

    # -- setup and teardown
    def init(self) -> int:
        """``ena_com_admin_init`` (admin part): 0, ETIMEDOUT (DEV_STS unreadable) or
        ENODEV (device not ready); rings allocated and programmed, running."""
        sts = self.mmio.read32(regs.DEV_STS_OFF)
        if sts == MMIO_READ_TIMEOUT:
            return errno.ETIMEDOUT
        if not sts & DevSts.READY.mask:
            return errno.ENODEV
        self.destroy()
        self.polling = False
        self._reset_counters()
        self.comp_ctx = [CompCtx() for _ in range(self.depth)]
        size = self.depth * ENTRY_SIZE
        self.sq_addr = self.bus.mem.alloc(size)
        self.cq_addr = self.bus.mem.alloc(size)
        w = self.mmio.write32
        w(regs.AQ_BASE_LO_OFF, self.sq_addr & 0xFFFFFFFF)
        w(regs.AQ_BASE_HI_OFF, self.sq_addr >> 32)
        w(regs.ACQ_BASE_LO_OFF, self.cq_addr & 0xFFFFFFFF)
        w(regs.ACQ_BASE_HI_OFF, self.cq_addr >> 32)
        caps = int(QueueCaps.DEPTH.put(self.depth) | QueueCaps.ENTRY_SIZE.put(ENTRY_SIZE))
        w(regs.AQ_CAPS_OFF, caps)
        w(regs.ACQ_CAPS_OFF, caps)
        self._install_irq()
        self.running_state = True
        self.is_missing_admin_interrupt = False
        return 0

    def destroy(self) -> None:
        """``ena_com_admin_destroy`` (admin part): free the rings."""
        for addr in (self.sq_addr, self.cq_addr):
            if addr:
                self.bus.mem.free(addr)
        self.sq_addr = self.cq_addr = 0
        self.running_state = False

    def _install_irq(self) -> None:
        """Hook the management vector: ``ena_intr_msix_mgmnt`` runs the admin completion
        handler (then the AENQ's, if set). Other vectors go to the previous handler."""
        if self._irq_installed:
            return
        msix = self.bus.msix
        prev = msix.handler

        def on_vectors(v: np.ndarray) -> None:
            if (v == ADMIN_VECTOR).any():
                self.intr_handler()
                if self.extra_isr is not None:
                    self.extra_isr()
            if prev is not None:
                prev(v)
        msix.handler = on_vectors
        self._irq_installed = True

    def set_polling_mode(self, polling: bool) -> None:
        """``ena_com_set_admin_polling_mode``: INTR_MASK = 1 (polling) or 0."""
        self.mmio.write32(regs.INTR_MASK_OFF, regs.ADMIN_INTR_MASK if polling else 0)
        self.polling = polling

    # -- submission
    def submit(self, cmd: np.ndarray,
               comp: np.ndarray | None) -> tuple[int, CompCtx | None]:
        """``ena_com_submit_admin_cmd``: ``(0, ctx)`` or ``(ENODEV | ENOSPC | EINVAL,
        None)``; any failure stops the queue (``running_state = false``)."""
        if not self.running_state:
            return errno.ENODEV, None
        rc, ctx = self._submit(cmd, comp)
        if rc:
            self.running_state = False
        return rc, ctx

    def _submit(self, cmd: np.ndarray,
                comp: np.ndarray | None) -> tuple[int, CompCtx | None]:
        mask = self.depth - 1
        if self.outstanding_cmds >= self.depth:
            self.stats.out_of_space += 1
            return errno.ENOSPC, None
        cmd_id = self.curr_cmd_id
        ctx = self.comp_ctx[cmd_id]
        if ctx.occupied:
            return errno.EINVAL, None
        raw = cmd.view(np.uint8).copy()
        common = raw.view(AQ_COMMON_DTYPE)[:1]
        common["flags"] |= self.sq_phase & 1
        common["command_id"] |= int(AQ_COMMAND_ID.put(cmd_id))
        self.outstanding_cmds += 1
        ctx.occupied = True
        ctx.status = CmdStatus.SUBMITTED
        ctx.user_cqe = comp
        ctx.cmd_opcode = int(common["opcode"][0])
        ctx.signalled = False
        self.sq_entries[self.sq_tail & mask] = raw
        self.curr_cmd_id = (self.curr_cmd_id + 1) & mask
        self.sq_tail = (self.sq_tail + 1) & 0xFFFF
        self.stats.submitted_cmd += 1
        if self.sq_tail & mask == 0:
            self.sq_phase ^= 1
        self.mmio.write32(regs.AQ_DB_OFF, self.sq_tail)
        return 0, ctx

    # -- completion
    def handle_completion(self) -> int:
        """``ena_com_handle_admin_completion``: consume every ACQ entry whose phase is the
        expected one; returns how many."""
        if not self.cq_addr:
            return 0
        ring = self.cq_entries
        head = self.cq_head & (self.depth - 1)
        phase = self.cq_phase
        n = 0
        while int(ring["acq_common_descriptor"]["flags"][head]) & 1 == phase:
            self._single_completion(ring[head:head + 1])
            head += 1
            n += 1
            if head == self.depth:
                head = 0
                phase ^= 1
        self.cq_head = (self.cq_head + n) & 0xFFFF
        self.cq_phase = phase
        self.sq_head = (self.sq_head + n) & 0xFFFF
        self.stats.completed_cmd += n
        return n

    def _single_completion(self, cqe: np.ndarray) -> None:
        cmd_id = int(ACQ_COMMAND_ID.get(cqe["acq_common_descriptor"]["command"])[0])
        if cmd_id >= self.depth:
            self.running_state = False
            return
        ctx = self.comp_ctx[cmd_id]
        if not ctx.occupied:
            return
        ctx.status = CmdStatus.COMPLETED
        ctx.comp_status = int(cqe["acq_common_descriptor"]["status"][0])
        if ctx.user_cqe is not None:
            ctx.user_cqe[:] = cqe.view(np.uint8)
        if not self.polling:
            ctx.signalled = True

    def intr_handler(self) -> None:
        """``ena_com_admin_q_comp_intr_handler``."""
        self.handle_completion()

    def _release(self, ctx: CompCtx) -> None:
        """``comp_ctxt_release``."""
        ctx.user_cqe = None
        ctx.occupied = False
        self.outstanding_cmds -= 1

    def _wait_polling(self, ctx: CompCtx) -> int:
        deadline = self.clock.now_ns + self.timeouts.completion_timeout_us * US
        exp = 0
        while True:
            self.handle_completion()
            if ctx.status != CmdStatus.SUBMITTED:
                break
            if self.clock.now_ns > deadline:
                self.stats.no_completion += 1
                self.running_state = False
                self._release(ctx)
                return errno.ETIMEDOUT
            self.clock.advance(backoff_us(exp, self.timeouts.min_poll_delay_us) * US)
            exp += 1
        return self._finish(ctx)

    def _wait_interrupts(self, ctx: CompCtx) -> int:
        wait_event(self.clock, lambda: ctx.signalled or ctx.status == CmdStatus.ABORTED,
                   self.timeouts.completion_timeout_us * US)
        if ctx.status == CmdStatus.SUBMITTED:
            self.handle_completion()
            self.stats.no_completion += 1
            if ctx.status == CmdStatus.COMPLETED:
                self.is_missing_admin_interrupt = True
                if self.auto_polling:
                    self.polling = True
            if not self.polling:
                self.running_state = False
                self._release(ctx)
                return errno.ETIMEDOUT
        return self._finish(ctx)

    def _finish(self, ctx: CompCtx) -> int:
        if ctx.status == CmdStatus.ABORTED:
            self.stats.aborted_cmd += 1
            rc = errno.ENODEV
        else:
            rc = status_to_errno(ctx.comp_status)
        self._release(ctx)
        return rc

    def execute(self, cmd: np.ndarray) -> tuple[int, np.ndarray]:
        """``ena_com_execute_admin_command``: submit, wait (polling or interrupts), map the
        status. Returns the errno-style code and the 64-byte completion (zeros if none)."""
        comp = np.zeros(ENTRY_SIZE, np.uint8)
        rc, ctx = self.submit(cmd, comp)
        if rc or ctx is None:
            return rc, comp
        if self.polling:
            return self._wait_polling(ctx), comp
        return self._wait_interrupts(ctx), comp

    def abort(self) -> None:
        """``ena_com_abort_admin_commands``: every context is marked ABORTED and woken."""
        for ctx in self.comp_ctx:
            ctx.status = CmdStatus.ABORTED
            ctx.signalled = True
