"""``ringspec prove``: discharge every obligation, print the table, the mutants each
invariant kills, the findings with their counterexamples, and exit 0 only when every
obligation meets its expectation, every mutant is killed and nothing is unknown."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from proofs.obligations import Obligation
from proofs.parallel import default_jobs, discharge_all
from proofs.solve import DEFAULT_RLIMIT, SOLVERS, Result
from proofs.suite import all_obligations, checked_ids


@dataclass
class Report:
    results: list[Result]
    second: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    complete: bool = True  # every obligation ran (no --only filter)
    reseeded: list[list[Result]] = field(default_factory=list)  # z3 runs with seeds 1..K-1

    @property
    def seed_disagreements(self) -> list[str]:
        """Obligations whose result changed with z3's random seed."""
        return [r.obligation.id for run in self.reseeded for r, first in
                zip(run, self.results, strict=True) if r.result != first.result]

    def seed_spread(self) -> dict[str, Any]:
        runs = [self.results, *self.reseeded]
        totals = [sum(r.seconds for r in run) for run in runs]
        efforts = [sum(r.rlimit for r in run) for run in runs]
        slowest = [max((r.seconds for r in run), default=0.0) for run in runs]
        return {
            "seeds": len(runs),
            "total_seconds": [round(t, 3) for t in totals],
            "total_rlimit": efforts,
            "slowest_obligation_seconds": [round(t, 4) for t in slowest],
            "results_agree": not self.seed_disagreements,
        }

    @property
    def disagreements(self) -> list[tuple[Result, Result]]:
        if not self.second:
            return []
        return [(a, b) for a, b in zip(self.results, self.second, strict=True)
                if a.result != b.result]

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results + self.second if not r.ok]

    @property
    def unknown(self) -> list[Result]:
        return [r for r in self.results + self.second if r.result == "unknown"]

    @property
    def mutants(self) -> list[Result]:
        return [r for r in self.results if r.obligation.kind == "mutant"]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.disagreements and not self.seed_disagreements

    def uncovered_invariants(self) -> list[str]:
        """Invariant IDs with no killed mutant (each must have at least one)."""
        if not self.complete:
            return []
        killed = {r.obligation.invariant for r in self.mutants if r.result == "refuted"}
        return [i for i in checked_ids() if i not in killed]

    def as_json(self) -> dict[str, Any]:
        obligations = []
        for i, r in enumerate(self.results):
            row = r.as_json()
            if self.second:
                other = self.second[i]
                row["solvers"] = {r.solver: r.result, other.solver: other.result}
                row["agree"] = r.result == other.result
            obligations.append(row)
        return {
            "obligations": obligations,
            "mutants": [
                {
                    "id": r.obligation.id,
                    "invariant": r.obligation.invariant,
                    "result": "killed" if r.result == "refuted" else "survived",
                }
                for r in self.mutants
            ],
            "summary": {
                "obligations": len(self.results),
                "failures": len(self.failures),
                "unknown": len(self.unknown),
                "disagreements": len(self.disagreements),
                "uncovered_invariants": self.uncovered_invariants(),
                "seconds": round(self.seconds, 3),
                "ok": self.ok and not self.uncovered_invariants(),
                **({"seed_spread": self.seed_spread()} if self.reseeded else {}),
            },
        }


def run(
    solvers: tuple[str, ...] = ("z3",),
    rlimit: int = DEFAULT_RLIMIT,
    only: str = "",
    obligations: list[Obligation] | None = None,
    seeds: int = 1,
    jobs: int = 1,
    cores: bool = True,
    minimal_mutants: bool = True,
) -> Report:
    """Discharge the obligations on ``solvers[0]`` (and re-check on ``solvers[1]``); with
    ``seeds > 1`` also re-run them on z3 with random seeds 1..seeds-1; on ``jobs``
    processes; ``cores``: search the unsat cores of the proofs that have none for free
    (what the docs list as the invariants a proof uses); ``minimal_mutants``: shrink
    the counterexamples of killed mutants too (the docs show them)."""
    start = time.perf_counter()
    obs = obligations if obligations is not None else all_obligations()
    obs = [o for o in obs if only in o.id]
    first = discharge_all(obs, solvers[0], rlimit, jobs=jobs, cores=cores,
                          minimal_mutants=minimal_mutants)
    # the re-checks are compared by result only: their models are not minimized
    second = (discharge_all(obs, solvers[1], rlimit, minimize=False, jobs=jobs)
              if len(solvers) > 1 else [])
    reseeded = [discharge_all(obs, "z3", rlimit, seed, minimize=False, jobs=jobs)
                for seed in range(1, seeds)]
    return Report(first, second, time.perf_counter() - start, complete=not only,
                  reseeded=reseeded)


def format_counterexample(cex: dict[str, dict[str, int]]) -> str:
    return "\n".join(
        f"      {group:>15}: " + ", ".join(f"{k}={v}" for k, v in values.items())
        for group, values in cex.items()
    )


def print_table(report: Report, out: Any = None) -> None:
    out = out or sys.stdout
    width = max(len(r.obligation.id) for r in report.results)
    kw = max(len(r.obligation.kind) for r in report.results)
    header = (
        f"{'obligation':<{width}}  {'kind':<{kw}} {'expect':<8} {'result':<8} "
        f"{'rlimit':>9} {'ms':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for i, r in enumerate(report.results):
        mark = "" if r.ok else "   <-- FAIL"
        if report.second and report.second[i].result != r.result:
            mark += f"   <-- {report.second[i].solver} says {report.second[i].result}"
        print(
            f"{r.obligation.id:<{width}}  {r.obligation.kind:<{kw}} {r.obligation.expect:<8} "
            f"{r.result:<8} {r.rlimit:>9} {r.seconds * 1000:>7.1f}{mark}",
            file=out,
        )

    print("\nMutants killed per invariant" + ("" if report.complete else " (partial run)") + ":",
          file=out)
    by_inv: dict[str, list[str]] = defaultdict(list)
    for r in report.mutants:
        name = r.obligation.id.rsplit("/", 1)[-1]
        killed = r.result == "refuted"
        by_inv[r.obligation.invariant].append(name if killed else f"{name} (SURVIVED)")
    for inv in checked_ids():
        if report.complete or inv in by_inv:
            print(f"  {inv:<26} {', '.join(by_inv.get(inv, [])) or 'NONE'}", file=out)

    print("\nMutant counterexamples:", file=out)
    for r in report.mutants:
        print(f"  {r.obligation.id} ({r.obligation.note})", file=out)
        print(format_counterexample(r.counterexample), file=out)

    findings = [r for r in report.results if r.obligation.expect == "refuted"
                and r.obligation.kind != "mutant"]
    print("\nFindings (expected refutations of the as-shipped and legacy code):", file=out)
    for r in findings:
        print(f"  {r.obligation.id}: {r.result}", file=out)
        print(format_counterexample(r.counterexample), file=out)

    kinds: dict[str, int] = defaultdict(int)
    for r in report.results:
        kinds[r.obligation.kind] += 1
    total_rlimit = sum(r.rlimit for r in report.results)
    solvers = " + ".join(filter(None, [report.results[0].solver if report.results else "",
                                       report.second[0].solver if report.second else ""]))
    print(
        f"\n{len(report.results)} obligations ({', '.join(f'{k} {v}' for k, v in kinds.items())}) "
        f"on {solvers}: {len(report.failures)} failing, {len(report.unknown)} unknown, "
        f"{len(report.disagreements)} solver disagreements; total rlimit {total_rlimit}; "
        f"{report.seconds:.2f} s",
        file=out,
    )
    if report.reseeded:
        spread = report.seed_spread()
        print(
            f"z3 random seeds 0..{spread['seeds'] - 1}: total solver seconds "
            f"{min(spread['total_seconds']):.2f}-{max(spread['total_seconds']):.2f}, "
            f"total rlimit {min(spread['total_rlimit'])}-{max(spread['total_rlimit'])}, "
            f"slowest obligation {max(spread['slowest_obligation_seconds']) * 1000:.0f} ms; "
            + ("results identical" if spread["results_agree"] else
               "RESULTS DIFFER: " + ", ".join(report.seed_disagreements)),
            file=out,
        )
    uncovered = report.uncovered_invariants()
    if uncovered:
        print(f"invariants without a killed mutant: {', '.join(uncovered)}", file=out)
    print("PROVE: OK" if report.ok and not uncovered else "PROVE: FAILED", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ringspec prove",
        description="Discharge every obligation of the model (init, steps, prologues, "
        "refinement, anti-vacuity, mutants) and report.",
    )
    parser.add_argument("--json", action="store_true", help="print the machine-readable report")
    parser.add_argument(
        "--solver", choices=SOLVERS, default="z3",
        help="z3 (default) or cvc5: cvc5 re-checks every obligation after z3 and both must agree",
    )
    parser.add_argument("--rlimit", type=int, default=DEFAULT_RLIMIT,
                        help="deterministic resource limit per query")
    parser.add_argument("--only", default="", help="run only obligations whose id contains this")
    parser.add_argument("--seeds", type=int, default=1,
                        help="also re-run on z3 with random seeds 1..SEEDS-1 and report the "
                        "spread of effort and time (results must not change)")
    parser.add_argument("--cores", action="store_true",
                        help="also find, by deletion, the invariants each proof without a "
                        "free unsat core uses (the ENA proofs; the docs list them); slower")
    parser.add_argument("--minimal-mutants", action="store_true",
                        help="also shrink the counterexamples of killed mutants to the "
                        "smallest ring and values (the docs show them); slower")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="solver processes (default: the cores this process may use)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    solvers = ("z3", "cvc5") if args.solver == "cvc5" else ("z3",)
    report = run(solvers, args.rlimit, args.only, seeds=args.seeds, jobs=args.jobs,
                 cores=args.cores, minimal_mutants=args.minimal_mutants)
    if args.json:
        json.dump(report.as_json(), sys.stdout, indent=1)
        print()
    else:
        print_table(report)
    return 0 if report.ok and not report.uncovered_invariants() else 1
