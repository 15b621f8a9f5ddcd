"""Byte-exact numpy layouts of the netmap shared-memory structures.

Upstream:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L285
and
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L163;
the field offsets are the ones ``binarycomp()`` in utils/ctrl-api-test.c pins
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/utils/ctrl-api-test.c#L2022:
buf_ofs 0, num_slots 8, nr_buf_size 12, ringid 16, dir 18, head 20, cur 24, tail 28, flags
32, ts 40, offset_mask 56, buf_align 64, sem 128, slot 256). All integers are little-endian,
as on the amd64/arm64 hosts netmap runs on.
"""

from __future__ import annotations

import numpy as np

NETMAP_API = 14
"""sys/net/netmap.h: current API version (``NETMAP_API``)."""

# ---------------------------------------------------------------------- struct netmap_slot

NS_BUF_CHANGED = 0x0001
NS_REPORT = 0x0002
NS_FORWARD = 0x0004
NS_NO_LEARN = 0x0008
NS_INDIRECT = 0x0010
NS_MOREFRAG = 0x0020
NS_TXMON = 0x0040
NS_PORT_SHIFT = 8

NETMAP_SLOT_SIZE = 16

NETMAP_SLOT_DTYPE = np.dtype(
    {
        "names": ["buf_idx", "len", "flags", "ptr"],
        "formats": ["<u4", "<u2", "<u2", "<u8"],
        "offsets": [0, 4, 6, 8],
        "itemsize": NETMAP_SLOT_SIZE,
    }
)
"""``struct netmap_slot { uint32_t buf_idx; uint16_t len; uint16_t flags; uint64_t ptr; }``."""

# ---------------------------------------------------------------------- struct netmap_ring

NR_TIMESTAMP = 0x0002
NR_FORWARD = 0x0004

NETMAP_RING_HEADER_SIZE = 256
"""Offset of ``slot[0]`` in ``struct netmap_ring`` (the header is 256 bytes)."""

TIMEVAL_DTYPE = np.dtype(
    {"names": ["tv_sec", "tv_usec"], "formats": ["<i8", "<i8"], "offsets": [0, 8],
     "itemsize": 16}
)
"""``struct timeval`` on LP64."""

NETMAP_RING_DTYPE = np.dtype(
    {
        "names": [
            "buf_ofs", "num_slots", "nr_buf_size", "ringid", "dir", "head", "cur", "tail",
            "flags", "ts", "offset_mask", "buf_align", "sem",
        ],
        "formats": [
            "<i8", "<u4", "<u4", "<u2", "<u2", "<u4", "<u4", "<u4",
            "<u4", TIMEVAL_DTYPE, "<u8", "<u8", ("u1", (128,)),
        ],
        "offsets": [0, 8, 12, 16, 18, 20, 24, 28, 32, 40, 56, 64, 128],
        "itemsize": NETMAP_RING_HEADER_SIZE,
    }
)
"""The ``struct netmap_ring`` header; ``slot[]`` follows at offset 256."""

NR_DIR_TX = 0
NR_DIR_RX = 1

U32_MAX = (1 << 32) - 1


def ring_stride(num_slots: int) -> int:
    """Bytes one ring occupies: header plus ``num_slots`` slots."""
    return NETMAP_RING_HEADER_SIZE + NETMAP_SLOT_SIZE * num_slots
