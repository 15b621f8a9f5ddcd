"""Discharging one obligation on z3 or cvc5, bounded by a deterministic resource limit.

Each query gets a fresh solver with a resource limit (z3 ``rlimit``, cvc5 ``rlimit-per``),
never a wall-clock timeout, so a run is repeatable; ``unknown`` is reported with the
solver's reason and counts as a failure (a deterministic rlimit, never wall time).
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


#: Ring sizes tried, smallest first, for a counterexample that can be replayed on a real
#: ring (the proof itself is for every N >= 2; this only picks which model to print).
SMALL_RING_SIZES = (8, 64)


def _values(solver: Any, query: Any) -> dict[str, dict[str, int]]:
    """The watched terms' values in the solver's current model (read while it is sat:
    cvc5 evaluates lazily against the solver)."""
    m = solver.model()
    return {
        group: {k: v if isinstance(v, int) else _as_int(m.eval(v, model_completion=True))
                for k, v in terms.items()}
        for group, terms in query.watch.items()
    }


def _small_counterexample(solver: Any, query: Any, assumptions: list[Any]) -> dict:
    """The counterexample, re-asked with the ring size bounded (N <= 8, then 64) when it
    names a size, so that it fits an implementation ring."""
    sizes = [t for group in query.watch.values() for k, t in group.items()
             if k == "n" and not isinstance(t, int)]
    for bound in SMALL_RING_SIZES if sizes else ():
        solver.push()
        solver.add(sizes[0] <= bound)
        found = str(solver.check(*assumptions)) == "sat"
        values = _values(solver, query) if found else {}
        solver.pop()
        if found:
            return values
    solver.check(*assumptions)
    return _values(solver, query)


def discharge(
    ob: Obligation, solver_name: str = "z3", rlimit: int = DEFAULT_RLIMIT, seed: int = 0
) -> Result:
    """Check one obligation; a model becomes a counterexample (or witness) dict.  ``seed``
    is z3's random seed (to measure how effort and time spread across seeds)."""
    api = solver_api(solver_name)
    query = ob.build(api)
    solver = api.Solver()
    if solver_name == "z3":
        solver.set("rlimit", rlimit)
        if seed:
            solver.set("random_seed", seed)
    else:
        solver.set("rlimit-per", rlimit)
    solver.add(*[api.lift(p) for p in query.premises])
    goal = api.lift(query.goal)
    solver.add(api.Not(goal) if query.mode == "valid" else goal)
    tracked: dict[str, str] = {}
    if solver_name == "z3":  # name each invariant premise so the unsat core can cite it
        solver.set("core.minimize", True)
        for name, term in query.named.items():
            literal = api.Bool(f"assume:{name}", api.ctx)
            tracked[str(literal)] = name
            solver.add(api.Implies(literal, api.lift(term)))
    else:  # cvc5.pythonic has no unsat cores: plain premises
        solver.add(*[api.lift(t) for t in query.named.values()])
    start = time.perf_counter()
    assumptions = [api.Bool(lit, api.ctx) for lit in tracked]
    answer = str(solver.check(*assumptions))
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
        counterexample = _small_counterexample(solver, query, assumptions)
    reason = solver.reason_unknown() if answer == "unknown" else ""
    core = []
    if answer == "unsat" and tracked:
        core = sorted(tracked[str(c)] for c in solver.unsat_core())
    return Result(
        ob, solver_name, result, seconds, effort, counterexample, str(reason), core,
    )
