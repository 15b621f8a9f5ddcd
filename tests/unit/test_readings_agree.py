"""The concrete reading of every model predicate (the test oracle) and its symbolic
reading (what the proofs prove) agree (anti-vacuity).

For every machine and every ring size 2 <= N <= 8:

* every invariant agrees on *every* state that satisfies all invariants
  (support.states.consistent_states, up to 55k states), and on an evenly spaced 500 of
  them per N with the user fields replaced by adversarial values (0, N-1, N, 2^32-1);
* every transition's guard and every field of its post-state agree on all of those
  states, for boundary arguments (0, 1, N; for u32 arguments an evenly spaced set of
  combinations of 0, N-1, N and 2^32-1).

The symbolic reading is evaluated by support.termeval, itself checked against z3's own
simplifier here.
"""

import dataclasses
import itertools

import numpy as np
import pytest
import z3
from support.states import consistent_states
from support.termeval import evaluate

import model
from model.core import U32_MAX, Machine
from proofs.symbolic import fresh_args

SIZES = range(2, 9)
USER_FIELDS = {"netmap_tx": ("head", "cur", "tail"), "netmap_rx": ("head", "cur", "tail"),
               "legacy_tx": ("cur", "avail", "reserved"), "legacy_rx": ("cur", "avail", "reserved")}


def symbolic_state(machine: Machine):
    names = [f.name for f in dataclasses.fields(machine.state_type)]
    return machine.state_type(**{k: z3.Int(k) for k in names}), names


def adversarial(machine: Machine, states: list, n: int) -> list:
    values = (0, n - 1, n, U32_MAX)
    fields = USER_FIELDS.get(machine.name)
    if fields is None:  # no shared ring fields a user could scribble (the switch machines)
        return []
    out = []
    for i, s in enumerate(states[:: max(1, len(states) // 500)]):
        combo = list(itertools.product(values, repeat=3))[i % 64]
        out.append(dataclasses.replace(s, **dict(zip(fields, combo, strict=True))))
    return out


def columns(states: list, names: list[str]) -> dict[str, np.ndarray]:
    return {k: np.array([getattr(s, k) for s in states], dtype=np.int64) for k in names}


def checked_states(machine: Machine, n: int) -> list:
    """Every consistent state plus its adversarial variants."""
    states = consistent_states(machine, n)
    return states + adversarial(machine, states, n)


def symbolic_values(term, env: dict[str, np.ndarray], count: int) -> np.ndarray:
    if isinstance(term, (bool, int)):
        return np.full(count, term)
    return np.broadcast_to(evaluate(term, env), (count,))


@pytest.mark.parametrize("machine", model.MACHINES, ids=lambda m: m.name)
def test_invariants_agree(machine):
    sym, names = symbolic_state(machine)
    for n in SIZES:
        states = checked_states(machine, n)
        env = columns(states, names)
        for inv in machine.invariants.values():
            concrete = np.array([bool(inv(s)) for s in states])
            symbolic = symbolic_values(inv(sym), env, len(states))
            bad = np.flatnonzero(concrete != symbolic)
            assert bad.size == 0, f"{inv.id} disagrees at N={n} on {states[bad[0]]}"


def argument_choices(transition, n: int) -> list[dict[str, int]]:
    choices = {"count": (0, 1, n), "bit": (0, 1), "u32": (0, n - 1, n, U32_MAX)}
    domains = [choices[p.domain] for p in transition.params]
    names = [p.name for p in transition.params]
    combos = list(itertools.product(*domains))
    return [dict(zip(names, c, strict=True)) for c in combos[:: max(1, len(combos) // 9)]]


@pytest.mark.parametrize("machine", model.MACHINES, ids=lambda m: m.name)
def test_transitions_agree(machine):
    sym, names = symbolic_state(machine)
    for n in SIZES:
        states = checked_states(machine, n)
        env = columns(states, names)
        for t in machine.transitions.values():
            for args in argument_choices(t, n):
                step = t(sym, **args)
                steps = [t(s, **args) for s in states]
                guard = np.array([bool(st.guard) for st in steps])
                assert (symbolic_values(step.guard, env, len(states)) == guard).all(), (
                    f"{t.name}{args} guard disagrees at N={n}"
                )
                for f in names:
                    concrete = np.array([getattr(st.post, f) for st in steps], dtype=np.int64)
                    symbolic = symbolic_values(getattr(step.post, f), env, len(states))
                    bad = np.flatnonzero(guard & (concrete != symbolic))
                    assert bad.size == 0, (
                        f"{t.name}{args}: field {f} disagrees at N={n} on {states[bad[0]]}"
                    )


def test_termeval_matches_z3_simplifier():
    """The numpy interpreter reads terms exactly as z3 does, on a few hundred states."""
    machine = model.TX
    sym, names = symbolic_state(machine)
    t = machine.transitions["txsync_as_shipped"]
    args = fresh_args(z3, t, sym.n, "a")
    step = t(sym, **args.variables)
    term = z3.And(step.guard, machine.holds(step.post))
    states = adversarial(machine, consistent_states(machine, 5), 5)[:200]
    env = columns(states, names)
    env["a.sent"] = np.array([i % 6 for i in range(len(states))], dtype=np.int64)
    fast = evaluate(term, env)
    for i, s in enumerate(states):
        pairs = [(z3.Int(k), z3.IntVal(int(env[k][i]))) for k in env]
        assert z3.is_true(z3.simplify(z3.substitute(term, *pairs))) == bool(fast[i]), s


@pytest.mark.parametrize("machine", [model.TX, model.RX], ids=lambda m: m.name)
@pytest.mark.parametrize("n", [2, 3])
def test_enumerated_states_are_exactly_the_states_satisfying_the_invariants(machine, n):
    """support.states claims to list every state that satisfies all invariants; for tiny
    rings, brute force over every field value (user fields 0..N-1, busy 0..N-1) agrees."""
    names = [f.name for f in dataclasses.fields(machine.state_type) if f.name != "n"]
    domain = {k: range(n) for k in names}
    every = (machine.state_type(n=n, **dict(zip(names, values, strict=True)))
             for values in itertools.product(*domain.values()))
    brute = {s for s in every if not machine.violated(s)}
    assert brute == set(consistent_states(machine, n))
