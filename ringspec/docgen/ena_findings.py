"""The ENA findings page: where the shipped FreeBSD ENA driver admits a state that breaks
an invariant of the ENA model (model/ena_*.py).

Each finding opens with the story a driver engineer needs (who can trigger it, what goes
wrong, how bad it is, the C, pinned), then the solver's smallest counterexample replayed on
the concrete model when the page is generated (a snippet and its output), the hardened
fix, and the evidence, folded.
"""

from __future__ import annotations

from dataclasses import dataclass

import model
from model import sources
from model.ena_machine import EnaMachine
from proofs.ena_obligations import concrete_state
from ringspec.docgen import common, glossary, md
from ringspec.docgen.evidence import Evidence, Row, run_snippet

PAGE = "ena-findings.md"


@dataclass(frozen=True)
class EnaFinding:
    title: str
    summary: str
    who: str
    what: str
    how_bad: str
    code: tuple[str, ...]  # model.sources names the story cites
    hardened: str
    machine: str
    transition: str  # the as-shipped transition whose refutations are the finding
    counterpart: str  # the hardened transition proved in its place
    example: str  # the obligation id whose counterexample is replayed
    #: further (as-shipped, hardened) transition pairs with the same fault (the same
    #: rule broken on another path)
    also: tuple[tuple[str, str], ...] = ()

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return ((self.transition, self.counterpart), *self.also)


FINDINGS = (
    EnaFinding(
        "The already-completed test reads past tx_buffer_info",
        "after a TX completion fails validation, ena_get_tx_req_id still tests "
        "`tx_buffer_info[req_id].mbuf`, with an out-of-range or stale req_id.",
        who="the device: a TX completion whose req_id is >= the ring size, or whose MBZ "
        "bits are set (then req_id is not written and the caller's variable holds a stale "
        "value). A faulty device or a buggy hypervisor backend is enough; no user process "
        "can write TX completions.",
        what="ena_com_tx_comp_req_id_get returns ENA_COM_INVAL (req_id >= q_depth) or "
        "ENA_COM_FAULT (MBZ); validate_tx_req_id requests the reset (INV_TX_REQ_ID 5 or "
        "TX_DESCRIPTOR_MALFORMED 17) and returns an error, but ena_get_tx_req_id tests "
        "`tx_buffer_info[req_id].mbuf == NULL` whatever it returned. With req_id up to "
        "65535 that load lands up to 65535 entries past the array.",
        how_bad="low to medium. The reset is already requested and the first reason "
        "wins, so the verdict does not change; the harm is one wild pointer-sized load "
        "of kernel memory, which can fault if it crosses into an unmapped page.",
        code=("ena_get_tx_req_id", "validate_tx_req_id", "ena_com_tx_comp_req_id_get"),
        hardened="test the mbuf only when ena_com returned 0 (the ghost `oob` never "
        "moves; ENA-TX-NO-OOB-READ and ENA-TX-VERDICT are proved for every depth).",
        machine="ena_tx_reqid",
        transition="tx_completion_as_shipped",
        counterpart="tx_completion_hardened",
        example="ena_tx_reqid/step/tx_completion_as_shipped/ENA-TX-NO-OOB-READ",
    ),
    EnaFinding(
        "A duplicate RX req_id goes back on the free list",
        "when ena_rx_mbuf finds no mbuf for a completed req_id, ena_rx_cleanup still "
        "writes that id into free_rx_ids and advances next_to_clean.",
        who="the device: an RX completion naming a req_id that is not posted (a duplicate "
        "or stale completion). The range check in ena_com_rx_pkt does not catch it: the "
        "id is < ring size.",
        what="ena_rx_mbuf sees `rx_info->mbuf == NULL`, requests the INV_RX_REQ_ID (4) "
        "reset and returns NULL; the caller then re-queues the packet's req_ids into "
        "`free_rx_ids` from its next_to_clean and writes next_to_clean back, though none "
        "of them was in flight. The free list now holds that id twice and has lost the "
        "id it overwrote, and next_to_clean runs ahead of the ids really released.",
        how_bad="medium until the reset runs. The refill check right after the loop can "
        "hand the duplicated id to the device a second time while its buffer may still "
        "be posted; the reset requested by the same packet tears the rings down on the "
        "next timer tick.",
        code=("ena_rx_cleanup", "ena_rx_mbuf", "ena_refill_rx_bufs"),
        hardened="re-queue only ids that were taken (an id whose mbuf was NULL was never "
        "in flight): ENA-REQID-COUNT, ENA-REQID-POSITIONS and ENA-RX-VERDICT are proved.",
        machine="ena_rx_reqid",
        transition="rx_completion_as_shipped",
        counterpart="rx_completion_hardened",
        example="ena_rx_reqid/step/rx_completion_as_shipped/ENA-REQID-POSITIONS",
    ),
    EnaFinding(
        "An RX cleanup error leaves next_to_clean behind",
        "when ena_rx_cleanup stops on a bad packet it returns without storing "
        "next_to_clean, though it already released the ids of the packets it delivered.",
        who="the device: a malformed RX completion (FIRST bit or MBZ bits), too many "
        "descriptors for one packet, or a req_id >= ring size, after at least one good "
        "packet in the same cleanup call. Found by the driver + device stateful test "
        "(tests/stateful/test_ena_datapath.py), not by reading the C.",
        what="ena_rx_mbuf writes each delivered packet's req_id into `free_rx_ids` at the "
        "function's local next_to_clean and advances it; when ena_com_rx_pkt then fails, "
        "ena_rx_cleanup requests the reset and returns 0 without writing the local value "
        "back to `rx_ring->next_to_clean`. The ring now has one id more free than "
        "next_to_use and next_to_clean account for, and the next release overwrites it.",
        how_bad="low: the reset requested on the same path rebuilds the ring before the "
        "driver refills it; the refill is skipped on this exit.",
        code=("ena_rx_cleanup", "ena_rx_mbuf", "ena_com_rx_pkt"),
        hardened="store next_to_clean before the early return: ENA-REQID-COUNT is proved.",
        machine="ena_rx_reqid",
        transition="rx_cleanup_error_after_packet_as_shipped",
        counterpart="rx_cleanup_error_after_packet_hardened",
        example="ena_rx_reqid/step/rx_cleanup_error_after_packet_as_shipped/ENA-REQID-COUNT",
    ),
    EnaFinding(
        "The missing-completion check consumes a TX completion",
        "check_cdesc_in_tx_cq reads the CQ with ena_com_tx_comp_req_id_get, which "
        "advances the head past a valid entry.",
        who="nobody in particular: the timer service, when more than "
        "missing_tx_threshold (128) packets of a queue are overdue and the cleanup task is "
        "neither pending nor running, while a completion sits in the CQ.",
        what="to tell a lost interrupt (MISS_INTERRUPT 14) from a lost completion "
        "(MISS_TX_CMPL 3), check_cdesc_in_tx_cq calls ena_com_tx_comp_req_id_get. When it "
        "finds a valid entry that call also advances the CQ head: the completion is taken "
        "and never handed to ena_tx_cleanup, so its req_id stays in flight and its SQ "
        "entries are never acknowledged.",
        how_bad="low: the same check assigns the reset reason, and the reset that follows "
        "rebuilds the rings.",
        code=("check_cdesc_in_tx_cq", "check_missing_comp_in_tx_queue",
              "ena_com_tx_comp_req_id_get"),
        hardened="peek at the phase of the entry at head without advancing it.",
        machine="ena_cq",
        transition="missing_tx_diagnostic_as_shipped",
        counterpart="missing_tx_diagnostic_hardened",
        example="ena_cq/step/missing_tx_diagnostic_as_shipped/ENA-CQ-HANDED",
    ),
    EnaFinding(
        "The missing-completion check overwrites the reset reason",
        "check_missing_comp_in_tx_queue assigns `adapter->reset_reason` directly instead "
        "of through ena_trigger_reset, so a reason recorded since its test is lost.",
        who="nobody in particular: a race between the timer service and any "
        "ena_trigger_reset on another CPU (the TX or RX cleanup task validating a bad "
        "completion, the AENQ DEVICE_REQUEST handler). The callout takes no lock.",
        what="check_for_missing_completions returns at once if ENA_FLAG_TRIGGER_RESET is "
        "set, so within one tick the keep-alive and admin reasons are safe. But between "
        "that test and the moment check_missing_comp_in_tx_queue, over its threshold, sets "
        "the flag and writes `reset_reason = MISS_TX_CMPL` (or MISS_INTERRUPT), another "
        "CPU can request a reset through ena_trigger_reset (say INV_TX_REQ_ID 5); its "
        "reason is overwritten. The rule every other trigger follows, the first reason "
        "wins, does not hold here.",
        how_bad="low: the reset still happens; what is wrong is the reason written to the "
        "device in DEV_CTL and the per-reason reset counter, which is what an operator "
        "reads to find the cause.",
        code=("check_missing_comp_in_tx_queue", "check_for_missing_completions",
              "ena_trigger_reset"),
        hardened="request the reset through ena_trigger_reset (test the flag and record "
        "the reason only if it was clear): ENA-RESET-FIRST-WINS is proved.",
        machine="ena_keepalive",
        transition="missing_tx_commit_as_shipped",
        counterpart="missing_tx_commit_hardened",
        example="ena_keepalive/contract/missing_tx_commit_as_shipped/ENA-RESET-FIRST-WINS",
    ),
    EnaFinding(
        "The driver's header limit is a uint8_t",
        "tx_ring->tx_max_header_size is a uint8_t copied from a u16 device value that "
        "ena_com clamps to 256.",
        who="the device, in host placement: it reports its max header size in the "
        "device attributes. In LLQ placement the value is 96 or 224 and fits.",
        what="ena_init_io_rings_basic stores ena_dev->tx_max_header_size into the uint8_t "
        "field of struct ena_ring, so 256 becomes 0 and 300 becomes 44, while "
        "ena_com_create_io_queue gives ena_com the limit min(value, 256). The collapse "
        "rule and the LLQ push then work with a different limit from the one "
        "ena_com_prepare_tx enforces.",
        how_bad="low: a header limit of 0 or a few bytes makes the driver push less "
        "header than it could, or collapse mbuf chains it need not; no memory is "
        "overrun.",
        code=("ena_init_io_rings_basic", "struct ena_ring (tx_max_header_size)",
              "ena_com_create_io_queue"),
        hardened="keep the driver's copy in a u16 with ena_com's clamp.",
        machine="ena_tx_header",
        transition="header_setup_as_shipped",
        counterpart="header_setup_hardened",
        example="ena_tx_header/step/header_setup_as_shipped/ENA-TX-HDR-LIMIT",
    ),
    EnaFinding(
        "netmap TX: next_to_clean is masked with ring_size - 2",
        "ena_netmap_tx_clean_one advances next_to_clean with `ENA_TX_RING_IDX_NEXT(nt, "
        "ctx->lim)`; `lim` is already `nkr_num_slots - 1`, so the mask is N - 2 and "
        "free_tx_ids stops being a permutation: ids are lost and others handed out twice.",
        who="nobody in particular: every netmap TX application on ENA, with ordinary "
        "traffic. The device completing in order is enough; completing out of order (which "
        "the req_id scheme allows) makes it sooner.",
        what="`ENA_TX_RING_IDX_NEXT(idx, size)` is `(idx + 1) & (size - 1)` and the netmap "
        "clean path passes `ctx->lim = nkr_num_slots - 1`, so with a power-of-two ring of "
        "N slots next_to_clean moves with mask N - 2: from 0 it never leaves 0, and every "
        "completed req_id is written into `free_tx_ids[0]`, overwriting the previous one. "
        "The transmit side keeps taking `free_tx_ids[next_to_use]` for every position. "
        "Worked example, 4 slots, completions in order: send ids 0, 1, 2; complete 0 and "
        "1 (both written at position 0, which now holds 1); send id 3 (position 3) and id 1 "
        "(position 0); complete 2 (position 0 now holds 2); the next send takes position 1, "
        "which still holds id 1 from the initialisation: id 1 is sent a second time while "
        "it is in flight, and id 0 is no longer anywhere in the list.",
        how_bad="high for netmap TX users: the second send overwrites `tx_info` of an id "
        "in flight (its netmap buffer indices and DMA maps), so a buffer never returns to "
        "its slot and hwtail stops short; netmap mode has no already-completed check, so "
        "nothing resets the device. The ring loses capacity until transmission stalls.",
        code=("ena_netmap_tx_clean_one", "ENA_TX_RING_IDX_NEXT", "ena_netmap_tx_frame"),
        hardened="`ENA_TX_RING_IDX_NEXT(nt, ctx->ring->ring_size)`, as "
        "ena_netmap_tx_frame does for next_to_use: ENA-NM-TX-IDS (free ids and ids in "
        "flight a permutation) is proved.",
        machine="ena_netmap_txsync",
        transition="tx_clean_as_shipped",
        counterpart="tx_clean_hardened",
        example="ena_netmap_txsync/step/tx_clean_as_shipped/ENA-NM-TX-IDS",
    ),
    EnaFinding(
        "A netmap mode switch drops a pending reset",
        "ena_netmap_reg clears ENA_FLAG_TRIGGER_RESET before ena_down, so a reset "
        "requested before the switch is never performed.",
        who="a process that opens or closes a netmap port on the interface (root, or "
        "whoever may open /dev/netmap), at a moment when the driver has requested a reset "
        "(a bad completion, a missing keep-alive, a device request) that the timer service "
        "has not yet performed: a window of up to a second, or longer while the reset "
        "task waits for ENA_LOCK, which ena_netmap_reg holds.",
        what="ena_netmap_reg takes ENA_LOCK, clears ENA_FLAG_TRIGGER_RESET and calls "
        "ena_down, which resets the device with `reset_reason` only when that flag is set; "
        "then it switches the mode and calls ena_up. ena_reset_task, already queued or "
        "queued later, runs only if the flag is set. So the reset is never performed, and "
        "`reset_reason` keeps the old reason with no request pending. Worked example: a "
        "TX completion names an invalid req_id, ena_trigger_reset records INV_TX_REQ_ID "
        "(5) and the timer queues the reset task; the user starts a netmap application; "
        "the switch clears the flag, ena_down skips the device reset, and the reset task "
        "finds no flag and returns.",
        how_bad="medium: the device state the reset was meant to clear (a hung queue, a "
        "corrupt ring, a device that asked to be reset) carries on into the new mode; the "
        "reset counters and the reason report nothing; a later ena_trigger_reset records "
        "its reason over the stale one.",
        code=("ena_netmap_reg", "ena_down", "ena_reset_task"),
        hardened="leave the flag alone: ena_down then resets the device with the pending "
        "reason and the reset task still runs; ENA-NM-RESET-KEPT and ENA-NM-RESET-PENDING "
        "are proved.",
        machine="ena_netmap_reg",
        transition="netmap_reg_as_shipped",
        counterpart="netmap_reg_hardened",
        example="ena_netmap_reg/contract/netmap_reg_as_shipped/ENA-NM-RESET-KEPT",
    ),
    EnaFinding(
        "The stack transmits on a queue netmap owns",
        "with netmap on some queue pairs, ena_mq_start puts a stack packet without a hash "
        "type on `curcpu`'s queue, which may be one in netmap mode.",
        who="any local sender while a netmap application has bound some of the queue "
        "pairs (NR_REG_ONE_NIC, one application per queue, the usual way to share an ENA "
        "interface with the stack): every packet the stack has not hashed (ARP, ICMP, "
        "the first packets of a connection on some paths) sent from a CPU whose queue is "
        "netmap's. Also every hashed packet on a kernel built with `options RSS`, whose "
        "bucket need not match `flowid % num_io_queues`.",
        what="netmap_transmit, the interface's `if_transmit` in netmap mode, checks TX "
        "kring `flowid % num_tx_rings` and passes the packet on to ena_mq_start when that "
        "kring is not in netmap mode. ena_mq_start chooses again, `curcpu % "
        "num_io_queues` for an unhashed packet, and ena_start_xmit writes the packet into "
        "that queue's SQ with a `req_id` from its free list, beside the netmap "
        "application's packets. Its completion is read by ena_netmap_tx_cleanup, which "
        "returns netmap slots and never frees an mbuf: the mbuf, its DMA map and its "
        "`tx_info->timestamp` stay until the next ena_down. On ringspec's implementation: "
        "200 such packets, sent and completed by the device, are still in flight 5 s "
        "later; the missing-completion check counts them and resets the device "
        "(MISS_TX_CMPL), and ena_down frees them (tests/unit/test_ena_netmap_rings.py).",
        how_bad="high: a leak of mbufs and DMA maps that grows with the traffic, a device "
        "reset once more than 128 are older than the TX timeout (which takes the netmap "
        "application's queue down too), and a netmap TX ring sharing its SQ with the "
        "stack.",
        code=("netmap_transmit (MBUF_TXQ)", "ena_mq_start", "ena_ring_in_netmap",
              "ena_netmap_tx_clean_one"),
        hardened="while netmap mode is on, ena_mq_start takes `flowid % num_io_queues` for "
        "every packet, the queue netmap_transmit checked: ENA-NM-TXQ-APART is proved.",
        machine="ena_netmap_txq",
        transition="stack_transmit_as_shipped",
        counterpart="stack_transmit_hardened",
        example="ena_netmap_txq/step/stack_transmit_as_shipped/ENA-NM-TXQ-APART",
    ),
    EnaFinding(
        "netmap TX packets are invisible to the missing-completion watchdog",
        "ena_netmap_tx_frame never stamps `tx_info->timestamp`, and "
        "check_missing_comp_in_tx_queue only looks at entries with one.",
        who="the device, by not completing netmap TX packets (a stuck queue, a lost "
        "completion, a lost interrupt). Nobody has to do anything unusual.",
        what="on the mbuf path ena_xmit_mbuf stamps `tx_info->timestamp` and ena_tx_cleanup "
        "clears it; the timer service counts entries older than missing_tx_timeout and "
        "resets the device (MISS_TX_CMPL or MISS_INTERRUPT) past the threshold. In netmap "
        "mode no entry is ever stamped, so the check always finds zero packets missing "
        "(`tx_missing` is 0 in the keep-alive model). Worked example: a netmap "
        "application sends three packets as ids 0, 1, 2; the device never completes them; "
        "the three entries have no timestamp, so the check counts none, no reset follows, "
        "and the slots never come back to the application.",
        how_bad="medium: a TX queue that stops completing in netmap mode hangs the "
        "application's ring until someone resets the interface; the keep-alive watchdog "
        "only catches a device that is dead as a whole.",
        code=("ena_netmap_tx_frame", "ena_xmit_mbuf", "check_missing_comp_in_tx_queue"),
        hardened="stamp the timestamp in ena_netmap_tx_frame and clear it in "
        "ena_netmap_tx_clean_one: ENA-NM-TX-WATCHED (an id has a timestamp exactly while "
        "it is in flight) is proved.",
        machine="ena_netmap_txsync",
        transition="tx_frame_as_shipped",
        counterpart="tx_frame_hardened",
        example="ena_netmap_txsync/step/tx_frame_as_shipped/ENA-NM-TX-WATCHED",
    ),
    EnaFinding(
        "netmap RX takes a completion for a buffer that is not posted",
        "ena_netmap_rx_load_desc has no equivalent of the mbuf path's NULL-mbuf check: a "
        "completion naming an id that was already returned is delivered again.",
        who="the device: an RX completion whose req_id is below the ring size but not "
        "posted (a duplicate or stale completion). A faulty device or a buggy backend; no "
        "user process writes RX completions.",
        what="ena_netmap_rx_load_desc gives `rx_info->netmap_buf_idx` to the next slot "
        "(0 once the buffer has been returned, so the slot gets buffer 0, netmap's "
        "reserved one), writes the req_id into `free_rx_ids[next_to_clean]` and advances "
        "next_to_clean and hwtail. The id is now listed twice in the free list and the id "
        "it overwrote is lost; a later refill posts the duplicated id twice, and its two "
        "completions hand the same netmap buffer to two slots. Worked example, 4 slots "
        "after the initial refill (ids 0, 1, 2 posted): a completion for id 0 is "
        "delivered, then a second one for id 0: free_rx_ids becomes [0, 0, 2, 3] (id 0 "
        "listed twice) and the ring counts one buffer posted where the device holds two "
        "(ids 1 and 2).",
        how_bad="medium: the application reads a packet in buffer 0 or in a buffer another "
        "slot also holds (data from one packet shown as another, or overwritten under it); "
        "the mbuf path would have reset the device with INV_RX_REQ_ID (4).",
        code=("ena_netmap_rx_load_desc", "ena_netmap_rx_frame", "ena_rx_mbuf"),
        hardened="refuse a req_id whose `netmap_buf_idx` is 0 and request the "
        "INV_RX_REQ_ID reset, as ena_rx_mbuf does: ENA-NM-RX-IDS is proved.",
        machine="ena_netmap_rxsync",
        transition="rx_frame_as_shipped",
        counterpart="rx_frame_hardened",
        example="ena_netmap_rxsync/step/rx_frame_as_shipped/ENA-NM-RX-IDS",
    ),
    EnaFinding(
        "netmap RX refills the gap slot when the device has filled every buffer",
        "ena_netmap_rx_cleanup subtracts the kept-back slot only when nr_hwcur != "
        "nr_hwtail; when the device has filled every posted buffer it posts one buffer "
        "too many, and the next packet makes the ring look empty for good.",
        who="nobody in particular: a netmap RX application that is slower than the link "
        "for a moment, so that the device fills every posted buffer between two rxsyncs "
        "(one burst of ring_size - 1 packets). Found by the refinement proof onto "
        "netmap's RX ring; not reproduced on hardware.",
        what="ENA posts the buffers of slots [nr_hwtail, nr_hwcur) and keeps slot nr_hwcur "
        "back (netmap's one empty slot). When the device has filled them all, nr_hwtail == "
        "nr_hwcur, the `- 1` is skipped, and `rhead - nr_hwcur` (+ N) counts the kept-back "
        "slot as refillable. Worked example, 4 slots: ids 0, 1, 2 posted from slots 0, 1, 2 "
        "(nr_hwcur 3, rhead 0); the device fills all three; the application has read "
        "nothing; the refill computes 0 - 3 + 4 = 1 and posts slot 3's buffer. When the "
        "device fills it, nr_hwtail becomes 0 = rhead: the application's ring has head == "
        "tail and reads as empty although it holds four packets, and the refill count "
        "(rhead - nr_hwcur = 0) never posts a buffer again.",
        how_bad="high if it happens: the RX queue stops for good (no buffer posted, the "
        "application sees an empty ring and releases nothing; netmap mode bypasses the "
        "empty-RX-ring refill of the timer service) and ring_size packets are lost, until "
        "the interface is reset.",
        code=("ena_netmap_rx_cleanup", "ena_netmap_alloc_rx_slot", "ena_netmap_rx_frames"),
        hardened="refill `rhead - nr_hwcur - 1` (mod N) whatever nr_hwtail is, and let "
        "ena_netmap_alloc_rx_slot stop at the gap (`nm_next(nr_hwcur) == rhead`) rather "
        "than at rhead: "
        "ENA-NM-RX-RING (the image satisfies every netmap RX invariant) and "
        "ENA-NM-RX-REFINES are proved.",
        machine="ena_netmap_rxsync",
        transition="rx_refill_as_shipped",
        counterpart="rx_refill_hardened",
        example="ena_netmap_rxsync/step/rx_refill_as_shipped/ENA-NM-RX-RING",
    ),
    EnaFinding(
        "A full admin queue resets the device",
        "a submit refused with NO_SPACE (32 commands outstanding) also sets the admin "
        "queue's `running_state` to false, and the timer service then resets the device "
        "with ADMIN_TO.",
        who="the driver itself, under load: any 33rd admin command while 32 are "
        "outstanding (statistics, RSS, MTU and queue-setup commands issued from several "
        "threads at once, with a slow device). No device fault is needed.",
        what="__ena_com_submit_admin_cmd returns NO_SPACE when `outstanding_cmds >= "
        "q_depth`, which is a transient condition the caller could retry. But its wrapper "
        "ena_com_submit_admin_cmd treats every error of the inner function alike and sets "
        "`running_state = false`. From then on every admin command is refused with "
        "NO_DEVICE, and the next tick of ena_timer_service finds the state false in "
        "check_for_admin_com_state and requests a reset with reason ADMIN_TO (2), as if "
        "the device had stopped answering.",
        how_bad="medium: a full reset of a healthy device (all IO queues torn down and "
        "rebuilt, traffic lost for the duration), reported with a misleading reason "
        "(ADMIN_TO) in DEV_CTL and in the reset counters.",
        code=("ena_com_submit_admin_cmd", "__ena_com_submit_admin_cmd",
              "check_for_admin_com_state"),
        hardened="return NO_SPACE without touching `running_state` (keep stopping the "
        "queue for the INVAL of an id still in use): ENA-ADMIN-DOWN is proved.",
        machine="ena_admin",
        transition="submit_as_shipped",
        counterpart="submit_hardened",
        example="ena_admin/step/submit_as_shipped/ENA-ADMIN-DOWN",
    ),
    EnaFinding(
        "A reset loses the netmap TX buffers in flight",
        "ena_down frees a netmap TX ring's in-flight packets by their mbuf, which they do "
        "not have, and then zeroes the socket_buf_idx that held their buffers.",
        who="no one in particular: any ena_down while netmap TX packets are in flight -- "
        "a reset (keep-alive, missing completions, a device request), a netmap mode "
        "switch, a sysctl that restarts the interface.",
        what="a netmap TX slot gives its buffer to the device when the frame is sent: the "
        "slot's buf_idx is zeroed and the buffer's index kept in "
        "`tx_info->socket_buf_idx` until the completion. ena_free_tx_bufs only frees "
        "`tx_info->mbuf`, so netmap packets are skipped; ena_free_tx_resources then zeroes "
        "socket_buf_idx. netmap_reset hands the user those slots with buf_idx 0.",
        how_bad="medium: every reset with traffic in flight leaks netmap buffers from the "
        "ring's allocation; the user's slots point at buffer 0, so later sends from them "
        "transmit whatever buffer 0 holds, and the leak accumulates until the port is "
        "closed.",
        code=("ena_free_tx_bufs", "ena_free_tx_resources", "netmap_reset"),
        hardened="give each in-flight socket_buf_idx back to its slot before zeroing it "
        "(as ena_netmap_tx_cleanup does on a completion): ENA-BUF-NETMAP is proved.",
        machine="ena_reset_buffers",
        transition="down_free_as_shipped",
        counterpart="down_free_hardened",
        example="ena_reset_buffers/step/down_free_as_shipped/ENA-BUF-NETMAP",
    ),
    EnaFinding(
        "After a reset the RX refill takes the slots the user still holds",
        "ena_up posts ring_size - 1 netmap buffers starting at rhead, the user's unread "
        "slots first, because the ring is marked not initialized.",
        who="no one in particular: a netmap RX user that has not released every received "
        "slot when the interface goes down and up (a reset, the restore after a failed "
        "mode switch, a sysctl that restarts the interface).",
        what="ena_setup_rx_resources marks the ring not initialized; netmap_reset keeps "
        "rhead and nr_hwtail, so the user still owns [rhead, hwtail). "
        "ena_netmap_alloc_rx_slot only honours rhead once the ring is initialized, so "
        "ena_refill_all_rx_bufs takes ring_size - 1 slots from rhead on, the user's first: "
        "their buffers are posted to the device while the user reads them, and their "
        "slots emptied. When a completion lands on the last slot that still holds a "
        "buffer, ena_netmap_rx_load_desc warns and overwrites it.",
        how_bad="medium: received frames the user is reading are overwritten by the "
        "device, and buffers are lost with each such reset.",
        code=("ena_setup_rx_resources", "ena_refill_all_rx_bufs", "ena_netmap_alloc_rx_slot",
              "netmap_reset"),
        hardened="refill at most ring_size - 1 - (slots the user holds), from hwtail: "
        "ENA-BUF-NM-USER is proved for ena_up, the restore and the mode switch. The "
        "implementation's hardened policy fills this way, and every restore of the "
        "stateful ENA tests is checked against restore_device_hardened.",
        machine="ena_reset_buffers",
        transition="restore_device_as_shipped",
        counterpart="restore_device_hardened",
        example="ena_reset_buffers/step/restore_device_as_shipped/ENA-BUF-NM-USER",
        also=(("if_up_as_shipped", "if_up_hardened"),
              ("netmap_reg_end_as_shipped", "netmap_reg_end_hardened")),
    ),
)


def _machine(name: str) -> EnaMachine:
    return next(m for m in model.ENA_MACHINES if m.name == name)


def replay_snippet(machine: EnaMachine, row: Row) -> str:
    """Python that rebuilds the counterexample's state, runs the as-shipped step on it and
    prints which invariants hold before and after."""
    cex = row.counterexample
    module = machine.state_type.__module__
    args = ", ".join(f"{k}={v}" for k, v in cex["args"].items())
    lines = [
        "import model",
        f"from {module} import {machine.state_type.__name__}",
        f"machine = next(m for m in model.ENA_MACHINES if m.name == {machine.name!r})",
        f"pre = {concrete_state(machine, cex['pre'])!r}",
        f"step = machine.transitions[{row.obligation.transition!r}]"
        f"(pre{', ' + args if args else ''})",
        'print("enabled:", step.guard)',
        'print("broken before:", machine.violated(pre) or "none")',
        'print("broken after: ", machine.violated(step.post) or "none")',
    ]
    return "\n".join(lines)


def _evidence(f: EnaFinding, rows: list[Row], counterparts: list[Row]) -> str:
    parts = [
        f"**Refuted as expected** ({glossary.ref('refuted as expected', 'what that means')}): "
        "these obligations are the finding. Each counterexample is the smallest the solver "
        "found (depth first), at a depth where every quantifier was expanded, so it is a "
        "real state.",
        common.obligation_table(rows),
    ]
    if counterparts:
        parts += ["**The hardened counterparts**, proved for every depth:",
                  common.obligation_table(counterparts)]
    others = [r for r in rows if r.id != f.example]
    if others:
        parts.append("**The other counterexamples:**")
        parts += [f"`{r.id}`\n\n{common.counterexample(r.counterexample)}" for r in others]
    return md.details(
        f"Evidence: {_count(len(rows), 'obligation')} refuted as expected, "
        f"{_count(len(counterparts), 'hardened counterpart')} proved", "\n\n".join(parts))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _section(f: EnaFinding, ev: Evidence) -> list[str]:
    machine = _machine(f.machine)
    shipped = {a for a, _ in f.pairs}
    fixed = {b for _, b in f.pairs}
    rows = [r for r in ev.findings if r.obligation.machine == f.machine
            and r.obligation.transition in shipped]
    refuted = {(r.obligation.kind, r.obligation.invariant) for r in rows}
    counterparts = [r for r in ev.rows if r.obligation.machine == f.machine
                    and r.obligation.transition in fixed
                    and (r.obligation.kind, r.obligation.invariant) in refuted]
    example = ev.by_id[f.example]
    snippet = replay_snippet(machine, example)
    code = "\n".join(f"- {sources.link(name)}" for name in f.code)
    return [
        f"## {f.title}",
        f"**Who can trigger it:** {f.who}",
        f"**What goes wrong:** {f.what}",
        f"**How bad:** {f.how_bad}",
        f"**The C:**\n\n{code}",
        f"**Smallest example** (`{f.example}`), found by the solver and replayed on the "
        "model when this page was generated:",
        common.counterexample(example.counterexample),
        md.code(snippet, "python"),
        md.code(run_snippet(snippet).rstrip("\n")),
        f"**The fix** ({glossary.ref('policy', 'hardened policy')}): {f.hardened}",
        _evidence(f, rows, counterparts),
    ]


def covered(ev: Evidence) -> set[str]:
    """The ids of the refuted ENA obligations this page explains."""
    return {r.id for f in FINDINGS for r in ev.findings
            if r.obligation.machine == f.machine
            and r.obligation.transition in {a for a, _ in f.pairs}}


def render(ev: Evidence) -> str:
    body = [
        "Where the shipped FreeBSD ENA driver admits a state that breaks an "
        f"{glossary.ref('invariant')} of the ENA model. The model follows the C where it "
        "is looser than its intent; each section says who can trigger the behaviour, what "
        "goes wrong and how bad it is, then replays the solver's smallest counterexample on "
        "the model. Every obligation is over exact u16 counters with the ring size left "
        "symbolic. Paste any snippet into `python` at the repository root to run it again.",
        "\n".join(f"- {md.link(f.title, '', f.title)}: {f.summary}" for f in FINDINGS),
    ]
    for f in FINDINGS:
        body += _section(f, ev)
    return md.page("ENA findings", common.nav(PAGE), body)
