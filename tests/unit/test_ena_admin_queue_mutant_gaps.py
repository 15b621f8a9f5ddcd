"""The ena_com admin queue (:mod:`impl.ena.admin_queue`) where mutation testing found no
test: the polling wait's deadline (expired only strictly after it, ENA_TIME_EXPIRE) and
its exponential back-off, the statistics counting every event, several completions
consumed in one call across the ring's end, a completion id equal to the depth, what
submission ORs into the caller's descriptor, what init resets, the management vector's
handler chain, and a queue without rings.  Upstream, ena-com/ena_com.c:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c
"""

from __future__ import annotations

import errno

import numpy as np
from support.ena_mgmt_rig import AdminRig, admin_rig, mgmt_rig

from impl.device import DeviceConfig
from impl.device.mgmt_faults import MgmtFaults
from impl.ena import admin_cmds as ac
from impl.ena import com_reset
from impl.ena.admin_queue import ADMIN_VECTOR, AdminQueue, CmdStatus
from impl.ena.com_reset import ResetTimeouts
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.constants import AdminOpcode
from impl.ena_defs.mgmt_layouts import AQ_CTRL_DATA, AQ_CTRL_DATA_INDIRECT

US = 1000
MTU = 14


def get_mtu(rig: AdminRig) -> int:
    return ac.get_feature(rig.aq, rig.feat, MTU, m.MTU_DTYPE)[0]


def feat_cmd() -> np.ndarray:
    return ac._feat_cmd(AdminOpcode.GET_FEATURE, 1, 0, 0, 0)


def reinit(rig: AdminRig, polling: bool) -> None:
    """ena_restore_device's order: reset the device, then ena_com_admin_init."""
    assert com_reset.dev_reset(rig.r.mmio, 0, False, rig.timeouts) == 0
    assert rig.aq.init() == 0
    rig.aq.set_polling_mode(polling)


def test_polling_times_out_only_strictly_after_the_deadline() -> None:
    """Polls at 0, +100, +300, +700 us (back-off 100 << exp).  With a 300 us timeout the
    poll at exactly 300 is not yet expired (``timeout < now``): the driver sleeps
    again and finds the 500 us completion at 700."""
    rig = admin_rig(DeviceConfig(admin_latency_ns=500 * US), polling=True, learn=False)
    rig.timeouts.completion_timeout_us = 300
    t0 = rig.clock.now_ns
    assert get_mtu(rig) == 0
    assert rig.clock.now_ns - t0 == 700 * US


def test_polling_backoff_doubles_every_sleep() -> None:
    """The sleeps are 100, 200, 400, 800 us: a 1.2 ms completion is seen at 1.5 ms."""
    rig = admin_rig(DeviceConfig(admin_latency_ns=1200 * US), polling=True, learn=False)
    t0 = rig.clock.now_ns
    assert get_mtu(rig) == 0
    assert rig.clock.now_ns - t0 == 1500 * US


def test_every_lost_completion_is_counted() -> None:
    """stats.no_completion counts each timeout (polling and interrupts), across the
    admin queue's re-inits."""
    rig = admin_rig(faults=MgmtFaults(admin_comp_lost=1.0), learn=False)
    rig.timeouts.completion_timeout_us = 1_000
    assert get_mtu(rig) == errno.ETIMEDOUT
    reinit(rig, polling=True)
    assert get_mtu(rig) == errno.ETIMEDOUT
    reinit(rig, polling=False)
    assert get_mtu(rig) == errno.ETIMEDOUT
    assert rig.aq.stats.no_completion == 3


def test_every_aborted_command_is_counted() -> None:
    rig = admin_rig(faults=MgmtFaults(admin_comp_lost=1.0), learn=False)
    for _ in range(2):
        rig.clock.call_after(1_000 * US, rig.aq.abort)
        assert get_mtu(rig) == errno.ENODEV
    assert rig.aq.stats.aborted_cmd == 2


def test_every_full_queue_is_counted() -> None:
    """stats.out_of_space counts each ENOSPC, also after the queue is re-initialised."""
    rig = admin_rig(DeviceConfig(admin_latency_ns=10**9), learn=False)
    for _ in range(2):
        for _ in range(32):
            assert rig.aq.submit(feat_cmd(), None)[0] == 0
        assert rig.aq.submit(feat_cmd(), None) == (errno.ENOSPC, None)
        reinit(rig, polling=False)
    assert rig.aq.stats.out_of_space == 2


def test_one_completion_call_takes_every_entry_across_the_ring_end() -> None:
    """Four completions waiting in ACQ slots 30, 31, 0, 1 (polling: no interrupt took
    them) are all consumed by one ena_com_handle_admin_completion: head wraps to slot
    0, the phase flips, each command completes."""
    rig = admin_rig(polling=True, learn=False)
    aq = rig.aq
    for _ in range(30):
        assert get_mtu(rig) == 0
    ctxs = []
    for _ in range(4):
        rc, ctx = aq.submit(feat_cmd(), None)
        assert rc == 0 and ctx is not None
        ctxs.append(ctx)
    rig.clock.advance(10_000 * US)
    assert aq.handle_completion() == 4
    assert (aq.cq_head, aq.cq_phase, aq.sq_head) == (34, 0, 34)
    assert all(c.status == CmdStatus.COMPLETED for c in ctxs)
    assert aq.handle_completion() == 0


def test_a_completion_id_equal_to_the_depth_stops_the_queue() -> None:
    """get_comp_ctxt refuses ``command_id >= q_depth``: id 32 on a 32-deep queue is not
    a context; the queue stops."""
    rig = admin_rig(learn=False)
    aq = rig.aq
    slot = aq.cq_head & 31
    e = aq.cq_entries[slot:slot + 1]
    e["acq_common_descriptor"]["command"] = 32
    e["acq_common_descriptor"]["flags"] = aq.cq_phase
    assert aq.handle_completion() == 1 and not aq.running_state


def test_submit_ors_phase_and_command_id_into_the_callers_descriptor() -> None:
    """``flags |= phase`` and ``command_id |= cmd_id``: the control-data bits and the
    upper command_id bits the caller wrote reach the SQ entry."""
    rig = admin_rig(DeviceConfig(admin_latency_ns=10**9), learn=False)
    aq = rig.aq
    cmd = feat_cmd()
    common = cmd.view(np.uint8).view(m.AQ_COMMON_DTYPE)
    common["flags"] = AQ_CTRL_DATA.put(1) | AQ_CTRL_DATA_INDIRECT.put(1)
    common["command_id"] = 0xF000
    slot, cmd_id, phase = aq.sq_tail & 31, aq.curr_cmd_id, aq.sq_phase
    assert aq.submit(cmd, None)[0] == 0
    sent = aq.sq_entries[slot].view(m.AQ_COMMON_DTYPE)[0]
    assert int(sent["flags"]) == 0b110 | phase
    assert int(sent["command_id"]) == 0xF000 | cmd_id


def test_init_leaves_interrupt_mode_and_clears_the_missing_interrupt_flag() -> None:
    """ena_com_admin_init sets ``polling = false`` and ``is_missing_admin_interrupt =
    false`` (L2135, L2189): a queue that switched to polling after a lost interrupt is
    back in interrupt mode, the flag clear, after the re-init of a reset."""
    rig = admin_rig(faults=MgmtFaults(admin_intr_lost=1.0), learn=False)
    rig.aq.auto_polling = True
    assert get_mtu(rig) == 0
    assert rig.aq.polling and rig.aq.is_missing_admin_interrupt
    assert com_reset.dev_reset(rig.r.mmio, 0, False, rig.timeouts) == 0
    assert rig.aq.init() == 0
    assert not rig.aq.polling and not rig.aq.is_missing_admin_interrupt


def test_a_reinit_does_not_hook_the_management_vector_twice() -> None:
    """After an admin re-init one management interrupt runs the completion handler and
    the AENQ hook once, not once per init."""
    rig = admin_rig(learn=False)
    calls: list[int] = []
    rig.aq.extra_isr = lambda: calls.append(1)
    reinit(rig, polling=False)
    msix = rig.bus.msix
    msix.unmask(np.array([ADMIN_VECTOR]))
    msix.raise_vectors(np.array([ADMIN_VECTOR]))
    assert calls == [1]


def test_other_vectors_go_to_the_handler_installed_before() -> None:
    """The admin queue hooks vector 0 and passes every interrupt on to the handler that
    was there, with the vectors that fired."""
    r = mgmt_rig()
    seen: list[list[int]] = []
    r.bus.msix.handler = lambda v: seen.append(v.tolist())
    t = ResetTimeouts()
    assert com_reset.dev_reset(r.mmio, 0, False, t) == 0
    assert AdminQueue(r.mmio, t).init() == 0
    r.bus.msix.unmask(np.array([1, 2]))
    r.bus.msix.raise_vectors(np.array([1, 2]))
    assert seen == [[1, 2]]


def test_a_queue_without_rings_handles_nothing_and_refuses_commands() -> None:
    """Before init and after destroy there is no ACQ: handle_completion finds 0
    entries, a second destroy frees nothing, and a command is ENODEV without reaching
    the device."""
    r = mgmt_rig()
    t = ResetTimeouts()
    assert AdminQueue(r.mmio, t).handle_completion() == 0
    rig = admin_rig(learn=False)
    rig.aq.destroy()
    assert rig.aq.handle_completion() == 0
    allocated = rig.bus.mem.allocated
    rig.aq.destroy()
    assert rig.bus.mem.allocated == allocated
    cmds = rig.dev.mgmt_stats.admin_cmds
    assert get_mtu(rig) == errno.ENODEV
    rig.clock.advance(10_000 * US)
    assert rig.dev.mgmt_stats.admin_cmds == cmds


def test_repr_shows_mode_and_counters() -> None:
    rig = admin_rig(learn=False)
    assert repr(rig.aq) == ("AdminQueue(depth=32, interrupts, running=True, sq_tail=0, "
                            "cq_head=0, phase=1, outstanding=0, curr_cmd_id=0)")
    assert get_mtu(rig) == 0
    rig.aq.set_polling_mode(True)
    assert repr(rig.aq) == ("AdminQueue(depth=32, polling, running=True, sq_tail=1, "
                            "cq_head=1, phase=1, outstanding=0, curr_cmd_id=1)")
