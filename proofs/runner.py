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

import model
from proofs.obligations import Obligation, all_obligations
from proofs.solve import DEFAULT_RLIMIT, SOLVERS, Result, discharge


@dataclass
class Report:
    results: list[Result]
    second: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    complete: bool = True  # every obligation ran (no --only filter)

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
        return not self.failures and not self.disagreements

    def uncovered_invariants(self) -> list[str]:
        """Invariant IDs with no killed mutant (each must have at least one)."""
        if not self.complete:
            return []
        killed = {r.obligation.invariant for r in self.mutants if r.result == "refuted"}
        return [i for m in model.MACHINES for i in m.invariants if i not in killed]

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
            },
        }


def run(
    solvers: tuple[str, ...] = ("z3",),
    rlimit: int = DEFAULT_RLIMIT,
    only: str = "",
    obligations: list[Obligation] | None = None,
) -> Report:
    start = time.perf_counter()
    obs = obligations if obligations is not None else all_obligations()
    obs = [o for o in obs if only in o.id]
    first = [discharge(o, solvers[0], rlimit) for o in obs]
    second = [discharge(o, solvers[1], rlimit) for o in obs] if len(solvers) > 1 else []
    return Report(first, second, time.perf_counter() - start, complete=not only)


def format_counterexample(cex: dict[str, dict[str, int]]) -> str:
    return "\n".join(
        f"      {group:>15}: " + ", ".join(f"{k}={v}" for k, v in values.items())
        for group, values in cex.items()
    )


def print_table(report: Report, out: Any = None) -> None:
    out = out or sys.stdout
    width = max(len(r.obligation.id) for r in report.results)
    header = (
        f"{'obligation':<{width}}  {'kind':<22} {'expect':<8} {'result':<8} "
        f"{'rlimit':>9} {'ms':>7}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for i, r in enumerate(report.results):
        mark = "" if r.ok else "   <-- FAIL"
        if report.second and report.second[i].result != r.result:
            mark += f"   <-- {report.second[i].solver} says {report.second[i].result}"
        print(
            f"{r.obligation.id:<{width}}  {r.obligation.kind:<22} {r.obligation.expect:<8} "
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
    for machine in model.MACHINES:
        for inv in machine.invariants:
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
    args = parser.parse_args(argv)
    solvers = ("z3", "cvc5") if args.solver == "cvc5" else ("z3",)
    report = run(solvers, args.rlimit, args.only)
    if args.json:
        json.dump(report.as_json(), sys.stdout, indent=1)
        print()
    else:
        print_table(report)
    return 0 if report.ok and not report.uncovered_invariants() else 1
