"""The loops ``ringspec bench`` measures: one small module per loop, listed in :data:`MODULES`.

A loop module defines ``LOOP = Loop(...)``.  ``Loop.make(config, variant)`` builds a fresh,
independent :class:`Variant` of the loop for one configuration; the runner calls its
``step()`` (one iteration over every queue) in a timed loop and ``drain()`` between timed
repeats.  Every loop provides the three variants of :data:`VARIANTS`:

* ``vectorized``: the loop through the implementation's batch API (numpy over slots and
  queues), the figure the targets are about;
* ``baseline``: a faithful slot-at-a-time port of the same loop (same state, same rules,
  one slot per Python iteration), what a straightforward port of the C would cost;
* ``floor``: the numpy data-movement floor, one gather of the same payload bytes a step
  moves, with nothing else around it.

How to add a loop (e.g. the ENA ``tx`` loop):

1. write ``ringspec/bench/ena_tx.py`` with three small classes (or functions) building the
   variants, each with ``step()`` and ``drain()``, and ``LOOP = Loop("tx", ...)``;
   ``drain()`` returns :class:`Moved` (packets, bytes and a digest of the payload in
   queue-major order) so the test suite can check that the baseline moves what the
   vectorized loop moves;
2. add ``"ringspec.bench.ena_tx"`` to :data:`MODULES`;
3. ``ringspec bench --quick --loop tx`` runs it and ``tests/unit/test_bench.py`` checks
   it (schema, a quick run, same packets and bytes); commit a full run as
   ``bench/results.json`` and ``ringspec docs`` renders it.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

LOOP_NAMES = ("tx", "rx", "netmap_tx", "netmap_rx", "ena_netmap_tx", "ena_netmap_rx")
"""The loop names the results schema allows (issue 6, section 5; then netmap on ENA)."""

VARIANTS = ("vectorized", "baseline", "floor")

MODULES = (
    "ringspec.bench.ena_tx",
    "ringspec.bench.ena_rx",
    "ringspec.bench.netmap_tx",
    "ringspec.bench.netmap_rx",
    "ringspec.bench.ena_netmap_tx",
    "ringspec.bench.ena_netmap_rx",
)
"""Every loop module, in the order the results list them."""

FRAME = 64
"""Frame size of every loop: 64 B, the size line rate is quoted for (14.88 Mpps at 10 GbE)."""


@dataclass(frozen=True, order=True)
class Config:
    """One point of the benchmark: frames per queue per step, ring size, queues."""

    queues: int
    ring_size: int
    batch: int

    @property
    def packets(self) -> int:
        """Packets one step moves (``batch`` on every queue)."""
        return self.batch * self.queues


@dataclass(frozen=True)
class Moved:
    """What a variant moved: packets, payload bytes and a SHA-256 of the payload."""

    packets: int
    bytes: int
    digest: str


class Variant(Protocol):
    def step(self) -> None:
        """One iteration of the loop on every queue (``config.packets`` packets)."""

    def drain(self) -> Moved:
        """What was moved since the last drain (then forgotten)."""


@dataclass
class Payload:
    """A record of the payload a variant moved, digested and cleared by :meth:`drain`."""

    chunks: list[np.ndarray] = field(default_factory=list)
    packets: int = 0

    def add(self, data: np.ndarray, packets: int) -> None:
        self.chunks.append(data)
        self.packets += packets

    def drain(self) -> Moved:
        data = np.concatenate([np.ravel(c) for c in self.chunks]) if self.chunks else (
            np.zeros(0, np.uint8))
        moved = Moved(self.packets, int(data.size), hashlib.sha256(data.tobytes()).hexdigest())
        self.chunks.clear()
        self.packets = 0
        return moved


@dataclass(frozen=True)
class Loop:
    """A registered loop: its name in the results, one line saying what a step does, the
    variant factory and the configurations of a full and of a ``--quick`` run."""

    name: str
    title: str
    make: Callable[[Config, str], Variant]
    configs: tuple[Config, ...]
    quick: tuple[Config, ...]

    def __post_init__(self) -> None:
        if self.name not in LOOP_NAMES:
            raise ValueError(f"loop name {self.name!r} not in {LOOP_NAMES}")


def sweep(base: Config, batches: Iterable[int] = (), ring_sizes: Iterable[int] = (),
          queues: Iterable[int] = (), ring_batch: int | None = None) -> tuple[Config, ...]:
    """``base`` and the configurations that vary one of its axes at a time (the ring sizes
    at ``ring_batch`` frames per step, default ``base.batch``), sorted, without repeats."""
    rb = base.batch if ring_batch is None else ring_batch
    out = {base}
    out |= {Config(base.queues, base.ring_size, b) for b in batches}
    out |= {Config(base.queues, r, rb) for r in ring_sizes}
    out |= {Config(q, base.ring_size, base.batch) for q in queues}
    return tuple(sorted(out))


def loops(names: Iterable[str] | None = None) -> list[Loop]:
    """The registered loops (all, or those named, in :data:`MODULES` order)."""
    found = [importlib.import_module(m).LOOP for m in MODULES]
    if names is None:
        return found
    wanted = list(names)
    unknown = sorted(set(wanted) - {lp.name for lp in found})
    if unknown:
        raise ValueError(f"unknown loop(s) {unknown}; registered: {[lp.name for lp in found]}")
    return [lp for lp in found if lp.name in wanted]
