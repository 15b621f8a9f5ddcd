"""Pieces every page uses: navigation, obligation tables, counterexample tables."""

from __future__ import annotations

from collections.abc import Iterable

import model
from ringspec.docgen import md
from ringspec.docgen.evidence import Row

PAGES = (
    ("index.md", "Overview"),
    *[(f"{m.name}.md", m.title) for m in model.MACHINES],
    ("modes.md", "netmap enter/exit: classic vs RFC"),
    *[(f"{m.name}.md", m.title) for m in model.ENA_MACHINES],
    ("ena_rss.md", "ENA receive-side scaling (RSS)"),
    ("ena_mgmt.md", "ENA management plane and faults"),
    ("ena_sysctl.md", "ENA sysctls"),
    ("ena_netmap.md", "netmap on ENA"),
    ("proofs.md", "Proofs"),
    ("findings.md", "Findings"),
    ("ena-findings.md", "ENA findings"),
    ("ownership.md", "Slot ownership"),
    ("user-questions.md", "User questions"),
    ("rules.md", "Rules, with C"),
    ("errors.md", "Error reporting"),
    ("control.md", "The control path: handles, NIOCREGIF, lifetimes"),
    ("poll.md", "poll() on a ring"),
    ("driver.md", "For driver authors"),
    ("benchmarks.md", "Benchmarks"),
    ("glossary.md", "Glossary"),
)

#: The NKR_PENDINTR finding's heading on the findings page (other pages link to it).
PENDINTR_FINDING = "An RX interrupt lost between the read loop and the clear"
HOST_FWD_FINDING = "Transparent mode sends the stack's own packets back up"

VIEW_MEANING = {
    "keeps": "keeps the user view (needs a consistent view and preserves it)",
    "restores": "restores the user view (re-establishes it whatever the user wrote)",
    "breaks": "breaks the user view (adversarial writes; only kernel invariants must survive)",
}


def nav(current: str) -> str:
    items = [f"**{title}**" if name == current else f"[{title}]({name})" for name, title in PAGES]
    return " · ".join(items)


def result_text(row: Row) -> str:
    return row.result if row.ok else f"**{row.result} (expected {row.obligation.expect})**"


def obligation_table(rows: Iterable[Row], with_note: bool = False) -> str:
    """The rows as a table; ``uses`` lists the invariants of the premise that the proof
    needed (z3's minimized unsat core), where the obligation names them."""
    rows = list(rows)
    with_uses = any(r.depends_on for r in rows)
    headers = ["obligation", "kind", "expect", "result", "rlimit"]
    headers += ["uses"] if with_uses else []
    headers += ["note"] if with_note else []
    body = []
    for r in rows:
        ob = r.obligation
        line = [md.tick(ob.id), ob.kind, ob.expect, result_text(r), r.rlimit]
        if with_uses:
            line.append(", ".join(md.tick(i) for i in r.depends_on))
        if with_note:
            line.append(md.prose(ob.note))
        body.append(line)
    return md.table(headers, body, "llllr" + "l" * (len(headers) - 5))


def counterexample(cex: dict[str, dict[str, int]]) -> str:
    """The solver's model as one table: a row per group (pre, args, post, ...), a column
    per field or argument.  State values that differ from the first row are bold."""
    groups = [(name, values) for name, values in cex.items() if values]
    if not groups:
        return "_(no model: the query was unsatisfiable)_"
    keys: list[str] = []
    for _, values in groups:
        keys += [k for k in values if k not in keys]
    first = groups[0][1]
    rows = []
    for name, values in groups:
        cells = []
        for k in keys:
            if k not in values:
                cells.append("")
            elif k in first and values[k] != first[k]:
                cells.append(f"**{values[k]}**")
            else:
                cells.append(str(values[k]))
        rows.append([f"**{name}**", *cells])
    return md.table(["", *keys], rows, "l" + "r" * len(keys))
