"""The simulated clock: integer nanoseconds, moved only by the simulation (never the host
clock), so runs and pcap timestamps are reproducible."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimClock:
    """Nanoseconds since the start of the simulation."""

    now_ns: int = 0

    def advance(self, ns: int) -> int:
        if ns < 0:
            raise ValueError("time does not go backwards")
        self.now_ns += int(ns)
        return self.now_ns
