"""The worked examples on the findings and area pages: computed from the model, telling
the story the text claims, and replayable as printed."""

from __future__ import annotations

import dataclasses

import pytest

from model.netmap_ring import AS_SHIPPED, HARDENED
from ringspec.docgen import findings, glossary, pictures, scenario
from ringspec.docgen.areas import AREAS
from ringspec.docgen.evidence import run_snippet

FINDING_EXAMPLES = [f.example for f in findings.FINDINGS] + [findings.RX_ONE_TOO_MANY]
AREA_EXAMPLES = [a.example for a in AREAS.values() if a.example is not None]


def test_a_rejected_sync_needs_no_tail_write() -> None:
    """The corrected story of the reinit finding: the application moves only head (and
    cur) past tail; the rejected first sync makes the kring adopt head, the second is
    accepted and hands the NIC the empty slot and slots still in flight."""
    sc = findings.REINIT
    write, first, second = scenario.run(sc, AS_SHIPPED)
    assert "tail" not in write.action.args and write.after.tail == sc.start.tail
    assert first.accepted is False and first.after.rhead == write.after.head
    assert second.accepted is True
    regions = dict(enumerate(pictures.slot_regions(sc.start, "tx")))
    handed = {regions[i] for i in second.moved}
    assert {"gap", "in_flight"} <= handed
    assert second.after.busy > sc.start.n - 1
    _, h_first, h_second = scenario.run(sc, HARDENED)
    assert h_first.accepted is False and h_first.after.head == sc.start.head
    assert h_second.moved == () and not h_second.violated


@pytest.mark.parametrize("finding", findings.FINDINGS, ids=lambda f: f.example.name)
def test_each_example_shows_its_finding(finding: findings.Finding) -> None:
    """As shipped some invariant breaks; hardened (where there is a hardened twin) none
    does; and the start is a consistent ring."""
    sc = finding.example
    assert not sc.machine.violated(sc.start)
    shipped = scenario.run(sc, AS_SHIPPED)
    assert any(r.violated for r in shipped[1:])
    if any(a.transition.endswith(AS_SHIPPED) for a in sc.actions):
        assert not scenario.run(sc, HARDENED)[-1].violated


def _variant(sc: scenario.Scenario, **writes: int) -> scenario.Scenario:
    first = dataclasses.replace(sc.actions[0], args=writes)
    return dataclasses.replace(sc, actions=(first, *sc.actions[1:]))


@pytest.mark.parametrize(("finding", "writes"), [
    (findings.FINDINGS[1], {"head": 2, "cur": 2}),
    (findings.FINDINGS[2], {"head": 0, "cur": 0}),
], ids=["reinit", "rx"])
def test_the_stories_are_computed_not_typed(finding: findings.Finding,
                                            writes: dict[str, int]) -> None:
    """Change what the application writes: the story follows the model's new outcome."""
    original = finding.example
    changed = _variant(original, **writes)
    old = scenario.run(original)[-1].moved
    new_rows = scenario.run(changed)
    new = new_rows[-1].moved
    assert new != old
    story = finding.story(changed, new_rows, scenario.run(changed, HARDENED))
    assert scenario.slots(new) in story
    assert scenario.slots(old) not in story


@pytest.mark.parametrize("sc", FINDING_EXAMPLES + AREA_EXAMPLES, ids=lambda s: s.name)
def test_replay_snippets_print_what_the_tables_show(sc: scenario.Scenario) -> None:
    for policy in (AS_SHIPPED, HARDENED):
        printed = run_snippet(scenario.replay_code(sc, policy)).splitlines()
        rows = scenario.run(sc, policy)
        assert len(printed) == len(rows)
        for line, row in zip(printed, rows, strict=True):
            assert line == f"{row.after!r} broken: {list(row.violated)}"


@pytest.mark.parametrize("sc", AREA_EXAMPLES, ids=lambda s: s.name)
def test_area_examples_are_legal_histories(sc: scenario.Scenario) -> None:
    rows = scenario.run(sc)
    assert all(not r.violated for r in rows)
    assert sc.start == sc.machine.init(sc.start.n)


def test_glossary_lists_the_sections_that_link_a_term() -> None:
    pages = {
        "a.md": "# A\n\nsee " + glossary.ref("rlimit") + "\n\n## Later\n\n"
        + glossary.ref("rlimit", "again") + "\n```\n## not a heading\n```\n",
        "b.md": "# B\n\n## S `x`\n\n" + glossary.ref("mutant"),
    }
    used = glossary.uses(pages)
    assert used["rlimit"] == [("a.md", "")]  # the first place on each page
    assert used["mutant"] == [("b.md", "S `x`")]
    assert used["obligation"] == []
    text = glossary.render(pages, "nav")
    assert "Linked from: [b › S x](b.md#s-x)." in text


@pytest.mark.parametrize(("d", "regions"), [("tx", "tx_regions"), ("rx", "rx_regions")])
def test_region_meanings_are_read_from_the_model_drawing(d: str, regions: str) -> None:
    """Every region the model measures has a line in model/netmap_ring.py's drawing."""
    from model import netmap_state

    s = netmap_state.NetmapRing(*([0] * 11))
    assert list(scenario.region_meanings(d)) == list(getattr(netmap_state, regions)(s))
