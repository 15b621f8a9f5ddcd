"""The poll page: what netmap_poll does on a ring, the C loop that uses it well, the
as-shipped case where it puts a caller to sleep with completed slots it will not
reclaim, and the claims proved about one poll call (model/netmap_poll.py)."""

from __future__ import annotations

from model import sources
from model.netmap_poll import CLAIMS, PollCall, PollResult, poll_tx
from model.netmap_poll_mutants import MUTANTS
from model.netmap_poll_rings import CLAIMS as RINGS_CLAIMS
from model.netmap_poll_rings import MUTANTS as RINGS_MUTANTS
from model.netmap_poll_rings import RING_COUNTS
from model.netmap_ring import TX, NetmapRing
from model.netmap_sync import AS_SHIPPED, HARDENED, POLICIES
from proofs.poll_obligations import (
    NAME,
    claim_obligation_id,
    mutant_obligation_id,
    ring_sets,
    rings_claim_obligation_id,
    rings_label,
    rings_mutant_obligation_id,
)
from ringspec.docgen import common, md, pictures, runs
from ringspec.docgen.evidence import Evidence, Row

PAGE = "poll.md"
RINGS_HEADING = "Several rings: NR_REG_ALL_NIC and friends"
TITLE = "poll() on a ring"

#: The worked example: 5 slots sent and completed, not yet reclaimed; the user keeps its 2
#: free slots and sets cur = tail to ask for more room.
EXAMPLE_STEPS = [("user_advance", {"dh": 5, "dc": 0}), ("txsync_hardened", {"sent": 5}),
                 ("device_complete", {"k": 5}), ("user_advance", {"dh": 0, "dc": 2})]
EXAMPLE_CALL = PollCall(want=True, txpoll=True, lock_free=True, first=8, second=8)
MARKS = ("head", "cur", "tail", "hwcur", "hwtail", "nic")

USER_LOOP = """\
#include <poll.h>
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

/* Send frames from next_frame() on TX ring 0; sleep in poll only when the ring is full. */
void tx_loop(struct nm_desc *d)
{
    struct pollfd pfd = { .fd = NETMAP_FD(d), .events = POLLOUT };
    struct netmap_ring *ring = NETMAP_TXRING(d->nifp, 0);

    for (;;) {
        while (!nm_ring_empty(ring)) {          /* head != tail: a free slot */
            struct netmap_slot *slot = &ring->slot[ring->head];
            slot->len = next_frame(NETMAP_BUF(ring, slot->buf_idx));
            ring->head = ring->cur = nm_ring_next(ring, ring->head);
        }
        /* head == cur == tail: every free slot is used, so the driver reclaims */
        if (poll(&pfd, 1, -1) < 0 || (pfd.revents & POLLERR))
            break;                              /* see errors.md */
    }
}
"""


def _example() -> tuple[NetmapRing, dict[str, PollResult]]:
    start = runs.run(TX, TX.init(8), EXAMPLE_STEPS)[-1][1]
    return start, {p: poll_tx(p, start, EXAMPLE_CALL) for p in POLICIES}


def _completed(s: NetmapRing) -> int:
    """Slots the NIC has completed that the kernel has not reclaimed."""
    return (s.nic - (s.hwtail + 1)) % s.n


def _yes(x: object) -> str:
    return "yes" if x else "no"


def rule() -> list[str]:
    return [
        f"**The rule** ({sources.link('netmap_ring ownership', 'netmap.h')}): `cur` is the "
        "wake-up point; poll and select block while `ring->cur == ring->tail` and "
        "return when tail moves past cur. What "
        f"{sources.link('netmap_poll')} does, for each ring the descriptor is bound to:",
        "- **FreeBSD's lock-free pass** "
        f"({sources.link('netmap_poll (lock-free TX test)', 'the TX test')}): POLLOUT at "
        "once if `ring->cur != ring->tail`; POLLIN at once if `ring->cur != ring->tail` "
        "and the user has released nothing (`kring->rhead == ring->head`). Linux has no "
        "such pass.\n"
        "- **TX** ({0}): a txsync unless POLLOUT is no longer wanted and there is nothing "
        "to push (`head == nr_hwcur`), or the descriptor was bound with "
        "NETMAP_NO_TX_POLL and POLLOUT is not wanted. The flags are the handle's, "
        "without NAF_FORCE_RECLAIM ({1}). POLLOUT if `rcur != rtail` afterwards; if "
        "not, one more pass, then sleep.\n"
        "- **RX** ({2}): an rxsync if POLLIN is still wanted; POLLIN if `rcur != rtail` "
        "afterwards; if not, one more pass, then sleep.\n"
        "- A refused prologue is `netmap_ring_reinit` and POLLERR "
        "([error reporting](errors.md)). A stopped ring (`nkr_stopped`: the interface "
        "going down, a driver reset) is skipped by `nm_kr_tryget` with POLLERR, and "
        "NIOCTXSYNC / NIOCRXSYNC on it return EIO. The lock-free pass does not look at "
        "`nkr_stopped`, so on FreeBSD a stopped ring can still report POLLOUT or POLLIN "
        "(claim `NM-POLL-TX-STOPPED`, refuted as shipped; the hardened lock-free pass "
        "reads it).".format(
            sources.link("netmap_poll (txsync)", "netmap.c"),
            sources.link("netmap_poll (txsync flags)", "netmap.c"),
            sources.link("netmap_poll (rxsync)", "netmap.c")),
        "On TX, tail moves only when the driver reclaims completions, and a native driver "
        "called without NAF_FORCE_RECLAIM reclaims only when "
        f"{sources.link('nm_kr_txempty')} holds, i.e. the user has no free slot left "
        f"({sources.link('ixgbe_netmap_txsync (reclaim)', 'ixgbe_netmap_txsync')}). So "
        "**wait for room with a full ring**: use every free slot (head = cur = tail), "
        "then poll:",
        md.code(USER_LOOP, "c"),
    ]


def example() -> list[str]:
    start, result = _example()
    rows = [("before poll: 5 slots completed, not reclaimed; cur = tail", start)]
    rows += [(f"after poll, {p.replace('_', '-')}", result[p].post) for p in POLICIES]
    table = [[p.replace("_", "-"), _yes(r.ready), _yes(r.sleeps), r.post.tail,
              _completed(r.post)] for p, r in result.items()]
    free = (start.tail - start.head) % start.n
    return [
        "## Cur at tail with free slots: a sleep nothing ends",
        "**Who**: an application that keeps some free slots and sets `cur = tail` to ask "
        "for more room, which netmap(4) describes (\"cur may be advanced further\"). "
        "**What goes wrong**: poll runs a txsync without NAF_FORCE_RECLAIM; the driver "
        "sees free slots (`rhead != nr_hwtail`) and does not reclaim; tail stays; "
        "`rcur == rtail`, so the caller sleeps. Every wake-up (the TX interrupt) ends the "
        "same way, until the application fills the ring or calls NIOCTXSYNC. **How "
        "bad**: a thread blocked in poll with POLLOUT while the NIC has completed "
        "everything. The hardened policy reclaims when the caller would block "
        "(`nm_kr_wouldblock`: `rcur == nr_hwtail`) instead of only when the ring is "
        "empty.",
        f"Worked example, run on the model: an 8-slot TX ring; the user sends 5 frames, "
        f"the NIC completes them, and the user, holding {free} free slots "
        f"(head = {start.head}), sets cur = tail = {start.tail} and polls for POLLOUT "
        "(FreeBSD, no NETMAP_NO_TX_POLL):",
        pictures.figure("poll-cur-at-tail", rows, "tx", marks=MARKS).markdown,
        md.table(["policy", "POLLOUT", "sleeps", "tail after", "completed, not reclaimed"],
                 table, "llrrr"),
        "Shipped, the 5 completed slots stay with the kernel and the caller sleeps; "
        "hardened, the reclaim moves tail past cur and poll returns POLLOUT.",
    ]


def claims(ev: Evidence) -> list[str]:
    body = []
    for cs in CLAIMS.values():
        for c in cs:
            cells = [md.tick(c.id), c.sentence,
                     "invariants" if c.premise == "user" else "kernel invariants only"]
            for p in POLICIES:
                row = ev.by_id[claim_obligation_id(c.id, p)]
                cells.append(common.result_text(row))
            body.append(cells)
    return [
        "## What is proved about one poll call",
        "Each claim is checked for any ring size, any state its premise allows, and any "
        "call: the event wanted or not, NETMAP_NO_TX_POLL or not, FreeBSD or Linux, and "
        "any number of slots the driver manages in each pass. "
        "Source: `model/netmap_poll.py`.",
        md.table(["claim", "statement", "premise", "as-shipped", "hardened"], body),
        "The implementation, `impl/netmap/poll.py` (`NetmapAdapter.poll`, a handle bound "
        "to one TX and one RX ring), runs the same steps on real rings: "
        "`tests/unit/test_poll_model.py` compares its revents, waits and rings with the "
        "model's on every consistent ring of 2 and 3 slots and every call, and the "
        "stateful machines of `ringspec.stateful` interleave poll with traffic, syncs, "
        "resets and adversarial writes, checking it against the model after every step.",
        "A mutant of the hardened poll for every claim (each must be refuted):",
        md.table(["mutant", "claim", "the change", "result"],
                 [[md.tick(m.id), md.tick(m.claim), m.doc,
                   common.result_text(ev.by_id[mutant_obligation_id(m.id)])]
                  for m in MUTANTS]),
    ]


def several_rings(ev: Evidence) -> list[str]:
    """A handle bound to several rings: the loops, the claims and their mutants."""
    body = []
    for c in RINGS_CLAIMS:
        cells = [md.tick(c.id), c.sentence]
        for count, host in ring_sets():
            for p in POLICIES:
                cells.append(common.result_text(
                    ev.by_id[rings_claim_obligation_id(c.id, count, p, host)]))
        body.append(cells)
    header = ["claim", "statement"] + [f"{rings_label(count, host)}, {p.replace('_', '-')}"
                                       for count, host in ring_sets() for p in POLICIES]
    return [
        f"## {RINGS_HEADING}",
        "A handle bound to several rings of a direction gets one poll for all of them. "
        "What netmap_poll does with them "
        f"({sources.link('netmap_poll')}):",
        "\n".join([
            "- **POLLOUT** comes from the lock-free pass as soon as *one* TX ring has "
            "`cur != tail`. Otherwise the rings are synced in order until one finds room; "
            "after that a ring is still synced if it has packets to push (`head != "
            "hwcur`), so with NETMAP_NO_TX_POLL off every ring's packets reach the NIC "
            "on every poll, whichever ring had room.",
            "- **POLLIN** comes from the lock-free pass only if *every* RX ring has "
            "unseen packets and nothing released; one ring that needs an rxsync sends the "
            "call down the locked path, where *every* ring is synced (\"otherwise we "
            "starve\"), and POLLIN is reported if any has something.",
            "- If nothing is found, a second pass over all the rings; then the caller "
            "sleeps on the adapter's global selinfo, which an interrupt on any of its "
            "rings wakes: see [poll() wake-ups](netmap_wakeup.md). With "
            "`dev.netmap.no_pendintr=0` the RX syncs of poll() read the NIC only after "
            "an interrupt: see [NKR_PENDINTR](netmap_pendintr.md).",
        ]),
        f"Each claim is proved for {' and '.join(map(str, RING_COUNTS))} NIC rings of any "
        "size, and for the host kring alone (`0+host`: NR_REG_SW) and after a NIC ring "
        "(`1+host`: NR_REG_NIC_SW) -- a bound on the number of rings: the loops are "
        "unrolled -- any state every ring's invariants allow and any call, each ring "
        "stopped or not. Source: `model/netmap_poll_rings.py`; with one ring it is the "
        "one-ring poll above (`tests/unit/test_poll_rings.py` checks that on every small "
        "ring).",
        "**The host rings.** netmap_poll does not tell them apart: its loops end with the "
        "host kring and call its own sync, netmap_txsync_to_host "
        f"({sources.link('netmap_txsync_to_host')}) or netmap_rxsync_from_host "
        f"({sources.link('netmap_rxsync_from_host')}). The model reads the host kring as "
        "a NIC ring whose device is the host stack (`model/netmap_poll_host.py`): on TX "
        "the stack takes every released slot at once and the sync reclaims them all, so "
        "the host TX kring never keeps completed slots back -- NM-POLL-RINGS-TX-LIVE's "
        "as-shipped finding needs a NIC ring; on RX the packets netmap_transmit queued "
        "are the ones the device received, and every rxsync imports the whole queue. "
        "Transparent mode's `send_down` -- packets the host rxsync forwarded to a NIC TX "
        "ring send poll back to the TX loop, which syncs every bound TX ring, then to "
        "the RX loop -- is in the implementation (a test checks that the forwarded "
        "packets reach the NIC within the same call, even with NETMAP_NO_TX_POLL) and "
        "not in the model.",
        md.table(header, body),
        "The implementation, `impl/netmap/poll_rings.py`, syncs all the rings with "
        "packets to push in one txsync and all the RX rings in one rxsync; "
        "`tests/unit/test_poll_rings.py` compares its revents and rings with the model's "
        "on pairs of consistent 3-slot rings and every call "
        "(`tests/unit/test_poll_host.py` does the same with the host krings bound, alone "
        "and after a NIC ring), and "
        "`tests/stateful/test_poll_system.py` runs several descriptors (every ring, one "
        "ring) polling one adapter while frames arrive and transmissions complete, with "
        "interrupts waking the sleepers: a descriptor sleeps only with nothing to wake up "
        "for on any of its rings, whatever `dev.netmap.no_pendintr` says.",
        md.table(["mutant", "claim", "the change", "result"],
                 [[md.tick(m.id), md.tick(m.claim), m.doc,
                   common.result_text(ev.by_id[rings_mutant_obligation_id(m.id)])]
                  for m in RINGS_MUTANTS]),
    ]


def evidence(ev: Evidence) -> list[str]:
    rows: list[Row] = [r for r in ev.rows if r.obligation.machine == NAME]
    live = ev.by_id[claim_obligation_id("NM-POLL-TX-LIVE", AS_SHIPPED)]
    fixed = ev.by_id[claim_obligation_id("NM-POLL-TX-LIVE", HARDENED)]
    return [
        md.details("Every poll obligation", common.obligation_table(rows)),
        md.details("The solver's smallest ring for NM-POLL-TX-LIVE, as shipped",
                   common.counterexample(live.counterexample)),
        f"The hardened counterpart, {md.tick(fixed.id)}, is {fixed.result}.",
    ]


def render(ev: Evidence) -> str:
    return md.page(TITLE, common.nav(PAGE), [*rule(), *example(), *claims(ev), *several_rings(ev),
                                                 *evidence(ev)])
