"""The C-like pseudocode on the area pages is generated from the model's terms: it prints
every operator the model uses, and running its statements in order does what the model's
transition does."""

from __future__ import annotations

import dataclasses
import random

import pytest
import z3
from support.states import consistent_states

import model
from model.core import ring_add, ring_dist, ring_next
from ringspec.docgen import formulas, pseudocode, terms
from ringspec.docgen.pseudocode import Assign, IfElse, Let, Program, Require


def _c(term: object) -> str:
    return pseudocode.expr(terms.render_ready(term))


def test_small_terms_print_as_c() -> None:
    a, b, n, x = z3.Ints("a b n x")
    c = z3.Bool("c")
    assert _c(ring_next(a, n)) == "nm_next(a, lim)"
    assert _c(ring_dist(a, b, n)) == "ring_dist(a, b, n)"
    assert _c(ring_add(a, b, n) + 1) == "ring_add(a, b, n) + 1"
    assert _c(z3.And(a < b, z3.Or(c, x == 0))) == "a < b && (c || x == 0)"
    assert _c(z3.Or(z3.And(a < b, c), x == 0)) == "a < b && c || x == 0"
    assert _c(z3.Not(z3.Or(a < b, c))) == "!(a < b || c)"
    assert _c(z3.If(a >= b, a - b, b - (a - 1))) == "(a >= b) ? a - b : b - (a - 1)"
    assert _c(z3.If(c, a, z3.If(c == False, b, x))) == "c ? a : b"  # noqa: E712
    assert _c(z3.And(a >= 0, a < n)) == "0 <= a && a < n"


def test_a_program_prints_guard_locals_and_branches() -> None:
    prog = Program(
        "step", ("k",), (Let("ok", ("lt", ("var", "k"), ("var", "n"))),),
        Require(("ge", ("var", "k"), ("int", 0))),
        (IfElse(("ref", "ok"),
                (Assign("hwcur", ("next", ("var", "hwcur"), ("var", "n"))),),
                (Assign("head", ("var", "hwcur")),)),),
    )
    assert pseudocode.render(prog) == "\n".join([
        "step(k)",
        "{",
        "    u_int lim = n - 1;",
        "    bool ok = k < n;",
        "    require(k >= 0);",
        "    if (ok) {",
        "        hwcur = nm_next(hwcur, lim);",
        "    } else {",
        "        head = hwcur;",
        "    }",
        "}",
    ])


def test_unknown_operators_are_refused() -> None:
    with pytest.raises(ValueError, match="no C rendering"):
        pseudocode.expr(("mod", ("var", "a"), ("var", "n")))


def test_every_operator_the_model_uses_is_printed() -> None:
    used: set[str] = set()
    for m in model.MACHINES:
        for prog in pseudocode.programs(m):
            used |= pseudocode.all_ops(prog)
            pseudocode.render(prog)  # raises on an operator it cannot print
    assert used <= pseudocode.PRINTED, used - pseudocode.PRINTED
    # the vocabulary really is exercised: ring helpers, branches, locals, the guard
    assert {"ite", "and", "or", "not", "next", "prev", "ring_add", "dist", "in_cyclic",
            "min", "ref"} <= used


def test_helpers_are_printed_from_model_core() -> None:
    rows = {call: body for call, _, body in pseudocode.helper_rows()}
    assert rows["nm_next(i, lim)"] == "(i + 1 == n) ? 0 : i + 1"
    assert rows["ring_dist(a, b, n)"] == "(b >= a) ? b - a : b - a + n"
    assert rows["in_cyclic(lo, x, hi, n)"] == "ring_dist(lo, x, n) <= ring_dist(lo, hi, n)"


def test_as_shipped_txsync_reads_like_the_c() -> None:
    text = pseudocode.render(pseudocode.program(model.TX, model.TX.transitions[
        "txsync_as_shipped"]))
    # the prologue's verdict and reinit's error count are named, then branched on
    assert "    if (accepted) {" in text and "    } else if (errors) {" in text
    # finalize copies hwtail: ring->tail = kring->rtail = kring->nr_hwtail
    assert "        rtail = hwtail;" in text and "        tail = hwtail;" in text
    # the driver's count is computed before hwcur moves
    assert text.index("busy = busy + MIN(sent") < text.index("hwcur = ring_add(hwcur")


def _programs(m: model.core.Machine) -> list[tuple[Program, object, tuple]]:
    """(program, the function it was printed from, its parameters) for every transition,
    mutant and init."""
    out = [(pseudocode.program(m, t), t.fn, t.params) for t in m.transitions.values()]
    for mut in m.mutants.values():
        if mut.replaces != "init":
            t = m.transitions[mut.replaces]
            out.append((pseudocode.program(m, t, mut.fn, mut.id), mut.fn, t.params))
    return out


def _states(machine: model.core.Machine, rng: random.Random) -> list[dict[str, int]]:
    """Consistent states of small rings (so syncs are accepted and drivers move), the same
    with the user's indices scribbled, and states with every field random (partly out of
    range, as adversarial users and broken rings have them)."""
    fields = [f.name for f in dataclasses.fields(machine.state_type)]
    out = []
    for n in (2, 3, 5):
        good = [dataclasses.asdict(s) for s in consistent_states(machine, n)]
        out += rng.sample(good, min(len(good), 120))
    user = [v.name for v in machine.vars if v.owner == "user"]
    out += [s | {f: rng.randint(0, s["n"] + 1) for f in user} for s in list(out)]
    for _ in range(300):
        n = rng.randint(2, 9)
        out.append({f: rng.randint(0, n + 2) for f in fields} | {"n": n})
    return out


@pytest.mark.parametrize("machine", model.MACHINES, ids=lambda m: m.name)
def test_running_the_pseudocode_is_running_the_model(machine: model.core.Machine) -> None:
    """Statements run in the printed order agree with the transition's guard and every
    field of its post, for every transition and mutant."""
    rng = random.Random(11)
    states = _states(machine, rng)
    fields = [f.name for f in dataclasses.fields(machine.state_type)]
    for prog, fn, params in _programs(machine):
        for values in states:
            args = {p.name: rng.randint(0, values["n"] + 1) for p in params}
            env = values | {formulas.arg_name(machine, k): v for k, v in args.items()}
            guard, after = pseudocode.execute(prog, env)
            expected = fn(machine.state_type(**values), **args)
            assert guard == bool(expected.guard), (prog.name, env)
            for f in fields:
                assert after[f] == getattr(expected.post, f), (prog.name, f, env)


@pytest.mark.parametrize("machine", model.MACHINES, ids=lambda m: m.name)
def test_running_init_is_the_model_init(machine: model.core.Machine) -> None:
    prog = pseudocode.init_program(machine)
    for n in range(2, 10):
        _, after = pseudocode.execute(prog, {"n": n})
        assert {k: after[k] for k in after if k != "n"} == {
            k: v for k, v in dataclasses.asdict(machine.init(n)).items() if k != "n"}
