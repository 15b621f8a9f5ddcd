"""The hand-facing pages (ownership, user questions, rules, errors, driver): every model name
they link exists, the questions are numbered 1..k, the C's step markers match the step
tables, the worked examples are legal model runs, and the computed diagrams agree across
ring sizes."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import model
from model.netmap_ring import RX, TX
from ringspec.docgen import driver, errors, md, ownership, pictures, questions, rules, runs

PAGES = {"ownership.md": ownership.render, "user-questions.md": questions.render,
         "rules.md": rules.render, "errors.md": errors.render, "driver.md": driver.render}
MACHINE_PAGES = {f"{m.name}.md": m for m in model.MACHINES}
LINK = re.compile(r"\]\(([\w-]+\.md)#([^)]+)\)")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    with pictures.collecting():
        return {name: fn() for name, fn in PAGES.items()}


def test_every_linked_model_name_exists(rendered: dict[str, str]) -> None:
    """Every ``machine.md#anchor`` link is the heading of a transition or an invariant of
    that machine (the machine pages give each one a ``###`` heading)."""
    found = 0
    for page, text in rendered.items():
        for target, anchor in LINK.findall(text):
            if target not in MACHINE_PAGES:
                continue
            m = MACHINE_PAGES[target]
            names = {md.slug(n) for n in (*m.transitions, *m.invariants)}
            assert anchor in names, f"{page}: {target}#{anchor} names nothing in {m.name}"
            found += 1
    assert found >= 40


def test_rules_page_links_the_models_statements(rendered: dict[str, str]) -> None:
    text = rendered["rules.md"]
    for steps, m in ((rules.TX_STEPS, TX), (rules.RX_STEPS, RX)):
        for st in steps:
            for inv in st.invariants:
                assert m.invariants[inv].sentence in text, inv
            for t in st.transitions:
                assert f"]({m.name}.md#{md.slug(t)})" in text, t


def test_c_markers_match_the_step_tables() -> None:
    assert rules.markers(rules.C_TX) == [s.marker for s in rules.TX_STEPS]
    assert rules.markers(rules.C_RX) == [s.marker for s in rules.RX_STEPS]


def test_questions_are_numbered_one_to_k(rendered: dict[str, str]) -> None:
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", rendered["user-questions.md"],
                                          re.M)]
    assert numbers == list(range(1, len(questions.QUESTIONS) + 1))
    assert not re.search(r"^## (?!\d+\. )", rendered["user-questions.md"], re.M)


def test_unmodelled_answers_say_so(rendered: dict[str, str]) -> None:
    text = rendered["user-questions.md"]
    for title in ("One thread per ring", "NS_MOREFRAG"):
        section = re.split(rf"^## \d+\. [^\n]*{re.escape(title)}", text, flags=re.M)[1]
        section = section.split("\n## ", 1)[0]
        assert "Not yet modelled" in section, title
    for title, page in (("poll readiness", "(poll.md)"), ("Host rings", "(netmap_host_rx.md)"),
                        ("Binding modes", "(netmap_wakeup.md)")):
        section = re.split(rf"^## \d+\. [^\n]*{title}", text, flags=re.M)[1].split("\n## ")[0]
        assert "Not yet modelled" not in section and page in section, title
    binding = re.split(r"^## \d+\. Binding modes", text, flags=re.M)[1].split("\n## ")[0]
    assert "Partly modelled" in binding and "not proved" in binding


def test_loops_on_the_model_are_legal_and_finish() -> None:
    """runs.run already refuses an illegal step or a broken invariant; here the loops
    publish exactly the frames asked for and end drained."""
    tx = rules.tx_loop_on_model()
    last = tx[-1][1]
    assert (last.tail + 1) % last.n == last.head and last.busy == 0  # drained
    sent = sum((b.head - a.head) % a.n for (_, a), (_, b) in itertools.pairwise(tx))
    assert sent == 10
    rx = rules.rx_loop_on_model()
    read = sum((b.head - a.head) % a.n for (_, a), (_, b) in itertools.pairwise(rx))
    assert read == 9 and rx[-1][1].hwcur == rx[-1][1].head


def test_bad_cur_sticks_as_shipped_and_not_hardened() -> None:
    start = errors._stuck_start()
    bad = start.replace(cur=(start.rtail + 1) % start.n)
    for policy, stuck in (("as_shipped", True), ("hardened", False)):
        s = bad
        rejected = []
        for _ in range(3):
            verdict = model.netmap_ring.PROLOGUES[TX.name](policy, s)
            rejected.append(not model.netmap_ring.caller_accepts(verdict))
            s = TX.transitions[f"txsync_{policy}"](s, sent=8).post
        assert rejected == ([True] * 3 if stuck else [True, False, False]), policy


def test_fail_line_reads_rx_heads_from_the_user() -> None:
    s = RX.init(8).replace(head=9, cur=9)
    assert "h 9 c 9 t 0 rh 9 rc 9 rt 0 hc 0 ht 0" in errors.fail_line(RX, s)
    assert "h 9 c 9 t 0 rh 0 rc 0 rt 0" in errors.fail_line(TX, s)


def test_head_guard_never_fires_after_the_prologue() -> None:
    checked, bad = driver._guard_count(3)
    assert checked > 1000 and bad == 0


def test_netmap_reset_moves_are_computed() -> None:
    tx = runs.region_moves(TX)
    assert tx[("pending", "gap")] == ("netmap_reset",)
    assert "netmap_reset" in tx[("in_flight", "unshown")]
    assert runs.region_moves(RX)[("ready", "free")] == ("netmap_reset",)
    # the diagram does not depend on the ring size it was computed on
    assert runs.region_moves(TX, 3) == tx and runs.region_moves(RX, 3) == runs.region_moves(RX)


def test_driver_checklist_lists_every_invariant(rendered: dict[str, str]) -> None:
    text = rendered["driver.md"]
    for m in (TX, RX):
        for inv in m.invariants.values():
            assert f"- [ ] [`{inv.id}`]" in text and inv.sentence in text, inv.id


@pytest.mark.skipif(not os.environ.get("NETMAP_INCLUDE") or not shutil.which("gcc"),
                    reason="set NETMAP_INCLUDE to a directory with net/netmap.h, "
                           "net/netmap_user.h and net/netmap_legacy.h to compile the C")
def test_c_compiles_against_netmap_headers(tmp_path: Path) -> None:
    src = tmp_path / "loops.c"
    src.write_text(rules.C_OPEN + rules.C_TX + rules.C_RX + (
        "static void sink(const char *b, uint16_t l) { (void)b; (void)l; }\n"
        "int main(void) { struct port p; static const char f[60];\n"
        "  if (port_open(&p, \"eth0\", 0) < 0) return 1;\n"
        "  if (send_frames(&p, 0, f, sizeof(f), 10) < 0) return 1;\n"
        "  return receive_frames(&p, 0, sink, 10) < 0; }\n"), encoding="utf-8")
    subprocess.run(["gcc", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-std=gnu11",
                    f"-I{os.environ['NETMAP_INCLUDE']}", str(src)], check=True)
