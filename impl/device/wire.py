"""The virtual wire: loopback or two devices back to back, with an optional pcap of every
frame it carries, and pcap replay as received traffic.

Frames sent in one transmit call leave back to back at the link rate: frame ``i``'s
timestamp is the clock's time plus the serialization time of the bytes before it (plus
8 bytes preamble and 12 bytes inter-frame gap per frame), so timestamps are
deterministic and strictly increasing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from impl.device.clock import SimClock
from impl.device.device import EnaDevice
from impl.device.pcap import PcapWriter, read_pcap
from impl.packets import PacketBatch

PREAMBLE_AND_GAP = 20


class Wire:
    """Connects device ports. ``sent`` counts frames carried."""

    def __init__(self, clock: SimClock, gbps: float = 10.0,
                 pcap: str | Path | None = None) -> None:
        self.clock = clock
        self.gbps = gbps
        self.peer: dict[int, EnaDevice] = {}
        self.pcap = PcapWriter(pcap) if pcap is not None else None
        self.sent = 0

    def loopback(self, dev: EnaDevice) -> None:
        """What ``dev`` sends, ``dev`` receives."""
        self.peer[id(dev)] = dev
        dev.link = self

    def connect(self, a: EnaDevice, b: EnaDevice) -> None:
        """``a`` and ``b`` back to back."""
        self.peer[id(a)], self.peer[id(b)] = b, a
        a.link = b.link = self

    def timestamps(self, frames: PacketBatch) -> np.ndarray:
        wire_bytes = frames.lengths + PREAMBLE_AND_GAP
        ns = np.cumsum(wire_bytes) * 8 / self.gbps
        start = self.clock.now_ns
        ts = start + np.concatenate([[0], ns[:-1]]).astype(np.int64)
        self.clock.advance(int(ns[-1]) if ns.size else 0)
        return ts

    def transmit(self, src: EnaDevice, frames: PacketBatch) -> None:
        ts = self.timestamps(frames)
        if self.pcap is not None:
            self.pcap.write(frames, ts)
        self.sent += len(frames)
        self.peer[id(src)].receive(frames)

    def close(self) -> None:
        if self.pcap is not None:
            self.pcap.close()


def replay(path: str | Path, dev: EnaDevice) -> int:
    """Feed the frames of a pcap file to ``dev`` as received traffic; returns the count."""
    frames, _ = read_pcap(path)
    dev.receive(frames)
    return len(frames)
