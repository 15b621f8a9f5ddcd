"""The machine shape of the ENA models: :class:`model.core.Machine` over u16 bit-vectors,
plus contracts and the instantiation terms of the quantified invariants.

An ENA machine is a :class:`model.core.Machine` (state dataclass, init, transitions,
invariants, mutants) whose state variables are u16 counters, 0/1 flags and u16 arrays
(:mod:`model.ena_bits`), with the depth 2^``depth_log2`` left symbolic in the proofs.
It adds:

* ``contracts``: what a transition must *decide*, stated as a rule table independent of
  the C's control flow (e.g. which reset reason a bad completion triggers).  A contract
  relates the state before, the arguments and the step; it has an ID like an invariant
  and a mutant must break it.
* ``instances``: the terms at which the quantified invariants of the state before a step
  are instantiated (:func:`model.ena_bits.forall_below`); the default is every u16 field
  of the state masked to a slot, every argument, and the goal's fresh index
  (``extra_instances`` adds terms, ``own_instances`` replaces the list).
* ``driver_fields``: the fields the driver's ``abstract()`` can report (the rest are
  device registers, device-written memory or ghosts).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model.core import And, Machine, Step, Term
from model.ena_bits import MAX_LOG2, MIN_LOG2, ite, select, slot, ule

#: Var domains of ENA state fields.
SCALAR_DOMAINS = ("log2", "u16", "bit", "sbt", "mask32")
ARRAY_DOMAINS = ("array", "vec")


@dataclass(frozen=True)
class Contract:
    """A rule a transition's outcome must follow: ``fn(pre, args, step) -> Term``."""

    id: str
    sentence: str
    transitions: tuple[str, ...]
    fn: Callable[[Any, dict[str, Term], Step], Term]
    breaks: tuple[str, ...] = ()  # transitions the as-shipped code is known to break it in

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")


@dataclass
class EnaMachine(Machine):
    """A :class:`model.core.Machine` over exact u16 values (see the module docstring)."""

    contracts: dict[str, Contract] = field(default_factory=dict)
    driver_fields: tuple[str, ...] = ()
    min_log2: int = MIN_LOG2
    max_log2: int = MAX_LOG2
    extra_instances: Callable[[Any, dict[str, Term]], list[Term]] | None = None
    #: replaces the default instances when the quantified invariants are stated over
    #: something other than slots (e.g. offsets from a counter)
    own_instances: Callable[[Any, dict[str, Term], list[Term]], list[Term]] | None = None
    #: the length of the ``vec`` fields (fixed-length vectors of u16 values) of a machine
    #: stated for one fixed ring size instead of a symbolic depth
    vec_len: int = 0

    def log2_ok(self, k: Term) -> Term:
        """The depths the machine is stated for: min_log2 <= depth_log2 <= max_log2."""
        return And(ule(self.min_log2, k), ule(k, self.max_log2))

    @property
    def has_depth(self) -> bool:
        """Whether the machine is stated over a ring of depth 2^``depth_log2`` (the
        keep-alive watchdog is not: its ``init`` ignores the depth)."""
        return any(v.name == "depth_log2" for v in self.vars)

    @property
    def size_text(self) -> str:
        if self.vec_len:
            return f"one ring of {self.vec_len} slots (fixed)"
        if not self.has_depth:
            return "no ring: one adapter"
        return f"every depth 2^k, {self.min_log2} <= k <= {self.max_log2}"

    def contract(
        self, contract_id: str, sentence: str, transitions: tuple[str, ...],
        breaks: tuple[str, ...] = (),
    ) -> Callable:
        def register(fn: Callable) -> Callable:
            if contract_id in self.contracts:
                raise ValueError(f"{self.name}: contract {contract_id!r} registered twice")
            self.contracts[contract_id] = Contract(contract_id, sentence, transitions, fn,
                                                   breaks)
            return fn

        return register

    def checked_ids(self) -> list[str]:
        """Every invariant and contract ID: each needs a killed mutant."""
        return [*self.invariants, *self.contracts]

    def instances(self, state: Any, args: dict[str, Term], fresh: list[Term]) -> list[Term]:
        """Terms at which the quantified invariants of ``state`` are instantiated."""
        if self.own_instances is not None:
            return self.own_instances(state, args, fresh)
        if not self.has_depth:
            return list(fresh)
        k = state.depth_log2
        terms: list[Term] = list(fresh)
        domains = {v.name: v.domain for v in self.vars}
        for f in dataclasses.fields(state):
            if domains.get(f.name) == "u16":
                terms.append(slot(getattr(state, f.name), k))
        terms.extend(v for v in args.values())
        terms.extend(slot(v, k) for v in args.values())
        if self.extra_instances is not None:
            terms.extend(self.extra_instances(state, args))
        return terms

    def driver_view(self, state: Any) -> dict[str, Term]:
        """The fields a driver's ``abstract()`` reports, by name."""
        return {f: getattr(state, f) for f in self.driver_fields}


def replace(state: Any, **changes: Term) -> Any:
    return dataclasses.replace(state, **changes)


def choose(cond: Term, a: Any, b: Any) -> Any:
    """The state ``a`` where ``cond`` holds and ``b`` where it does not, field by field
    (two states of one type; C's ``if`` around a whole update)."""
    return type(a)(**{f.name: ite(cond, getattr(a, f.name), getattr(b, f.name))
                      for f in dataclasses.fields(a)})


def at(arr: Term, i: Term) -> Term:
    """Shorthand for :func:`model.ena_bits.select`."""
    return select(arr, i)
