"""The queue-creation port: fields of CREATE/DESTROY SQ and CQ, offsets returned, and
refused commands leaving the queue table unchanged."""

from __future__ import annotations

import copy

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, QueueTable
from impl.ena_defs import AdminStatus, PlacementPolicy, SqDirection, regs
from impl.ena_defs.admin import CreateCqCmd, CreateSqCmd, DestroyCqCmd, DestroySqCmd

OK = AdminStatus.SUCCESS


def table() -> QueueTable:
    return QueueTable(Bus(mem_size=1 << 20, llq_size=1 << 17, nvec=5),
                      DeviceConfig(max_queues=4, llq_entry_size=128))


def state(t: QueueTable) -> dict[str, np.ndarray]:
    return {k: copy.copy(v) for k, v in vars(t).items() if isinstance(v, np.ndarray)}


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in a)


def test_create_tx_and_rx_pairs_return_the_offsets_the_driver_uses() -> None:
    t = table()
    mem = t.bus.mem
    cq = t.create_cq(CreateCqCmd(256, mem.alloc(256 * 8, 4096), 1, 2))
    assert cq.status == OK and cq.cq_idx == 0 and cq.cq_actual_depth == 256
    assert cq.cq_interrupt_unmask_register_offset == regs.IO_UNMASK_BASE
    assert cq.cq_head_db_register_offset == 0
    sq = t.create_sq(CreateSqCmd(SqDirection.TX, PlacementPolicy.DEV, cq.cq_idx, 256))
    assert sq.status == OK and sq.sq_doorbell_offset == regs.IO_DOORBELL_BASE
    assert sq.llq_descriptors_offset == 0 and t.sq_llq[0]
    rcq = t.create_cq(CreateCqCmd(128, mem.alloc(128 * 16, 4096), 1, 4))
    rsq = t.create_sq(CreateSqCmd(SqDirection.RX, PlacementPolicy.HOST, rcq.cq_idx, 128,
                                  mem.alloc(128 * 16, 4096)))
    assert (rcq.cq_idx, rsq.sq_idx) == (1, 1)
    assert rsq.sq_doorbell_offset == regs.IO_DOORBELL_BASE + 4
    assert rcq.cq_interrupt_unmask_register_offset == regs.IO_UNMASK_BASE + 4
    assert t.cq_sq[:2].tolist() == [0, 1] and t.sq_cq[:2].tolist() == [0, 1]
    # destroy: CQ busy while bound, SQ direction must match
    assert t.destroy_cq(DestroyCqCmd(0)).status == AdminStatus.RESOURCE_BUSY
    assert t.destroy_sq(DestroySqCmd(0, SqDirection.RX)).status != OK
    assert t.destroy_sq(DestroySqCmd(0, SqDirection.TX)).status == OK
    assert t.destroy_cq(DestroyCqCmd(0)).status == OK
    again = t.create_cq(CreateCqCmd(64, mem.alloc(64 * 8, 4096), 1, 2))
    assert again.cq_idx == 0  # the lowest free index is reused


def test_bad_commands_change_nothing() -> None:
    t = table()
    mem = t.bus.mem
    ba = mem.alloc(4096, 4096)
    ok = t.create_cq(CreateCqCmd(64, ba, 1, 2))
    before = state(t)
    bad_cqs = [CreateCqCmd(100, ba, 1, 2), CreateCqCmd(64, ba, 9, 2),
               CreateCqCmd(64, ba, 1, 3), CreateCqCmd(64, 0, 1, 2),
               CreateCqCmd(1 << 16, ba, 1, 2), CreateCqCmd(64, mem.size - 8, 1, 2)]
    for cmd in bad_cqs:
        assert t.create_cq(cmd).status == AdminStatus.ILLEGAL_PARAMETER, cmd
    rx_cq = t.create_cq(CreateCqCmd(64, ba, 2, 4)).cq_idx
    before = state(t)
    bad_sqs = [
        CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, ok.cq_idx, 64, 0),  # no ring
        CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, 3, 64, ba),  # no such CQ
        CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, ok.cq_idx, 48, ba),  # depth
        CreateSqCmd(SqDirection.RX, PlacementPolicy.HOST, ok.cq_idx, 64, ba),  # 8 B CQ
        CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, rx_cq, 64, ba),  # 16 B CQ
        CreateSqCmd(SqDirection.RX, PlacementPolicy.DEV, rx_cq, 64),  # RX LLQ
        CreateSqCmd(7, PlacementPolicy.HOST, ok.cq_idx, 64, ba),  # direction
    ]
    for cmd in bad_sqs:
        assert t.create_sq(cmd).status == AdminStatus.ILLEGAL_PARAMETER, cmd
    too_deep = CreateSqCmd(SqDirection.TX, PlacementPolicy.DEV, ok.cq_idx, 512)
    assert t.create_sq(too_deep).status == AdminStatus.RESOURCE_ALLOCATION_FAILURE
    assert t.destroy_sq(DestroySqCmd(0, SqDirection.TX)).status != OK
    assert t.destroy_cq(DestroyCqCmd(3)).status != OK
    assert same(before, state(t))
    sq = t.create_sq(CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, ok.cq_idx, 64, ba))
    assert sq.status == OK
    second = CreateSqCmd(SqDirection.TX, PlacementPolicy.HOST, ok.cq_idx, 64, ba)
    assert t.create_sq(second).status == AdminStatus.ILLEGAL_PARAMETER  # CQ taken
