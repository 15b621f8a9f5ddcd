"""What the docs quote as evidence: one z3 proof run, and snippets run against the model.

The proof run happens in a fresh interpreter (``python -m proofs --json --cores
--minimal-mutants``: with the invariants each proof uses, and every counterexample
minimal).  z3's models, and therefore the counterexamples, depend
on every term the process created before, so a run inside a process that already used z3
(a second generation, a test session) could pick different counterexamples; a fresh
process makes the docs the same on every run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import model
from model.core import Machine
from proofs.obligations import Obligation
from proofs.suite import all_obligations

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Row:
    """One obligation with the proof run's answer."""

    obligation: Obligation
    result: str
    rlimit: int
    counterexample: dict[str, dict[str, int]] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()  # the invariants in the proof's unsat core

    @property
    def id(self) -> str:
        return self.obligation.id

    @property
    def ok(self) -> bool:
        return self.result == self.obligation.expect

    @property
    def is_finding(self) -> bool:
        return self.obligation.expect == "refuted" and self.obligation.kind != "mutant"


@dataclass
class Evidence:
    rows: list[Row]
    summary: dict[str, Any]

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.rows}

    @property
    def ok(self) -> bool:
        return bool(self.summary.get("ok")) and all(r.ok for r in self.rows)

    @property
    def mutants(self) -> list[Row]:
        return [r for r in self.rows if r.obligation.kind == "mutant"]

    @property
    def findings(self) -> list[Row]:
        return [r for r in self.rows if r.is_finding]

    def for_machine(self, machine: Machine) -> list[Row]:
        return [r for r in self.rows if r.obligation.machine == machine.name]


def run_proofs() -> Evidence:
    """Run ``python -m proofs --json --cores --minimal-mutants`` in a fresh interpreter
    and join it with the obligations' metadata."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "proofs", "--json", "--cores", "--minimal-mutants"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise RuntimeError(f"proof run failed (exit {proc.returncode}):\n{proc.stderr}")
    report = json.loads(proc.stdout)
    obligations = {o.id: o for o in all_obligations()}
    rows = []
    for entry in report["obligations"]:
        ob = obligations.get(entry["id"])
        if ob is None:
            raise RuntimeError(f"proof run reported an unknown obligation {entry['id']!r}")
        rows.append(Row(
            ob, entry["result"], entry["rlimit"], entry.get("counterexample", {}),
            tuple(entry.get("depends_on", ())),
        ))
    if len(rows) != len(obligations):
        raise RuntimeError("proof run and obligation list disagree")
    return Evidence(rows, report["summary"])


def run_snippet(code: str) -> str:
    """Execute a documentation snippet against the model; return what it printed."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<ringspec docs snippet>", "exec"), {"__name__": "__docs__"})
    return buf.getvalue()


def machine_by_name(name: str) -> Machine:
    return next(m for m in model.MACHINES if m.name == name)


def machine_symbol(machine: Machine) -> str:
    """The name ``model`` exports the machine under (``TX``, ``LEGACY_RX``, ...)."""
    return next(k for k, v in vars(model).items() if v is machine and k.isupper())


def state_literal(machine: Machine, values: dict[str, int]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in values.items())
    return f"{machine.state_type.__name__}({args})"


def state_import(machine: Machine) -> str:
    return f"from {machine.state_type.__module__} import {machine.state_type.__name__}"
