"""One page per machine: variables, init, transitions, invariants, obligations, mutants."""

from __future__ import annotations

import sys

from model.core import Machine
from ringspec.docgen import common, formulas, md
from ringspec.docgen.evidence import Evidence

#: Formulas longer than this many lines go into a collapsed block.
LONG = 14


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
        rows.append([md.link(md.tick(t.name), heading=t.name), t.actor, t.view, params, breaks])
    out = [
        "## Transitions",
        "Each transition is a pure function `(state, **args) -> Step(guard, post)`. Below, "
        "the guard and every changed field (`field'`) are printed from the model's own "
        "terms; fields not listed keep their value. Names defined with `:=` abbreviate "
        "subterms: " + ("`accepted` and `errors` are what the sync prologue and "
                        "`netmap_ring_reinit` compute, " if formulas.known_terms(machine)
                        else "") + "`e1`, `e2`, ... are repeated subterms.",
        md.table(["transition", "actor", "user view", "parameters", "as shipped, breaks"], rows),
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
            out.append(
                md.table(
                    ["parameter", "domain", "meaning"],
                    [[md.tick(formulas.arg_name(machine, p.name)), p.domain, p.doc]
                     for p in t.params],
                )
            )
        rendered = formulas.transition(machine, t)
        out.append(_formula_block(rendered.text(), f"Guard and effect of <code>{t.name}</code>"))
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
        "Scope `kernel`: holds in every reachable state, adversarial user included. Scope "
        "`user`: the user's view is consistent; holds while the user is well-behaved and "
        "is re-established by every sync.",
        md.table(["invariant", "scope", "statement"], rows),
    ]
    for inv in machine.invariants.values():
        out.append(f"### {inv.id}")
        mutants = killers.get(inv.id, [])
        killed = ", ".join(md.link(md.tick(m), heading=m) for m in mutants) or "**none**"
        out.append(f"{inv.sentence}\n\nScope: `{inv.scope}`. Killed mutants: {killed}.")
        out.append(md.code(formulas.invariant(machine, inv).text()))
    return out


def _mutants(machine: Machine, ev: Evidence) -> list[str]:
    if not machine.mutants:
        return []
    out = [
        "## Mutants",
        "Each mutant is a deliberately broken step the proofs must refute; the "
        "counterexample below is the solver's model from the proof run (values that differ "
        "from the first row are bold).",
    ]
    for mut in machine.mutants.values():
        row = ev.by_id[f"{machine.name}/mutant/{mut.id}"]
        verdict = "killed" if row.result == "refuted" else "**SURVIVED**"
        out.append(f"### {mut.id}")
        out.append(
            f"{md.prose(mut.doc)}\n\nReplaces `{mut.replaces}`; must break "
            f"{md.link(md.tick(mut.invariant), heading=mut.invariant)}: {verdict} "
            f"(`{row.id}`, rlimit {row.rlimit})."
        )
        if mut.replaces == "init":
            text = formulas.init(machine, mut.fn).text()
        else:
            text = formulas.transition(machine, machine.transitions[mut.replaces], mut.fn).text()
        out.append(_formula_block(text, f"Guard and effect of <code>{mut.id}</code>"))
        out.append(common.counterexample(row.counterexample))
    return out


def render(machine: Machine, ev: Evidence) -> str:
    module = sys.modules[machine.init.__module__]  # where the machine is defined
    body = [
        f"Model: `{module.__name__}`, machine `{machine.name}` (`{machine.state_type.__name__}`"
        f" states; ring size {machine.size_text}).",
        md.prose(module.__doc__ or ""),
        "## State",
        md.table(
            ["variable", "owner", "domain", "meaning"],
            [[md.tick(v.name), v.owner, v.domain, v.doc] for v in machine.vars],
        ),
        "## Init",
        md.prose(machine.doc),
        md.code(formulas.init(machine).text()),
        *_transitions(machine),
        *_invariants(machine, ev),
        "## Obligations",
        "The rows of the [proof run](proofs.md) for this machine. `rlimit` is z3's "
        "deterministic effort count; `uses` lists the invariants of the premise the proof "
        "actually needed (z3's minimized unsat core): e.g. which facts a transition relies "
        "on to keep the ring in order.",
        common.obligation_table(ev.for_machine(machine), with_note=False),
        *_mutants(machine, ev),
    ]
    return md.page(f"{machine.title} (`{machine.name}`)", common.nav(f"{machine.name}.md"), body)
