"""Guards, effects, inits and invariants of a machine, rendered from the model itself."""

from __future__ import annotations

import dataclasses
from typing import Any

import z3

from model.core import Invariant, Machine, Transition, state_fields
from model.netmap_ring import (
    AS_SHIPPED,
    POLICIES,
    PROLOGUES,
    NetmapRing,
    caller_accepts,
    netmap_ring_reinit,
)
from ringspec.docgen import printer, terms
from ringspec.docgen.printer import Rendered
from ringspec.docgen.terms import Node


def _fields(machine: Machine) -> list[str]:
    return [f.name for f in dataclasses.fields(machine.state_type)]


def symbolic(machine: Machine) -> Any:
    return terms.symbolic_state(machine.state_type)


def arg_name(machine: Machine, param: str) -> str:
    """How a parameter appears in formulas: its name, or ``arg.name`` if a field has it."""
    return f"arg.{param}" if param in _fields(machine) else param


def known_terms(machine: Machine) -> list[tuple[str, Node]]:
    """Subterms worth a name, computed by calling the model's own functions."""
    if machine.state_type is not NetmapRing:
        return []
    s = symbolic(machine)
    known = [("accepted", terms.render_ready(caller_accepts(PROLOGUES[machine.name](p, s))))
             for p in POLICIES]
    reinit_head = terms.render_ready(netmap_ring_reinit(AS_SHIPPED, s).head)
    if reinit_head[0] == "ite":
        known.append(("errors", reinit_head[1]))
    return known


def transition(machine: Machine, t: Transition, fn: Any = None) -> Rendered:
    """``guard`` and ``field' = ...`` for every field the step (or a stand-in) changes."""
    s = symbolic(machine)
    args = {p.name: z3.Int(arg_name(machine, p.name)) for p in t.params}
    step = (fn or t.fn)(s, **args)
    items: list[tuple[str, Node]] = [("guard", terms.render_ready(step.guard))]
    for name, value in state_fields(step.post).items():
        node = terms.render_ready(value)
        if node != ("var", name):
            items.append((f"{name}'", node))
    return printer.abbreviate(items, known_terms(machine))


def invariant(machine: Machine, inv: Invariant) -> Rendered:
    return printer.abbreviate([("", terms.render_ready(inv(symbolic(machine))))])


def init(machine: Machine, fn: Any = None) -> Rendered:
    state = (fn or machine.init)(z3.Int("n"))
    items = [(name, terms.render_ready(v)) for name, v in state_fields(state).items()]
    return printer.abbreviate([(k, v) for k, v in items if k != "n"])


def region_sizes(fn: Any, state_type: type) -> dict[str, str]:
    """A region function of the model (``tx_regions``, ``rx_regions``) as formulas."""
    regions = fn(terms.symbolic_state(state_type))
    return {k: printer.flat(terms.render_ready(v)) for k, v in regions.items()}
