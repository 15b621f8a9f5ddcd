"""Pictures of a ring across a netmap switch: the N descriptors by what holds them.

The switch models (:mod:`model.netmap_switch`, :mod:`model.netmap_switch_tx`) track
counts, not positions, so a row draws the ring in the order the models' FIFO invariants
give it: RX: the user's slots, the filled descriptors (stack mbufs first, they are the
older ones in netmap mode), the posted ones, the empty slot; TX: the user's slots, the
completed descriptors, the ones in flight (stack packets first), the free ones, the empty
slot; then the ring's netmap buffers still in the allocator.  Hatched cells hold a stack
mbuf; plain ones a netmap buffer.  Deterministic SVG, like
:mod:`ringspec.docgen.pictures`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from model import netmap_switch_tx as tx
from model.core import Machine
from model.netmap_switch import MODE_NAMES, SwitchRx
from model.netmap_switch_tx import SwitchTx
from ringspec.docgen import md, pictures

#: (label, colour, hatched) of each kind of cell, in drawing order.
RX_KINDS = {
    "user": ("user slot (netmap buffer)", "#a1d99b", False),
    "ready_m": ("filled, in an mbuf", "#fdae6b", True),
    "ready_n": ("filled, in a netmap buffer", "#fdae6b", False),
    "posted_m": ("posted, an mbuf", "#c6dbef", True),
    "posted_n": ("posted, a netmap buffer", "#c6dbef", False),
    "empty": ("the empty slot", "#d9d9d9", False),
    "pool": ("netmap buffer in the allocator", "#ffffff", False),
}


TX_KINDS = {
    "user": ("user slot (netmap buffer)", "#a1d99b", False),
    "done_m": ("completed, an mbuf", "#6baed6", True),
    "done_n": ("completed, a netmap buffer", "#6baed6", False),
    "flight_m": ("in flight, an mbuf", "#fdae6b", True),
    "flight_n": ("in flight, a netmap buffer", "#fdae6b", False),
    "free": ("free for the stack", "#f7f7f7", False),
    "empty": ("the empty slot", "#d9d9d9", False),
    "pool": ("netmap buffer in the allocator", "#ffffff", False),
}


def kinds(s: SwitchRx | SwitchTx) -> dict[str, tuple[str, str, bool]]:
    return RX_KINDS if isinstance(s, SwitchRx) else TX_KINDS


def cells(s: SwitchRx | SwitchTx) -> list[str]:
    """The ring's cells in drawing order (see the module docstring), then the pool."""
    order = [k for k in kinds(s) if k not in ("free", "empty", "pool")]
    out = [k for k in order for _ in range(getattr(s, k))]
    if isinstance(s, SwitchTx):
        out += ["free"] * tx.free_descriptors(s)
    return out + ["empty"] + ["pool"] * s.pool


def figure(
    name: str, rows: Sequence[tuple[str, SwitchRx | SwitchTx]], machine: Machine
) -> pictures.Figure:
    """One row per (caption, state), top to bottom; a state breaking an invariant of
    ``machine`` gets a red note naming them."""
    import matplotlib
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle

    n = max(s.n for _, s in rows)
    left, gap = 0.2, 0.6
    width = left + 2 * n + gap + 0.4
    row_h = 2.1
    legend_h = 1.6
    height = row_h * len(rows) + legend_h
    with matplotlib.rc_context(pictures._RC):
        fig = MplFigure(figsize=(width * pictures.UNIT, height * pictures.UNIT))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(-height, 0)
        ax.set_axis_off()
        for r, (caption, s) in enumerate(rows):
            top = -r * row_h
            link = "up" if s.link == 1 else "DOWN"
            ax.text(left, top - 0.3, f"{caption}   [mode {MODE_NAMES[s.mode]}, link {link}]",
                    ha="left", va="center", fontsize=9, fontweight="bold")
            broken = machine.violated(s)
            if broken:
                ax.text(left, top - 0.65, "invariants broken: " + ", ".join(broken),
                        fontsize=7.5, color="#b2182b", va="center")
            y0 = top - 1.9
            for i, kind in enumerate(cells(s)):
                x = left + i + (gap if i >= s.n else 0)
                _, colour, hatched = kinds(s)[kind]
                ax.add_patch(Rectangle((x, y0), 1, 1, facecolor=colour, edgecolor="#555555",
                                       linewidth=0.8, hatch="///" if hatched else None))
            ax.text(left + s.n + gap, y0 + 1.15, "allocator", fontsize=7, va="center")
            ax.text(left, y0 + 1.15, "NIC ring", fontsize=7, va="center")
        x = left
        y = -row_h * len(rows) - 0.5
        for label, colour, hatched in kinds(rows[0][1]).values():
            if x + 0.9 + 0.13 * len(label) > width:
                x, y = left, y - 0.55
            ax.add_patch(Rectangle((x, y - 0.2), 0.4, 0.4, facecolor=colour,
                                   edgecolor="#555555", hatch="///" if hatched else None))
            ax.text(x + 0.5, y, label, fontsize=6.5, va="center")
            x += 0.9 + 0.13 * len(label)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=pictures._METADATA)
    head, _, rest = buf.getvalue().partition("\n")
    ring = "RX" if isinstance(rows[0][1], SwitchRx) else "TX"
    alt = f"{ring} ring descriptors by kind: " + "; ".join(c for c, _ in rows)
    return pictures.record(pictures.Figure(name, alt, f"{head}\n{md.MARKER}\n{rest}"))


