"""Printing IR terms: one-line and broken infix forms, and named abbreviations for big
or repeated subterms (``name := term`` definitions printed before the formulas)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable

from model import core
from ringspec.docgen.terms import LEAVES, Node

_INFIX = {"eq": "==", "ne": "!=", "le": "<=", "lt": "<", "ge": ">=", "gt": ">"}
#: Function-style nodes and the name they print as.
_FUNC = {
    "ite": "If", "and": "And", "or": "Or", "not": "Not", "distinct": "Distinct",
    "next": "next", "prev": "prev", "in_cyclic": "in_cyclic", "min": "min", "u32": "u32",
}
_SIZED = ("next", "prev", "in_cyclic")


def _call(t: Node) -> tuple[str, list[Node]]:
    args = list(t[1:])
    if t[0] in _SIZED and args[-1] == ("var", "n"):
        args = args[:-1]  # the ring size is implicit
    return _FUNC[t[0]], args


def _prec(t: Node) -> int:
    op = t[0]
    if op in _INFIX or op in ("in_range", "between"):
        return 1
    return {"add": 2, "sub": 2, "mul": 3, "dist": 3, "ring_add": 3, "neg": 4}.get(op, 9)


def _wrap(t: Node, prec: int) -> str:
    s = flat(t)
    return f"({s})" if _prec(t) < prec else s


def flat(t: Node) -> str:
    """One-line rendering."""
    op = t[0]
    if op in ("var", "ref"):
        return t[1]
    if op == "int":
        return "U32_MAX" if t[1] == core.U32_MAX else str(t[1])
    if op == "bool":
        return "True" if t[1] else "False"
    if op in _INFIX:
        return f"{_wrap(t[1], 2)} {_INFIX[op]} {_wrap(t[2], 2)}"
    if op == "in_range":
        return f"0 <= {_wrap(t[1], 2)} < {_wrap(t[2], 2)}"
    if op == "between":
        return f"0 <= {_wrap(t[1], 2)} <= {_wrap(t[2], 2)}"
    if op == "dist":
        return f"({flat(t[2])} - {_wrap(t[1], 3)}) % {_wrap(t[3], 4)}"
    if op == "ring_add":
        return f"({flat(t[1])} + {_wrap(t[2], 2)}) % {_wrap(t[3], 4)}"
    if op == "add":
        out = _wrap(t[1], 2)
        for x in t[2:]:
            out += f" - {-x[1]}" if x[0] == "int" and x[1] < 0 else f" + {_wrap(x, 2)}"
        return out
    if op == "sub":
        return f"{_wrap(t[1], 2)} - {_wrap(t[2], 3)}"
    if op == "mul":
        return " * ".join(_wrap(x, 3) for x in t[1:])
    if op == "neg":
        return f"-{_wrap(t[1], 4)}"
    name, args = _call(t)
    return f"{name}({', '.join(flat(a) for a in args)})"


def pretty(t: Node, width: int = 96, indent: int = 0, first: int = 0) -> str:
    """Print ``t``; nodes that do not fit break one argument per line.

    ``indent`` is the column of the lines a break starts; ``first`` the columns already
    used on the first line (a ``label = `` prefix)."""
    s = flat(t)
    if indent + first + len(s) <= width or t[0] in LEAVES:
        return s
    pad = " " * (indent + 4)
    if t[0] in _FUNC:
        name, args = _call(t)
        inner = ",\n".join(pad + pretty(a, width, indent + 4) for a in args)
        return f"{name}(\n{inner},\n{' ' * indent})"
    if t[0] in _INFIX:
        left = pretty(t[1], width, indent, first)
        right = pretty(t[2], width, indent + 4, len(_INFIX[t[0]]) + 1)
        return f"{left}\n{pad}{_INFIX[t[0]]} {right}"
    if t[0] == "add":
        parts = [pretty(t[1], width, indent, first)]
        parts += [f"{pad}+ {pretty(x, width, indent + 4, 2)}" for x in t[2:]]
        return "\n".join(parts)
    return s


# ---------------------------------------------------------------------------- abbreviations


def _size(t: Node) -> int:
    if t[0] in LEAVES:
        return 1
    return 1 + sum(_size(c) for c in t[1:])


def _replace(t: Node, table: dict[Node, Node]) -> Node:
    if t in table:
        return table[t]
    if t[0] in LEAVES:
        return t
    return (t[0], *[_replace(c, table) for c in t[1:]])


def _subterms(t: Node, out: Counter) -> None:
    if t[0] in LEAVES:
        return
    out[t] += 1
    for c in t[1:]:
        _subterms(c, out)


@dataclasses.dataclass
class Rendered:
    """Formulas for one page item, with the abbreviations they use defined first."""

    where: list[tuple[str, Node]]
    items: list[tuple[str, Node]]

    def text(self, width: int = 96) -> str:
        lines = []
        for name, t in self.where:
            prefix = f"{name} := "
            lines.append(prefix + pretty(t, width, 0, len(prefix)))
        if self.where:
            lines.append("")
        for label, t in self.items:
            prefix = f"{label} = " if label else ""
            lines.append(prefix + pretty(t, width, 0, len(prefix)))
        return "\n".join(lines)

    @property
    def lines(self) -> int:
        return self.text().count("\n") + 1


def abbreviate(
    items: Iterable[tuple[str, Node]],
    known: Iterable[tuple[str, Node]] = (),
    min_size: int = 12,
) -> Rendered:
    """Name the known subterms, then repeated subterms: twice and at least ``min_size``
    nodes, or three times and at least half that."""
    items = list(items)
    where: list[tuple[str, Node]] = []
    table: dict[Node, Node] = {}
    used = Counter()
    for _, t in items:
        _subterms(t, used)
    for name, t in known:
        if t in used and t not in table and _size(t) > 3:
            table[t] = ("ref", name)
            where.append((name, t))
    items = [(label, _replace(t, table)) for label, t in items]
    where = [(name, _replace_inner(t, table)) for name, t in where]
    auto: list[str] = []
    while True:
        counts: Counter = Counter()
        for _, t in items + where:
            _subterms(t, counts)
        repeated = [
            t for t, k in counts.items()
            if (k >= 2 and _size(t) >= min_size) or (k >= 3 and 2 * _size(t) >= min_size)
        ]
        if not repeated:
            break
        best = max(repeated, key=_size)  # largest first; ties: first seen (Counter order)
        name = f"#{len(auto)}"
        auto.append(name)
        table = {best: ("ref", name)}
        items = [(label, _replace(t, table)) for label, t in items]
        where = [(n, _replace_inner(t, table)) for n, t in where] + [(name, best)]
    return _ordered(items, where)


def _refs(t: Node, out: list[str]) -> list[str]:
    if t[0] == "ref":
        if t[1] not in out:
            out.append(t[1])
    elif t[0] not in LEAVES:
        for c in t[1:]:
            _refs(c, out)
    return out


def _ordered(items: list[tuple[str, Node]], where: list[tuple[str, Node]]) -> Rendered:
    """Definitions in order of first use, each after the ones it uses; automatic names
    renumbered ``e1``, ``e2``, ... in that order."""
    defs = dict(where)
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in defs:
            return
        for r in _refs(defs[name], []):
            visit(r)
        order.append(name)

    for _, t in items:
        for r in _refs(t, []):
            visit(r)
    for name in defs:
        visit(name)
    ren: dict[Node, Node] = {}
    for name in order:
        if name.startswith("#"):
            ren[("ref", name)] = ("ref", f"e{len(ren) + 1}")

    def rename(t: Node) -> Node:
        return _replace(t, ren)

    new_where = [(ren.get(("ref", n), ("ref", n))[1], rename(defs[n])) for n in order]
    return Rendered(new_where, [(label, rename(t)) for label, t in items])


def _replace_inner(t: Node, table: dict[Node, Node]) -> Node:
    """Replace inside ``t`` but not ``t`` itself (a definition must not name itself)."""
    if t[0] in LEAVES:
        return t
    return (t[0], *[_replace(c, table) for c in t[1:]])
