"""Symbolic states and arguments: one solver integer per state variable and argument, with
the bounds its domain implies (ite-encoded ring arithmetic, no ``mod``).

``size`` is any N >= the machine's minimum; ``u32`` is any value a user can write into a
shared 32-bit field; ``index``, ``count`` and ghost variables are left free: the
invariants in the premise are what constrain them, so nothing is assumed that the model
does not state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from model.core import U32_MAX, Machine, Term, Transition

#: A solver API: the z3 or cvc5.pythonic module, or proofs.solve.ContextAPI wrapping one.
SolverAPI = Any


@dataclass
class SymbolicState:
    state: Any
    constraints: list[Term]
    variables: dict[str, Term]


def fresh_state(
    api: SolverAPI, machine: Machine, prefix: str, n: Term | None = None
) -> SymbolicState:
    """A state of ``machine`` whose fields are fresh solver integers named ``prefix.field``.

    Pass ``n`` to share the ring size with another state."""
    domains = {v.name: v.domain for v in machine.vars}
    values: dict[str, Term] = {}
    constraints: list[Term] = []
    for f in dataclasses.fields(machine.state_type):
        if f.name == "n" and n is not None:
            values["n"] = n
            continue
        x = api.Int(f"{prefix}.{f.name}")
        values[f.name] = x
        domain = domains[f.name]
        if domain == "size":
            constraints.append(machine.size_ok(x))
        elif domain == "u32":
            constraints.extend([x >= 0, x <= U32_MAX])
    return SymbolicState(machine.state_type(**values), constraints, values)


def fresh_args(api: SolverAPI, transition: Transition, n: Term, prefix: str) -> SymbolicState:
    """Fresh arguments for ``transition``: counts in [0, N], u32 values in [0, 2^32), bits
    0 or 1."""
    values: dict[str, Term] = {}
    constraints: list[Term] = []
    for p in transition.params:
        x = api.Int(f"{prefix}.{p.name}")
        values[p.name] = x
        if p.domain == "count":
            constraints.extend([x >= 0, x <= n])
        elif p.domain == "u32":
            constraints.extend([x >= 0, x <= U32_MAX])
        elif p.domain == "bit":
            constraints.extend([x >= 0, x <= 1])
        else:
            raise ValueError(f"{transition.name}: unknown parameter domain {p.domain!r}")
    return SymbolicState(values, constraints, values)
