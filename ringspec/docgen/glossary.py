"""The glossary page: the words the other pages use, each defined once, with links to
where it is used.

Pages link a term where they first use it with :func:`ref`; the glossary lists, under
each term, every page section that links to it (found in the generated pages, so the
list cannot go stale).  Definitions of the ring's fields quote the model's own variable
docs (:data:`model.netmap_state.RING_VARS`); the solver's limit is read from proofs/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from model import sources
from model.core import Var
from model.netmap_state import RING_VARS
from proofs.solve import DEFAULT_RLIMIT
from ringspec.docgen import md

PAGE = "glossary.md"


@dataclass(frozen=True)
class Term:
    key: str  # the heading, and so the anchor
    definition: str
    more: str = ""  # where the term is shown in full


def _var(name: str) -> str:
    return next(v.doc for v in RING_VARS if v.name == name)


_PROOFS = (
    Term("obligation",
         "One question to the solver, built from the model: for example \"if every "
         "invariant holds and `txsync_hardened` fires, does `NM-TX-ORDER` still hold "
         "after it?\". Each obligation has a kind (`init`, `step`, `vacuity-*`, "
         "`prologue-*`, `refinement`, `mutant`) and an expected answer, *proved* or "
         "*refuted*; `ringspec prove` passes when every answer is the expected one.",
         "[every obligation, by machine](proofs.md)"),
    Term("refuted as expected",
         "The solver found a counterexample, and the model said it would. For the "
         "as-shipped and legacy code that is a *finding*: the C admits the bad state. "
         "For a *mutant* it shows that the proof notices the bug. A refutation that was "
         "not expected fails the run.",
         "[findings](findings.md)"),
    Term("counterexample",
         "Concrete values (ring size, every field, the step's arguments) for which an "
         "obligation's claim is false, as the solver reports them. The pages replay them "
         "on the concrete model, so every counterexample is also a runnable test.",
         "[findings](findings.md)"),
    Term("rlimit",
         "z3's resource counter: a deterministic measure of the work one query took, the "
         "same on every machine for a given z3 version (unlike seconds). Every query runs "
         f"with `rlimit = {DEFAULT_RLIMIT}` as its only bound; the tables show what each "
         "one used.",
         "[solver settings](proofs.md#solver-settings)"),
    Term("unsat core",
         "The premises a proof actually needed. Each invariant in a step obligation's "
         "premise is a named assumption; when z3 proves the obligation it reports a "
         "minimized set of those it used, shown as `uses` in the obligation tables. A "
         "proof that uses `NM-TX-ORDER` relies on the ring being in order before the step.",
         "[obligations by machine](proofs.md)"),
    Term("mutant",
         "A deliberately broken copy of a transition or of init (an off-by-one guard, a "
         "dropped range check, the empty slot given away) that the proofs must refute "
         "against a named invariant. Every invariant has at least one: a proof that "
         "cannot fail proves nothing.",
         "[mutants](proofs.md#mutants)"),
    Term("anti-vacuity",
         "Checks that a proof is not true for an empty reason: the initial state and "
         "every transition's guard can hold together with the invariants (obligation "
         "kinds `vacuity-init`, `vacuity-guard`), and every invariant kills a mutant.",
         "[proofs](proofs.md)"),
)
_MODEL = (
    Term("invariant",
         "A property of the ring state with a stable ID (`NM-TX-ORDER`) and one English "
         "sentence. Scope `kernel`: holds in every reachable state, whatever the user "
         "writes. Scope `user`: the user's view is consistent; it holds while the user "
         "follows the rules and every sync re-establishes it.",
         "[TX invariants](netmap_tx.md#invariants)"),
    Term("transition",
         "One step of the model: a pure function from a state (and arguments) to a guard "
         "and the state after. Each has an actor: `user` (a well-behaved application), "
         "`adversary` (an application writing anything), `kernel` (a sync, a reinit, a "
         "reset) or `device` (the NIC).",
         "[TX transitions](netmap_tx.md#transitions)"),
    Term("guard",
         "The condition under which a transition may happen, printed `require(...)` in "
         "the pseudocode. For `user_advance` it is the rule that head and cur move only "
         "within [head, tail]; for a sync it is only that the driver's count is not "
         "negative, because a sync must cope with whatever the user wrote.",
         "[user_advance](netmap_tx.md#user_advance)"),
    Term("ghost state",
         "A variable the model keeps that the C code does not have, added to state a "
         "property. `busy` counts the slots the NIC owns: `nic == hwcur` alone cannot tell "
         "a NIC ring that is empty from one that is full.",
         "[state](netmap_tx.md#state)"),
    Term("policy",
         "How the kernel checks the user's indices. **as-shipped** is netmap.c as it is, "
         "looseness included (the findings); **hardened** is the minimal fix the proofs "
         "show sufficient: both prologues also require head and cur < N and validate "
         "before storing, and reinit restores the user's fields from the kring instead "
         "of copying them into it.",
         "[findings](findings.md)"),
    Term("finding",
         "A place where the shipped C code admits a state that breaks an invariant. The "
         "model follows the code; the proofs refute the affected obligations, as "
         "expected; the findings page tells the story and replays the counterexamples.",
         "[findings](findings.md)"),
    Term("prologue",
         f"{sources.link('nm_txsync_prologue')} and {sources.link('nm_rxsync_prologue')}: "
         "the kernel's check of the user's head and cur at the start of every sync. "
         "Accepted: the driver runs. Rejected: the kernel calls "
         f"{sources.link('netmap_ring_reinit')} (and, on RX, runs the driver anyway).",
         "[finding: a rejected sync](findings.md)"),
)
_FIELDS = (
    Term("kring",
         f"{sources.link('struct netmap_kring')}: the kernel's private state of one "
         "ring, never mapped into the application: `nr_hwcur`, `nr_hwtail` and the "
         "copies `rhead`, `rcur`, `rtail` of the user's head, cur and tail that the "
         "prologues store (as shipped, not always validated).",
         "[state](netmap_tx.md#state)"),
    *[Term(name, _var(name), "[state](netmap_tx.md#state)")
      for name in ("head", "cur", "tail", "hwcur", "hwtail", "rhead", "rcur", "rtail",
                   "nic", "busy")],
)

#: The page's sections and their terms, in order.
GROUPS = (("Proofs", _PROOFS), ("The model", _MODEL), ("The ring's fields", _FIELDS))
TERMS: tuple[Term, ...] = tuple(t for _, group in GROUPS for t in group)

_BY_KEY = {t.key: t for t in TERMS}


def var_ref(var: Var) -> str | None:
    """A link for a state variable that is the one the glossary defines (the modern ring's
    own :data:`RING_VARS` entry; a legacy ``cur`` means something else), else None."""
    if any(var is v for v in RING_VARS) and var.name in _BY_KEY:
        return ref(var.name, md.tick(var.name))
    return None


def anchor(key: str) -> str:
    return md.slug(_BY_KEY[key].key)


def ref(key: str, text: str | None = None) -> str:
    """A link to the glossary entry ``key`` (shown as ``text``, default the key)."""
    return f"[{text if text is not None else key}]({PAGE}#{anchor(key)})"


_HEADING = re.compile(r"^(#{1,6}) (.+)$")


def uses(pages: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Term key -> (page, section heading) of the first section of each page linking to
    it, in page order."""
    out: dict[str, list[tuple[str, str]]] = {t.key: [] for t in TERMS}
    targets = {f"({PAGE}#{anchor(t.key)})": t.key for t in TERMS}
    for name, text in pages.items():
        if not name.endswith(".md") or name == PAGE:
            continue
        section = ""
        in_code = False
        for line in text.splitlines():
            if line.startswith("```"):
                in_code = not in_code
            m = _HEADING.match(line) if not in_code else None
            if m:
                section = "" if len(m.group(1)) == 1 else m.group(2)
            for target, key in targets.items():
                if target in line and all(page != name for page, _ in out[key]):
                    out[key].append((name, section))
    return out


def render(pages: dict[str, str], nav: str) -> str:
    """The page; ``pages`` are the other generated pages, searched for links here."""
    used = uses(pages)
    body = [
        "The words the other pages use, each defined once. Pages link a term here where "
        "they first use it; under each term is that first place on each page.",
    ]
    for title, group in GROUPS:
        body.append(f"## {title}")
        for t in group:
            places = [
                md.link(page[:-3] + (f" › {section.replace('`', '')}" if section else ""),
                        page, section)
                for page, section in used[t.key]
            ]
            body.append(f"### {t.key}")
            body.append(t.definition + (f" See {t.more}." if t.more else ""))
            if places:
                body.append("Linked from: " + ", ".join(places) + ".")
    return md.page("Glossary", nav, body)
