"""The sysctl nodes on a real adapter and device (impl/ena/adapter_sysctl.py): what a
write changes on the device, the RSS key and table reaching the device, the revert and
OS_TRIGGER paths of ena_update_*, and malformed input leaving driver, device and host
memory byte for byte as they were."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.ena_adapter_rig import SECOND, AdapterRig, adapter_rig

from impl.ena import adapter as adapter_mod
from impl.ena.adapter_sysctl import AdapterSysctlHost
from impl.ena.admin_port import AdminQueuePort
from impl.ena.driver import QueueSetupError
from impl.ena.sysctl import Sysctl
from impl.ena_defs.regs import ResetReason

DEV = "dev.ena.0."


def _sysctl(rig: AdapterRig) -> Sysctl:
    return Sysctl(AdapterSysctlHost(rig.adapter, rig.dev))


@pytest.fixture
def rig() -> AdapterRig:
    return adapter_rig(events=False)


def test_rx_queue_size_rebuilds_the_queues_on_the_device(rig: AdapterRig) -> None:
    s = _sysctl(rig)
    assert s.write(DEV + "rx_queue_size", "512") == 0
    a = rig.adapter
    assert (a.rx_ring_size, a.tx_ring_size) == (512, 1024)
    q = rig.dev.queues
    depths = sorted(q.sq_depth[q.sq_used].tolist())
    assert depths == [512] * a.num_io_queues + [1024] * a.num_io_queues
    rig.traffic(rig.frames(8), 5)
    assert a.packets().completed > 0
    assert s.read(DEV + "rx_queue_size") == "512"


def test_io_queues_nb_rebuilds_the_default_rss_table(rig: AdapterRig) -> None:
    s = _sysctl(rig)
    assert s.write(DEV + "rss.indir_table", "0:1") == 0
    assert s.write(DEV + "io_queues_nb", "1") == 0
    a = rig.adapter
    assert a.num_io_queues == 1 and a.rss is not None and a.rss.table is not None
    assert not a.rss.table.any(), "ena_com_rss_destroy: the default table for one queue"
    assert a.driver is not None
    assert (rig.dev.rss.table == a.driver.sq_idx[0, 1]).all()
    assert s.write(DEV + "io_queues_nb", "3") == errno.EINVAL, "more than msix_vecs - 1"


def test_rss_key_round_trip_reaches_the_device_reversed(rig: AdapterRig) -> None:
    s = _sysctl(rig)
    key = bytes(range(40))
    assert s.write(DEV + "rss.key", key.hex()) == 0
    assert s.read(DEV + "rss.key") == key.hex()
    assert rig.dev.rss.hw_key == key[::-1], "ENA takes the key byte-reversed"


def test_indir_table_records_reach_the_device(rig: AdapterRig) -> None:
    s = _sysctl(rig)
    assert s.write(DEV + "rss.indir_table", "0:1  5:0 7:1") == 0
    a = rig.adapter
    assert a.driver is not None and a.rss is not None and a.rss.table is not None
    assert a.rss.table[[0, 5, 7]].tolist() == [1, 0, 1]
    assert (rig.dev.rss.table == a.driver.sq_idx[a.rss.table, 1]).all()
    assert s.read(DEV + "rss.indir_table").split()[:2] == ["0:1", "1:1"]


def _refuse_above(limit: int, code: int, always: bool = False) -> type[AdminQueuePort]:
    class Port(AdminQueuePort):
        def create_cq(self, cmd):  # type: ignore[no-untyped-def]
            if always or cmd.cq_depth > limit:
                raise QueueSetupError("refused", code)
            return super().create_cq(cmd)
    return Port


def test_a_failed_resize_reverts_and_reports_success_as_shipped(
        rig: AdapterRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_mod, "AdminQueuePort", _refuse_above(1024, errno.EINVAL))
    s = _sysctl(rig)
    # ena_update_queue_size returns the second ena_up's code: the revert came up, so 0
    assert s.write(DEV + "rx_queue_size", "2048") == 0
    a = rig.adapter
    assert a.requested_rx_ring_size == 1024 and a.rx_ring_size == 1024 and a.flags.dev_up
    assert not a.reset.triggered


def test_a_failed_revert_requests_an_os_trigger_reset_that_brings_it_back(
        rig: AdapterRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_mod, "AdminQueuePort",
                        _refuse_above(0, errno.EINVAL, always=True))
    s = _sysctl(rig)
    assert s.write(DEV + "rx_queue_size", "512") == errno.EINVAL
    a = rig.adapter
    assert a.reset.triggered and a.reset.reason == ResetReason.OS_TRIGGER
    assert a.flags.dev_up_before_reset and not a.flags.dev_up
    monkeypatch.setattr(adapter_mod, "AdminQueuePort", AdminQueuePort)
    a.advance(SECOND)
    assert dict(a.stats.resets) == {ResetReason.OS_TRIGGER: 1}
    assert a.flags.dev_up and a.rx_ring_size == 1024


def test_buf_ring_size_failure_reverts_and_resets_at_once(
        rig: AdapterRig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter_mod, "AdminQueuePort",
                        _refuse_above(0, errno.EIO, always=True))
    s = _sysctl(rig)
    assert s.write(DEV + "buf_ring_size", "1024") == errno.EIO
    a = rig.adapter
    assert a.buf_ring_size == 4096 and a.reset.reason == ResetReason.OS_TRIGGER


def test_buf_ring_size_applies_to_the_new_datapath(rig: AdapterRig) -> None:
    assert _sysctl(rig).write(DEV + "buf_ring_size", "512") == 0
    assert rig.adapter.driver is not None
    assert rig.adapter.driver.tx.drbr.size == 512


WRITABLE = [DEV + n for n in (
    "io_queues_nb", "rx_queue_size", "buf_ring_size", "stats_sample_interval",
    "irq_affinity.base_cpu", "irq_affinity.cpu_stride", "rss.key", "rss.indir_table",
    "wd_active", "keep_alive_timeout", "missing_tx_timeout", "missing_tx_max_queues",
    "missing_tx_threshold")]
JUNK = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "-1", "0x", "12abc", "1e3", "4096 ", "+", "0:", ":1",
                     "0:1 ", "128:0", "0:9", "x" * 80, "g" * 80, "0" * 79, "0" * 81,
                     "99999999999999999999", "\x00", "0\x000", "１２"]),
    st.integers(-(1 << 70), 1 << 70).map(str))


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(WRITABLE), value=JUNK)
def test_a_refused_write_leaves_driver_device_and_memory_as_they_were(
        name: str, value: str) -> None:
    rig = adapter_rig(events=False)
    s = _sysctl(rig)
    host = s.host
    before = host.snapshot()
    rc = s.write(name, value)
    if rc:
        assert host.snapshot() == before, (name, value, rc)
        assert rc in (errno.EINVAL, errno.ERANGE, errno.ENOTSUP, errno.EOPNOTSUPP,
                      errno.ENODEV), rc
    assert rig.adapter.flags.device_running


def test_snapshot_sees_a_change_in_device_state(rig: AdapterRig) -> None:
    host = AdapterSysctlHost(rig.adapter, rig.dev)
    before = host.snapshot()
    rig.dev.rss.table[0] = 99
    assert host.snapshot() != before
