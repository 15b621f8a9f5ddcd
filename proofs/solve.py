"""Discharging one obligation on z3 or cvc5, bounded by a deterministic resource limit.

Each query gets a fresh solver with a resource limit (z3 ``rlimit``, cvc5 ``rlimit-per``),
never a wall-clock timeout, so a run is repeatable; ``unknown`` is reported with the
solver's reason and counts as a failure (a deterministic rlimit, never wall time).

A model is reported minimal: the smallest ring size, then the smallest values (sum of
magnitudes) at that size, found by bounded re-checks of the same query
(:func:`minimal_counterexample`), on z3 and cvc5 alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from proofs.obligations import Obligation

#: Deterministic budget per query.  The largest obligation uses well under 1% of it.
DEFAULT_RLIMIT = 20_000_000

SOLVERS = ("z3", "cvc5")


class ContextAPI:
    """A solver module bound to one context: ``Int`` and ``Solver`` are created in it;
    everything else (``If``, ``And``, ``Not``, ...) is the module's own, which takes the
    context from its operands.  One fresh context per obligation makes the resource count
    exact and the counterexamples independent of what ran before."""

    def __init__(self, module: ModuleType, ctx: Any) -> None:
        self.module = module
        self.ctx = ctx

    def Int(self, name: str) -> Any:
        return self.module.Int(name, self.ctx)

    def Solver(self) -> Any:
        return self.module.Solver(ctx=self.ctx)

    def lift(self, x: Any) -> Any:
        """A term of this context for a model value that evaluated to a Python constant."""
        if isinstance(x, bool):
            return self.module.BoolVal(x, self.ctx)
        if isinstance(x, int):
            return self.module.IntVal(x, self.ctx)
        return x

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


def solver_module(name: str) -> ModuleType:
    if name == "z3":
        import z3

        return z3
    if name == "cvc5":
        try:
            import cvc5.pythonic as cvc5_pythonic
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise SystemExit(
                "cvc5 is not installed: install the test extra (pip install -e '.[test]')"
            ) from exc
        return cvc5_pythonic
    raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}")


@dataclass
class Result:
    obligation: Obligation
    solver: str
    result: str  # "proved", "refuted", "unknown"
    seconds: float
    rlimit: int
    counterexample: dict[str, dict[str, int]] = field(default_factory=dict)
    reason: str = ""
    depends_on: list[str] = field(default_factory=list)  # invariants in the unsat core

    @property
    def ok(self) -> bool:
        return self.result == self.obligation.expect

    def as_json(self) -> dict[str, Any]:
        ob = self.obligation
        out: dict[str, Any] = {
            "id": ob.id,
            "kind": ob.kind,
            "result": self.result,
            "expect": ob.expect,
            "seconds": round(self.seconds, 4),
            "rlimit": self.rlimit,
        }
        if self.counterexample:
            out["counterexample"] = self.counterexample
        if self.reason:
            out["reason"] = self.reason
        if self.depends_on:
            out["depends_on"] = self.depends_on
        return out


def solver_api(name: str) -> ContextAPI:
    """The solver module for ``name`` with a fresh context (z3) for one obligation."""
    module = solver_module(name)
    return ContextAPI(module, module.Context() if name == "z3" else None)


def _resource_used(name: str, solver: Any) -> int:
    if name == "z3":
        stats = solver.statistics()
        keys = stats.keys()  # z3's Statistics has no __contains__
        return int(stats.get_key_value("rlimit count")) if "rlimit count" in keys else 0
    stats = solver.solver.getStatistics().get(True, True)
    return int(stats.get("resource::resourceUnitsUsed", {}).get("value", 0))


def _as_int(value: Any) -> int:
    return value.as_long() if hasattr(value, "as_long") else int(str(value))


def _values(solver: Any, query: Any) -> dict[str, dict[str, int]]:
    """The watched terms' values in the solver's current model (read while it is sat:
    cvc5 evaluates lazily against the solver)."""
    m = solver.model()
    return {
        group: {k: v if isinstance(v, int) else _as_int(m.eval(v, model_completion=True))
                for k, v in terms.items()}
        for group, terms in query.watch.items()
    }


def unknowns(api: Any, query: Any) -> tuple[Any, list[Any]]:
    """The query's own unknowns among its watched terms (solver constants, each once):
    the ring size (the one named ``n``, or None) and the others, in watch order."""
    size, rest, seen = None, [], set()
    for terms in query.watch.values():
        for k, t in terms.items():
            if isinstance(t, int) or not api.is_const(t) or api.is_int_value(t):
                continue
            if str(t) in seen:
                continue
            seen.add(str(t))
            if k == "n" and size is None:
                size = t
            else:
                rest.append(t)
    return size, rest


def magnitude(api: Any, terms: list[Any]) -> Any:
    """Sum of |t| over ``terms``: the measure a minimal counterexample minimises."""
    return api.Sum([api.If(t >= 0, t, -t) for t in terms]) if terms else None


@dataclass
class Session:
    """One obligation's query loaded into a fresh solver: premises, the negated goal
    (``valid``) or the goal (``sat``), and on z3 each named invariant behind an assumption
    literal so that an unsat core can cite it.  :meth:`sat` re-asks it under extra
    constraints (push/pop, same rlimit per check)."""

    api: ContextAPI
    query: Any
    solver: Any
    assumptions: list[Any]
    tracked: dict[str, str]

    def check(self) -> str:
        return str(self.solver.check(*self.assumptions))

    def sat(self, *extra: Any) -> bool:
        """Whether a model exists with ``extra`` added (``unknown`` counts as no)."""
        self.solver.push()
        self.solver.add(*[self.api.lift(e) for e in extra])
        found = self.check() == "sat"
        self.solver.pop()
        return found


def open_session(
    ob: Obligation, solver_name: str = "z3", rlimit: int = DEFAULT_RLIMIT, seed: int = 0
) -> Session:
    """Build ``ob``'s query on ``solver_name`` in a fresh context, bounded by ``rlimit``."""
    api = solver_api(solver_name)
    query = ob.build(api)
    solver = api.Solver()
    if solver_name == "z3":
        solver.set("rlimit", rlimit)
        if seed:
            solver.set("random_seed", seed)
    else:
        solver.set("rlimit-per", rlimit)
        solver.set("arrays-exp", True)  # constant arrays and lambdas (the ENA init states)
    solver.add(*[api.lift(p) for p in query.premises])
    goal = api.lift(query.goal)
    solver.add(api.Not(goal) if query.mode == "valid" else goal)
    tracked: dict[str, str] = {}
    if solver_name == "z3" and query.track_named:  # each premise named, for the unsat core
        solver.set("core.minimize", True)
        for name, term in query.named.items():
            literal = api.Bool(f"assume:{name}", api.ctx)
            tracked[str(literal)] = name
            solver.add(api.Implies(literal, api.lift(term)))
    else:  # cvc5.pythonic has no unsat cores: plain premises
        solver.add(*[api.lift(t) for t in query.named.values()])
    assumptions = [api.Bool(lit, api.ctx) for lit in tracked]
    return Session(api, query, solver, assumptions, tracked)


def _at_most(session: Session, term: Any, v: int) -> int | None:
    """``term``'s value in a model with ``term <= v``, or None if there is none (or the
    solver gives up)."""
    session.solver.push()
    session.solver.add(session.api.lift(term <= v))
    found = session.check() == "sat"
    value = _as_int(session.solver.model().eval(term, model_completion=True)) if found else None
    session.solver.pop()
    return value


def _least(session: Session, term: Any, hi: int) -> int:
    """The least v in [0, hi] with the query still sat under ``term <= v`` (sat at hi):
    probes 0, 1, 3, 7, ... below hi, then bisects the last gap; a sat answer lowers hi to
    the value ``term`` has in its model (often well below the probe).  An ``unknown``
    counts as unsat, so the answer is never below a value the solver could not confirm."""
    below, probe = -1, 0
    while probe < hi:
        found = _at_most(session, term, probe)
        if found is not None:
            hi = found
            break
        below, probe = probe, 2 * probe + 1
    while below + 1 < hi:
        mid = (below + hi) // 2
        found = _at_most(session, term, mid)
        if found is not None:
            hi = found
        else:
            below = mid
    return hi


def objectives(session: Session) -> list[Any]:
    """What a reported model minimises, in order: the ring size N (if the query names
    one), then the sum of the magnitudes of the other unknowns; or the query's own
    ``minimize`` list (the ENA bit-vector queries: depth, then the unsigned values)."""
    if session.query.minimize is not None:
        return session.query.minimize
    size, rest = unknowns(session.api, session.query)
    return [t for t in (size, magnitude(session.api, rest)) if t is not None]


def minimal_counterexample(session: Session) -> dict:
    """The model to report, made minimal (:func:`objectives`): first the smallest ring
    size N, then, at that N, the smallest sum of the magnitudes of the other unknowns.
    So no model has a smaller N, and none at this N has one unknown smaller with the
    others unchanged.  Each goal in turn is bisected by bounded re-checks
    (:func:`_least`, the same rlimit per check, on z3 and cvc5 alike: cvc5's Python API
    has no optimizer, and z3's Optimize is slower here on the u32 legacy queries) and
    fixed.  Called right after a sat check; if a re-check gives up, the first model is
    reported."""
    solver, query = session.solver, session.query
    goals = objectives(session)
    first = _values(solver, query)
    top = [_as_int(solver.model().eval(g, model_completion=True)) for g in goals[:1]]
    solver.push()
    for i, goal in enumerate(goals):
        if i:
            if session.check() != "sat":
                break
            top = [_as_int(solver.model().eval(goal, model_completion=True))]
        solver.add(goal == _least(session, goal, top[0]))
    found = session.check() == "sat"
    values = _values(solver, query) if found else first
    solver.pop()
    return values


#: Extra rlimit a deletion check gets beyond twice the proof's own effort.
CORE_RLIMIT_SLACK = 1_000_000


def core_by_deletion(session: Session, rlimit: int) -> list[str]:
    """The named premises a proved query needs, without assumption literals (they keep
    z3's bit-vector preprocessing from working on the ENA queries): drop each in turn and
    keep it dropped if the query stays unsat within ``rlimit``.  Minimal: none of the
    names it returns can go on its own.  Each check is a new solver over the terms the
    session already built."""
    api, query = session.api, session.query
    goal = api.lift(query.goal)
    base = [*[api.lift(p) for p in query.premises],
            api.Not(goal) if query.mode == "valid" else goal]
    kept = list(query.named)
    for name in list(kept):
        solver = api.Solver()
        solver.set("rlimit", rlimit)
        solver.add(*base, *[api.lift(query.named[n]) for n in kept if n != name])
        if str(solver.check()) == "unsat":
            kept.remove(name)
    return sorted(kept)


def discharge(
    ob: Obligation, solver_name: str = "z3", rlimit: int = DEFAULT_RLIMIT, seed: int = 0,
    minimize: bool = True, cores: bool = True,
) -> Result:
    """Check one obligation; a model becomes a counterexample dict, minimal
    (:func:`minimal_counterexample`) unless ``minimize`` is off (a re-check whose models
    nobody reads), or a witness dict (an anti-vacuity model, as the solver found it).
    ``seed`` is z3's random seed (to measure how effort and time spread across seeds).
    ``cores`` off skips the deletion search for the invariants a proof without assumption
    literals used (:func:`core_by_deletion`: a re-check per named premise, most of them
    as costly as the proof); the free unsat core of a tracked query is always read."""
    session = open_session(ob, solver_name, rlimit, seed)
    solver, query = session.solver, session.query
    start = time.perf_counter()
    answer = session.check()
    seconds = time.perf_counter() - start
    effort = _resource_used(solver_name, solver)  # before any search for a small model
    model_found = answer == "sat"
    if answer == "unknown":
        result = "unknown"
    elif query.mode == "valid":
        result = "refuted" if model_found else "proved"
    else:
        result = "proved" if model_found else "refuted"
    counterexample: dict[str, dict[str, int]] = {}
    if model_found:
        # a model of a ``valid`` query is a counterexample, reported minimal; one of a
        # ``sat`` query (anti-vacuity) is only the witness that the premises can hold
        smallest = minimize and query.mode == "valid"
        counterexample = (minimal_counterexample(session) if smallest
                          else _values(solver, query))
        if query.present is not None:
            counterexample = query.present(counterexample)
    reason = solver.reason_unknown() if answer == "unknown" else ""
    core = []
    if answer == "unsat" and session.tracked:
        core = sorted(session.tracked[str(c)] for c in solver.unsat_core())
    elif answer == "unsat" and solver_name == "z3" and query.named and cores:
        # a premise the proof needs makes its query sat, usually fast; the bound keeps a
        # hard one from costing more than the proof itself did several times over
        core = core_by_deletion(session, min(rlimit, 2 * effort + CORE_RLIMIT_SLACK))
    return Result(
        ob, solver_name, result, seconds, effort, counterexample, str(reason), core,
    )
