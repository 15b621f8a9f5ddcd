"""The ring vocabulary of model.core: concrete and symbolic readings agree, exhaustively
for every ring size 2 <= N <= 8 and every operand, and both agree with Python's ``%``
(the obvious meaning the ite encoding must not drift from)."""

import itertools

import pytest
import z3

from model.core import (
    And,
    If,
    Implies,
    Not,
    Or,
    cyclic_order,
    in_cyclic,
    ring_add,
    ring_dist,
    ring_next,
    ring_prev,
    ring_sub,
)

SIZES = range(2, 9)
IDX, D, B, C, N = z3.Ints("i d b c n")


def symbolic_value(term: z3.ExprRef, **values: int) -> int | bool:
    pairs = [(z3.Int(k), z3.IntVal(v)) for k, v in values.items()]
    out = z3.simplify(z3.substitute(term, *pairs))
    return z3.is_true(out) if z3.is_bool(out) else out.as_long()


@pytest.mark.parametrize(
    ("name", "op", "meaning", "operands"),
    [
        ("ring_next", lambda i, n: ring_next(i, n), lambda i, n: (i + 1) % n, "i"),
        ("ring_prev", lambda i, n: ring_prev(i, n), lambda i, n: (i - 1) % n, "i"),
    ],
)
def test_unary_ops_agree(name, op, meaning, operands):
    term = op(IDX, N)
    for n in SIZES:
        for i in range(n):
            concrete = op(i, n)
            assert concrete == meaning(i, n), (name, i, n)
            assert symbolic_value(term, i=i, n=n) == concrete, (name, i, n)


@pytest.mark.parametrize(
    ("name", "op", "meaning"),
    [
        ("ring_add", ring_add, lambda i, d, n: (i + d) % n),
        ("ring_sub", ring_sub, lambda i, d, n: (i - d) % n),
    ],
)
def test_offset_ops_agree(name, op, meaning):
    term = op(IDX, D, N)
    for n in SIZES:
        for i, d in itertools.product(range(n), range(n + 1)):
            concrete = op(i, d, n)
            assert concrete == meaning(i, d, n), (name, i, d, n)
            assert symbolic_value(term, i=i, d=d, n=n) == concrete


def test_dist_and_interval_agree():
    dist, inside = ring_dist(IDX, B, N), in_cyclic(IDX, D, B, N)
    for n in SIZES:
        for a, b in itertools.product(range(n), repeat=2):
            assert ring_dist(a, b, n) == (b - a) % n
            assert symbolic_value(dist, i=a, b=b, n=n) == ring_dist(a, b, n)
            for x in range(n):
                walk = [(a + k) % n for k in range((b - a) % n + 1)]
                assert in_cyclic(a, x, b, n) == (x in walk), (a, x, b, n)
                assert symbolic_value(inside, i=a, d=x, b=b, n=n) == in_cyclic(a, x, b, n)


def test_cyclic_order_agrees_and_rejects_a_second_lap():
    order = cyclic_order([IDX, B, C], N)
    for n in range(2, 7):
        for a, b, c in itertools.product(range(n), repeat=3):
            laps = ((b - a) % n + (c - b) % n + (a - c) % n) // n
            assert cyclic_order([a, b, c], n) == (laps == 1), (a, b, c, n)
            assert symbolic_value(order, i=a, b=b, c=c, n=n) == cyclic_order([a, b, c], n)


def test_connectives_stay_concrete_and_short_circuit():
    x = z3.Bool("x")
    assert And(True, True) is True and And(True, False) is False
    assert Or(False, False) is False and Or(False, True) is True
    assert And(False, x) is False and Or(True, x) is True
    assert And(True, x) is x and Or(False, x) is x
    assert Not(False) is True and Implies(False, x) is True
    assert If(True, 1, IDX) == 1 and If(False, IDX, 2) == 2
    assert z3.is_expr(If(x, 1, 2)) and z3.is_expr(And(x, z3.Bool("y")))
