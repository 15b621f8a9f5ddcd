"""Transitions as C-like pseudocode, generated from the model's own terms.

A transition is a pure function ``(state, **args) -> Step(guard, post)``: every field of
``post`` is a term over the *old* state.  This module turns that parallel assignment into
the sequential, C-shaped code a netmap engineer reads:

* named subterms (the prologue's verdict ``accepted``, reinit's ``errors``, repeated
  subterms) become local variables computed first, from the old state;
* the guard becomes ``require(...)``: the step is only taken when it holds;
* fields that switch on the same condition are grouped into ``if (...) {...} else {...}``;
* assignments are ordered so that nothing is read after it was overwritten (a field
  that cannot be ordered that way is saved in an ``old_`` local first).

The statements are a small tree (:class:`Let`, :class:`Require`, :class:`Assign`,
:class:`IfElse`) that :func:`execute` runs on concrete values, so a test can check that
the printed code does what the model does.  Expressions are the IR of :mod:`terms`;
:func:`expr` prints them with C operators and netmap's helpers (``nm_next(i, lim)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import z3

from model import core
from model.core import Machine, Transition, state_fields
from ringspec.docgen import formulas, printer, terms
from ringspec.docgen.terms import LEAVES, Node

# ---------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Let:
    """A local computed from the old state: ``u_int name = value;``."""

    name: str
    value: Node


@dataclass(frozen=True)
class Require:
    """The guard: the step is taken only when ``cond`` holds."""

    cond: Node


@dataclass(frozen=True)
class Assign:
    target: str
    value: Node


@dataclass(frozen=True)
class IfElse:
    """``if (cond) {then} else {other}``; ``full`` is each assigned field's whole value
    (both branches), which is what a later statement may reuse."""

    cond: Node
    then: tuple[Stmt, ...]
    other: tuple[Stmt, ...] = ()
    full: tuple[tuple[str, Node], ...] = ()


Stmt = Let | Require | Assign | IfElse


@dataclass(frozen=True)
class Program:
    """``name(params)``: locals, then the guard, then the body."""

    name: str
    params: tuple[str, ...]
    lets: tuple[Let, ...]
    require: Require | None
    body: tuple[Stmt, ...]


# ---------------------------------------------------------------------------- building

_BOOL_OPS = {"and", "or", "not", "implies", "eq", "ne", "le", "lt", "ge", "gt", "distinct",
             "in_cyclic", "in_range", "between", "bool"}

#: Which field names a value after its owner: a kernel field is the one others copy.
_OWNER_RANK = {"kernel": 0, "device": 1, "ghost": 2, "user": 3, "constant": 4}


def is_bool(t: Node) -> bool:
    if t[0] == "ite":
        return is_bool(t[2])
    return t[0] in _BOOL_OPS


def _leaves(t: Node, kind: str, out: set[str]) -> set[str]:
    if t[0] == kind:
        out.add(t[1])
    elif t[0] not in LEAVES:
        for c in t[1:]:
            _leaves(c, kind, out)
    return out


def _exprs(s: Stmt) -> list[Node]:
    if isinstance(s, Assign):
        return [s.value]
    if isinstance(s, IfElse):
        return [s.cond, *[e for x in (*s.then, *s.other) for e in _exprs(x)]]
    return []


def _writes(s: Stmt) -> set[str]:
    if isinstance(s, Assign):
        return {s.target}
    if isinstance(s, IfElse):
        return set().union(*[_writes(x) for x in (*s.then, *s.other)])
    return set()


def _old_reads(s: Stmt) -> set[str]:
    """Fields ``s`` reads as they were before the step (``var`` leaves)."""
    return set().union(*[_leaves(e, "var", set()) for e in _exprs(s)])


def _new_reads(s: Stmt, fields: set[str]) -> set[str]:
    """Fields ``s`` reads after a sibling assigned them (``ref`` leaves naming a field)."""
    refs = set().union(*[_leaves(e, "ref", set()) for e in _exprs(s)])
    return (refs & fields) - _writes(s)


def _factor(assigns: list[tuple[str, Node]], ctx: dict[Node, bool]) -> list[Stmt]:
    """Group assignments that switch on the same condition into if/else, recursively.
    An :class:`IfElse` keeps the whole value of each field it assigns (``full``)."""
    assigns = [(f, terms.simplify(t, ctx)) for f, t in assigns]
    assigns = [(f, t) for f, t in assigns if t != ("var", f)]
    counts: dict[Node, int] = {}
    for _, t in assigns:
        if t[0] == "ite":
            counts[t[1]] = counts.get(t[1], 0) + 1
    shared = [c for c, k in counts.items() if k >= 2]
    if not shared:
        return [Assign(f, t) for f, t in assigns]
    cond = max(shared, key=lambda c: counts[c])  # ties: first seen
    inside = [(f, t) for f, t in assigns if t[0] == "ite" and t[1] == cond]
    outside: list[Stmt] = [Assign(f, t) for f, t in assigns
                           if not (t[0] == "ite" and t[1] == cond)]
    then = _factor([(f, t[2]) for f, t in inside], {**ctx, **terms._facts(cond, True)})
    other = _factor([(f, t[3]) for f, t in inside], {**ctx, **terms._facts(cond, False)})
    return [*outside, IfElse(cond, tuple(then), tuple(other), tuple(inside))]


def _defs(stmts: list[Stmt]) -> list[tuple[str, Node]]:
    out: list[tuple[str, Node]] = []
    for s in stmts:
        if isinstance(s, Assign):
            out.append((s.target, s.value))
        elif isinstance(s, IfElse):
            out += list(s.full)
    return out


def _substitute(s: Stmt, table: dict[Node, Node]) -> Stmt:
    """Replace subterms in ``s`` (and below), except values it computes for itself."""
    own = {k: v for k, v in table.items() if v[1] not in _writes(s)}
    if isinstance(s, Assign):
        return Assign(s.target, printer._replace(s.value, own))
    if isinstance(s, IfElse):
        return IfElse(
            printer._replace(s.cond, own),
            tuple(_substitute(x, own) for x in s.then),
            tuple(_substitute(x, own) for x in s.other),
            s.full,
        )
    return s


def _candidates(stmts: list[Stmt], rank: dict[str, tuple[int, int]]) -> list[tuple[Node, str]]:
    """(value, field) for every compound value a statement of the block assigns, the
    kernel's fields first, each value once."""
    seen: set[Node] = set()
    out = []
    for f, t in sorted(_defs(stmts), key=lambda d: rank[d[0]]):
        if t[0] not in LEAVES and t not in seen:
            seen.add(t)
            out.append((t, f))
    return out


def _order(stmts: list[Stmt], fields: set[str]) -> list[Stmt] | None:
    """Statements in an order where each field is read before it is overwritten and
    after it is assigned where the new value is meant (stable: the first statement that
    may go next goes next); None if that is impossible."""
    todo = list(stmts)
    out: list[Stmt] = []
    while todo:
        for i, s in enumerate(todo):
            others = todo[:i] + todo[i + 1 :]
            if any(_writes(s) & _old_reads(o) for o in others):
                continue
            if any(_new_reads(s, fields) & _writes(o) for o in others):
                continue
            out.append(s)
            del todo[i]
            break
        else:
            return None
    return out


def _sequence(stmts: list[Stmt], fields: set[str], rank: dict[str, tuple[int, int]],
              saved: set[str]) -> list[Stmt] | None:
    """Order a block and, inside it, every nested block.  Where a value one statement
    assigns appears again, the later statement reads that field instead (the C habit
    ``rtail = hwtail``), for every such value an order still exists with.  Reads of the
    fields in ``saved`` go to their ``old_`` copies.  None if no order exists."""
    stmts = [_rename(s, {("var", f): ("ref", f"old_{f}") for f in saved}) for s in stmts]
    table: dict[Node, Node] = {}
    todo = _candidates(stmts, rank)
    progress = True
    while progress:  # a value refused now may fit once another one is reused
        progress = False
        for term, field in list(todo):
            trial = {**table, term: ("ref", field)}
            if _order([_substitute(s, trial) for s in stmts], fields) is not None:
                table = trial
                todo.remove((term, field))
                progress = True
    nested: list[Stmt] = []
    for s in (_substitute(x, table) for x in stmts):
        if isinstance(s, IfElse):
            then = _sequence(list(s.then), fields, rank, saved)
            other = _sequence(list(s.other), fields, rank, saved)
            if then is None or other is None:
                return None
            s = IfElse(s.cond, tuple(then), tuple(other), s.full)
        nested.append(s)
    return _order(nested, fields)


def _rename(s: Stmt, table: dict[Node, Node]) -> Stmt:
    if isinstance(s, Assign):
        return Assign(s.target, printer._replace(s.value, table))
    if isinstance(s, IfElse):
        return IfElse(
            printer._replace(s.cond, table),
            tuple(_rename(x, table) for x in s.then),
            tuple(_rename(x, table) for x in s.other),
            s.full,
        )
    return s


def _rank(machine: Machine) -> dict[str, tuple[int, int]]:
    return {v.name: (_OWNER_RANK.get(v.owner, 9), i) for i, v in enumerate(machine.vars)}


def program(machine: Machine, t: Transition, fn: Callable[..., Any] | None = None,
            name: str = "") -> Program:
    """The pseudocode of transition ``t`` (or of a stand-in ``fn``, e.g. a mutant)."""
    s = formulas.symbolic(machine)
    args = {p.name: z3.Int(formulas.arg_name(machine, p.name)) for p in t.params}
    step = (fn or t.fn)(s, **args)
    items: list[tuple[str, Node]] = [("guard", terms.render_ready(step.guard))]
    for field, value in state_fields(step.post).items():
        items.append((field, terms.render_ready(value)))
    rendered = printer.abbreviate(items, formulas.known_terms(machine), min_size=10**9)
    guard = rendered.items[0][1]
    fields = {v.name for v in machine.vars}
    factored = _factor(list(rendered.items[1:]), {})
    saved: set[str] = set()
    while (body := _sequence(factored, fields, _rank(machine), saved)) is None:
        saved.add(min(set().union(*[_writes(x) for x in factored]) - saved))
    lets = [Let(f"old_{f}", ("var", f)) for f in sorted(saved)]
    lets += [Let(n, v) for n, v in rendered.where]
    return Program(
        name or t.name,
        tuple(formulas.arg_name(machine, p.name) for p in t.params),
        tuple(lets),
        None if guard == terms.TRUE else Require(guard),
        tuple(body),
    )


def init_program(machine: Machine, fn: Callable[..., Any] | None = None) -> Program:
    """The initial state as assignments (``n`` is the ring size)."""
    state = (fn or machine.init)(z3.Int("n"))
    body = tuple(Assign(f, terms.render_ready(v)) for f, v in state_fields(state).items()
                 if f != "n")
    return Program("init", ("n",), (), None, body)


# ---------------------------------------------------------------------------- running


def execute(prog: Program, env: dict[str, int]) -> tuple[bool, dict[str, int]]:
    """Run the statements in order on concrete values: (guard, fields after the step).

    ``env`` holds the old state's fields and the arguments; the body runs whatever the
    guard says, so its effect can be compared with the model's ``post`` everywhere."""
    scope = dict(env)
    for let in prog.lets:
        scope[let.name] = terms.evaluate(let.value, scope)
    guard = True if prog.require is None else bool(terms.evaluate(prog.require.cond, scope))
    _run(prog.body, scope)
    return guard, scope


def _run(stmts: Iterable[Stmt], scope: dict[str, int]) -> None:
    for s in stmts:
        if isinstance(s, Assign):
            scope[s.target] = terms.evaluate(s.value, scope)
        elif isinstance(s, IfElse):
            _run(s.then if terms.evaluate(s.cond, scope) else s.other, scope)
        else:
            raise TypeError(f"unexpected statement in a body: {s!r}")


# ---------------------------------------------------------------------------- printing

#: IR operator -> (C operator, precedence); higher binds tighter (C's table).
_BINARY = {
    "mul": ("*", 13), "add": ("+", 12), "sub": ("-", 12),
    "lt": ("<", 10), "le": ("<=", 10), "gt": (">", 10), "ge": (">=", 10),
    "eq": ("==", 9), "ne": ("!=", 9), "and": ("&&", 5), "or": ("||", 4),
}
#: Ring helpers: IR operator -> how the call prints (``lim`` is ``n - 1``).
HELPERS = {
    "next": "nm_next", "prev": "nm_prev", "ring_add": "ring_add", "dist": "ring_dist",
    "in_cyclic": "in_cyclic", "min": "MIN",
}
_UNARY, _TERNARY, _PRIMARY = 14, 3, 16

#: Every IR operator :func:`expr` prints (a test checks the model uses no other).
PRINTED = frozenset({*LEAVES, *_BINARY, *HELPERS, "ite", "not", "neg", "implies",
                     "distinct", "in_range", "between", "u32"})


def _prec(t: Node) -> int:
    op = t[0]
    if op in _BINARY:
        return _BINARY[op][1]
    if op in ("in_range", "between", "distinct"):
        return _BINARY["and"][1]
    if op == "implies":
        return _BINARY["or"][1]
    if op == "ite":
        return _TERNARY
    if op in ("not", "neg"):
        return _UNARY
    return _PRIMARY


def _sized(t: Node) -> list[Node]:
    """Helper arguments; nm_next/nm_prev take ``lim`` (n - 1) instead of ``n``."""
    args = list(t[1:])
    if t[0] in ("next", "prev"):
        n = args[-1]
        args[-1] = ("var", "lim") if n == ("var", "n") else ("sub", n, ("int", 1))
    return args


def _paren(t: Node, prec: int, right: bool = False) -> str:
    s = expr(t)
    p = _prec(t)
    return f"({s})" if p < prec or (right and p == prec) else s


def expr(t: Node) -> str:
    """One expression in C syntax."""
    op = t[0]
    if op in ("var", "ref"):
        return t[1]
    if op == "int":
        return "U32_MAX" if t[1] == core.U32_MAX else str(t[1])
    if op == "bool":
        return "true" if t[1] else "false"
    if op in _BINARY:
        sym, p = _BINARY[op]
        if op == "add":
            out = _paren(t[1], p)
            for x in t[2:]:
                out += f" - {-x[1]}" if x[0] == "int" and x[1] < 0 else f" + {_paren(x, p)}"
            return out
        parts = [_paren(x, p, right=i > 0 and op in ("sub", "lt", "le", "gt", "ge", "eq",
                                                         "ne"))
                 for i, x in enumerate(t[1:])]
        return f" {sym} ".join(parts)
    if op == "not":
        return f"!{_paren(t[1], _UNARY)}"
    if op == "neg":
        return f"-{_paren(t[1], _UNARY)}"
    if op == "u32":  # the 2013 fields are uint32_t: arithmetic wraps modulo 2^32
        return f"(uint32_t)({expr(t[1])})"
    if op == "implies":
        return expr(("or", ("not", t[1]), t[2]))
    if op == "in_range":
        return expr(("and", ("le", ("int", 0), t[1]), ("lt", t[1], t[2])))
    if op == "between":
        return expr(("and", ("le", ("int", 0), t[1]), ("le", t[1], t[2])))
    if op == "distinct":
        xs = t[1:]
        return expr(("and", *[("ne", a, b) for i, a in enumerate(xs) for b in xs[i + 1:]]))
    if op == "ite":
        cond = expr(t[1]) if _prec(t[1]) == _PRIMARY else f"({expr(t[1])})"
        return f"{cond} ? {_paren(t[2], _TERNARY + 1)} : {_paren(t[3], _TERNARY)}"
    if op in HELPERS:
        return f"{HELPERS[op]}({', '.join(expr(a) for a in _sized(t))})"
    raise ValueError(f"no C rendering for IR operator {op!r}")


def _broken(t: Node, width: int, indent: int, first: int) -> str:
    """``expr(t)``, broken over lines when it does not fit: ``&&``/``||`` chains one
    operand per line, ``?:`` one branch per line, helper calls one argument per line."""
    s = expr(t)
    if indent + first + len(s) <= width or t[0] in LEAVES:
        return s
    pad = " " * (indent + 4)
    op = t[0]
    if op in ("and", "or"):
        sym, p = _BINARY[op]
        parts = [_broken_paren(x, p, width, indent + 4) for x in t[1:]]
        return parts[0] + "".join(f"\n{pad}{sym} {x}" for x in parts[1:])
    if op in _BINARY:
        sym, p = _BINARY[op]
        left = _broken_paren(t[1], p, width, indent)
        rest = [_broken_paren(x, p + (op != "add"), width, indent + 4) for x in t[2:]]
        return left + "".join(f"\n{pad}{sym} {x}" for x in rest)
    if op == "ite":
        cond = _broken_paren(t[1], _PRIMARY, width, indent + 4)
        a = _broken_paren(t[2], _TERNARY + 1, width, indent + 4)
        b = _broken_paren(t[3], _TERNARY, width, indent + 4)
        return f"{cond}\n{pad}? {a}\n{pad}: {b}"
    if op == "not" and _prec(t[1]) < _UNARY:
        inner = _broken(t[1], width, indent + 4, 0)
        return f"!(\n{pad}{inner}\n{' ' * indent})"
    if op in HELPERS:
        args = ",\n".join(pad + _broken(a, width, indent + 4, 0) for a in _sized(t))
        return f"{HELPERS[op]}(\n{args}\n{' ' * indent})"
    return s


def _broken_paren(t: Node, prec: int, width: int, indent: int) -> str:
    if _prec(t) >= prec:
        return _broken(t, width, indent, 2)
    inner = _broken(t, width, indent + 4, 0)
    if "\n" not in inner:
        return f"({inner})"
    return f"(\n{' ' * (indent + 4)}{inner}\n{' ' * indent})"


def _ctype(t: Node) -> str:
    return "bool" if is_bool(t) else "u_int"


def _uses_lim(prog: Program) -> bool:
    found = False

    def visit(t: Node) -> None:
        nonlocal found
        if t[0] in ("next", "prev") and t[-1] == ("var", "n"):
            found = True
        elif t[0] not in LEAVES:
            for c in t[1:]:
                visit(c)

    for node in _nodes(prog):
        visit(node)
    return found


def _nodes(prog: Program) -> list[Node]:
    out = [let.value for let in prog.lets]
    if prog.require:
        out.append(prog.require.cond)

    def walk(stmts: Iterable[Stmt]) -> None:
        for s in stmts:
            if isinstance(s, Assign):
                out.append(s.value)
            elif isinstance(s, IfElse):
                out.append(s.cond)
                walk(s.then)
                walk(s.other)

    walk(prog.body)
    return out


def render(prog: Program, width: int = 92) -> str:
    """The program as C-like text."""
    lines = [f"{prog.name}({', '.join(prog.params)})", "{"]
    if _uses_lim(prog):
        lines.append("    u_int lim = n - 1;")
    for let in prog.lets:
        prefix = f"{_ctype(let.value)} {let.name} = "
        lines.append(f"    {prefix}{_broken(let.value, width, 4, len(prefix))};")
    if prog.require is not None:
        text = _broken(prog.require.cond, width, 4, len("require("))
        lines.append(f"    require({text});")
    lines += _block(prog.body, 1, width)
    lines.append("}")
    return "\n".join(lines)


def _block(stmts: Iterable[Stmt], depth: int, width: int) -> list[str]:
    pad = "    " * depth
    lines: list[str] = []
    for s in stmts:
        if isinstance(s, Assign):
            prefix = f"{s.target} = "
            lines.append(f"{pad}{prefix}{_broken(s.value, width, len(pad), len(prefix))};")
        elif isinstance(s, IfElse):
            lines += _if(s, depth, width, "")
        else:
            raise TypeError(f"unexpected statement in a body: {s!r}")
    return lines


def _if(s: IfElse, depth: int, width: int, lead: str) -> list[str]:
    pad = "    " * depth
    cond = _broken(s.cond, width, len(pad), len(lead) + 4)
    lines = [f"{pad}{lead}if ({cond}) {{", *_block(s.then, depth + 1, width)]
    if len(s.other) == 1 and isinstance(s.other[0], IfElse):
        tail = _if(s.other[0], depth, width, "} else ")
        return [*lines, *tail]
    if s.other:
        lines += [f"{pad}}} else {{", *_block(s.other, depth + 1, width)]
    return [*lines, f"{pad}}}"]


# ---------------------------------------------------------------------------- the helpers

#: Helper -> (how the pseudocode calls it, the model.core function, its arguments).
HELPER_SOURCES: tuple[tuple[str, str, Callable[..., Any], tuple[str, ...]], ...] = (
    ("nm_next(i, lim)", "ring_next(i, n)", core.ring_next, ("i", "n")),
    ("nm_prev(i, lim)", "ring_prev(i, n)", core.ring_prev, ("i", "n")),
    ("ring_add(i, d, n)", "ring_add(i, d, n)", core.ring_add, ("i", "d", "n")),
    ("ring_dist(a, b, n)", "ring_dist(a, b, n)", core.ring_dist, ("a", "b", "n")),
    ("in_cyclic(lo, x, hi, n)", "in_cyclic(lo, x, hi, n)", core.in_cyclic,
     ("lo", "x", "hi", "n")),
)


def helper_rows() -> list[tuple[str, str, str]]:
    """(call, model.core function, its body printed from the model's own term).

    The body is the function applied to fresh variables; only the function itself is not
    folded back into a call (a body built from other helpers shows them by name)."""
    rows = []
    for call, model_name, fn, names in HELPER_SOURCES:
        t = terms.to_ir(fn(*[z3.Int(a) for a in names]))
        body = terms.simplify((t[0], *[terms.sugar(c) for c in t[1:]]))
        rows.append((call, model_name, expr(body)))
    return rows


def all_ops(prog: Program) -> set[str]:
    """Every IR operator in the program (for the coverage test)."""
    found: set[str] = set()

    def visit(t: Node) -> None:
        found.add(t[0])
        if t[0] not in LEAVES:
            for c in t[1:]:
                visit(c)

    for node in _nodes(prog):
        visit(node)
    return found


def programs(machine: Machine) -> list[Program]:
    """The pseudocode of every transition, mutant and init of a machine."""
    out = [init_program(machine)]
    out += [program(machine, t) for t in machine.transitions.values()]
    for m in machine.mutants.values():
        if m.replaces == "init":
            out.append(init_program(machine, m.fn))
        else:
            out.append(program(machine, machine.transitions[m.replaces], m.fn, m.id))
    return out


__all__ = [
    "HELPERS", "PRINTED", "Assign", "IfElse", "Let", "Program", "Require", "all_ops",
    "execute", "expr", "helper_rows", "init_program", "program", "programs", "render",
]
