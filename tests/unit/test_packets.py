"""impl/packets.py: frames over an arena, segments tiling each frame, validation."""

from __future__ import annotations

import numpy as np
import pytest

from impl.packets import PacketBatch, even_segments


def test_frames_segments_and_offsets() -> None:
    frames = [b"a" * 60, bytes(range(70)), b"xyz"]
    b = PacketBatch.from_frames(frames, seg_counts=[1, 3, 2])
    assert len(b) == 3 and b.nbytes == 133 and b.frames() == frames
    assert b.seg_lengths.tolist() == [60, 24, 23, 23, 2, 1]
    assert b.seg_offsets.tolist() == [0, 60, 84, 107, 130, 132]
    segs = [b.arena[o:o + n].tobytes() for o, n in zip(b.seg_offsets, b.seg_lengths,
                                                       strict=True)]
    assert b"".join(segs) == b"".join(frames)
    assert repr(b) == ("PacketBatch(n=3, bytes=133, lengths=[60,70,3], segs=[1,3,2], "
                       "offsets=[0,60,130], arena=133 B)")


def test_select_and_concat_keep_segments_with_their_packet() -> None:
    b = PacketBatch.from_frames([b"a" * 10, b"b" * 20, b"c" * 30], seg_counts=[2, 1, 3])
    s = b.select(np.array([2, 0]))
    assert s.frames() == [b"c" * 30, b"a" * 10]
    assert s.seg_counts.tolist() == [3, 2] and s.seg_lengths.tolist() == [10, 10, 10, 5, 5]
    m = b.select(np.array([True, False, True]))
    assert m.frames() == [b"a" * 10, b"c" * 30] and m.seg_counts.tolist() == [2, 3]
    c = PacketBatch.concat([b, s])
    assert c.frames() == b.frames() + s.frames() and c.same_frames(c.packed())
    assert c.seg_counts.tolist() == [2, 1, 3, 3, 2]
    assert not b.same_frames(s) and PacketBatch.concat([]).nbytes == 0


def test_even_segments() -> None:
    got = even_segments(np.array([10, 3, 0]), np.array([3, 3, 1]))
    assert got.tolist() == [4, 3, 3, 1, 1, 1, 0]


def test_bad_batches_are_refused() -> None:
    arena = np.zeros(100, dtype=np.uint8)
    with pytest.raises(ValueError, match="outside"):
        PacketBatch.from_arrays(arena, [90], [20])
    with pytest.raises(ValueError, match="tile"):
        PacketBatch.from_arrays(arena, [0], [20], [2], [10, 9])
    with pytest.raises(ValueError, match="at least one"):
        PacketBatch.from_arrays(arena, [0], [20], [0], [])
    with pytest.raises(ValueError, match="uint8"):
        PacketBatch.from_arrays(arena.astype(np.int16), [0], [20])
