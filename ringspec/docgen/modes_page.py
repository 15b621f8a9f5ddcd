"""The page comparing the two ways into and out of netmap mode, from ``ringspec modes``.

The figures are computed when the page is generated (the scenario is deterministic: no
randomness, no timing), so they always match the implementation and the command."""

from __future__ import annotations

from model import SWITCH_RX_CLASSIC, SWITCH_RX_RFC, SWITCH_TX_CLASSIC, SWITCH_TX_RFC, sources
from ringspec import modes, modes_ena
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


def _ena_section(sc: modes_ena.EnaScenario, rows: list[dict]) -> list[str]:
    cols = list(modes_ena.COLUMNS)
    return [
        "## On ENA",
        "The same comparison on a whole ENA adapter (`impl.ena`, hardened) and a simulated "
        "device looped back to itself (`ringspec/modes_ena.py`). The classic way is ENA's "
        "own `ena_netmap_reg`: `ena_down`, the rings' mode, `ena_up` "
        f"({sources.link('ena_netmap_reg')}). The RFC way "
        "(`impl/ena/nm_rfc.py`, ringspec's design: ENA has no such code) keeps the "
        "interface up: an id the stack posted keeps its mbuf and gets the netmap buffer of "
        "the slot it will fill parked under it, and `ena_netmap_rx_frames` copies a packet "
        "that landed in an mbuf into that buffer; a stack packet in flight keeps its "
        "descriptors and the slot it will free, and `ena_netmap_tx_cleanup` frees the mbuf "
        "and hands the slot to the user. On the close, the slots' buffers go back at once; "
        "the netmap buffers the device still holds come back through ENA's mbuf RX cleanup "
        "(each packet copied up the stack, the buffer freed, an mbuf posted) and the TX "
        "completions; the stack's transmit is held until no netmap TX packet is in flight "
        "(then `free_tx_ids` is set up as `ena_setup_tx_resources` does), and the "
        "registration's memory goes when no RX descriptor holds a netmap buffer. The RX "
        "netmap buffers the device still holds come back one of two ways "
        "(`AdapterNetmap(adapter, strategy=\"rfc\", rx_exit=...)`): **wait** for traffic "
        "to land in them, or **reset** each RX queue that holds any -- DESTROY_SQ then "
        "DESTROY_CQ through the admin queue, the completions the device wrote before read "
        "into the stack, every netmap buffer of the queue back in the allocator at once "
        "(the device has forgotten the queue), the driver's RX state set up as "
        "`ena_setup_rx_resources` and `ena_com_create_io_queue` leave it, CREATE_CQ then "
        "CREATE_SQ, and the stack's mbufs posted. Only the RX SQ/CQ pair is reset: on ENA "
        "the TX and RX queues of a pair are separate ena_com IO queues, so the TX side "
        "still drains by completions and the registration ends with the last one. Frames "
        "that reach the device while an RX queue is gone are dropped and counted "
        "(`rx_no_queue`, in the `rx_drops` of ENA_ADMIN_GET_STATS); a failed admin command "
        "triggers the reset (ADMIN_TO or MISSING_ADMIN_INTERRUPT if the admin queue "
        "stopped, else DRIVER_INVALID_STATE), whose `ena_down` frees what is left. ENA has "
        "no such code either: it destroys and creates IO queues only all at once, in "
        "`ena_down` / `ena_up`.",
        f"The scenario: {sc.queues} IO queue pairs of {sc.ring_size} slots; every tick (100 "
        f"simulated ms) {sc.rate} frames are sent -- by the stack outside netmap mode, by "
        "the netmap user on TX ring 0 in it -- and loop back; the switch comes after the "
        "tick's sending and the device's receive, with the tick's packets in flight; netmap "
        f"mode from tick {sc.enter_at} to tick {sc.exit_at}, {sc.ticks} ticks and then "
        "until the registration ends. Each frame carries its number, so each is accounted "
        "for by number:",
        md.table(cols, [[md.tick(row[c]) for c in cols] for row in rows]),
        "`dropped` counts frames discarded with a counter saying so (the device's "
        "`rx_drops`, read through ENA_ADMIN_GET_STATS, and the driver's drops), `lost` "
        "those no counter has, `ring_resets` the RX IO queues destroyed and created "
        "again, `interface_downs` the `ena_down` calls, `leaked_buffers` the netmap "
        "buffers neither back in the allocator nor in a slot when the registration "
        "ended.",
        "- **classic** loses the tick's packets at each switch: entering, the stack's "
        "packets in flight are freed by `ena_down` (`freed_at_down`: lost to the sender, "
        "although the device had sent them); leaving, the user's packets received but not "
        "yet read go with the RX buffers `ena_down` frees, and no counter anywhere has "
        "them (`lost`). ENA keeps the link up across `ena_down` / `ena_up` (no "
        "autonegotiation gap as on the soft NIC), and the device is not reset.",
        "- **RFC, wait** delivers every frame and pays one round of copies each way: the "
        "mbufs posted at the switch, then the netmap buffers posted at the close (ENA "
        "refills in only once more than `min(N/8, 256)` descriptors are free, so up to "
        "that many fewer than N - 1 are posted). "
        "Its close waits `leave_ticks` for traffic to land in the netmap buffers the "
        "device holds: here the stack's own traffic, looped back; on an idle link it "
        "would never end, and a device reset (`ena_down`) ends it by freeing them all.",
        "- **RFC, reset** delivers every frame too, copies only on the way in, and never "
        "takes the interface down: its close resets each RX queue that holds netmap "
        "buffers (`ring_resets`, four admin commands each) and is done with RX before it "
        "returns, traffic or not; the registration ends in the same tick, when the netmap "
        "TX packets still in flight complete. Nothing reaches the device while a queue is "
        "gone in this scenario (the simulated device receives only when the scenario runs "
        "it), so `dropped` is 0 here; `tests/unit/test_ena_rfc_reset.py` makes frames "
        "arrive in that window and checks they are dropped and counted.",
        "The unit tests `tests/unit/test_ena_rfc.py` and `test_ena_rfc_reset.py` check "
        "each step byte for byte (the "
        "stack's packets reaching the netmap user and back, every netmap buffer in one "
        "place, the memory returned, EBUSY while the close waits, EINVAL when a stack "
        "buffer is larger than a netmap buffer; the reset exit on an idle link, the "
        "queue carrying the stack's traffic afterwards, and admin commands failing during "
        "it); the stateful machine "
        "`tests/stateful/test_ena_netmap_adapter.py` runs both strategies with traffic, "
        "resets and time, and checks that an RFC switch never resets the device or frees a "
        "stack packet; `tests/stateful/test_ena_switch_rx.py` runs the RFC's RX side on "
        "ENA in lockstep with the same model as the soft NIC's "
        f"([RX rings across enter/exit]({SWITCH_RX_RFC.name}.md)): each RX queue, read "
        "from its descriptor ring, driver state and kring, equals the model stepped "
        "through `wire`, `harvest`, `release`, `regif_rfc`, `unregif_rfc`, "
        "`ring_reset_exit` and `leave_done` after every rule, both exits, rings of 2 and "
        "4 (ENA refills the stack's buffers only past ring/8 free, which the model does "
        "not; from 8 slots up the two differ by design). One departure is stated there: "
        "on ENA the one empty descriptor keeps its netmap buffer when the ring enters "
        "netmap mode, so ENA makes one copy fewer than the model allows.",
    ]


def render() -> str:
    sc = modes.Scenario()
    ena = modes_ena.EnaScenario()
    doc = modes.report(sc, ena)
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
        *_ena_section(ena, doc["ena"]["strategies"]),
        "Which rings switch: the soft NIC's strategies (`impl/switch`) take a ring mask "
        "(`regif(mask)`, `unregif(mask)`), and on ENA the classic strategy switches only "
        "the queue pairs a registration binds (`AdapterNetmap.reg(onoff, rings=...)`, "
        "[netmap on ENA](ena_netmap.md)); the RFC on ENA switches every ring. Not yet "
        "here: the control path's per-ring modes (`nr_mode` / `nr_pending_mode`, "
        "`netmap_krings_get`/`put`, [NIOCREGIF](netmap_regif.md)) driving those masks.",
    ]
    return md.page(TITLE, common.nav(PAGE), body)
