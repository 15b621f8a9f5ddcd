"""The ENA adapter's management plane: attach order, queue sizing and the size back-off,
the timer service's watchdogs, and the reset flow (ena.c: ena_attach, ena_up,
ena_timer_service, ena_reset_task)."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_adapter_rig import SECOND, adapter_rig

from impl.device import DeviceConfig
from impl.device.mgmt_faults import MgmtFaults
from impl.ena import adapter as adapter_mod
from impl.ena.adapter import AdapterConfig
from impl.ena.admin_cmds import ComFeatures, DevFeatures
from impl.ena.admin_port import AdminQueuePort
from impl.ena.device_init import FREEBSD_AENQ_GROUPS
from impl.ena.driver import QueueSetupError
from impl.ena.sizing import calc_io_queue_size, calc_max_io_queue_num
from impl.ena.watchdog import SBT_1MS, SBT_1S, ns_to_sbt
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs import regs
from impl.ena_defs.regs import ResetReason

R = ResetReason


# -- attach
def test_attach_talks_to_the_device_in_the_c_order() -> None:
    rig = adapter_rig(up=False, events=False)
    assert rig.commands == [
        ("SET_FEATURE", 28),  # host info, before the attributes are known
        ("GET_FEATURE", 1), ("GET_FEATURE", 7), ("GET_FEATURE", 26), ("GET_FEATURE", 11),
        ("GET_FEATURE", 3), ("GET_FEATURE", 4),
        ("SET_FEATURE", 26), ("SET_FEATURE", 4),
    ]
    a, f = rig.adapter, rig.dev.features.state
    assert a.flags.device_running and not a.flags.dev_up
    assert f.aenq_enabled == FREEBSD_AENQ_GROUPS & 0xFF and a.wd_active
    assert f.host_info_addr != 0
    assert rig.dev.mgmt.reg(regs.INTR_MASK_OFF) == 0, "admin queue left polling mode"
    assert rig.dev.aenq.head == 16, "AENQ_HEAD_DB = depth: every entry available"
    assert a.timer_due_ns == rig.clock.now_ns + SECOND


def test_up_creates_each_queue_pair_cq_before_sq_and_down_destroys_them() -> None:
    rig = adapter_rig(up=False, events=False)
    before = rig.blocks()
    rig.commands.clear()
    assert rig.adapter.up() == 0
    n = rig.adapter.num_io_queues
    # then ena_up_complete: the RSS table, the hash function, the MTU
    assert rig.commands == [("CREATE_CQ", 0), ("CREATE_SQ", 0)] * (2 * n) + [
        ("SET_FEATURE", 12), ("SET_FEATURE", 10), ("SET_FEATURE", 14)]
    assert rig.dev.features.state.mtu == 1500
    assert rig.dev.queues.sq_used.sum() == 2 * n
    rig.commands.clear()
    rig.adapter.down()
    assert [c for c, _ in rig.commands] == ["DESTROY_SQ"] * (2 * n) + ["DESTROY_CQ"] * (2 * n)
    assert rig.dev.queues.sq_used.sum() == 0 and rig.dev.queues.cq_used.sum() == 0
    assert rig.blocks() == before, "rings and RX buffers returned"


def test_a_device_that_never_answers_fails_attach_with_enxio_and_nothing_held() -> None:
    rig = adapter_rig(attach=False)
    rig.dev.set_mgmt_faults(MgmtFaults(readless_timeout=1.0))
    assert rig.adapter.attach() == errno.ENXIO
    assert rig.blocks() == rig.baseline_blocks
    assert not rig.adapter.flags.device_running and rig.adapter.timer_due_ns is None


@pytest.mark.parametrize(("device_id", "rc"), [(0x0EC2, 0), (0xEC20, 0), (0x1EC2, 0),
                                                (0xEC21, 0), (0x0EC3, errno.ENXIO)])
def test_probe_takes_the_pf_and_vf_ids_only(device_id: int, rc: int) -> None:
    rig = adapter_rig(DeviceConfig(pci_device_id=device_id), attach=False)
    assert rig.adapter.attach() == rc
    if rc:
        assert rig.blocks() == rig.baseline_blocks and rig.commands == []


def test_llq_falls_back_to_host_mode_when_not_wanted() -> None:
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, want_llq=False), events=False)
    assert rig.adapter.com is not None and not rig.adapter.com.llq
    assert ("SET_FEATURE", 4) not in rig.commands


# -- sizing (ena_calc_io_queue_size / ena_calc_max_io_queue_num)
def _feats(tx_depth: int, rx_depth: int, llq_depth: int = 0, wide: int = 0,
           descs: int = 25) -> tuple[ComFeatures, DevFeatures]:
    q = np.zeros(1, m.MAX_QUEUES_EXT_DTYPE)
    q["version"] = 1
    for k in ("max_tx_sq_num", "max_tx_cq_num", "max_rx_sq_num", "max_rx_cq_num"):
        q[k] = 8
    q["max_rx_sq_num"] = 3
    q["max_tx_sq_depth"] = q["max_tx_cq_depth"] = tx_depth
    q["max_rx_sq_depth"], q["max_rx_cq_depth"] = rx_depth, rx_depth + 100
    q["max_per_packet_tx_descs"], q["max_per_packet_rx_descs"] = descs, 7
    llq = np.zeros(1, m.LLQ_DTYPE)
    llq["max_llq_num"], llq["max_llq_depth"], llq["max_wide_llq_depth"] = 6, llq_depth, wide
    return ComFeatures(supported_features=1 << 7), DevFeatures(max_queue_ext=q, llq=llq)


@pytest.mark.parametrize(("tx", "rx", "llq", "large", "want"), [
    (8192, 8192, 0, False, (1024, 1024, 8192, 8192)),
    (1000, 300, 0, False, (512, 256, 512, 256)),       # maxima rounded down to 2^k
    (200, 8192, 0, False, (128, 1024, 128, 8192)),     # clamp to [256, max]: max wins
    (8192, 8192, 1500, False, (1024, 1024, 1024, 8192)),  # LLQ depth caps TX
    (8192, 8192, 1024, True, (512, 1024, 512, 8192)),  # large entries, no wide depth: /2
])
def test_ring_sizes(tx: int, rx: int, llq: int, large: bool,
                    want: tuple[int, int, int, int]) -> None:
    com, feats = _feats(tx, rx, llq)
    s = calc_io_queue_size(com, feats, llq > 0, large)
    assert s is not None
    assert (s.tx_queue_size, s.rx_queue_size, s.max_tx_queue_size, s.max_rx_queue_size) == want
    assert (s.max_tx_sgl_size, s.max_rx_sgl_size) == (19, 7)


def test_queue_count_is_the_smallest_limit() -> None:
    com, feats = _feats(1024, 1024)
    assert calc_max_io_queue_num(com, feats, False, ncpus=16, msix_count=33) == 3  # rx num
    assert calc_max_io_queue_num(com, feats, False, ncpus=2, msix_count=33) == 2
    assert calc_max_io_queue_num(com, feats, False, ncpus=16, msix_count=3) == 2
    com2, feats2 = _feats(1024, 1024)
    feats2.max_queue_ext["max_rx_sq_num"] = 8  # type: ignore[index]
    assert calc_max_io_queue_num(com2, feats2, True, ncpus=16, msix_count=33) == 6  # LLQ num


def test_a_zero_depth_device_fails_attach_with_efault() -> None:
    com, feats = _feats(0, 1024)
    assert calc_io_queue_size(com, feats, False, False) is None


def _enomem_above(limit: int) -> type[AdminQueuePort]:
    class Port(AdminQueuePort):
        def create_cq(self, cmd):  # type: ignore[no-untyped-def]
            if cmd.cq_depth > limit:
                raise QueueSetupError("no memory", errno.ENOMEM)
            return super().create_cq(cmd)
    return Port


@pytest.mark.parametrize(("limit", "want"), [(1024, (1024, 1024)), (512, (512, 512)),
                                             (256, (256, 256)), (128, None)])
def test_enomem_backs_off_both_equal_rings_down_to_256(
        monkeypatch: pytest.MonkeyPatch, limit: int, want: tuple[int, int] | None) -> None:
    monkeypatch.setattr(adapter_mod, "AdminQueuePort", _enomem_above(limit))
    rig = adapter_rig(up=False, events=False)
    before = rig.blocks()
    rc = rig.adapter.up()
    if want is None:
        assert rc == errno.ENOMEM and not rig.adapter.flags.dev_up
        assert rig.blocks() == before, "every failed attempt released what it allocated"
    else:
        assert rc == 0
        assert (rig.adapter.tx_ring_size, rig.adapter.rx_ring_size) == want


def test_enomem_halves_only_the_larger_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_mod, "AdminQueuePort", _enomem_above(512))
    rig = adapter_rig(up=False, events=False)
    rig.adapter.requested_rx_ring_size = 512
    assert rig.adapter.up() == 0
    assert (rig.adapter.tx_ring_size, rig.adapter.rx_ring_size) == (512, 512)


# -- keep-alive watchdog and the reset flow
def test_keep_alives_keep_the_watchdog_quiet() -> None:
    rig = adapter_rig()
    rig.traffic(rig.frames(8), 200)
    assert rig.adapter.stats.total_resets == 0 and rig.dev.mgmt_stats.keep_alives >= 19
    assert rig.adapter.timer_due_ns is not None


def test_missing_keep_alives_reset_once_after_the_timeout_and_restore_does_not_loop() -> None:
    rig = adapter_rig()
    a = rig.adapter
    rig.adapter.advance(SECOND + SECOND // 2)
    last = a.events.keep_alive_timestamp_ns
    assert last > 0
    rig.dev.set_mgmt_faults(MgmtFaults(keep_alive_missing=1.0))
    # every tick up to 6 s after the last keep-alive leaves it alone ...
    rig.adapter.advance(last + 6 * SECOND - rig.clock.now_ns)
    assert a.stats.total_resets == 0, "not more than 6 s without a keep-alive yet"
    # ... the first tick past it resets
    rig.adapter.advance(SECOND)
    assert dict(a.stats.resets) == {R.KEEP_ALIVE_TO: 1}
    assert a.stats.wd_expired == 1
    rig.dev.set_mgmt_faults(MgmtFaults())
    rig.traffic(rig.frames(8), 150)
    assert dict(a.stats.resets) == {R.KEEP_ALIVE_TO: 1}, "the restore refreshed the timestamp"
    assert a.flags.device_running and a.flags.dev_up and not a.reset.triggered
    assert a.packets().completed > 0 and a.driver is not None and a.driver.accounting.completed


def test_a_keep_alive_stuck_in_the_aenq_blames_the_management_interrupt() -> None:
    rig = adapter_rig()
    rig.bus.msix.handler = None  # the management interrupt is lost from now on
    rig.adapter.advance(9 * SECOND)
    assert dict(rig.adapter.stats.resets) == {R.MISSING_ADMIN_INTERRUPT: 1}


def _hints(rig, **h: int) -> None:  # type: ignore[no-untyped-def]
    assert rig.dev.aenq.notify_hints(h)


def test_hints_change_the_watchdogs_zero_keeps_and_ffff_disables() -> None:
    rig = adapter_rig()
    _hints(rig, driver_watchdog_timeout=2000, missing_tx_completion_timeout=0,
           missed_tx_completion_count_threshold_to_reset=7)
    a = rig.adapter
    assert a.keep_alive_timeout == 2000 * SBT_1MS
    assert a.missing_tx_timeout == 5 * SBT_1S, "0 keeps the driver's default"
    assert a.missing_tx_threshold == 7
    rig.dev.set_mgmt_faults(MgmtFaults(keep_alive_missing=1.0))
    rig.adapter.advance(4 * SECOND)
    assert dict(a.stats.resets) == {R.KEEP_ALIVE_TO: 1}
    _hints(rig, driver_watchdog_timeout=0xFFFF)
    assert a.keep_alive_timeout == 0xFFFF
    rig.adapter.advance(20 * SECOND)
    assert dict(a.stats.resets) == {R.KEEP_ALIVE_TO: 1}, "the watchdog is off"


def test_device_requested_reset_and_first_reason_wins() -> None:
    rig = adapter_rig()
    rig.adapter.reset.trigger(R.INV_RX_REQ_ID)
    rig.dev.aenq.request_reset()  # DEVICE_REQUEST comes second: ignored
    rig.adapter.advance(SECOND)
    assert dict(rig.adapter.stats.resets) == {R.INV_RX_REQ_ID: 1}
    rig.dev.aenq.request_reset()
    rig.adapter.advance(SECOND)
    assert dict(rig.adapter.stats.resets) == {R.INV_RX_REQ_ID: 1, R.DEVICE_REQUEST: 1}


@pytest.mark.parametrize("extended", [False, True])
def test_reset_writes_the_reason_to_the_device_and_restores_everything(extended: bool) -> None:
    caps = (1 << 4) | (int(extended) << 3)  # CDESC_MBZ, EXTENDED_RESET_REASONS
    rig = adapter_rig(DeviceConfig(max_tx_burst_bytes=2048, caps=caps))
    before = rig.blocks()
    sent = []
    write = rig.bus.regs.write32

    def spy(off: int, val: int) -> None:
        if off == regs.DEV_CTL_OFF and val & 1:
            sent.append((val >> 28, val >> 24 & 0xF))
        write(off, val)
    rig.bus.regs.write32 = spy  # type: ignore[method-assign]
    rig.dev.aenq.request_reset()
    rig.adapter.advance(SECOND)
    # DEVICE_REQUEST = 19 needs the high nibble: without the capability it goes as GENERIC
    assert sent[0] == ((R.DEVICE_REQUEST & 0xF, R.DEVICE_REQUEST >> 4) if extended
                       else (R.GENERIC, 0))
    assert sent[1:] == [(R.NORMAL, 0)], "then the restore's own reset"
    assert rig.blocks() == before, "destroy/restore gave back and took the same"
    assert rig.adapter.flags.dev_up


def test_an_unresponsive_device_skips_the_reset_and_rearms() -> None:
    rig = adapter_rig()
    rig.adapter.reset.trigger(R.DEVICE_REQUEST)
    rig.dev.set_mgmt_faults(MgmtFaults(readless_timeout=1.0))
    rig.adapter.advance(SECOND)
    a = rig.adapter
    assert a.stats.unresponsive_skips == 1 and a.stats.total_resets == 0
    assert a.timer_due_ns == rig.clock.now_ns + SECOND, "re-armed after the failed reads"
    rig.dev.set_mgmt_faults(MgmtFaults())
    rig.adapter.advance(SECOND)
    assert dict(a.stats.resets) == {R.DEVICE_REQUEST: 1} and a.flags.dev_up


def test_a_failed_restore_leaves_the_adapter_down_with_the_timer_off() -> None:
    rig = adapter_rig()
    rig.adapter.reset.trigger(R.DEVICE_REQUEST)
    rig.dev.set_mgmt_faults(MgmtFaults(feature_unsupported=1.0))
    rig.adapter.advance(SECOND)
    a = rig.adapter
    assert a.stats.failed_restores == 1 and not a.flags.device_running
    assert a.timer_due_ns is None and a.driver is None
    assert rig.blocks() == rig.baseline_blocks, "nothing held by a dead adapter"


def test_admin_timeout_stops_the_queue_and_the_timer_resets_admin_to() -> None:
    rig = adapter_rig()
    rig.dev.set_mgmt_faults(MgmtFaults(admin_comp_lost=1.0))
    rc, _ = rig.adapter.get_basic_stats()
    assert rc == errno.ETIMEDOUT
    rig.dev.set_mgmt_faults(MgmtFaults())
    rig.adapter.advance(SECOND)
    assert dict(rig.adapter.stats.resets) == {R.ADMIN_TO: 1}
    assert rig.adapter.stats.admin_q_pause == 1


def test_sbintime_conversion_is_exact_at_whole_and_half_seconds() -> None:
    assert int(ns_to_sbt(6 * SECOND)) == 6 * SBT_1S
    assert int(ns_to_sbt(SECOND // 2)) == SBT_1S // 2
    assert int(ns_to_sbt(10**6 * SECOND)) == 10**6 * SBT_1S  # no int64 overflow


def test_device_events_are_off_until_started_and_dropped_while_unconfigured() -> None:
    rig = adapter_rig(events=False)
    rig.adapter.advance(3 * SECOND)
    assert rig.dev.mgmt_stats.keep_alives == 0
    dev = adapter_rig(attach=False).dev
    dev.events.start()
    dev.clock.advance(3 * SECOND)
    assert dev.mgmt_stats.keep_alives == 0 and dev.aenq.dropped_disabled == 3


def test_device_config_without_keep_alive_group_leaves_the_watchdog_off() -> None:
    from impl.device.features import Limits
    rig = adapter_rig(attach=False)
    rig.dev.features.limits = Limits(aenq_supported=0xFF & ~(1 << 4))
    assert rig.adapter.attach() == 0
    assert not rig.adapter.wd_active
    rig.adapter.advance(20 * SECOND)
    assert rig.adapter.stats.total_resets == 0





def test_conf_notifications_log_each_bit_as_its_code_and_others_go_unimplemented() -> None:
    rig = adapter_rig(events=False)
    assert rig.dev.aenq.conf_notification((1 << 0) | (1 << 5) | (1 << 63))
    assert rig.dev.aenq.event(2)  # WARNING: no handler in FreeBSD
    assert rig.adapter.events.conf_codes == [1, 6, 64]
    assert rig.adapter.events.unimplemented == [2]


def test_hints_read_at_attach_are_never_applied_only_aenq_ones_are() -> None:
    from impl.device.features import HwHints, Limits
    rig = adapter_rig(attach=False)
    rig.dev.features.limits = Limits(hints=HwHints(driver_watchdog_timeout=1000,
                                                   missing_tx_completion_timeout=1000))
    assert rig.adapter.attach() == 0
    a = rig.adapter
    assert a.com is not None and a.com.feats.hw_hints is not None
    assert int(a.com.feats.hw_hints["driver_watchdog_timeout"][0]) == 1000, "fetched ..."
    assert a.keep_alive_timeout == 6 * SBT_1S and a.missing_tx_timeout == 5 * SBT_1S, (
        "... but FreeBSD never applies GET_FEATURE(HW_HINTS)")
