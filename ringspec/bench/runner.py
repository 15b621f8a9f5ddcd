"""Time the variants of a loop: Mpps as min / median / max over repeats, all in one run.

Each variant is built fresh for its configuration, stepped once to warm up, then timed in
``repeats`` windows of at least ``min_time`` seconds of clocked steps (at least one step
each); between clocked chunks of steps, outside the clock,
:meth:`~ringspec.bench.registry.Variant.drain` forgets what was moved.  A window's rate is
packets moved / clocked wall time.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ringspec.bench.registry import VARIANTS, Config, Loop

RESULT_KEYS = {"vectorized": "mpps", "baseline": "baseline_mpps", "floor": "floor_mpps"}


@dataclass(frozen=True)
class Settings:
    """How long to measure: timed windows per variant and the minimum window length."""

    repeats: int = 5
    min_time: float = 0.2


FULL = Settings()
QUICK = Settings(repeats=3, min_time=0.03)


CHUNK_PACKETS = 8192
"""At most this many packets per clocked chunk: the variants record what they move (the
soft NIC's wire log, the user's reads), and draining it between chunks keeps that record
small, so memory growth does not show up as time."""


def rates(make: Callable[[], object], packets: int, settings: Settings) -> list[float]:
    """Mpps of each timed window of a fresh variant (the garbage collector off while the
    clock runs, as ``timeit`` does)."""
    variant = make()
    variant.step()  # type: ignore[attr-defined]
    variant.drain()  # type: ignore[attr-defined]
    cap = max(1, CHUNK_PACKETS // packets)
    clock = time.perf_counter
    out = []
    gc.collect()
    for _ in range(settings.repeats):
        steps, elapsed, chunk = 0, 0.0, 1
        while elapsed < settings.min_time or steps == 0:
            gc.disable()
            try:
                start = clock()
                for _ in range(chunk):
                    variant.step()  # type: ignore[attr-defined]
                elapsed += clock() - start
            finally:
                gc.enable()
            steps += chunk
            variant.drain()  # type: ignore[attr-defined]
            chunk = min(2 * chunk, cap)
        out.append(packets * steps / elapsed / 1e6)
    return out


def summary(values: list[float]) -> dict[str, float]:
    """``{"min", "median", "max"}``, rounded to 4 significant digits."""
    return {k: float(f"{v:.4g}") for k, v in (
        ("min", min(values)), ("median", statistics.median(values)), ("max", max(values)))}


def measure(loop: Loop, config: Config, settings: Settings) -> dict[str, object]:
    """One row of the results: every variant of ``loop`` at ``config``."""
    row: dict[str, object] = {"loop": loop.name, "batch": config.batch,
                              "ring_size": config.ring_size, "queues": config.queues}
    for variant in VARIANTS:
        row[RESULT_KEYS[variant]] = summary(
            rates(lambda v=variant: loop.make(config, v), config.packets, settings))
    return row


def run(loops: Iterable[Loop], quick: bool = False, settings: Settings | None = None,
        progress: Callable[[dict[str, object]], None] | None = None) -> dict[str, list]:
    """The results document ``{"loops": [row, ...]}`` for every configuration of every
    loop (``quick``: the loops' quick configurations)."""
    settings = settings or (QUICK if quick else FULL)
    rows = []
    for loop in loops:
        for config in loop.quick if quick else loop.configs:
            row = measure(loop, config, settings)
            rows.append(row)
            if progress:
                progress(row)
    return {"loops": rows}
