"""Obligations for the NS_FORWARD swap by buffer (model/netmap_forward_swap.py): a
machine whose state holds the slot arrays of two rings, so its queries use solver arrays
(Int -> Int) and quantified invariants, which the netmap machines' obligations
(:mod:`proofs.obligations`, one Int per field) do not.

Kinds, as for the other machines:

* ``init``          the loop's entry state => each invariant.  The entry is any state
                    :func:`model.netmap_forward_swap.loop_entry` builds from any slot
                    contents; premises: the krings' indices are slot indices (the
                    netmap_forward invariant FWD-SHAPE) and, for the user-view
                    invariants, the TX ring agrees with its kring (FWD-TX-VIEW).
* ``vacuity-init``  the entry and every invariant satisfiable together.
* ``vacuity-guard`` the invariants and each iteration's guard satisfiable together.
* ``step``          invariants and guard => each invariant after one iteration.  A
                    kernel invariant is assumed only with the kernel invariants (the
                    TX ring's head, cur and tail may hold anything); a user-view one with
                    all of them.  The iteration's ``breaks`` expect a refutation.
* ``frame``         an iteration writes none of the constant fields (the kring values,
                    the user's tail, the entry snapshot): the snapshot the invariants
                    compare against is the loop's entry, so "permutes the entry
                    buffers" holds across the whole loop.
* ``mutant``        a step with a mutant in place: must be refuted.

The ring sizes ``n`` and ``tn`` are symbolic (any >= 2).  The quantified invariants are
instantiated in the premise at the terms a step touches (the slots and places it reads
and writes, and what the ghosts map them to) and in the goal at one fresh variable: an
unsat answer proves the goal for every slot and place, and the instantiated premise is
implied by the quantified one.  An obligation expected to be refuted (a finding, a
mutant) is asked with every quantifier expanded over all slots at the sizes 2 <= n, tn
<= :data:`EXACT_MAX`, so its counterexample is a real pair of rings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from model.core import U32_MAX, And, Term, Transition, state_fields
from model.netmap_forward_swap import (
    CONSTANT_FIELDS,
    SWAP,
    Swap,
    entry_kring_ok,
    entry_tx_consistent,
    instantiated_at,
    loop_entry,
    select,
)
from model.netmap_forward_swap_mutants import MUTANTS
from proofs.obligations import Obligation, Query
from proofs.symbolic import SolverAPI, SymbolicState

NAME = SWAP.name
#: The largest ring sizes at which a refutation is searched, quantifiers expanded.
EXACT_MAX = 4
#: How many entries of each slot array a counterexample shows.
SHOWN = EXACT_MAX
#: The arrays a counterexample shows (the ghosts are left out).
SHOWN_ARRAYS = ("rx", "rx_len", "rx_flags", "tx", "tx_len", "tx_flags", "rx0", "tx0")


def _array(api: SolverAPI, name: str) -> Term:
    sort = api.IntSort(getattr(api, "ctx", None))
    return api.Array(name, sort, sort)


def _domain(x: Term, domain: str) -> list[Term]:
    if domain == "size":
        return [SWAP.size_ok(x)]
    if domain == "u32":
        return [x >= 0, x <= U32_MAX]
    if domain == "bit":
        return [x >= 0, x <= 1]
    return []


def fresh_swap_state(api: SolverAPI, prefix: str) -> SymbolicState:
    """A state whose scalars are fresh integers and whose arrays are fresh Int -> Int
    arrays, with the bounds of their domains."""
    domains = {v.name: v.domain for v in SWAP.vars}
    values: dict[str, Term] = {}
    constraints: list[Term] = []
    for f in dataclasses.fields(Swap):
        name = f"{prefix}.{f.name}"
        if domains[f.name] == "array":
            values[f.name] = _array(api, name)
            continue
        values[f.name] = x = api.Int(name)
        constraints += _domain(x, domains[f.name])
    return SymbolicState(Swap(**values), constraints, values)


def _fresh_entry(api: SolverAPI) -> tuple[Swap, list[Term], dict[str, Term]]:
    """The loop's entry built by loop_entry from fresh values (the scalars' domains as
    for a state)."""
    pre = fresh_swap_state(api, "entry")
    v = pre.variables
    names = ("n", "tn", "fwd_all", "hwcur", "rhead", "thwcur", "trtail", "thead", "tcur",
             "ttail", "rx", "rx_len", "rx_flags", "tx", "tx_len", "tx_flags")
    state = loop_entry(**{k: v[k] for k in names})
    return state, pre.constraints, {k: v[k] for k in names}


def instances(s: Swap, g: Term) -> dict[str, list[Term]]:
    """Where the premise's quantifiers are taken, by kind: the goal's variable, the two
    slots an iteration swaps (host slot ``rxcur``, TX slot ``head``; as places ``rxcur``
    and ``n + head``), and what the ghosts map these to."""
    r, h = s.rxcur, s.thead
    return {
        "host": [g, r, select(s.taken_from, g), select(s.taken_from, h)],
        "tx": [g, h, select(s.sent_to, g), select(s.sent_to, r)],
        "place": [g, r, s.n + h, select(s.came_from, r), select(s.came_from, s.n + h),
                  select(s.went_to, g), select(s.came_from, g)],
    }


def _premise(s: Swap, user: bool) -> dict[str, Term]:
    invs = SWAP.kernel_invariants() + (SWAP.user_invariants() if user else [])
    return {inv.id: inv(s) for inv in invs}


def _shown(api: SolverAPI, fields: dict[str, Term]) -> dict[str, Term]:
    domains = {v.name: v.domain for v in SWAP.vars}
    out: dict[str, Term] = {}
    for name, value in fields.items():
        if domains[name] != "array":
            out[name] = value
        elif name in SHOWN_ARRAYS and not isinstance(value, tuple):
            out.update({f"{name}[{j}]": api.Select(value, j) for j in range(SHOWN)})
    return out


def _minimize(api: SolverAPI, pre: SymbolicState, entries: bool = False) -> list[Term]:
    """The ring sizes first, then the magnitudes of the scalars (and, with ``entries``,
    of the array entries a counterexample shows)."""
    scalars = [v for k, v in pre.variables.items()
               if k not in ("n", "tn") and not api.is_array(v)]
    if entries:
        scalars += [api.Select(pre.variables[a], j) for a in SHOWN_ARRAYS
                    for j in range(SHOWN)]
    n, tn = pre.variables["n"], pre.variables["tn"]
    return [n + tn, api.Sum([api.If(x >= 0, x, -x) for x in scalars])]


#: The C types of the slot fields: buf_idx u32, len and flags u16.
_ENTRY_MAX = {"rx": U32_MAX, "tx": U32_MAX, "rx0": U32_MAX, "tx0": U32_MAX,
              "rx_len": 0xFFFF, "tx_len": 0xFFFF, "rx_len0": 0xFFFF, "tx_len0": 0xFFFF,
              "rx_flags": 0xFFFF, "tx_flags": 0xFFFF, "rx_flags0": 0xFFFF,
              "tx_flags0": 0xFFFF}


def _entry_domains(api: SolverAPI, pre: SymbolicState) -> list[Term]:
    """The slot fields' C types at every slot of the small rings."""
    out = []
    for name, top in _ENTRY_MAX.items():
        for j in range(EXACT_MAX):
            x = api.Select(pre.variables[name], j)
            out += [x >= 0, x <= top]
    return out


def _trim(cex: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Drop the array entries past each ring's size."""
    def keep(values: dict[str, int], key: str) -> bool:
        if not key.endswith("]"):
            return True
        name, j = key[:key.index("[")], int(key[key.index("[") + 1:-1])
        return j < values.get("n" if name.startswith("rx") else "tn", EXACT_MAX)

    return {group: {k: v for k, v in values.items() if keep(values, k)}
            for group, values in cex.items()}


def _step_query(api: SolverAPI, transition: Transition, fn: Callable[[Swap], Any],
                inv_id: str) -> Query:
    """Invariants (instantiated) and the guard => the invariant after the step, for
    every ring size."""
    inv = SWAP.invariants[inv_id]
    pre = fresh_swap_state(api, "pre")
    g = api.Int("g")
    step = fn(pre.state)
    with instantiated_at(instances(pre.state, g)):
        named = _premise(pre.state, user=inv.scope == "user")
    with instantiated_at([g]):
        goal = inv(step.post)
    return Query([*pre.constraints, step.guard], goal, "valid",
                 {"pre": _shown(api, pre.variables), "post": _shown(api, state_fields(step.post))},
                 named, minimize=_minimize(api, pre))


def _exact_step_query(api: SolverAPI, transition: Transition, fn: Callable[[Swap], Any],
                      inv_id: str) -> Query:
    """The same at 2 <= n, tn <= EXACT_MAX with every quantifier expanded over all slots
    and places: sat only for a real counterexample."""
    inv = SWAP.invariants[inv_id]
    pre = fresh_swap_state(api, "pre")
    s = pre.state
    step = fn(s)
    slots = list(range(EXACT_MAX))
    with instantiated_at({"host": slots, "tx": slots, "place": list(range(2 * EXACT_MAX))}):
        premise = _premise(s, user=inv.scope == "user")
        goal = inv(step.post)
    small = [s.n <= EXACT_MAX, s.tn <= EXACT_MAX, *_entry_domains(api, pre)]
    return Query([*pre.constraints, *small, step.guard, *premise.values()], goal, "valid",
                 {"pre": _shown(api, pre.variables), "post": _shown(api, state_fields(step.post))},
                 minimize=_minimize(api, pre), present=_trim)


def _init_query(api: SolverAPI, inv_id: str) -> Query:
    inv = SWAP.invariants[inv_id]
    state, constraints, shown = _fresh_entry(api)
    premises = [*constraints, entry_kring_ok(state)]
    if inv.scope == "user":
        premises.append(entry_tx_consistent(state))
    with instantiated_at([api.Int("g")]):
        goal = inv(state)
    return Query(premises, goal, "valid", {"entry": _shown(api, shown)})


def _vacuity_init_query(api: SolverAPI) -> Query:
    state, constraints, shown = _fresh_entry(api)
    with instantiated_at([api.Int("g")]):
        goal = SWAP.holds(state)
    return Query([*constraints, entry_kring_ok(state), entry_tx_consistent(state)], goal,
                 "sat", {"entry": _shown(api, shown)})


def _vacuity_guard_query(api: SolverAPI, transition: Transition) -> Query:
    """A state with every invariant (at the step's terms) where the iteration runs and
    swaps a slot."""
    pre = fresh_swap_state(api, "pre")
    g = api.Int("g")
    step = transition(pre.state)
    with instantiated_at(instances(pre.state, g)):
        named = _premise(pre.state, user=True)
    swaps = step.post.sent == pre.state.sent + 1
    return Query([*pre.constraints, *named.values()], And(step.guard, swaps), "sat",
                 {"pre": _shown(api, pre.variables)}, minimize=_minimize(api, pre))


def _frame_query(api: SolverAPI, transition: Transition) -> Query:
    pre = fresh_swap_state(api, "pre")
    step = transition(pre.state)
    goal = And(*[getattr(step.post, f) == getattr(pre.state, f) for f in CONSTANT_FIELDS])
    return Query([*pre.constraints, step.guard], goal, "valid",
                 {"pre": _shown(api, pre.variables)})


def swap_obligations() -> Iterator[Obligation]:
    """Init and anti-vacuity, each iteration against each invariant, the frame, then the
    mutants."""
    for inv in SWAP.invariants.values():
        yield Obligation(f"{NAME}/init/{inv.id}", "init", "proved",
                         partial(_init_query, inv_id=inv.id), NAME, invariant=inv.id)
    yield Obligation(f"{NAME}/vacuity-init", "vacuity-init", "proved", _vacuity_init_query,
                     NAME)
    for t in SWAP.transitions.values():
        yield Obligation(f"{NAME}/vacuity-guard/{t.name}", "vacuity-guard", "proved",
                         partial(_vacuity_guard_query, transition=t), NAME,
                         transition=t.name)
        for inv in SWAP.invariants.values():
            finding = inv.id in t.breaks
            yield Obligation(
                f"{NAME}/step/{t.name}/{inv.id}", "step", "refuted" if finding else "proved",
                partial(_exact_step_query if finding else _step_query, transition=t,
                        fn=t.fn, inv_id=inv.id),
                NAME, invariant=inv.id, transition=t.name,
                note="as-shipped finding" if finding else "")
        yield Obligation(f"{NAME}/frame/{t.name}", "frame", "proved",
                         partial(_frame_query, transition=t), NAME, transition=t.name)
    for mutant_id in MUTANTS:
        mut = SWAP.mutants[mutant_id]
        t = SWAP.transitions[mut.replaces]
        yield Obligation(f"{NAME}/mutant/{mut.id}", "mutant", "refuted",
                         partial(_exact_step_query, transition=t, fn=mut.fn,
                                 inv_id=mut.invariant),
                         NAME, invariant=mut.invariant, transition=mut.replaces,
                         note=mut.doc)


def claim_ids() -> list[str]:
    """Every invariant of the swap: each needs a killed mutant."""
    return SWAP.checked_ids()


__all__ = ["EXACT_MAX", "NAME", "claim_ids", "fresh_swap_state", "instances",
           "swap_obligations"]
