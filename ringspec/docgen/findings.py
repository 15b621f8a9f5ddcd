"""The findings page: where the shipped netmap code (and the legacy drivers) admit a ring
state that breaks an invariant.

Each finding opens with the story a netmap engineer needs: who can trigger it, what goes
wrong, how bad it is, the C it is about (pinned permalinks), and a hand-picked worked
example run on the model when the page is generated (:mod:`scenario`: pictures before and
after, a step table for each policy, a replay snippet with its output).  The evidence
follows, folded: the obligations the proof run refuted as expected, the hardened policy's
proved counterparts, and the solver's counterexamples replayed on the concrete model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import model
from model import FORWARD, HOST_FWD, LEGACY_TX, PENDINTR, RX, TX, sources
from model.netmap_forward import forward_init
from model.netmap_host_fwd import host_fwd_init
from model.netmap_legacy import LegacyRing
from model.netmap_pendintr import pendintr_init
from model.netmap_ring import (
    AS_SHIPPED,
    HARDENED,
    POLICIES,
    PROLOGUES,
    NetmapRing,
    caller_accepts,
    netmap_ring_reinit,
    nm_txsync_prologue,
)
from proofs import poll_obligations, swap_obligations
from proofs.obligations import Obligation
from ringspec.docgen import common, glossary, legacy_host_finding, lifetime_finding, md, pictures
from ringspec.docgen.evidence import (
    Evidence,
    Row,
    machine_by_name,
    machine_symbol,
    run_snippet,
    state_import,
    state_literal,
)
from ringspec.docgen.scenario import (
    WRITE,
    Action,
    Scenario,
    as_ring,
    direction,
    picture_note,
    region_meanings,
    run,
    slots,
)
from ringspec.docgen.scenario import Row as Step
from ringspec.docgen.scenario import figure as scenario_figure
from ringspec.docgen.scenario import replay as scenario_replay
from ringspec.docgen.scenario import table as scenario_table

Story = Callable[[Scenario, list[Step], list[Step]], str]


@dataclass(frozen=True)
class Finding:
    title: str  # the section heading (other pages link its anchor)
    ref: tuple[str, ...]  # model.sources symbols the finding is about
    summary: str  # one sentence, for the index
    who: str
    what: str
    how_bad: str
    code: tuple[str, ...]  # every C line the story cites
    example_title: str
    example: Scenario
    story: Story  # the example's outcome in words, computed from its runs
    hardened: str
    match: Callable[[Obligation], bool]
    replay: tuple[str, ...]  # obligation ids whose counterexample is replayed in full
    more: Callable[[], list[str]] | None = None  # further worked examples


def _step(transitions: tuple[str, ...], inv: Callable[[str], bool]) -> Callable:
    return lambda ob: (ob.kind == "step" and ob.transition in transitions
                       and inv(ob.invariant))


def _any(*preds: Callable[[Obligation], bool]) -> Callable[[Obligation], bool]:
    return lambda ob: any(p(ob) for p in preds)


def _regions(machine_dir: str, s: NetmapRing, picked: tuple[int, ...]) -> dict[str, list[int]]:
    """The slots of ``picked`` by the region they were in, in ``s`` (the model's regions)."""
    labels = pictures.slot_regions(s, machine_dir)
    if labels is None:
        raise ValueError(f"{s!r} is not a consistent ring")
    out: dict[str, list[int]] = {}
    for i in picked:
        out.setdefault(labels[i], []).append(i)
    return out


def describe(sc: Scenario) -> str:
    """The start state in words: the slots of every non-empty region, in ring order from
    hwcur, with what the model's region drawing says they are."""
    d = direction(sc.machine)
    ring = as_ring(sc.start)
    labels = pictures.slot_regions(ring, d)
    if labels is None:
        raise ValueError(f"{sc.name}: the start state must be consistent")
    order: dict[str, list[int]] = {}
    for i in [(ring.hwcur + k) % ring.n for k in range(ring.n)]:
        order.setdefault(labels[i], []).append(i)
    parts = [f"{_slots_word(v)} {slots(v)}: {region_meanings(d)[name]}"
             for name, v in order.items()]
    article = "an" if d == "rx" else "a"
    return f"{article} {d.upper()} ring of N = {ring.n} slots; " + "; ".join(parts)


def _slots_word(v: list[int] | tuple[int, ...]) -> str:
    return "slots" if len(v) > 1 else "slot"


def _kinds(d: str, where: dict[str, list[int]], skip: tuple[str, ...] = ()) -> str:
    """``slots 5, 6 and 7 (the user's free slots), slot 1 (...)``."""
    meanings = region_meanings(d)
    return ", ".join(f"{_slots_word(v)} {slots(v)} ({meanings[name]})"
                     for name, v in where.items() if name not in skip)


def _verdict(ok: bool | None) -> str:
    return {True: "accepted", False: "rejected", None: "run"}[ok]


# ---------------------------------------------------------------------------- the stories


def _wrapped_story(sc: Scenario, shipped: list[Step], hardened: list[Step]) -> str:
    write, sync = shipped
    after = sync.after
    return (
        f"The window [rhead .. rtail] = [{sc.start.rhead} .. {sc.start.rtail}] wraps past "
        f"slot {sc.start.n - 1}, and head = {write.after.head} lies in its upper part, so "
        f"the only test left on cur is \"not strictly between rtail and head\": cur = "
        f"{write.after.cur} passes it. As shipped the sync is **{_verdict(sync.accepted)}**: "
        f"the driver sends slot{'s' if len(sync.moved) != 1 else ''} {slots(sync.moved)} "
        f"and the kring keeps rcur = {after.rcur}, which is not a slot "
        f"({', '.join(md.tick(v) for v in sync.violated)} broken). Hardened, the sync is "
        f"**{_verdict(hardened[1].accepted)}** and ring->head, cur and tail are restored "
        f"from the kring (head = {hardened[1].after.head}, cur = {hardened[1].after.cur})."
    )


def _reinit_story(sc: Scenario, shipped: list[Step], hardened: list[Step]) -> str:
    write, first, second = shipped
    where = _regions("tx", sc.start, second.moved)
    in_flight = _regions("tx", sc.start, tuple(range(sc.start.n))).get("in_flight", [])
    end = second.after
    user = [(end.head + k) % end.n for k in range((end.tail - end.head) % end.n)]
    both = [i for i in user if i in second.moved or i in in_flight]
    return (
        f"The application leaves tail = {write.after.tail} as the kernel wrote it. The "
        f"first sync is **{_verdict(first.accepted)}** (head = {write.after.head} is "
        f"outside [rhead .. rtail] = [{sc.start.rhead} .. {sc.start.rtail}]), but "
        f"`netmap_ring_reinit` copies head, cur and tail into the kring and, all three "
        f"being below N, keeps them: rhead = {first.after.rhead}, rtail = "
        f"{first.after.rtail}. The second sync is validated against those: it is "
        f"**{_verdict(second.accepted)}**, and the driver hands slots "
        f"{slots(second.moved)} to the NIC, among them "
        + _kinds("tx", where, skip=("user",)) + ". "
        f"The NIC has now been handed {second.after.busy} slots of a ring of "
        f"{sc.start.n} ({glossary.ref('busy', '`busy`')}), and with the tail it gets back "
        f"the application owns [head, tail) = slots {slots(user)}, "
        + ("every one of them also the NIC's" if both == user else
           f"of which {slots(both)} {'are' if len(both) != 1 else 'is'} also the NIC's")
        + ". Hardened, the first sync is "
        f"**{_verdict(hardened[1].accepted)}** and restores head = {hardened[1].after.head} "
        f"from the kring; the second one sends "
        f"{slots(hardened[2].moved) if hardened[2].moved else 'nothing'}."
    )


def _rx_story(sc: Scenario, shipped: list[Step], hardened: list[Step]) -> str:
    write, sync = shipped
    where = _regions("rx", sc.start, sync.moved)
    return (
        f"`nm_rxsync_prologue` stores rhead = {write.after.head} before it checks it; the "
        f"check fails (head is outside [hwcur .. hwtail] = [{sc.start.hwcur} .. "
        f"{sc.start.hwtail}]), `netmap_ring_reinit` keeps the in-range value, and the "
        f"driver runs anyway: it gives slots {slots(sync.moved)} back to the NIC as empty "
        "buffers: " + _kinds("rx", where) + ". The NIC now owns "
        f"{sync.after.busy} slots of {sc.start.n}, including the packets the application "
        f"is still reading, and the ring tells the application it holds [head, tail) = "
        f"[{sync.after.head}, {sync.after.tail}). Hardened, the prologue checks first, "
        f"reinit restores head = {hardened[1].after.head}, and the driver gives back "
        f"{slots(hardened[1].moved) if hardened[1].moved else 'nothing'}."
    )


def _legacy_story(sc: Scenario, shipped: list[Step], hardened: list[Step]) -> str:
    write, sync = shipped
    where = _regions("tx", as_ring(sc.start), sync.moved)
    return (
        f"cur = {write.after.cur} is not above N-1, so txsync takes it: it sends "
        f"[hwcur, cur) = slots {slots(sync.moved)}, the long way round the ring: "
        + _kinds("tx", where) + f". The NIC has now been handed {sync.after.busy} slots of "
        f"{sc.start.n}."
    )


# ---------------------------------------------------------------------------- examples

WRAPPED = Scenario(
    "finding-wrapped-cur", TX,
    NetmapRing(n=8, head=6, cur=6, tail=2, hwcur=6, hwtail=2, rhead=6, rcur=6, rtail=2,
               nic=4, busy=2),
    (Action("sends 1 packet, sets cur = head + 3 without wrapping", WRITE,
            {"head": 7, "cur": 10}, short="head = 7, cur = 10"),
     Action("NIOCTXSYNC", "txsync_as_shipped", {"sent": 8})),
)

REINIT = Scenario(
    "finding-reinit-adopts", TX,
    NetmapRing(n=8, head=5, cur=5, tail=1, hwcur=5, hwtail=1, rhead=5, rcur=5, rtail=1,
               nic=2, busy=3),
    (Action("fills 6 slots of a 4-slot window: head = cur = 5 + 6", WRITE,
            {"head": 3, "cur": 3}, short="head = cur = 3, past tail"),
     Action("NIOCTXSYNC", "txsync_as_shipped", {"sent": 8}),
     Action("NIOCTXSYNC again", "txsync_as_shipped", {"sent": 8})),
)

RX_DRIVER = Scenario(
    "finding-rx-driver", RX,
    NetmapRing(n=8, head=2, cur=2, tail=6, hwcur=2, hwtail=6, rhead=2, rcur=2, rtail=6,
               nic=7, busy=2),
    (Action("writes a stale head, one slot behind hwcur", WRITE, {"head": 1, "cur": 1},
            short="head = cur = 1, behind hwcur"),
     Action("NIOCRXSYNC", "rxsync_as_shipped", {"refill": 8})),
)

#: The same ring, the application releasing one slot more than it holds.
RX_ONE_TOO_MANY = Scenario(
    "finding-rx-one-too-many", RX, RX_DRIVER.start,
    (Action("releases one slot past tail", WRITE, {"head": 7, "cur": 7}),
     Action("NIOCRXSYNC", "rxsync_as_shipped", {"refill": 8})),
)

LEGACY = Scenario(
    "finding-legacy-cur", LEGACY_TX,
    LegacyRing(n=8, cur=3, avail=5, reserved=0, hwcur=3, hwavail=5, nic=1, busy=2),
    (Action("writes cur one slot behind hwcur", WRITE, {"cur": 2}, short="cur = 2"),
     Action("txsync", "txsync")),
)


def _rx_one_too_many() -> list[str]:
    """Releasing one slot too many: every invariant still holds, and a packet is lost."""
    sc = RX_ONE_TOO_MANY
    write, sync = run(sc)
    reported = tuple((sync.before.hwtail + i) % sc.start.n
                     for i in range((sync.after.hwtail - sync.before.hwtail) % sc.start.n))
    lost = [i for i in sync.moved if i in reported]
    broken = ", ".join(md.tick(v) for v in sync.violated) or "none of the invariants"
    return [
        "**One slot too many.** The same ring, the application releasing head = "
        f"{write.after.head}, one slot past tail = {sc.start.tail}:",
        scenario_table(sc, [write, sync]),
        f"This time {broken} breaks, yet the sync reports slot{'s' if len(reported) != 1 else ''}"
        f" {slots(reported)} as received and gives slot{'s' if len(lost) != 1 else ''} "
        f"{slots(lost)} back to the NIC in the same call: the application never sees "
        f"{'those packets' if len(lost) != 1 else 'that packet'}. The model's invariants "
        "count slots; they do not follow packets, so a loss like this is found by the "
        "worked example, not by the proofs.",
    ]


def _refused_but_stored() -> list[str]:
    """A head >= N on the same wrapped window: the prologue stores it, its caller refuses
    it, and reinit hides it (computed from model.netmap_sync)."""
    n = WRAPPED.start.n
    s = WRAPPED.start.replace(head=n + 1, cur=n + 1, tail=WRAPPED.start.rtail + 2)
    rows = []
    for policy in POLICIES:
        ret, after = nm_txsync_prologue(policy, s)
        reinit = netmap_ring_reinit(policy, after)
        rows.append([policy, ret, "accepts" if caller_accepts((ret, after)) else "refuses",
                     f"rhead={after.rhead}, rcur={after.rcur}, ring->tail={after.tail}",
                     f"head={reinit.head}, rhead={reinit.rhead}, rcur={reinit.rcur}"])
    return [
        "**A refused head is stored first.** On the same wrapped window, a head >= N "
        "passes every `NM_FAIL_ON` of the TX prologue too (it is never 'strictly between "
        "rtail and head'): the prologue restores `ring->tail`, stores `rhead` and `rcur` "
        "and returns head, and only the caller's `ret >= N` test refuses the sync. "
        f"The application writes head = cur = {s.head} and scribbles tail = {s.tail} "
        f"(the kring: rhead = {s.rhead}, rcur = {s.rcur}, rtail = {s.rtail}):",
        md.table(["policy", "prologue returns", "the caller", "kring after the prologue",
                  "after netmap_ring_reinit"], rows),
        "`netmap_ring_reinit`, called next, sees head > N-1 and resets the ring, so the "
        "application never sees the stored values; a driver, monitor or debugger reading "
        "the kring between the two does. Hardened, the prologue stores nothing it "
        "refuses.",
    ]


FINDINGS = (
    Finding(
        "Cur is not range-checked when the interval wraps",
        ("nm_txsync_prologue", "nm_rxsync_prologue"),
        "when the accepted interval wraps past slot N-1, the as-shipped prologues accept "
        "any `cur >= N` and the kring keeps it as `rcur`.",
        who="any process holding a netmap file descriptor bound to the ring. In practice a "
        "buggy application that computes cur as `head + k` instead of with "
        "`nm_ring_next()`. It bites only while the application's window wraps past slot "
        "N-1, so tests on a fresh ring do not see it.",
        what=f"when {glossary.ref('rtail', '`rtail`')} < {glossary.ref('rhead', '`rhead`')}"
        f" (TX) or {glossary.ref('hwtail', '`hwtail`')} < {glossary.ref('hwcur', '`hwcur`')}"
        f" (RX) and {glossary.ref('head')} lies in the upper part of the window, the "
        f"{glossary.ref('prologue')}'s only test left on {glossary.ref('cur')} is \"not "
        "strictly between tail and head\", which every value `>= N` passes. The sync is "
        f"accepted, nothing is logged, and `kring->rcur` ({glossary.ref('rcur')}) and "
        "`ring->cur` keep an index that is not a slot.",
        how_bad="low. No slot or buffer is indexed by cur in the code we read: netmap.c "
        f"only compares `rcur` ({sources.link('netmap_poll (TX found)', 'netmap_poll')}: "
        "`rcur != rtail`), which is now always true, so the application's poll() returns "
        "at once and its own loop spins. The kernel's ring state is otherwise intact.",
        code=("nm_txsync_prologue (wrapped cur check)", "nm_rxsync_prologue (wrapped cur check)",
              "netmap_poll (TX found)"),
        example_title="Example: cur = head + 3 on a wrapped window",
        example=WRAPPED,
        story=_wrapped_story,
        hardened="Both prologues also require `head < N` and `cur < N`; the intervals are "
        "unchanged.",
        match=_any(lambda ob: ob.kind == "prologue-sound-accept" and ob.transition == AS_SHIPPED,
                   lambda ob: (ob.kind.startswith("prologue-reject-keeps")
                               and ob.transition == AS_SHIPPED),
                   _step(("txsync_as_shipped", "rxsync_as_shipped"),
                         lambda i: i.endswith("-RANGE"))),
        replay=("netmap_tx/prologue-sound-accept/as_shipped",
                "netmap_tx/step/txsync_as_shipped/NM-TX-RANGE",
                "netmap_tx/prologue-reject-keeps-kring/as_shipped"),
        more=_refused_but_stored,
    ),
    Finding(
        "A rejected sync adopts the user's in-range indices",
        ("netmap_ring_reinit",),
        "`netmap_ring_reinit` copies the user's head/cur/tail into the kring and rolls back "
        "only if one is >= N, so an illegal but in-range head is accepted by the next sync.",
        who="any process holding a netmap file descriptor bound to the ring. A buggy "
        "application is enough: one that publishes more slots than `nm_ring_space()` gave "
        "it (head past tail). It needs no other write; a malicious one can put head "
        "anywhere in the ring the same way.",
        what="the first sync is rejected, yet NIOCTXSYNC returns 0 (poll sets POLLERR) "
        f"and {sources.link('netmap_ring_reinit (copies the user indices)', 'netmap_ring_reinit')}"
        " copies ring->head, cur and tail into rhead, rcur and rtail; it "
        f"{sources.link('netmap_ring_reinit (resets only on errors)', 'resets them')} only "
        "when one of them is above N-1. The next sync is checked against the adopted "
        "values, accepted, and the driver walks from hwcur to the new head "
        f"({sources.link('ixgbe_netmap_txsync (hwcur to head)', 'ixgbe_netmap_txsync')}), "
        "handing the NIC the slot kept empty and slots it still owns: the application "
        f"has told the {glossary.ref('kring')} what to believe.",
        how_bad="the NIC and the application own the same slots. The driver posts "
        "descriptors for slots whose transmission has not completed, and the tail the "
        "application gets back lets it write into slots the NIC is still reading. Kernel "
        "memory is not at stake in the code we read (every slot index stays below N, and "
        f"{sources.link('PNMB')} bounds each buffer index), but the NIC ring's state is "
        "corrupt: packets sent twice or garbled, and the driver's count of free slots "
        "wrong from then on. The application was never told: its first sync returned 0.",
        code=("netmap_ring_reinit (copies the user indices)",
              "netmap_ring_reinit (resets only on errors)", "netmap_ioctl (NIOCTXSYNC)",
              "ixgbe_netmap_txsync (hwcur to head)", "PNMB"),
        example_title="Example: head past tail, tail untouched",
        example=REINIT,
        story=_reinit_story,
        hardened="Reinit never reads the user's indices: it rewrites `ring->head`, `cur` "
        "and `tail` from the kernel's own `rhead`, `rcur` and `rtail`.",
        match=_any(lambda ob: ob.id == "netmap_tx/prologue-sound-reject/as_shipped",
                   _step(("ring_reinit_as_shipped",), lambda i: True),
                   _step(("txsync_as_shipped",), lambda i: not i.endswith("-RANGE"))),
        replay=("netmap_tx/prologue-sound-reject/as_shipped",
                "netmap_tx/step/txsync_as_shipped/NM-TX-ONE-SLOT-EMPTY"),
    ),
    Finding(
        "RX stores before validating and calls the driver anyway",
        ("nm_rxsync_prologue", "netmap_ioctl (NIOCRXSYNC)"),
        "`nm_rxsync_prologue` writes `rhead`/`rcur` before checking them and the RX sync "
        "runs the driver even after a failed prologue, so a bad in-range head reaches "
        "the driver's refill.",
        who="any process holding a netmap file descriptor bound to the ring: a buggy "
        "application whose head goes backwards (a stale copy written back) or past tail "
        "is enough.",
        what=f"{sources.link('nm_rxsync_prologue (stores first)', 'nm_rxsync_prologue')} "
        "stores head and cur into rhead and rcur before checking them. The check fails, "
        "reinit keeps the in-range values (the finding above), and "
        f"{sources.link('netmap_ioctl (NIOCRXSYNC)', 'NIOCRXSYNC')} and "
        f"{sources.link('netmap_poll (rxsync)', 'poll')} call the driver's rxsync "
        "whatever the prologue said. The driver refills [hwcur, rhead) "
        f"({sources.link('ixgbe_netmap_rxsync (refill)', 'ixgbe_netmap_rxsync')}); its "
        f"only guard is {sources.link('ixgbe_netmap_rxsync (head > lim)', 'head > lim')}.",
        how_bad="the NIC is given, as empty buffers, slots whose packets the application "
        "is still reading, and slots it already owns; it will write new packets over "
        "them. Kernel memory is not at stake in the code we read (indices stay below N, "
        "buffer indices are bounded), but received data is overwritten in place, the "
        "driver's ring accounting is wrong, and even one slot too many silently loses a "
        "packet (second example).",
        code=("nm_rxsync_prologue (stores first)", "netmap_ioctl (NIOCRXSYNC)",
              "netmap_poll (rxsync)", "ixgbe_netmap_rxsync (refill)",
              "ixgbe_netmap_rxsync (head > lim)"),
        example_title="Example: a stale head one slot behind hwcur",
        example=RX_DRIVER,
        story=_rx_story,
        hardened="The RX prologue validates before storing; the driver still runs after a "
        "failed prologue, but on the kernel's own `rhead`, which the hardened reinit "
        "never changes.",
        match=_any(lambda ob: ob.id == "netmap_rx/prologue-sound-reject/as_shipped",
                   _step(("rxsync_as_shipped",), lambda i: not i.endswith("-RANGE"))),
        replay=("netmap_rx/step/rxsync_as_shipped/NM-RX-PARTITION",),
        more=_rx_one_too_many,
    ),
    Finding(
        "Legacy drivers checked only cur > N-1",
        ("netmap_ring_reinit (2013)",),
        "a cur or reserved outside the kernel's window is acted upon.",
        who="on netmap before 2014 (NETMAP_API 5 and older), any process holding a netmap "
        "file descriptor: a buggy application that moved cur backwards.",
        what="there was no prologue. The drivers' txsync "
        f"({sources.link('ixgbe_netmap_txsync (2013, cur > lim)', 'ixgbe_netmap_txsync')}) "
        "reinit the ring when cur > N-1 and otherwise trusted cur, avail and reserved; "
        f"rxsync ({sources.link('ixgbe_netmap_rxsync (2013, reserved + avail)', 'ixgbe')}) "
        "only zeroed reserved when reserved + avail >= N. A cur behind hwcur makes txsync "
        "send [hwcur, cur) the long way round the ring. The arithmetic is `uint32_t`: the "
        "user then reads a wrapped avail such as 2^32 - 5, and on RX a reserved larger "
        "than cur + N whose sum with avail wraps below N survives the check, so the "
        "release loop never reaches its end and rxsync does not return "
        "(`legacy_rx/total/rxsync`).",
        how_bad="as for the rejected-sync finding: the NIC is handed slots the application "
        "never filled, the slot kept empty and slots still in flight. Historical: the "
        "head/cur/tail API and its prologues replaced this in 2014; with the hardened "
        "policy every modern sync keeps every invariant for any user input.",
        code=("ixgbe_netmap_txsync (2013, cur > lim)",
              "ixgbe_netmap_rxsync (2013, reserved + avail)", "netmap_ring_reinit (2013)"),
        example_title="Example: cur one slot behind hwcur",
        example=LEGACY,
        story=_legacy_story,
        hardened="The modern prologues validate head and cur against the kernel's window; "
        "with the hardened policy every modern sync keeps every invariant for any user "
        "input.",
        match=lambda ob: (ob.machine in ("legacy_tx", "legacy_rx")
                          and ob.kind in ("step", "total")),
        replay=("legacy_tx/step/txsync/LEG-TX-ONE-SLOT-EMPTY",
                "legacy_rx/step/rxsync/LEG-RX-ONE-SLOT-EMPTY"),
    ),
)


def upstream(f: Finding) -> str:
    """The C the finding is about, as pinned links."""
    return ", ".join(sources.link(name) for name in f.ref)


# ---------------------------------------------------------------------------- replays


def replay_code(row: Row) -> str:
    """A snippet that replays the counterexample of ``row`` on the concrete model."""
    ob = row.obligation
    machine = machine_by_name(ob.machine)
    sym = machine_symbol(machine)
    pre = state_literal(machine, row.counterexample["pre"])
    head = [f"from model import {sym}", state_import(machine)]
    if ob.kind == "step":
        args = row.counterexample.get("args", {})
        call = ", ".join(["pre", *[f"{k}={v}" for k, v in args.items()]])
        lines = [
            f"pre = {pre}",
            f'print("kernel invariants violated before:", {sym}.violated(pre, user_view=False))',
            f'step = {sym}.transitions["{ob.transition}"]({call})',
            'print("guard:", step.guard)',
            'print("post:", step.post)',
            f'print("violated after:", {sym}.violated(step.post))',
        ]
        other = ob.transition.replace(AS_SHIPPED, HARDENED)
        if other != ob.transition and other in machine.transitions:
            lines += [
                f'hardened = {sym}.transitions["{other}"]({call})',
                'print("hardened post:", hardened.post)',
                f'print("hardened violates:", {sym}.violated(hardened.post))',
            ]
        return "\n".join([*head, "", *lines]) + "\n"
    prologue = PROLOGUES[machine.name].__name__
    head[1] = ("from model.netmap_ring import AS_SHIPPED, HARDENED, NetmapRing, "
               f"caller_accepts, {prologue}"
               + (", netmap_ring_reinit" if ob.kind != "prologue-sound-accept" else ""))
    lines = [f"pre = {pre}", "for policy in (AS_SHIPPED, HARDENED):",
             f"    ret, after = {prologue}(policy, pre)",
             "    accepted = caller_accepts((ret, after))  # the callers' ret < N"]
    if ob.kind == "prologue-sound-accept":
        lines += [
            '    print(policy, "accepted:", accepted)',
            "    if accepted:",
            '        print("  after the prologue:", after)',
            f'        print("  kernel invariants violated:", {sym}.violated(after, '
            "user_view=False))",
        ]
    elif ob.kind.startswith("prologue-reject-keeps"):
        lines += [
            '    print(policy, "returned:", ret, "accepted:", accepted)',
            '    print("  after the prologue:", after)',
            '    print("  after reinit:", netmap_ring_reinit(policy, after))',
        ]
    else:
        lines += [
            "    repaired = netmap_ring_reinit(policy, after)",
            '    print(policy, "accepted:", accepted)',
            '    print("  after reinit:", repaired)',
            f'    print("  violated:", {sym}.violated(repaired))',
        ]
    return "\n".join([*head, "", *lines]) + "\n"


def replay(row: Row) -> str:
    code = replay_code(row)
    return "\n\n".join([
        md.code(code, "python"),
        "Output (computed when these pages were generated):",
        md.code(run_snippet(code)),
    ])


# ---------------------------------------------------------------------------- page


def example(f: Finding) -> list[str]:
    """The worked example: the start in words, the pictures, a step table per policy,
    the outcome in words, the replay snippets.  Everything but the inputs is computed."""
    sc = f.example
    shipped = run(sc, AS_SHIPPED)
    policies = {AS_SHIPPED: shipped}
    has_hardened = any(a.transition.endswith(AS_SHIPPED) for a in sc.actions)
    if has_hardened:
        policies[HARDENED] = run(sc, HARDENED)
    hardened = policies.get(HARDENED, [])
    out = [
        f"### {f.example_title}",
        " ".join(x for x in (f"Before: {describe(sc)}.", picture_note(sc)) if x),
    ]
    for policy, rows in policies.items():
        if has_hardened:
            out.append(f"**{'As shipped' if policy == AS_SHIPPED else 'Hardened'}:**")
        out += [scenario_figure(sc, rows, policy if has_hardened else ""),
                scenario_table(sc, rows)]
    out += [
        f.story(sc, shipped, hardened),
        scenario_replay(sc, tuple(policies)),
    ]
    if f.more:
        out += f.more()
    return out


def _evidence(f: Finding, rows: list[Row], ev: Evidence) -> str:
    counterparts = []
    for r in rows:
        other = ev.by_id.get(r.id.replace(AS_SHIPPED, HARDENED))
        if other is not None and other.id != r.id and other not in counterparts:
            counterparts.append(other)
    parts = [
        f"**Refuted as expected** ({glossary.ref('refuted as expected', 'what that means')}): "
        "these obligations are the finding.",
        common.obligation_table(rows),
    ]
    if counterparts:
        parts += ["**The hardened policy's counterparts**, proved:",
                  common.obligation_table(counterparts)]
    for oid in f.replay:
        row = ev.by_id[oid]
        parts += [f"**Counterexample of `{oid}`**, replayed on the model:",
                  common.counterexample(row.counterexample), replay(row)]
    rest = [r for r in rows if r.id not in f.replay]
    if rest:
        parts.append("**The other counterexamples:**")
        parts += [f"`{r.id}`\n\n{common.counterexample(r.counterexample)}" for r in rest]
    summary = (f"Evidence: {len(rows)} obligations refuted as expected"
               + (f", {len(counterparts)} hardened counterparts proved" if counterparts
                  else "") + ", the solver's counterexamples")
    return md.details(summary, "\n\n".join(parts))


def _section(f: Finding, rows: list[Row], ev: Evidence) -> list[str]:
    code = "\n".join(
        f"- {sources.link(name)}" + (f": {name.split(' (', 1)[1][:-1]}" if " (" in name else "")
        for name in f.code)
    return [
        f"## {f.title}",
        f"**Who can trigger it:** {f.who}",
        f"**What goes wrong:** {f.what}",
        f"**How bad:** {f.how_bad}",
        f"**The C:**\n\n{code}",
        *example(f),
        f"**The fix** ({glossary.ref('policy', 'hardened policy')}): {f.hardened}",
        _evidence(f, rows, ev),
    ]


def _refuted(what: str, rows: list[Row]) -> str:
    """A finding's evidence, folded: the obligations refuted as expected and their
    counterexamples."""
    return md.details(f"Evidence: the {what} obligations refuted as expected",
                      common.obligation_table(rows) + "\n\n" + "\n\n".join(
                          f"`{r.id}`\n\n{common.counterexample(r.counterexample)}"
                          for r in rows))


def _poll_findings(rows: list[Row]) -> list[str]:
    """poll's findings: the story and worked example live on the poll page."""
    return [
        f"## {POLL_TITLE}",
        "**Who**: an application that keeps free TX slots and sets `cur = tail` to ask "
        "for more room, then polls for POLLOUT. **What goes wrong**: poll's txsync runs "
        "without NAF_FORCE_RECLAIM, and a driver that reclaims only when the user has no "
        f"free slot ({sources.link('ixgbe_netmap_txsync (reclaim)', 'ixgbe_netmap_txsync')}"
        ") leaves completed slots unreclaimed: tail never moves past cur and the caller "
        "sleeps until it fills the ring or calls NIOCTXSYNC. **How bad**: a blocked "
        "sender on an idle NIC. FreeBSD's lock-free first pass also ignores "
        "`nkr_stopped`, so a stopped ring (interface going down, driver reset) can report "
        "POLLOUT / POLLIN without POLLERR. Poll also runs the same prologues and reinit as the "
        "ioctls, so an adversarial ring breaks the kernel invariants through poll as it "
        "does through NIOCTXSYNC / NIOCRXSYNC. The worked example and every claim about "
        "poll are on [poll() on a ring](poll.md#cur-at-tail-with-free-slots-a-sleep-"
        "nothing-ends).",
        _refuted("poll", rows),
    ]


POLL_TITLE = "poll() sleeps while completed TX slots wait"
FORWARD_TITLE = "Transparent mode drops and overwrites TX slots"

#: The transparent-mode finding's worked example: a prepared TX slot, then more marked
#: packets than the TX ring has room for.
FORWARD_EXAMPLE = Scenario("finding-forward", FORWARD, forward_init(4), (
    Action("3 packets from the stack reach the host RX ring", "host_import", {"k": 3}),
    Action("the application fills TX slot 0", "user_prepare_tx", {"k": 1}),
    Action("and releases it", "user_send_tx"),
    Action("txsync hands it to the NIC, which has not sent it yet", "tx_push"),
    Action("the application fills TX slot 1 and has not advanced head yet",
           "user_prepare_tx", {"k": 1}),
    Action("it releases the 3 host packets, all marked NS_FORWARD", "user_release_host",
           {"k": 3, "m": 3}),
    Action("NIOCRXSYNC on the host ring", "rxsync_from_host"),
))


#: The TX-ring trust finding's worked example: a scribbled tail lets the swap reach a slot
#: in flight.
FORWARD_TRUST_EXAMPLE = Scenario("finding-forward-trust", FORWARD, forward_init(4), (
    Action("the application fills TX slots 0 and 1", "user_prepare_tx", {"k": 2}),
    Action("and releases them", "user_send_tx"),
    Action("txsync hands them to the NIC: slots 0 and 1 are in flight", "tx_push"),
    Action("3 packets from the stack reach the host RX ring", "host_import", {"k": 3}),
    Action("the application releases them, all marked NS_FORWARD", "user_release_host",
           {"k": 3, "m": 3}),
    Action("a bug writes tail = 1 into the TX ring (the kernel's rtail is 3)",
           "user_scribble_tx", {"h": 2, "c": 2, "t": 1}),
    Action("NIOCRXSYNC on the host ring", "rxsync_from_host"),
))

FORWARD_TRUST_TITLE = "Transparent mode trusts the TX ring's head and tail"


def _forward_trust_finding(rows: list[Row]) -> list[str]:
    """The swap's unchecked TX indices, with the worked example run on the model."""
    steps = run(FORWARD_TRUST_EXAMPLE)
    last = steps[-1].after
    return [
        f"## {FORWARD_TRUST_TITLE}",
        "**Who can trigger it:** an application using transparent mode towards the NIC "
        "whose TX ring's `head`, `cur` or `tail` holds a wrong value when it syncs the "
        "host RX ring: a stray write, or a second thread. **What goes wrong:** "
        f"{sources.link('netmap_sw_to_nic')} reads `head`, `cur` and `tail` of each TX "
        "ring from shared memory and checks none of them against the kring (its own "
        "comment asks \"do we trust ring or kring->rcur,rtail ?\"); the TX prologue that "
        "would refuse them runs only on a TX sync. With a `tail` past the kernel's "
        "`rtail` the swap runs into slots the kernel owns: slots in flight, whose buffer "
        "the NIC may still be reading, or the gap. The in-flight buffer moves to the "
        "host RX ring, where the application may reuse it while the NIC sends from it, "
        "and the forwarded packet that replaced it is never sent. With a `head` that is "
        "not a slot index, `slot[head]` lies past the slot array: the kernel writes 16 "
        "bytes (buffer index, length, flags) up to 64 GiB (2^32 slots of 16 bytes) beyond "
        "the ring. **How bad:** kernel memory corruption from a user mistake, the very "
        "thing the sync prologues exist to prevent. **The fix:** take the room from the "
        "kring, as the prologue does: swap only into a TX ring with `rhead <= head <= "
        "cur <= rtail` and only up to `rtail` (the hardened step, proved: "
        "`FWD-KERNEL-SLOTS` and `FWD-IN-RING` hold). ringspec's implementation never "
        "writes past its slot array; as shipped it trusts `tail` as netmap does and "
        "counts such swaps (`kernel_slots`). The model: "
        f"[transparent mode]({FORWARD.name}.md). By buffer "
        "(`model/netmap_forward_swap.py`, one iteration of the swap loop over the two "
        "rings' slot arrays): as shipped `SWAP-NIC` is refuted (the buffer of a TX slot in "
        "flight ends up in the host RX ring) and `SWAP-PERM` too (with `head` past the "
        "array the packet's buffer leaves the rings and whatever lies there comes back as "
        "a buffer); the hardened iteration keeps both, and on a consistent TX ring every "
        "iteration permutes the two rings' buffers and moves each forwarded packet's "
        "buffer into exactly one TX slot (proved for any ring sizes).",
        f"### Example: {len(FORWARD_TRUST_EXAMPLE.actions)} steps on 4-slot rings",
        scenario_table(FORWARD_TRUST_EXAMPLE, steps),
        f"After the rxsync: {last.forwarded} packets swapped into TX slots 2, 3 and 0. "
        "Slot 3 is the gap and slot 0 is in flight on the NIC "
        f"(`kernel_hit = {last.kernel_hit}`): the buffer the NIC is sending from now "
        "sits in the host RX ring as a free buffer.",
    ]


def _forward_findings(rows: list[Row]) -> list[str]:
    """Transparent mode's findings, with the worked examples run on the model."""
    steps = run(FORWARD_EXAMPLE)
    last = steps[-1].after
    return [
        f"## {FORWARD_TITLE}",
        "**Who can trigger it:** any application using transparent mode towards the NIC "
        "(`NR_FORWARD` on the host RX ring, or `dev.netmap.fwd`, with every hardware TX "
        "ring bound). **What goes wrong:** an rxsync of the host RX ring swaps each "
        "released `NS_FORWARD` slot into slot `head` of a TX ring "
        f"({sources.link('netmap_sw_to_nic')}) and then releases every slot up to "
        f"`rhead` ({sources.link('netmap_rxsync_from_host')}). A marked packet that finds "
        "no room is released unsent, with no counter and no log line, although netmap(4) "
        "says such packets \"are forwarded to the other endpoint at the next system "
        "call\". And the swap writes `slot[head]`, `head` and `cur` of the TX ring, which "
        "belong to the application: a TX slot the application filled but has not "
        "released yet is overwritten, and its frame lost. **How bad:** silent loss of "
        "forwarded packets under load, and of the application's own frame when it syncs "
        "the host ring while it holds a prepared TX slot; no kernel state is corrupted. "
        "**The fix:** back-pressure (keep `nr_hwcur` before the first packet that found "
        "no room; the host RX ring then fills and `netmap_transmit` drops with ENOBUFS "
        "and a counter) and, for the application, release every prepared TX slot before "
        f"syncing the host RX ring. The model: [transparent mode]({FORWARD.name}.md).",
        f"### Example: {len(FORWARD_EXAMPLE.actions)} steps on 4-slot rings",
        scenario_table(FORWARD_EXAMPLE, steps),
        f"After the rxsync: {last.forwarded} packets forwarded into the {last.forwarded} "
        f"free TX slots, {last.dropped} released unsent (`dropped`), and "
        f"{last.clobbered} prepared TX slot overwritten (`clobbered`): the application's "
        "frame in slot 1 now sits in the host RX ring as a free buffer.",
        *_forward_trust_finding(rows),
        _refuted("transparent-mode", rows),
    ]


PENDINTR_TITLE = common.PENDINTR_FINDING

#: The NKR_PENDINTR finding's worked example (as shipped; the table's steps are the C's).
PENDINTR_EXAMPLE = Scenario("finding-pendintr", PENDINTR, pendintr_init(8), (
    Action("root sets dev.netmap.no_pendintr=0", "set_no_pendintr", {"v": 0}),
    Action("a frame arrives", "frame_arrives"),
    Action("its interrupt: NKR_PENDINTR set, the poll() caller woken", "interrupt"),
    Action("poll()'s rxsync reads the frame; a second one lands behind the read loop and "
           "its interrupt fires before the driver clears the flag", "rxsync_as_shipped",
           {"force": 0, "late": 1}),
    Action("poll() again: NKR_PENDINTR is clear, so the driver does not read the NIC",
           "rxsync_as_shipped", {"force": 0, "late": 0}),
))


def _pendintr_findings(rows: list[Row]) -> list[str]:
    """The NKR_PENDINTR finding, with its worked example run on the model."""
    steps = run(PENDINTR_EXAMPLE)
    last = steps[-1].after
    return [
        f"## {PENDINTR_TITLE}",
        "**Who can trigger it:** nobody on purpose: it takes `dev.netmap.no_pendintr=0` "
        "(root; the default is 1) and a frame that lands while poll()'s rxsync runs. "
        "**What goes wrong:** the RX interrupt sets `NKR_PENDINTR` "
        f"({sources.link('netmap_common_irq')}); with `no_pendintr = 0` a driver's "
        "rxsync reads the NIC only when the flag is set or the caller passed "
        f"NAF_FORCE_READ ({sources.link('ixgbe_netmap_rxsync (NKR_PENDINTR test)', 'the test')}), "
        "which NIOCRXSYNC does and poll() does not, and it clears the flag *after* its "
        f"read loop ({sources.link('ixgbe_netmap_rxsync (NKR_PENDINTR clear)', 'the clear')}; "
        "every native driver at the pinned commit does the same). A frame whose "
        "descriptor the loop had already passed, and whose interrupt fires before the "
        "clear, loses its interrupt: nothing sets the flag again, and every later poll() "
        "skips the NIC. **How bad:** a receiver blocked in poll() with a frame in the "
        "ring, until another frame arrives and interrupts; with interrupt moderation "
        "and a last frame of a burst, that can be long. NIOCRXSYNC, busy-waiting "
        "applications and the default setting are not affected. **The fix:** clear "
        "`NKR_PENDINTR` before reading the NIC (the model's `rxsync_hardened`): a frame "
        "that lands behind the loop then sets the flag again. The model: "
        f"[NKR_PENDINTR]({PENDINTR.name}.md).",
        f"### Example: {len(PENDINTR_EXAMPLE.actions)} steps",
        scenario_table(PENDINTR_EXAMPLE, steps),
        f"After the last poll(): `unread = {last.unread}` frame in the ring, "
        f"`pendintr = {last.pendintr}`, `irq_due = {last.irq_due}`: no poll() will read "
        "it. `impl.netmap` replays the same steps on the soft NIC "
        "(`tests/stateful/test_pendintr.py`).",
        _refuted("NKR_PENDINTR", rows),
    ]


HOST_FWD_TITLE = common.HOST_FWD_FINDING

#: The host-ring echo's worked example (as shipped).
HOST_FWD_EXAMPLE = Scenario("finding-host-fwd", HOST_FWD, host_fwd_init(8), (
    Action("2 NS_FORWARD packets released on the first host RX ring (ring_id 4) by a "
           "descriptor bound to every ring: swapped into the NIC TX rings",
           "rxsync_as_shipped", {"ring": 4, "k": 2, "can_down": 1}),
    Action("3 NS_FORWARD packets released on the second host RX ring (ring_id 5): "
           "nm_may_forward_up holds (5 != 4), they go up the stack", "rxsync_as_shipped",
           {"ring": 5, "k": 3, "can_down": 1}),
))


def _host_fwd_findings(rows: list[Row]) -> list[str]:
    """Transparent mode on a second host RX ring, with its worked example."""
    steps = run(HOST_FWD_EXAMPLE)
    last = steps[-1].after
    return [
        f"## {HOST_FWD_TITLE}",
        "**Who can trigger it:** an application that asks for more than one host ring "
        "pair (`nr_host_rx_rings` in NIOCREGIF) and uses transparent mode (`NR_FORWARD` "
        "on the ring, or `dev.netmap.fwd=1`). **What goes wrong:** whether a released "
        "`NS_FORWARD` packet goes down to the NIC or up to the stack is decided per RX "
        f"kring: down only from the first host RX kring ({sources.link('nm_may_forward_down')}"
        f", `ring_id == num_rx_rings`), up from any kring with `ring_id != num_rx_rings` "
        f"({sources.link('nm_may_forward_up')}). That test was written when there was one "
        "host ring; with two, the second host RX kring passes it, and its packets -- "
        "packets the stack sent out through the interface -- are handed back to the "
        f"stack as received ({sources.link('netmap_grab_packets')}). **How bad:** the "
        "stack receives its own traffic (a loop for broadcasts and routed packets) and "
        "the packets never reach the wire; with `dev.netmap.fwd=1` every packet the "
        "application releases on that ring goes back up. With one host ring pair (the "
        "default) the test is exact. **The fix:** forward up from hardware RX krings "
        "only (`ring_id < num_rx_rings`, the model's `rxsync_hardened`). The model: "
        f"[transparent mode with several host rings]({HOST_FWD.name}.md).",
        f"### Example: {len(HOST_FWD_EXAMPLE.actions)} steps",
        scenario_table(HOST_FWD_EXAMPLE, steps),
        f"After the second sync: `down = {last.down}` packets went to the NIC, `echoed = "
        f"{last.echoed}` came back up the stack. `impl.netmap` replays it on an adapter "
        "with two host ring pairs (`tests/unit/test_host_ring_pairs.py`), and the "
        "hardened policy releases them instead.",
        _refuted("several-host-ring", rows),
    ]


def render(ev: Evidence) -> str:
    body = [
        f"Where the shipped netmap code, and the legacy drivers before it, admit a ring "
        f"state that breaks an {glossary.ref('invariant')}. The model follows the C "
        "where it is looser than its documentation; each section says who can trigger "
        "the behaviour, what goes wrong and how bad it is, then shows it on a small ring "
        "picked by hand and run on the model when these pages were generated (nothing in "
        "the tables or the text around them is typed by hand). The evidence follows, "
        f"folded: the {glossary.ref('obligation', 'obligations')} the proof run refuted "
        "as expected, the hardened policy's proved counterparts, and the solver's "
        f"{glossary.ref('counterexample', 'counterexamples')}, each replayed on the "
        "concrete model. Paste any snippet into `python` at the repository root to run "
        "it again.",
        "Every finding is reachable only through a process that holds a netmap file "
        "descriptor for the ring, and the device node is created root-only "
        f"({sources.link('netmap_init (/dev/netmap mode 0600)', 'netmap_init')}): the "
        "question is what a buggy or hostile application can do to the kernel's and the "
        "NIC's view of the ring, not who can open it.",
        "\n".join([*(f"- {md.link(f.title, '', f.title)}: {f.summary}" for f in FINDINGS),
                   f"- {md.link(POLL_TITLE, '', POLL_TITLE)}: a poll for POLLOUT with cur = "
                   "tail and free slots left can sleep while the NIC has completed "
                   "slots the driver does not reclaim.",
                   f"- {md.link(FORWARD_TITLE, '', FORWARD_TITLE)}: NS_FORWARD packets "
                   "that find no TX room are released unsent, and the swap overwrites a "
                   "TX slot the application has not released.",
                   f"- {md.link(FORWARD_TRUST_TITLE, '', FORWARD_TRUST_TITLE)}: the swap "
                   "takes the TX ring's head and tail from shared memory unchecked, so a "
                   "stray write makes the kernel overwrite slots in flight or write past "
                   "the slot array.",
                   f"- {md.link(PENDINTR_TITLE, '', PENDINTR_TITLE)}: with "
                   "dev.netmap.no_pendintr=0, a frame that lands during poll()'s rxsync "
                   "can lose its interrupt and wait in the ring until the next one.",
                   f"- {md.link(HOST_FWD_TITLE, '', HOST_FWD_TITLE)}: with several host "
                   "ring pairs, NS_FORWARD packets released on a host RX ring other than "
                   "the first go back up the stack instead of to the NIC.",
                   f"- {md.link(legacy_host_finding.TITLE, '', legacy_host_finding.TITLE)}"
                   f": {legacy_host_finding.SUMMARY}",
                   f"- {md.link(lifetime_finding.TITLE, '', lifetime_finding.TITLE)}: "
                   f"{lifetime_finding.SUMMARY}"]),
    ]
    covered: set[str] = set()
    for f in FINDINGS:
        rows = [r for r in ev.findings if f.match(r.obligation)]
        covered.update(r.id for r in rows)
        body += _section(f, rows, ev)
    poll_rows = [r for r in ev.findings if r.obligation.machine == poll_obligations.NAME]
    covered.update(r.id for r in poll_rows)
    body += _poll_findings(poll_rows)
    forward_rows = [r for r in ev.findings
                    if r.obligation.machine in (FORWARD.name, swap_obligations.NAME)]
    covered.update(r.id for r in forward_rows)
    body += _forward_findings(forward_rows)
    pendintr_rows = [r for r in ev.findings if r.obligation.machine == PENDINTR.name]
    covered.update(r.id for r in pendintr_rows)
    body += _pendintr_findings(pendintr_rows)
    host_fwd_rows = [r for r in ev.findings if r.obligation.machine == HOST_FWD.name]
    covered.update(r.id for r in host_fwd_rows)
    body += _host_fwd_findings(host_fwd_rows)
    legacy_host_rows = [r for r in ev.findings if legacy_host_finding.matches(r.obligation)]
    covered.update(r.id for r in legacy_host_rows)
    body += legacy_host_finding.section(
        legacy_host_rows, _refuted("2013 host ring", legacy_host_rows))
    lifetime_rows = [r for r in ev.findings if lifetime_finding.matches(r.obligation)]
    covered.update(r.id for r in lifetime_rows)
    body += lifetime_finding.section(lifetime_rows, _refuted("ring lifetime", lifetime_rows))
    netmap = {m.name for m in model.MACHINES}  # the ENA ones have their own page
    rest = [r for r in ev.findings if r.id not in covered and r.obligation.machine in netmap]
    if rest:
        body += ["## Other refuted obligations", common.obligation_table(rest)]
        body += [f"`{r.id}`\n\n{common.counterexample(r.counterexample)}" for r in rest]
    return md.page("Findings", common.nav("findings.md"), body)
