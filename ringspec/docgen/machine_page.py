"""One page per area (a machine of the model): what an engineer needs first, the evidence
last.

The page is built from the machine alone: the module docstring (its permalinks turned into
links), the state variables and init, the regions and a worked example (the only per-area
input, :mod:`areas`), every transition in words, as C-like pseudocode (:mod:`pseudocode`)
and as a formula (:mod:`formulas`), the invariants in words and as formulas, and a pointer
to the obligations and mutants on the proofs page.  A new area needs no code here.
"""

from __future__ import annotations

import re
import sys

from model import sources
from model.core import Machine
from ringspec.docgen import common, formulas, glossary, md, pseudocode, scenario
from ringspec.docgen.areas import AREAS
from ringspec.docgen.evidence import Evidence

#: Formulas longer than this many lines go into a collapsed block.
LONG = 14

_PERMALINK = re.compile(r"\(?(https://github\.com/(?:luigirizzo/netmap|amzn/amzn-drivers)/blob/"
                        r"[0-9a-f]+/[\w./-]+"
                        r"#L\d+)\)?")
_BY_URL = {sym.url: name for name, sym in sources.SYMBOLS.items()}


def _cite(text: str) -> str:
    """Raw permalinks in a docstring as links labelled with the file and line."""

    def label(m: re.Match[str]) -> str:
        url = m.group(1)
        path, line = url.rsplit("/", 1)[-1].split("#L")
        old = " (2013)" if sources.NETMAP_2013_COMMIT in url else ""
        return f"([{path}:{line}{old}]({url}))"

    return _PERMALINK.sub(label, text)


def _first_sentence(doc: str) -> str:
    text = " ".join(md.prose(doc).split())
    m = re.match(r"(.+?\.)(\s|$)", text)
    return m.group(1) if m else text


def _intro(machine: Machine, sections: list[str]) -> list[str]:
    module = sys.modules[machine.init.__module__]  # where the machine is defined
    doc = (module.__doc__ or "").strip()
    headings = [s[3:] for s in sections if s.startswith("## ")]
    return [
        _cite(md.prose(doc)),
        f"Model: `{module.__name__}`, machine `{machine.name}` "
        f"(`{machine.state_type.__name__}` states; ring size {machine.size_text}). "
        "On this page: " + ", ".join(md.link(h.lower(), heading=h) for h in headings) + ".",
    ]


def _state(machine: Machine) -> list[str]:
    return [
        "## State",
        md.table(
            ["variable", "owner", "domain", "meaning"],
            [[glossary.var_ref(v) or md.tick(v.name), v.owner, v.domain, v.doc]
             for v in machine.vars],
        ),
        f"`ghost` marks {glossary.ref('ghost state')}: kept by the model, not by the C.",
        "### Init",
        md.prose(machine.doc),
        md.code(pseudocode.render(pseudocode.init_program(machine)), "c"),
    ]


def _regions(machine: Machine) -> list[str]:
    area = AREAS.get(machine.name)
    if area is None or area.regions is None:
        return []
    sizes = formulas.region_sizes(area.regions, machine.state_type)
    return [
        "## Regions",
        f"Going forward from `hwcur` the slots fall into these regions, in this order; "
        f"their sizes are the model's `{area.regions.__name__}`:",
        md.table(["region", "number of slots"],
                 [[md.tick(k), md.tick(v)] for k, v in sizes.items()]),
    ]


def _example(machine: Machine) -> list[str]:
    area = AREAS.get(machine.name)
    if area is None or area.example is None:
        return []
    sc = area.example
    rows = scenario.run(sc)
    broken = [r for r in rows if r.violated]
    if broken:
        raise ValueError(f"{sc.name}: the worked example breaks {broken[0].violated}")
    if area.picture:
        figure = area.picture(sc.name, [("before", sc.start)] + [
            (f"{i}. {r.action.short or r.action.what}", r.after)
            for i, r in enumerate(rows, 1)], sc.machine).markdown
    elif scenario.drawable(sc):
        figure = scenario.figure(sc, rows)
    else:  # no slots to draw: the table says it all
        figure = ""
    return [x for x in (
        "## Worked example",
        " ".join(x for x in (
            f"{area.example_title}, run on the model when this page was generated; every "
            "invariant holds after every step.", scenario.picture_note(sc)) if x),
        figure,
        scenario.table(sc, rows),
        scenario.replay(sc),
    ) if x]


def _formula_block(text: str, summary: str) -> str:
    block = md.code(text)
    if text.count("\n") + 1 > LONG:
        return md.details(summary, block)
    return block


def _transitions(machine: Machine) -> list[str]:
    rows = []
    for t in machine.transitions.values():
        params = ", ".join(md.tick(p.name) for p in t.params) or "none"
        breaks = ", ".join(md.tick(b) for b in sorted(t.breaks)) or ""
        rows.append([md.link(md.tick(t.name), heading=t.name), t.actor,
                     _first_sentence(t.doc), params, breaks])
    helpers = md.table(["pseudocode", "model.core", "definition (printed from the model)"],
                       [[md.tick(a), md.tick(b), md.tick(c)]
                        for a, b, c in pseudocode.helper_rows()])
    out = [
        "## Transitions",
        f"Each {glossary.ref('transition')} is a pure function of the state. Below, each "
        "is printed twice from the model's own terms: as C-like pseudocode, then as the "
        f"formula the solver reads. In the pseudocode `require(c)` is the {glossary.ref('guard')}"
        " (the step happens only when `c` holds); locals are computed from the state before "
        "the step; statements run in order, and every field not assigned keeps its value."
        + (f" {AREAS[machine.name].named_doc}" if machine.name in AREAS
           and AREAS[machine.name].named_doc else ""),
        md.details("The ring helpers the pseudocode calls", helpers),
        md.table(["transition", "actor", "what it does", "parameters",
                  "as shipped, breaks"], rows),
    ]
    for t in machine.transitions.values():
        out.append(f"### {t.name}")
        meta = f"Actor: **{t.actor}**. User view: {common.VIEW_MEANING[t.view]}."
        if t.breaks:
            meta += (
                " Faithful to the shipped code, it is expected **not** to preserve "
                + ", ".join(md.tick(b) for b in sorted(t.breaks))
                + " (see [findings](findings.md))."
            )
        out.append(meta)
        if t.doc:
            out.append(md.prose(t.doc))
        if t.params:
            out.append(md.table(
                ["parameter", "domain", "meaning"],
                [[md.tick(formulas.arg_name(machine, p.name)), p.domain, p.doc]
                 for p in t.params],
            ))
        out.append(md.code(pseudocode.render(pseudocode.program(machine, t)), "c"))
        rendered = formulas.transition(machine, t)
        out.append(md.details(f"Formula of <code>{t.name}</code>", md.code(rendered.text())))
    return out


def _invariants(machine: Machine, ev: Evidence) -> list[str]:
    killers: dict[str, list[str]] = {}
    for r in ev.for_machine(machine):
        if r.obligation.kind == "mutant" and r.result == "refuted":
            killers.setdefault(r.obligation.invariant, []).append(r.id.rsplit("/", 1)[-1])
    rows = [
        [md.link(md.tick(i.id), heading=i.id), i.scope, i.sentence]
        for i in machine.invariants.values()
    ]
    out = [
        "## Invariants",
        f"An {glossary.ref('invariant')} of scope `kernel` holds in every reachable state, "
        "adversarial user included; scope `user`: the user's view is consistent, which "
        "holds while the user is well-behaved and is re-established by every sync.",
        md.table(["invariant", "scope", "statement"], rows),
    ]
    for inv in machine.invariants.values():
        out.append(f"### {inv.id}")
        mutants = killers.get(inv.id, [])
        killed = ", ".join(md.link(md.tick(m), "proofs.md", m) for m in mutants) or "**none**"
        out.append(f"{inv.sentence}\n\nScope: `{inv.scope}`. Killed "
                   f"{glossary.ref('mutant', 'mutants')}: {killed}.")
        text = formulas.invariant(machine, inv).text()
        out.append(_formula_block(text, f"Formula of <code>{inv.id}</code>"))
    return out


def _evidence(machine: Machine, ev: Evidence) -> list[str]:
    rows = ev.for_machine(machine)
    ok = sum(r.ok for r in rows)
    proved = sum(r.ok and r.result == "proved" for r in rows)
    mutants = [r for r in rows if r.obligation.kind == "mutant"]
    found = sum(r.ok for r in rows if r.is_finding)
    return [
        "## Evidence",
        f"**{ok} of {len(rows)}** {glossary.ref('obligation', 'obligations')} about "
        f"`{machine.name}` meet their expectation: {proved} proved, {found} "
        f"{glossary.ref('refuted as expected')} (findings), "
        f"{sum(r.result == 'refuted' for r in mutants)} of {len(mutants)} mutants killed. "
        f"The table of every obligation, with the invariants each proof used, and every "
        f"mutant with its pseudocode and counterexample are on the "
        f"[proofs page](proofs.md#{md.slug(machine.name)}).",
    ]


def render(machine: Machine, ev: Evidence) -> str:
    sections = [
        *_state(machine),
        *_regions(machine),
        *_example(machine),
        *_transitions(machine),
        *_invariants(machine, ev),
        *_evidence(machine, ev),
    ]
    body = [*_intro(machine, sections), *sections]
    return md.page(f"{machine.title} (`{machine.name}`)", common.nav(f"{machine.name}.md"), body)
