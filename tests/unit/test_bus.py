"""impl/bus.py: host-memory allocator and DMA, register and LLQ BARs, MSI-X auto-mask."""

from __future__ import annotations

import numpy as np
import pytest

from impl.bus import PAGE, Bus, BusError, HostMemory, Msix


def test_allocator_aligns_never_hands_out_zero_and_reuses_freed_blocks() -> None:
    mem = HostMemory(8 * PAGE)
    a = mem.alloc(100, align=64)
    b = mem.alloc(PAGE, align=PAGE)
    assert a >= PAGE and a % 64 == 0 and b % PAGE == 0
    assert a + 100 <= b or b + PAGE <= a
    mem.data[a:a + 100] = 7
    mem.free(a)
    c = mem.alloc(100)
    assert c == a and not mem.data[c:c + 100].any()  # zeroed again
    assert mem.allocated == 100 + PAGE
    with pytest.raises(MemoryError):
        mem.alloc(8 * PAGE)
    assert mem.allocated == 100 + PAGE
    with pytest.raises(ValueError):
        mem.free(c + 1)
    mem.free(b)
    mem.free(c)
    assert mem.allocated == 0 and mem._free == [(PAGE, 8 * PAGE)]  # coalesced


def test_gather_and_scatter_are_byte_exact() -> None:
    mem = HostMemory(4 * PAGE)
    rng = np.random.default_rng(1)
    mem.data[:] = rng.integers(0, 256, mem.size, dtype=np.uint8)
    addr, n = np.array([5000, 100, 9000]), np.array([3, 0, 7])
    want = np.concatenate([mem.data[5000:5003], mem.data[9000:9007]])
    assert np.array_equal(mem.gather(addr, n), want)
    src = np.arange(10, dtype=np.uint8)
    mem.scatter(addr, n, src)
    assert np.array_equal(mem.data[5000:5003], src[:3])
    assert np.array_equal(mem.data[9000:9007], src[3:])
    before = mem.data.copy()
    with pytest.raises(BusError):
        mem.gather(np.array([mem.size - 2]), np.array([3]))
    with pytest.raises(BusError):
        mem.scatter(np.array([10]), np.array([3]), src)
    assert np.array_equal(mem.data, before)


class Recorder:
    def __init__(self) -> None:
        self.writes: list[tuple[list[int], list[int]]] = []
        self.llq: list[tuple[list[int], int]] = []

    def mmio_write(self, offsets: np.ndarray, values: np.ndarray) -> None:
        self.writes.append((offsets.tolist(), values.tolist()))

    def mmio_read(self, offset: int) -> int:
        return 0xABCD0000 | offset

    def llq_write(self, offsets: np.ndarray, nbytes: int) -> None:
        self.llq.append((offsets.tolist(), nbytes))


def test_register_bar_forwards_writes_in_order_and_checks_alignment() -> None:
    bus = Bus(mem_size=2 * PAGE, reg_size=0x100, llq_size=1024, nvec=4)
    dev = Recorder()
    bus.regs.write32(0x10, 5)
    assert bus.regs.read32(0x10) == 5  # no device: the latched value
    bus.regs.attach(dev)
    bus.regs.write32_batch(np.array([0x20, 0x24]), np.array([1, 0xFFFFFFFF]))
    assert dev.writes == [([0x20, 0x24], [1, 0xFFFFFFFF])]
    assert bus.regs.read32(0x8) == 0xABCD0008
    for off, val in ((0x22, 1), (0x100, 1), (-4, 1), (0x20, 1 << 32)):
        with pytest.raises(BusError):
            bus.regs.write32(off, val)
    assert len(dev.writes) == 1 and bus.regs.writes == 3


def test_llq_bar_takes_whole_entries() -> None:
    bus = Bus(mem_size=2 * PAGE, llq_size=1024)
    dev = Recorder()
    bus.llq.attach(dev)
    rows = np.arange(256, dtype=np.uint8).reshape(2, 128)
    bus.llq.write_entries(np.array([512, 0]), rows)
    assert np.array_equal(bus.llq.data[512:640], rows[0])
    assert np.array_equal(bus.llq.data[0:128], rows[1])
    assert dev.llq == [([512, 0], 128)]
    with pytest.raises(BusError):
        bus.llq.write_entries(np.array([1000]), rows[:1])
    assert len(dev.llq) == 1


def test_msix_auto_masks_until_unmasked_and_fires_pending_on_unmask() -> None:
    m = Msix(4)
    seen: list[list[int]] = []
    m.handler = lambda v: seen.append(v.tolist())
    assert m.raise_vectors(np.array([1])).size == 0  # starts masked: pending
    assert m.pending[1] and m.fired[1] == 0
    assert m.unmask(np.array([1, 2])).tolist() == [1]  # pending fires at once
    assert m.masked[1] and not m.masked[2]  # auto-masked again
    assert m.raise_vectors(np.array([2, 2, 1])).tolist() == [2]
    assert m.fired.tolist() == [0, 1, 1, 0] and seen == [[1], [2]]
    assert m.take().tolist() == [1, 2] and m.take().size == 0
    assert m.unmask(np.array([1])).tolist() == [1]  # raised while masked
    with pytest.raises(BusError):
        m.raise_vectors(np.array([4]))
