"""Model terms as a small IR the docs can print.

A transition, invariant or init is evaluated on z3 variables named after the state fields;
the resulting z3 term is converted to a tuple IR, the ring vocabulary of
:mod:`model.core` is recognised again (``If(b >= a, b - a, b - a + n)`` reads back as
``ring_dist(a, b, n)``, printed ``(b - a) % n``; the patterns are built by calling the
model's own functions), and the IR is simplified by structure alone: no solver call, so
the output does not depend on anything else the process did with z3.  :mod:`printer`
prints it.

IR nodes are tuples: ``("var", name)``, ``("int", v)``, ``("bool", b)``, or
``(op, *children)`` with ``op`` one of the z3 operators below or a sugar name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import z3

from model import core

Node = tuple

TRUE: Node = ("bool", True)
FALSE: Node = ("bool", False)
LEAVES = ("var", "int", "bool", "ref")

_KINDS = {
    z3.Z3_OP_ITE: "ite",
    z3.Z3_OP_AND: "and",
    z3.Z3_OP_OR: "or",
    z3.Z3_OP_NOT: "not",
    z3.Z3_OP_IMPLIES: "implies",
    z3.Z3_OP_EQ: "eq",
    z3.Z3_OP_DISTINCT: "distinct",
    z3.Z3_OP_LE: "le",
    z3.Z3_OP_LT: "lt",
    z3.Z3_OP_GE: "ge",
    z3.Z3_OP_GT: "gt",
    z3.Z3_OP_ADD: "add",
    z3.Z3_OP_SUB: "sub",
    z3.Z3_OP_MUL: "mul",
    z3.Z3_OP_UMINUS: "neg",
}


def to_ir(term: Any) -> Node:
    """A Python int/bool or a z3 term as IR."""
    if isinstance(term, bool):
        return ("bool", term)
    if isinstance(term, int):
        return ("int", term)
    cache: dict[int, Node] = {}

    def conv(t: z3.ExprRef) -> Node:
        key = t.get_id()
        if key in cache:
            return cache[key]
        if z3.is_true(t):
            out: Node = TRUE
        elif z3.is_false(t):
            out = FALSE
        elif z3.is_int_value(t):
            out = ("int", t.as_long())
        elif z3.is_const(t):
            out = ("var", t.decl().name())
        else:
            kind = t.decl().kind()
            if kind not in _KINDS:
                raise ValueError(f"cannot render z3 operator {t.decl().name()!r}")
            out = (_KINDS[kind], *[conv(c) for c in t.children()])
        cache[key] = out
        return out

    return conv(term)


# ---------------------------------------------------------------------------- vocabulary

def _min(a: Any, b: Any) -> Any:
    return core.If(a <= b, a, b)


def _between(x: Any, hi: Any) -> Any:
    return core.And(x >= 0, x <= hi)


#: Sugar recognised in terms: (node name, function building the pattern, argument names).
#: Bigger patterns first; ``ring_dist(a, b, n)`` and ``ring_sub(b, a, n)`` are the same
#: term, both read back as ``(b - a) % n``.
_SUGAR: tuple[tuple[str, Callable[..., Any], tuple[str, ...]], ...] = (
    ("in_cyclic", core.in_cyclic, ("lo", "x", "hi", "n")),
    ("ring_add", core.ring_add, ("i", "d", "n")),
    ("dist", core.ring_dist, ("a", "b", "n")),
    ("next", core.ring_next, ("i", "n")),
    ("prev", core.ring_prev, ("i", "n")),
    ("in_range", core.in_range, ("i", "n")),
    ("between", _between, ("x", "hi")),
    ("min", _min, ("a", "b")),
    ("u32", core.u32, ("x",)),
)

#: The legend the pages print: notation, the model function it stands for.
LEGEND = (
    ("(b - a) % n", "ring_dist(a, b, n) = ring_sub(b, a, n)", core.ring_dist),
    ("(i + d) % n", "ring_add(i, d, n)", core.ring_add),
    ("next(i)", "ring_next(i, n)", core.ring_next),
    ("prev(i)", "ring_prev(i, n)", core.ring_prev),
    ("in_cyclic(lo, x, hi)", "in_cyclic(lo, x, hi, n)", core.in_cyclic),
    ("0 <= i < n", "in_range(i, n)", core.in_range),
    ("u32(x)", "u32(x)", core.u32),
)


def legend_rows() -> list[tuple[str, str, str]]:
    """(notation, model.core function, first line of its docstring)."""
    return [
        (short, full, (fn.__doc__ or "").strip().splitlines()[0]) for short, full, fn in LEGEND
    ]


def _pattern(fn: Callable[..., Any], names: tuple[str, ...]) -> Node:
    return to_ir(fn(*[z3.Int(f"?{a}") for a in names]))


_PATTERNS = [(name, _pattern(fn, args), args) for name, fn, args in _SUGAR]


def _unify(pat: Node, t: Node, env: dict[str, Node]) -> bool:
    if pat[0] == "var" and pat[1].startswith("?"):
        bound = env.get(pat[1])
        if bound is None:
            env[pat[1]] = t
            return True
        return bound == t
    if pat[0] != t[0] or len(pat) != len(t):
        return False
    if pat[0] in ("var", "int", "bool"):
        return pat == t
    return all(_unify(p, c, env) for p, c in zip(pat[1:], t[1:], strict=True))


def sugar(t: Node) -> Node:
    """Recognise the ring vocabulary, outermost first."""
    if t[0] in ("var", "int", "bool"):
        return t
    for name, pat, args in _PATTERNS:
        env: dict[str, Node] = {}
        if _unify(pat, t, env):
            return (name, *[sugar(env[f"?{a}"]) for a in args])
    return (t[0], *[sugar(c) for c in t[1:]])


# ---------------------------------------------------------------------------- simplification

_FLIP = {"lt": "ge", "ge": "lt", "le": "gt", "gt": "le", "eq": "ne", "ne": "eq"}
_CMP = {
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
}


def _negate(t: Node) -> Node:
    if t[0] == "bool":
        return ("bool", not t[1])
    if t[0] == "not":
        return t[1]
    if t[0] in _FLIP:
        return (_FLIP[t[0]], *t[1:])
    return ("not", t)


def _facts(c: Node, value: bool) -> dict[Node, bool]:
    facts = {c: value, _negate(c): not value}
    if (c[0] == "and" and value) or (c[0] == "or" and not value):
        for x in c[1:]:
            facts.update(_facts(x, value))
    elif c[0] == "not":
        facts.update(_facts(c[1], not value))
    return facts


def simplify(t: Node, ctx: dict[Node, bool] | None = None) -> Node:
    """Structural simplification under the facts in ``ctx`` (term -> known truth)."""
    ctx = ctx or {}
    if t in ctx:
        return ("bool", ctx[t])
    out = _simplify(t, ctx)
    return ("bool", ctx[out]) if out in ctx else out


def _simplify(t: Node, ctx: dict[Node, bool]) -> Node:
    op = t[0]
    if op in LEAVES:
        return t
    if op == "ite":
        c = simplify(t[1], ctx)
        if c[0] == "bool":
            return simplify(t[2] if c[1] else t[3], ctx)
        a = simplify(t[2], {**ctx, **_facts(c, True)})
        b = simplify(t[3], {**ctx, **_facts(c, False)})
        if a == b:
            return a
        if a == TRUE and b == FALSE:
            return c
        if a == FALSE and b == TRUE:
            return _negate(c)
        return ("ite", c, a, b)
    if op in ("and", "or"):
        unit, zero = (TRUE, FALSE) if op == "and" else (FALSE, TRUE)
        out: list[Node] = []
        for x in t[1:]:
            x = simplify(x, ctx)
            parts = x[1:] if x[0] == op else (x,)
            for p in parts:
                if p == zero:
                    return zero
                if p != unit and p not in out:
                    out.append(p)
        if not out:
            return unit
        return out[0] if len(out) == 1 else (op, *out)
    if op == "not":
        return _negate(simplify(t[1], ctx))
    if op == "implies":
        return simplify(("or", _negate(t[1]), t[2]), ctx)
    kids = [simplify(x, ctx) for x in t[1:]]
    if op in _CMP:
        a, b = kids
        if a == b:
            return ("bool", op in ("le", "ge", "eq"))
        if a[0] == "int" and b[0] == "int":
            return ("bool", _CMP[op](a[1], b[1]))
        return (op, a, b)
    if op == "add":
        terms: list[Node] = []
        const = 0
        for k in kids:
            for p in k[1:] if k[0] == "add" else (k,):
                if p[0] == "int":
                    const += p[1]
                else:
                    terms.append(p)
        if const:
            terms.append(("int", const))
        if not terms:
            return ("int", 0)
        return terms[0] if len(terms) == 1 else ("add", *terms)
    if op == "sub":
        a, b = kids
        if b == ("int", 0):
            return a
        if a[0] == "int" and b[0] == "int":
            return ("int", a[1] - b[1])
        return ("sub", a, b)
    if op == "min" and kids[0] == kids[1]:
        return kids[0]
    return (op, *kids)


def render_ready(term: Any) -> Node:
    """z3 term (or Python constant) -> sugared, simplified IR."""
    return simplify(sugar(to_ir(term)))


_SUGAR_FN = {name: fn for name, fn, _ in _SUGAR}
_EVAL = {
    "and": lambda *xs: all(xs), "or": lambda *xs: any(xs), "not": lambda x: not x,
    "implies": lambda a, b: (not a) or b, "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b, "le": lambda a, b: a <= b, "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b, "add": lambda *xs: sum(xs),
    "sub": lambda a, b: a - b, "neg": lambda a: -a,
    "distinct": lambda *xs: len(set(xs)) == len(xs),
}


def evaluate(t: Node, env: dict[str, int]) -> int | bool:
    """The value of an IR term for concrete variables (sugar through the model's own
    functions), so tests can check that what the docs print means what the model says."""
    op = t[0]
    if op in ("var", "ref"):
        return env[t[1]]
    if op in ("int", "bool"):
        return t[1]
    if op == "ite":
        return evaluate(t[2], env) if evaluate(t[1], env) else evaluate(t[3], env)
    args = [evaluate(c, env) for c in t[1:]]
    if op == "mul":
        out = 1
        for a in args:
            out *= a
        return out
    if op in _SUGAR_FN:
        return _SUGAR_FN[op](*args)
    return _EVAL[op](*args)


def symbolic_state(state_type: type, names: dict[str, str] | None = None) -> Any:
    """A state whose fields are z3 Ints named after the fields."""
    names = names or {}
    return state_type(
        **{f.name: z3.Int(names.get(f.name, f.name)) for f in dataclasses.fields(state_type)}
    )
