"""Answers to the ring questions netmap users ask, each with the model's rule (quoted from
the model) and a worked example computed on the concrete model."""

from __future__ import annotations

from collections.abc import Sequence

from model.core import Machine
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
from ringspec.docgen import common, md, ownership


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


def _q1() -> list[str]:
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
    return [
        "## 1. head vs cur",
        "`head` releases slots: everything before it is handed back to the kernel at the "
        "next sync. `cur` only says how far the user wants to look ahead (the wake-up "
        "point); it never releases anything. Both must be written, in the order head <= "
        "cur <= tail, and the sync prologue checks exactly that against the kernel's copy.",
        quote(TX, "head", "cur", "NM-TX-USER-VIEW"),
        "Worked example: `nm_txsync_prologue` of the model on a TX ring with N = 8 whose "
        "user window [rhead, rtail] = [5 .. 2] wraps past slot 7, for several values the "
        "user might write:",
        ownership.picture(base, tx_regions),
        md.table(["head", "cur", "case", AS_SHIPPED, HARDENED], rows, "rrlcc"),
        "The last row is [finding: wrapped cur](findings.md#cur-is-not-range-checked-when-the-"
        "interval-wraps): only the hardened prologue rejects a cur that is not a slot. "
        "Every other row is the same under both policies, so `cur < head` or a cur past "
        "tail is always rejected (the kernel logs and reinits the ring).",
    ]


def _handed(before: NetmapRing, after: NetmapRing) -> list[int]:
    """Slots a sync handed to the NIC: hwcur's walk from before to after."""
    return [(before.hwcur + i) % before.n
            for i in range((after.hwcur - before.hwcur) % before.n)]


def _slots(slots: list[int], labels: list[str]) -> str:
    return ", ".join(f"{i} ({labels[i].replace('_', ' ')})" for i in slots)


def _q2() -> list[str]:
    start = TX.init(8)
    start = TX.transitions["user_advance"](start, dh=3, dc=0).post
    start = TX.transitions["txsync_hardened"](start, sent=3).post
    bad = (start.tail + 2) % start.n  # two slots past tail
    scribble = ("user_scribble", {"head": bad, "cur": bad, "tail": start.tail})
    labels = ownership.slot_labels(start, tx_regions)
    out = [
        "## 2. Advancing past tail, and what reinit does",
        "A txsync whose head or cur lies outside the user's window is rejected and the "
        "ring is reinitialised; that sync hands no slot to the NIC. What reinit restores "
        "is where the policies differ:",
        quote(TX, "txsync_as_shipped", "ring_reinit_as_shipped", "ring_reinit_hardened"),
        f"Worked example: a TX ring of {start.n} slots; the user has sent "
        f"{start.busy} slots and the NIC has completed none:",
        ownership.picture(start, tx_regions),
        f"The app then advances head and cur to slot {bad}, past tail = {start.tail}, "
        "without looking at tail, and calls txsync twice.",
    ]
    cols = ["head", "cur", "tail", "hwcur", "rhead", "rtail", "busy"]
    handed = {}
    for policy in (AS_SHIPPED, HARDENED):
        sync = (f"txsync_{policy}", {"sent": start.n})
        out += [f"**{policy}**:", trace(TX, start, [scribble, sync, sync], cols)]
        s = TX.transitions[scribble[0]](start, **scribble[1]).post
        for _ in range(2):
            post = TX.transitions[sync[0]](s, **sync[1]).post
            handed[policy] = _handed(s, post)
            s = post
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
    return out


def _q3() -> list[str]:
    rx = RX.init(8)
    steps = [("device_deliver", {"k": 7}), ("rxsync_hardened", {"refill": 8}),
             ("device_deliver", {"k": 1})]
    return [
        "## 3. One slot is always empty",
        "A ring of N slots never gives the user more than N - 1: one slot separates "
        "the kernel's side from the user's so that `head == tail` can only mean empty.",
        quote(TX, "NM-TX-ONE-SLOT-EMPTY"),
        quote(RX, "NM-RX-ONE-SLOT-EMPTY"),
        f"A fresh TX ring of 8 slots gives the user `nm_ring_space` = "
        f"{user_space(TX.init(8))} free slots. On RX, the NIC may fill only the buffers it "
        "owns; when the user holds every received slot the next delivery cannot fire, "
        "and the NIC drops the packet instead of overwriting one:",
        trace(RX, rx, steps, ["head", "tail", "hwcur", "hwtail", "nic", "busy"],
              [("nm_ring_space", _space)]),
    ]


def _q4() -> list[str]:
    base = TX.init(8)
    base = TX.transitions["user_advance"](base, dh=3, dc=0).post
    base = TX.transitions["txsync_hardened"](base, sent=3).post
    rows = []
    for label, head in (("tail scribbled, head legal", 3), ("tail scribbled, head past tail", 1)):
        s = base.replace(head=head, cur=head, tail=5)
        for policy in (AS_SHIPPED, HARDENED):
            acc = caller_accepts(nm_txsync_prologue(policy, s))
            post = TX.transitions[f"txsync_{policy}"](s, sent=8).post
            rows.append([label, policy, "yes" if acc else "**no**", post.tail, post.rtail,
                         ", ".join(TX.violated(post)) or "none"])
    return [
        "## 4. tail is read-only (\"tail overwritten\")",
        quote(TX, "tail", "NM-TX-USER-VIEW"),
        "The user may not write `ring->tail`; an accepted prologue simply puts the kernel's "
        "`rtail` back (that is the \"tail overwritten\" log line) and finalize then "
        "publishes the new hwtail. Worked example: a TX ring of 8 slots with 3 slots in "
        f"flight (`{base!r}`); the user writes tail = 5, then txsync:",
        md.table(["case", "policy", "accepted", "tail after", "rtail after", "violated after"],
                 rows),
        "With a legal head the scribble is harmless under both policies. With a rejected "
        "head, the shipped reinit copies the scribbled tail into `rtail`; "
        "the hardened one restores it.",
    ]


def _q8() -> list[str]:
    def region(slot: int):
        return lambda s: ownership.slot_labels(s, rx_regions)[slot].replace("_", " ")

    steps = [("device_deliver", {"k": 3}), ("rxsync_hardened", {"refill": 8}),
             ("user_advance", {"dh": 2, "dc": 0}), ("rxsync_hardened", {"refill": 8}),
             ("device_deliver", {"k": 6})]
    return [
        "## 8. How long a buffer stays valid",
        "A received slot belongs to the user from the sync that shows it (tail moves past "
        "it) until the sync after the user moved head past it. Between `user_advance` "
        "and that sync the kernel still counts the slot as the user's: it learns the new "
        "head only in the sync prologue. In that sync the driver may give the buffer back "
        "to the NIC, which can then overwrite it at any time.",
        quote(RX, "user_advance", "NM-RX-PARTITION"),
        "Worked example: an RX ring of 8 slots receives 3 packets; the user reads them, "
        "releases slots 0 and 1 and keeps slot 2; then more packets arrive. The slot "
        "columns are the kernel's view, computed with `model.netmap_ring.rx_regions`:",
        trace(RX, RX.init(8), steps, ["head", "tail", "rhead", "hwcur", "nic"],
              [("slot 0", region(0)), ("slot 1", region(1)), ("slot 2", region(2))]),
        "Slot 0 stays the user's after `user_advance` until the sync; that sync gives it "
        "back to the NIC (`free`), and the next deliveries fill it with a new packet "
        "(`ready`). Slot 1 becomes the empty slot kept before hwcur. Slot 2, which the "
        "user did not release, stays the user's throughout.",
        "The model tracks which slots each party owns, not which buffer index a slot "
        "holds, so questions about swapped `buf_idx` values (pipes, zero-copy monitors, "
        "`NS_BUF_CHANGED`) are outside it. For TX the same rule applies in the other "
        "direction: a slot is the user's again once a sync has moved tail past it.",
    ]


def _q11() -> list[str]:
    steps = [("user_advance", {"dh": 3, "dc": 0}), ("txsync_hardened", {"sent": 3}),
             ("device_complete", {"k": 2}), ("txsync_hardened", {"sent": 0}),
             ("device_complete", {"k": 1}), ("txsync_hardened", {"sent": 0})]
    return [
        "## 11. When tail moves on TX",
        "`tail` moves only inside a sync: the driver reclaims what the NIC has completed "
        "(hwtail = the slot before the NIC pointer) and finalize copies hwtail to "
        "`ring->tail`. A completion by itself changes nothing the user can see, so "
        "spinning on `ring->tail` without calling txsync (or poll) waits forever.",
        quote(TX, "device_complete", "txsync_hardened"),
        "Worked example: a TX ring of 8 slots; the user fills 3 slots and advances head, "
        "txsync hands them to the NIC, the NIC completes 2, txsync, the NIC completes the "
        "last one, txsync:",
        trace(TX, TX.init(8), steps,
              ["head", "tail", "hwcur", "hwtail", "nic", "busy"], [("nm_ring_space", _space)]),
        "Completion is asynchronous for a NIC (`device_complete` is a separate step of "
        "another actor); for VALE ports and pipes it happens inside the sync, which the "
        "model does not cover yet.",
    ]


def _poll() -> list[str]:
    return [
        "## Poll readiness",
        "poll/select block while `ring->cur == ring->tail`; the kernel keeps the validated "
        "cur as `rcur` for that test. The model has the `rcur` field but no poll "
        "transition yet, so readiness, POLLOUT busy-looping and the implicit txsync of "
        "poll are not modelled and not proved.",
        quote(TX, "rcur"),
    ]


def render() -> str:
    body = [
        "The questions netmap users ask most about rings, answered from the model. Each "
        "answer quotes the model's rule (the invariant, transition or variable statement, "
        "taken from the model) and a worked example computed by running the model's "
        "concrete functions when these pages were generated. `violated` lists the "
        "invariants a state breaks; `none` means all hold.",
        *_q1(), *_q2(), *_q3(), *_q4(), *_q8(), *_q11(), *_poll(),
    ]
    return md.page("User questions", common.nav("user-questions.md"), body)

