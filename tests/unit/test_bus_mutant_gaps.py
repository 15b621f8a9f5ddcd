"""impl/bus.py where mutation testing found no test: the allocator's argument checks, an
exact fit and freeing with no hole left, the edges of host memory, the register BAR and
the LLQ BAR (the last byte is inside, one past is not), in_range, records on an empty
list and on a memory whose size is not a record multiple, BARs and vectors without a
device attached, MSI-X vector 0, firing twice, a fired vector no longer pending, and
``waiting``."""

from __future__ import annotations

import numpy as np
import pytest

from impl.bus import PAGE, Bus, BusError, HostMemory, LlqBar, Msix, RegisterBar
from impl.ena_defs.layouts import TX_DESC_DTYPE


def test_host_memory_must_be_larger_than_one_page() -> None:
    with pytest.raises(ValueError):
        HostMemory(PAGE)
    assert HostMemory(PAGE + 1).size == PAGE + 1


@pytest.mark.parametrize(("nbytes", "align"), [(0, 64), (-1, 64), (8, 0), (8, -64),
                                               (8, 3), (8, 48)])
def test_alloc_refuses_empty_blocks_and_non_power_of_two_alignment(nbytes: int,
                                                                   align: int) -> None:
    mem = HostMemory(4 * PAGE)
    with pytest.raises(ValueError):
        mem.alloc(nbytes, align)
    assert mem.allocated == 0


def test_alloc_takes_one_byte_and_alignments_one_and_two() -> None:
    mem = HostMemory(4 * PAGE)
    a, b, c = mem.alloc(1, 1), mem.alloc(1, 1), mem.alloc(3, 2)
    assert (a, b, c) == (PAGE, PAGE + 1, PAGE + 2)
    assert mem.allocated == 5


def test_memory_filled_exactly_frees_in_any_order_and_coalesces() -> None:
    """Three pages fill a four-page memory exactly (no hole left); freeing the middle
    one, then the first, then the last coalesces back to one hole that the whole
    memory fits in again."""
    mem = HostMemory(4 * PAGE)
    a, b, c = (mem.alloc(PAGE, PAGE) for _ in range(3))
    with pytest.raises(MemoryError):
        mem.alloc(1)
    mem.free(b)
    mem.free(a)
    mem.free(c)
    assert mem.allocated == 0
    assert mem.alloc(3 * PAGE) == PAGE


def test_freeing_the_last_block_with_no_hole_after_it() -> None:
    mem = HostMemory(3 * PAGE)
    a = mem.alloc(PAGE, PAGE)
    b = mem.alloc(PAGE, PAGE)  # ends at the end of memory
    mem.free(a)
    mem.free(b)
    assert mem.alloc(2 * PAGE) == PAGE


def test_dma_reaches_the_first_and_last_byte_of_host_memory() -> None:
    """Host memory is ``[0, size)``: a range starting at 0 or ending at size is inside
    (nothing is allocated at 0, but the range check is the bus's, not the allocator's);
    one byte further is outside."""
    mem = HostMemory(2 * PAGE)
    mem.data[0], mem.data[-1] = 5, 9
    assert mem.gather(np.array([0, mem.size - 1]), np.array([1, 1])).tolist() == [5, 9]
    assert mem.view(mem.size - 4, 4).size == 4
    with pytest.raises(BusError):
        mem.view(mem.size - 4, 5)
    with pytest.raises(BusError):
        mem.gather(np.array([-1]), np.array([1]))


def test_in_range_is_inside_host_memory() -> None:
    mem = HostMemory(2 * PAGE)
    addr = np.array([0, -1, 10, 10, mem.size - 4, mem.size - 4, mem.size])
    nbytes = np.array([1, 1, 0, -1, 4, 5, 0])
    assert mem.in_range(addr, nbytes).tolist() == [True, False, True, False, True, False,
                                                   True]


def test_records_of_no_addresses_is_an_empty_array_of_the_dtype() -> None:
    got = HostMemory(2 * PAGE).records(np.array([], dtype=np.int64), TX_DESC_DTYPE)
    assert got.dtype == TX_DESC_DTYPE and got.shape == (0,)


def test_record_dma_on_a_memory_that_is_not_a_record_multiple() -> None:
    """Whole-record DMA works when the memory size is not a multiple of the record size
    (the tail that holds no whole record is left out of the record view)."""
    size = TX_DESC_DTYPE.itemsize
    mem = HostMemory(2 * PAGE + size // 2)
    addr = np.array([size, 3 * size])
    recs = np.frombuffer(np.arange(2 * size, dtype=np.uint8).tobytes(), TX_DESC_DTYPE)
    mem.write_records(addr, recs)
    assert mem.data[size:2 * size].tolist() == list(range(size))
    assert mem.records(addr, TX_DESC_DTYPE).tobytes() == recs.tobytes()


def test_the_last_register_of_the_bar_is_usable() -> None:
    bar = RegisterBar(0x100)
    bar.write32(0xFC, 0xDEADBEEF)
    assert bar.read32(0xFC) == 0xDEADBEEF
    with pytest.raises(BusError):
        bar.write32(0x100, 1)


def test_llq_bar_holds_the_bytes_written_without_a_device() -> None:
    """No device attached: the entries are stored, byte for byte, up to the last byte
    of the BAR."""
    bar = LlqBar(256)
    rows = np.arange(256, dtype=np.uint8).reshape(2, 128)
    bar.write_entries(np.array([128, 0]), rows)
    assert bar.data.tobytes() == rows[1].tobytes() + rows[0].tobytes()


@pytest.mark.parametrize("entries", [np.zeros(128, np.uint8), np.zeros((2, 128), np.uint8)])
def test_llq_bar_wants_one_row_per_offset(entries: np.ndarray) -> None:
    with pytest.raises(BusError):
        LlqBar(1024).write_entries(np.array([0]), entries)


def test_msix_without_a_handler_still_counts_and_auto_masks() -> None:
    m = Msix(2)
    m.unmask(np.array([0]))
    assert m.raise_vectors(np.array([0])).tolist() == [0]
    assert m.fired.tolist() == [1, 0] and m.masked.tolist() == [True, True]


def test_msix_vectors_are_zero_to_nvec_minus_one() -> None:
    m = Msix(3)
    assert m.unmask(np.array([0, 2])).size == 0
    for bad in (-1, 3):
        with pytest.raises(BusError):
            m.raise_vectors(np.array([bad]))


def test_a_fired_vector_is_no_longer_pending_and_counts_every_firing() -> None:
    """A pending vector fires once on unmask; unmasking it again later (nothing raised
    meanwhile) fires nothing; each firing is counted."""
    m = Msix(2)
    m.raise_vectors(np.array([1]))
    assert m.unmask(np.array([1])).tolist() == [1]
    assert not m.pending[1]
    assert m.unmask(np.array([1])).size == 0
    assert m.raise_vectors(np.array([1])).tolist() == [1]
    assert int(m.fired[1]) == 2


def test_waiting_says_which_vectors_fired_and_were_not_taken() -> None:
    m = Msix(4)
    m.unmask(np.array([1, 2, 3]))
    m.raise_vectors(np.array([2]))
    got = m.waiting(np.array([1, 2, 3]))
    assert got.dtype == bool and got.tolist() == [False, True, False]
    m.take()
    assert not m.waiting(np.array([2])).any()


def test_bus_defaults() -> None:
    """16 MiB of host memory, a 16 KiB register BAR, a 4 MiB LLQ BAR and 33 vectors (the
    management vector and 32 IO queues)."""
    assert repr(Bus()) == ("Bus(mem=16777216 B, allocated=0 B, regs=16384 B, "
                           "llq=4194304 B, msix=33)")
