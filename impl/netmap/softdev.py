"""A simple software NIC behind the krings (the ENA device model comes later).

Upstream: netmap_reset and ``nkr_hwofs``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392)
and the ring regions of model/netmap_ring.py: per ring the NIC has a head register (TDH /
RDH: next descriptor to complete / fill) that only the device moves, a tail register (TDT /
RDT) that only the driver writes, and its own descriptor ring in NIC index space. The driver
writes ``(buf_idx, len)`` into a descriptor when it submits (TX) or posts (RX) a slot; the
device reads only its descriptors and the buffers (DMA), never the netmap slots, so a user
scribbling an in-flight slot cannot change what the NIC sends.

``owned`` counts the descriptors the device owns: every tail-register write hands over
``(new_tail - old_tail) mod N`` descriptors (the driver moves the tail by at most N-1 per
write), every completion / fill takes one back.  This is what the model's ghost ``busy``
abstracts; it can exceed ``dist(head, tail)`` when a broken kring makes the driver lap its
own descriptors (finding: a rejected sync adopts the user's in-range indices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impl.netmap import batch, dma
from impl.netmap.batch import Rings, get
from impl.netmap.ranges import flat_ranges, ring_dist, span_size

SOFTDEV_DESC_DTYPE = np.dtype(
    {"names": ["buf_idx", "len", "flags"], "formats": ["<u4", "<u2", "<u2"],
     "offsets": [0, 4, 6], "itemsize": 8}
)
"""The soft NIC's descriptor: buffer index, length, flags (8 bytes)."""


@dataclass
class WireLog:
    """Frames the soft NIC put on the wire: one chunk of arrays per ``complete`` call."""

    _rings: list[np.ndarray] = field(default_factory=list)
    _bufs: list[np.ndarray] = field(default_factory=list)
    _lengths: list[np.ndarray] = field(default_factory=list)
    _data: list[np.ndarray] = field(default_factory=list)
    _count: int = 0

    def append(self, rings: np.ndarray, bufs: np.ndarray, lengths: np.ndarray,
               data: np.ndarray) -> None:
        """Record one batch of frames (``data`` is their bytes, concatenated)."""
        self._rings.append(rings)
        self._bufs.append(bufs)
        self._lengths.append(lengths)
        self._data.append(data)
        self._count += int(lengths.size)

    @staticmethod
    def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def rings(self) -> np.ndarray:
        """Ring id of every frame, in wire order."""
        return self._cat(self._rings, np.int64)

    def bufs(self) -> np.ndarray:
        """Buffer index every frame was sent from."""
        return self._cat(self._bufs, np.int64)

    def lengths(self) -> np.ndarray:
        """Length of every frame."""
        return self._cat(self._lengths, np.int64)

    def data(self) -> np.ndarray:
        """All frame bytes, concatenated in wire order."""
        return self._cat(self._data, np.uint8)

    def __len__(self) -> int:
        return self._count

    def frame(self, i: int) -> bytes:
        """The bytes of frame ``i``."""
        lengths = self.lengths()
        start = int(lengths[:i].sum())
        return self.data()[start : start + int(lengths[i])].tobytes()

    def clear(self) -> None:
        self._rings.clear()
        self._bufs.clear()
        self._lengths.clear()
        self._data.clear()
        self._count = 0

    def __repr__(self) -> str:
        return f"WireLog(frames={len(self)}, bytes={int(self.lengths().sum())})"


class SoftRings:
    """Registers and descriptor rings of one direction of the soft NIC.

    ``bufs`` is the host memory the device DMAs to/from (``NetmapMemory.bufs``)."""

    kind = "?"

    def __init__(self, count: int, num_slots: int, bufs: np.ndarray) -> None:
        self.count = int(count)
        self.num_slots = int(num_slots)
        self.bufs = bufs
        self.buf_size = bufs.shape[1]
        self.head = np.zeros(self.count, dtype=np.int64)  # TDH / RDH (device)
        self.tail = np.zeros(self.count, dtype=np.int64)  # TDT / RDT (driver)
        self.owned = np.zeros(self.count, dtype=np.int64)  # descriptors the device owns
        self.desc = np.zeros((self.count, self.num_slots), dtype=SOFTDEV_DESC_DTYPE)
        self.desc_buf = self.desc["buf_idx"]
        self.desc_len = self.desc["len"]

    # ------------------------------------------------------------ driver-facing interface

    def write_descriptors(self, rings: np.ndarray, nic_idx: np.ndarray, buf_idx: np.ndarray,
                          length: np.ndarray) -> None:
        """The driver fills descriptors (flat arrays, one element per descriptor)."""
        self.desc_buf[rings, nic_idx] = buf_idx
        self.desc_len[rings, nic_idx] = length

    def doorbell(self, rings: Rings, tail: np.ndarray | int) -> None:
        """The driver writes the tail register: descriptors up to ``tail`` are handed over."""
        if type(tail) is not int:
            tail = np.asarray(tail, dtype=np.int64)
        tail = tail % self.num_slots
        self.owned[rings] += ring_dist(get(self.tail, rings), tail, self.num_slots)
        self.tail[rings] = tail

    def restart(self, rings: np.ndarray, tail: np.ndarray) -> None:
        """Ring (re)initialisation: head = 0, tail = ``tail``, the device owns [0, tail)."""
        tail = np.asarray(tail, dtype=np.int64) % self.num_slots
        self.head[rings] = 0
        self.tail[rings] = tail
        self.owned[rings] = tail

    def available(self, rings: Rings) -> np.ndarray | int:
        """Descriptors the device may process now: ``dist(head, tail)``."""
        return ring_dist(get(self.head, rings), get(self.tail, rings), self.num_slots)

    def owned_descriptors(self, ring: int) -> np.ndarray:
        """NIC indices of the descriptors in [head, tail) of one ring."""
        r = np.array([ring], dtype=np.int64)
        _, _, idx = flat_ranges(self.head[r], self.available(r), self.num_slots)
        return idx

    # ------------------------------------------------------------ device side

    def _take(self, rings: np.ndarray, k: object, verb: str) -> tuple[Any, ...]:
        """Validate ``k`` per ring; return (batch, k, ring per desc, NIC indices) in the
        forms of :mod:`impl.netmap.batch` (one ring: ``int`` k, indices maybe a slice)."""
        sel, k = batch.counts(rings, k, f"{verb} count")
        avail = self.available(sel)
        if batch.any_(k > avail):
            counts = np.atleast_1d(k)
            j = int(np.argmax(counts > avail))
            raise ValueError(
                f"{self.kind} ring {int(rings[j])}: cannot {verb} {int(counts[j])} "
                f"descriptors, only {int(np.atleast_1d(avail)[j])} owned "
                f"(head={int(self.head[rings[j]])}, tail={int(self.tail[rings[j]])})"
            )
        seg, _, idx = flat_ranges(get(self.head, sel), k, self.num_slots)
        return sel, k, batch.per_slot(sel, seg), idx

    def _advance(self, rings: Rings, k: np.ndarray | int) -> None:
        self.head[rings] = (get(self.head, rings) + k) % self.num_slots
        self.owned[rings] -= k

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(count={self.count}, num_slots={self.num_slots}, "
            f"head={self.head.tolist()}, tail={self.tail.tolist()}, "
            f"owned={self.owned.tolist()})"
        )


class SoftTxDevice(SoftRings):
    """TX side: ``complete`` transmits descriptors [TDH, TDH + k) onto the wire."""

    kind = "tx"

    def __init__(self, count: int, num_slots: int, bufs: np.ndarray) -> None:
        super().__init__(count, num_slots, bufs)
        self.wire = WireLog()

    def complete(self, rings: np.ndarray, k: object) -> np.ndarray:
        """Send and complete the next ``k`` descriptors of each ring (TDH += k).

        ValueError if ``k`` exceeds ``dist(TDH, TDT)`` for some ring (nothing changes).
        Returns the per-ring counts."""
        sel, k, ring_of, idx = self._take(rings, k, "complete")
        buf = self.desc_buf[ring_of, idx].astype(np.int64)
        length = self.desc_len[ring_of, idx].astype(np.int64)
        data = dma.gather(self.bufs, buf, length)
        frame_rings = np.full(length.size, sel, dtype=np.int64) if batch.is_one(sel) else ring_of
        self.wire.append(frame_rings, buf, length, data)
        self._advance(sel, k)
        return batch.per_ring_array(sel, k, 0)


class SoftRxDevice(SoftRings):
    """RX side: ``deliver`` receives frames into descriptors [RDH, RDH + k)."""

    kind = "rx"

    def __init__(self, count: int, num_slots: int, bufs: np.ndarray, seed: int = 0,
                 gen_max_len: int = 128) -> None:
        super().__init__(count, num_slots, bufs)
        self.rng = np.random.default_rng(seed)
        self.gen_max_len = max(1, min(int(gen_max_len), self.buf_size))

    def deliver(self, rings: np.ndarray, k: object, frames: np.ndarray | None = None,
                lengths: np.ndarray | None = None) -> np.ndarray:
        """Receive ``k`` frames per ring into the posted buffers (RDH += k).

        ``frames``: uint8 rows, one per frame in (ring batch, descriptor) order, with
        ``lengths`` (default: the row width); when ``frames`` is None, ``lengths`` (if
        given) and the bytes are drawn from the device's seeded generator.  The device
        writes each frame into its descriptor's buffer and the length into the descriptor.
        ValueError if ``k`` exceeds ``dist(RDH, RDT)`` or a frame is longer than a buffer.
        Returns the per-ring counts."""
        sel, k, ring_of, idx = self._take(rings, k, "deliver")
        total = span_size(idx)
        if frames is None:
            if lengths is None:
                lengths = self.rng.integers(1, self.gen_max_len + 1, size=total)
            lengths = np.asarray(lengths, dtype=np.int64)
            self._check_lengths(lengths, total)
            payload = self.rng.integers(0, 256, size=int(lengths.sum()), dtype=np.uint8)
        else:
            frames = np.asarray(frames, dtype=np.uint8)
            if frames.ndim != 2 or frames.shape[0] != total:
                raise ValueError(f"frames must have shape ({total}, width), got {frames.shape}")
            if lengths is None:
                lengths = np.full(total, frames.shape[1], dtype=np.int64)
            lengths = np.asarray(lengths, dtype=np.int64)
            self._check_lengths(lengths, total)
            if total and lengths.max() > frames.shape[1]:
                raise ValueError("a frame length exceeds the width of its row")
            if total and lengths.min() == frames.shape[1]:
                payload = frames.reshape(-1)
            else:
                payload = frames[np.arange(frames.shape[1])[None, :] < lengths[:, None]]
        buf = self.desc_buf[ring_of, idx].astype(np.int64)
        dma.scatter(self.bufs, buf, lengths, payload)
        self.desc_len[ring_of, idx] = lengths
        self._advance(sel, k)
        return batch.per_ring_array(sel, k, 0)

    def _check_lengths(self, lengths: np.ndarray, total: int) -> None:
        if lengths.shape != (total,):
            raise ValueError(f"lengths must have shape ({total},), got {lengths.shape}")
        if total and (lengths.min() < 0 or lengths.max() > self.buf_size):
            raise ValueError(f"frame lengths must be in 0..{self.buf_size}")
