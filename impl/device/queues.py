"""The device's IO queue table and the queue-creation port (CREATE/DESTROY SQ and CQ).

Queues live in arrays indexed by queue number, so the datapath reads the context of many
queues with one fancy index. The port checks every command before it changes anything: a
bad command returns a non-SUCCESS status and leaves the table as it was.

What it checks (``ena_com_create_io_cq`` / ``ena_com_create_io_sq`` build the commands):
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L1461

* depth: a power of two that fits the u16 field (ENA counters are free-running u16);
* rings inside host memory (CQ: ``depth * 4 * cq_entry_size_words`` bytes, host SQ:
  ``depth * 16``), MSI-X vector on the bus, CQ entry size 2 or 4 words;
* SQ: its CQ exists and serves no other SQ, the CQ entry size matches the direction
  (TX cdesc 8 B, RX cdesc 16 B), LLQ (placement DEV) only for TX and only if its ring of
  ``depth * llq_entry_size`` bytes fits the SQ's window of the LLQ BAR;
* destroy: the queue exists (an SQ also with the given direction); a CQ still bound to an
  SQ is refused (RESOURCE_BUSY).
"""

from __future__ import annotations

import numpy as np

from impl.bus import Bus
from impl.device.config import DeviceConfig
from impl.device.tx import expected_phase
from impl.ena_defs import regs
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateCqResp,
    CreateSqCmd,
    CreateSqResp,
    DestroyCqCmd,
    DestroyResp,
    DestroySqCmd,
)
from impl.ena_defs.constants import AdminStatus, PlacementPolicy, SqDirection
from impl.ena_defs.layouts import DESC_SIZE, RX_CDESC_DTYPE, TX_CDESC_DTYPE, RxCdesc, TxCdesc

MAX_DEPTH = 1 << 15
"""Largest power of two in the u16 depth fields."""

TX_CQ_WORDS = 2
RX_CQ_WORDS = 4


def _pow2(n: int) -> bool:
    return 0 < n <= MAX_DEPTH and n & (n - 1) == 0


class QueueTable:
    """SQ and CQ contexts, one array element per queue index (``max_queues`` of each).

    Counters are free-running u16 like the driver's: ``sq_tail`` is the last doorbell
    value, ``sq_head`` the device's consumer, ``cq_tail`` the producer of completions
    (its phase is ``(cq_tail // depth) & 1 == 0``, i.e. 1 on the first pass)."""

    def __init__(self, bus: Bus, config: DeviceConfig) -> None:
        n = config.max_queues
        self.bus = bus
        self.config = config
        self.llq_window = bus.llq.size // n
        # completion queues
        self.cq_used = np.zeros(n, dtype=bool)
        self.cq_depth = np.ones(n, dtype=np.int64)
        self.cq_ba = np.zeros(n, dtype=np.int64)
        self.cq_words = np.zeros(n, dtype=np.int64)
        self.cq_vector = np.zeros(n, dtype=np.int64)
        self.cq_intr = np.zeros(n, dtype=bool)
        self.cq_tail = np.zeros(n, dtype=np.int64)
        self.cq_sq = np.full(n, -1, dtype=np.int64)
        # submission queues
        self.sq_used = np.zeros(n, dtype=bool)
        self.sq_dir = np.zeros(n, dtype=np.int64)
        self.sq_llq = np.zeros(n, dtype=bool)
        self.sq_depth = np.ones(n, dtype=np.int64)
        self.sq_ba = np.zeros(n, dtype=np.int64)
        self.sq_cq = np.full(n, -1, dtype=np.int64)
        self.sq_llq_off = np.zeros(n, dtype=np.int64)
        self.sq_tail = np.zeros(n, dtype=np.int64)
        self.sq_head = np.zeros(n, dtype=np.int64)

    # -- register offsets this device hands out
    @staticmethod
    def doorbell_offset(sq_idx: int) -> int:
        return regs.IO_DOORBELL_BASE + 4 * sq_idx

    @staticmethod
    def unmask_offset(cq_idx: int) -> int:
        return regs.IO_UNMASK_BASE + 4 * cq_idx

    @staticmethod
    def numa_offset(cq_idx: int) -> int:
        return regs.IO_NUMA_BASE + 4 * cq_idx

    def _ring_ok(self, addr: int, nbytes: int) -> bool:
        return bool(self.bus.mem.in_range(np.array([addr]), np.array([nbytes]))[0]) and addr > 0

    def _write_past_phases(self, i: int) -> None:
        """``DeviceConfig.counter_base`` (test-only): CQ ``i`` starts at completion
        ``base``, so each slot holds what the completions before it wrote: the phase of
        the last completion ``c < base`` that falls into the slot (slots no completion
        reached stay zeroed, as at allocation).  Only the phase bit is written."""
        base = self.config.counter_base & 0xFFFF
        d = int(self.cq_depth[i])
        ctr = base - d + np.arange(d, dtype=np.int64)  # one completion per slot
        ctr = ctr[ctr >= 0]
        if ctr.size == 0:
            return
        if self.cq_words[i] == TX_CQ_WORDS:
            ring = self.bus.mem.array(int(self.cq_ba[i]), TX_CDESC_DTYPE, d)
            ring["flags"][ctr & (d - 1)] = TxCdesc.PHASE.put(expected_phase(ctr, d))
        else:
            ring = self.bus.mem.array(int(self.cq_ba[i]), RX_CDESC_DTYPE, d)
            ring["status"][ctr & (d - 1)] = RxCdesc.PHASE.put(expected_phase(ctr, d))

    # -- the port
    def create_cq(self, cmd: CreateCqCmd) -> CreateCqResp:
        """ENA_ADMIN_CREATE_CQ: the lowest free CQ index, its unmask register offset."""
        free = np.flatnonzero(~self.cq_used)
        if (not _pow2(cmd.cq_depth) or cmd.cq_entry_size_words not in (TX_CQ_WORDS, RX_CQ_WORDS)
                or not 0 <= cmd.msix_vector < self.bus.msix.nvec
                or not self._ring_ok(cmd.cq_ba, cmd.cq_depth * 4 * cmd.cq_entry_size_words)):
            return CreateCqResp(AdminStatus.ILLEGAL_PARAMETER)
        if free.size == 0:
            return CreateCqResp(AdminStatus.RESOURCE_ALLOCATION_FAILURE)
        i = int(free[0])
        self.cq_used[i] = True
        self.cq_depth[i] = cmd.cq_depth
        self.cq_ba[i] = cmd.cq_ba
        self.cq_words[i] = cmd.cq_entry_size_words
        self.cq_vector[i] = cmd.msix_vector
        self.cq_intr[i] = cmd.interrupt_mode_enabled
        self.cq_tail[i] = self.config.counter_base & 0xFFFF
        self.cq_sq[i] = -1
        self._write_past_phases(i)
        return CreateCqResp(AdminStatus.SUCCESS, cq_idx=i, cq_actual_depth=cmd.cq_depth,
                            numa_node_register_offset=self.numa_offset(i),
                            cq_head_db_register_offset=0,
                            cq_interrupt_unmask_register_offset=self.unmask_offset(i))

    def create_sq(self, cmd: CreateSqCmd) -> CreateSqResp:
        """ENA_ADMIN_CREATE_SQ: the lowest free SQ index, its doorbell offset, and for LLQ
        the offset of its entry ring in the LLQ BAR."""
        bad = CreateSqResp(AdminStatus.ILLEGAL_PARAMETER)
        try:
            direction = SqDirection(cmd.sq_direction)
            placement = PlacementPolicy(cmd.placement_policy)
        except ValueError:
            return bad
        cq = cmd.cq_idx
        if not _pow2(cmd.sq_depth) or not 0 <= cq < self.cq_used.size or not self.cq_used[cq]:
            return bad
        want_words = TX_CQ_WORDS if direction == SqDirection.TX else RX_CQ_WORDS
        if self.cq_sq[cq] != -1 or self.cq_words[cq] != want_words:
            return bad
        llq = placement == PlacementPolicy.DEV
        if llq and direction != SqDirection.TX:
            return bad
        if llq and cmd.sq_depth * self.config.llq_entry_size > self.llq_window:
            return CreateSqResp(AdminStatus.RESOURCE_ALLOCATION_FAILURE)
        if not llq and not self._ring_ok(cmd.sq_ba, cmd.sq_depth * DESC_SIZE):
            return bad
        free = np.flatnonzero(~self.sq_used)
        if free.size == 0:
            return CreateSqResp(AdminStatus.RESOURCE_ALLOCATION_FAILURE)
        i = int(free[0])
        self.sq_used[i] = True
        self.sq_dir[i] = int(direction)
        self.sq_llq[i] = llq
        self.sq_depth[i] = cmd.sq_depth
        self.sq_ba[i] = 0 if llq else cmd.sq_ba
        self.sq_cq[i] = cq
        self.sq_llq_off[i] = i * self.llq_window if llq else 0
        self.sq_tail[i] = self.sq_head[i] = self.config.counter_base & 0xFFFF
        self.cq_sq[cq] = i
        return CreateSqResp(AdminStatus.SUCCESS, sq_idx=i,
                            sq_doorbell_offset=self.doorbell_offset(i),
                            llq_descriptors_offset=int(self.sq_llq_off[i]),
                            llq_headers_offset=0)

    def destroy_sq(self, cmd: DestroySqCmd) -> DestroyResp:
        """ENA_ADMIN_DESTROY_SQ: frees the SQ and unbinds its CQ."""
        i = cmd.sq_idx
        if not 0 <= i < self.sq_used.size or not self.sq_used[i] \
                or self.sq_dir[i] != int(cmd.sq_direction):
            return DestroyResp(AdminStatus.ILLEGAL_PARAMETER)
        self.sq_used[i] = False
        self.cq_sq[self.sq_cq[i]] = -1
        self.sq_cq[i] = -1
        return DestroyResp(AdminStatus.SUCCESS)

    def destroy_cq(self, cmd: DestroyCqCmd) -> DestroyResp:
        """ENA_ADMIN_DESTROY_CQ: refused while an SQ still completes into it."""
        i = cmd.cq_idx
        if not 0 <= i < self.cq_used.size or not self.cq_used[i]:
            return DestroyResp(AdminStatus.ILLEGAL_PARAMETER)
        if self.cq_sq[i] != -1:
            return DestroyResp(AdminStatus.RESOURCE_BUSY)
        self.cq_used[i] = False
        return DestroyResp(AdminStatus.SUCCESS)
