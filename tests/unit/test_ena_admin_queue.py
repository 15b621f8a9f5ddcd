"""The admin queue between ena_com and the device: command ids, phase bits over many
wraps, polling and interrupt waits on the simulated clock, timeouts, lost interrupts,
a full queue, aborts, stale or bogus entries, and the status -> errno mapping."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_mgmt_rig import admin_rig, mgmt_rig

from impl.device import DeviceConfig
from impl.device.mgmt_faults import MgmtFaults
from impl.ena import admin_cmds as ac
from impl.ena.admin_queue import TRY_AGAIN, AdminQueue, CmdStatus, status_to_errno
from impl.ena.com_reset import ResetTimeouts
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs import regs
from impl.ena_defs.constants import ADMIN_CMD_TIMEOUT_US, AdminOpcode, AdminStatus
from impl.ena_defs.regs import DevCtl

US = 1000
MTU = 14


def get_mtu(rig) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    rc, rec = ac.get_feature(rig.aq, rig.feat, MTU, m.MTU_DTYPE)
    return rc, (int(rec["mtu"][0]) if rec is not None else -1)


def mtu_cmd(mtu: int) -> np.ndarray:
    rec = np.zeros(1, m.MTU_DTYPE)
    rec["mtu"] = mtu
    return rec


def test_status_to_errno_is_ena_com_comp_status_to_errno() -> None:
    want = {0: 0, 1: errno.ENOMEM, 2: errno.EINVAL, 3: errno.EOPNOTSUPP, 4: errno.EINVAL,
            5: errno.EINVAL, 6: errno.EINVAL, 7: TRY_AGAIN, 8: errno.EINVAL,
            255: errno.EINVAL}
    assert {s: status_to_errno(s) for s in want} == want


def test_init_programs_the_rings_and_refuses_a_device_that_is_not_ready() -> None:
    rig = admin_rig(learn=False)
    aq, dev = rig.aq, rig.dev
    caps = 32 | (64 << 16)
    assert dev.mgmt.reg(regs.AQ_CAPS_OFF) == dev.mgmt.reg(regs.ACQ_CAPS_OFF) == caps
    assert dev.mgmt.reg(regs.AQ_BASE_LO_OFF) == aq.sq_addr
    assert dev.mgmt.reg(regs.ACQ_BASE_LO_OFF) == aq.cq_addr
    assert aq.running_state and (aq.sq_phase, aq.cq_phase) == (1, 1)
    stuck = mgmt_rig(faults=MgmtFaults(reset_unresponsive=1.0))
    stuck.bus.regs.write32(regs.DEV_CTL_OFF, DevCtl.DEV_RESET.mask)
    stuck.mmio.write_dev_addr()
    assert AdminQueue(stuck.mmio, ResetTimeouts()).init() == errno.ENODEV
    dead = mgmt_rig(faults=MgmtFaults(readless_timeout=1.0), reg_read_to=5)
    q = AdminQueue(dead.mmio, ResetTimeouts())
    assert q.init() == errno.ETIMEDOUT and not q.running_state and q.sq_addr == 0


@pytest.mark.parametrize("polling", [False, True])
def test_phase_and_command_ids_over_many_wraps(polling: bool) -> None:
    rig = admin_rig(polling=polling)
    aq = rig.aq
    n0 = aq.sq_tail
    seen_ids = []
    for i in range(100):  # > 3 passes of the 32-entry rings
        want = 128 + i
        cmd_id = aq.curr_cmd_id
        assert ac.set_feature(aq, rig.feat, MTU, mtu_cmd(want)) == 0
        slot = (n0 + 2 * i) & 31
        sent = aq.sq_entries[slot].view(m.AQ_COMMON_DTYPE)[0]
        seen_ids.append(int(sent["command_id"]) & 0xFFF)
        assert int(sent["command_id"]) & 0xFFF == cmd_id
        assert int(sent["flags"]) & 1 == ((n0 + 2 * i) // 32 & 1) ^ 1  # SQ phase of the pass
        assert get_mtu(rig) == (0, want)
    n = n0 + 200
    assert aq.sq_tail == aq.cq_head == aq.sq_head == n
    assert aq.curr_cmd_id == n % 32
    assert aq.sq_phase == aq.cq_phase == (n // 32 & 1) ^ 1
    assert rig.dev.admin.cq_tail == n and rig.dev.mgmt_stats.admin_cmds == n
    assert aq.outstanding_cmds == 0 and aq.stats.completed_cmd == aq.stats.submitted_cmd == n
    assert seen_ids == [(n0 + 2 * i) % 32 for i in range(100)]
    # every ACQ entry the device wrote carries the phase of its pass
    flags = aq.cq_entries["acq_common_descriptor"]["flags"] & 1
    last_pass = (np.arange(32) + (n // 32) * 32)
    assert (flags == np.where(last_pass < n, (n // 32 & 1) ^ 1, (n // 32 & 1))).all()


def test_interrupt_mode_completes_at_the_device_latency() -> None:
    rig = admin_rig(DeviceConfig(admin_latency_ns=37 * US))
    t0 = rig.clock.now_ns
    assert get_mtu(rig) == (0, 1500)
    assert rig.clock.now_ns - t0 == 37 * US
    assert rig.bus.msix.fired[0] >= 1 and rig.dev.mgmt_stats.admin_interrupts >= 1


def test_polling_mode_masks_the_interrupt_and_backs_off() -> None:
    rig = admin_rig(DeviceConfig(admin_latency_ns=250 * US), polling=True)
    fired = int(rig.bus.msix.fired[0])
    t0 = rig.clock.now_ns
    assert get_mtu(rig) == (0, 1500)
    # polls at 0, +100, +300 (sleeps 100, 200 us): the 250 us completion is seen at 300
    assert rig.clock.now_ns - t0 == 300 * US
    assert int(rig.bus.msix.fired[0]) == fired
    assert rig.dev.mgmt.reg(regs.INTR_MASK_OFF) == regs.ADMIN_INTR_MASK


@pytest.mark.parametrize("polling", [False, True])
def test_lost_completion_times_out_and_stops_the_queue(polling: bool) -> None:
    rig = admin_rig(DeviceConfig(admin_cmd_to=2), MgmtFaults(admin_comp_lost=1.0),
                    polling=polling, learn=False)
    assert rig.timeouts.completion_timeout_us == 200_000
    t0 = rig.clock.now_ns
    mtu_before = rig.dev.features.state.mtu
    assert ac.set_feature(rig.aq, rig.feat, MTU, mtu_cmd(2000)) == errno.ETIMEDOUT
    waited = rig.clock.now_ns - t0
    if polling:
        assert 200_000 * US < waited <= 205_000 * US
    else:
        assert waited == 200_000 * US
    assert rig.dev.features.state.mtu == 2000 != mtu_before  # executed, completion lost
    aq = rig.aq
    assert not aq.running_state and aq.stats.no_completion == 1 and aq.outstanding_cmds == 0
    assert all(not c.occupied and c.user_cqe is None for c in aq.comp_ctx)
    cmds = rig.dev.mgmt_stats.admin_cmds
    assert get_mtu(rig) == (errno.ENODEV, -1)
    assert rig.dev.mgmt_stats.admin_cmds == cmds  # nothing reached the device


def test_default_completion_timeout_is_3s() -> None:
    rig = admin_rig(faults=MgmtFaults(admin_comp_lost=1.0), learn=False)
    t0 = rig.clock.now_ns
    assert get_mtu(rig)[0] == errno.ETIMEDOUT
    assert rig.clock.now_ns - t0 == ADMIN_CMD_TIMEOUT_US * US


def test_lost_interrupt_without_auto_polling_is_a_timeout_with_the_flag_set() -> None:
    rig = admin_rig(faults=MgmtFaults(admin_intr_lost=1.0), learn=False)
    assert get_mtu(rig)[0] == errno.ETIMEDOUT
    assert rig.aq.is_missing_admin_interrupt and not rig.aq.running_state
    assert not rig.aq.polling and rig.dev.mgmt_stats.admin_intr_lost == 1


def test_lost_interrupt_with_auto_polling_switches_to_polling() -> None:
    rig = admin_rig(faults=MgmtFaults(admin_intr_lost=1.0), learn=False)
    rig.aq.auto_polling = True
    t0 = rig.clock.now_ns
    assert get_mtu(rig) == (0, 1500)  # found in the ACQ after the 3 s wait
    assert rig.clock.now_ns - t0 == ADMIN_CMD_TIMEOUT_US * US
    assert rig.aq.is_missing_admin_interrupt and rig.aq.polling and rig.aq.running_state
    t1 = rig.clock.now_ns
    assert get_mtu(rig) == (0, 1500)  # now by polling, no 3 s wait
    assert rig.clock.now_ns - t1 < 1_000 * US


def test_full_queue_is_enospc_and_stops_the_queue() -> None:
    rig = admin_rig(DeviceConfig(admin_latency_ns=10**9), learn=False)
    aq = rig.aq
    cmd = ac._feat_cmd(AdminOpcode.GET_FEATURE, 1, 0, 0, 0)
    for _ in range(32):
        assert aq.submit(cmd, None)[0] == 0
    assert aq.outstanding_cmds == 32
    tail = aq.sq_tail
    assert aq.submit(cmd, None) == (errno.ENOSPC, None)
    assert aq.stats.out_of_space == 1 and not aq.running_state and aq.sq_tail == tail
    assert aq.submit(cmd, None) == (errno.ENODEV, None)


def test_occupied_context_is_einval() -> None:
    rig = admin_rig(learn=False)
    rig.aq.comp_ctx[rig.aq.curr_cmd_id].occupied = True
    tail = rig.aq.sq_tail
    assert get_mtu(rig)[0] == errno.EINVAL
    assert rig.aq.sq_tail == tail and not rig.aq.running_state


@pytest.mark.parametrize("polling", [False, True])
def test_abort_wakes_the_waiter_with_enodev(polling: bool) -> None:
    rig = admin_rig(faults=MgmtFaults(admin_comp_lost=1.0), polling=polling, learn=False)
    rig.clock.call_after(5_000 * US, rig.aq.abort)
    t0 = rig.clock.now_ns
    assert get_mtu(rig)[0] == errno.ENODEV
    assert rig.clock.now_ns - t0 < 20_000 * US
    assert rig.aq.stats.aborted_cmd == 1 and rig.aq.outstanding_cmds == 0


def test_completion_with_a_bad_command_id_stops_the_queue() -> None:
    rig = admin_rig(learn=False)
    aq = rig.aq
    slot = aq.cq_head & 31
    e = aq.cq_entries[slot:slot + 1]
    e["acq_common_descriptor"]["command"] = 40
    e["acq_common_descriptor"]["flags"] = aq.cq_phase
    assert aq.handle_completion() == 1 and not aq.running_state


def test_late_completion_of_a_released_context_is_ignored() -> None:
    rig = admin_rig(learn=False)
    aq = rig.aq
    slot = aq.cq_head & 31
    e = aq.cq_entries[slot:slot + 1]
    e["acq_common_descriptor"]["command"] = 5
    e["acq_common_descriptor"]["flags"] = aq.cq_phase
    assert aq.handle_completion() == 1
    assert aq.running_state and aq.comp_ctx[5].status == CmdStatus.SUBMITTED


def test_device_stops_at_an_entry_with_a_stale_phase() -> None:
    rig = admin_rig(learn=False)
    aq, dev = rig.aq, rig.dev
    cmd = ac._feat_cmd(AdminOpcode.GET_FEATURE, 1, 0, 0, 0)
    raw = cmd.view(np.uint8).copy()
    raw[3] = aq.sq_phase ^ 1  # the previous pass's phase
    aq.sq_entries[aq.sq_tail & 31] = raw
    rig.bus.regs.write32(regs.AQ_DB_OFF, aq.sq_tail + 1)
    rig.clock.advance(1_000 * US)
    assert dev.admin.bad_phase == 1 and dev.admin.cq_tail == aq.cq_head


def test_device_refuses_a_doorbell_beyond_the_ring_and_before_setup() -> None:
    rig = admin_rig(learn=False)
    rig.bus.regs.write32(regs.AQ_DB_OFF, rig.aq.sq_tail + 33)
    assert rig.dev.admin.doorbell_overrun == 1 and rig.dev.admin.sq_tail == rig.aq.sq_tail
    fresh = mgmt_rig()
    fresh.bus.regs.write32(regs.AQ_DB_OFF, 1)
    assert fresh.dev.admin.doorbell_overrun == 1
    fresh.clock.advance(10**6)
    assert fresh.dev.mgmt_stats.admin_cmds == 0


def test_unknown_opcode_is_bad_opcode() -> None:
    rig = admin_rig(learn=False)
    cmd = np.zeros(1, m.AQ_ENTRY_DTYPE)
    cmd["aq_common_descriptor"]["opcode"] = 77
    rc, comp = rig.aq.execute(cmd)
    assert rc == errno.EINVAL
    assert int(comp.view(m.ACQ_COMMON_DTYPE)[0]["status"]) == AdminStatus.BAD_OPCODE


def test_reset_forgets_the_admin_queue_and_a_new_init_works() -> None:
    from impl.ena import com_reset
    rig = admin_rig()
    assert ac.set_feature(rig.aq, rig.feat, MTU, mtu_cmd(3000)) == 0
    assert com_reset.dev_reset(rig.r.mmio, 0, False, rig.timeouts) == 0
    assert rig.dev.admin.sq_head == 0 and rig.dev.features.state.mtu == 1500
    assert rig.aq.init() == 0
    rig.aq.set_polling_mode(False)  # the reset masked the admin interrupt again
    assert get_mtu(rig) == (0, 1500)
    assert rig.aq.sq_tail == 1 and rig.aq.curr_cmd_id == 1
