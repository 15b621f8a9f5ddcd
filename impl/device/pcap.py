"""pcap files (the classic libpcap format, microsecond timestamps, LINKTYPE_ETHERNET):
writing every frame a wire carries, and reading a file back for replay as received
traffic. Writing is vectorized (record headers built as one structured array and
interleaved with the frames by index arithmetic); reading walks the records, since each
record's position depends on the previous one's length (file parsing, not a datapath).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from impl.netmap.ranges import flat_offsets
from impl.packets import PacketBatch

MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
SNAPLEN = 65535
GLOBAL_HEADER = np.dtype([("magic", "<u4"), ("major", "<u2"), ("minor", "<u2"),
                          ("thiszone", "<i4"), ("sigfigs", "<u4"), ("snaplen", "<u4"),
                          ("network", "<u4")])
RECORD_HEADER = np.dtype([("ts_sec", "<u4"), ("ts_usec", "<u4"), ("incl_len", "<u4"),
                          ("orig_len", "<u4")])


def global_header() -> bytes:
    h = np.zeros(1, GLOBAL_HEADER)
    h[0] = (MAGIC, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET)
    return h.tobytes()


def records(frames: PacketBatch, ts_ns: np.ndarray) -> np.ndarray:
    """The bytes of one pcap record per frame, concatenated."""
    n = len(frames)
    hdr = np.zeros(n, RECORD_HEADER)
    ts = np.asarray(ts_ns, dtype=np.int64)
    hdr["ts_sec"] = ts // 1_000_000_000
    hdr["ts_usec"] = (ts % 1_000_000_000) // 1000
    hdr["incl_len"] = frames.lengths
    hdr["orig_len"] = frames.lengths
    size = RECORD_HEADER.itemsize
    rec_len = size + frames.lengths
    start = np.cumsum(rec_len) - rec_len
    out = np.zeros(int(rec_len.sum()), np.uint8)
    out[flat_offsets(start, np.full(n, size))] = hdr.view(np.uint8)
    out[flat_offsets(start + size, frames.lengths)] = frames.payload()
    return out


class PcapWriter:
    """Appends frames to a pcap file (header written on open)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._f: BinaryIO = self.path.open("wb")
        self._f.write(global_header())
        self.frames = 0

    def write(self, frames: PacketBatch, ts_ns: np.ndarray) -> None:
        self._f.write(records(frames, ts_ns).tobytes())
        self.frames += len(frames)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_pcap(path: str | Path) -> tuple[PacketBatch, np.ndarray]:
    """Frames and their timestamps (ns) from a little-endian microsecond pcap file."""
    data = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
    if data.size < GLOBAL_HEADER.itemsize:
        raise ValueError("not a pcap file: too short")
    g = data[:GLOBAL_HEADER.itemsize].view(GLOBAL_HEADER)[0]
    if int(g["magic"]) != MAGIC or int(g["network"]) != LINKTYPE_ETHERNET:
        raise ValueError("not a little-endian microsecond Ethernet pcap file")
    pos, size = GLOBAL_HEADER.itemsize, RECORD_HEADER.itemsize
    offs, lens, ts = [], [], []
    while pos + size <= data.size:
        h = data[pos:pos + size].view(RECORD_HEADER)[0]
        n = int(h["incl_len"])
        if pos + size + n > data.size:
            raise ValueError("truncated pcap record")
        offs.append(pos + size)
        lens.append(n)
        ts.append(int(h["ts_sec"]) * 1_000_000_000 + int(h["ts_usec"]) * 1000)
        pos += size + n
    batch = PacketBatch.from_arrays(data.copy(), np.array(offs, np.int64),
                                    np.array(lens, np.int64))
    return batch.packed(), np.array(ts, np.int64)
