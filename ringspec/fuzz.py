"""``ringspec fuzz``: a stateful fuzz campaign of the model against the implementation.

Runs the machines of :mod:`ringspec.stateful` (hardened, as-shipped, or both) with a long,
randomized Hypothesis profile and prints the examples and checked steps run, the rate, how
often each model transition was taken (and which never were), the boundary seeds used,
and the findings: the invariants the as-shipped code let the user break, and any failure
of the hardened one
(Hypothesis prints it as a minimal program).  For hours-long, coverage-guided campaigns
run the same machines under HypoFuzz: ``hypothesis fuzz -- tests/stateful``.
"""

from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from ringspec import stateful

POLICIES = {"hardened": stateful.HardenedRings, "as_shipped": stateful.AsShippedRings}


def transitions_for(policy: str) -> list[str]:
    """Every model transition a machine of this policy can take, plus the slot scribble
    (which the model does not see), as ``kind.transition``."""
    other = "_hardened" if policy == "as_shipped" else "_as_shipped"
    names = [f"{kind}.{t}" for kind, machine in stateful.KINDS.items()
             for t in machine.transitions if not t.endswith(other)]
    return names + [f"{kind}.scribble_slot" for kind in stateful.KINDS]


def campaign(policy: str, examples: int, steps: int) -> tuple[float, Exception | None]:
    machine = POLICIES[policy]
    config = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    start = time.perf_counter()
    failure: Exception | None = None
    try:
        run_state_machine_as_test(machine, settings=config)
    except Exception as exc:  # the failing program was printed by Hypothesis
        failure = exc
    return time.perf_counter() - start, failure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ringspec fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", choices=[*POLICIES, "both"], default="both")
    parser.add_argument("--examples", type=int, default=500, help="examples per policy")
    parser.add_argument("--steps", type=int, default=100, help="max steps per example")
    args = parser.parse_args(argv)

    policies = list(POLICIES) if args.policy == "both" else [args.policy]
    failed = False
    for policy in policies:
        for counter in stateful.STATS.values():
            counter.clear()
        seconds, failure = campaign(policy, args.examples, args.steps)
        rules = stateful.STATS["rules"]
        steps = sum(rules.values())
        print(f"== {policy}: {args.examples} examples, {steps} checked steps in {seconds:.1f} s "
              f"({steps / seconds:.0f} steps/s)")
        relevant = transitions_for(policy)
        for rule in relevant:
            print(f"   {rule:<24} {rules.get(rule, 0):>8}")
        never = [r for r in relevant if not rules.get(r)]
        print(f"   transitions never taken: {', '.join(never) or 'none'}")
        starts = stateful.STATS["starts"]
        print("   starts: " + ", ".join(f"{k} {v}" for k, v in sorted(starts.items())))
        findings = stateful.STATS["findings"]
        if findings:
            print("   as-shipped admitted (state-steps violating each invariant): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(findings.items())))
        else:
            print("   findings: none")
        if failure is not None:
            failed = True
            print(f"   FAILURE: {type(failure).__name__}: {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
