"""The ownership page: slot life cycles (Mermaid), region sizes, concrete pictures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model.core import Machine
from model.netmap_ring import RX, TX, NetmapRing, rx_regions, tx_regions
from ringspec.docgen import common, formulas, md

#: Regions of each direction: (owner, how a slot gets in, how it gets out).
TX_REGIONS = {
    "pending": ("kernel", "the prologue copies the user's head to rhead",
                "the driver advances hwcur"),
    "user": ("user", "finalize copies hwtail to rtail (and ring->tail)",
             "the user advances head; the next prologue copies it to rhead"),
    "unshown": ("kernel", "reclaim moves hwtail past it", "finalize copies hwtail to rtail"),
    "gap": ("nobody", "reclaim sets hwtail = prev(nic)", "the next reclaim moves hwtail on"),
    "completed": ("kernel", "the NIC advances nic", "reclaim moves hwtail past it"),
    "in_flight": ("NIC", "the driver advances hwcur", "the NIC advances nic"),
}
RX_REGIONS = {
    "pending": ("kernel", "the prologue copies the user's head to rhead",
                "the driver's refill advances hwcur"),
    "user": ("user", "finalize copies hwtail to rtail (and ring->tail)",
             "the user advances head; the next prologue copies it to rhead"),
    "unshown": ("kernel", "the driver sets hwtail = nic", "finalize copies hwtail to rtail"),
    "ready": ("kernel", "the NIC advances nic (a packet arrived)", "the driver sets hwtail = nic"),
    "free": ("NIC", "refill advances hwcur past it", "the NIC advances nic"),
    "gap": ("nobody", "refill advances hwcur to the slot after it",
            "the next refill advances hwcur"),
}

#: Life cycle edges: (from, to, label).  Labels name the model's transitions.
TX_EDGES = (
    ("user", "pending", "user_advance, then txsync sets rhead = head"),
    ("pending", "in_flight", "txsync driver advances hwcur"),
    ("in_flight", "completed", "device_complete advances nic"),
    ("completed", "unshown", "txsync reclaim sets hwtail = prev(nic)"),
    ("completed", "gap", "txsync reclaim, the last completed slot"),
    ("gap", "unshown", "the next reclaim moves hwtail on"),
    ("unshown", "user", "nm_sync_finalize sets rtail = hwtail"),
    ("pending", "unshown", "netmap_reset counts it as sent"),
    ("in_flight", "unshown", "netmap_reset counts it as sent"),
)
RX_EDGES = (
    ("free", "ready", "device_deliver advances nic"),
    ("ready", "unshown", "rxsync driver sets hwtail = nic"),
    ("unshown", "user", "nm_sync_finalize sets rtail = hwtail"),
    ("user", "pending", "user_advance, then rxsync sets rhead = head"),
    ("pending", "free", "rxsync refill advances hwcur"),
    ("pending", "gap", "rxsync refill, the last refilled slot"),
    ("gap", "free", "the next refill moves hwcur on"),
    ("ready", "free", "netmap_reset drops unreported packets"),
)

POINTERS_KERNEL = ("hwcur", "rhead", "rtail", "hwtail", "nic")
POINTERS_USER = ("head", "cur", "tail")


def slot_labels(s: NetmapRing, regions_fn: Callable[[NetmapRing], dict[str, Any]]) -> list[str]:
    """The region of every slot, walking the regions in ring order from hwcur."""
    labels = ["?"] * s.n
    pos = s.hwcur
    for name, size in regions_fn(s).items():
        for _ in range(size):
            labels[pos % s.n] = name
            pos += 1
    if pos - s.hwcur != s.n:
        raise ValueError(f"regions of {s!r} do not cover the ring once")
    return labels


def picture(s: NetmapRing, regions_fn: Callable[[NetmapRing], dict[str, Any]]) -> str:
    """A row of N cells labelled by region, with the kernel's and the user's pointers."""
    labels = slot_labels(s, regions_fn)

    def marks(names: tuple[str, ...], slot: int) -> str:
        return ", ".join(p for p in names if getattr(s, p) == slot)

    rows = [
        ["**region**", *[lab.replace("_", " ") for lab in labels]],
        ["kernel / NIC", *[marks(POINTERS_KERNEL, i) for i in range(s.n)]],
        ["user", *[marks(POINTERS_USER, i) for i in range(s.n)]],
    ]
    return md.table(["slot", *[str(i) for i in range(s.n)]], rows, "l" + "c" * s.n)


def _diagram(edges: tuple[tuple[str, str, str], ...], regions: dict) -> str:
    lines = ["stateDiagram-v2", "    direction LR"]
    for name in regions:
        if "_" in name:
            lines.append(f'    state "{name.replace("_", " ")}" as {name}')
    lines += [f"    {a} --> {b}: {label}" for a, b, label in edges]
    return md.code("\n".join(lines), "mermaid")


def _region_table(machine: Machine, fn: Callable, regions: dict) -> str:
    sizes = formulas.region_sizes(fn, NetmapRing)
    if list(sizes) != list(regions):
        raise ValueError(f"{fn.__name__} regions changed: {list(sizes)}")
    rows = [[md.tick(k), md.tick(sizes[k]), *regions[k]] for k in regions]
    return md.table(["region", f"size ({fn.__name__})", "owner", "a slot enters when",
                     "and leaves when"], rows)


def _movers(machine: Machine) -> str:
    """Which transitions change which pointer, read off the rendered effects."""
    rows = []
    changed: dict[str, list[str]] = {}
    for t in machine.transitions.values():
        for label, _ in formulas.transition(machine, t).items:
            if label.endswith("'"):
                changed.setdefault(label[:-1], []).append(t.name)
    owners = {v.name: v.owner for v in machine.vars}
    for p in POINTERS_USER + POINTERS_KERNEL + ("rcur", "busy"):
        rows.append([md.tick(p), owners[p],
                     ", ".join(md.tick(t) for t in changed.get(p, [])) or "none"])
    return md.table(["pointer", "owner", f"changed by ({machine.name})"], rows)


def tx_example() -> tuple[list[str], NetmapRing]:
    steps = [("user_advance", {"dh": 4, "dc": 0}), ("txsync_hardened", {"sent": 3}),
             ("device_complete", {"k": 2}), ("user_advance", {"dh": 1, "dc": 1})]
    return _run(TX, steps)


def rx_example() -> tuple[list[str], NetmapRing]:
    steps = [("device_deliver", {"k": 5}), ("rxsync_hardened", {"refill": 0}),
             ("user_advance", {"dh": 2, "dc": 1}), ("rxsync_hardened", {"refill": 1}),
             ("device_deliver", {"k": 1})]
    return _run(RX, steps)


def _run(machine: Machine, steps: list[tuple[str, dict]]) -> tuple[list[str], NetmapRing]:
    """Apply legal steps from ``init(8)``; the lines say what was done."""
    s = machine.init(8)
    lines = [f"{machine.name}.init(8)"]
    for name, args in steps:
        step = machine.transitions[name](s, **args)
        if step.guard is not True or machine.violated(step.post):
            raise ValueError(f"example step {name}{args} is not legal")
        s = step.post
        lines.append(f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})")
    return lines, s


def render() -> str:
    tx_steps, tx_state = tx_example()
    rx_steps, rx_state = rx_example()
    body = [
        "Going forward from `hwcur`, every slot of a ring is in exactly one region; the "
        "invariants `NM-TX-PARTITION`/`NM-RX-PARTITION` and `NM-TX-ONE-SLOT-EMPTY`/"
        "`NM-RX-ONE-SLOT-EMPTY` say so, and the proofs check it for every N. Region sizes "
        "are printed from the model's region functions; a slot moves from one region to "
        "the next only when one of the pointers moves.",
        "## TX: the life of a slot",
        _diagram(TX_EDGES, TX_REGIONS),
        _region_table(TX, tx_regions, TX_REGIONS),
        "`unshown` is empty after every sync (finalize copies hwtail to rtail in the same "
        "step); `netmap_reset` can leave it non-empty until the next sync.",
        "### Who moves each boundary",
        _movers(TX),
        "### Example: a TX ring of 8 slots",
        "After these steps of the model (all guards hold, all invariants hold):",
        md.code("\n".join(tx_steps)),
        md.code(repr(tx_state)),
        picture(tx_state, tx_regions),
        "## RX: the life of a slot",
        _diagram(RX_EDGES, RX_REGIONS),
        _region_table(RX, rx_regions, RX_REGIONS),
        "### Who moves each boundary",
        _movers(RX),
        "### Example: an RX ring of 8 slots",
        "After these steps of the model:",
        md.code("\n".join(rx_steps)),
        md.code(repr(rx_state)),
        picture(rx_state, rx_regions),
    ]
    return md.page("Slot ownership", common.nav("ownership.md"), body)
