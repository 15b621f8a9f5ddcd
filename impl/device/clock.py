"""The simulated clock: integer nanoseconds, moved only by the simulation (never the host
clock), so runs and pcap timestamps are reproducible.

The clock is also the simulation's event queue: an actor that answers later (the device
writing a readless response, finishing a reset, completing an admin command) schedules a
callback with :meth:`SimClock.call_at`; :meth:`SimClock.advance` runs every callback that
falls due, in time order (ties in the order they were scheduled), with ``now_ns`` set to
the callback's time while it runs. A waiter can ask for :meth:`SimClock.next_event_ns` to
skip over stretches in which nothing can change (see :func:`impl.ena.poll.poll_until`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SimClock:
    """Nanoseconds since the start of the simulation, plus the callbacks scheduled on it."""

    now_ns: int = 0
    _events: list[tuple[int, int, Callable[[], None]]] = field(
        default_factory=list, repr=False, compare=False)
    _seq: int = field(default=0, repr=False, compare=False)

    def call_at(self, at_ns: int, fn: Callable[[], None]) -> None:
        """Run ``fn`` when the clock reaches ``at_ns`` (at once on the next advance if that
        time has already passed)."""
        heapq.heappush(self._events, (int(at_ns), self._seq, fn))
        self._seq += 1

    def call_after(self, delay_ns: int, fn: Callable[[], None]) -> None:
        """Run ``fn`` ``delay_ns`` from now."""
        if delay_ns < 0:
            raise ValueError("cannot schedule in the past")
        self.call_at(self.now_ns + int(delay_ns), fn)

    def next_event_ns(self) -> int | None:
        """When the earliest scheduled callback is due (None: nothing scheduled)."""
        return self._events[0][0] if self._events else None

    @property
    def pending_events(self) -> int:
        return len(self._events)

    def advance(self, ns: int) -> int:
        """Move the clock ``ns`` forward, running the callbacks that fall due on the way.
        A callback may itself wait (advance the clock, running later callbacks): the clock
        then ends where that wait left it if that is later than ``now + ns``."""
        if ns < 0:
            raise ValueError("time does not go backwards")
        end = self.now_ns + int(ns)
        while self._events and self._events[0][0] <= end:
            at, _, fn = heapq.heappop(self._events)
            self.now_ns = max(self.now_ns, at)
            fn()
        self.now_ns = max(self.now_ns, end)
        return self.now_ns

    def advance_to(self, at_ns: int) -> int:
        """Advance to ``at_ns`` (nothing happens if the clock is already past it)."""
        return self.advance(max(0, int(at_ns) - self.now_ns))
