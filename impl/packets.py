"""Packet batches: frames as arrays over a byte arena.

A :class:`PacketBatch` holds ``n`` frames as ``offsets`` and ``lengths`` into one
``uint8`` arena (for TX this is normally the bus's host memory, so an offset is a DMA
address). For TX each frame is also cut into segments (an mbuf chain: ``seg_counts[i]``
segments whose ``seg_lengths`` tile the frame in order), so the driver can describe each
segment by one descriptor. Everything is an array; nothing loops over packets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from impl import byteranges
from impl.netmap.ranges import flat_offsets


def _i64(a: np.ndarray | Sequence[int]) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.int64))


@dataclass(frozen=True, eq=False, repr=False)
class PacketBatch:
    """``n`` frames: frame ``i`` is ``arena[offsets[i] : offsets[i] + lengths[i]]``, cut into
    ``seg_counts[i]`` consecutive segments of ``seg_lengths`` (flat, packet by packet)."""

    arena: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    seg_counts: np.ndarray
    seg_lengths: np.ndarray

    def __post_init__(self) -> None:
        for name in ("offsets", "lengths", "seg_counts", "seg_lengths"):
            object.__setattr__(self, name, _i64(getattr(self, name)))
        if self.arena.dtype != np.uint8 or self.arena.ndim != 1:
            raise ValueError("the arena is a 1-D uint8 array")
        n = self.offsets.size
        if self.lengths.size != n or self.seg_counts.size != n:
            raise ValueError("offsets, lengths and seg_counts need one entry per packet")
        if n and (int(self.lengths.min()) < 0 or int(self.offsets.min()) < 0
                  or int((self.offsets + self.lengths).max()) > self.arena.size):
            raise ValueError("a frame lies outside the arena")
        if n and int(self.seg_counts.min()) < 1:
            raise ValueError("every packet has at least one segment")
        if int(self.seg_counts.sum()) != self.seg_lengths.size:
            raise ValueError("seg_lengths must have sum(seg_counts) entries")
        if self.seg_lengths.size and int(self.seg_lengths.min()) < 0:
            raise ValueError("negative segment length")
        per_packet = np.add.reduceat(self.seg_lengths, self.seg_starts) if n else self.lengths
        if not np.array_equal(per_packet, self.lengths):
            raise ValueError("segments must tile their frame exactly")

    # -- construction
    @classmethod
    def from_arrays(cls, arena: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
                    seg_counts: np.ndarray | None = None,
                    seg_lengths: np.ndarray | None = None) -> PacketBatch:
        """A batch over ``arena``; without segments each frame is one segment, and with
        ``seg_counts`` alone each frame is cut into near-equal segments."""
        lengths = _i64(lengths)
        if seg_counts is None:
            seg_counts = np.ones(lengths.size, dtype=np.int64)
        if seg_lengths is None:
            seg_lengths = even_segments(lengths, _i64(seg_counts))
        return cls(arena, _i64(offsets), lengths, _i64(seg_counts), _i64(seg_lengths))

    @classmethod
    def from_payload(cls, payload: np.ndarray, lengths: np.ndarray,
                     seg_counts: np.ndarray | None = None) -> PacketBatch:
        """Frames laid end to end in ``payload`` (lengths in order), in a new arena."""
        lengths = _i64(lengths)
        offsets = np.cumsum(lengths) - lengths
        return cls.from_arrays(np.array(payload, dtype=np.uint8).reshape(-1), offsets,
                               lengths, seg_counts)

    @classmethod
    def from_frames(cls, frames: Sequence[bytes],
                    seg_counts: Sequence[int] | None = None) -> PacketBatch:
        """From Python byte strings (tests and pcap replay)."""
        lengths = np.array([len(f) for f in frames], dtype=np.int64)
        payload = np.frombuffer(b"".join(frames), dtype=np.uint8)
        return cls.from_payload(payload, lengths,
                                None if seg_counts is None else _i64(seg_counts))

    @classmethod
    def empty(cls) -> PacketBatch:
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0, dtype=np.uint8), z, z, z, z)

    # -- views
    def __len__(self) -> int:
        return int(self.offsets.size)

    @property
    def nbytes(self) -> int:
        return int(self.lengths.sum())

    @property
    def seg_starts(self) -> np.ndarray:
        """Index in ``seg_lengths`` of each packet's first segment."""
        return np.cumsum(self.seg_counts) - self.seg_counts

    @property
    def seg_offsets(self) -> np.ndarray:
        """Arena offset of every segment (flat, like ``seg_lengths``)."""
        pkt = np.repeat(np.arange(len(self)), self.seg_counts)
        within = np.cumsum(self.seg_lengths) - self.seg_lengths
        first = within[self.seg_starts] if len(self) else within
        return self.offsets[pkt] + within - np.repeat(first, self.seg_counts)

    def payload(self) -> np.ndarray:
        """All frames' bytes, concatenated in order (a copy)."""
        return byteranges.gather(self.arena, self.offsets, self.lengths)

    def frame(self, i: int) -> bytes:
        o, n = int(self.offsets[i]), int(self.lengths[i])
        return self.arena[o:o + n].tobytes()

    def frames(self) -> list[bytes]:
        """Frames as byte strings (tests and pcap writing; not a datapath)."""
        data = self.payload().tobytes()
        ends = np.cumsum(self.lengths).tolist()
        return [data[s:e] for s, e in zip([0, *ends[:-1]], ends, strict=True)]

    def packed(self) -> PacketBatch:
        """The same frames and segments, copied end to end into a fresh arena."""
        return PacketBatch.from_arrays(self.payload(), np.cumsum(self.lengths) - self.lengths,
                                       self.lengths, self.seg_counts, self.seg_lengths)

    def select(self, index: np.ndarray) -> PacketBatch:
        """The packets at ``index`` (a boolean mask or integer indices), same arena."""
        idx = np.arange(len(self))[index]
        seg_mask = np.zeros(len(self), dtype=bool)
        seg_mask[idx] = True
        seg_sel = np.repeat(seg_mask, self.seg_counts)
        if not np.all(np.diff(idx) > 0):
            starts = self.seg_starts[idx]
            seg_lengths = self.seg_lengths[flat_offsets(starts, self.seg_counts[idx])]
        else:
            seg_lengths = self.seg_lengths[seg_sel]
        return PacketBatch(self.arena, self.offsets[idx], self.lengths[idx],
                           self.seg_counts[idx], seg_lengths)

    @staticmethod
    def concat(batches: Sequence[PacketBatch]) -> PacketBatch:
        """One batch of all frames in order, packed into a new arena."""
        if not batches:
            return PacketBatch.empty()
        payload = np.concatenate([b.payload() for b in batches])
        lengths = np.concatenate([b.lengths for b in batches])
        return PacketBatch.from_arrays(payload, np.cumsum(lengths) - lengths, lengths,
                                       np.concatenate([b.seg_counts for b in batches]),
                                       np.concatenate([b.seg_lengths for b in batches]))

    def same_frames(self, other: PacketBatch) -> bool:
        """Byte-for-byte equal frames, in order (segmentation ignored)."""
        return (np.array_equal(self.lengths, other.lengths)
                and np.array_equal(self.payload(), other.payload()))

    def __repr__(self) -> str:
        def short(a: np.ndarray) -> str:
            body = ",".join(str(int(x)) for x in a[:8])
            return f"[{body},...]" if a.size > 8 else f"[{body}]"
        return (f"PacketBatch(n={len(self)}, bytes={self.nbytes}, "
                f"lengths={short(self.lengths)}, segs={short(self.seg_counts)}, "
                f"offsets={short(self.offsets)}, arena={self.arena.size} B)")


def even_segments(lengths: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cut frame ``i`` of ``lengths[i]`` bytes into ``counts[i]`` segments whose lengths
    differ by at most one (larger ones first); flat, packet by packet."""
    lengths = _i64(lengths)
    counts = _i64(counts)
    if counts.size and int(counts.min()) < 1:
        raise ValueError("every packet has at least one segment")
    pkt = np.repeat(np.arange(lengths.size), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    base, extra = lengths[pkt] // counts[pkt], lengths[pkt] % counts[pkt]
    return base + (k < extra)
