"""Every proof obligation, discovered from the model.

An obligation builds, for a solver API, a :class:`Query`: premises, a goal and a mode.
``valid`` queries assert the premises and the negated goal: unsat means *proved*, a model
is a counterexample (*refuted*).  ``sat`` queries (anti-vacuity) assert premises and goal:
a model is the witness that makes the check meaningful (*proved*); unsat means the guard or
init can never hold (*refuted*).

Kinds, per machine (anti-vacuity: a proof that cannot fail proves nothing):

* ``init``          Init => Inv, per invariant.
* ``vacuity-init``  Init and Inv satisfiable together.
* ``vacuity-guard`` Inv and the guard of each transition satisfiable.
* ``total``         kernel steps: the kernel invariants imply the guard (the C returns),
                    refuted exactly for a transition marked ``may_hang``.
* ``step``          Inv and guard and step => Inv', per (transition x invariant).  A
                    transition's ``breaks`` set (the as-shipped findings) flips the
                    expectation to ``refuted`` for exactly those invariants.
* ``mutant``        as ``step`` (or ``init``) with the mutant in place: must be refuted.

and across machines: ``prologue-complete``, ``prologue-sound-accept``,
``prologue-sound-reject``, ``prologue-reject-keeps-kring`` and
``prologue-reject-keeps-tail`` (what a refused prologue leaves for reinit) for both
policies, and the legacy/modern ``refinement`` family.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import model
from model import netmap_legacy, netmap_ring
from model.core import And, Machine, Term, Transition, state_fields
from proofs.symbolic import SolverAPI, fresh_args, fresh_state


@dataclass
class Query:
    """``premises`` and the ``named`` premises (invariants, tracked so that the solver can
    say which of them a proof needed: its unsat core), a goal, and the terms whose values
    make up a counterexample (``watch``)."""

    premises: list[Term]
    goal: Term
    mode: str  # "valid" or "sat"
    watch: dict[str, dict[str, Term]] = field(default_factory=dict)
    named: dict[str, Term] = field(default_factory=dict)
    #: integer terms a counterexample minimises, in order (default: the ring size ``n``,
    #: then the sum of the magnitudes of the other unknowns; see proofs.solve.objectives)
    minimize: list[Term] | None = None
    #: z3 tracks each named premise behind an assumption literal (its unsat core is then
    #: free).  False: plain premises, and the core is found by deletion afterwards
    #: (proofs.solve.core_by_deletion): assumptions put z3 in its incremental core, which
    #: gives up on the ENA bit-vector queries that it proves in milliseconds without them.
    track_named: bool = True
    #: rewrites a counterexample before it is reported (the ENA queries drop the array
    #: entries past the depth the solver chose)
    present: Callable[[dict[str, dict[str, int]]], dict[str, dict[str, int]]] | None = None


@dataclass(frozen=True)
class Obligation:
    id: str
    kind: str
    expect: str  # "proved" or "refuted"
    build: Callable[[SolverAPI], Query]
    machine: str
    invariant: str = ""
    transition: str = ""
    note: str = ""


def _premise(machine: Machine, state: Any, *, user_view: bool) -> Term:
    return machine.holds(state, user_view=user_view)


def _named_invariants(machine: Machine, state: Any, *, user_view: bool) -> dict[str, Term]:
    invs = machine.kernel_invariants() + (machine.user_invariants() if user_view else [])
    return {inv.id: inv(state) for inv in invs}


def _step_query(
    api: SolverAPI, machine: Machine, transition: Transition, fn: Callable, inv_id: str
) -> Query:
    inv = machine.invariants[inv_id]
    pre = fresh_state(api, machine, "pre")
    args = fresh_args(api, transition, pre.state.n, "arg")
    step = fn(pre.state, **args.variables)
    assume_view = inv.scope == "user" and transition.view == "keeps"
    return Query(
        [*pre.constraints, *args.constraints, step.guard],
        inv(step.post),
        "valid",
        {"pre": pre.variables, "args": args.variables, "post": state_fields(step.post)},
        _named_invariants(machine, pre.state, user_view=assume_view),
    )


def _init_query(api: SolverAPI, machine: Machine, init: Callable, goal_of: Callable) -> Query:
    n = api.Int("n")
    state = init(n)
    return Query([machine.size_ok(n)], goal_of(state), "valid", {"init": state_fields(state)})


def _vacuity_init_query(api: SolverAPI, machine: Machine) -> Query:
    q = _init_query(api, machine, machine.init, machine.holds)
    return Query(q.premises, q.goal, "sat", q.watch)


def _vacuity_guard_query(api: SolverAPI, machine: Machine, t: Transition) -> Query:
    pre = fresh_state(api, machine, "pre")
    args = fresh_args(api, t, pre.state.n, "arg")
    premises = [
        *pre.constraints,
        *args.constraints,
        _premise(machine, pre.state, user_view=t.view == "keeps"),
    ]
    goal = t(pre.state, **args.variables).guard
    return Query(premises, goal, "sat", {"pre": pre.variables, "args": args.variables})


def _total_query(api: SolverAPI, machine: Machine, t: Transition) -> Query:
    """A kernel step is enabled (the C returns) in every state the kernel invariants allow,
    whatever the user wrote."""
    pre = fresh_state(api, machine, "pre")
    args = fresh_args(api, t, pre.state.n, "arg")
    return Query(
        [*pre.constraints, *args.constraints], t(pre.state, **args.variables).guard, "valid",
        {"pre": pre.variables, "args": args.variables},
        _named_invariants(machine, pre.state, user_view=False),
    )


def machine_obligations(machine: Machine) -> Iterator[Obligation]:
    m = machine.name
    for inv in machine.invariants.values():
        yield Obligation(
            f"{m}/init/{inv.id}", "init", "proved",
            partial(_init_query, machine=machine, init=machine.init, goal_of=inv),
            m, invariant=inv.id,
        )
    yield Obligation(
        f"{m}/vacuity-init", "vacuity-init", "proved",
        partial(_vacuity_init_query, machine=machine), m,
    )
    for t in machine.transitions.values():
        yield Obligation(
            f"{m}/vacuity-guard/{t.name}", "vacuity-guard", "proved",
            partial(_vacuity_guard_query, machine=machine, t=t), m, transition=t.name,
        )
        if t.actor == "kernel":
            yield Obligation(
                f"{m}/total/{t.name}", "total", "refuted" if t.may_hang else "proved",
                partial(_total_query, machine=machine, t=t), m, transition=t.name,
                note="the C may never return" if t.may_hang else "",
            )
        for inv in machine.invariants.values():
            if inv.scope == "user" and t.view == "breaks":
                continue
            yield Obligation(
                f"{m}/step/{t.name}/{inv.id}",
                "step",
                "refuted" if inv.id in t.breaks else "proved",
                partial(_step_query, machine=machine, transition=t, fn=t.fn, inv_id=inv.id),
                m, invariant=inv.id, transition=t.name,
                note="as-shipped finding" if inv.id in t.breaks else "",
            )


def mutant_obligations(machine: Machine) -> Iterator[Obligation]:
    m = machine.name
    for mut in machine.mutants.values():
        if mut.replaces == "init":
            build = partial(
                _init_query, machine=machine, init=mut.fn,
                goal_of=machine.invariants[mut.invariant],
            )
        else:
            build = partial(
                _step_query, machine=machine, transition=machine.transitions[mut.replaces],
                fn=mut.fn, inv_id=mut.invariant,
            )
        yield Obligation(
            f"{m}/mutant/{mut.id}", "mutant", "refuted", build, m,
            invariant=mut.invariant, transition=mut.replaces, note=mut.doc,
        )


# ---------------------------------------------------------------------------- prologues

Prologue = Callable[[str, Any], tuple[Term, Any]]


def _prologue_complete(api: SolverAPI, machine: Machine, prologue: Prologue, policy: str) -> Query:
    """Every state with a consistent user view is accepted."""
    pre = fresh_state(api, machine, "pre")
    accepted = netmap_ring.caller_accepts(prologue(policy, pre.state))
    premises = [*pre.constraints, machine.holds(pre.state, user_view=True)]
    return Query(premises, accepted, "valid", {"pre": pre.variables})


def _prologue_sound_accept(
    api: SolverAPI, machine: Machine, prologue: Prologue, policy: str
) -> Query:
    """After an accepted prologue the driver sees a state satisfying the invariants."""
    pre = fresh_state(api, machine, "pre")
    result = prologue(policy, pre.state)
    after = result[1]
    return Query(
        [*pre.constraints, netmap_ring.caller_accepts(result)],
        machine.holds(after, user_view=False), "valid",
        {"pre": pre.variables, "after_prologue": state_fields(after)},
        _named_invariants(machine, pre.state, user_view=False),
    )


def _prologue_sound_reject(
    api: SolverAPI, machine: Machine, prologue: Prologue, policy: str
) -> Query:
    """After a rejected prologue, reinit restores every invariant, the user view too."""
    pre = fresh_state(api, machine, "pre")
    result = prologue(policy, pre.state)
    repaired = netmap_ring.netmap_ring_reinit(policy, result[1])
    return Query(
        [*pre.constraints, api.Not(netmap_ring.caller_accepts(result))],
        machine.holds(repaired, user_view=True), "valid",
        {"pre": pre.variables, "after_reinit": state_fields(repaired)},
        _named_invariants(machine, pre.state, user_view=False),
    )


def _prologue_reject_keeps(
    api: SolverAPI, machine: Machine, prologue: Prologue, policy: str, fields: tuple[str, ...]
) -> Query:
    """A prologue its caller refuses has not changed ``fields``: what reinit (and, on RX,
    the driver) reads next is what the user and the last sync left.  The premise is only
    the kernel invariants: the user may have written anything."""
    pre = fresh_state(api, machine, "pre")
    ret, after = result = prologue(policy, pre.state)
    goal = And(*[getattr(after, f) == getattr(pre.state, f) for f in fields])
    return Query(
        [*pre.constraints, api.Not(netmap_ring.caller_accepts(result))], goal, "valid",
        {"pre": pre.variables, "after_prologue": state_fields(after),
         "prologue": {"ret": ret}},
        _named_invariants(machine, pre.state, user_view=False),
    )


PROLOGUE_KINDS = {
    "prologue-complete": _prologue_complete,
    "prologue-sound-accept": _prologue_sound_accept,
    "prologue-sound-reject": _prologue_sound_reject,
    "prologue-reject-keeps-kring": partial(_prologue_reject_keeps, fields=("rhead", "rcur")),
    "prologue-reject-keeps-tail": partial(_prologue_reject_keeps, fields=("tail",)),
}


def prologue_obligations() -> Iterator[Obligation]:
    machines = {x.name: x for x in model.MACHINES}
    for name, prologue in netmap_ring.PROLOGUES.items():
        for policy in netmap_ring.POLICIES:
            findings = netmap_ring.PROLOGUE_FINDINGS.get((name, policy), frozenset())
            for kind, builder in PROLOGUE_KINDS.items():
                yield Obligation(
                    f"{name}/{kind}/{policy}", kind,
                    "refuted" if kind in findings else "proved",
                    partial(builder, machine=machines[name], prologue=prologue, policy=policy),
                    name, transition=policy,
                    note="as-shipped finding" if kind in findings else "",
                )


# ---------------------------------------------------------------------------- refinement


def _simulation(
    api: SolverAPI, legacy: Machine, lt: Transition, mt: Transition, map_args: Callable
) -> Query:
    """A legacy step, mapped to the modern API, is the corresponding modern step."""
    pre = fresh_state(api, legacy, "pre")
    args = fresh_args(api, lt, pre.state.n, "arg")
    lstep = lt(pre.state, **args.variables)
    mstep = mt(netmap_legacy.to_modern(pre.state), **map_args(pre.state, **args.variables))
    premises = [
        *pre.constraints, *args.constraints, legacy.holds(pre.state, user_view=True), lstep.guard,
    ]
    goal = And(
        mstep.guard, netmap_legacy.same_modern(netmap_legacy.to_modern(lstep.post), mstep.post)
    )
    return Query(
        premises, goal, "valid",
        {"pre": pre.variables, "args": args.variables,
         "legacy_post": state_fields(lstep.post), "modern_post": state_fields(mstep.post)},
    )


def _init_maps(api: SolverAPI, legacy: Machine, modern: Machine) -> Query:
    """The legacy initial ring maps onto the modern one."""
    n = api.Int("n")
    goal = netmap_legacy.same_modern(netmap_legacy.to_modern(legacy.init(n)), modern.init(n))
    return Query([legacy.size_ok(n), modern.size_ok(n)], goal, "valid", {})


def _invariants_map(api: SolverAPI, legacy: Machine, modern: Machine) -> Query:
    """A legacy state satisfying the legacy invariants maps to one satisfying the modern."""
    pre = fresh_state(api, legacy, "pre")
    premises = [*pre.constraints, legacy.holds(pre.state, user_view=True)]
    goal = modern.holds(netmap_legacy.to_modern(pre.state), user_view=True)
    return Query(premises, goal, "valid", {"pre": pre.variables})


def _legacy_roundtrip(api: SolverAPI, legacy: Machine, modern: Machine) -> Query:
    """legacy -> modern -> legacy is the identity on legacy states."""
    pre = fresh_state(api, legacy, "pre")
    back = netmap_legacy.from_modern(netmap_legacy.to_modern(pre.state))
    premises = [*pre.constraints, legacy.holds(pre.state, user_view=True)]
    goal = And(*[a == b for a, b in zip(
        state_fields(back).values(), state_fields(pre.state).values(), strict=True)])
    return Query(premises, goal, "valid", {"pre": pre.variables})


def _modern_roundtrip(api: SolverAPI, legacy: Machine, modern: Machine) -> Query:
    """modern -> legacy -> modern is the identity on the states legacy can express."""
    pre = fresh_state(api, modern, "pre")
    premises = [
        *pre.constraints, modern.holds(pre.state, user_view=True),
        netmap_legacy.legacy_expressible(pre.state),
    ]
    back = netmap_legacy.to_modern(netmap_legacy.from_modern(pre.state))
    return Query(premises, netmap_legacy.same_modern(back, pre.state), "valid",
                 {"pre": pre.variables})


MAPPING_KINDS = {
    "init": _init_maps,
    "invariants": _invariants_map,
    "roundtrip-legacy": _legacy_roundtrip,
    "roundtrip-modern": _modern_roundtrip,
}


def refinement_obligations() -> Iterator[Obligation]:
    machines = {x.name: x for x in model.MACHINES}
    for (lname, tname), (mname, mtname, map_args) in netmap_legacy.REFINES.items():
        legacy, modern = machines[lname], machines[mname]
        yield Obligation(
            f"{lname}/refinement/{tname}", "refinement", "proved",
            partial(_simulation, legacy=legacy, lt=legacy.transitions[tname],
                    mt=modern.transitions[mtname], map_args=map_args),
            lname, transition=tname, note=f"refines {mname}.{mtname}",
        )
    for legacy, modern in ((model.LEGACY_TX, model.TX), (model.LEGACY_RX, model.RX)):
        for kind, builder in MAPPING_KINDS.items():
            yield Obligation(
                f"{legacy.name}/refinement/{kind}", "refinement", "proved",
                partial(builder, legacy=legacy, modern=modern), legacy.name, transition=kind,
            )


def netmap_obligations() -> list[Obligation]:
    """Every obligation of the netmap machines (:data:`model.MACHINES`)."""
    obligations: list[Obligation] = []
    for machine in model.MACHINES:
        obligations.extend(machine_obligations(machine))
    obligations.extend(prologue_obligations())
    obligations.extend(refinement_obligations())
    for machine in model.MACHINES:
        obligations.extend(mutant_obligations(machine))
    return obligations
