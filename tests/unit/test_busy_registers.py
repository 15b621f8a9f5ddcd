"""NM-TX-BUSY-REGS / NM-RX-BUSY-REGS: the device's count of owned slots is the distance
between its head and tail registers.

* On the implementation, with its soft NIC's real registers: from every consistent state
  of a ring with N <= 4 slots, every hardened sync, device step and netmap_reset leaves
  the tail register where the model's ``tx_tail_register`` / ``rx_tail_register`` put it
  (the driver writes what the model says it writes), and the device's owned count
  satisfies the invariant against the registers themselves.
* In the model: the partition invariant implies it for every N (z3), which is why no
  mutant can break it alone (each mutant killed for it also breaks the partition), and
  the converse fails only where the registers read "full".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import z3
from support.states import consistent_states

from impl.netmap import NetmapAdapter
from model.core import Machine
from model.netmap_ring import RX, TX, NetmapRing
from model.netmap_state import busy_matches_registers, rx_tail_register, tx_tail_register
from proofs.symbolic import fresh_state

KIND = {TX.name: "tx", RX.name: "rx"}
TAIL = {TX.name: tx_tail_register, RX.name: rx_tail_register}


def loaded(machine: Machine, states: list[NetmapRing]) -> NetmapAdapter:
    """One adapter with one ring per state (the other direction has a single idle ring)."""
    n, count = states[0].n, len(states)
    tx, rx = (count, 1) if machine is TX else (1, count)
    adapter = NetmapAdapter(tx, rx, n, buf_size=64)
    for q, s in enumerate(states):
        adapter.load(KIND[machine.name], q, s)
    return adapter


def registers(adapter: NetmapAdapter, kind: str) -> tuple[np.ndarray, ...]:
    """(head register, tail register) in kring indices, and the device's owned count."""
    kr, dev = adapter.krings(kind), adapter.device(kind)
    n = adapter.num_slots
    return (dev.head + kr.nkr_hwofs) % n, (dev.tail + kr.nkr_hwofs) % n, dev.owned.copy()


def _steps(machine: Machine, n: int) -> list[tuple[str, dict | None, Callable]]:
    """(model transition, its arguments, the same step on every ring of an adapter)."""
    kind = KIND[machine.name]
    out: list[tuple[str, dict | None, Callable]] = []
    for k in sorted({0, 1, n}):
        if machine is TX:
            out.append(("txsync_hardened", {"sent": k}, lambda a, k=k: a.txsync(None, sent=k)))
        else:
            out.append(("rxsync_hardened", {"refill": k},
                        lambda a, k=k: a.rxsync(None, refill=k)))
    device = "device_complete" if machine is TX else "device_deliver"

    def drain(a: NetmapAdapter) -> None:
        dev = a.device(kind)
        rings = np.arange(dev.count)
        getattr(a, device)(rings, dev.available(rings))

    out.append((device, None, drain))  # k: what the device took, read from the state
    out.append(("netmap_reset", {}, lambda a: a.netmap_reset(kind)))
    return out


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("machine", [TX, RX], ids=lambda m: m.name)
def test_driver_writes_the_modelled_tail_register(machine: Machine, n: int) -> None:
    states = consistent_states(machine, n)
    kind = KIND[machine.name]
    inv = machine.invariants[f"NM-{kind.upper()}-BUSY-REGS"]
    moved = set()
    for name, args, run in _steps(machine, n):
        adapter = loaded(machine, states)
        before = registers(adapter, kind)
        run(adapter)
        head, tail, owned = registers(adapter, kind)
        for q, pre in enumerate(states):
            post = adapter.abstract(kind, q)
            taken = {"k": pre.busy - post.busy}
            step = machine.transitions[name](pre, **(taken if args is None else args))
            assert step.guard and post == step.post, (name, pre)
            assert tail[q] == TAIL[machine.name](post), (name, pre, post)
            assert busy_matches_registers(int(owned[q]), int(head[q]), int(tail[q]), n)
            assert inv(post)
        moved |= {r for r, a, b in (("head", before[0], head), ("tail", before[1], tail))
                  if (a != b).any()}
    assert moved == {"head", "tail"}  # the sweep moves both registers somewhere


@pytest.mark.parametrize("machine", [TX, RX], ids=lambda m: m.name)
def test_partition_implies_busy_regs_for_every_ring_size(machine: Machine) -> None:
    d = "TX" if machine is TX else "RX"
    s = fresh_state(z3, machine, "s")
    partition, regs = machine.invariants[f"NM-{d}-PARTITION"], machine.invariants[
        f"NM-{d}-BUSY-REGS"]
    ranged = machine.invariants[f"NM-{d}-RANGE"](s.state)
    solver = z3.Solver()
    solver.add(*s.constraints, ranged, partition(s.state), z3.Not(regs(s.state)))
    assert solver.check() == z3.unsat  # so a mutant that breaks BUSY-REGS breaks PARTITION
    solver = z3.Solver()
    solver.add(*s.constraints, ranged, regs(s.state), z3.Not(partition(s.state)))
    assert solver.check() == z3.sat  # the converse fails: registers equal, busy = N
    m = solver.model()
    assert m.eval(s.state.busy).as_long() == m.eval(s.state.n).as_long()
