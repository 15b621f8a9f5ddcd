"""What mutation testing of the simulated device's management plane found uncovered:
impl/device/readless.py, dev_reset.py, regs_bar.py, aenq.py and admin_queue.py, driven
directly (no driver) with the register offsets and bit positions of ``ena_regs_defs.h``
and the entry layouts of ``ena_admin_defs.h`` spelled out here:

* the readless read (``ena_com_reg_bar_read32``): ``MMIO_REG_READ = reg_off << 16 |
  req_id``; the device DMA-writes ``{u16 req_id, u16 reg_off, u32 reg_val}`` to
  ``MMIO_RESP_HI << 32 | MMIO_RESP_LO``;
* the reset handshake (``ena_com_dev_reset``): DEV_CTL bit 0 DEV_RESET, reason in bits
  31:28 (and 27:24 for the extended reasons); DEV_STS bit 0 READY, bit 3
  RESET_IN_PROGRESS, bit 4 RESET_FINISHED;
* the fixed registers: VERSION, CONTROLLER_VERSION, CAPS (bits 5:1 reset timeout, 15:8
  DMA width, 19:16 admin command timeout), INTR_MASK;
* the AENQ (``ena_com_aenq_intr_handler``): 64-byte entries, ``{u16 group, u16 syndrome,
  u8 flags (bit 0 phase, 1 on the first pass), u8[3], u32 timestamp_low, u32
  timestamp_high}`` then the payload;
* the admin queue (the device's half of ``ena_com_submit_admin_cmd`` and
  ``ena_com_handle_admin_completion``): 64-byte AQ entries ``{u16 command_id, u8 opcode,
  u8 flags (bit 0 phase)}`` and ACQ entries ``{u16 command, u8 status, u8 flags (bit 0
  phase), u16 extended_status, u16 sq_head_indx}`` then the response; both phases start at
  1 and flip at each wrap.
"""

from __future__ import annotations

import numpy as np
import pytest

from impl.bus import Bus
from impl.device.admin_queue import DeviceAdminQueue, bad_opcode
from impl.device.aenq import DeviceAenq
from impl.device.clock import SimClock
from impl.device.config import DeviceConfig
from impl.device.dev_reset import DeviceReset
from impl.device.mgmt_faults import MgmtFaults, MgmtStats
from impl.device.readless import Readless
from impl.device.regs_bar import MgmtRegs

VERSION, CONTROLLER_VERSION, CAPS, CAPS_EXT = 0x0, 0x4, 0x8, 0xC
AQ_BASE_LO, AQ_BASE_HI, AQ_CAPS = 0x10, 0x14, 0x18
ACQ_BASE_LO, ACQ_BASE_HI, ACQ_CAPS, AQ_DB = 0x20, 0x24, 0x28, 0x2C
AENQ_CAPS, AENQ_BASE_LO, AENQ_BASE_HI, AENQ_HEAD_DB, AENQ_TAIL = 0x34, 0x38, 0x3C, 0x40, 0x44
ACQ_TAIL, INTR_MASK, DEV_CTL, DEV_STS = 0x30, 0x4C, 0x54, 0x58
MMIO_REG_READ, MMIO_RESP_LO, MMIO_RESP_HI, RSS_IND_ENTRY_UPDATE = 0x5C, 0x60, 0x64, 0x68
DEV_RESET = 0x1
STS_READY, STS_RESET_IN_PROGRESS, STS_RESET_FINISHED = 0x1, 0x8, 0x10


def le(raw: np.ndarray, at: int, n: int) -> int:
    return int.from_bytes(bytes(raw[at:at + n]), "little")


# -- the readless read
def readless_rig(latency: int = 500, faults: MgmtFaults | None = None
                 ) -> tuple[Bus, SimClock, Readless, MgmtStats, dict[int, int], int]:
    bus = Bus(mem_size=1 << 16, nvec=2)
    clock = SimClock()
    stats = MgmtStats()
    values: dict[int, int] = {}
    rl = Readless(bus, clock, latency, faults or MgmtFaults(), np.random.default_rng(0),
                  stats, lambda off: values.get(off, 0))
    resp = bus.mem.alloc(8)
    rl.resp_lo = resp
    return bus, clock, rl, stats, values, resp


def test_readless_response_is_req_id_offset_and_the_value_at_response_time() -> None:
    bus, clock, rl, stats, values, resp = readless_rig(latency=500)
    values[0x58] = 0x11
    rl.request(0x58 << 16 | 0xBEEF)
    values[0x58] = 0x1_2345_6789  # changes before the response: the response has it (u32)
    clock.advance(499)
    assert not bus.mem.view(resp, 8).any()  # not yet
    clock.advance(1)
    raw = bus.mem.view(resp, 8)
    assert (le(raw, 0, 2), le(raw, 2, 2), le(raw, 4, 4)) == (0xBEEF, 0x58, 0x2345_6789)
    assert (stats.readless_reads, stats.readless_timeout, stats.readless_dma_error) == (1, 0, 0)


def test_readless_without_a_response_address_is_dropped_and_counted() -> None:
    bus, clock, rl, stats, _, resp = readless_rig()
    rl.clear()
    assert (rl.resp_lo, rl.resp_hi, rl.resp_addr) == (0, 0, 0)
    rl.request(0x8 << 16 | 1)
    rl.request(0x8 << 16 | 2)
    assert clock.pending_events == 0
    clock.advance(10_000)
    assert not bus.mem.view(resp, 8).any()
    assert (stats.readless_reads, stats.readless_timeout) == (2, 2)


def test_readless_response_address_is_hi_then_lo() -> None:
    bus, clock, rl, stats, _, resp = readless_rig()
    rl.resp_hi = 1  # 4 GiB + resp: outside this host memory, a DMA error
    assert rl.resp_addr == (1 << 32) | resp
    rl.request(0x8 << 16 | 7)
    clock.advance(1000)
    assert stats.readless_dma_error == 1 and not bus.mem.view(resp, 8).any()
    assert f"resp_addr={(1 << 32) | resp:#x}" in repr(rl) and "reads=1" in repr(rl)
    assert "latency=500 ns" in repr(rl)


def test_readless_faults_drop_or_shift_the_offset() -> None:
    bus, clock, rl, stats, values, resp = readless_rig(
        faults=MgmtFaults(readless_bad_offset=1.0))
    values[0xFFFE] = 0xAB
    rl.request(0xFFFE << 16 | 3)
    clock.advance(500)
    raw = bus.mem.view(resp, 8)
    # the reported offset is 4 further (u16), the value is still the register's
    assert (le(raw, 0, 2), le(raw, 2, 2), le(raw, 4, 4)) == (3, 0x0002, 0xAB)
    assert stats.readless_bad_offset == 1
    bus, clock, rl, stats, _, resp = readless_rig(faults=MgmtFaults(readless_timeout=1.0))
    rl.request(0x8 << 16 | 3)
    clock.advance(1000)
    assert not bus.mem.view(resp, 8).any() and stats.readless_timeout == 1


# -- the reset handshake
def reset_rig(faults: MgmtFaults | None = None
              ) -> tuple[SimClock, DeviceReset, MgmtStats, list[int]]:
    clock = SimClock()
    stats = MgmtStats()
    calls: list[int] = []
    dr = DeviceReset(clock, 2_000, 1_000_000, faults or MgmtFaults(), np.random.default_rng(0),
                     stats, lambda: calls.append(clock.now_ns))
    return clock, dr, stats, calls


def test_reset_handshake_timeline() -> None:
    clock, dr, stats, calls = reset_rig()
    assert dr.dev_sts == STS_READY and dr.dev_ctl == 0
    dr.write_ctl(DEV_RESET | 0x3 << 28 | 0x1 << 24)
    assert dr.reasons == [0x13] and stats.resets == 1 and calls == [0]
    assert dr.dev_sts == 0 and dr.dev_ctl == DEV_RESET | 0x3 << 28 | 0x1 << 24
    clock.advance(1_999)
    assert dr.dev_sts == 0
    clock.advance(1)
    assert dr.dev_sts == STS_RESET_IN_PROGRESS
    clock.advance(5_000_000)  # not released: stays in reset
    assert dr.dev_sts == STS_RESET_IN_PROGRESS
    t = clock.now_ns
    dr.write_ctl(0)
    clock.advance(999_999)
    assert dr.dev_sts == STS_RESET_IN_PROGRESS
    clock.advance(1)
    assert clock.now_ns == t + 1_000_000
    assert dr.dev_sts == STS_READY | STS_RESET_FINISHED
    assert "resets=1" in repr(dr) and "last_reason=[19]" in repr(dr)
    assert f"dev_sts={STS_READY | STS_RESET_FINISHED:#x}" in repr(dr)
    # a second reset: a new reason, the finished bit drops until it is over again
    dr.write_ctl(DEV_RESET | 0x5 << 28)
    assert dr.reasons == [0x13, 0x5] and dr.dev_sts == 0 and stats.resets == 2
    dr.write_ctl(0)
    clock.advance(2_000 + 1_000_000)
    assert dr.dev_sts == STS_READY | STS_RESET_FINISHED and len(calls) == 2


def test_reset_released_before_it_is_in_progress() -> None:
    clock, dr, _, _ = reset_rig()
    dr.write_ctl(DEV_RESET)
    clock.advance(1_000)
    dr.write_ctl(0)  # the release comes first; the exit counts from RESET_IN_PROGRESS
    assert dr.dev_sts == 0
    clock.advance(1_000)
    assert dr.dev_sts == STS_RESET_IN_PROGRESS
    clock.advance(999_999)
    assert dr.dev_sts == STS_RESET_IN_PROGRESS
    clock.advance(1)
    assert dr.dev_sts == STS_READY | STS_RESET_FINISHED


def test_repeated_assert_and_release_change_nothing() -> None:
    clock, dr, stats, calls = reset_rig()
    dr.write_ctl(0)  # a release with no reset
    assert dr.dev_sts == STS_READY and clock.pending_events == 0
    dr.write_ctl(DEV_RESET | 0x2 << 28)
    clock.advance(2_000)
    dr.write_ctl(DEV_RESET | 0x7 << 28)  # already resetting
    assert dr.reasons == [2] and stats.resets == 1 and len(calls) == 1
    assert dr.dev_ctl == DEV_RESET | 0x7 << 28
    dr.write_ctl(0)
    pending = clock.pending_events
    dr.write_ctl(0)  # a second release schedules no second exit
    assert clock.pending_events == pending == 1
    clock.advance(1_000_000)
    assert dr.dev_sts == STS_READY | STS_RESET_FINISHED


def test_unresponsive_device_never_leaves_the_reset() -> None:
    clock, dr, stats, _ = reset_rig(MgmtFaults(reset_unresponsive=1.0))
    dr.write_ctl(DEV_RESET)
    dr.write_ctl(0)
    clock.advance(100_000_000)
    assert dr.dev_sts == STS_RESET_IN_PROGRESS and stats.reset_unresponsive == 1
    assert clock.pending_events == 0


# -- the fixed registers
def regs_rig(**cfg: int) -> tuple[Bus, SimClock, MgmtRegs, MgmtStats, list[int]]:
    bus = Bus(mem_size=1 << 16, nvec=2)
    clock = SimClock()
    stats = MgmtStats()
    resets: list[int] = []
    config = DeviceConfig(**cfg)  # type: ignore[arg-type]
    m = MgmtRegs(bus, clock, config, MgmtFaults(), stats, lambda: resets.append(1))
    return bus, clock, m, stats, resets


def test_identity_registers_and_pci_ids() -> None:
    bus, _, m, _, _ = regs_rig(version=(2, 3), controller_version=(4, 5, 6, 7),
                               reset_timeout=21, dma_addr_width=44, admin_cmd_to=9,
                               pci_device_id=0xEC20, pci_revision_id=1)
    assert m.read(VERSION) == 0x0203  # major 15:8, minor 7:0
    assert m.read(CONTROLLER_VERSION) == 0x07040506  # impl 31:24, major, minor, subminor
    assert m.read(CAPS) == 21 << 1 | 44 << 8 | 9 << 16
    assert m.read(CAPS_EXT) == 0
    assert (bus.pci.vendor_id, bus.pci.device_id, bus.pci.revision_id) == (0x1D0F, 0xEC20, 1)
    assert f"caps={21 << 1 | 44 << 8 | 9 << 16:#x}" in repr(m)
    assert "DeviceReset(" in repr(m) and "Readless(" in repr(m)


def test_plain_registers_latch_and_intr_mask_starts_masked() -> None:
    _, _, m, _, _ = regs_rig()
    assert m.read(INTR_MASK) == 1 and m.reg(INTR_MASK) == 1
    assert m.read(0x200) == 0 and m.reg(AQ_DB) == 0
    m.write(0x200, 0x1_DEAD_BEEF)  # a 32-bit register
    assert m.read(0x200) == 0xDEAD_BEEF
    m.write(INTR_MASK, 0)
    assert m.read(INTR_MASK) == 0


def test_hooks_and_the_registers_with_their_own_meaning() -> None:
    _, _, m, _, _ = regs_rig()
    seen: list[tuple[int, int]] = []
    m.on_write(AQ_DB, lambda v: seen.append((AQ_DB, v)))
    m.on_write(0x300, lambda v: seen.append((0x300, v)))
    m.on_read(AENQ_TAIL, lambda: 0x1_0000_0005)
    m.on_read(VERSION, lambda: 0x42)  # a hook answers before the built-in value
    m.write(AQ_DB, 0x1_0000_0003)
    m.write(0x300, 9)
    assert seen == [(AQ_DB, 3), (0x300, 9)] and m.reg(AQ_DB) == 3
    assert m.read(AENQ_TAIL) == 5 and m.read(VERSION) == 0x42
    m.write(MMIO_RESP_LO, 0x1000)
    m.write(MMIO_RESP_HI, 0x2)
    assert (m.readless.resp_lo, m.readless.resp_hi) == (0x1000, 0x2)
    m.write(DEV_CTL, DEV_RESET | 0x4 << 28)
    assert m.read(DEV_CTL) == DEV_RESET | 0x4 << 28 and m.read(DEV_STS) == 0
    assert m.reset.reasons == [4]


def test_readless_through_the_register_bar_reads_any_register() -> None:
    bus, clock, m, stats, _ = regs_rig(reset_timeout=3, dma_addr_width=40)
    resp = bus.mem.alloc(8)
    m.write(MMIO_RESP_LO, resp)
    m.write(MMIO_RESP_HI, 0)
    m.write(MMIO_REG_READ, CAPS << 16 | 0x77)
    clock.advance(500)
    raw = bus.mem.view(resp, 8)
    assert (le(raw, 0, 2), le(raw, 2, 2), le(raw, 4, 4)) == (0x77, CAPS, 3 << 1 | 40 << 8)
    assert stats.readless_reads == 1


def test_a_reset_forgets_the_queue_registers_and_masks_the_admin_interrupt() -> None:
    _, _, m, _, resets = regs_rig()
    queue_regs = [AQ_BASE_LO, AQ_BASE_HI, AQ_CAPS, ACQ_BASE_LO, ACQ_BASE_HI, ACQ_CAPS,
                  AENQ_BASE_LO, AENQ_BASE_HI, AENQ_CAPS, AQ_DB, AENQ_HEAD_DB]
    for i, off in enumerate(queue_regs):
        m.write(off, 0x100 + i)
    m.write(INTR_MASK, 0)
    m.write(RSS_IND_ENTRY_UPDATE, 0x55)
    m.write(MMIO_RESP_LO, 0x1000)
    m.write(MMIO_RESP_HI, 0x1)
    m.write(DEV_CTL, DEV_RESET)
    assert resets == [1]
    assert [m.reg(off) for off in queue_regs] == [0] * len(queue_regs)
    assert m.read(INTR_MASK) == 1 and m.read(RSS_IND_ENTRY_UPDATE) == 0x55
    assert m.readless.resp_addr == 0


# -- the AENQ producer
def aenq_rig(depth: int = 4, enabled: int = 0xFF
             ) -> tuple[Bus, SimClock, MgmtRegs, DeviceAenq, int]:
    bus, clock, m, _, _ = regs_rig()
    aenq = DeviceAenq(bus, clock, m, lambda: enabled)
    base = bus.mem.alloc(64 * depth)
    m.write(AENQ_BASE_LO, base)
    m.write(AENQ_BASE_HI, 0)
    m.write(AENQ_CAPS, depth | 64 << 16)
    m.write(AENQ_HEAD_DB, depth)  # ena_com_admin_aenq_enable: every entry available
    return bus, clock, m, aenq, base


def entry(bus: Bus, base: int, slot: int) -> np.ndarray:
    return bus.mem.view(base + 64 * slot, 64)


def test_aenq_entries_carry_group_phase_time_and_payload() -> None:
    bus, clock, m, aenq, base = aenq_rig(depth=4)
    clock.advance((5 << 32) + 123)
    assert aenq.link_change(True)
    assert aenq.keep_alive(rx_drops=(7 << 32) | 1, tx_drops=2, rx_overruns=(3 << 32) | 4)
    assert aenq.notify_hints({"mmio_read_timeout": 11, "driver_watchdog_timeout": 12})
    assert aenq.conf_notification(0x0102_0304_0506_0708)
    e = entry(bus, base, 0)
    assert (le(e, 0, 2), le(e, 2, 2), e[4] & 1) == (0, 0, 1)  # LINK_CHANGE, first pass
    assert (le(e, 8, 4), le(e, 12, 4)) == (123, 5)
    assert le(e, 16, 4) == 1  # link up
    e = entry(bus, base, 1)
    assert le(e, 0, 2) == 4  # KEEP_ALIVE
    assert [le(e, 16 + 4 * i, 4) for i in range(6)] == [1, 7, 2, 0, 4, 3]
    e = entry(bus, base, 2)
    assert (le(e, 0, 2), le(e, 2, 2)) == (3, 2)  # NOTIFICATION, ENA_ADMIN_UPDATE_HINTS
    assert (le(e, 16, 2), le(e, 18, 2)) == (11, 12)
    e = entry(bus, base, 3)
    assert le(e, 0, 2) == 6 and le(e, 16, 8) == 0x0102_0304_0506_0708
    assert m.read(AENQ_TAIL) == 4 and aenq.posted == 4
    assert "posted=4" in repr(aenq) and "tail=4" in repr(aenq) and "head=4" in repr(aenq)


def test_aenq_phase_flips_each_pass_and_a_full_ring_drops() -> None:
    bus, _, m, aenq, base = aenq_rig(depth=2)
    assert aenq.event(1) and aenq.event(2)
    assert not aenq.event(2)  # head - tail == 0: no room
    assert aenq.dropped_full == 1 and aenq.posted == 2
    m.write(AENQ_HEAD_DB, 2 + 2)  # the driver consumed both
    assert aenq.link_change(False) and aenq.request_reset()
    for slot, group in ((0, 0), (1, 7)):
        e = entry(bus, base, slot)
        assert le(e, 0, 2) == group and e[4] & 1 == 0  # the second pass has phase 0
    assert le(entry(bus, base, 0), 16, 4) == 0  # link down
    assert m.read(AENQ_TAIL) == 4


def test_aenq_refuses_a_head_more_than_a_ring_ahead() -> None:
    _, _, m, aenq, _ = aenq_rig(depth=4)
    m.write(AENQ_HEAD_DB, 5)  # head - tail = 5 > depth: not a credit the driver can give
    assert not aenq.event(1) and aenq.dropped_full == 1
    m.write(AENQ_HEAD_DB, 0x1_0004)  # the doorbell is a u16
    assert aenq.head == 4 and aenq.event(1)


def test_aenq_posts_nothing_for_disabled_groups_or_an_unset_ring() -> None:
    _, _, _, aenq, _ = aenq_rig(enabled=1 << 4)
    assert aenq.keep_alive(0, 0)
    assert not aenq.link_change(True) and not aenq.event(1)
    assert aenq.dropped_disabled == 2 and aenq.posted == 1
    for caps in (0, 3 | 64 << 16, 4 | 32 << 16):  # no depth, not a power of 2, 32-byte
        _, _, m, aenq, _ = aenq_rig()
        m.write(AENQ_CAPS, caps)
        assert not aenq.event(1) and aenq.dropped_disabled == 1
    _, _, m, aenq, _ = aenq_rig()
    m.write(AENQ_BASE_LO, 0)
    assert not aenq.event(1) and aenq.dropped_disabled == 1


def test_aenq_raises_the_management_vector() -> None:
    bus, _, _, aenq, _ = aenq_rig()
    assert bus.msix.fired[0] == 0
    aenq.event(1)
    assert bus.msix.fired[0] == 1 and bus.msix.fired[1] == 0
    aenq.event(2)  # auto-masked after firing; the device unmasks it before raising
    assert bus.msix.fired[0] == 2


def test_a_held_link_announcement_is_posted_at_the_head_doorbell() -> None:
    bus, _, m, aenq, base = aenq_rig(depth=2)
    aenq.event(1)
    aenq.event(1)
    assert not aenq.link_change(True)
    aenq.pending_link = True
    assert aenq.dropped_full == 1
    m.write(AENQ_HEAD_DB, 3)  # one entry consumed: the held announcement goes out
    assert aenq.pending_link is None and aenq.dropped_full == 0 and aenq.posted == 3
    e = entry(bus, base, 0)
    assert le(e, 0, 2) == 0 and le(e, 16, 4) == 1 and e[4] & 1 == 0
    aenq.pending_link = False  # no room at the next doorbell either: still counted lost
    m.write(AENQ_HEAD_DB, 3)
    assert aenq.pending_link is None and aenq.dropped_full == 1
    aenq.pending_link = True
    aenq.reset()
    assert (aenq.head, aenq.tail, aenq.pending_link) == (0, 0, None)


# -- the admin queue, device side
def aq_rig(depth: int = 4, faults: MgmtFaults | None = None, **cfg: int
           ) -> tuple[Bus, SimClock, MgmtRegs, DeviceAdminQueue, MgmtStats, int, int,
                      list[tuple[int, int, int]]]:
    bus = Bus(mem_size=1 << 16, nvec=2)
    clock = SimClock()
    stats = MgmtStats()
    m = MgmtRegs(bus, clock, DeviceConfig(**cfg), faults or MgmtFaults(), stats,  # type: ignore[arg-type]
                 lambda: None)
    seen: list[tuple[int, int, int]] = []

    def execute(raw: np.ndarray) -> tuple[int, np.ndarray]:
        seen.append((le(raw, 0, 2), int(raw[2]), clock.now_ns))
        return int(raw[2]) % 8, (np.arange(56) + raw[2]).astype(np.uint8)

    aq = DeviceAdminQueue(bus, clock, 20_000, m, faults or MgmtFaults(), stats, execute)
    sq, cq = bus.mem.alloc(64 * depth), bus.mem.alloc(64 * depth)
    for lo, hi, caps, base in ((AQ_BASE_LO, AQ_BASE_HI, AQ_CAPS, sq),
                               (ACQ_BASE_LO, ACQ_BASE_HI, ACQ_CAPS, cq)):
        m.write(lo, base)
        m.write(hi, 0)
        m.write(caps, depth | 64 << 16)
    m.write(INTR_MASK, 0)
    return bus, clock, m, aq, stats, sq, cq, seen


def submit(bus: Bus, sq: int, depth: int, index: int, command_id: int, opcode: int,
           phase: int | None = None) -> None:
    """An AQ entry at ``index``: ``{u16 command_id, u8 opcode, u8 flags (bit 0 phase)}``."""
    e = bus.mem.view(sq + 64 * (index % depth), 64)
    e[:] = 0
    e[0:2] = np.frombuffer(command_id.to_bytes(2, "little"), np.uint8)
    e[2] = opcode
    e[3] = ((index // depth) & 1 ^ 1) if phase is None else phase


def acq(bus: Bus, cq: int, slot: int) -> tuple[int, int, int, int, list[int]]:
    """``{u16 command, u8 status, u8 flags, u16 extended_status, u16 sq_head_indx}``."""
    e = bus.mem.view(cq + 64 * slot, 64)
    return le(e, 0, 2), int(e[2]), int(e[3]), le(e, 6, 2), e[8:].tolist()


def test_admin_commands_complete_in_order_with_phase_and_one_interrupt() -> None:
    bus, clock, m, aq, stats, sq, cq, seen = aq_rig(depth=4)
    for i, (cid, op) in enumerate(((0x0AB, 3), (0xFFF, 9), (0x123, 12))):
        submit(bus, sq, 4, i, cid, op)
    m.write(AQ_DB, 3)
    clock.advance(19_999)
    assert seen == [] and m.read(ACQ_TAIL) == 0
    clock.advance(1)
    assert seen == [(0x0AB, 3, 20_000), (0xFFF, 9, 20_000), (0x123, 12, 20_000)]
    got = [acq(bus, cq, s) for s in range(3)]
    assert [g[:4] for g in got] == [(0x0AB, 3, 1, 1), (0xFFF, 1, 1, 2), (0x123, 4, 1, 3)]
    assert got[1][4] == [(9 + i) % 256 for i in range(56)]  # the response body at byte 8
    assert m.read(ACQ_TAIL) == 3 and stats.admin_cmds == 3
    assert bus.msix.fired.tolist() == [1, 0] and stats.admin_interrupts == 1
    assert "sq_head=3" in repr(aq) and "cq_tail=3" in repr(aq) and "cmds=3" in repr(aq)


def test_admin_phase_flips_on_the_second_pass_of_both_rings() -> None:
    bus, clock, m, aq, _, sq, cq, seen = aq_rig(depth=2)
    submit(bus, sq, 2, 0, 1, 1)
    submit(bus, sq, 2, 1, 2, 1)
    m.write(AQ_DB, 2)
    clock.advance(20_000)
    submit(bus, sq, 2, 2, 3, 1)
    submit(bus, sq, 2, 3, 4, 1)
    m.write(AQ_DB, 4)
    clock.advance(20_000)
    assert [s[0] for s in seen] == [1, 2, 3, 4]
    assert [acq(bus, cq, s)[:4] for s in range(2)] == [(3, 1, 0, 3), (4, 1, 0, 4)]
    assert bus.msix.fired[0] == 2
    # a stale entry (first-pass phase on the third pass) stops the fetch
    submit(bus, sq, 2, 4, 5, 1)
    submit(bus, sq, 2, 5, 6, 1, phase=0)
    m.write(AQ_DB, 6)
    clock.advance(20_000)
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5] and aq.bad_phase == 1
    assert aq.sq_head == 5 and "bad_phase=1" in repr(aq)


def test_admin_doorbell_limits_and_one_fetch_per_latency() -> None:
    bus, clock, m, aq, _, sq, _, seen = aq_rig(depth=4)
    m.write(AQ_DB, 5)  # more than a ring ahead of the head
    assert aq.doorbell_overrun == 1 and aq.sq_tail == 0 and clock.pending_events == 0
    for i in range(4):
        submit(bus, sq, 4, i, 10 + i, 1)
    m.write(AQ_DB, 2)
    clock.advance(5_000)
    m.write(AQ_DB, 0x1_0004)  # a u16; a full ring is allowed; no second fetch scheduled
    assert aq.sq_tail == 4 and clock.pending_events == 1 and aq.doorbell_overrun == 1
    clock.advance(15_000)
    assert [s[0] for s in seen] == [10, 11, 12, 13]


@pytest.mark.parametrize("which", ["sq_base", "sq_caps", "cq_base", "cq_depth"])
def test_admin_queue_needs_both_rings_programmed(which: str) -> None:
    bus, clock, m, aq, _, sq, _, seen = aq_rig(depth=4)
    submit(bus, sq, 4, 0, 1, 1)
    if which == "sq_base":
        m.write(AQ_BASE_LO, 0)
    elif which == "sq_caps":
        m.write(AQ_CAPS, 4 | 32 << 16)
    elif which == "cq_base":
        m.write(ACQ_BASE_LO, 0)
    else:
        m.write(ACQ_CAPS, 6 | 64 << 16)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    assert seen == []
    assert aq.doorbell_overrun == (1 if which.startswith("sq") else 0)


def test_admin_interrupt_masked_lost_and_reset() -> None:
    bus, clock, m, aq, stats, sq, cq, seen = aq_rig(depth=4)
    m.write(INTR_MASK, 1)  # ENA_REGS_ADMIN_INTR_MASK: polling mode
    submit(bus, sq, 4, 0, 1, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    assert acq(bus, cq, 0)[:2] == (1, 1) and bus.msix.fired[0] == 0
    assert stats.admin_interrupts == 0
    m.write(INTR_MASK, 0)
    submit(bus, sq, 4, 1, 2, 1)
    m.write(AQ_DB, 2)
    aq.reset()  # before the fetch: the doorbell is forgotten
    assert (aq.sq_head, aq.sq_tail, aq.cq_tail) == (0, 0, 0)
    clock.advance(40_000)
    assert [s[0] for s in seen] == [1]


def test_lost_and_late_admin_completions() -> None:
    bus, clock, m, aq, stats, sq, cq, seen = aq_rig(
        depth=4, faults=MgmtFaults(admin_comp_lost=1.0))
    submit(bus, sq, 4, 0, 7, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    assert len(seen) == 1 and stats.admin_comp_lost == 1 and m.read(ACQ_TAIL) == 0
    assert bus.msix.fired[0] == 0 and aq.sq_head == 1
    for to, late in ((0, 3_050_000_000), (4, 450_000_000)):
        bus, clock, m, aq, stats, sq, cq, seen = aq_rig(
            depth=4, faults=MgmtFaults(admin_comp_late=1.0), admin_cmd_to=to)
        assert aq.late_ns() == late  # CAPS.ADMIN_CMD_TO in 100 ms (3 s if 0) + 50 ms
        submit(bus, sq, 4, 0, 7, 1)
        m.write(AQ_DB, 1)
        clock.advance(20_000)
        assert len(seen) == 1 and m.read(ACQ_TAIL) == 0 and stats.admin_comp_late == 1
        clock.advance(late - 1)
        assert m.read(ACQ_TAIL) == 0
        clock.advance(1)
        assert m.read(ACQ_TAIL) == 1 and acq(bus, cq, 0)[:4] == (7, 1, 1, 1)
        assert bus.msix.fired[0] == 1
    # a reset between the command and its late completion forgets it
    bus, clock, m, aq, stats, sq, cq, seen = aq_rig(depth=4,
                                                    faults=MgmtFaults(admin_comp_late=1.0))
    submit(bus, sq, 4, 0, 7, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    aq.reset()
    clock.advance(aq.late_ns())
    assert acq(bus, cq, 0)[0] == 0 and bus.msix.fired[0] == 0


def test_lost_admin_interrupt_is_counted() -> None:
    bus, clock, m, _, stats, sq, cq, _ = aq_rig(depth=4,
                                                faults=MgmtFaults(admin_intr_lost=1.0))
    submit(bus, sq, 4, 0, 7, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    assert acq(bus, cq, 0)[:2] == (7, 1) and bus.msix.fired[0] == 0
    assert stats.admin_intr_lost == 1 and stats.admin_interrupts == 0


def test_a_device_without_commands_answers_bad_opcode() -> None:
    status, body = bad_opcode(np.zeros(64, np.uint8))
    # ENA_ADMIN_BAD_OPCODE and a 56-byte body of zeros
    assert status == 2 and body.nbytes == 56 and not body.any()


# -- what a second mutation run still found
def test_readless_needs_a_programmed_address_from_power_on_and_writes_8_bytes() -> None:
    bus, clock, m, stats, _ = regs_rig()
    m.write(MMIO_REG_READ, VERSION << 16 | 1)  # nothing programmed yet: dropped
    assert stats.readless_timeout == 1 and clock.pending_events == 0
    resp = bus.mem.alloc(16)
    bus.mem.view(resp, 16)[:] = 0xAA
    m.write(MMIO_RESP_LO, resp)
    m.write(MMIO_REG_READ, VERSION << 16 | 2)
    clock.advance(500)
    raw = bus.mem.view(resp, 16)
    assert (le(raw, 0, 2), le(raw, 2, 2)) == (2, VERSION)
    assert raw[8:].tolist() == [0xAA] * 8  # sizeof(ena_admin_ena_mmio_req_read_less_resp)


def test_reset_repr_shows_the_last_reason_only() -> None:
    clock, dr, _, _ = reset_rig()
    for reason in (0x3, 0x5):
        dr.write_ctl(DEV_RESET | reason << 28)
        dr.write_ctl(0)
        clock.advance(2_000 + 1_000_000)
    assert "resets=2" in repr(dr) and "last_reason=[5])" in repr(dr)


def test_aenq_has_no_credit_before_the_first_head_doorbell() -> None:
    bus, clock, m, _, _ = regs_rig()
    aenq = DeviceAenq(bus, clock, m, lambda: 0xFF)
    base = bus.mem.alloc(64 * 4)
    m.write(AENQ_BASE_LO, base)
    m.write(AENQ_CAPS, 4 | 64 << 16)
    assert not aenq.event(1) and aenq.dropped_full == 1 and m.read(AENQ_TAIL) == 0
    m.write(AENQ_HEAD_DB, 4)
    assert aenq.keep_alive(rx_drops=1, tx_drops=2)  # no rx_overruns given: 0
    e = entry(bus, base, 0)
    assert [le(e, 16 + 4 * i, 4) for i in range(6)] == [1, 0, 2, 0, 0, 0]


def test_one_entry_rings_and_zero_depth_rings() -> None:
    # depth 1 is a power of two: every entry starts a new pass
    bus, clock, m, aenq, base = aenq_rig(depth=1)
    assert aenq.event(1) and not aenq.event(2)
    m.write(AENQ_HEAD_DB, 2)
    assert aenq.event(2) and entry(bus, base, 0)[4] & 1 == 0
    _, _, m, aenq, _ = aenq_rig()
    m.write(AENQ_CAPS, 0 | 64 << 16)  # 64-byte entries, no depth
    assert not aenq.event(1) and aenq.dropped_disabled == 1
    bus, clock, m, _, _, sq, cq, seen = aq_rig(depth=1)
    submit(bus, sq, 1, 0, 1, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    submit(bus, sq, 1, 1, 2, 1)
    m.write(AQ_DB, 2)
    clock.advance(20_000)
    assert [s[0] for s in seen] == [1, 2] and acq(bus, cq, 0)[:4] == (2, 1, 0, 2)
    bus, clock, m, _, _, sq, _, seen = aq_rig(depth=4)
    m.write(ACQ_CAPS, 0 | 64 << 16)
    submit(bus, sq, 4, 0, 1, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    assert seen == []


def test_admin_sq_base_takes_its_high_half() -> None:
    # AQ_BASE_HI = 1: the SQ is at 4 GiB + lo, outside this memory: a DMA error, nothing run
    bus, clock, m, aq, stats, sq, _, seen = aq_rig(depth=4)
    submit(bus, sq, 4, 0, 1, 1)
    m.write(AQ_BASE_HI, 1)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    assert seen == [] and stats.admin_dma_error == 1 and aq.doorbell_overrun == 0
    # the low half 0 with a high half is still a programmed ring
    bus, clock, m, aq, stats, sq, _, seen = aq_rig(depth=4)
    m.write(AQ_BASE_LO, 0)
    m.write(AQ_BASE_HI, 1)
    m.write(AQ_DB, 1)
    assert aq.doorbell_overrun == 0 and aq.sq_tail == 1
    clock.advance(20_000)
    assert seen == [] and stats.admin_dma_error == 1


def test_every_stale_entry_and_refused_doorbell_is_counted() -> None:
    bus, clock, m, aq, _, sq, _, seen = aq_rig(depth=4)
    submit(bus, sq, 4, 0, 1, 1, phase=0)
    m.write(AQ_DB, 1)
    clock.advance(20_000)
    m.write(AQ_DB, 1)  # the same stale entry again
    clock.advance(20_000)
    assert aq.bad_phase == 2 and seen == []
    m.write(AQ_DB, 6)
    m.write(AQ_DB, 7)
    assert aq.doorbell_overrun == 2


def test_a_lost_or_late_completion_does_not_stop_the_batch() -> None:
    for fault in ("admin_comp_lost", "admin_comp_late"):
        bus, clock, m, aq, stats, sq, _, seen = aq_rig(
            depth=4, faults=MgmtFaults(**{fault: 1.0}))
        for i in range(3):
            submit(bus, sq, 4, i, 10 + i, 1)
        m.write(AQ_DB, 3)
        clock.advance(20_000)
        assert [s[0] for s in seen] == [10, 11, 12] and aq.sq_head == 3
        assert getattr(stats, fault) == 3


def test_a_fetch_scheduled_before_a_reset_never_runs() -> None:
    bus, clock, m, aq, _, sq, _, seen = aq_rig(depth=4)
    submit(bus, sq, 4, 0, 1, 1)
    for _ in range(3):  # doorbell, reset, at 0, 1000 and 2000 ns
        m.write(AQ_DB, 1)
        clock.advance(1_000)
        aq.reset()
    m.write(AQ_DB, 1)  # only this fetch, 20 us after this doorbell, runs
    clock.advance(19_999)
    assert seen == []
    clock.advance(1)
    assert seen == [(1, 1, 23_000)]
