"""``ringspec docs``: deterministic output, complete coverage of the model's IDs, and the
committed docs/ equal a fresh generation (what CI checks with ``git diff``)."""

from __future__ import annotations

import dataclasses
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import z3

import model
from model.core import ring_add, ring_dist, ring_next
from proofs.suite import all_obligations
from ringspec import docgen
from ringspec.docgen import formulas, md, printer, terms
from ringspec.docgen.areas import AREAS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One generation through the console entry point in a fresh interpreter (into a
    directory holding a stale generated page and a hand-written one), one in-process."""
    cli = tmp_path_factory.mktemp("docs_cli")
    (cli / "stale.md").write_text(md.MARKER + "\nold page\n", encoding="utf-8")
    (cli / "notes.md").write_text("hand-written, not ours\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "ringspec", "docs", "--out", str(cli)],
        cwd=ROOT, check=True, capture_output=True,
    )
    (cli / "notes.md").unlink()
    inproc = tmp_path_factory.mktemp("docs_inproc")
    docgen.generate(inproc)
    return cli, inproc


def _pages(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.md"))}


def _images(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("img/*.svg"))}


def _text(directory: Path) -> str:
    return "\n".join(p.decode("utf-8") for p in _pages(directory).values())


def test_generation_is_deterministic(generated: tuple[Path, Path]) -> None:
    cli, inproc = generated
    assert _pages(cli) == _pages(inproc)
    assert _images(cli) == _images(inproc) and _images(cli)


def test_stale_generated_pages_are_removed_and_others_kept(generated: tuple[Path, Path]) -> None:
    cli, _ = generated
    assert not (cli / "stale.md").exists()
    # notes.md survived generation (the fixture removed it afterwards to compare pages)


def test_every_page_is_marked_and_has_no_machine_specific_text(
    generated: tuple[Path, Path],
) -> None:
    _, pages = generated
    for name, data in _pages(pages).items():
        text = data.decode("utf-8")
        assert text.splitlines()[0] == md.MARKER, name
        assert str(ROOT) not in text and str(pages) not in text, name
        assert text.endswith("\n") and not text.endswith("\n\n"), name


def test_every_machine_has_a_page(generated: tuple[Path, Path]) -> None:
    _, pages = generated
    expected = {"index.md", "proofs.md", "findings.md", "ownership.md", "user-questions.md",
                "rules.md", "errors.md", "driver.md", "benchmarks.md", "glossary.md",
                "modes.md", "ena-findings.md", "poll.md", "ena_rss.md", "ena_mgmt.md",
                "ena_sysctl.md", "ena_netmap.md", "control.md"}
    expected |= {f"{m.name}.md" for m in model.ALL_MACHINES}
    assert set(_pages(pages)) == expected


def test_ena_pages_name_every_transition_invariant_and_contract(
    generated: tuple[Path, Path],
) -> None:
    """Each ENA page: its picture (where it has one), its reference tables (admin queue,
    AENQ) and the worked example first, then state, transitions, invariants (contracts),
    evidence; every ID under its own heading."""
    from ringspec.docgen import ena_pages

    _, pages = generated
    for m in model.ENA_MACHINES:
        text = (pages / f"{m.name}.md").read_text(encoding="utf-8")
        order = [h for h in _sections(text)]
        reference = [s[3:] for s in ena_pages.reference_sections(m) if s.startswith("## ")]
        expected = [*(["Picture"] if m.name in ena_pages.PICTURES else []), *reference,
                    "Worked example", "State", "Transitions", "Invariants",
                    *(["Contracts"] if m.contracts else []), "Evidence"]
        assert order == expected, (m.name, order)
        for name in [*m.transitions, *m.invariants, *m.contracts]:
            assert f"### {name}\n" in text, (m.name, name)


def test_ena_worked_examples_break_nothing_but_the_as_shipped_finding() -> None:
    from ringspec.docgen import ena_pages

    for m in model.ENA_MACHINES:
        rows = ena_pages.run_example(m, ena_pages.EXAMPLES[m.name])
        assert len(rows) >= 3, m.name
        for label, _, _, broken in rows:
            if "as_shipped" not in label:
                assert not broken, (m.name, label, broken)
        # an as-shipped step may only set the finding up (rx_cleanup_as_shipped computes
        # the count its refill then misuses); at least one of them breaks something
        shipped = [broken for label, _, _, broken in rows if "as_shipped" in label]
        assert not shipped or any(shipped), m.name


def test_every_invariant_transition_and_mutant_id_appears(generated: tuple[Path, Path]) -> None:
    """Invariants and transitions on their area page, mutants (with their counterexample)
    on the proofs page."""
    _, pages = generated
    proofs = (pages / "proofs.md").read_text(encoding="utf-8")
    for m in model.MACHINES:
        page = (pages / f"{m.name}.md").read_text(encoding="utf-8")
        for inv in m.invariants:
            assert f"### {inv}\n" in page, inv
        for t in m.transitions:
            assert f"### {t}\n" in page, t
        for mut in m.mutants:
            assert f"#### {mut}\n" in proofs, mut
            assert f"#### {mut}\n" not in page, mut


def _sections(text: str, level: str = "## ") -> dict[str, str]:
    """Heading -> the text up to the next heading of the same level."""
    out: dict[str, str] = {}
    name = ""
    for line in text.splitlines(keepends=True):
        if line.startswith(level):
            name = line[len(level):].strip()
            out[name] = ""
        elif name:
            out[name] += line
    return out


def test_area_pages_open_with_the_model_and_leave_the_evidence_to_proofs(
    generated: tuple[Path, Path],
) -> None:
    """State, regions, worked example, transitions (pseudocode before formula), invariants,
    then a pointer to the evidence; no obligation table or mutant dump."""
    _, pages = generated
    for m in model.MACHINES:
        text = (pages / f"{m.name}.md").read_text(encoding="utf-8")
        order = [h for h in _sections(text) if h in
                 ("State", "Regions", "Worked example", "Transitions", "Invariants", "Evidence")]
        expected = ["State", "Worked example", "Transitions", "Invariants", "Evidence"]
        if AREAS[m.name].regions is not None:  # the ring machines
            expected.insert(1, "Regions")
        assert order == expected, (m.name, order)
        assert "| obligation | kind |" not in text, m.name
        assert "](proofs.md#" in _sections(text)["Evidence"], m.name
        transitions = _sections(_sections(text)["Transitions"], "### ")
        for t in m.transitions:
            body = transitions[t]
            assert f"```c\n{t}(" in body, t
            assert body.index("```c") < body.index("<details><summary>Formula"), t


def test_findings_open_with_the_story_and_fold_the_evidence(
    generated: tuple[Path, Path],
) -> None:
    """Each finding: who can trigger it, what goes wrong, how bad, the C (pinned links),
    a worked example with pictures and a step table, the fix, then the evidence folded."""
    from ringspec.docgen import findings

    _, pages = generated
    text = (pages / "findings.md").read_text(encoding="utf-8")
    sections = _sections(text)
    for f in findings.FINDINGS:
        body = sections[f.title]
        marks = ["**Who can trigger it:**", "**What goes wrong:**", "**How bad:**",
                 "**The C:**", f"### {f.example_title}", "![", "| # | what happens |",
                 "**The fix**", "<details><summary>Evidence:"]
        at = [body.find(mk) for mk in marks]
        assert -1 not in at and at == sorted(at), (f.title, dict(zip(marks, at, strict=True)))
        c_part = body[at[3]:at[4]]
        assert "https://github.com/luigirizzo/netmap/blob/" in c_part, f.title
        # the obligations appear only inside the folded evidence
        assert "| obligation | kind |" not in body[:at[-1]], f.title
        assert (pages / body[body.index("](img/") + 2:].split(")")[0]).exists(), f.title


def test_findings_pages_name_every_finding(generated: tuple[Path, Path]) -> None:
    """netmap's findings on findings.md, ENA's on ena-findings.md; none left unexplained."""
    _, pages = generated
    ena = {m.name for m in model.ENA_MACHINES}
    for page, wanted in (("findings.md", lambda o: o.machine not in ena),
                         ("ena-findings.md", lambda o: o.machine in ena)):
        text = (pages / page).read_text(encoding="utf-8")
        expected = [o.id for o in all_obligations()
                    if o.expect == "refuted" and o.kind != "mutant" and wanted(o)]
        assert expected, page
        for oid in expected:
            assert f"`{oid}`" in text, (page, oid)
        assert "## Other refuted obligations" not in text, page


def test_ena_findings_replay_the_counterexample_and_show_the_break(
    generated: tuple[Path, Path],
) -> None:
    """Each ENA finding's snippet ran at generation time: the state before breaks nothing,
    the state after breaks the invariant of the example obligation."""
    from ringspec.docgen import ena_findings

    _, pages = generated
    sections = _sections((pages / "ena-findings.md").read_text(encoding="utf-8"))
    assert [f.title for f in ena_findings.FINDINGS] == list(sections)
    for f in ena_findings.FINDINGS:
        body = sections[f.title]
        invariant = f.example.rsplit("/", 1)[1]
        assert "broken before: none" in body, f.title
        after = next(line for line in body.splitlines() if line.startswith("broken after:"))
        assert invariant in after or invariant in _contract_ids(), (f.title, after)
        assert "https://github.com/amzn/amzn-drivers/blob/" in body, f.title


def _contract_ids() -> set[str]:
    return {c for m in model.ENA_MACHINES for c in m.contracts}


def test_repository_docs_are_current(generated: tuple[Path, Path]) -> None:
    _, pages = generated
    committed = _pages(ROOT / "docs")
    fresh = _pages(pages)
    assert sorted(committed) == sorted(fresh), "run `ringspec docs`"
    for name in fresh:
        assert committed[name] == fresh[name], f"docs/{name} is stale: run `ringspec docs`"
    assert _images(ROOT / "docs") == _images(pages), "docs/img is stale: run `ringspec docs`"


def test_every_referenced_image_is_generated(generated: tuple[Path, Path]) -> None:
    _, pages = generated
    refs = set(re.findall(r"\]\((img/[\w-]+\.svg)\)", _text(pages)))
    assert refs and refs == {f"img/{n}" for n in _images(pages)}


# ---------------------------------------------------------------------------- the printer


def _show(term: object) -> str:
    return printer.flat(terms.render_ready(term))


def test_ring_vocabulary_reads_back() -> None:
    a, b, n = z3.Ints("a b n")
    assert _show(ring_dist(a, b, n)) == "(b - a) % n"
    assert _show(ring_add(a, b, n)) == "(a + b) % n"
    assert _show(ring_next(ring_dist(a, b, n), n)) == "next((b - a) % n)"


def test_simplifier_uses_the_branch_condition() -> None:
    c, x, y = z3.Bool("c"), z3.Int("x"), z3.Int("y")
    assert _show(z3.If(c, z3.If(c, x, y), y)) == "If(c, x, y)"
    assert _show(z3.If(c, x, x)) == "x"
    assert _show(z3.Not(x < y)) == "x >= y"
    assert _show(z3.And(x >= 0, z3.And(x >= 0, y < x))) == "And(x >= 0, y < x)"


def test_repeated_subterms_are_named_in_order_of_use() -> None:
    x, y, n = z3.Ints("x y n")
    big = ring_dist(ring_add(x, y, n), ring_add(ring_next(y, n), x, n), n)
    rendered = printer.abbreviate([("p", terms.render_ready(big + 1)),
                                 ("q", terms.render_ready(big - 1))])
    assert rendered.where[0][0] == "e1"
    assert rendered.text().splitlines()[-2:] == ["p = e1 + 1", "q = e1 - 1"]


def test_printed_formulas_mean_what_the_model_says() -> None:
    """Every rendered guard and effect, evaluated on concrete values, agrees with running
    the transition concretely (indices partly out of range, as adversarial users write)."""
    rng = random.Random(7)
    for m in model.MACHINES:
        fields = [f.name for f in dataclasses.fields(m.state_type)]
        s = formulas.symbolic(m)
        for t in m.transitions.values():
            args = {p.name: z3.Int(formulas.arg_name(m, p.name)) for p in t.params}
            step = t(s, **args)
            guard = terms.render_ready(step.guard)
            post = {f: terms.render_ready(getattr(step.post, f)) for f in fields}
            for _ in range(300):
                n = rng.randint(2, 9)
                values = {f: rng.randint(0, n + 2) for f in fields}
                values["n"] = n
                concrete_args = {p.name: rng.randint(0, n) for p in t.params}
                env = {**values, **{formulas.arg_name(m, k): v
                                    for k, v in concrete_args.items()}}
                expected = t(m.state_type(**values), **concrete_args)
                assert terms.evaluate(guard, env) == bool(expected.guard), (t.name, env)
                for f in fields:
                    got = terms.evaluate(post[f], env)
                    assert got == getattr(expected.post, f), (t.name, f, env)


def test_every_glossary_term_is_defined_and_linked_from_a_page(
    generated: tuple[Path, Path],
) -> None:
    from ringspec.docgen import glossary

    _, pages = generated
    terms_ = _sections((pages / "glossary.md").read_text(encoding="utf-8"), "### ")
    assert set(terms_) == {t.key for t in glossary.TERMS}
    for key, body in terms_.items():
        assert "Linked from: [" in body, key
    for name, data in _pages(pages).items():
        for anchor in re.findall(r"\(glossary\.md#([\w-]+)\)", data.decode("utf-8")):
            assert anchor in {glossary.anchor(t.key) for t in glossary.TERMS}, (name, anchor)
