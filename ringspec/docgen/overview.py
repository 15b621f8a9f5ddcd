"""The index page and the proof page."""

from __future__ import annotations

import difflib
from collections import Counter

import z3

import model
from proofs import obligations as obligations_module
from proofs import poll_obligations, suite, swap_obligations
from proofs.solve import DEFAULT_RLIMIT
from ringspec.docgen import common, ena_findings, findings, glossary, md, pseudocode, terms
from ringspec.docgen.areas import AREAS
from ringspec.docgen.evidence import Evidence, Row


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


#: Where a netmap engineer starts: page and what it answers (titles from common.PAGES).
START = (
    ("rules.md", "the rules, with complete TX and RX loops in C, each step tied to the model"),
    ("user-questions.md", "the ring questions netmap users keep asking, answered from the model"),
    ("driver.md", "what a driver's txsync/rxsync must keep true: walks, netmap_reset, lazy "
     "reclaim, a checklist"),
    ("errors.md", "what a rejected sync looks like to the application (the ioctls return 0), "
     "and why a bad cur sticks"),
    ("findings.md", "where the shipped code admits a broken ring: who can trigger it, how bad "
     "it is, a worked example"),
)


_TITLES = dict(common.PAGES)


def index(ev: Evidence) -> str:
    machines = []
    for m in model.MACHINES:
        area = AREAS.get(m.name)
        parts = ["the state", *(["its regions"] if area and area.regions else []),
                 *(["a worked example"] if area and area.example else []),
                 f"{len(m.transitions)} transitions as pseudocode and formulas",
                 f"{len(m.invariants)} invariants"]
        machines.append(f"- [{m.title}]({m.name}.md): {', '.join(parts)}.")
    finding_lines = [
        f"- {md.link(f.title, 'findings.md', f.title)} ({findings.upstream(f)}): {f.summary}"
        for f in findings.FINDINGS
    ]
    legend = md.table(
        ["notation", "model.core", "meaning"],
        [[md.tick(a), md.tick(b), c] for a, b, c in terms.legend_rows()],
    )
    helpers = md.table(
        ["pseudocode", "model.core", "definition (printed from the model)"],
        [[md.tick(a), md.tick(b), md.tick(c)] for a, b, c in pseudocode.helper_rows()],
    )
    body = [
        "ringspec states netmap's ring protocol once, as an executable model of the ring "
        "a netmap application shares with the kernel and of the kernel ring (kring) "
        "behind it: who owns which slot, what each sync checks and changes, and what must "
        "stay true whatever the application writes. The same model is proved with z3, "
        "runs as the test oracle for a numpy implementation, and prints these pages: every "
        "pseudocode listing, formula, picture and worked example here is computed from it "
        "when the pages are generated.",
        "## Where to start",
        "\n".join(f"- [{_TITLES[page]}]({page}): {what}." for page, what in START),
        f"Each {glossary.ref('finding')} names the C it is about and who can trigger it; "
        f"the {glossary.ref('policy', 'hardened policy')} is the smallest change the proofs "
        "show sufficient.",
        "Then, per ring, the area pages:",
        "\n".join(machines),
        f"[Slot ownership](ownership.md) follows a slot through its life; the "
        f"[glossary](glossary.md) defines the words (an {glossary.ref('obligation')}, a "
        f"{glossary.ref('mutant')}, {glossary.ref('rlimit')}, the "
        f"{glossary.ref('kring')} fields); [proofs](proofs.md) lists every obligation.",
        "The Amazon ENA half, over exact u16 counters with the ring size symbolic (each "
        "page: a picture where one helps and a worked example, both run on the model, the "
        "state, transitions, invariants and contracts):",
        "\n".join([*(f"- [{m.title}]({m.name}.md): {len(m.transitions)} transitions, "
                      f"{len(m.invariants)} invariants"
                      + (f", {len(m.contracts)} contracts" if m.contracts else "") + "."
                      for m in model.ENA_MACHINES),
                    f"- [{_TITLES['ena_rss.md']}](ena_rss.md): what the driver programs and "
                    "what the device computes, a frame followed to its RX queue (computed "
                    "by the simulated device, not modelled)."]),
        "## The findings",
        "\n".join(finding_lines),
        "The ENA driver's findings are on [their own page](ena-findings.md): "
        + "; ".join(md.link(f.title, "ena-findings.md", f.title)
                    for f in ena_findings.FINDINGS) + ".",
        "## Headline results",
        headline(ev),
        _kind_table(ev),
        "## Notation",
        "Formulas are printed from the model's terms. `If`, `And`, `Or`, `Not` are the "
        "model's own operators; `x'` is the value of field `x` after a step; `U32_MAX` is "
        "2^32 - 1, the largest value a user can write into a 32-bit ring field. The ring "
        "arithmetic of `model.core` is written without `%` (it stays linear for the "
        "solvers) and is printed back as:",
        legend,
        "The pseudocode calls these helpers:",
        helpers,
        "## Regenerating",
        md.code("ringspec docs            # rewrite docs/ (python -m ringspec docs)\n"
                "ringspec docs --out DIR  # somewhere else\n"
                "git diff --exit-code docs/  # what CI checks after ringspec docs", "sh"),
        "The pages are deterministic: no timings or dates, and the proof run happens in a "
        "fresh interpreter so its counterexamples do not depend on what else ran. Edit the "
        "model, never these files.",
    ]
    return md.page("ringspec", common.nav("index.md"), body)


def _mutant(machine: model.core.Machine, r: Row) -> list[str]:
    mut = machine.mutants[r.id.rsplit("/", 1)[-1]]
    verdict = "killed" if r.result == "refuted" else "**SURVIVED**"
    if mut.replaces == "init":
        orig, prog = pseudocode.init_program(machine), pseudocode.init_program(machine, mut.fn)
    else:
        t = machine.transitions[mut.replaces]
        orig, prog = pseudocode.program(machine, t), pseudocode.program(machine, t, mut.fn)
    a, b = pseudocode.render(orig).splitlines(), pseudocode.render(prog).splitlines()
    diff = "\n".join(line.rstrip() for line in
                     list(difflib.unified_diff(a, b, lineterm="", n=max(len(a), len(b))))[3:])
    return [
        f"#### {mut.id}",
        f"{md.prose(mut.doc)}\n\nReplaces "
        + (md.tick(mut.replaces) if mut.replaces == "init" else
           md.link(md.tick(mut.replaces), f"{machine.name}.md", mut.replaces))
        + f"; must break {md.link(md.tick(mut.invariant), f'{machine.name}.md', mut.invariant)}"
        f": {verdict} (`{r.id}`, rlimit {r.rlimit}).",
        md.details(f"What <code>{mut.id}</code> changes in <code>{mut.replaces}</code>",
                   md.code(diff, "diff")),
        common.counterexample(r.counterexample),
    ]


def _machine_section(machine: model.core.Machine, ev: Evidence) -> list[str]:
    rows = ev.for_machine(machine)
    mutants = [r for r in rows if r.obligation.kind == "mutant"]
    out = [
        f"## {machine.name}",
        f"The obligations about the [{machine.title}]({machine.name}.md), in the order "
        "the run checks them.",
        common.obligation_table(rows, with_note=True),
    ]
    if mutants:
        out += [f"### Mutants of {machine.name}",
                "The counterexample is the solver's model from the proof run (values that "
                "differ from the first row are bold)."]
        for r in mutants:
            out += _mutant(machine, r)
    return out


def _plain_section(name: str, intro: str, rows: list[Row]) -> list[str]:
    """Obligations and mutants without an area page: each mutant shows its docstring and
    the solver's counterexample, no pseudocode."""
    out = [f"## {name}", intro, common.obligation_table(rows, with_note=True)]
    mutants = [r for r in rows if r.obligation.kind == "mutant"]
    if mutants:
        out.append(f"### Mutants of {name}")
    for r in mutants:
        verdict = "killed" if r.result == "refuted" else "**SURVIVED**"
        out += [f"#### {r.id.rsplit('/', 1)[-1]}",
                f"{md.prose(r.obligation.note)}\n\nReplaces {md.tick(r.obligation.transition)}"
                f"; must break {md.tick(r.obligation.invariant)}: {verdict} (`{r.id}`, "
                f"rlimit {r.rlimit}).",
                common.counterexample(r.counterexample)]
    return out


def _poll_section(ev: Evidence) -> list[str]:
    """The poll claims (model/netmap_poll.py) are not a machine of their own."""
    rows = [r for r in ev.rows if r.obligation.machine == poll_obligations.NAME]
    return _plain_section(
        poll_obligations.NAME, "The claims about one poll call on a netmap TX or RX ring "
        "([poll() on a ring](poll.md)), in the order the run checks them.", rows)


def _swap_section(ev: Evidence) -> list[str]:
    """The NS_FORWARD swap by buffer (model/netmap_forward_swap.py) has arrays in its
    state, so its obligations are their own family."""
    rows = [r for r in ev.rows if r.obligation.machine == swap_obligations.NAME]
    return _plain_section(
        swap_obligations.NAME, "One iteration of netmap_sw_to_nic's swap loop over the "
        "slot arrays of the host RX ring and a TX ring (solver arrays, any ring sizes), "
        "in the order the run checks them.", rows)


def _ena_section(machine: model.core.Machine, ev: Evidence) -> list[str]:
    """An ENA machine's obligations and mutants (no area page yet)."""
    return _plain_section(
        machine.name, f"The obligations about the {machine.title}, in the order the run "
        "checks them (u16 bit-vectors, the ring size symbolic).", ev.for_machine(machine))


def proofs(ev: Evidence) -> str:
    mutant_rows = []
    for r in ev.mutants:
        ob = r.obligation
        verdict = "killed" if r.result == "refuted" else "**SURVIVED**"
        name = ob.id.rsplit("/", 1)[-1]
        mutant_rows.append([
            md.link(md.tick(name), "", name), ob.machine,
            md.tick(ob.invariant), md.tick(ob.transition), verdict, md.prose(ob.note),
        ])
    coverage = []
    netmap = {i: m for m in model.MACHINES for i in m.invariants}
    for inv in suite.checked_ids():
        killers = [r.id.rsplit("/", 1)[-1] for r in ev.mutants
                   if r.obligation.invariant == inv and r.result == "refuted"]
        name = (md.link(md.tick(inv), f"{netmap[inv].name}.md", inv) if inv in netmap
                else md.tick(inv))
        coverage.append([name, ", ".join(md.link(md.tick(k), "", k) for k in killers)
                         or "**none**"])
    body = [
        md.prose(obligations_module.__doc__ or ""),
        f"Words used here ({glossary.ref('obligation')}, {glossary.ref('anti-vacuity')}, "
        f"{glossary.ref('refuted as expected')}, {glossary.ref('unsat core')}, "
        f"{glossary.ref('rlimit')}) are defined in the [glossary](glossary.md).",
        "## Solver settings",
        f"Every obligation is one query to a fresh z3 solver (z3 {z3.get_version_string()}), "
        f"bounded by a deterministic resource limit of `rlimit = {DEFAULT_RLIMIT}` per "
        "query, never by a wall-clock timeout, in a context of its own (so effort counts "
        "and counterexamples do not depend on what ran before). The `rlimit` column is the "
        "effort z3 reports, which is repeatable for a pinned z3. Each invariant in a "
        "premise is a named assumption, and `uses` lists those in the minimized unsat "
        "core: the invariants the proof needed (for the ENA bit-vector queries, where "
        "assumption literals make z3 give up, the invariants are plain premises and "
        "`uses` is found by deleting them one at a time). Timings are deliberately left out "
        "of these pages (they differ between machines and runs): run `ringspec prove` to "
        "see them, `ringspec prove --solver cvc5` to re-check every row with cvc5.",
        "## Summary",
        headline(ev),
        _kind_table(ev),
        "Rows with `expect: refuted` outside the mutants are the findings: the as-shipped "
        "and legacy code admit the counterexample (see [findings](findings.md)).",
        "## Mutants",
        "Every invariant has at least one mutant, and every mutant must be refuted "
        "(killed) against the invariant it names. Each one's pseudocode and counterexample "
        "is in its machine's section below.",
        md.table(["mutant", "machine", "invariant", "replaces", "result", "what it breaks"],
                 mutant_rows),
        md.table(["invariant", "killed by"], coverage),
    ]
    for m in model.MACHINES:
        body += _machine_section(m, ev)
    body += _poll_section(ev)
    body += _swap_section(ev)
    for m in model.ENA_MACHINES:
        body += _ena_section(m, ev)
    return md.page("Proofs", common.nav("proofs.md"), body)
