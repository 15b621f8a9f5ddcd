"""Concrete states of the ENA machines chosen by z3: every invariant holds and a boundary
condition the caller states (a counter a few entries before the u16 wrap, a pass about to
end, a full ring).  Tests start the driver and device in such states
(:class:`impl.ena.start.QueueStart`) instead of at zero, so a short run crosses the
boundary; the states come from the model's own invariants, not from a test's idea of them.

The depth is fixed (the ring the test builds) and every quantified invariant is expanded
over all of that depth's indices, as the exact refutation queries of
:mod:`proofs.ena_obligations` do, so the state z3 returns satisfies the whole invariant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from model.core import Eq, Term
from model.ena_bits import const16, instantiated_at
from model.ena_machine import EnaMachine
from proofs.ena_obligations import concrete_state, fresh_ena_state
from proofs.solve import solver_api

__all__ = ["NoSuchStateError", "satisfying_state"]


class NoSuchStateError(ValueError):
    """No state of the machine satisfies the invariants and the condition."""


def satisfying_state(machine: EnaMachine, depth_log2: int,
                     where: Callable[[Any], Term], solver: str = "z3") -> Any:
    """A concrete state of ``machine`` at depth ``2**depth_log2`` that satisfies every
    invariant of the machine and ``where(state)`` (a model term over the state's fields).

    Deterministic for one solver version: the same query gives the same model."""
    api = solver_api(solver)
    sym = fresh_ena_state(api, machine, "seed")
    k = sym.variables["depth_log2"]
    n = 1 << depth_log2
    with instantiated_at([const16(k, j) for j in range(n)]):
        invariants = [inv(sym.state) for inv in machine.invariants.values()]
        condition = where(sym.state)
    s = api.Solver()
    s.add(*sym.constraints, Eq(k, depth_log2), *invariants, condition)
    if str(s.check()) != "sat":
        raise NoSuchStateError(f"{machine.name}: no state at depth {n} satisfies the condition")
    m = s.model()
    domains = {v.name: v.domain for v in machine.vars}
    shown: dict[str, int] = {}
    for f in dataclasses.fields(machine.state_type):
        x = sym.variables[f.name]
        if domains[f.name] == "array":
            for j in range(n):
                shown[f"{f.name}[{j}]"] = m.eval(api.Select(x, j),
                                                 model_completion=True).as_long()
        else:
            shown[f.name] = m.eval(x, model_completion=True).as_long()
    return concrete_state(machine, shown)
