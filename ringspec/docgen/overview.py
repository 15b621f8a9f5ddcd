"""The index page and the proof page."""

from __future__ import annotations

from collections import Counter

import z3

import model
from proofs import obligations as obligations_module
from proofs.solve import DEFAULT_RLIMIT
from ringspec.docgen import common, findings, md, terms
from ringspec.docgen.evidence import Evidence

DESCRIPTIONS = {
    "proofs.md": "every obligation, its kind and result; the mutants and what they kill",
    "findings.md": "where the shipped netmap code (and the legacy drivers) break an invariant, "
    "with counterexamples and replayable traces",
    "ownership.md": "who owns which slot, who moves each boundary, and a concrete picture",
    "user-questions.md": "the ring questions netmap users keep asking, answered from the model",
    "rules.md": "the rules, with complete TX and RX loops in C, each step tied to the model",
    "errors.md": "what a rejected sync looks like to the user, and why a bad cur sticks",
    "driver.md": "for driver authors: txsync/rxsync, netmap_reset, lazy reclaim, a checklist",
}


def _kind_table(ev: Evidence) -> str:
    kinds: Counter = Counter()
    proved: Counter = Counter()
    refuted: Counter = Counter()
    failing: Counter = Counter()
    for r in ev.rows:
        k = r.obligation.kind
        kinds[k] += 1
        if not r.ok:
            failing[k] += 1
        elif r.result == "proved":
            proved[k] += 1
        else:
            refuted[k] += 1
    rows = [[md.tick(k), n, proved[k], refuted[k], failing[k]] for k, n in kinds.items()]
    rows.append(["**total**", sum(kinds.values()), sum(proved.values()),
                 sum(refuted.values()), sum(failing.values())])
    return md.table(
        ["kind", "obligations", "proved", "refuted as expected", "not as expected"], rows,
        "lrrrr",
    )


def headline(ev: Evidence) -> str:
    total = len(ev.rows)
    ok = sum(r.ok for r in ev.rows)
    proved = sum(r.ok and r.result == "proved" for r in ev.rows)
    found = sum(r.ok for r in ev.findings)
    killed = sum(r.result == "refuted" for r in ev.mutants)
    unknown = sum(r.result == "unknown" for r in ev.rows)
    return (
        f"**{ok} of {total}** obligations meet their expectation on z3: {proved} proved, "
        f"{found} findings refuted as expected (the as-shipped and legacy code), and "
        f"{killed} of {len(ev.mutants)} mutants killed; {unknown} unknown. "
        + ("`ringspec prove` passes." if ev.ok else "**The proof run does not pass.**")
    )


def index(ev: Evidence) -> str:
    contents = []
    for name, title in common.PAGES[1:]:
        if name in DESCRIPTIONS:
            desc = DESCRIPTIONS[name]
        else:
            m = next(x for x in model.MACHINES if f"{x.name}.md" == name)
            desc = (f"state, init, {len(m.transitions)} transitions, {len(m.invariants)} "
                    f"invariants, {len(m.mutants)} mutants")
        contents.append(f"- [{title}]({name}): {desc}.")
    finding_lines = [
        f"- {md.link(f.title, 'findings.md', f.title)} ({findings.upstream(f)}): {f.summary}"
        for f in findings.FINDINGS
    ]
    legend = md.table(
        ["notation", "model.core", "meaning"],
        [[md.tick(a), md.tick(b), c] for a, b, c in terms.legend_rows()],
    )
    body = [
        "ringspec is an executable specification of netmap's ring protocol, written once in "
        "`model/` and read three ways: symbolically by z3 (`ringspec prove`), concretely as "
        "the test oracle for the numpy implementation in `impl/`, and as these pages. Every "
        "formula, counterexample and worked example below is computed from the model and "
        "one proof run when the pages are generated; nothing is restated by hand.",
        "## Contents",
        "\n".join(contents),
        "## Headline results",
        headline(ev),
        _kind_table(ev),
        "The findings, one sentence each:",
        "\n".join(finding_lines),
        "## Notation",
        "Formulas are printed from the model's terms. `If`, `And`, `Or`, `Not` are the "
        "model's own operators; `x'` is the value of field `x` after a step; `U32_MAX` is "
        "2^32 - 1, the largest value a user can write into a 32-bit ring field. The ring "
        "arithmetic of `model.core` is written without `%` (it stays linear for the "
        "solvers) and is printed back as:",
        legend,
        "## Regenerating",
        md.code("ringspec docs            # rewrite docs/ (python -m ringspec docs)\n"
                "ringspec docs --out DIR  # somewhere else\n"
                "git diff --exit-code docs/  # what CI checks after ringspec docs", "sh"),
        "The pages are deterministic: no timings or dates, and the proof run happens in a "
        "fresh interpreter so its counterexamples do not depend on what else ran. Edit the "
        "model, never these files.",
    ]
    return md.page("ringspec", common.nav("index.md"), body)


def proofs(ev: Evidence) -> str:
    mutant_rows = []
    for r in ev.mutants:
        ob = r.obligation
        verdict = "killed" if r.result == "refuted" else "**SURVIVED**"
        name = ob.id.rsplit("/", 1)[-1]
        mutant_rows.append([
            md.link(md.tick(name), f"{ob.machine}.md", name), ob.machine,
            md.tick(ob.invariant), md.tick(ob.transition), verdict, md.prose(ob.note),
        ])
    coverage = []
    for m in model.MACHINES:
        for inv in m.invariants:
            killers = [r.id.rsplit("/", 1)[-1] for r in ev.mutants
                       if r.obligation.invariant == inv and r.result == "refuted"]
            coverage.append([md.link(md.tick(inv), f"{m.name}.md", inv),
                             ", ".join(md.tick(k) for k in killers) or "**none**"])
    body = [
        md.prose(obligations_module.__doc__ or ""),
        "## Solver settings",
        f"Every obligation is one query to a fresh z3 solver (z3 {z3.get_version_string()}), "
        f"bounded by a deterministic resource limit of `rlimit = {DEFAULT_RLIMIT}` per "
        "query, never by a wall-clock timeout, in a context of its own (so effort counts "
        "and counterexamples do not depend on what ran before). The `rlimit` column is the "
        "effort z3 reports, which is repeatable for a pinned z3. Each invariant in a "
        "premise is a named assumption, and `uses` lists those in the minimized unsat "
        "core: the invariants the proof needed. Timings are deliberately left out "
        "of these pages (they differ between machines and runs): run `ringspec prove` to "
        "see them, `ringspec prove --solver cvc5` to re-check every row with cvc5.",
        "## Summary",
        headline(ev),
        _kind_table(ev),
        "## Mutants",
        "Every invariant has at least one mutant, and every mutant must be refuted "
        "(killed) against the invariant it names.",
        md.table(["mutant", "machine", "invariant", "replaces", "result", "what it breaks"],
                 mutant_rows),
        md.table(["invariant", "killed by"], coverage),
        "## All obligations",
        "Rows with `expect: refuted` outside the mutants are the findings: the as-shipped "
        "and legacy code admit the counterexample (see [findings](findings.md)).",
        common.obligation_table(ev.rows, with_note=True),
    ]
    return md.page("Proofs", common.nav("proofs.md"), body)
