"""Discharge obligations on several cores.

An obligation holds closures over the model (not picklable), so the workers are forked
with the list already in memory and receive only indices; a worker sends back its
:class:`~proofs.solve.Result` without the obligation, and the parent puts it back.  Each
query runs in its own solver context either way, so the results are those of a serial run.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os

from proofs.obligations import Obligation
from proofs.solve import Result, discharge

_WORK: list[Obligation] = []


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def _discharge_at(task: tuple[int, str, int, int, bool, bool]) -> Result:
    index, solver_name, rlimit, seed, minimize, cores = task
    result = discharge(_WORK[index], solver_name, rlimit, seed, minimize, cores)
    return dataclasses.replace(result, obligation=None)  # type: ignore[arg-type]


def discharge_all(obligations: list[Obligation], solver_name: str, rlimit: int,
                  seed: int = 0, minimize: bool = True, jobs: int = 1,
                  cores: bool = True, minimal_mutants: bool = True) -> list[Result]:
    """:func:`~proofs.solve.discharge` over ``obligations``, in order, on ``jobs``
    processes (1: in this process).  ``minimal_mutants`` off: a killed mutant's
    counterexample is reported as the solver found it (shrinking them is most of the
    cost of a proof run, and only the docs show them)."""
    shrink = [minimize and (minimal_mutants or o.kind != "mutant") for o in obligations]
    if jobs <= 1 or len(obligations) < 2:
        return [discharge(o, solver_name, rlimit, seed, m, cores)
                for o, m in zip(obligations, shrink, strict=True)]
    global _WORK
    _WORK = obligations
    tasks = [(i, solver_name, rlimit, seed, shrink[i], cores) for i in range(len(obligations))]
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_discharge_at, tasks, chunksize=1)
    finally:
        _WORK = []
    return [dataclasses.replace(r, obligation=o) for r, o in zip(results, obligations, strict=True)]
