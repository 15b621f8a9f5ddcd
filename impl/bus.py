"""What a PCI function exposes to its driver, and the host memory both sides share.

The ENA driver and the device talk only through this bus (plus the queue-creation port of
:mod:`impl.ena_defs.admin`):

* :class:`HostMemory`: the host-memory arena, a numpy ``uint8`` array in which a byte
  offset *is* the DMA address. Descriptor rings, completion rings and packet buffers are
  allocated here; the device reads and writes them only by DMA (:meth:`HostMemory.gather`,
  :meth:`HostMemory.scatter`, :meth:`HostMemory.array`). Address 0 is never allocated, so a
  zero address is always a bug.
* :class:`RegisterBar`: BAR 0 (``ENA_REG_BAR``), 32-bit registers written and read by
  offset. Writes are forwarded to the attached device (the doorbell and unmask registers
  have side effects); a batch of writes (one doorbell per queue) is one call.
* :class:`LlqBar`: BAR 2 (``ENA_MEM_BAR``), the write-combined device memory that LLQ
  entries are copied into (``ENA_MEMCPY_TO_DEVICE_64`` in ena_com); the device is told
  which entries were written, so it can count them against the TX burst limit.
* :class:`Msix`: the MSI-X vectors. ENA works in auto-mask mode: a raised vector that is
  not masked fires and is masked at once; raising a masked vector leaves it pending, and
  unmasking (the driver's write to the CQ's unmask register, which the device turns into
  :meth:`Msix.unmask`) fires a pending vector immediately. Vectors start masked; ``ena_up``
  unmasks every IO vector.

Upstream: the BARs (``ENA_REG_BAR 0``, ``ENA_MEM_BAR 2``) in ena.h
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L97
and the unmask write ``ena_com_unmask_intr``
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L99
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from impl import byteranges

PAGE = 4096


class BusError(ValueError):
    """A bus access out of range or misaligned; nothing was read or written."""


class HostMemory:
    """The host-memory arena: ``data[addr]`` is the byte at DMA address ``addr``.

    A first-fit allocator hands out aligned, non-overlapping blocks; the first page is
    reserved so that 0 is never a valid allocation."""

    def __init__(self, size: int) -> None:
        if size <= PAGE:
            raise ValueError(f"host memory must be larger than one page ({PAGE} B)")
        self.data = np.zeros(size, dtype=np.uint8)
        self._free: list[tuple[int, int]] = [(PAGE, size)]  # sorted [start, end) holes
        self._blocks: dict[int, int] = {}  # addr -> end

    @property
    def size(self) -> int:
        return int(self.data.size)

    def alloc(self, nbytes: int, align: int = 64) -> int:
        """A zeroed block of ``nbytes`` at an address that is a multiple of ``align``.

        Raises MemoryError when no hole fits (the allocator is unchanged)."""
        if nbytes <= 0 or align <= 0 or align & (align - 1):
            raise ValueError(f"bad allocation: {nbytes} bytes, alignment {align}")
        for i, (start, end) in enumerate(self._free):
            addr = -(-start // align) * align
            if addr + nbytes <= end:
                pieces = [(s, e) for s, e in ((start, addr), (addr + nbytes, end)) if e > s]
                self._free[i:i + 1] = pieces
                self._blocks[addr] = addr + nbytes
                self.data[addr:addr + nbytes] = 0
                return addr
        raise MemoryError(f"host memory: no free block of {nbytes} bytes (align {align})")

    def free(self, addr: int) -> None:
        """Return a block from :meth:`alloc` (coalescing with free neighbours)."""
        end = self._blocks.pop(addr, None)
        if end is None:
            raise ValueError(f"host memory: {addr:#x} is not an allocated block")
        i = bisect.bisect(self._free, (addr, end))
        start = addr
        if i > 0 and self._free[i - 1][1] == addr:
            i -= 1
            start = self._free[i][0]
            del self._free[i]
        if i < len(self._free) and self._free[i][0] == end:
            end = self._free[i][1]
            del self._free[i]
        self._free.insert(i, (start, end))

    @property
    def allocated(self) -> int:
        """Bytes currently allocated."""
        return sum(e - a for a, e in self._blocks.items())

    def _check(self, addr: np.ndarray, nbytes: np.ndarray) -> None:
        if addr.size and (int(addr.min()) < 0 or int((addr + nbytes).max()) > self.size
                          or int(nbytes.min()) < 0):
            raise BusError("DMA outside host memory")

    def view(self, addr: int, nbytes: int) -> np.ndarray:
        """The bytes ``[addr, addr + nbytes)`` (a writable view)."""
        self._check(np.array([addr]), np.array([nbytes]))
        return self.data[addr:addr + nbytes]

    def array(self, addr: int, dtype: np.dtype, count: int) -> np.ndarray:
        """``count`` records of ``dtype`` at ``addr`` (a writable view, e.g. a ring)."""
        return self.view(addr, count * dtype.itemsize).view(dtype)

    def records(self, addr: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """DMA read of one ``dtype`` record at each address (a copy), e.g. descriptors
        gathered from a ring; whole records at a time where every address is a multiple of
        the record size, byte by byte otherwise. Like indexing ``data``, an address past
        the end raises IndexError."""
        addr = np.asarray(addr, dtype=np.int64)
        size = dtype.itemsize
        if addr.size == 0:
            return np.zeros(0, dtype)
        if int(addr.min()) >= 0 and not np.any(addr % size):
            return self.data[:self.size - self.size % size].view(dtype)[addr // size]
        raw = self.data[addr[:, None] + np.arange(size)[None, :]]
        return raw.reshape(-1).view(dtype).copy()

    def write_records(self, addr: np.ndarray, recs: np.ndarray) -> None:
        """DMA write of record ``recs[j]`` at ``addr[j]``, in order (a later record wins
        where two overlap); whole records at a time where every address is a multiple of
        the record size, byte by byte otherwise."""
        addr = np.asarray(addr, dtype=np.int64)
        size = recs.dtype.itemsize
        if addr.size == 0:
            return
        if int(addr.min()) >= 0 and not np.any(addr % size):
            self.data[:self.size - self.size % size].view(recs.dtype)[addr // size] = recs
            return
        self.data[addr[:, None] + np.arange(size)[None, :]] = recs.view(np.uint8).reshape(
            -1, size)

    def in_range(self, addr: np.ndarray, nbytes: np.ndarray) -> np.ndarray:
        """Per range: does ``[addr, addr + nbytes)`` lie inside host memory?"""
        addr = np.asarray(addr, dtype=np.int64)
        nbytes = np.asarray(nbytes, dtype=np.int64)
        return (addr >= 0) & (nbytes >= 0) & (addr + nbytes <= self.size)

    def gather(self, addr: np.ndarray, nbytes: np.ndarray) -> np.ndarray:
        """DMA read: the concatenation of ``[addr[j], addr[j] + nbytes[j])`` over j."""
        addr = np.asarray(addr, dtype=np.int64)
        nbytes = np.asarray(nbytes, dtype=np.int64)
        self._check(addr, nbytes)
        return byteranges.gather(self.data, addr, nbytes)

    def scatter(self, addr: np.ndarray, nbytes: np.ndarray, src: np.ndarray) -> None:
        """DMA write: ``src`` (concatenated) into ``[addr[j], addr[j] + nbytes[j])``."""
        addr = np.asarray(addr, dtype=np.int64)
        nbytes = np.asarray(nbytes, dtype=np.int64)
        self._check(addr, nbytes)
        if int(nbytes.sum()) != src.size:
            raise BusError(f"DMA write of {src.size} bytes into ranges of {int(nbytes.sum())}")
        byteranges.scatter(self.data, addr, nbytes, src)


class MmioSink(Protocol):
    """The device behind the register BAR."""

    def mmio_write(self, offsets: np.ndarray, values: np.ndarray) -> None: ...

    def mmio_read(self, offset: int) -> int: ...


class RegisterBar:
    """BAR 0: 32-bit registers by byte offset. ``last`` holds the last value written to
    each register (what a write-only doorbell latched)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.last = np.zeros(size // 4, dtype=np.uint32)
        self.writes = 0
        self._sink: MmioSink | None = None

    def attach(self, sink: MmioSink) -> None:
        self._sink = sink

    def _index(self, offsets: np.ndarray) -> np.ndarray:
        if offsets.size and (int(offsets.min()) < 0 or int(offsets.max()) + 4 > self.size
                             or bool(np.any(offsets & 3))):
            raise BusError("register access out of range or not 4-byte aligned")
        return offsets >> 2

    def write32(self, offset: int, value: int) -> None:
        """One MMIO write (``ENA_REG_WRITE32``)."""
        self.write32_batch(np.array([offset]), np.array([value]))

    def write32_batch(self, offsets: np.ndarray, values: np.ndarray) -> None:
        """Several MMIO writes in order (e.g. one doorbell per queue), as one call."""
        offsets = np.asarray(offsets, dtype=np.int64)
        values = np.asarray(values, dtype=np.int64)
        if offsets.shape != values.shape:
            raise BusError("offsets and values differ in shape")
        if values.size and (int(values.min()) < 0 or int(values.max()) > 0xFFFFFFFF):
            raise BusError("register values are 32-bit")
        idx = self._index(offsets)
        self.last[idx] = values.astype(np.uint32)
        self.writes += int(offsets.size)
        if self._sink is not None:
            self._sink.mmio_write(offsets, values)

    def read32(self, offset: int) -> int:
        """One MMIO read: the device's answer, or the last value written if none attached."""
        idx = int(self._index(np.array([offset]))[0])
        if self._sink is not None:
            return int(self._sink.mmio_read(offset))
        return int(self.last[idx])


class LlqSink(Protocol):
    """The device behind the LLQ BAR."""

    def llq_write(self, offsets: np.ndarray, nbytes: int) -> None: ...


class LlqBar:
    """BAR 2: device memory the driver copies LLQ entries into."""

    def __init__(self, size: int) -> None:
        self.data = np.zeros(size, dtype=np.uint8)
        self._sink: LlqSink | None = None

    @property
    def size(self) -> int:
        return int(self.data.size)

    def attach(self, sink: LlqSink) -> None:
        self._sink = sink

    def write_entries(self, offsets: np.ndarray, entries: np.ndarray) -> None:
        """Copy whole entries: ``entries[j]`` (a row of ``entry_size`` bytes) to
        ``offsets[j]``, in order; the device is told which entries arrived."""
        offsets = np.asarray(offsets, dtype=np.int64)
        entries = np.asarray(entries, dtype=np.uint8)
        if entries.ndim != 2 or entries.shape[0] != offsets.size:
            raise BusError("write_entries takes one row of bytes per offset")
        width = entries.shape[1]
        if offsets.size and (int(offsets.min()) < 0 or int(offsets.max()) + width > self.size):
            raise BusError("LLQ write outside the LLQ BAR")
        self.data[offsets[:, None] + np.arange(width)[None, :]] = entries
        if self._sink is not None:
            self._sink.llq_write(offsets, width)


class Msix:
    """MSI-X vectors with auto-mask. ``fired[v]`` counts deliveries of vector ``v``."""

    def __init__(self, nvec: int) -> None:
        self.masked = np.ones(nvec, dtype=bool)
        self.pending = np.zeros(nvec, dtype=bool)
        self.fired = np.zeros(nvec, dtype=np.int64)
        self._undelivered = np.zeros(nvec, dtype=bool)
        self.handler: Callable[[np.ndarray], None] | None = None

    @property
    def nvec(self) -> int:
        return int(self.masked.size)

    def _check(self, vectors: np.ndarray) -> np.ndarray:
        v = np.unique(np.asarray(vectors, dtype=np.int64))
        if v.size and (int(v[0]) < 0 or int(v[-1]) >= self.nvec):
            raise BusError("no such MSI-X vector")
        return v

    def _fire(self, v: np.ndarray) -> None:
        self.masked[v] = True
        self.pending[v] = False
        self.fired[v] += 1
        self._undelivered[v] = True
        if self.handler is not None and v.size:
            self.handler(v)

    def raise_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """The device signals ``vectors``; returns those that fired (the rest are pending)."""
        v = self._check(vectors)
        masked = self.masked[v]
        self.pending[v[masked]] = True
        fire = v[~masked]
        self._fire(fire)
        return fire

    def unmask(self, vectors: np.ndarray) -> np.ndarray:
        """Unmask ``vectors``; pending ones fire now (and are masked again). Returns them."""
        v = self._check(vectors)
        self.masked[v] = False
        fire = v[self.pending[v]]
        self._fire(fire)
        return fire

    def waiting(self, vectors: np.ndarray) -> np.ndarray:
        """Which of ``vectors`` fired and were not yet taken by a polling driver (its
        cleanup task is scheduled but has not run: ``ta_pending``)."""
        return self._undelivered[self._check(vectors)]

    def take(self) -> np.ndarray:
        """Vectors that fired since the last call (for a driver that polls its interrupts)."""
        out = np.flatnonzero(self._undelivered)
        self._undelivered[:] = False
        return out


@dataclass
class PciIdentity:
    """The PCI configuration-space ids the driver probes (the device fills them in)."""

    vendor_id: int = 0xFFFF
    device_id: int = 0xFFFF
    revision_id: int = 0


class Bus:
    """One PCI function: host memory, register BAR, LLQ BAR, MSI-X vectors and the PCI
    ids."""

    def __init__(self, mem_size: int = 1 << 24, reg_size: int = 0x4000,
                 llq_size: int = 1 << 22, nvec: int = 33) -> None:
        self.mem = HostMemory(mem_size)
        self.regs = RegisterBar(reg_size)
        self.llq = LlqBar(llq_size)
        self.msix = Msix(nvec)
        self.pci = PciIdentity()

    def __repr__(self) -> str:
        return (f"Bus(mem={self.mem.size} B, allocated={self.mem.allocated} B, "
                f"regs={self.regs.size} B, llq={self.llq.size} B, msix={self.msix.nvec})")
