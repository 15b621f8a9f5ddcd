"""The register BAR's management plane: register fields against the C masks, the readless
read (sequence numbers, poison, timeouts, offset mismatch, late responses), version and DMA
width checks, and the reset handshake (reasons, timeouts, unresponsive device)."""

from __future__ import annotations

import ctypes as ct
import errno

import pytest
from support.ena_mgmt_rig import mgmt_rig

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock
from impl.device.mgmt_faults import MgmtFaults
from impl.device.queues import TX_CQ_WORDS
from impl.ena import com_reset
from impl.ena.com_reset import ResetTimeouts
from impl.ena.mmio import MmioRead
from impl.ena.poll import backoff_us, poll_until
from impl.ena_defs import constants as k
from impl.ena_defs import regs
from impl.ena_defs.admin import CreateCqCmd
from impl.ena_defs.mgmt_layouts import READLESS_RESP_DTYPE
from impl.ena_defs.regs import DevCtl, DevSts, ResetReason

US = 1000


# -- layouts and constants against the C
def test_register_field_masks_match_the_c_macros() -> None:
    c = {  # ENA_REGS_*_MASK from ena_regs_defs.h
        regs.Version.MINOR: 0xFF, regs.Version.MAJOR: 0xFF00,
        regs.ControllerVersion.SUBMINOR: 0xFF, regs.ControllerVersion.MINOR: 0xFF00,
        regs.ControllerVersion.MAJOR: 0xFF0000, regs.ControllerVersion.IMPL_ID: 0xFF000000,
        regs.Caps.CONTIGUOUS_QUEUE_REQUIRED: 0x1, regs.Caps.RESET_TIMEOUT: 0x3E,
        regs.Caps.DMA_ADDR_WIDTH: 0xFF00, regs.Caps.ADMIN_CMD_TO: 0xF0000,
        regs.QueueCaps.DEPTH: 0xFFFF, regs.QueueCaps.ENTRY_SIZE: 0xFFFF0000,
        DevCtl.DEV_RESET: 0x1, DevCtl.AQ_RESTART: 0x2, DevCtl.QUIESCENT: 0x4,
        DevCtl.IO_RESUME: 0x8, DevCtl.RESET_REASON_EXT: 0xF000000,
        DevCtl.RESET_REASON: 0xF0000000, DevSts.READY: 0x1, DevSts.RESET_IN_PROGRESS: 0x8,
        DevSts.RESET_FINISHED: 0x10, DevSts.FATAL_ERROR: 0x20,
        regs.MmioRegRead.REQ_ID: 0xFFFF, regs.MmioRegRead.REG_OFF: 0xFFFF0000,
        regs.RssIndEntryUpdate.INDEX: 0xFFFF, regs.RssIndEntryUpdate.CQ_IDX: 0xFFFF0000,
    }
    for field, mask in c.items():
        assert field.mask == mask, field


def test_readless_response_layout_matches_the_c_struct() -> None:
    class Resp(ct.Structure):
        _fields_ = [("req_id", ct.c_uint16), ("reg_off", ct.c_uint16),
                    ("reg_val", ct.c_uint32)]
    assert READLESS_RESP_DTYPE.itemsize == ct.sizeof(Resp) == 8
    for name, _ in Resp._fields_:
        assert READLESS_RESP_DTYPE.fields[name][1] == getattr(Resp, name).offset


def test_pci_ids_and_the_device_fills_the_config_space() -> None:
    assert (k.PCI_DEV_ID_ENA_PF, k.PCI_DEV_ID_ENA_PF_RSERV0, k.PCI_DEV_ID_ENA_VF,
            k.PCI_DEV_ID_ENA_VF_RSERV0) == (0x0EC2, 0x1EC2, 0xEC20, 0xEC21)
    bus = Bus(mem_size=1 << 16, nvec=2)
    EnaDevice(bus, DeviceConfig(pci_device_id=k.PCI_DEV_ID_ENA_VF, pci_revision_id=1))
    assert (bus.pci.vendor_id, bus.pci.device_id, bus.pci.revision_id) == (0x1D0F, 0xEC20, 1)


# -- the clock's event queue and the driver's waits
def test_clock_runs_callbacks_in_time_order_at_their_time() -> None:
    clock = SimClock()
    seen: list[tuple[str, int]] = []
    clock.call_after(30, lambda: seen.append(("b", clock.now_ns)))
    clock.call_after(10, lambda: seen.append(("a", clock.now_ns)))
    clock.call_after(30, lambda: seen.append(("c", clock.now_ns)))
    clock.advance(29)
    assert seen == [("a", 10)]
    clock.advance(1)
    assert seen == [("a", 10), ("b", 30), ("c", 30)] and clock.now_ns == 30
    with pytest.raises(ValueError):
        clock.call_after(-1, lambda: None)


def test_poll_until_sees_an_event_at_the_first_check_after_it() -> None:
    clock = SimClock()
    box = {"done": False}
    clock.call_after(2500, lambda: box.update(done=True))
    assert poll_until(clock, lambda: box["done"], 10, 1000)
    assert clock.now_ns == 3000  # checks at 0, 1000, 2000 fail; 3000 succeeds
    assert not poll_until(clock, lambda: False, 7, 1000)
    assert clock.now_ns == 3000 + 7000


def test_backoff_matches_ena_delay_exponential_backoff_us() -> None:
    assert [backoff_us(e, 100) for e in range(8)] == [100, 200, 400, 800, 1600, 3200,
                                                      5000, 5000]
    assert backoff_us(0, 5) == 100 and backoff_us(40, 100) == 5000


# -- readless reads
def test_readless_read_returns_the_register_and_bumps_the_sequence() -> None:
    r = mgmt_rig(DeviceConfig(version=(2, 7), dma_addr_width=40, reset_timeout=3,
                              admin_cmd_to=9))
    assert r.mmio.read32(regs.VERSION_OFF) == 0x0207
    assert r.mmio.read32(regs.CAPS_OFF) == (3 << 1) | (40 << 8) | (9 << 16)
    assert r.mmio.seq_num == 2 and r.dev.mgmt_stats.readless_reads == 2
    assert int(r.mmio.resp["req_id"][0]) == 2 and int(r.mmio.resp["reg_off"][0]) == 0x8
    assert r.clock.now_ns == 2 * US  # 500 ns latency: seen at the 1 us check, twice
    # the request word as the C builds it: offset << 16 | seq
    assert int(r.bus.regs.last[regs.MMIO_REG_READ_OFF >> 2]) == (0x8 << 16) | 2


def test_readless_timeout_returns_all_ones_after_reg_read_to_microseconds() -> None:
    r = mgmt_rig(faults=MgmtFaults(readless_timeout=1.0), reg_read_to=50)
    assert r.mmio.read32(regs.VERSION_OFF) == regs.MMIO_READ_TIMEOUT
    assert r.clock.now_ns == 50 * US
    # the response slot still holds the poison the driver wrote: seq + 0xDEAD
    assert int(r.mmio.resp["req_id"][0]) == 1 + 0xDEAD
    assert r.mmio.timeouts == 1 and r.dev.mgmt_stats.readless_timeout == 1


def test_default_readless_timeout_is_200000_iterations() -> None:
    r = mgmt_rig(faults=MgmtFaults(readless_timeout=1.0))
    assert r.mmio.read32(regs.CAPS_OFF) == 0xFFFFFFFF
    assert r.clock.now_ns == k.REG_READ_TIMEOUT * US


def test_readless_offset_mismatch_returns_all_ones_without_waiting_out() -> None:
    r = mgmt_rig(faults=MgmtFaults(readless_bad_offset=1.0))
    assert r.mmio.read32(regs.CAPS_OFF) == regs.MMIO_READ_TIMEOUT
    assert r.clock.now_ns == 1 * US and r.mmio.mismatches == 1 and r.mmio.timeouts == 0


def test_late_responses_of_earlier_reads_are_never_taken() -> None:
    r = mgmt_rig(DeviceConfig(readless_latency_ns=25 * US), reg_read_to=10)
    # each response lands after its read gave up, during a later read: wrong req_id
    assert [r.mmio.read32(regs.VERSION_OFF) for _ in range(4)] == [0xFFFFFFFF] * 4
    r.mmio.reg_read_to = 100
    assert r.mmio.read32(regs.CAPS_OFF) == r.dev.mgmt.read(regs.CAPS_OFF)


def test_sequence_number_wraps_at_16_bits() -> None:
    r = mgmt_rig()
    r.mmio.seq_num = 0xFFFF
    assert r.mmio.read32(regs.VERSION_OFF) == 0x000A
    assert r.mmio.seq_num == 0


def test_direct_reads_when_pci_revision_bit0_is_set() -> None:
    r = mgmt_rig(DeviceConfig(pci_revision_id=k.MMIO_DISABLE_REG_READ))
    assert not r.mmio.readless_supported
    assert r.mmio.read32(regs.VERSION_OFF) == 0x000A
    assert r.dev.mgmt_stats.readless_reads == 0 and r.clock.now_ns == 0


def test_no_response_without_a_programmed_address() -> None:
    r = mgmt_rig(reg_read_to=20)
    r.bus.regs.write32(regs.MMIO_RESP_LO_OFF, 0)
    r.bus.regs.write32(regs.MMIO_RESP_HI_OFF, 0)
    assert r.mmio.read32(regs.VERSION_OFF) == regs.MMIO_READ_TIMEOUT
    assert r.dev.mgmt_stats.readless_timeout == 1
    r2 = MmioRead(r.bus, r.clock, 20)  # init programs its own buffer's address
    assert r2.read32(regs.VERSION_OFF) == 0x000A
    used = r.bus.mem.allocated
    r2.destroy()
    assert r.bus.mem.allocated == used - 8 and r.dev.mgmt.readless.resp_addr == 0


# -- version and DMA width
def test_validate_version() -> None:
    assert com_reset.validate_version(mgmt_rig().mmio) == 0
    old = DeviceConfig(controller_version=(0, 0, 0, 0xFF))  # impl id is ignored
    assert com_reset.validate_version(mgmt_rig(old).mmio) == -1
    dead = mgmt_rig(faults=MgmtFaults(readless_timeout=1.0), reg_read_to=5)
    assert com_reset.validate_version(dead.mmio) == errno.ETIMEDOUT


@pytest.mark.parametrize(("width", "want"), [(32, (0, 32)), (48, (0, 48)),
                                             (31, (errno.EINVAL, 0)),
                                             (49, (errno.EINVAL, 0))])
def test_dma_width_must_be_32_to_48(width: int, want: tuple[int, int]) -> None:
    assert com_reset.get_dma_width(mgmt_rig(DeviceConfig(dma_addr_width=width)).mmio) == want


def test_dma_width_read_timeout() -> None:
    r = mgmt_rig(faults=MgmtFaults(readless_timeout=1.0), reg_read_to=5)
    assert com_reset.get_dma_width(r.mmio) == (errno.ETIMEDOUT, 0)


# -- reset
@pytest.mark.parametrize(("reason", "ext", "ctl", "seen"), [
    (ResetReason.NORMAL, False, 0x1, 0),
    (ResetReason.INV_TX_REQ_ID, False, 0x50000001, 5),
    (ResetReason.DEVICE_REQUEST, True, 0x31000001, 19),  # 19 = 0x13: msb 1, lsb 3
    (ResetReason.DEVICE_REQUEST, False, 0xD0000001, 13),  # no capability: GENERIC
    (ResetReason.MISSING_ADMIN_INTERRUPT, True, 0x21000001, 18),
])
def test_reset_reason_encoding(reason: ResetReason, ext: bool, ctl: int, seen: int) -> None:
    assert com_reset.reset_ctl_value(reason, ext) == ctl
    r = mgmt_rig()
    assert com_reset.dev_reset(r.mmio, reason, ext, ResetTimeouts()) == 0
    assert r.dev.mgmt.reset.reasons == [seen]


def test_reset_handshake_destroys_queues_and_sets_the_admin_timeout() -> None:
    r = mgmt_rig(DeviceConfig(admin_cmd_to=7))
    addr = r.bus.mem.alloc(64 * 8)
    assert r.dev.create_cq(CreateCqCmd(64, addr, 1, TX_CQ_WORDS)).status == 0
    t = ResetTimeouts()
    assert com_reset.dev_reset(r.mmio, ResetReason.NORMAL, False, t) == 0
    assert t.completion_timeout_us == 700_000
    assert not r.dev.queues.cq_used.any()
    sts = r.mmio.read32(regs.DEV_STS_OFF)
    assert sts & DevSts.READY.mask and sts & DevSts.RESET_FINISHED.mask
    assert not sts & DevSts.RESET_IN_PROGRESS.mask
    assert r.dev.mgmt.reset.dev_ctl == 0
    # 1 ms of device reset time, polled with the backoff: finished within a few ms
    assert 1_000 * US < r.clock.now_ns < 10_000 * US


def test_reset_default_admin_timeout_is_3s() -> None:
    t = ResetTimeouts(completion_timeout_us=1)
    assert com_reset.dev_reset(mgmt_rig().mmio, 0, False, t) == 0
    assert t.completion_timeout_us == k.ADMIN_CMD_TIMEOUT_US


def test_reset_without_reprogramming_the_readless_address_loses_reads() -> None:
    r = mgmt_rig(reg_read_to=100)
    r.bus.regs.write32(regs.DEV_CTL_OFF, DevCtl.DEV_RESET.mask)  # the device clears it
    assert r.mmio.read32(regs.DEV_STS_OFF) == regs.MMIO_READ_TIMEOUT
    r.mmio.write_dev_addr()
    assert r.mmio.read32(regs.DEV_STS_OFF) & DevSts.RESET_IN_PROGRESS.mask


def test_unresponsive_device_times_out_after_the_caps_reset_timeout() -> None:
    r = mgmt_rig(DeviceConfig(reset_timeout=2), MgmtFaults(reset_unresponsive=1.0))
    assert com_reset.dev_reset(r.mmio, ResetReason.ADMIN_TO, False, ResetTimeouts()) \
        == errno.ETIMEDOUT
    assert 200_000 * US < r.clock.now_ns <= 200_000 * US + 2 * 5_000 * US
    assert r.dev.mgmt_stats.reset_unresponsive == 1
    sts = r.mmio.read32(regs.DEV_STS_OFF)
    assert sts & DevSts.RESET_IN_PROGRESS.mask and not sts & DevSts.READY.mask
    # a second reset finds the device not ready: EINVAL, nothing written
    writes = r.bus.regs.writes
    assert com_reset.dev_reset(r.mmio, 0, False, ResetTimeouts()) == errno.EINVAL
    assert r.bus.regs.writes == writes + 2  # only the two readless requests


def test_reset_refused_without_a_reset_timeout_in_caps() -> None:
    r = mgmt_rig(DeviceConfig(reset_timeout=0))
    assert com_reset.dev_reset(r.mmio, 0, False, ResetTimeouts()) == errno.EINVAL
    assert r.dev.mgmt.reset.reasons == []


def test_reset_with_dead_readless_times_out_without_writing_dev_ctl() -> None:
    r = mgmt_rig(faults=MgmtFaults(readless_timeout=1.0), reg_read_to=10)
    assert com_reset.dev_reset(r.mmio, 0, False, ResetTimeouts()) == errno.ETIMEDOUT
    assert r.dev.mgmt.reset.reasons == []


def test_fault_draws_are_seeded() -> None:
    def run(seed: int) -> list[int]:
        r = mgmt_rig(DeviceConfig(seed=seed), MgmtFaults(readless_timeout=0.5),
                     reg_read_to=5)
        return [r.mmio.read32(regs.VERSION_OFF) for _ in range(40)]
    a, b = run(3), run(3)
    assert a == b and 0xFFFFFFFF in a and 0x000A in a
    assert run(4) != a
    with pytest.raises(ValueError):
        MgmtFaults(admin_comp_lost=1.5)
