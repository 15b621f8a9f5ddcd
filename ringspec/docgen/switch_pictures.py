"""Pictures of an RX ring across a netmap switch: the N descriptors by what holds them.

The switch model (:mod:`model.netmap_switch`) tracks counts, not positions, so a row draws
the ring in the order the model's FIFO invariant gives it: the user's slots, the filled
descriptors (stack mbufs first, they are the older ones in netmap mode), the posted ones,
and the empty slot; then the ring's netmap buffers still in the allocator.  Hatched cells
hold a stack mbuf; plain ones a netmap buffer.  Deterministic SVG, like
:mod:`ringspec.docgen.pictures`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from model.core import Machine
from model.netmap_switch import MODE_NAMES, SwitchRx
from ringspec.docgen import md, pictures

#: (label, colour, hatched) of each kind of cell, in drawing order.
KINDS = {
    "user": ("user slot (netmap buffer)", "#a1d99b", False),
    "ready_m": ("filled, in an mbuf", "#fdae6b", True),
    "ready_n": ("filled, in a netmap buffer", "#fdae6b", False),
    "posted_m": ("posted, an mbuf", "#c6dbef", True),
    "posted_n": ("posted, a netmap buffer", "#c6dbef", False),
    "empty": ("the empty slot", "#d9d9d9", False),
    "pool": ("netmap buffer in the allocator", "#ffffff", False),
}


def cells(s: SwitchRx) -> list[str]:
    """The ring's cells in drawing order (see the module docstring), then the pool."""
    order = ["user", "ready_m", "ready_n", "posted_m", "posted_n"]
    out = [k for k in order for _ in range(getattr(s, k))]
    return out + ["empty"] + ["pool"] * s.pool


def figure(name: str, rows: Sequence[tuple[str, SwitchRx]], machine: Machine) -> pictures.Figure:
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
                _, colour, hatched = KINDS[kind]
                ax.add_patch(Rectangle((x, y0), 1, 1, facecolor=colour, edgecolor="#555555",
                                       linewidth=0.8, hatch="///" if hatched else None))
            ax.text(left + s.n + gap, y0 + 1.15, "allocator", fontsize=7, va="center")
            ax.text(left, y0 + 1.15, "NIC ring", fontsize=7, va="center")
        x = left
        y = -row_h * len(rows) - 0.5
        for label, colour, hatched in KINDS.values():
            if x + 0.9 + 0.13 * len(label) > width:
                x, y = left, y - 0.55
            ax.add_patch(Rectangle((x, y - 0.2), 0.4, 0.4, facecolor=colour,
                                   edgecolor="#555555", hatch="///" if hatched else None))
            ax.text(x + 0.5, y, label, fontsize=6.5, va="center")
            x += 0.9 + 0.13 * len(label)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=pictures._METADATA)
    head, _, rest = buf.getvalue().partition("\n")
    alt = "RX ring descriptors by kind: " + "; ".join(c for c, _ in rows)
    return pictures.record(pictures.Figure(name, alt, f"{head}\n{md.MARKER}\n{rest}"))


