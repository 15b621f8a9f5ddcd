"""The page comparing the two ways into and out of netmap mode, from ``ringspec modes``.

The figures are computed when the page is generated (the scenario is deterministic: no
randomness, no timing), so they always match the implementation and the command."""

from __future__ import annotations

from model import SWITCH_RX_CLASSIC, SWITCH_RX_RFC, SWITCH_TX_CLASSIC, SWITCH_TX_RFC
from ringspec import modes
from ringspec.docgen import common, md

PAGE = "modes.md"
TITLE = "netmap enter/exit: classic vs RFC"

COLUMNS = ("strategy", "exit", "frames", "link_down_ticks", "dropped", "lost", "duplicated",
           "copies", "leaked_buffers", "leave_ticks")


def _invariant_links() -> str:
    rows = []
    for m in (SWITCH_RX_CLASSIC, SWITCH_RX_RFC, SWITCH_TX_CLASSIC, SWITCH_TX_RFC):
        ids = ", ".join(md.link(md.tick(i), f"{m.name}.md", i) for i in m.invariants)
        rows.append([md.link(m.title, f"{m.name}.md"), ids])
    return md.table(["machine", "invariants (each proved for any N, with a killed mutant)"],
                    rows)


def render() -> str:
    sc = modes.Scenario()
    doc = modes.report(sc)
    body = [
        "Every netmap driver today enters netmap mode the **classic** way: NIOCREGIF calls "
        "the driver's register routine, which takes the interface down, flushes the rings, "
        "swaps the NIC's buffers for netmap buffers and brings the interface up again; the "
        "last close does the mirror. Luigi Rizzo's 2015 **RFC** (freebsd-net, \"revising "
        "netmap ring initialization\", never merged) keeps the link up instead: each NIC "
        "slot remembers whether it holds a stack mbuf or a netmap buffer, rxsync copies a "
        "packet that arrived in an mbuf into the slot's netmap buffer and converts the "
        "slot, and after one pass over the ring no copy is needed again. Leaving is the "
        "open question of the RFC: the NIC still holds netmap buffers, which come back "
        "either as traffic lands in them (**wait**) or by resetting the ring (**reset**).",
        "## The same traffic through both",
        f"`ringspec modes` runs one scenario through the implementation "
        f"(`impl.switch.SwitchRxRings`, `SwitchTxRings`) with each strategy: an interface "
        f"with {sc.queues} RX and {sc.queues} TX rings of {sc.ring_size} slots; every tick "
        f"{sc.rate} frames arrive on each RX ring and {sc.rate} packets are sent on each TX "
        "ring (by the stack in normal mode, a full queue refusing the excess; by the netmap "
        "user in netmap mode, as far as its free slots go); everything received is "
        "harvested and released and everything queued is sent and cleaned every tick; "
        f"netmap mode is entered at tick {sc.enter_at} and left at "
        f"tick {sc.exit_at}, a downed link back {sc.autoneg_ticks} ticks later "
        f"(autonegotiation), {sc.ticks} ticks in all and then until every ring is back in "
        "normal mode. These are its figures, computed when this page was generated:",
        md.table(list(COLUMNS), [[md.tick(row[c]) for c in COLUMNS]
                                 for row in doc["strategies"]]),
        "What they say:",
        "- **classic** loses the link twice (once per switch) and drops every frame that "
        "arrives meanwhile (`dropped`, counted as `linkdown`; packets the NIC had filled "
        "but nobody had taken, and packets still in flight on TX, are dropped too, as "
        "`flushed`); the stack's packets pile up on TX until a full queue refuses them, "
        "and the netmap user can send only until its slots run out (fewer `frames`). It "
        "never copies.",
        "- **RFC** keeps the link up and drops nothing. Its price is copies: entering costs "
        "one ring round (at most N copies per ring: the N-1 posted mbufs and the empty "
        "slot's); leaving by **wait** costs another round of copies (each frame that lands "
        "in a netmap buffer is copied into an mbuf) and `leave_ticks` of waiting for that "
        "traffic, which on an idle link never ends; leaving by **reset** is immediate and "
        "copy-free, at the cost of a ring reset (the queue, not the link). On TX the RFC "
        "needs no copy at all: the stack's packets in flight are withheld from the user "
        "until they complete, and on exit the user's packets drain within a tick.",
        "- Every strategy accounts for every frame (`lost` and `duplicated` are 0) and "
        "returns every netmap buffer (`leaked_buffers` is 0): the implementation checks "
        "this by frame id and buffer id, not by counting.",
        "## What is proved",
        "The model abstracts a ring to counts of descriptors by state and buffer kind "
        "(RX: posted, filled, the user's, the empty slot; TX: in flight, completed, the "
        "user's, free). For both strategies and both directions `ringspec prove` shows, "
        "for any ring size: no packet is lost or duplicated across a switch; no netmap "
        "buffer is freed while the NIC holds it and none leaks; after leaving, every "
        "netmap buffer is back in the allocator; the user never gets a slot backed by a "
        "stack mbuf; every stack mbuf is freed exactly once; and for the RFC the link "
        "never goes down and no stack buffer (so no copy) remains after one round. The "
        "stateful tests `tests/stateful/test_switch_rx.py` and `test_switch_tx.py` check "
        "the implementation against the models after every step, with every netmap "
        "buffer checked by id and every frame by id.",
        _invariant_links(),
        "Not yet here: the per-ring modes of a real adapter (`nr_mode` / `nr_pending_mode`, "
        "`netmap_krings_get`/`put`), which decide which rings switch; the strategies as "
        "used by the ENA driver come with netmap on ENA.",
    ]
    return md.page(TITLE, common.nav(PAGE), body)
