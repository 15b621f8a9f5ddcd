"""``ringspec docs``: regenerate docs/ from the model and one z3 proof run.

The output is deterministic (no timings, dates or absolute paths; counterexamples come from
a proof run in a fresh interpreter), so CI can check it with ``ringspec docs && git diff
--exit-code docs/``.  Every page starts with :data:`md.MARKER` (an SVG picture of
:mod:`ringspec.docgen.pictures` carries it on its second line, and lives in ``img/``);
``*.md`` and ``img/*.svg`` files in the output directory that carry the marker but are no
longer generated are removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import model
import ringspec
from ringspec.docgen import (
    benchmarks,
    common,
    control_page,
    driver,
    ena_findings,
    ena_mgmt_page,
    ena_netmap_page,
    ena_pages,
    ena_sysctl_page,
    errors,
    findings,
    glossary,
    machine_page,
    md,
    modes_page,
    overview,
    ownership,
    pictures,
    poll_page,
    questions,
    rss_page,
    rules,
)
from ringspec.docgen.evidence import Evidence, run_proofs


def default_out() -> Path:
    return Path(ringspec.__file__).resolve().parents[1] / "docs"


def pages(ev: Evidence) -> dict[str, str]:
    """File name -> content, in the order of the table of contents, then the pictures the
    pages made (``img/<name>.svg``)."""
    with pictures.collecting() as images:
        out = {"index.md": overview.index(ev)}
        for machine in model.MACHINES:
            out[f"{machine.name}.md"] = machine_page.render(machine, ev)
        out["modes.md"] = modes_page.render()
        out |= ena_pages.pages(ev)
        out[rss_page.PAGE] = rss_page.render()
        out[ena_mgmt_page.PAGE] = ena_mgmt_page.render()
        out[ena_sysctl_page.PAGE] = ena_sysctl_page.render()
        out[ena_netmap_page.PAGE] = ena_netmap_page.render()
        out["proofs.md"] = overview.proofs(ev)
        out["findings.md"] = findings.render(ev)
        out[ena_findings.PAGE] = ena_findings.render(ev)
        out["ownership.md"] = ownership.render()
        out["user-questions.md"] = questions.render()
        out["rules.md"] = rules.render()
        out["errors.md"] = errors.render()
        out[control_page.PAGE] = control_page.render()
        out[poll_page.PAGE] = poll_page.render(ev)
        out["driver.md"] = driver.render()
        out["benchmarks.md"] = benchmarks.render()
    out["glossary.md"] = glossary.render(out, common.nav("glossary.md"))
    return out | dict(sorted(images.items()))


def _generated(path: Path) -> bool:
    """The file carries :data:`md.MARKER` on its first line (a page) or second (an SVG)."""
    with path.open(encoding="utf-8", errors="replace") as f:
        return md.MARKER in (f.readline().rstrip("\n"), f.readline().rstrip("\n"))


def generate(out_dir: Path, ev: Evidence | None = None) -> list[Path]:
    """Write every page into ``out_dir``, remove stale generated pages; return the paths."""
    ev = ev or run_proofs()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages(ev).items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    candidates = [*out_dir.glob("*.md"), *out_dir.glob(f"{pictures.IMG_DIR}/*.svg")]
    for stale in sorted(candidates):
        if stale not in written and _generated(stale):
            stale.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ringspec docs",
        description="Regenerate the documentation from the model and one z3 proof run.",
    )
    parser.add_argument(
        "--out", type=Path, default=None,
        help="output directory (default: the repository's docs/)",
    )
    args = parser.parse_args(argv)
    out_dir = args.out or default_out()
    ev = run_proofs()
    written = generate(out_dir, ev)
    print(f"ringspec docs: wrote {len(written)} files to {out_dir}")
    if not ev.ok:
        print("ringspec docs: the proof run did not pass; the pages show the failures",
              file=sys.stderr)
        return 1
    return 0
