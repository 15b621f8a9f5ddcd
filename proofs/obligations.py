"""Every proof obligation, discovered from the model.

An obligation builds, for a solver API, a :class:`Query`: premises, a goal and a mode.
``valid`` queries assert the premises and the negated goal: unsat means *proved*, a model
is a counterexample (*refuted*).  ``sat`` queries (anti-vacuity) assert premises and goal:
a model is the witness that makes the check meaningful (*proved*); unsat means the guard or
init can never hold (*refuted*).

Kinds, per machine (reference/formal-practice.md, "Anti-vacuity"):

* ``init``          Init => Inv, per invariant.
* ``vacuity-init``  Init and Inv satisfiable together.
* ``vacuity-guard`` Inv and the guard of each transition satisfiable.
* ``step``          Inv and guard and step => Inv', per (transition x invariant).  A
                    transition's ``breaks`` set (the as-shipped findings) flips the
                    expectation to ``refuted`` for exactly those invariants.
* ``mutant``        as ``step`` (or ``init``) with the mutant in place: must be refuted.

and across machines: ``prologue-complete``, ``prologue-sound-accept``,
``prologue-sound-reject`` for both policies, and the legacy/modern ``refinement`` family.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    return Query([n >= machine.min_n], goal_of(state), "valid", {"init": state_fields(state)})


def machine_obligations(machine: Machine) -> Iterator[Obligation]:
    m = machine.name
    for inv in machine.invariants.values():
        yield Obligation(
            f"{m}/init/{inv.id}", "init", "proved",
            lambda api, inv=inv: _init_query(api, machine, machine.init, inv),
            m, invariant=inv.id,
        )

    def vacuity_init(api: SolverAPI) -> Query:
        q = _init_query(api, machine, machine.init, machine.holds)
        return Query(q.premises, q.goal, "sat", q.watch)

    yield Obligation(f"{m}/vacuity-init", "vacuity-init", "proved", vacuity_init, m)

    for t in machine.transitions.values():

        def vacuity_guard(api: SolverAPI, t: Transition = t) -> Query:
            pre = fresh_state(api, machine, "pre")
            args = fresh_args(api, t, pre.state.n, "arg")
            premises = [
                *pre.constraints,
                *args.constraints,
                _premise(machine, pre.state, user_view=t.view == "keeps"),
            ]
            goal = t(pre.state, **args.variables).guard
            return Query(premises, goal, "sat", {"pre": pre.variables, "args": args.variables})

        yield Obligation(
            f"{m}/vacuity-guard/{t.name}", "vacuity-guard", "proved", vacuity_guard, m,
            transition=t.name,
        )
        for inv in machine.invariants.values():
            if inv.scope == "user" and t.view == "breaks":
                continue
            yield Obligation(
                f"{m}/step/{t.name}/{inv.id}",
                "step",
                "refuted" if inv.id in t.breaks else "proved",
                lambda api, t=t, inv=inv: _step_query(api, machine, t, t.fn, inv.id),
                m, invariant=inv.id, transition=t.name,
                note="as-shipped finding" if inv.id in t.breaks else "",
            )


def mutant_obligations(machine: Machine) -> Iterator[Obligation]:
    m = machine.name
    for mut in machine.mutants.values():
        inv = machine.invariants[mut.invariant]
        if mut.replaces == "init":

            def build(api: SolverAPI, mut=mut, inv=inv) -> Query:
                return _init_query(api, machine, mut.fn, inv)

        else:

            def build(api: SolverAPI, mut=mut) -> Query:
                t = machine.transitions[mut.replaces]
                return _step_query(api, machine, t, mut.fn, mut.invariant)

        yield Obligation(
            f"{m}/mutant/{mut.id}", "mutant", "refuted", build, m,
            invariant=mut.invariant, transition=mut.replaces, note=mut.doc,
        )


# ---------------------------------------------------------------------------- prologues


def prologue_obligations() -> Iterator[Obligation]:
    for machine, prologue in netmap_ring.PROLOGUES.items():
        mach = next(x for x in model.MACHINES if x.name == machine)
        for policy in netmap_ring.POLICIES:
            findings = netmap_ring.PROLOGUE_FINDINGS.get((machine, policy), frozenset())

            def complete(api: SolverAPI, mach=mach, prologue=prologue, policy=policy) -> Query:
                pre = fresh_state(api, mach, "pre")
                accepted, _ = prologue(policy, pre.state)
                premises = [*pre.constraints, mach.holds(pre.state, user_view=True)]
                return Query(premises, accepted, "valid", {"pre": pre.variables})

            def sound_accept(api: SolverAPI, mach=mach, prologue=prologue, policy=policy) -> Query:
                pre = fresh_state(api, mach, "pre")
                accepted, after = prologue(policy, pre.state)
                goal = mach.holds(after, user_view=False)
                return Query(
                    [*pre.constraints, accepted], goal, "valid",
                    {"pre": pre.variables, "after_prologue": state_fields(after)},
                    _named_invariants(mach, pre.state, user_view=False),
                )

            def sound_reject(api: SolverAPI, mach=mach, prologue=prologue, policy=policy) -> Query:
                pre = fresh_state(api, mach, "pre")
                accepted, after = prologue(policy, pre.state)
                repaired = netmap_ring.netmap_ring_reinit(policy, after)
                return Query(
                    [*pre.constraints, api.Not(accepted)],
                    mach.holds(repaired, user_view=True), "valid",
                    {"pre": pre.variables, "after_reinit": state_fields(repaired)},
                    _named_invariants(mach, pre.state, user_view=False),
                )

            for kind, build in (
                ("prologue-complete", complete),
                ("prologue-sound-accept", sound_accept),
                ("prologue-sound-reject", sound_reject),
            ):
                yield Obligation(
                    f"{machine}/{kind}/{policy}", kind,
                    "refuted" if kind in findings else "proved", build, machine,
                    transition=policy,
                    note="as-shipped finding" if kind in findings else "",
                )


# ---------------------------------------------------------------------------- refinement


def refinement_obligations() -> Iterator[Obligation]:
    machines = {x.name: x for x in model.MACHINES}
    for (lname, tname), (mname, mtname, map_args) in netmap_legacy.REFINES.items():
        legacy, modern = machines[lname], machines[mname]
        lt, mt = legacy.transitions[tname], modern.transitions[mtname]

        def simulate(api: SolverAPI, legacy=legacy, lt=lt, mt=mt, map_args=map_args) -> Query:
            pre = fresh_state(api, legacy, "pre")
            args = fresh_args(api, lt, pre.state.n, "arg")
            lstep = lt(pre.state, **args.variables)
            mstep = mt(netmap_legacy.to_modern(pre.state), **map_args(pre.state, **args.variables))
            premises = [
                *pre.constraints, *args.constraints,
                legacy.holds(pre.state, user_view=True), lstep.guard,
            ]
            goal = And(
                mstep.guard,
                netmap_legacy.same_modern(netmap_legacy.to_modern(lstep.post), mstep.post),
            )
            return Query(
                premises, goal, "valid",
                {"pre": pre.variables, "args": args.variables,
                 "legacy_post": state_fields(lstep.post), "modern_post": state_fields(mstep.post)},
            )

        yield Obligation(
            f"{lname}/refinement/{tname}", "refinement", "proved", simulate, lname,
            transition=tname, note=f"refines {mname}.{mtname}",
        )

    for legacy, modern in ((model.LEGACY_TX, model.TX), (model.LEGACY_RX, model.RX)):

        def init_maps(api: SolverAPI, legacy=legacy, modern=modern) -> Query:
            n = api.Int("n")
            goal = netmap_legacy.same_modern(
                netmap_legacy.to_modern(legacy.init(n)), modern.init(n)
            )
            return Query([n >= 2], goal, "valid", {})

        def invariants_map(api: SolverAPI, legacy=legacy, modern=modern) -> Query:
            pre = fresh_state(api, legacy, "pre")
            premises = [*pre.constraints, legacy.holds(pre.state, user_view=True)]
            goal = modern.holds(netmap_legacy.to_modern(pre.state), user_view=True)
            return Query(premises, goal, "valid", {"pre": pre.variables})

        def legacy_roundtrip(api: SolverAPI, legacy=legacy) -> Query:
            pre = fresh_state(api, legacy, "pre")
            back = netmap_legacy.from_modern(netmap_legacy.to_modern(pre.state))
            premises = [*pre.constraints, legacy.holds(pre.state, user_view=True)]
            goal = And(*[a == b for a, b in zip(
                state_fields(back).values(), state_fields(pre.state).values(), strict=True)])
            return Query(premises, goal, "valid", {"pre": pre.variables})

        def modern_roundtrip(api: SolverAPI, legacy=legacy, modern=modern) -> Query:
            pre = fresh_state(api, modern, "pre")
            premises = [
                *pre.constraints, modern.holds(pre.state, user_view=True),
                netmap_legacy.legacy_expressible(pre.state),
            ]
            back = netmap_legacy.to_modern(netmap_legacy.from_modern(pre.state))
            return Query(premises, netmap_legacy.same_modern(back, pre.state), "valid",
                         {"pre": pre.variables})

        for kind, build in (
            ("init", init_maps),
            ("invariants", invariants_map),
            ("roundtrip-legacy", legacy_roundtrip),
            ("roundtrip-modern", modern_roundtrip),
        ):
            yield Obligation(
                f"{legacy.name}/refinement/{kind}", "refinement", "proved", build, legacy.name,
                transition=kind,
            )


def all_obligations() -> list[Obligation]:
    obligations: list[Obligation] = []
    for machine in model.MACHINES:
        obligations.extend(machine_obligations(machine))
    obligations.extend(prologue_obligations())
    obligations.extend(refinement_obligations())
    for machine in model.MACHINES:
        obligations.extend(mutant_obligations(machine))
    return obligations
