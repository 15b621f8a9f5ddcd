"""The ownership page: netmap's rule, pictures of real ring states, the life of a slot
(Mermaid, grouped by owner, edges computed from the model), netmap_reset's effect."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from model import sources
from model.core import Machine
from model.netmap_ring import (
    RX,
    TX,
    NetmapRing,
    nm_sync_finalize,
    nm_txsync_prologue,
    rx_driver_sync,
    rx_regions,
    tx_driver_sync,
    tx_regions,
)
from model.netmap_sync import nm_rxsync_prologue
from ringspec.docgen import common, formulas, md, pictures, runs

REGIONS_FN = {TX.name: tx_regions, RX.name: rx_regions}

#: How a slot gets into each region and out of it, in words (the edges themselves are
#: computed by :func:`runs.region_moves`).
MEANING = {
    TX.name: {
        "pending": "published by the user (head moved past it), not yet handed to the NIC",
        "user": "free slots the user may fill: [head, tail) as the user sees it",
        "unshown": "reclaimed by the kernel, not yet shown to the user (empty after every "
                   "sync; netmap_reset fills it)",
        "gap": "slot hwtail: kept empty, never handed to anyone",
        "completed": "sent by the NIC, not yet reclaimed (hwtail has not moved past it)",
        "in_flight": "handed to the NIC (TDT moved past it), not yet sent",
    },
    RX.name: {
        "pending": "released by the user (head moved past it), not yet given back to the NIC",
        "user": "received packets the user holds: [head, tail) as the user sees it",
        "unshown": "received and reported by the driver, not yet shown (empty after every "
                   "sync)",
        "ready": "filled by the NIC, not yet reported (hwtail has not moved past it)",
        "free": "empty buffers the NIC may fill",
        "gap": "slot hwcur-1: kept empty, never given to the NIC",
    },
}

#: What each pointer is, with who writes it.  The letters (u)/(k) are netmap.h's.
POINTERS = {
    "head": "(u) written by the user: the first slot the user owns; the slots before it "
            "are handed to the kernel at the next sync",
    "cur": "(u) written by the user: the wake-up point; poll blocks while cur == tail",
    "tail": "(k) written by the kernel, read-only to the user: the first slot the kernel "
            "owns. A user who writes it is overruled by the next accepted prologue "
            "(\"tail overwritten\")",
    "hwcur": "kernel: TX: next slot to hand to the NIC; RX: next slot to give back to the "
             "NIC. Only the driver's sync and netmap_reset move it",
    "hwtail": "kernel: netmap_kern.h's \"first buffer owned by the kernel\". TX: that slot "
              "is also the gap, the one slot always kept empty; RX: the first slot not yet "
              "reported to the user",
    "rhead": "kernel: the head the last prologue stored (as-shipped RX stores it before "
             "validating it; reinit may adopt the user's value)",
    "rcur": "kernel: the cur the last prologue stored. Not a validated copy: as-shipped TX "
            "accepts a wrapped cur >= N, as-shipped RX stores cur before checking it, and "
            "the as-shipped reinit adopts the user's cur",
    "rtail": "kernel: the tail last shown to the user (finalize copies hwtail to it)",
    "nic": "device: the NIC's head register (TDH/RDH) in kring indices",
    "busy": "ghost (not in netmap): the slots the device owns, counted",
}


def slot_labels(s: NetmapRing, regions_fn: Callable[[NetmapRing], dict[str, Any]]) -> list[str]:
    """The region of every slot (:func:`pictures.slot_regions`); a state whose regions do
    not partition the ring is an error here."""
    direction = "tx" if regions_fn is tx_regions else "rx"
    labels = pictures.slot_regions(s, direction)
    if labels is None:
        raise ValueError(f"regions of {s!r} do not cover the ring once")
    return labels


# ---------------------------------------------------------------------------- diagram


def diagram(machine: Machine) -> str:
    """Mermaid flowchart, top-down, one subgraph per owner, an edge per computed move."""
    direction = runs.DIRECTION[machine.name]
    owners = pictures.REGION_OWNERS[direction]
    lines = ["flowchart TD"]
    for owner in ("user", "kernel", "NIC", "nobody"):
        lines.append(f'    subgraph owner_{owner}["{owner}"]')
        lines += [f'        {r}["{r.replace("_", " ")}"]' for r, o in owners.items() if o == owner]
        lines.append("    end")
    for (a, b), names in runs.region_moves(machine).items():
        lines.append(f'    {a} -->|"{", ".join(names)}"| {b}')
    return md.code("\n".join(lines), "mermaid")


def _region_table(machine: Machine) -> str:
    fn = REGIONS_FN[machine.name]
    owners = pictures.REGION_OWNERS[runs.DIRECTION[machine.name]]
    sizes = formulas.region_sizes(fn, NetmapRing)
    if list(sizes) != list(owners):
        raise ValueError(f"{fn.__name__} regions changed: {list(sizes)}")
    moves = runs.region_moves(machine)

    def edges(region: str, incoming: bool) -> str:
        out = []
        for (a, b), names in moves.items():
            if (b if incoming else a) == region:
                other = a if incoming else b
                out.append(f"{md.tick(other)} ({', '.join(names)})")
        return "; ".join(out)

    rows = [[md.tick(k), md.tick(sizes[k]), owners[k], MEANING[machine.name][k],
             edges(k, True), edges(k, False)] for k in owners]
    return md.table(["region", f"size ({fn.__name__})", "owner", "holds", "comes from",
                     "goes to"], rows)


SUBSTEP_DOC = {
    "nm_txsync_prologue": nm_txsync_prologue, "nm_rxsync_prologue": nm_rxsync_prologue,
    "txsync driver": tx_driver_sync, "rxsync driver": rx_driver_sync,
    "nm_sync_finalize": nm_sync_finalize,
}


def quote_doc(fn: Callable[..., Any]) -> str:
    """A model function's docstring (first paragraph) as a quote naming the function."""
    doc = md.prose(inspect.cleandoc(fn.__doc__ or "")).split("\n\n")[0].replace("\n", " ")
    return f"> `{fn.__module__}.{fn.__name__}`: {doc}"


def quote_transition(machine: Machine, name: str) -> str:
    """A transition's docstring as a quote linking its section of the machine page."""
    doc = md.prose(machine.transitions[name].doc).replace("\n", " ")
    return f"> {md.link(md.tick(name), f'{machine.name}.md', name)} ({machine.name}): {doc}"


def _substep_table(machine: Machine) -> str:
    """What each sub-step of the diagram does, in the model's own words."""
    rows = []
    for name, _ in runs.substeps(machine):
        if name in SUBSTEP_DOC:
            fn = SUBSTEP_DOC[name]
            doc = md.prose(inspect.cleandoc(fn.__doc__ or "")).split("\n\n")[0]
            where = f"`model.netmap_sync.{fn.__name__}`"
        else:
            doc = md.prose(machine.transitions[name].doc)
            where = md.link(md.tick(name), f"{machine.name}.md", name)
        rows.append([md.tick(name), where, doc.replace("\n", " ")])
    return md.table(["step", "in the model", "what it does (model docstring)"], rows)


def _movers(machine: Machine) -> str:
    """Which transitions change which pointer, read off the rendered effects."""
    changed: dict[str, list[str]] = {}
    for t in machine.transitions.values():
        for label, _ in formulas.transition(machine, t).items:
            if label.endswith("'"):
                changed.setdefault(label[:-1], []).append(t.name)
    rows = [[md.tick(p), md.prose(POINTERS[p]),
             ", ".join(md.tick(t) for t in changed.get(p, [])) or "none"] for p in POINTERS]
    return md.table(["pointer", "what it is", f"changed by ({machine.name})"], rows)


# ---------------------------------------------------------------------------- examples

TX_LIFE = [("user_advance", {"dh": 5, "dc": 0}), ("txsync_hardened", {"sent": 3}),
           ("device_complete", {"k": 2}), ("user_advance", {"dh": 1, "dc": 1}),
           ("txsync_hardened", {"sent": 8})]
RX_LIFE = [("device_deliver", {"k": 5}), ("rxsync_hardened", {"refill": 0}),
           ("user_advance", {"dh": 2, "dc": 1}), ("rxsync_hardened", {"refill": 8}),
           ("device_deliver", {"k": 2})]
TX_RESET = [("user_advance", {"dh": 5, "dc": 0}), ("txsync_hardened", {"sent": 3}),
            ("device_complete", {"k": 1})]
RX_RESET = [("device_deliver", {"k": 4}), ("rxsync_hardened", {"refill": 0}),
            ("user_advance", {"dh": 2, "dc": 0}), ("rxsync_hardened", {"refill": 1}),
            ("device_deliver", {"k": 2})]


def tx_example() -> tuple[list[str], NetmapRing]:
    rows = runs.run(TX, TX.init(8), TX_LIFE)
    return [f"{TX.name}.init(8)", *[c for c, _ in rows[1:]]], rows[-1][1]


def rx_example() -> tuple[list[str], NetmapRing]:
    rows = runs.run(RX, RX.init(8), RX_LIFE)
    return [f"{RX.name}.init(8)", *[c for c, _ in rows[1:]]], rows[-1][1]


def life_figure(machine: Machine, steps: runs.Steps, name: str) -> pictures.Figure:
    rows = runs.run(machine, machine.init(8), steps)
    rows[0] = (f"{machine.name}.init(8)", rows[0][1])
    return pictures.figure(name, rows, runs.DIRECTION[machine.name],
                           marks=("head", "cur", "tail", "hwcur", "hwtail", "rhead", "nic"))


def reset_rows(machine: Machine, steps: runs.Steps) -> list[tuple[str, NetmapRing]]:
    """The state ``steps`` lead to, and the same state after netmap_reset."""
    before = runs.run(machine, machine.init(8), steps)[-1][1]
    after = runs.run(machine, before, [("netmap_reset", {})])[-1][1]
    return [("before netmap_reset", before), ("after netmap_reset", after)]


def _moved(machine: Machine, rows: list[tuple[str, NetmapRing]]) -> str:
    direction = runs.DIRECTION[machine.name]
    a = pictures.slot_regions(rows[0][1], direction)
    b = pictures.slot_regions(rows[1][1], direction)
    assert a is not None and b is not None
    moved = [f"slot {i}: {x.replace('_', ' ')} -> {y.replace('_', ' ')}"
             for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return "; ".join(moved)


RESET_HWTAIL = sources.link("netmap_reset (TX hwtail)", "hwtail = nm_prev(rhead)")


def _reset_section(machine: Machine, steps: runs.Steps, text: str) -> list[str]:
    rows = reset_rows(machine, steps)
    fig = pictures.figure(f"ownership-{runs.DIRECTION[machine.name]}-reset", rows,
                          runs.DIRECTION[machine.name], marks=pictures.ALL_MARKS)
    return [
        text,
        md.code("\n".join(c for c, _ in runs.run(machine, machine.init(8), steps)[1:])
                + "\nnetmap_reset()"),
        fig.markdown,
        f"Computed slot moves: {_moved(machine, rows)}.",
    ]


# ---------------------------------------------------------------------------- page


def _invariants(machine: Machine, *ids: str) -> str:
    return "\n".join(
        f"- {md.link(md.tick(i), f'{machine.name}.md', i)}: {machine.invariants[i].sentence}"
        for i in ids)


def render() -> str:
    tx_life = life_figure(TX, TX_LIFE, "ownership-tx-life")
    rx_life = life_figure(RX, RX_LIFE, "ownership-rx-life")
    body = [
        "## The rule",
        f"netmap's rule ({sources.link('netmap_ring ownership', 'netmap.h')}, "
        f"{sources.link('netmap(4) RINGS', 'netmap(4)')}): **the user owns the slots "
        "[head, tail) and their buffers; every other slot belongs to the kernel.** The "
        "user moves head and cur forward, only forward; the kernel moves tail, and only "
        "inside a sync (ioctl or poll). Inside the kernel the slots outside [head, tail) "
        "are split further: some wait for the driver, some belong to the NIC, one is "
        "always empty. The pictures show these regions, computed by the model's "
        "`tx_regions` / `rx_regions` (green: the user's; blue: the kernel's; orange: the "
        "NIC's; grey: the empty slot).",
        "## TX: a ring of 8 slots, step by step",
        "Every row is the state after the step in its caption (all guards hold, all "
        "invariants hold):",
        tx_life.markdown,
        "The user owns only the green slots. After `user_advance` the published slots are "
        "still drawn as the user's: the kernel learns the new head at the next prologue, "
        "which is when they turn `pending`.",
        "## TX: the life of a slot",
        "Each arrow is a slot changing region in one step of the model: the three parts of "
        "a sync (prologue, driver, finalize), the device, and `netmap_reset`. The arrows "
        "are computed, not drawn by hand: every step applied to every state reachable by "
        "a well-behaved user on a ring of 4 slots, slot by slot.",
        diagram(TX),
        _region_table(TX),
        _substep_table(TX),
        "### netmap_reset on TX",
        *_reset_section(TX, TX_RESET, (
            f"When a driver reinitialises a NIC ring in netmap mode, "
            f"{sources.link('netmap_reset')} counts everything pending or in flight as "
            f"sent: hwcur = rhead and {RESET_HWTAIL}. The slot before rhead (the last "
            "pending or in-flight one) "
            "becomes the gap; every other slot the kernel or the NIC held, completed ones "
            "and the old gap included, becomes `unshown`: the user gets it at the next "
            "sync. The NIC restarts empty with its slot 0 at rhead (`nkr_hwofs = rhead`).")),
        "### What each pointer is, and who moves it",
        _movers(TX),
        "## RX: a ring of 8 slots, step by step",
        rx_life.markdown,
        "## RX: the life of a slot",
        diagram(RX),
        _region_table(RX),
        _substep_table(RX),
        "### netmap_reset on RX",
        *_reset_section(RX, RX_RESET, (
            f"{sources.link('netmap_reset')} on RX sets hwcur = rhead and leaves hwtail "
            "alone; the NIC's slot 0 maps to hwtail (`nkr_hwofs = hwtail`). Slots the user "
            "released but the driver had not refilled (`pending`) become free buffers, the "
            "last one the new gap; packets the NIC had filled but the driver had not "
            "reported (`ready`) are dropped, their slots free again. The user's slots "
            "[rhead, hwtail) do not move.")),
        "### What each pointer is, and who moves it",
        _movers(RX),
        "## Evidence",
        "The regions are a partition of the ring and exactly one slot is empty in every "
        "reachable state; the proofs check these for every N, adversarial users included:",
        _invariants(TX, "NM-TX-PARTITION", "NM-TX-ONE-SLOT-EMPTY"),
        _invariants(RX, "NM-RX-PARTITION", "NM-RX-ONE-SLOT-EMPTY"),
        f"Upstream: {sources.link('netmap_reset')}, {sources.link('nm_txsync_prologue')}, "
        f"{sources.link('nm_rxsync_prologue')}, {sources.link('nm_sync_finalize')}, "
        f"{sources.link('netmap_kring (nr_hwtail)', 'nr_hwtail')}, "
        f"{sources.link('struct netmap_ring (tail)', 'ring->tail (k)')}.",
    ]
    return md.page("Slot ownership", common.nav("ownership.md"), body)
