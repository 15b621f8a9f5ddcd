"""The findings page's section on an RX ring created again under live krings
(model.netmap_ring_lifetime): a short story pointing to the control page, the worked
example run on the model, and the refuted obligation."""

from __future__ import annotations

from model import RING_LIFE, sources
from model.core import ring_dist
from model.netmap_ring_lifetime import ring_life_init
from proofs.obligations import Obligation
from ringspec.docgen import control_page, md
from ringspec.docgen.areas import AREAS
from ringspec.docgen.evidence import Row
from ringspec.docgen.scenario import Action, Scenario, run
from ringspec.docgen.scenario import table as scenario_table

TITLE = control_page.FINDING
SUMMARY = ("a process that binds an RX ring another one closed with unread frames, while "
           "a third handle keeps the adapter, is shown those slots as received frames in "
           "buffers that never received them.")


def matches(ob: Obligation) -> bool:
    return ob.machine == RING_LIFE.name and ob.kind != "mutant"


#: the area page's history, with the bind as shipped
EXAMPLE = Scenario("finding-ring-lifetime", RING_LIFE, ring_life_init(8), (
    *AREAS[RING_LIFE.name].example.actions[:-1],
    Action("a new reader binds the ring: new buffers, netmap_reset keeps hwtail",
           "bind_as_shipped", short="bind (as shipped)"),
))


def section(rows: list[Row], refuted: str) -> list[str]:
    example = EXAMPLE
    steps = run(example)
    last = steps[-1].after
    return [
        f"## {TITLE}",
        "**Who can trigger it:** any process binding a single ring (NR_REG_ONE_NIC, ...) "
        "that a previous reader left with frames it never released, while another handle "
        "keeps the adapter registered. **What goes wrong:** the ring is deleted with its "
        "last user and created with new buffers for the next, but the kring keeps its "
        f"indices, and {sources.link('netmap_reset')} on RX keeps `nr_hwtail`: "
        "`[rhead, hwtail)` reaches the new reader as received frames. **How bad:** "
        "garbage packets (every slot's `len` is the whole buffer), as many as the last "
        "reader left; nothing is lost and no memory boundary is crossed. The full story, "
        "the C and a workaround are on "
        f"{md.link('the control path page', control_page.PAGE, TITLE)}.",
        "**The C:** " + ", ".join(sources.link(n) for n in
                                  ("netmap_mem2_rings_create", "netmap_reset")) + ".",
        "### Example: 2 stale slots shown to the next reader of an 8-slot RX ring",
        scenario_table(example, steps),
        f"The new ring shows {ring_dist(last.hwcur, last.hwtail, last.n)} slots and holds `held = "
        f"{last.held}` frames. `impl.netmap.port` replays it under both policies "
        "(`tests/unit/test_ring_lifetime.py`).",
        "**The fix (`bind_hardened`):** give the kring netmap_krings_create's indices "
        f"when its ring is created. The model: [{RING_LIFE.title}]({RING_LIFE.name}.md).",
        refuted,
    ]
