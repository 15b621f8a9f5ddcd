"""The proof obligations of the ENA machines (:data:`model.ENA_MACHINES`), over exact u16
bit-vectors with the depth 2^k left symbolic.

Per machine, as for the netmap machines (:mod:`proofs.obligations`):

* ``init``          Init => Inv, per invariant, for every depth the machine allows.
* ``vacuity-init``  Init and the invariants satisfiable together.
* ``vacuity-guard`` the invariants and each transition's guard satisfiable together.
* ``step``          Inv and guard and step => Inv', per (transition x invariant); a
                    transition's ``breaks`` (the as-shipped findings) expects a refutation.
* ``contract``      Inv and the step => the rule the step must decide (which reset reason,
                    which id moves), per (transition x contract); the contract's ``breaks``
                    names the transitions expected to refute it.
* ``mutant``        a ``step`` or ``contract`` with a mutant in place: must be refuted.

Quantified invariants ("every id", "every slot", :func:`model.ena_bits.forall_below`) are
instantiated in the premise at the terms the step touches (:meth:`EnaMachine.instances`)
and in the goal at one fresh index ``i``: an unsat query then proves the goal for every
index, and the instantiated premise is implied by the quantified one, so a proof is sound.
A counterexample found that way need not satisfy the whole invariant, so an obligation
expected to be refuted (a finding, a mutant) is asked differently: at each depth of
:data:`EXACT_LOG2` with every quantifier expanded over all the depth's indices.  Its
counterexample is then a real state at the smallest depth that shows the bug
(tests/unit/test_ena_model.py replays each one on the concrete model).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import model
from model.core import (
    And,
    Eq,
    Implies,
    Or,
    Step,
    Term,
    Transition,
    in_range,
    ring_dist,
    ring_next,
    state_fields,
)
from model.ena_abstraction import NetmapTxView, netmap_view, to_int
from model.ena_bits import add16, const16, depth, instantiated_at, slot, sub16, ule, ult
from model.ena_machine import EnaMachine
from model.ena_queue import free_q_entries
from proofs.obligations import Obligation, Query
from proofs.symbolic import SolverAPI, SymbolicState

#: The depths (log2) at which a refutation is searched with every quantifier expanded.
EXACT_LOG2 = (1, 2, 3)
#: Width of an ``sbt`` state field (FreeBSD's sbintime_t, 32.32 fixed-point seconds).
SBT_BITS = 64
#: How many entries of each array a counterexample can show (trimmed to its depth).
ARRAY_ENTRIES_SHOWN = 1 << EXACT_LOG2[-1]


def _bv(api: SolverAPI, name: str, width: int = 16) -> Term:
    return api.BitVec(name, width, getattr(api, "ctx", None))


def _array(api: SolverAPI, name: str) -> Term:
    sort = api.BitVecSort(16, getattr(api, "ctx", None))
    return api.Array(name, sort, sort)


def fresh_ena_state(api: SolverAPI, machine: EnaMachine, prefix: str) -> SymbolicState:
    """A state whose fields are fresh u16 bit-vectors (arrays: u16 -> u16; ``sbt``: 64-bit
    sbintime_t values; ``mask32``: one bit per admin context), with the bounds of their
    domains: ``log2`` within the machine's depths, ``bit`` 0 or 1."""
    domains = {v.name: v.domain for v in machine.vars}
    values: dict[str, Term] = {}
    constraints: list[Term] = []
    for f in dataclasses.fields(machine.state_type):
        name = f"{prefix}.{f.name}"
        domain = domains[f.name]
        if domain == "vec":  # a fixed-length vector: one u16 bit-vector per entry
            x = tuple(_bv(api, f"{name}[{j}]") for j in range(machine.vec_len))
        else:
            x = (_array(api, name) if domain == "array"
                 else _bv(api, name, {"sbt": SBT_BITS, "mask32": 32}.get(domain, 16)))
        values[f.name] = x
        if domain == "log2":
            constraints.append(machine.log2_ok(x))
        elif domain == "bit":
            constraints.append(ule(x, 1))
    return SymbolicState(machine.state_type(**values), constraints, values)


def fresh_ena_args(api: SolverAPI, transition: Transition, prefix: str) -> SymbolicState:
    """Fresh u16 arguments; a ``bit`` argument is 0 or 1."""
    values: dict[str, Term] = {}
    constraints: list[Term] = []
    for p in transition.params:
        x = _bv(api, f"{prefix}.{p.name}")
        values[p.name] = x
        if p.domain == "bit":
            constraints.append(ule(x, 1))
        elif p.domain != "u16":
            raise ValueError(f"{transition.name}: unknown ENA parameter domain {p.domain!r}")
    return SymbolicState(values, constraints, values)


def _shown(api: SolverAPI, machine: EnaMachine, fields: dict[str, Term]) -> dict[str, Term]:
    """The watched terms of a state: scalars, and the first entries of each array."""
    domains = {v.name: v.domain for v in machine.vars}
    out: dict[str, Term] = {}
    for name, value in fields.items():
        if domains.get(name) == "array" and not isinstance(value, tuple):
            for j in range(ARRAY_ENTRIES_SHOWN):
                out[f"{name}[{j}]"] = api.Select(value, j)
        elif domains.get(name) == "vec":
            for j, x in enumerate(value):
                out[f"{name}[{j}]"] = x
        elif not isinstance(value, tuple):
            out[name] = value
    return out


def _trim_to_depth(cex: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Drop the array entries ``name[j]`` at or past the counterexample's depth."""
    depth_log2 = next((g["depth_log2"] for g in cex.values() if "depth_log2" in g), None)
    if depth_log2 is None:
        return cex

    def keep(key: str) -> bool:
        return not key.endswith("]") or int(key[key.rindex("[") + 1:-1]) < 1 << depth_log2

    return {group: {k: v for k, v in values.items() if keep(k)} for group, values in cex.items()}


def concrete_state(machine: EnaMachine, shown: dict[str, int]) -> Any:
    """The state a counterexample shows (one group: ``pre`` or ``post``), on the concrete
    model: scalars as they are, each array the tuple of its entries ``name[0..depth-1]``."""
    n = 1 << shown.get("depth_log2", 0)
    domains = {v.name: v.domain for v in machine.vars}
    length = {"array": n, "vec": machine.vec_len}
    return machine.state_type(**{
        f.name: (tuple(shown[f"{f.name}[{j}]"] for j in range(length[domains[f.name]]))
                 if domains[f.name] in length else shown[f.name])
        for f in dataclasses.fields(machine.state_type)})


def _minimize(api: SolverAPI, pre: SymbolicState, args: dict[str, Term]) -> list[Term]:
    """What a counterexample minimises: the depth first (if the machine has one), then the
    sum of the unknowns it shows (scalars and the first array entries), read as unsigned
    integers."""
    depth_log2 = pre.variables.get("depth_log2")
    scalars = [v for k, v in pre.variables.items() if k != "depth_log2" and api.is_bv(v)]
    scalars += [x for v in pre.variables.values() if isinstance(v, tuple) for x in v]
    if depth_log2 is not None:
        n = depth(depth_log2)
        scalars += [api.If(ult(j, n), api.Select(arr, j), const16(n, 0))
                    for arr in pre.variables.values() if api.is_array(arr)
                    for j in range(ARRAY_ENTRIES_SHOWN)]
    scalars += list(args.values())
    if depth_log2 is None:  # sbt fields: a bit-vector sum bisects far faster than BV2Int
        return [_wide_sum(api, scalars)]
    return [api.BV2Int(depth_log2), api.Sum([api.BV2Int(v) for v in scalars])]


#: Width of the bit-vector sum a counterexample without a depth minimises: wide enough
#: that the sum of its 64-bit fields cannot overflow, and (below 2^71) compared signed
#: as the minimisation's ``<=`` does, still in the right order.
_SUM_BITS = 72


def _wide_sum(api: SolverAPI, values: list[Term]) -> Term:
    total = None
    for v in values:
        x = api.ZeroExt(_SUM_BITS - v.size(), v)
        total = x if total is None else total + x
    return total


def _premise(machine: EnaMachine, state: Any, terms: list[Term]) -> dict[str, Term]:
    with instantiated_at(terms):
        return {inv.id: inv(state) for inv in machine.invariants.values()}


def _goal(fn: Callable[[], Term], index: Term) -> Term:
    with instantiated_at([index]):
        return fn()


def _pre_step(api: SolverAPI, machine: EnaMachine, transition: Transition, fn: Callable,
              everywhere: bool = True,
              ) -> tuple[SymbolicState, SymbolicState, Step, Term, dict[str, Term]]:
    """The state before, the arguments, the step, the goal's fresh index, and the premise
    invariants instantiated at that index and (``everywhere``) at every term the step
    touches."""
    pre = fresh_ena_state(api, machine, "pre")
    args = fresh_ena_args(api, transition, "arg")
    index = _bv(api, "i")
    terms = machine.instances(pre.state, args.variables, [index]) if everywhere else [index]
    with instantiated_at(terms):
        step = fn(pre.state, **args.variables)
    return pre, args, step, index, _premise(machine, pre.state, terms)


def _watch(api: SolverAPI, machine: EnaMachine, pre: SymbolicState, args: SymbolicState,
           post: Any) -> dict[str, dict[str, Term]]:
    return {"pre": _shown(api, machine, pre.variables), "args": dict(args.variables),
            "post": _shown(api, machine, state_fields(post))}


def _step_query(api: SolverAPI, machine: EnaMachine, transition: Transition, fn: Callable,
                goal_of: Callable[[Any, dict[str, Term], Step], Term],
                everywhere: bool = True) -> Query:
    pre, args, step, index, named = _pre_step(api, machine, transition, fn, everywhere)
    goal = _goal(lambda: goal_of(pre.state, args.variables, step), index)
    return Query(
        [*pre.constraints, *args.constraints, step.guard], goal, "valid",
        _watch(api, machine, pre, args, step.post), named,
        minimize=_minimize(api, pre, args.variables), track_named=False,
    )


def _exact_step_query(api: SolverAPI, machine: EnaMachine, transition: Transition,
                      fn: Callable, goal_of: Callable[[Any, dict[str, Term], Step], Term],
                      ) -> Query:
    """The step query at each depth of :data:`EXACT_LOG2`, every quantifier (premise, step
    and goal) expanded over all of that depth's indices: sat only for a real
    counterexample."""
    pre = fresh_ena_state(api, machine, "pre")
    args = fresh_ena_args(api, transition, "arg")
    k = pre.variables["depth_log2"]
    cases, goals, post = [], [], None
    for log2 in EXACT_LOG2:
        with instantiated_at([const16(k, j) for j in range(1 << log2)]):
            step = fn(pre.state, **args.variables)
            premise = [inv(pre.state) for inv in machine.invariants.values()]
            goal = goal_of(pre.state, args.variables, step)
        at = Eq(k, log2)
        cases.append(And(at, step.guard, *premise))
        goals.append(Implies(at, goal))
        post = post if post is not None else step.post
    return Query(
        [*pre.constraints, *args.constraints, Or(*cases)], And(*goals), "valid",
        _watch(api, machine, pre, args, post),
        minimize=_minimize(api, pre, args.variables), present=_trim_to_depth,
    )


def _refuting(machine: EnaMachine) -> Callable[..., Query]:
    """The query for an expected refutation: a machine with arrays has quantified
    invariants, so it is asked at the exact depths; one without is exact already, for
    every depth."""
    has_arrays = any(v.domain == "array" for v in machine.vars)
    return _exact_step_query if has_arrays else _step_query


def _invariant_goal(machine: EnaMachine, inv_id: str) -> Callable:
    inv = machine.invariants[inv_id]
    return lambda pre, args, step: inv(step.post)


def _contract_goal(machine: EnaMachine, contract_id: str) -> Callable:
    return machine.contracts[contract_id].fn


def _init_query(api: SolverAPI, machine: EnaMachine, inv_id: str) -> Query:
    k = _bv(api, "depth_log2")
    state = machine.init(k)
    goal = _goal(lambda: machine.invariants[inv_id](state), _bv(api, "i"))
    return Query([machine.log2_ok(k)], goal, "valid", {"init": {"depth_log2": k}},
                 minimize=[api.BV2Int(k)])


def _vacuity_init_query(api: SolverAPI, machine: EnaMachine) -> Query:
    k = _bv(api, "depth_log2")
    state = machine.init(k)
    goal = _goal(lambda: machine.holds(state), _bv(api, "i"))
    return Query([machine.log2_ok(k)], goal, "sat", {"init": {"depth_log2": k}},
                 minimize=[api.BV2Int(k)])


def _vacuity_guard_query(api: SolverAPI, machine: EnaMachine, t: Transition) -> Query:
    pre, args, step, _, named = _pre_step(api, machine, t, t.fn)
    return Query(
        [*pre.constraints, *args.constraints, *named.values()], step.guard, "sat",
        {"pre": _shown(api, machine, pre.variables), "args": dict(args.variables)},
        minimize=_minimize(api, pre, args.variables),
    )


def machine_obligations(machine: EnaMachine) -> Iterator[Obligation]:
    m = machine.name
    for inv in machine.invariants.values():
        yield Obligation(f"{m}/init/{inv.id}", "init", "proved",
                         partial(_init_query, machine=machine, inv_id=inv.id), m,
                         invariant=inv.id)
    yield Obligation(f"{m}/vacuity-init", "vacuity-init", "proved",
                     partial(_vacuity_init_query, machine=machine), m)
    for t in machine.transitions.values():
        yield Obligation(f"{m}/vacuity-guard/{t.name}", "vacuity-guard", "proved",
                         partial(_vacuity_guard_query, machine=machine, t=t), m,
                         transition=t.name)
        for inv in machine.invariants.values():
            finding = inv.id in t.breaks
            yield Obligation(
                f"{m}/step/{t.name}/{inv.id}", "step", "refuted" if finding else "proved",
                partial(_refuting(machine) if finding else _step_query, machine=machine,
                        transition=t, fn=t.fn, goal_of=_invariant_goal(machine, inv.id)),
                m, invariant=inv.id, transition=t.name,
                note="as-shipped finding" if finding else "",
            )
        for c in machine.contracts.values():
            if t.name not in c.transitions:
                continue
            finding = t.name in c.breaks
            yield Obligation(
                f"{m}/contract/{t.name}/{c.id}", "contract", "refuted" if finding else "proved",
                partial(_refuting(machine) if finding else _step_query, machine=machine,
                        transition=t, fn=t.fn,
                        goal_of=_contract_goal(machine, c.id)),
                m, invariant=c.id, transition=t.name,
                note="as-shipped finding" if finding else "",
            )


def mutant_obligations(machine: EnaMachine) -> Iterator[Obligation]:
    m = machine.name
    for mut in machine.mutants.values():
        goal_of = (_contract_goal(machine, mut.invariant) if mut.invariant in machine.contracts
                   else _invariant_goal(machine, mut.invariant))
        yield Obligation(
            f"{m}/mutant/{mut.id}", "mutant", "refuted",
            partial(_refuting(machine), machine=machine,
                    transition=machine.transitions[mut.replaces],
                    fn=mut.fn, goal_of=goal_of),
            m, invariant=mut.invariant, transition=mut.replaces, note=mut.doc,
        )


# ---------------------------------------------------------------------------- abstraction


def _abstraction_goal(claim: str, view: Callable[[Any], NetmapTxView]) -> Callable:
    """The netmap-side claim about one SQ step (see :mod:`model.ena_abstraction`)."""

    def goal(pre: Any, args: dict[str, Term], step: Step) -> Term:
        v, w = view(pre), view(step.post)
        space = ring_dist(v.hwcur, v.hwtail, v.n)
        if claim == "range":
            return And(v.n >= 2, in_range(v.hwcur, v.n), in_range(v.hwtail, v.n))
        if claim == "space":
            return Eq(space, to_int(free_q_entries(pre)))
        if claim == "produce":
            return And(Eq(step.guard, space >= 1),
                       Implies(step.guard, And(Eq(w.hwcur, ring_next(v.hwcur, v.n)),
                                               Eq(w.hwtail, v.hwtail))))
        assert claim == "reclaim", claim
        return Implies(step.guard, And(
            Eq(w.hwcur, v.hwcur), Eq(ring_dist(v.hwtail, w.hwtail, v.n), to_int(args["n"])),
            Eq(ring_dist(w.hwcur, w.hwtail, v.n), to_int(free_q_entries(step.post)))))

    return goal


#: claim -> the SQ transition it is about (``range`` and ``space`` hold of any state: the
#: doorbell, which moves neither counter, stands in as the step)
ABSTRACTION_CLAIMS = {"range": "sq_doorbell", "space": "sq_doorbell",
                      "produce": "sq_produce", "reclaim": "sq_comp_ack"}


def _hwtail_at_next_to_comp(s: Any) -> NetmapTxView:
    """A wrong abstraction: hwtail = next_to_comp & mask (forgets the gap)."""
    v = netmap_view(s)
    return NetmapTxView(v.n, v.hwcur, to_int(slot(s.next_to_comp, s.depth_log2)))


def _hwtail_unmasked(s: Any) -> NetmapTxView:
    """A wrong abstraction: hwtail = next_to_comp - 1 without the mask (not a slot)."""
    v = netmap_view(s)
    return NetmapTxView(v.n, v.hwcur, to_int(sub16(s.next_to_comp, 1)))


def _produce_two(s: Any) -> Step:
    """The driver's tail advances by two entries for one written."""
    step = model.ena_queue.SQ.transitions["sq_produce"].fn(s)
    return Step(step.guard, step.post.replace(tail=add16(step.post.tail, 1)))


def _comp_ack_one_more(s: Any, n: Term) -> Step:
    """ena_com_comp_ack returns one entry more than it was given."""
    step = model.ena_queue.SQ.transitions["sq_comp_ack"].fn(s, n)
    return Step(step.guard, step.post.replace(next_to_comp=add16(step.post.next_to_comp, 1)))


#: mutant id -> (claim it must break, the step it runs, the abstraction it uses)
ABSTRACTION_MUTANTS: dict[str, tuple[str, str, Callable, Callable]] = {
    "abstraction-hwtail-unmasked": ("range", "sq_doorbell", None, _hwtail_unmasked),
    "abstraction-hwtail-at-next-to-comp": ("space", "sq_doorbell", None,
                                           _hwtail_at_next_to_comp),
    "abstraction-produce-advances-two": ("produce", "sq_produce", _produce_two, netmap_view),
    "abstraction-comp-ack-one-more": ("reclaim", "sq_comp_ack", _comp_ack_one_more,
                                      netmap_view),
}


def abstraction_obligations() -> Iterator[Obligation]:
    """The SQ's u16 counters refine netmap's TX kring pointers; and a wrong mapping that
    the proofs must refute."""
    sq = model.ena_queue.SQ
    for claim, name in ABSTRACTION_CLAIMS.items():
        t = sq.transitions[name]
        yield Obligation(
            f"ena_sq/abstraction/{claim}", "abstraction", "proved",
            partial(_step_query, machine=sq, transition=t, fn=t.fn,
                    goal_of=_abstraction_goal(claim, netmap_view)),
            sq.name, invariant=f"abstraction-{claim}", transition=name,
        )
    for mutant_id, (claim, name, fn, view) in ABSTRACTION_MUTANTS.items():
        t = sq.transitions[name]
        yield Obligation(
            f"ena_sq/mutant/{mutant_id}", "mutant", "refuted",
            partial(_step_query, machine=sq, transition=t, fn=fn or t.fn,
                    goal_of=_abstraction_goal(claim, view)),
            sq.name, invariant=f"abstraction-{claim}", transition=name,
            note=inspect.cleandoc((fn or view).__doc__ or ""),
        )


def ena_obligations() -> list[Obligation]:
    """Every ENA obligation: the machines' own, the abstraction onto netmap, then the
    mutants."""
    obligations: list[Obligation] = []
    for machine in model.ENA_MACHINES:
        obligations.extend(machine_obligations(machine))
    obligations.extend(abstraction_obligations())
    for machine in model.ENA_MACHINES:
        obligations.extend(mutant_obligations(machine))
    return obligations


__all__ = ["abstraction_obligations", "concrete_state", "ena_obligations", "fresh_ena_args",
           "fresh_ena_state", "machine_obligations", "mutant_obligations"]

