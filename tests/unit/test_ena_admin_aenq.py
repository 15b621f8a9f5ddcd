"""The AENQ between device and driver: head doorbell credit, phase over wraps, group
enable, handlers (link, keep-alive counters, hints, device-requested reset), the
unimplemented handler, and the management interrupt running the consumer."""

from __future__ import annotations

import numpy as np
from support.ena_mgmt_rig import admin_rig

from impl.device.aenq import AenqGroup
from impl.device.features import FeatureId
from impl.ena import admin_cmds as ac
from impl.ena.aenq import Aenq, AenqEvents, install_handlers
from impl.ena.reset import ResetState
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs import regs
from impl.ena_defs.regs import ResetReason


def aenq_rig(groups: int = 0xFF, enable: bool = True):  # type: ignore[no-untyped-def]
    rig = admin_rig()
    aenq = Aenq(rig.r.mmio)
    aenq.init()
    events, reset = AenqEvents(), ResetState()
    install_handlers(aenq, events, reset, lambda: rig.clock.now_ns)
    rig.aq.extra_isr = aenq.intr_handler
    rec = np.zeros(1, m.AENQ_FEAT_DTYPE)
    rec["enabled_groups"] = groups
    assert ac.set_feature(rig.aq, rig.feat, FeatureId.AENQ_CONFIG, rec) == 0
    if enable:
        aenq.enable()
    return rig, aenq, events, reset


def test_events_reach_their_handlers_through_the_management_interrupt() -> None:
    rig, aenq, ev, reset = aenq_rig()
    dev = rig.dev.aenq
    assert ev.link_up and aenq.head == 16 + 1  # the device announced its link
    rig.clock.advance(5_000)
    assert dev.link_change(True) and ev.link_up
    assert dev.keep_alive(rx_drops=(1 << 32) + 3, tx_drops=9, rx_overruns=2)
    assert (ev.rx_drops, ev.tx_drops, ev.rx_overruns) == ((1 << 32) + 3, 9, 2)
    assert ev.keep_alive_timestamp_ns == rig.clock.now_ns
    assert dev.notify_hints({"driver_watchdog_timeout": 7, "mmio_read_timeout": 40})
    assert ev.hints["driver_watchdog_timeout"] == 7 and ev.hints["mmio_read_timeout"] == 40
    assert dev.request_reset()
    assert reset.triggered and reset.reason == ResetReason.DEVICE_REQUEST
    warn = np.zeros(1, m.AENQ_ENTRY_DTYPE)
    warn["aenq_common_desc"]["group"] = AenqGroup.WARNING
    assert dev.post(warn) and ev.unimplemented == [AenqGroup.WARNING]
    assert dev.link_change(False) and not ev.link_up
    assert aenq.head == 16 + 7 and rig.dev.mgmt.reg(regs.AENQ_HEAD_DB_OFF) == 16 + 7


def test_phase_wraps_and_nothing_is_lost_over_many_events() -> None:
    rig, aenq, ev, _ = aenq_rig()
    for i in range(50):  # > 3 passes of the 16-entry ring
        assert rig.dev.aenq.keep_alive(rx_drops=i, tx_drops=0)
        assert ev.rx_drops == i
    assert aenq.head == 16 + 51 and rig.dev.aenq.tail == 51  # 50 and the link announcement
    assert aenq.phase == (51 // 16 & 1) ^ 1


def test_no_credit_before_the_head_doorbell_and_a_full_ring_drops() -> None:
    rig, aenq, ev, _ = aenq_rig(enable=False)
    dev = rig.dev.aenq
    assert dev.pending_link is True  # the announcement waits for the head doorbell
    assert not dev.link_change(True) and dev.dropped_full == 2 and not ev.link_up
    aenq.enable()
    assert ev.link_up and dev.pending_link is None and dev.dropped_full == 1
    rig.aq.extra_isr = None  # the driver does not consume: the ring fills
    assert all(dev.keep_alive(i, 0) for i in range(16))
    assert not dev.keep_alive(99, 0) and dev.dropped_full == 2
    assert aenq.intr_handler() == 16 and ev.rx_drops == 15
    assert dev.keep_alive(100, 0)  # the doorbell returned the credit
    assert aenq.intr_handler() == 1 and ev.rx_drops == 100


def test_disabled_groups_are_not_posted() -> None:
    rig, _aenq, ev, _ = aenq_rig(groups=1 << AenqGroup.LINK_CHANGE)
    assert not rig.dev.aenq.keep_alive(5, 5) and rig.dev.aenq.dropped_disabled == 1
    assert ev.rx_drops == 0
    assert rig.dev.aenq.link_change(True) and ev.link_up


def test_consumer_without_events_writes_no_doorbell() -> None:
    rig, aenq, _, _ = aenq_rig()
    writes = rig.bus.regs.writes
    assert aenq.intr_handler() == 0 and rig.bus.regs.writes == writes
