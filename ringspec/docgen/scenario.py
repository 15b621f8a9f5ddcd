"""Worked examples: a hand-picked start state and a few steps, run on the concrete model
when the pages are generated.

Only the inputs are typed (the start state, what the application writes, which syncs run);
every result a page shows (the states after each step, whether the prologue accepted,
which slots the driver handed over, which invariants broke, the pictures, the replay's
output) is computed here from the model.  A step named ``*_as_shipped`` is run as its
``*_hardened`` twin for the hardened column, so one scenario shows both policies.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model import netmap_legacy, netmap_ring
from model.core import Machine, ring_dist
from model.netmap_ring import AS_SHIPPED, HARDENED, PROLOGUES, NetmapRing, caller_accepts
from ringspec.docgen import md, pictures
from ringspec.docgen.evidence import machine_symbol, run_snippet, state_import, state_literal

#: Kernel steps that hand slots to the device: what ``hwcur`` moving over means.
HANDED = {"tx": "handed to the NIC", "rx": "given back to the NIC"}


@dataclass(frozen=True)
class Action:
    """One step of a worked example: what happens, in words, and the model's step."""

    what: str
    transition: str
    args: dict[str, int] = field(default_factory=dict)
    short: str = ""  # the picture's caption, if ``what`` is too long for it

    def call(self, transition: str | None = None) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{transition or self.transition}({args})"


@dataclass(frozen=True)
class Scenario:
    """A start state and the actions taken from it (one machine)."""

    name: str  # picture name prefix: lower case, digits, '-'
    machine: Machine
    start: Any
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Row:
    """An action and what the model did: the state after it, whether the sync prologue
    accepted (None for other steps), the slots ``hwcur`` moved over, broken invariants."""

    action: Action
    transition: str
    before: Any
    after: Any
    accepted: bool | None
    moved: tuple[int, ...]
    violated: tuple[str, ...]


def direction(machine: Machine) -> str:
    return "rx" if machine.name.endswith("rx") else "tx"


def as_ring(state: Any) -> NetmapRing:
    """The state as a modern ring, for pictures (legacy states through the refinement
    mapping of model.netmap_legacy)."""
    if isinstance(state, NetmapRing):
        return state
    return netmap_legacy.to_modern(state)


def for_policy(name: str, policy: str) -> str:
    """The transition ``name`` stands for under ``policy`` (as-shipped names the default)."""
    if policy == HARDENED and name.endswith(f"_{AS_SHIPPED}"):
        return name[: -len(AS_SHIPPED)] + HARDENED
    return name


def _accepted(machine: Machine, transition: str, policy: str, s: Any) -> bool | None:
    if machine.name in PROLOGUES and ("txsync" in transition or "rxsync" in transition):
        return bool(caller_accepts(PROLOGUES[machine.name](policy, s)))
    return None


#: The pseudo-step of an application writing ring fields: the model's ``user_scribble``
#: where the machine has one (it writes head, cur and tail together), else a plain write.
WRITE = "write"


def _step(machine: Machine, name: str, s: Any, args: dict[str, int]) -> Any:
    if name == WRITE and "user_scribble" in machine.transitions:
        values = {f: args.get(f, getattr(s, f)) for f in ("head", "cur", "tail")}
        step = machine.transitions["user_scribble"](s, **values)
    elif name == WRITE:
        return s.replace(**args)
    else:
        step = machine.transitions[name](s, **args)
    if step.guard is not True:
        raise ValueError(f"{machine.name}: {name}{args} cannot happen in {s!r}")
    return step.post


def run(sc: Scenario, policy: str = AS_SHIPPED) -> list[Row]:
    """Run every action in order (guards must hold: a scenario is a possible history)."""
    s = sc.start
    rows = []
    for a in sc.actions:
        name = for_policy(a.transition, policy)
        post = _step(sc.machine, name, s, a.args)
        moved: tuple[int, ...] = ()
        if "sync" in name and hasattr(s, "hwcur"):
            k = ring_dist(s.hwcur, post.hwcur, s.n)
            moved = tuple((s.hwcur + i) % s.n for i in range(k))
        rows.append(Row(a, name, s, post, _accepted(sc.machine, name, policy, s), moved,
                        tuple(sc.machine.violated(post))))
        s = post
    return rows


# ---------------------------------------------------------------------------- rendering

_RING = ("head", "cur", "tail")


def _fields(machine: Machine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(user fields, kernel and device fields) in the order of the state."""
    names = [f.name for f in dataclasses.fields(machine.state_type) if f.name != "n"]
    user = tuple(v.name for v in machine.vars if v.owner == "user")
    return user, tuple(x for x in names if x not in user)


def _values(s: Any, names: Sequence[str], before: Any | None) -> str:
    parts = []
    for x in names:
        v = getattr(s, x)
        changed = before is not None and getattr(before, x) != v
        parts.append(f"**{x}={v}**" if changed else f"{x}={v}")
    return ", ".join(parts)


def table(sc: Scenario, rows: list[Row]) -> str:
    """The actions as a table: what happened, the model's step, the prologue's verdict,
    the state after (changed values bold), the slots handed over, broken invariants."""
    user, kernel = _fields(sc.machine)
    handed = HANDED[direction(sc.machine)]
    body = [["", "start", "", "", _values(sc.start, user, None),
             _values(sc.start, kernel, None), "", ", ".join(sc.machine.violated(sc.start))
             or "none"]]
    for i, r in enumerate(rows, 1):
        verdict = "" if r.accepted is None else ("accepted" if r.accepted else "**rejected**")
        body.append([
            str(i), r.action.what, md.tick(r.action.call(r.transition)), verdict,
            _values(r.after, user, r.before), _values(r.after, kernel, r.before),
            ", ".join(map(str, r.moved)) or "none",
            ", ".join(md.tick(v) for v in r.violated) or "none",
        ])
    header = ["#", "what happens", "model step", "prologue", "ring after",
              "kernel and NIC after", f"slots {handed}", "invariants broken"]
    if not drawable(sc):  # not a ring: no prologue, no slots handed over
        header[4:6] = ["user's part after", "the rest after"]
        keep = [i for i in range(len(header)) if i not in (3, 6)
                and (i != 4 or any(row[4] for row in body))]
        if 4 not in keep:
            header[5] = "state after"
        header = [header[i] for i in keep]
        body = [[row[i] for i in keep] for row in body]
    return md.table(header, body)


def figure(sc: Scenario, rows: list[Row], policy: str = "") -> str:
    """The start and the state after every action, one picture row each (the picture
    names the invariants a row breaks)."""
    marks = ("head", "cur", "tail", "hwcur", "rhead", "rcur", "rtail", "hwtail", "nic")
    pics = [("before", as_ring(sc.start))]
    pics += [(f"{i}. {r.action.short or r.action.what}", as_ring(r.after))
             for i, r in enumerate(rows, 1)]
    name = sc.name + (f"-{policy.replace('_', '-')}" if policy else "")
    return pictures.figure(name, pics, direction(sc.machine), marks=marks).markdown


def drawable(sc: Scenario) -> bool:
    """The scenario's states are rings (modern, or legacy through the mapping)."""
    return isinstance(sc.start, (NetmapRing, netmap_legacy.LegacyRing))


def picture_note(sc: Scenario) -> str:
    """What a reader needs to know about the pictures of a non-modern ring, or ''."""
    if isinstance(sc.start, NetmapRing) or not drawable(sc):
        return ""
    return ("The pictures draw the legacy ring through the refinement mapping to "
            "head/cur/tail (`model.netmap_legacy.to_modern`), so the invariants they name "
            "are the modern ones the mapped state breaks.")


def replay_code(sc: Scenario, policy: str = AS_SHIPPED) -> str:
    """A snippet that runs the scenario on the concrete model and prints each state."""
    sym = machine_symbol(sc.machine)
    start = {f.name: getattr(sc.start, f.name) for f in dataclasses.fields(sc.start)}
    lines = [f"from model import {sym}", state_import(sc.machine), "",
             f"s = {state_literal(sc.machine, start)}"]
    for a in sc.actions:
        name = for_policy(a.transition, policy)
        lines.append(f"# {a.what}")
        if name == WRITE and "user_scribble" in sc.machine.transitions:
            args = ", ".join(f"{f}={a.args[f]}" if f in a.args else f"{f}=s.{f}"
                             for f in ("head", "cur", "tail"))
            lines.append(f'step = {sym}.transitions["user_scribble"](s, {args})')
        elif name == WRITE:
            lines.append(f"s = s.replace({', '.join(f'{k}={v}' for k, v in a.args.items())})")
        else:
            args = "".join(f", {k}={v}" for k, v in a.args.items())
            lines.append(f'step = {sym}.transitions["{name}"](s{args})')
        if name != WRITE or "user_scribble" in sc.machine.transitions:
            lines.append("assert step.guard is True")
            lines.append("s = step.post")
        lines.append('print(s, "broken:", ' + f"{sym}.violated(s))")
    return "\n".join(lines) + "\n"


def replay(sc: Scenario, policies: Sequence[str] = (AS_SHIPPED,)) -> str:
    """The replay snippets, run now, with their output, folded."""
    parts = []
    for policy in policies:
        code = replay_code(sc, policy)
        parts += [md.code(code, "python"),
                  "Output (computed when these pages were generated):",
                  md.code(run_snippet(code))]
    title = "Replay it on the model (" + ", ".join(p.replace("_", "-") for p in policies) + ")"
    return md.details(title, "\n\n".join(parts))


_REGION_LINE = re.compile(
    r"^\s*(?:TX:|RX:)?\s*(?:[\[(]\S+, \S+[)\]]|\S+)\s+(.+?)\s+\((\w[\w ]*)\)$")


def region_meanings(d: str) -> dict[str, str]:
    """Region -> what its slots are, as model/netmap_ring.py's docstring draws them (the
    ``TX:`` or ``RX:`` block, one region a line)."""
    out: dict[str, str] = {}
    block = ""
    for line in (netmap_ring.__doc__ or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(("TX:", "RX:")):
            block = stripped[:2].lower()
        elif not stripped:
            block = ""
        m = _REGION_LINE.match(line)
        if m and block == d:
            out[m.group(2).replace(" ", "_")] = m.group(1)
    return out


def slots(values: Sequence[int]) -> str:
    """``5, 6 and 7`` (or ``none``)."""
    items = [str(v) for v in values]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def owners(s: NetmapRing, machine: Machine) -> dict[int, str]:
    """Slot -> region of a consistent ring (the model's regions, via pictures)."""
    labels = pictures.slot_regions(s, direction(machine))
    if labels is None:
        raise ValueError(f"{s!r} is not a consistent {machine.name} ring")
    return dict(enumerate(labels))


def by_region(s: NetmapRing, machine: Machine, picked: Sequence[int]) -> dict[str, list[int]]:
    """The slots of ``picked`` grouped by the region they were in, in ``s``."""
    where = owners(s, machine)
    out: dict[str, list[int]] = {}
    for i in picked:
        out.setdefault(where[i], []).append(i)
    return out
