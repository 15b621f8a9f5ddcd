"""Waiting on the simulated clock: ena_com's busy-wait and its exponential backoff.

A driver wait only ends early when something the device scheduled on the clock happens,
so :func:`poll_until` jumps from one check to the first check at or after the next
scheduled event (or to the deadline). That is exactly the sequence of checks and sleeps of
the C loop, without running the checks in between that could not see a change.

``ena_delay_exponential_backoff_us``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L590
"""

from __future__ import annotations

from collections.abc import Callable

from impl.device.clock import SimClock

MAX_BACKOFF_DELAY_EXP = 16
"""``ENA_MAX_BACKOFF_DELAY_EXP``."""
MIN_ADMIN_POLL_US = 100
"""``ENA_MIN_ADMIN_POLL_US``."""
MAX_ADMIN_POLL_US = 5000
"""``ENA_MAX_ADMIN_POLL_US``."""
US = 1000
"""Nanoseconds per microsecond."""


def backoff_us(exp: int, delay_us: int) -> int:
    """The sleep of backoff step ``exp``: ``min(5000, max(100, delay) << min(exp, 16))``."""
    exp = min(MAX_BACKOFF_DELAY_EXP, exp)
    return min(MAX_ADMIN_POLL_US, max(MIN_ADMIN_POLL_US, delay_us) * (1 << exp))


def poll_until(clock: SimClock, done: Callable[[], bool], iterations: int,
               step_ns: int) -> bool:
    """``for (i = 0; i < iterations; i++) { if (done()) break; delay(step); }``: True if
    ``done()`` held at one of the checks; on False the clock has moved
    ``iterations * step_ns``."""
    start = clock.now_ns
    i = 0
    while i < iterations:
        if done():
            return True
        nxt = clock.next_event_ns()
        j = iterations if nxt is None else max(i + 1, -(-(nxt - start) // step_ns))
        j = min(j, iterations)
        clock.advance_to(start + j * step_ns)
        i = j
    return False


def wait_event(clock: SimClock, done: Callable[[], bool], timeout_ns: int) -> bool:
    """``ENA_WAIT_EVENT_WAIT``: sleep until ``done()`` (set by an interrupt handler that
    runs inside a clock callback) or until ``timeout_ns`` has passed; True if signalled."""
    deadline = clock.now_ns + timeout_ns
    while not done():
        nxt = clock.next_event_ns()
        if nxt is None or nxt > deadline:
            clock.advance_to(deadline)
            return done()
        clock.advance_to(nxt)
    return True
