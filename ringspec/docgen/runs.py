"""Running the concrete model for the pages: step sequences, reachable states, and which
region each slot moves to in each kernel sub-step (computed, never typed by hand)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from model.core import Machine
from model.netmap_ring import (
    HARDENED,
    RX,
    TX,
    NetmapRing,
    caller_accepts,
    nm_rxsync_prologue,
    nm_sync_finalize,
    nm_txsync_prologue,
    rx_driver_sync,
    tx_driver_sync,
)
from ringspec.docgen import pictures

Steps = Sequence[tuple[str, dict[str, int]]]

DIRECTION = {TX.name: "tx", RX.name: "rx"}


def call(name: str, args: dict[str, int]) -> str:
    """``name(k=v, ...)`` as the pages print a step."""
    return f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"


def run(machine: Machine, start: Any, steps: Steps, *, legal: bool = True) -> list[tuple[str, Any]]:
    """(caption, state) before and after every step.  With ``legal`` every guard must hold
    and no invariant may break (a worked example that is not legal is a docs bug)."""
    s = start
    out = [("start", s)]
    for name, args in steps:
        step = machine.transitions[name](s, **args)
        if step.guard is not True:
            raise ValueError(f"{machine.name}: {call(name, args)} cannot fire on {s!r}")
        if legal and machine.violated(step.post):
            raise ValueError(f"{machine.name}: {call(name, args)} breaks "
                             f"{machine.violated(step.post)}")
        s = step.post
        out.append((call(name, args), s))
    return out


#: Transitions a well-behaved user and a correct kernel take (no scribbles, no as-shipped
#: looseness): the reachable states below are the states a correct program sees.
WELL_BEHAVED = {
    TX.name: ("user_advance", "txsync_hardened", "device_complete", "netmap_reset"),
    RX.name: ("user_advance", "rxsync_hardened", "device_deliver", "netmap_reset"),
}


def _arguments(machine: Machine, name: str, n: int) -> list[dict[str, int]]:
    params = machine.transitions[name].params
    if not params:
        return [{}]
    if len(params) == 1:
        return [{params[0].name: k} for k in range(n + 1)]
    a, b = (p.name for p in params)
    return [{a: i, b: j} for i in range(n + 1) for j in range(n + 1 - i)]


MACHINES = {TX.name: TX, RX.name: RX}


def reachable(machine: Machine, n: int) -> tuple[NetmapRing, ...]:
    """Every state reachable from ``init(n)`` by :data:`WELL_BEHAVED` transitions."""
    return _reachable(machine.name, n)


@functools.cache
def _reachable(name: str, n: int) -> tuple[NetmapRing, ...]:
    machine = MACHINES[name]
    seen = {machine.init(n)}
    frontier = list(seen)
    while frontier:
        nxt = []
        for s in frontier:
            for name in WELL_BEHAVED[machine.name]:
                for args in _arguments(machine, name, n):
                    step = machine.transitions[name](s, **args)
                    if step.guard is True and step.post not in seen:
                        seen.add(step.post)
                        nxt.append(step.post)
        frontier = nxt
    return tuple(sorted(seen, key=repr))


SubStep = Callable[[NetmapRing], list[NetmapRing]]


def substeps(machine: Machine) -> list[tuple[str, SubStep]]:
    """The pieces a kernel sync is made of (model.netmap_sync), the device step and
    netmap_reset, each as state -> possible next states."""
    n_of = lambda s: range(s.n + 1)  # noqa: E731
    if machine is TX:
        return [
            ("nm_txsync_prologue", lambda s: [r[1] for r in [nm_txsync_prologue(HARDENED, s)]
                                              if caller_accepts(r)]),
            ("txsync driver", lambda s: [tx_driver_sync(s, k) for k in n_of(s)]),
            ("nm_sync_finalize", lambda s: [nm_sync_finalize(s)]),
            ("device_complete", _transition(TX, "device_complete")),
            ("netmap_reset", _transition(TX, "netmap_reset")),
        ]
    return [
        ("nm_rxsync_prologue", lambda s: [r[1] for r in [nm_rxsync_prologue(HARDENED, s)]
                                          if caller_accepts(r)]),
        ("rxsync driver", lambda s: [rx_driver_sync(s, k) for k in n_of(s)]),
        ("nm_sync_finalize", lambda s: [nm_sync_finalize(s)]),
        ("device_deliver", _transition(RX, "device_deliver")),
        ("netmap_reset", _transition(RX, "netmap_reset")),
    ]


def _transition(machine: Machine, name: str) -> SubStep:
    def apply(s: NetmapRing) -> list[NetmapRing]:
        out = []
        for args in _arguments(machine, name, s.n):
            step = machine.transitions[name](s, **args)
            if step.guard is True:
                out.append(step.post)
        return out

    return apply


def region_moves(machine: Machine, n: int = 4) -> dict[tuple[str, str], tuple[str, ...]]:
    """(region before, region after) -> the sub-steps that move some slot that way.

    Computed on every reachable state of a ring of ``n`` slots: each sub-step is applied in
    the order a sync runs them (prologue, driver, finalize), the device step and
    netmap_reset on the reachable state itself, and the two region maps compared slot by
    slot (:func:`pictures.slot_regions`, i.e. the model's region functions)."""
    return _region_moves(machine.name, n)


@functools.cache
def _region_moves(machine_name: str, n: int) -> dict[tuple[str, str], tuple[str, ...]]:
    machine = MACHINES[machine_name]
    direction = DIRECTION[machine.name]
    names = [name for name, _ in substeps(machine)]
    moves: dict[tuple[str, str], set[str]] = {}

    def record(name: str, before: NetmapRing, after: NetmapRing) -> None:
        a = pictures.slot_regions(before, direction)
        b = pictures.slot_regions(after, direction)
        if a is None or b is None:
            raise ValueError(f"{name}: a region map does not partition {before!r} -> {after!r}")
        for x, y in zip(a, b, strict=True):
            if x != y:
                moves.setdefault((x, y), set()).add(name)

    steps = dict(substeps(machine))
    prologue, driver, finalize, device, reset = names
    for s in reachable(machine, n):
        for p in steps[prologue](s):
            record(prologue, s, p)
            for d in steps[driver](p):
                record(driver, p, d)
                for f in steps[finalize](d):
                    record(finalize, d, f)
        for name in (device, reset):
            for t in steps[name](s):
                record(name, s, t)
    order = {name: i for i, name in enumerate(names)}
    return {k: tuple(sorted(v, key=order.__getitem__)) for k, v in sorted(moves.items())}
