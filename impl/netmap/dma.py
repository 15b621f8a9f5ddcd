"""Vectorized byte moves between netmap buffers and frames (the device's DMA).

Upstream: a slot's bytes are ``buf[buf_idx][:len]``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L163).
Frames are passed as one concatenated uint8 array plus per-frame lengths. Row copies are
used where they are exact (they are much faster than per-byte index arrays); per-byte
indices only when several frames target the same buffer, where "the last write wins" must
hold byte by byte.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.ranges import flat_offsets, has_duplicates


def _mask(length: np.ndarray, width: int) -> np.ndarray:
    return np.arange(width)[None, :] < length[:, None]


def gather(bufs: np.ndarray, buf: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenate ``bufs[buf[j], :length[j]]`` over j."""
    if buf.size == 0:
        return np.zeros(0, dtype=np.uint8)
    width = int(length.max())
    rows = bufs[buf, :width]
    if int(length.min()) == width:
        return rows.reshape(-1)
    return rows[_mask(length, width)]


def scatter(bufs: np.ndarray, buf: np.ndarray, length: np.ndarray, data: np.ndarray) -> None:
    """Write the concatenated frames ``data`` into ``bufs[buf[j], :length[j]]``, in order
    (a later frame for the same buffer overwrites an earlier one, byte by byte)."""
    if buf.size == 0:
        return
    width = int(length.max())
    if has_duplicates(buf):
        flat = bufs.reshape(-1)
        flat[flat_offsets(buf * bufs.shape[1], length)] = data
        return
    if int(length.min()) == width:
        bufs[buf, :width] = data.reshape(buf.size, width)
        return
    rows = bufs[buf, :width]
    rows[_mask(length, width)] = data
    bufs[buf, :width] = rows
