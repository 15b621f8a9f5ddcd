"""Boundary states found by z3: the hard corners a random walk rarely reaches.

Each seed is a z3 model of ``Inv and guard(t, args)`` for a transition at the edge of its
range (the NIC completing every slot of a full TX ring, the user holding every RX slot,
...), optionally with the region concerned wrapped past slot N-1.  The stateful machines
start rings in these states; the states satisfy every invariant, so the kernel must handle
them like any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from typing import Any

import z3

from model.core import Machine
from model.netmap_ring import RX, TX, NetmapRing

Args = Callable[[int], dict[str, int]]
Extra = Callable[[NetmapRing], Any]


def _wraps(lo: str, hi: str) -> Extra:
    """The region [lo, hi) runs past slot N-1 back to slot 0."""
    return lambda s: z3.And(getattr(s, hi) < getattr(s, lo), getattr(s, hi) != 0)


def _nic_region_wraps(s: NetmapRing) -> Any:
    """A device region of N-1 slots starting at the NIC pointer wraps unless it starts
    at slot 0."""
    return s.nic != 0


#: name -> (direction, transition, its arguments for ring size n, extra condition)
BOUNDARIES: dict[str, tuple[str, str, Args, Extra | None]] = {
    "tx-all-in-flight": ("tx", "device_complete", lambda n: {"k": n - 1}, None),
    "tx-all-in-flight-wrapped": (
        "tx", "device_complete", lambda n: {"k": n - 1}, _nic_region_wraps),
    "tx-all-free": ("tx", "user_advance", lambda n: {"dh": n - 1, "dc": 0}, None),
    "tx-user-wrapped": (
        "tx", "user_advance", lambda n: {"dh": 1, "dc": 0}, _wraps("rhead", "rtail")),
    "rx-user-holds-all": ("rx", "user_advance", lambda n: {"dh": n - 1, "dc": 0}, None),
    "rx-user-holds-all-wrapped": (
        "rx", "user_advance", lambda n: {"dh": n - 1, "dc": 0}, _wraps("rhead", "rtail")),
    "rx-nic-owns-all": ("rx", "device_deliver", lambda n: {"k": n - 1}, None),
    "rx-nic-owns-all-wrapped": (
        "rx", "device_deliver", lambda n: {"k": n - 1}, _nic_region_wraps),
}
BOUNDARY_SEEDS = tuple(BOUNDARIES)
MACHINES: dict[str, Machine] = {"tx": TX, "rx": RX}


@cache
def boundary_state(name: str, kind: str, n: int) -> NetmapRing | None:
    """The z3-found state for seed ``name`` on a ``kind`` ring of ``n`` slots, or None
    when the seed is for the other direction or unsatisfiable at this size (e.g. a
    wrapped interval needs room to wrap)."""
    seed_kind, transition, args, extra = BOUNDARIES[name]
    if seed_kind != kind:
        return None
    machine = MACHINES[kind]
    fields = [f.name for f in dataclasses.fields(NetmapRing)]
    variables: dict[str, Any] = {f: z3.Int(f) for f in fields if f != "n"}
    state = NetmapRing(n=n, **variables)
    solver = z3.Solver()
    solver.add(machine.holds(state, user_view=True))
    solver.add(machine.transitions[transition](state, **args(n)).guard)
    if extra is not None:
        solver.add(extra(state))
    if solver.check() != z3.sat:
        return None
    model = solver.model()
    values = {f: model.eval(v, model_completion=True).as_long() for f, v in variables.items()}
    return NetmapRing(n=n, **values)
