"""Answers to the ring questions netmap users ask, each with the model's rule (quoted from
the model) and a worked example computed on the concrete model; questions the model does not
cover yet are answered from the netmap sources and marked "not yet modelled".

Questions are numbered when the page is rendered (:data:`QUESTIONS` order), so the numbers
are always 1..k."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from impl.netmap import NetmapAdapter
from impl.netmap.control import (
    NETMAP_HW_RING,
    NETMAP_NO_TX_POLL,
    NETMAP_SW_RING,
    NR_NO_TX_POLL,
    NR_REG_ALL_NIC,
    NR_REG_NIC_SW,
    NR_REG_ONE_NIC,
    NR_REG_ONE_SW,
    NR_REG_SW,
    PortControl,
    register_from_legacy,
)
from impl.netmap.control import RX as RX_DIR
from impl.netmap.control import TX as TX_DIR
from model import HOST_FWD, REGIF, sources
from model.core import Machine
from model.netmap_forward import FORWARD
from model.netmap_host import HOST_RX, HOST_TX
from model.netmap_poll import PollCall, poll_tx
from model.netmap_ring import (
    AS_SHIPPED,
    HARDENED,
    PROLOGUES,
    RX,
    TX,
    NetmapRing,
    caller_accepts,
    nm_txsync_prologue,
    rx_regions,
    tx_regions,
    user_space,
)
from model.netmap_wakeup import WAKE
from ringspec.docgen import common, md, ownership, pictures, runs
from ringspec.docgen.poll_page import RINGS_HEADING as POLL_RINGS_HEADING


def _find(machine: Machine, name: str) -> tuple[str, str]:
    if name in machine.invariants:
        inv = machine.invariants[name]
        return f"{name}", inv.sentence
    if name in machine.transitions:
        return f"{name}", md.prose(machine.transitions[name].doc).replace("\n", " ")
    var = next(v for v in machine.vars if v.name == name)
    return f"{name} ({var.owner})", var.doc


def quote(machine: Machine, *names: str) -> str:
    """The model's own statement of each named invariant, transition or variable."""
    lines = []
    for name in names:
        label, text = _find(machine, name)
        target = f"{machine.name}.md"
        heading = name if name in machine.invariants or name in machine.transitions else ""
        ref = md.link(md.tick(label), target, heading) if heading else md.tick(label)
        lines.append(f"> {ref}: {text}")
    return "\n>\n".join(lines)


def _accepted(machine: Machine, transition: str, s: NetmapRing) -> str:
    for policy in (AS_SHIPPED, HARDENED):
        if transition.endswith(policy) and "sync" in transition:
            return "yes" if caller_accepts(PROLOGUES[machine.name](policy, s)) else "**no**"
    return ""


def trace(
    machine: Machine,
    start: NetmapRing,
    steps: Sequence[tuple[str, dict]],
    columns: Sequence[str],
    extra: Sequence[tuple[str, object]] = (),
) -> str:
    """Run ``steps`` from ``start`` and tabulate the state after each one."""
    headers = ["step", "guard", "accepted", *columns, *[h for h, _ in extra], "violated"]
    rows = []
    s = start

    def row(label: str, guard: str, acc: str) -> list:
        return [label, guard, acc, *[getattr(s, c) for c in columns],
                *[f(s) for _, f in extra], ", ".join(machine.violated(s)) or "none"]

    rows.append(row("start", "", ""))
    for name, args in steps:
        acc = _accepted(machine, name, s)
        step = machine.transitions[name](s, **args)
        call = f"`{name}({', '.join(f'{k}={v}' for k, v in args.items())})`"
        if not step.guard:
            rows.append([call, "**False**: cannot fire", *[""] * (len(headers) - 2)])
            continue
        s = step.post
        rows.append(row(call, "True", acc))
    return md.table(headers, rows)


def _space(s: NetmapRing) -> int:
    return user_space(s)


Question = tuple[str, list[str]]

NOT_MODELLED = (
    "**Not yet modelled**: the model has one ring and no {what}, so this answer is read "
    "from the netmap sources cited below, not checked by the proofs."
)


def _fig(name: str, machine: Machine, rows: list[tuple[str, NetmapRing]],
         marks: Sequence[str] = pictures.DEFAULT_MARKS) -> str:
    return pictures.figure(f"q-{name}", rows, runs.DIRECTION[machine.name],
                           marks=marks).markdown


def head_vs_cur() -> Question:
    base = NetmapRing(n=8, head=5, cur=5, tail=2, hwcur=5, hwtail=2, rhead=5, rcur=5,
                      rtail=2, nic=4, busy=1)
    cases = [
        (6, 7, "head <= cur <= tail"), (6, 6, "cur == head"), (6, 2, "cur == tail"),
        (7, 6, "cur behind head"), (6, 3, "cur past tail"), (3, 3, "head past tail"),
        (6, 9, "cur >= N, interval wraps"),
    ]
    rows = []
    for head, cur, what in cases:
        s = base.replace(head=head, cur=cur)
        verdict = ["yes" if caller_accepts(nm_txsync_prologue(p, s)) else "**no**"
                   for p in (AS_SHIPPED, HARDENED)]
        rows.append([head, cur, what, *verdict])
    return "head vs cur", [
        "`head` releases slots: everything before it is handed back to the kernel at the "
        "next sync. `cur` only says how far the user wants to look ahead (the wake-up "
        "point); it never releases anything. Both must be written, in the order head <= "
        "cur <= tail, and the sync prologue checks exactly that against the kernel's copy.",
        quote(TX, "head", "cur", "NM-TX-USER-VIEW"),
        "Worked example: `nm_txsync_prologue` of the model on a TX ring with N = 8 whose "
        "user window [rhead, rtail] = [5 .. 2] wraps past slot 7, for several values the "
        "user might write:",
        _fig("head-vs-cur", TX, [("the ring before the user writes", base)]),
        md.table(["head", "cur", "case", AS_SHIPPED, HARDENED], rows, "rrlcc"),
        "The last row is [finding: wrapped cur](findings.md#cur-is-not-range-checked-when-the-"
        "interval-wraps): only the hardened prologue rejects a cur that is not a slot. "
        "Every other row is the same under both policies, so `cur < head` or a cur past "
        "tail is always rejected (the kernel logs and reinits the ring; see "
        "[error reporting](errors.md)).",
    ]


def _handed(before: NetmapRing, after: NetmapRing) -> list[int]:
    """Slots a sync handed to the NIC: hwcur's walk from before to after."""
    return [(before.hwcur + i) % before.n
            for i in range((after.hwcur - before.hwcur) % before.n)]


def _slots(slots: list[int], labels: list[str]) -> str:
    return ", ".join(f"{i} ({labels[i].replace('_', ' ')})" for i in slots)


def past_tail() -> Question:
    start = runs.run(TX, TX.init(8), [("user_advance", {"dh": 3, "dc": 0}),
                                      ("txsync_hardened", {"sent": 3})])[-1][1]
    bad = (start.tail + 2) % start.n  # two slots past tail
    scribble = ("user_scribble", {"head": bad, "cur": bad, "tail": start.tail})
    labels = ownership.slot_labels(start, tx_regions)
    out = [
        "A txsync whose head or cur lies outside the user's window is rejected and the "
        "ring is reinitialised; that sync hands no slot to the NIC. What reinit restores "
        "is where the policies differ:",
        quote(TX, "txsync_as_shipped", "ring_reinit_as_shipped", "ring_reinit_hardened"),
        f"Worked example: a TX ring of {start.n} slots; the user has sent "
        f"{start.busy} slots and the NIC has completed none. The app then advances head "
        f"and cur to slot {bad}, past tail = {start.tail}, without looking at tail, and "
        "calls txsync twice.",
    ]
    cols = ["head", "cur", "tail", "hwcur", "rhead", "rtail", "busy"]
    handed = {}
    for policy in (AS_SHIPPED, HARDENED):
        sync = (f"txsync_{policy}", {"sent": start.n})
        rows = runs.run(TX, start, [scribble, sync, sync], legal=False)
        handed[policy] = _handed(rows[2][1], rows[3][1])
        out += [f"**{policy}**:", trace(TX, start, [scribble, sync, sync], cols)]
        if policy == AS_SHIPPED:
            out.append(_fig("past-tail-as-shipped", TX, rows, pictures.ALL_MARKS))
    out.append(
        "As shipped, the first reinit keeps the in-range head (it only resets indices >= "
        f"N), so the kring adopts it and the second sync hands slots "
        f"{_slots(handed[AS_SHIPPED], labels)} to the NIC ([finding: reinit adopts]"
        "(findings.md#a-rejected-sync-adopts-the-users-in-range-indices)). Hardened, "
        "reinit rewrites head, cur and tail from the kernel's copy, the ring is back to "
        "what the kernel last showed, and the second sync hands "
        f"{len(handed[HARDENED]) or 'no'} slots to the NIC. Under either policy the cure is in "
        "the application: never move head or cur past tail."
    )
    return "Advancing past tail, and what reinit does", out


def one_slot_empty() -> Question:
    steps = [("device_deliver", {"k": 7}), ("rxsync_hardened", {"refill": 8}),
             ("device_deliver", {"k": 1})]
    rows = runs.run(RX, RX.init(8), steps[:2])
    return "One slot is always empty", [
        "A ring of N slots never gives the user more than N - 1: one slot separates "
        "the kernel's side from the user's so that `head == tail` can only mean empty.",
        quote(TX, "NM-TX-ONE-SLOT-EMPTY"),
        quote(RX, "NM-RX-ONE-SLOT-EMPTY"),
        f"A fresh TX ring of 8 slots gives the user `nm_ring_space` = "
        f"{user_space(TX.init(8))} free slots. On RX, the NIC may fill only the buffers it "
        "owns; when the user holds every received slot the next delivery cannot fire, "
        "and the NIC drops the packet instead of overwriting one:",
        _fig("one-slot-empty", RX, rows),
        trace(RX, RX.init(8), steps, ["head", "tail", "hwcur", "hwtail", "nic", "busy"],
              [("nm_ring_space", _space)]),
    ]


def tail_read_only() -> Question:
    base = runs.run(TX, TX.init(8), [("user_advance", {"dh": 3, "dc": 0}),
                                     ("txsync_hardened", {"sent": 3})])[-1][1]
    rows = []
    for label, head in (("tail scribbled, head legal", 3), ("tail scribbled, head past tail", 1)):
        s = base.replace(head=head, cur=head, tail=5)
        for policy in (AS_SHIPPED, HARDENED):
            acc = caller_accepts(nm_txsync_prologue(policy, s))
            post = TX.transitions[f"txsync_{policy}"](s, sent=8).post
            rows.append([label, policy, "yes" if acc else "**no**", post.tail, post.rtail,
                         ", ".join(TX.violated(post)) or "none"])
    return "tail is read-only (\"tail overwritten\")", [
        f"`tail` is written by the kernel only: netmap.h marks it (k) "
        f"({sources.link('struct netmap_ring (tail)', 'ring->tail')}), and netmap(4) says "
        "only the kernel modifies it.",
        quote(TX, "NM-TX-USER-VIEW"),
        "An accepted prologue simply puts the kernel's `rtail` back (that is the \"tail "
        "overwritten\" log line) and finalize then publishes the new hwtail. Worked "
        f"example: a TX ring of 8 slots with 3 slots in flight (`{base!r}`); the user "
        "writes tail = 5, then txsync:",
        md.table(["case", "policy", "accepted", "tail after", "rtail after", "violated after"],
                 rows),
        "With a legal head the scribble is harmless under both policies. With a rejected "
        "head, the shipped reinit copies the scribbled tail into `rtail`; "
        "the hardened one restores it.",
    ]


def buffer_lifetime() -> Question:
    def region(slot: int) -> Callable[[NetmapRing], str]:
        return lambda s: ownership.slot_labels(s, rx_regions)[slot].replace("_", " ")

    steps = [("device_deliver", {"k": 3}), ("rxsync_hardened", {"refill": 8}),
             ("user_advance", {"dh": 2, "dc": 0}), ("rxsync_hardened", {"refill": 8}),
             ("device_deliver", {"k": 6})]
    rows = runs.run(RX, RX.init(8), steps)[2:]
    captions = ["the user holds 3 packets", "the user releases slots 0 and 1 (head = 2)",
                "a sync, by this thread or any other on the ring", "the NIC receives 6"]
    return "How long a buffer stays valid", [
        f"**The rule** ({sources.link('netmap_ring ownership', 'netmap.h')}, "
        f"{sources.link('netmap(4) RINGS', 'netmap(4)')}): the user owns the slots "
        "[head, tail) and their buffers; every other slot belongs to the kernel. A "
        "received buffer is the user's from the sync that shows it (tail moves past it) "
        "until the user moves head past it. After that the user must not touch it.",
        quote(RX, "user_advance", "NM-RX-PARTITION"),
        "**What drivers do today**: the kernel learns the new head only in the next sync's "
        "prologue, and the driver gives released buffers back to the NIC only inside that "
        "sync (`pending` -> `free` in the picture). So on a ring nobody else syncs, a "
        "released buffer is in practice untouched until the application's own next "
        "sync.",
        "**Why relying on that breaks**: \"the next sync\" is not necessarily yours. "
        "Several threads that share one file descriptor (or several descriptors bound to "
        "the same ring) each sync every ring they are bound to, so another thread's "
        "ioctl or poll releases your buffers to the NIC at any moment; with "
        f"{sources.link('netmap_sync_kloop', 'sync-kloop')} a kernel thread syncs the "
        "ring continuously, so released buffers go back to the NIC almost at once. Copy "
        "what you need before moving head, or keep head behind the slots you still read "
        "(cur can run ahead to wait for more packets).",
        "Worked example: an RX ring of 8 slots receives 3 packets; the user releases slots "
        "0 and 1 and keeps slot 2; then a sync and 6 more packets. The model does not "
        "care which thread runs the sync:",
        pictures.figure("q-buffer-lifetime",
                        [(c, s) for c, (_, s) in zip(captions, rows, strict=True)], "rx",
                        marks=("head", "cur", "tail", "hwcur", "rhead", "nic")).markdown,
        trace(RX, RX.init(8), steps, ["head", "tail", "rhead", "hwcur", "nic"],
              [("slot 0", region(0)), ("slot 1", region(1)), ("slot 2", region(2))]),
        "Slot 0 stays in the kernel's `user` region after `user_advance` until the sync; "
        "that sync gives it back to the NIC (`free`), and the next deliveries fill it "
        "with a new packet (`ready`). Slot 1 becomes the empty slot kept before hwcur. "
        "Slot 2, which the user did not release, stays the user's throughout.",
        "The model tracks which slots each party owns, not which buffer index a slot "
        "holds, so questions about swapped `buf_idx` values (pipes, zero-copy monitors, "
        "`NS_BUF_CHANGED`) are outside it. For TX the same rule applies in the other "
        "direction: a slot is the user's again once a sync has moved tail past it.",
    ]


def tx_tail_moves() -> Question:
    steps = [("user_advance", {"dh": 3, "dc": 0}), ("txsync_hardened", {"sent": 3}),
             ("device_complete", {"k": 2}), ("txsync_hardened", {"sent": 0}),
             ("device_complete", {"k": 1}), ("txsync_hardened", {"sent": 0})]
    rows = runs.run(TX, TX.init(8), steps)
    return "When tail moves on TX", [
        "`tail` moves only inside a sync: the driver reclaims what the NIC has completed "
        "(hwtail = the slot before the NIC pointer) and finalize copies hwtail to "
        "`ring->tail`. A completion by itself changes nothing the user can see, so "
        "spinning on `ring->tail` without calling txsync (or poll) waits forever.",
        quote(TX, "device_complete", "txsync_hardened"),
        "Worked example: a TX ring of 8 slots; the user fills 3 slots and advances head, "
        "txsync hands them to the NIC, the NIC completes 2, txsync, the NIC completes the "
        "last one, txsync:",
        _fig("tx-tail", TX, rows, ("head", "tail", "hwcur", "hwtail", "nic")),
        trace(TX, TX.init(8), steps,
              ["head", "tail", "hwcur", "hwtail", "nic", "busy"], [("nm_ring_space", _space)]),
        "The model's txsync always reclaims, as NIOCTXSYNC does: netmap_ioctl passes "
        f"{sources.link('NAF_FORCE_RECLAIM')} to the driver. poll does not "
        f"({sources.link('netmap_poll (txsync flags)', 'netmap_poll')}), and a driver may "
        f"then skip the reclaim while it still has free slots (ixgbe reclaims only when "
        f"{sources.link('nm_kr_txempty')} holds, "
        f"{sources.link('ixgbe_netmap_txsync (reclaim)', 'ixgbe_netmap_txsync')}): after a "
        "poll, tail may lag completions that already happened. The model of poll shows "
        "when that puts a caller to sleep for good: [poll() on a ring](poll.md).",
        "Completion is asynchronous for a NIC (`device_complete` is a separate step of "
        "another actor); for VALE ports, pipes and host rings it happens inside the sync, "
        "which the model does not cover yet.",
    ]


def poll_says(s: NetmapRing, policy: str = HARDENED) -> tuple[str, NetmapRing]:
    """What a poll(2) for POLLOUT on TX ring ``s`` returns, by the model's netmap_poll
    (:func:`model.netmap_poll.poll_tx`: Linux's, no lock-free pass, nothing more to
    send), and the ring it leaves."""
    r = poll_tx(policy, s, PollCall(want=True, txpoll=True, lock_free=False, first=0,
                                    second=0))
    said = " + ".join(name for name, on in (("POLLOUT", r.ready), ("POLLERR", r.err)) if on)
    return said or "blocks", r.post


def _poll_column(s: NetmapRing) -> str:
    return poll_says(s)[0]


def poll_readiness() -> Question:
    full_steps = [("user_advance", {"dh": 7, "dc": 0}), ("txsync_hardened", {"sent": 7}),
                  ("device_complete", {"k": 3}), ("txsync_hardened", {"sent": 0})]
    full = runs.run(TX, TX.init(8), full_steps)
    cols = ["head", "cur", "tail", "rcur", "rtail"]
    extra = [("poll(POLLOUT) now", _poll_column)]
    return "poll readiness and POLLOUT busy-looping", [
        "Modelled and proved: [poll() on a ring](poll.md) has what netmap_poll does, "
        "the claims about one call and a case where shipped poll sleeps with completed "
        "slots it does not reclaim.",
        f"The rule ({sources.link('netmap(4) SELECT, POLL', 'netmap(4)')}): poll and select "
        "block while `ring->cur == ring->tail` and return when tail moves past cur. In "
        f"the code, {sources.link('netmap_poll')} runs a sync on every bound ring and "
        "then reports the ring ready when "
        f"{sources.link('netmap_poll (TX found)', 'kring->rcur != kring->rtail')}: the cur "
        "the prologue stored against the tail finalize just published.",
        "**POLLOUT busy-looping**: a TX ring with free slots is always writable, so "
        "asking for POLLOUT when there is nothing to send returns at once, every time. "
        "Ask for POLLOUT only when the ring is full (or you need more room than it has); "
        "to wait for room, set cur past the slots you have (cur = tail waits for any "
        "slot) and poll. Note also that poll pushes pending TX slots out even without "
        f"POLLOUT unless the port was bound with NETMAP_NO_TX_POLL "
        f"({sources.link('netmap(4) NIOCREGIF', 'netmap(4)')}).",
        "In each state below, the last column is what a poll for POLLOUT would return if "
        "called then, computed by the model's netmap_poll (Linux's: no lock-free pass): "
        "an idle ring is ready at once,",
        trace(TX, TX.init(8), [("txsync_hardened", {"sent": 0})], cols, extra),
        "and a full ring blocks until a sync has reclaimed completions:",
        _fig("poll-full", TX, full, ("head", "cur", "tail", "rcur", "rtail")),
        trace(TX, TX.init(8), full_steps, cols, extra),
        "On RX the same test makes poll return at once while the user leaves cur before "
        "tail (unread packets); to hold packets and still sleep, set cur = tail. An "
        "out-of-range cur makes poll never block: see [error reporting]"
        "(errors.md#poll-on-a-cur-that-is-not-a-slot).",
    ]


def one_thread_per_ring() -> Question:
    return "One thread per ring", [
        NOT_MODELLED.format(what="threads"),
        "A ring's head and cur are plain fields in shared memory, and a sync processes "
        "every ring the file descriptor is bound to. netmap serialises syncs on one ring "
        f"({sources.link('nm_kr_tryget')}: a second concurrent sync on the same ring "
        f"waits or is skipped, {sources.link('netmap_ioctl (nm_kr_tryget)', 'netmap_ioctl')}), "
        "but nothing serialises two threads writing head and cur, and either thread's "
        "sync publishes the other's half-written slots. netmap(4) leaves "
        f"\"proper synchronization\" of several descriptors on one port to the user "
        f"({sources.link('netmap(4) NIOCREGIF', 'NIOCREGIF')}).",
        "The usual layout: one thread per ring pair, each with its own file descriptor "
        "bound to one ring (`NR_REG_ONE_NIC` with the ring index in `nr_ringid`, see the "
        "next question), so each thread's syncs touch only its ring. "
        "`NR_EXCLUSIVE` makes a second bind of the same ring fail with EBUSY "
        f"({sources.link('netmap_krings_get')}). If threads must share a ring, they need "
        "their own lock around filling slots, moving head/cur and the sync.",
        _busy_ring_run(),
        "One thread for all rings is the other layout, and that part is modelled: a "
        "descriptor bound to several rings of a direction sleeps in poll() on the "
        "adapter's global selinfo, and the model proves for any number of handles that "
        f"\"{WAKE.invariants['WAKE-NONE-MISSED'].sentence}\" "
        f"({md.link('poll() wake-ups', WAKE.name + '.md')}). One poll() then pushes "
        "every TX ring's pending packets and syncs every RX ring "
        f"({md.link('poll over several rings', 'poll.md', POLL_RINGS_HEADING)}).",
    ]


def _busy_ring_run() -> str:
    """A NIOCTXSYNC that meets a ring another thread is syncing, run on the
    implementation."""
    ad = NetmapAdapter(1, 1, 8, host_rings=False)
    ad.user_advance("tx", 0, 3)
    ad.tx.busy[0] = True  # another thread is inside its txsync on ring 0
    skipped = ad.txsync()
    before = int(ad.tx.hwcur[0])
    ad.tx.busy[0] = False
    ad.txsync()
    return (
        "What the second thread sees, run on the implementation (`impl/netmap/sync.py`, "
        "an 8-slot TX ring with 3 slots published while another thread's txsync holds the "
        f"ring): its NIOCTXSYNC returns {skipped.errno} and does nothing -- hwcur stays "
        f"{before}, nothing reaches the NIC -- because nm_kr_tryget answers NM_KR_BUSY and "
        "the ioctl skips the ring without an error; the next sync with the ring free moves "
        f"hwcur to {int(ad.tx.hwcur[0])}. A thread that needs its packets out cannot tell "
        "from the return value that its sync was skipped: the other thread's sync may or "
        "may not have seen its head. (A ring stopped for a reset is different: EIO, or "
        "POLLERR from poll; see [error reporting](errors.md).)"
    )


#: The register calls behind the binding-modes table, row by row (``i = 2``).
_MODE_CALLS = ((NR_REG_ALL_NIC, 0), (NR_REG_ONE_NIC, 2), (NR_REG_SW, 0), (NR_REG_NIC_SW, 0),
               (NR_REG_ONE_SW, 0))


def binding_modes() -> Question:
    modes = [
        ("NR_REG_ALL_NIC", "netmap:foo", "every hardware ring pair (the default)"),
        ("NR_REG_ONE_NIC", "netmap:foo-i", "hardware ring pair i (`nr_ringid`)"),
        ("NR_REG_SW", "netmap:foo^", "the host rings"),
        ("NR_REG_NIC_SW", "netmap:foo*", "every hardware ring and the host rings"),
        ("NR_REG_ONE_SW", "netmap:foo^i", "host ring pair i (here the only one, 0)"),
    ]
    port = PortControl(4, 4, host_rings=1)
    rows = []
    for (name, port_name, rings), (mode, ringid) in zip(modes, _MODE_CALLS, strict=True):
        b = port.binding(mode, ringid)
        assert not isinstance(b, int)
        spans = [f"{b.first[t]}" if b.last[t] - b.first[t] == 1
                 else f"{b.first[t]}..{b.last[t] - 1}" for t in (TX_DIR, RX_DIR)]
        rows.append([md.tick(name), md.tick(port_name), rings,
                     f"TX {spans[0]}, RX {spans[1]}"])
    return "Binding modes: which rings a descriptor syncs", [
        "**Partly modelled**: which descriptor puts a ring into netmap mode "
        f"([NIOCREGIF, close and per-ring modes]({REGIF.name}.md)), poll() over the rings "
        f"of a binding ({md.link('poll over several rings', 'poll.md', POLL_RINGS_HEADING)}) "
        f"and who an interrupt wakes ([poll() wake-ups]({WAKE.name}.md)) are modelled and "
        "proved; the mapping from `nr_mode` to rings is implemented "
        "(`impl/netmap/control.py`) and tested, not proved.",
        "`nr_mode` of the register request picks the rings a file descriptor is bound to "
        f"({sources.link('netmap_interp_ringid')}); every NIOCTXSYNC / NIOCRXSYNC / poll on "
        "that descriptor syncs all of them, one after another, each with the protocol the "
        "model describes for one ring. The last column is what the implementation binds "
        "on an adapter with 4 ring pairs and one host ring pair (`i = 2`; ring 4 of each "
        "direction is the host ring):",
        md.table(["nr_mode", "port name", "rings", "bound (4 ring pairs, i = 2)"], rows),
        "`NR_TX_RINGS_ONLY` / `NR_RX_RINGS_ONLY` drop one direction; `NR_EXCLUSIVE` "
        "refuses rings somebody else has bound. In the ring array the host rings come "
        "after the hardware rings: `NETMAP_TXRING(nifp, nr_tx_rings + k)` is host TX ring "
        f"k ({sources.link('NETMAP_TXRING')}, {sources.link('NR_REG_ALL_NIC', 'NR_REG_*')}).",
        "The original API (`struct nmreq` with no mode in `nr_flags`) still works, from "
        "`nr_version` 14 on: "
        f"{sources.link('nmreq_register_from_legacy')} turns the `nr_ringid` bits into a "
        "mode, as the implementation does (`impl/netmap/control.py`):",
        md.table(["nr_ringid", "nr_mode", "ring", "flags"], _legacy_rows()),
    ]


def _legacy_rows() -> list[list[str]]:
    """``nr_ringid`` forms of the original API and the request each becomes."""
    names = {NR_REG_ALL_NIC: "NR_REG_ALL_NIC", NR_REG_ONE_NIC: "NR_REG_ONE_NIC",
             NR_REG_SW: "NR_REG_SW"}
    forms = (("0", 0), ("NETMAP_HW_RING | 2", NETMAP_HW_RING | 2),
             ("NETMAP_SW_RING", NETMAP_SW_RING),
             ("NETMAP_HW_RING | NETMAP_NO_TX_POLL | 2",
              NETMAP_HW_RING | NETMAP_NO_TX_POLL | 2))
    rows = []
    for text, ringid in forms:
        mode, ring, flags = register_from_legacy(ringid, 0)
        rows.append([md.tick(text), md.tick(names[mode]), str(ring),
                     md.tick("NR_NO_TX_POLL") if flags & NR_NO_TX_POLL else ""])
    return rows


def host_rings() -> Question:
    return "Host rings", [
        "Modelled and proved: [the host RX ring](netmap_host_rx.md), [the host TX "
        "ring](netmap_host_tx.md) and [transparent mode towards the "
        f"NIC]({FORWARD.name}.md), each implemented (`impl/netmap/host.py`, "
        "`impl/netmap/forward.py`) and checked against the model step by step.",
        "The host rings connect the port to the OS network stack "
        f"({sources.link('netmap(4) ACCESSING THE HOST STACK', 'netmap(4)')}): what you "
        "put on the host TX ring goes up the stack; what the stack sends to the interface "
        "lands on the host RX ring. The ring protocol (head, cur, tail, one empty slot) "
        "is the same, but there is no device: everything happens inside the sync.",
        f"- TX ({sources.link('netmap_txsync_to_host')}): the sync passes [hwcur, head) up "
        "the stack (a slot shorter than 14 bytes or longer than a buffer is logged and "
        "skipped) and immediately sets hwtail to the slot before head:",
        quote(HOST_TX, "HOST-TX-NOTHING-HELD", "HOST-TX-ONCE"),
        f"- RX ({sources.link('netmap_transmit')}, {sources.link('netmap_rxsync_from_host')}"
        "): the stack's packet is queued only if the ring will have a slot for it, else "
        "dropped (ENOBUFS, counted as an output drop); the next rxsync copies every "
        "queued packet into the ring:",
        quote(HOST_RX, "HOST-RX-FITS", "HOST-RX-DRAINED"),
        "So a host RX ring you do not drain makes the stack's packets to that interface "
        "drop, not queue up: release what you read and sync.",
        "The host RX ring only receives what the stack sends through NIC queues that are "
        "themselves in netmap mode: binding only the host rings (`netmap:foo^`) is not "
        "enough; bind `netmap:foo*` or also open a NIC TX ring "
        f"({sources.link('netmap.h host rings', 'netmap.h')}). The NIC's offloads (TSO, "
        "checksums) must be off, or such packets are dropped.",
        "Transparent mode (`NR_FORWARD` on the host RX ring, with every hardware TX ring "
        "bound) swaps each released `NS_FORWARD` slot into a TX ring: release every TX "
        "slot you have filled before syncing the host RX ring, and never leave a wrong "
        "head or tail in a TX ring, because the swap trusts them (see the "
        "[findings](findings.md#transparent-mode-drops-and-overwrites-tx-slots)).",
        "poll() on a descriptor bound to the host rings (`netmap:foo^`, `netmap:foo*`) "
        "treats each host ring as one more ring of its direction, last in the loop: "
        "POLLIN when the stack has queued packets, POLLOUT whenever the host TX ring "
        "shows free slots -- and since the host TX sync hands everything to the stack at "
        "once, a descriptor asleep on POLLOUT never has host slots held back. The "
        "several-ring claims are proved with the host ring alone and after a NIC ring "
        "([poll over several rings](poll.md#several-rings-nr_reg_all_nic-and-friends)). "
        "In transparent mode a poll() whose host RX sync forwards packets to a NIC TX "
        "ring goes back and syncs every bound TX ring, so the forwarded packets reach "
        "the NIC within the same call, even with NETMAP_NO_TX_POLL "
        "(`tests/unit/test_poll_host.py`; not in the model).",
        "Several host ring pairs (`nr_host_tx_rings` / `nr_host_rx_rings` in the register "
        "request, honoured while no descriptor is active): the stack's packet for "
        "transmit queue q lands on host RX ring q % `nr_host_rx_rings`, each host ring "
        "syncs on its own, and transparent mode forwards down only from the first host "
        "RX ring; packets released with NS_FORWARD on the others go back up the stack "
        f"({md.link('finding', 'findings.md', common.HOST_FWD_FINDING)}; "
        f"[the model]({HOST_FWD.name}.md)). Use one host ring pair with transparent mode.",
    ]


SCATTER_GATHER = sources.link("netmap(4) SCATTER GATHER I/O", "netmap(4)")


def morefrag() -> Question:
    return "Packets that span slots (NS_MOREFRAG)", [
        NOT_MODELLED.format(what="slot flags"),
        f"A packet may span several slots: {sources.link('NS_MOREFRAG')} is set on every "
        "slot of the chain but the last, each slot's len is that fragment's length, and a "
        f"chain has at most 64 slots ({SCATTER_GATHER}). A NIC port needs it only when "
        "its MTU is larger than a netmap buffer, and then only if the driver supports it "
        f"({sources.link('netmap_buf_size_validate')}).",
        "Publish a chain whole: move head past its last slot in one go. The kernel hands "
        "everything before head to the port at the next sync, whatever the flags say, and "
        "a VALE port that finds a chain cut short by head sends it truncated "
        f"({sources.link('nm_vale_preflush (incomplete chain)', 'nm_vale_preflush')}). "
        "On RX, do not release part of a chain you still need: the ownership rule is per "
        "slot.",
    ]


#: The page, in order; numbers are given when rendering.
QUESTIONS: tuple[Callable[[], Question], ...] = (
    head_vs_cur, past_tail, one_slot_empty, tail_read_only, buffer_lifetime, tx_tail_moves,
    poll_readiness, one_thread_per_ring, binding_modes, host_rings, morefrag,
)


def render() -> str:
    body = [
        "The questions netmap users ask most about rings. Where the model covers the "
        "question, the answer quotes the model's rule (the invariant, transition or "
        "variable statement, taken from the model) and a worked example computed by "
        "running the model's concrete functions when these pages were generated; "
        "`violated` lists the invariants a state breaks, `none` means all hold. Questions "
        "the model does not cover yet are answered from the netmap sources and marked "
        "**not yet modelled**.",
    ]
    contents = []
    for number, question in enumerate(QUESTIONS, 1):
        title, text = question()
        heading = f"{number}. {title}"
        contents.append(f"{number}. {md.link(title, '', heading)}")
        body += [f"## {heading}", *text]
    body.insert(1, "\n".join(contents))
    return md.page("User questions", common.nav("user-questions.md"), body)
