"""One page per ENA machine: what it models, a picture and a worked example run on the model
when the page is generated, its state, transitions, invariants and contracts, then a
pointer to the evidence in proofs.md.

The worked examples are hand-picked sequences of steps (:data:`EXAMPLES`) on a small ring;
every value in their tables comes from running the model's own transitions, and the last
column lists the invariants the state breaks (empty except after an as-shipped step that is
a finding).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import model
from model import ena_reqid, sources
from model.ena_machine import EnaMachine
from ringspec.docgen import (
    common,
    ena_mgmt_tables,
    ena_pictures,
    glossary,
    llq_pictures,
    md,
    pictures,
)
from ringspec.docgen.evidence import Evidence

OWNER_MEANING = {
    "constant": "fixed when the queue is created",
    "driver": "written by the driver (ena_com / the FreeBSD driver)",
    "device": "written by the device",
    "memory": "host memory the device writes by DMA",
    "ghost": "ghost: not in the C, kept by the model to state a property",
    "clock": "the simulated clock (getsbinuptime)",
}


@dataclass(frozen=True)
class Move:
    transition: str
    args: dict[str, int] = dataclasses.field(default_factory=dict)
    times: int = 1
    note: str = ""


@dataclass(frozen=True)
class Example:
    depth_log2: int
    text: str  # what the example shows, in one paragraph
    moves: tuple[Move, ...]


def _completion(req_id: int, **faults: int) -> dict[str, int]:
    return {"ready": 1, "mbz": 0, "req_id": req_id, "stale": 0, **faults}


def _rx_packet(req_id: int, **faults: int) -> dict[str, int]:
    return {"ready": 1, "malformed": 0, "too_many": 0, "req_id": req_id, **faults}


EXAMPLES: dict[str, Example] = {
    "ena_reset_buffers": Example(1, "Rings of 1024, 1023 mbufs posted at attach. The "
                                 "interface switches to netmap (ena_down frees the 1023 "
                                 "mbufs, ena_up posts 1023 netmap buffers from the slots), "
                                 "the user sends 3 slots, then a reset: ena_destroy_device's "
                                 "ena_down stops the device and, as shipped, frees without "
                                 "giving the 3 TX buffers in flight back: the TX ring is "
                                 "left with 1021 buffers for 1024 slots.", (
        Move("netmap_reg_begin", {"onoff": 1}, note="ena_down stops the device"),
        Move("down_free_hardened", note="1023 mbufs back to the pool"),
        Move("netmap_reg_end_hardened", {"up_ok": 1, "fill": 1023},
             note="1023 netmap buffers posted"),
        Move("nm_tx_frame", times=3, note="3 slots' buffers with the device"),
        Move("destroy_begin", note="the reset task: ena_down stops the device"),
        Move("down_free_as_shipped", note="socket_buf_idx zeroed: 3 buffers lost"),
    )),
    "ena_sq": Example(2, "A 4-entry SQ: the driver writes three entries and rings the "
                      "doorbell, the device reads two, their completions free them, and "
                      "the next writes wrap past slot 3, flipping the phase.", (
        Move("sq_produce", times=3), Move("sq_doorbell"), Move("device_consume", times=2),
        Move("sq_comp_ack", {"n": 2}, note="two entries acknowledged"),
        Move("sq_produce", times=2, note="the tail wraps: phase 1 -> 0"),
    )),
    "ena_cq": Example(2, "A 4-entry CQ: the device writes two completions, the driver takes "
                      "them, the device writes three more (wrapping: its phase flips), "
                      "and the driver takes the first one of the new pass.", (
        Move("cq_produce", times=2), Move("cq_consume", times=2),
        Move("cq_produce", times=3, note="the device wraps: its phase 1 -> 0"),
        Move("cq_consume", note="the entry at slot 2 has the expected phase"),
    )),
    "ena_tx_reqid": Example(2, "Four TX request ids: three are allocated, a completion "
                            "returns id 1, and a second completion naming id 1 (now free) "
                            "is refused with INV_TX_REQ_ID (5).", (
        Move("reqid_alloc", times=3),
        Move("tx_completion_hardened", _completion(1), note="valid: id 1 is released"),
        Move("tx_completion_hardened", _completion(1), note="duplicate: reset reason 5"),
    )),
    "ena_rx_reqid": Example(2, "Four RX request ids: two buffers are posted, a packet on "
                            "id 0 is received, and a malformed completion triggers "
                            "RX_DESCRIPTOR_MALFORMED (16).", (
        Move("reqid_alloc", times=2),
        Move("rx_completion_hardened", _rx_packet(0), note="valid: id 0 is released"),
        Move("rx_completion_hardened", _rx_packet(1, malformed=1),
             note="malformed: reset reason 16, nothing moves"),
    )),
    "ena_txq": Example(8, "A 256-entry TX ring with max_tx_sgl_size 19: twelve 19-entry "
                       "packets leave 27 entries free; the thirteenth leaves 8 < 21, so the "
                       "queue stops; one completed packet frees 19 and it resumes.", (
        Move("tx_xmit", {"descs": 19}, times=12), Move("tx_xmit", {"descs": 19},
                                                       note="free 8 < 21: stopped"),
        Move("tx_cleanup", {"n": 19}, note="free 27 >= 21: running again"),
    )),
    "ena_llq": Example(2, "An LLQ packet of 10 descriptors with 128-byte entries (8 "
                       "descriptors each): the first entry takes 2 descriptors and the "
                       "header, the second 8; close writes nothing more; the doorbell "
                       "refills the burst.", (
        Move("llq_begin_packet", {"descs": 10}), Move("llq_put_desc", times=10),
        Move("llq_close"), Move("llq_doorbell"),
    )),
    "ena_keepalive": Example(1, "The keep-alives stop at time 0 (6 s timeout, ticks every "
                             "second, times in sbintime_t: 1 s = 4294967296): at the sixth "
                             "tick the gap is exactly 6 s, not more, so nothing happens; the "
                             "seventh requests KEEP_ALIVE_TO (1), finds the device answering "
                             "its version read and queues the reset task instead of "
                             "re-arming. The reset waits 2.5 s; the restore "
                             "refreshes the timestamp, so the next tick finds a 1 s gap.", (
        Move("timer_service", {"in_aenq": 0, "admin_down": 0, "tx_missing": 0}, times=6,
             note="gap 6 s = timeout: no reset"),
        Move("timer_service", {"in_aenq": 0, "admin_down": 0, "tx_missing": 0},
             note="gap 7 s > 6 s: reason 1; the callout reads the version"),
        Move("version_read", {"unresponsive": 0},
             note="the device answers: reset task queued, timer not re-armed"),
        Move("clock_advance", {"dt_ms": 2500}, note="the timer is not armed: time runs on"),
        Move("reset_task", {"ok": 1}, note="timestamp refreshed, timer re-armed"),
        Move("timer_service", {"in_aenq": 0, "admin_down": 0, "tx_missing": 0},
             note="gap 1 s: no reset"),
    )),
    "ena_admin": Example(5, "Two admin commands (ids 0 and 1); the device completes "
                         "id 0 and its waiter returns. Then 31 more fill the queue: ids 2 "
                         "to 31 and, wrapping, id 0 again, so all 32 contexts are occupied. "
                         "The next submit is refused with NO_SPACE: hardened, nothing else "
                         "changes; as shipped, `running_state` becomes false with no "
                         "reason, which the timer turns into an ADMIN_TO reset.", (
        Move("submit_hardened", times=2, note="ids 0 and 1 outstanding"),
        Move("device_complete"),
        Move("acq_process", {"command": 0}, note="context 0 completed, ACQ head 1"),
        Move("wait_returns", {"ctx": 0}, note="context 0 released"),
        Move("submit_hardened", times=31, note="32 outstanding: every context occupied"),
        Move("submit_hardened", note="NO_SPACE: nothing changes"),
        Move("submit_as_shipped", note="NO_SPACE and running_state false: finding"),
    )),
    "ena_aenq": Example(4, "The device posts three events; the interrupt takes a "
                        "KEEP_ALIVE (stamping time 7) and two link changes, then returns "
                        "the three slots with one doorbell write (head 19). The device "
                        "then fills all 16 slots, wrapping; the next interrupt takes the "
                        "16 (the phase flips at slot 0) and writes head 35.", (
        Move("device_post", times=3),
        Move("intr_enter"),
        Move("aenq_process", {"group": 4, "now": 7}, note="KEEP_ALIVE: timestamp 7"),
        Move("aenq_process", {"group": 0, "now": 7}, times=2),
        Move("intr_leave", note="3 taken: AENQ_HEAD_DB = 19"),
        Move("device_post", times=16, note="16 past the doorbell: the ring is full"),
        Move("intr_enter"),
        Move("aenq_process", {"group": 3, "now": 9}, times=16,
             note="the phase flips after slot 15"),
        Move("intr_leave", note="AENQ_HEAD_DB = 35"),
    )),
    "ena_tx_header": Example(1, "A device reporting a 300-byte header limit: hardened, the "
                             "driver keeps ena_com's 256; as shipped, its uint8_t keeps "
                             "44.", (
        Move("header_setup_hardened", {"dev_max": 300}),
        Move("header_setup_as_shipped", {"dev_max": 300}, note="300 & 0xff = 44: finding"),
    )),
    "ena_netmap_txsync": Example(2, "A 4-slot netmap TX ring on ENA, hardened: the user publishes "
                             "3 slots, ena_netmap_tx_frame sends them as ids 0, 1, 2 (each "
                             "stamped), the device completes id 1 before id 0 (ENA completes "
                             "out of order), and the freed slots reappear after hwtail; the "
                             "user publishes 2 more, which go out as ids 3 and 1. Then the "
                             "next two completions as shipped: next_to_clean stays at 2 "
                             "((2 + 1) & 2 = 2), so id 3 overwrites id 2 in free_tx_ids: "
                             "id 2 is lost and id 3 is listed twice.", (
        Move("user_publish", {"dh": 3}), Move("tx_frame_hardened", times=3),
        Move("tx_clean_hardened", {"req_id": 1}, note="id 1 back at position 0"),
        Move("tx_clean_hardened", {"req_id": 0}, note="id 0 back at position 1"),
        Move("user_publish", {"dh": 2}),
        Move("tx_frame_hardened", times=2, note="ids 3, then 1 from position 0"),
        Move("tx_clean_as_shipped", {"req_id": 2},
             note="as shipped: next_to_clean (2 + 1) & 2 = 2"),
        Move("tx_clean_as_shipped", {"req_id": 3},
             note="id 3 overwrites id 2 at position 2: id 2 is lost"),
    )),
    "ena_netmap_rxsync": Example(2, "A 4-slot netmap RX ring on ENA after the initial refill "
                             "(ids 0, 1, 2 posted from slots 0, 1, 2; nr_hwcur = 3 is the gap). "
                             "The device fills all three buffers before the next rxsync; the "
                             "user reads nothing (rhead stays 0). Hardened, nothing can be "
                             "refilled until the user releases slots; as shipped "
                             "(nr_hwcur == nr_hwtail, so no \"- 1\") the refill posts the gap "
                             "slot 3, and when the device fills it hwtail reaches rhead: the "
                             "user's ring looks empty although it holds four packets, and "
                             "nothing is posted any more.", (
        Move("rx_frame_hardened", {"req_id": 0}), Move("rx_frame_hardened", {"req_id": 1}),
        Move("rx_frame_hardened", {"req_id": 2}, note="every posted buffer filled"),
        Move("rx_cleanup_as_shipped", note="as shipped: refill = 0 - 3 + 4 = 1"),
        Move("rx_refill_as_shipped", note="slot 3, the gap, goes to the device"),
        Move("rx_frame_hardened", {"req_id": 3},
             note="hwtail = rhead = hwcur: the ring looks empty and stays so"),
    )),
    "ena_netmap_reg": Example(1, "A reset is requested (INV_TX_REQ_ID 5) and the timer queues "
                              "the reset task; hardened, the mode switch keeps the request, "
                              "ena_down resets the device and the task runs. Then the same "
                              "request as shipped: ena_netmap_reg clears the flag, ena_down "
                              "does not reset the device, and the queued task, when it runs, "
                              "finds no flag and does nothing; reason 5 stays behind with no "
                              "request.", (
        Move("trigger_reset", {"reason": 5}), Move("timer_queues_reset"),
        Move("netmap_reg_hardened", {"onoff": 1, "up_ok": 1},
             note="ena_down resets the device with reason 5"),
        Move("reset_task", note="the full reset still runs"),
        Move("trigger_reset", {"reason": 5}), Move("timer_queues_reset"),
        Move("netmap_reg_as_shipped", {"onoff": 0, "up_ok": 1},
             note="flag cleared: no device reset; the queued task will find no flag"),
    )),
    "ena_netmap_txq": Example(1, "Four IO queues; a netmap application binds queue pair 0 "
                              "alone (NR_REG_ONE_NIC). The stack sends three packets without "
                              "a hash type (an ARP request, say) from CPU 0. The first has "
                              "flowid 0: TX kring 0 is in netmap mode, so netmap_transmit "
                              "takes it for the host ring. The other two have flowid 1: "
                              "kring 1 is not in netmap mode, so netmap_transmit hands them "
                              "to ena_mq_start. Hardened, the driver sends them on queue 1; "
                              "as shipped it picks `curcpu % 4 = 0`, the netmap queue.", (
        Move("register", {"onoff": 1, "rings": 1}, note="ena_netmap_reg: pair 0 only"),
        Move("stack_transmit_hardened",
             {"txq": 0, "hashed": 0, "cpuq": 0, "rss": 0, "rssq": 0},
             note="kring 0 is netmap's: to the host RX ring"),
        Move("stack_transmit_hardened",
             {"txq": 1, "hashed": 0, "cpuq": 0, "rss": 0, "rssq": 0},
             note="hardened: queue 1, in mbuf mode"),
        Move("stack_transmit_as_shipped",
             {"txq": 1, "hashed": 0, "cpuq": 0, "rss": 0, "rssq": 0},
             note="as shipped: curcpu's queue 0, in netmap mode"),
    )),
}

#: Machine -> what a driver author needs first: the rule, with the C, before the model.
RULES: dict[str, Callable[[], str]] = {
    "ena_netmap_txsync": lambda: (
        "**The rule.** A netmap TX slot travels user → kernel (`rhead`) → device "
        f"(`nr_hwcur`, {sources.link('ena_netmap_tx_frames')}) → back to the user after "
        f"`nr_hwtail` ({sources.link('ena_netmap_tx_cleanup')}), and one slot, `nr_hwtail`, "
        "is never handed out. Each packet in flight holds a `req_id` taken from "
        "`free_tx_ids[next_to_use]`; each completion writes its `req_id` back at "
        "`free_tx_ids[next_to_clean]`, in completion order, which is not send order. So "
        "both indices must advance modulo the ring size, and the free ids plus the ids in "
        "flight must stay a permutation of 0..N-1. "
        f"{sources.link('ena_netmap_tx_clean_one')} advances `next_to_clean` with "
        "`ENA_TX_RING_IDX_NEXT(nt, ctx->lim)`, where `lim` is already `N - 1`, so it masks "
        "with `N - 2` and stays at 0 (see [ENA findings](ena-findings.md)). A packet in "
        "flight should also carry a `tx_info->timestamp` (as "
        f"{sources.link('ena_xmit_mbuf')} stamps one) for "
        f"{sources.link('check_missing_comp_in_tx_queue')} to see it.\n\n"
        + md.code("ring of 4, user published 3, ids 0 1 2 sent; device completes 1, then 0\n"
                  "\n"
                  "before:  slot  0    1    2    3        free_tx_ids  [0 1 2 3]\n"
                  "               id0  id1  id2  gap      next_to_use 3, next_to_clean 0\n"
                  "               hwcur = rhead = 3, hwtail = 3\n"
                  "\n"
                  "after:   slot  0    1    2    3        free_tx_ids  [1 0 2 3]   (hardened)\n"
                  "               usr  gap  id2  usr      next_to_use 3, next_to_clean 2\n"
                  "               hwtail = 1: slots 3 and 0 are the user's again\n"
                  "\n"
                  "as shipped:                            free_tx_ids  [0 1 2 3]\n"
                  "                                       next_to_clean 0 (both written at 0)")),
    "ena_netmap_rxsync": lambda: (
        "**The rule.** netmap RX keeps one slot empty: the user holds `[rhead, hwtail)`, "
        "the slots it released wait in `[nr_hwcur, rhead)`, and the device fills the "
        "posted buffers from `nr_hwtail` on. ENA's `nr_hwcur` is the next slot whose "
        f"buffer {sources.link('ena_netmap_alloc_rx_slot')} posts, so netmap's gap slot is "
        "exactly `nr_hwcur`, and a refill may post only the released slots after it: "
        "`rhead - nr_hwcur - 1` (mod N). "
        f"{sources.link('ena_netmap_rx_cleanup')} subtracts that 1 only when `nr_hwcur != "
        "nr_hwtail`; when the device has filled every posted buffer it posts the gap slot "
        "too. And each completion must name a posted `req_id`: "
        f"{sources.link('ena_netmap_rx_load_desc')} does not check "
        "(see [ENA findings](ena-findings.md)).\n\n"
        + md.code("ring of 4 after the initial refill: ids 0 1 2 posted from slots 0 1 2\n"
                  "\n"
                  "the device fills all three; the user has read nothing:\n"
                  "        slot  0    1    2    3\n"
                  "              pkt  pkt  pkt  gap     rhead 0, hwtail 3, nr_hwcur 3\n"
                  "\n"
                  "hardened refill: rhead - nr_hwcur - 1 = 0 (mod 4): nothing to post\n"
                  "as shipped:      rhead - nr_hwcur = -3, + 4 = 1: posts slot 3's buffer\n"
                  "        device fills it: hwtail 0 = rhead = nr_hwcur\n"
                  "        the user's ring reads as empty; nothing is posted again")),
    "ena_netmap_reg": lambda: (
        "**The rule.** A requested reset (ENA_FLAG_TRIGGER_RESET with its reason) is served "
        f"by a device reset: by {sources.link('ena_down')} when it finds the flag set, or "
        f"by {sources.link('ena_reset_task')}, which does nothing without the flag. "
        f"{sources.link('ena_netmap_reg')} clears the flag before `ena_down`, so a reset "
        "requested before a netmap mode switch is never performed, and `reset_reason` stays "
        "behind without a request (see [ENA findings](ena-findings.md))."),
    "ena_netmap_txq": lambda: (
        "**The rule.** While netmap mode is on for some queue pairs, the stack's packets "
        "must never reach a TX queue in netmap mode: that SQ, its free `req_id`s and its "
        f"completions are {sources.link('ena_netmap_txsync')}'s. netmap_transmit "
        f"({sources.link('nm_os_onenter')} installs it as `if_transmit`) checks TX kring "
        f"`flowid % num_tx_rings` ({sources.link('netmap_transmit (MBUF_TXQ)')}) and "
        f"hands the packet to {sources.link('ena_mq_start')} only if that kring is not in "
        "netmap mode; ena_mq_start must then use that queue. It picks its own: "
        "`flowid % num_io_queues` only for a packet with a hash type, `curcpu % "
        "num_io_queues` otherwise (and the RSS bucket with `options RSS`), and nothing "
        f"asks {sources.link('ena_ring_in_netmap')}. See [ENA findings](ena-findings.md).\n\n"
        + md.code("4 queues, pair 0 bound by a netmap application (NR_REG_ONE_NIC 0)\n"
                  "\n"
                  "packet           netmap_transmit      ena_mq_start (as shipped)\n"
                  "flowid 0         kring 0 netmap: host ring\n"
                  "flowid 1, hash   kring 1 mbuf: driver  flowid % 4 = 1   (mbuf queue)\n"
                  "flowid 1, none   kring 1 mbuf: driver  curcpu % 4 = 0   (netmap queue!)\n"
                  "\n"
                  "hardened: ena_mq_start takes flowid % 4 while netmap mode is on")),
}


def _llq_figure() -> pictures.Figure:
    """The worked example's packet, then the same packet in 256 B entries and a longer one
    that spills into a partial fourth entry."""
    descs = EXAMPLES["ena_llq"].moves[0].args["descs"]
    return llq_pictures.figure([(128, descs), (256, descs), (128, 19)])


#: Machine -> (its picture, made when the page is generated; what the picture shows).
PICTURES: dict[str, tuple[Callable[[], pictures.Figure], str]] = {
    "ena_sq": (ena_pictures.sq_figure,
               "An 8-entry SQ, drawn from states the model's transitions reach: the picture "
               "starts after 65533 entries have gone round, so the next writes carry `tail` "
               "across 65535 -> 0. Counters are free-running u16 values and the slot is "
               "`counter & (depth - 1)`; each written entry shows its counter and the phase "
               "bit written with it, which flips every time the slot wraps to 0 (65536 is a "
               "multiple of the depth, so the u16 wrap is a slot wrap too). One slot, the one "
               "before `next_to_comp`, always stays empty: "
               f"{sources.link('ena_com_free_q_entries')} is "
               "`depth - 1 - (u16)(tail - next_to_comp)`; "
               f"{sources.link('ena_com_sq_update_tail')} flips the phase."),
    "ena_cq": (ena_pictures.cq_figure,
               "The CQ of the same size, across the same wrap: the device writes completion "
               "`c` into slot `c & 7` with the phase of its pass; each slot shows the number "
               "of the completion that last wrote it (the model's ghost `mem_seq`) and its "
               "phase bit (`mem_phase`). The driver takes the entry at `head` only when its "
               "phase equals `io_cq->phase` "
               f"({sources.link('ena_com_tx_comp_req_id_get')}, "
               f"{sources.link('ena_com_cq_inc_head')}); an entry of the previous pass "
               "carries the other phase, so it never looks new."),
    "ena_tx_reqid": (lambda: ena_pictures.reqid_figure(ena_reqid.TX, "ena-tx-reqid-life"),
                     "The life of a request id on a 4-entry ring: left, the free list by "
                     "position (`free_tx_ids`; the free window starts at `next_to_use`); "
                     "right, whether each id is in flight (`tx_buffer_info[id].mbuf`). A "
                     "valid completion writes its id back at `next_to_clean` "
                     f"({sources.link('ena_tx_cleanup')}). Each refusal is run from the same "
                     "state: the model records the reset reason named "
                     f"({sources.link('validate_tx_req_id')}; the first reason wins, "
                     f"{sources.link('ena_trigger_reset')}) and no id moves."),
    "ena_rx_reqid": (lambda: ena_pictures.reqid_figure(ena_reqid.RX, "ena-rx-reqid-life"),
                     "The same for RX ids (`free_rx_ids`, `rx_buffer_info[id].mbuf`): a "
                     f"valid completion returns its id to the free list "
                     f"({sources.link('ena_rx_mbuf')}); each refusal is run from the same "
                     "state and records the reset reason named "
                     f"({sources.link('ena_rx_cleanup')}), and no id moves."),
    "ena_llq": (_llq_figure,
                "Where each descriptor of a packet lands, to scale, run on the model: the "
                "first entry holds 2 descriptors then the pushed header (up to 96 B in a "
                "128 B entry, 224 B in a 256 B one); the other descriptors fill following "
                f"entries of 8 or 16 ({sources.link('get_sq_desc_llq')}), and "
                f"{sources.link('ena_com_close_bounce_buffer')} writes the last one partial. "
                "The first row is the worked example below."),
}


#: Machine -> the reference sections a driver author reads first (tables made when the page
#: is generated, from the implementation's constants and runs).
REFERENCE: dict[str, Callable[[], list[str]]] = {
    "ena_admin": ena_mgmt_tables.admin_sections,
    "ena_aenq": ena_mgmt_tables.aenq_sections,
}


def reference_sections(machine: EnaMachine) -> list[str]:
    """The machine's reference sections (none for most)."""
    make = REFERENCE.get(machine.name)
    return make() if make else []


#: What the machines without a symbolic depth are stated over.
FIXED_SIZE_TEXT = {
    "ena_reset_buffers": "No ring index: one queue pair's buffers as u16 counts (rings of 2 "
                         "to 32768, up to 16383 mbufs), the adapter's flags as in C.",
    "ena_keepalive": "No ring: one adapter, times exact as 64-bit sbintime_t, flags and the "
                     "reason as in C.",
    "ena_admin": "Depth fixed at ENA_ADMIN_QUEUE_DEPTH = 32, the only one the driver "
                 "creates, so the 32 completion contexts are exact 32-bit masks and every "
                 "proof is quantifier-free; counters are u16 and wrap at 65536 as in C.",
    "ena_aenq": "Depth fixed at ENA_ASYNC_QUEUE_DEPTH = 16, the only one the driver "
                "creates; counters are u16 and wrap at 65536 as in C.",
    "ena_netmap_reg": "No ring: the adapter's mode, reset flag and reason, as in C.",
    "ena_netmap_txq": "No ring: the queue count (up to 15, the bits of a u16 mask) and "
                      "each queue pair's mode; the queue choices as residues modulo the "
                      "queue count.",
}


def picture_section(machine: EnaMachine) -> list[str]:
    """``## Picture``, its explanation and the image, for machines that have one."""
    if machine.name not in PICTURES:
        return []
    make, text = PICTURES[machine.name]
    return ["## Picture", text, make().markdown]


def page_name(machine: EnaMachine) -> str:
    return f"{machine.name}.md"


def _value(v: Any) -> str:
    return "[" + ", ".join(str(x) for x in v) + "]" if isinstance(v, tuple) else str(v)


def run_example(machine: EnaMachine, example: Example) -> list[tuple[str, str, Any, list[str]]]:
    """(step, note, state after, invariants broken) per row, starting with init."""
    state = machine.init(example.depth_log2)
    rows = [("init", "", state, machine.violated(state))]
    for move in example.moves:
        for _ in range(move.times):
            step = machine.transitions[move.transition](state, **move.args)
            if step.guard is not True:
                raise ValueError(f"{machine.name}: {move.transition} is not enabled in "
                                 f"{state}: fix the example")
            state = step.post
        args = ", ".join(f"{k}={v}" for k, v in move.args.items())
        label = f"{move.transition}({args})" + (f" ×{move.times}" if move.times > 1 else "")
        rows.append((label, move.note, state, machine.violated(state)))
    return rows


def example_table(machine: EnaMachine, example: Example) -> str:
    rows = run_example(machine, example)
    fields = [f.name for f in dataclasses.fields(machine.state_type)]
    body = []
    previous = None
    for label, note, state, broken in rows:
        cells = []
        for name in fields:
            text = _value(getattr(state, name))
            changed = previous is not None and getattr(previous, name) != getattr(state, name)
            cells.append(f"**{text}**" if changed else text)
        body.append([md.tick(label), *cells, ", ".join(md.tick(b) for b in broken),
                     md.prose(note)])
        previous = state
    return md.table(["step", *fields, "broken", "note"], body,
                    "l" + "r" * len(fields) + "ll")


def _module_doc(machine: EnaMachine) -> str:
    doc = sys.modules[machine.state_type.__module__].__doc__ or ""
    return md.prose(doc.split("\n\n")[0])


def render(machine: EnaMachine, ev: Evidence) -> str:
    example = EXAMPLES[machine.name]
    rows = ev.for_machine(machine)
    proved = sum(r.result == "proved" for r in rows)
    findings = sum(r.is_finding for r in rows)
    mutants = sum(r.obligation.kind == "mutant" and r.result == "refuted" for r in rows)
    body = [
        _module_doc(machine),
        (f"One ring of {machine.vec_len} slots (fixed, so every obligation is exact "
         "quantifier-free bit-vector arithmetic); indices are u16 as in C."
         if machine.vec_len else
         f"Ring size 2^k for {machine.min_log2} <= k <= {machine.max_log2}; counters are "
         "u16 and wrap at 65536 as in C." if machine.has_depth else
         FIXED_SIZE_TEXT[machine.name]) + " Source: "
        f"`{machine.state_type.__module__.replace('.', '/')}.py`.",
        *([RULES[machine.name]()] if machine.name in RULES else []),
        *picture_section(machine),
        *reference_sections(machine),
        "## Worked example",
        f"{example.text} Run on the model when this page was generated (changed values "
        "bold; `broken` lists the invariants the state violates).",
        example_table(machine, example),
        "## State",
        md.table(["field", "written by", "domain", "meaning"],
                 [[md.tick(v.name), OWNER_MEANING.get(v.owner, v.owner), v.domain,
                   md.prose(v.doc)] for v in machine.vars]),
        "## Transitions",
    ]
    for t in machine.transitions.values():
        params = ", ".join(f"`{p.name}` ({p.domain}): {md.prose(p.doc)}" for p in t.params)
        body += [f"### {t.name}",
                 f"{md.prose(t.doc)}\n\nActor: {t.actor}."
                 + (f" Arguments: {params}." if params else "")
                 + (f" As shipped it breaks {', '.join(md.tick(b) for b in sorted(t.breaks))} "
                    f"(see [ENA findings](ena-findings.md))." if t.breaks else "")]
    body.append("## Invariants")
    for inv in machine.invariants.values():
        body += [f"### {inv.id}", md.prose(inv.sentence)]
    if machine.contracts:
        body.append("## Contracts")
        for c in machine.contracts.values():
            body += [f"### {c.id}",
                     f"{md.prose(c.sentence)}\n\nChecked on "
                     f"{', '.join(md.tick(t) for t in c.transitions)}."]
    body += [
        "## Evidence",
        f"{len(rows)} {glossary.ref('obligation', 'obligations')}: {proved} proved, "
        f"{findings} findings refuted as expected, {mutants} mutants killed. The tables "
        f"and counterexamples are in {md.link('proofs', 'proofs.md', machine.name)}.",
    ]
    return md.page(f"{machine.title} (`{machine.name}`)", common.nav(page_name(machine)), body)


def pages(ev: Evidence) -> dict[str, str]:
    return {page_name(m): render(m, ev) for m in model.ENA_MACHINES}
