"""The netmap-on-ENA page: how a slot travels through ena_netmap_txsync and
ena_netmap_rxsync, what a driver author must keep, and -- measured when the page is
generated, by :mod:`ringspec.ena_netmap_run` -- what each finding does on the running
implementation, as shipped and hardened."""

from __future__ import annotations

from model import sources
from ringspec import ena_netmap_run
from ringspec.docgen import common, md

PAGE = "ena_netmap.md"
TITLE = dict(common.PAGES)[PAGE]

CHECKLIST = (
    ("advance `next_to_clean` with the ring size", "ENA_TX_RING_IDX_NEXT(nt, lim) masks "
     "with `lim - 1 = ring_size - 2`: a power-of-two ring keeps next_to_clean at 0",
     "ena_netmap_tx_clean_one"),
    ("stamp `tx_info->timestamp` when a netmap packet goes out, clear it at completion",
     "the missing-completion watchdog only scans stamped ids", "ena_netmap_tx_frame"),
    ("check that an RX completion's id was posted (`netmap_buf_idx != 0`)", "a repeated or "
     "stale id hands the user buffer 0 and lists the id twice in free_rx_ids",
     "ena_netmap_rx_load_desc"),
    ("refill `rhead - nr_hwcur - 1` slots and stop at the gap (`nm_next(nr_hwcur) == "
     "rhead`)", "the `- 1` only when nr_hwcur != nr_hwtail posts the gap slot; the ENOMEM "
     "test at `rhead` is one slot late", "ena_netmap_rx_cleanup"),
    ("keep the user's slot flags when a chain is rolled back (`flags |= NS_BUF_CHANGED`)",
     "`flags = NS_BUF_CHANGED` erases NS_MOREFRAG", "ena_netmap_unmap_last_socket_chain"),
    ("give the buffers of TX packets in flight back to their slots in ena_down",
     "it zeroes socket_buf_idx: the buffers are gone, their slots hold 0",
     "ena_free_tx_resources"),
    ("leave ENA_FLAG_TRIGGER_RESET alone in ena_netmap_reg", "clearing it drops a "
     "requested reset", "ena_netmap_reg"),
    ("in netmap mode, send a stack packet on the queue netmap_transmit checked (`flowid % "
     "num_io_queues`)", "an unhashed packet goes to `curcpu`'s queue, which may be "
     "netmap's: its mbuf is never freed by netmap's TX cleanup", "ena_mq_start"),
    ("keep `nr_hwcur` in netmap's meaning (next slot to give back)", "ENA keeps the next "
     "slot to post, one behind: netmap's RX prologue then refuses a full ring",
     "ena_netmap_alloc_rx_slot"),
)


def travel_section() -> list[str]:
    link = sources.link
    return [
        "## How a slot travels",
        "**TX.** NIOCTXSYNC runs netmap's prologue, then "
        f"{link('ena_netmap_txsync')}: {link('ena_netmap_tx_frames')} walks the slots from "
        "`nr_hwcur` to `rhead`, one packet per NS_MOREFRAG chain (at most "
        "`max_tx_sgl_size` slots, else EINVAL). Each packet takes `req_id = "
        "free_tx_ids[next_to_use]`; every slot's `buf_idx` is saved in the id's `nm_info` "
        "and the slot is **zeroed while the device owns the buffer** "
        f"({link('ena_netmap_tx_map_slots')}). In LLQ mode the first "
        "`min(len, tx_max_header_size)` bytes go to the device as the pushed header, read "
        "from the first slot or copied across slots. A full SQ rolls the chain back and "
        f"ends the loop with 0 ({link('ena_netmap_unmap_last_socket_chain')}). Then "
        f"{link('ena_netmap_tx_cleanup')} takes completions in CQ order and puts each "
        "packet's buffers back in the slots after `nr_hwtail`, flagged NS_BUF_CHANGED. "
        "netmap runs nm_sync_finalize only if the sync returned 0, so an EINVAL leaves "
        "`ring->tail` where it was until the offending chain is fixed.",
        "**RX.** ENA's `nr_hwcur` is the next slot it will post -- netmap's hwcur minus "
        f"one, so the gap slot is `nr_hwcur` itself. {link('ena_netmap_rx_frames')} "
        "loads each completion's buffer into the slot at `nr_hwtail` (NS_MOREFRAG on every "
        f"slot of a packet but the last); {link('ena_netmap_rx_cleanup')} computes the "
        f"refill count once and {link('ena_netmap_alloc_rx_slot')} posts slot `nr_hwcur`'s "
        "buffer for each, zeroing the slot.",
        "**Mode switch.** "
        f"{link('ena_netmap_reg')} is the classic switch: `ena_down`, the mode of the "
        "rings the registration binds, `ena_up` -- the link goes down and the device's "
        "queues are rebuilt. ena_up's ring setup calls netmap_reset on each ring in "
        "netmap mode (TX: `hwtail = rhead - 1`, every pending and in-flight slot counts "
        "as sent); ena_down returns posted RX buffers to the slots before `nr_hwcur` "
        f"({link('ena_netmap_free_rx_slot')}).",
        "**Some rings only.** A registration may bind one queue pair (NR_REG_ONE_NIC); "
        "the others stay the stack's, and the datapath asks per queue "
        f"({link('ena_ring_in_netmap')}): ena_up fills their RX rings with mbufs, their "
        "interrupts run ENA's own cleanup, and a later registration adds its rings with "
        "another down/up (`AdapterNetmap.reg(True, rings=[q])`). The stack's packets "
        "first meet netmap_transmit, which takes those whose TX kring `flowid % "
        "num_tx_rings` is netmap's for the host RX ring and passes the rest to "
        f"{link('ena_mq_start')}, which chooses a queue again, by its own rule "
        f"([the model](ena_netmap_txq.md), [ENA findings](ena-findings.md)).",
    ]


def trace_section() -> list[str]:
    rows = []
    for t, shipped, hardened in ena_netmap_run.run_traces():
        def mark(o: ena_netmap_run.Outcome) -> str:
            return ("**broken**: " if o.broken else "fine: ") + o.text
        rows.append([t.title, md.tick(t.rule) if t.rule.startswith("ENA-") else t.rule,
                     t.scenario, mark(shipped), mark(hardened)])
    return [
        "## What goes wrong, measured",
        "Each finding run on the implementation (`impl/ena/nm_*.py` over the simulated "
        "device; `ringspec/ena_netmap_run.py`), once with the driver as shipped and once "
        "hardened. Every figure below was measured when this page was generated; "
        "`ringspec ena-netmap` prints the same table.",
        md.table(["finding", "rule", "scenario", "as shipped", "hardened"], rows),
        "The prologue row is not the ENA driver's policy: it is netmap's test against "
        "ENA's convention for `nr_hwcur`. As shipped it hides behind the gap refill "
        "(which moves `nr_hwcur` first); the hardened driver, which keeps the gap, meets "
        "it. Fixing it needs ENA to keep netmap's meaning of `nr_hwcur`.",
    ]


def checklist_section() -> list[str]:
    rows = [[do, why, sources.link(fn)] for do, why, fn in CHECKLIST]
    return [
        "## For a driver author: what to keep",
        md.table(["do", "because as shipped", "C"], rows),
    ]


def deviation_section() -> list[str]:
    return [
        "## Where the implementation refuses what the C mishandles",
        "- A slot of length 0 is EINVAL. In the C, host mode maps nothing for it, so "
        "`nm_i` never moves and ena_netmap_tx_frames spins on that slot; in LLQ mode its "
        "id and buffer go out with no descriptor and never come back.",
        "- A chain still open at `rhead` (NS_MOREFRAG on the last published slot) waits "
        "for the next sync; the C counts and maps slots past `rhead`.",
        "- Hardened only: a slot whose `buf_idx` is not a real buffer, or whose `len` "
        "exceeds the buffer, is EINVAL. As shipped `PNMB` maps a bad index to buffer 0 and "
        "the length goes to the device unchecked, which then reads past the buffer.",
        "- `ena_up` in netmap mode whose rings were backed off after ENOMEM (host memory "
        "ran out) below the size netmap gave its rings at NIOCREGIF fails with ENOMEM, and "
        "`ena_netmap_reg`'s failure path brings the interface back in mbuf mode. The C "
        "carries on with a kring larger than the ENA ring it indexes; nothing checks.",
    ]


def switch_section() -> list[str]:
    return [
        "## Entering and leaving without taking the interface down",
        "`ena_netmap_reg` switches the classic way: `ena_down`, the rings' mode, `ena_up`. "
        "The stack's packets in flight and the frames in its RX buffers go with "
        "`ena_down`. ringspec also runs the 2015 RFC's way on ENA (`impl/ena/nm_rfc.py`, "
        "`AdapterNetmap(adapter, strategy=\"rfc\")`): the interface stays up, the "
        "stack's posted buffers and packets in flight are kept and handed over one ring "
        "round later, and the close either waits for the device to give its netmap "
        "buffers back (`rx_exit=\"wait\"`: on an idle link the RX side never ends) or "
        "destroys and creates again, through the admin queue, each RX queue that still "
        "holds some (`rx_exit=\"reset\"`: DESTROY_SQ, DESTROY_CQ, CREATE_CQ, CREATE_SQ, "
        "the stack's mbufs posted; the TX side still drains by completions). "
        "The two are compared, frame by frame, on [the enter/exit page](modes.md#on-ena).",
    ]


def evidence_section() -> list[str]:
    return [
        "## Evidence",
        "- The model: [ENA netmap TX](ena_netmap_txsync.md), [ENA netmap RX]"
        "(ena_netmap_rxsync.md) and [the mode switch](ena_netmap_reg.md), each proved to "
        "refine netmap's own ring machines (hardened) with a replayable counterexample "
        "per finding.",
        "- `tests/stateful/test_ena_netmap_lockstep.py`: on the model's 4-slot ring, every "
        "NIOCTXSYNC and NIOCRXSYNC of the implementation is a sequence of enabled model "
        "transitions ending in the state the implementation reached; hardened, every "
        "model invariant and every netmap buffer holds after every step.",
        "- `tests/unit/test_ena_netmap_differential.py`: the vectorized TX and RX paths "
        "against a slot-at-a-time port of the C loops (`impl/ena/nm_reference.py`) on twin "
        "rigs -- random chains and lengths, host mode and LLQ with a burst limit, RX "
        "faults, both policies -- the same kring, slots, queue state, counters and wire "
        "bytes after every sync. It found that ena_netmap_tx_frames rings the doorbell "
        "at the end whenever it sent anything, also right after a failing packet's own "
        "doorbell test rang it.",
        "- `tests/unit/test_ena_netmap.py` (frames byte for byte through host mode and "
        "LLQ, NS_MOREFRAG both ways, and each finding), "
        "`tests/unit/test_ena_adapter_netmap.py` (ena_netmap_reg on a whole adapter) and "
        "`tests/stateful/test_ena_netmap_adapter.py` (mode switches, traffic, resets and "
        "time on a whole adapter, judged by the mode-switch model).",
        md.code("from impl.ena.nm_port import EnaNetmap\n"
                "nm = EnaNetmap.on_driver(driver)   # netmap rings sized like the queues\n"
                "nm.up()                            # ena_up in netmap mode\n"
                "# write slots, set ring head/cur, then:\n"
                "nm.txsync(); nm.rxsync()           # NIOCTXSYNC / NIOCRXSYNC", "python"),
    ]


def render() -> str:
    body = [
        "The FreeBSD ENA driver is a native netmap adapter (NAF_MOREFRAG): one TX and one "
        "RX netmap ring per IO queue pair, of the requested ring sizes "
        f"({sources.link('ena_netmap_attach')}). This page is what a netmap user or a "
        "driver author needs to know about it; the implementation is "
        "`impl/ena/nm_rings.py`, `nm_tx.py`, `nm_rx.py`, `nm_port.py` and "
        "`adapter_netmap.py`.",
        *travel_section(),
        *trace_section(),
        *checklist_section(),
        *deviation_section(),
        *switch_section(),
        *evidence_section(),
    ]
    return md.page(TITLE, common.nav(PAGE), body)
