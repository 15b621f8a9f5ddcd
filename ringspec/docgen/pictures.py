"""Ring pictures: one row of slots per ring state, coloured by owner region, as SVG.

API (small and stable; pages only need :func:`figure` and :attr:`Figure.markdown`)::

    fig = pictures.figure("tx-send", [("before", s0), ("after txsync", s1)], "tx")
    fig.markdown   # '![...](img/tx-send.svg)': put it in the page
    fig.svg        # the image itself (str)
    fig.path       # 'img/tx-send.svg', relative to docs/

* ``rows`` is a sequence of ``(caption, NetmapRing)`` with concrete ints; each becomes one
  row, top to bottom, so a sequence of states (before/after each step) reads downwards.
* ``direction`` is ``"tx"`` or ``"rx"``: the slot regions are the model's own
  :func:`model.netmap_state.tx_regions` / :func:`~model.netmap_state.rx_regions`, walked
  in ring order from ``hwcur``; nothing here recomputes them.  A state that breaks an
  invariant of the direction's machine (:data:`model.netmap_ring.TX` / ``RX``) gets a red
  note under its caption naming the invariants; if its regions do not even cover the ring
  exactly once, its slots are drawn hatched and uncoloured.
* ``marks`` picks the pointers drawn: user pointers (head, cur, tail) above the slots,
  kernel and device pointers (hwcur, hwtail, rhead, rcur, rtail, nic) below.  A value that
  is not a slot index (>= N, as an adversarial user writes) is printed to the right of the
  ring.
* ``alt`` is the image's alt text (default: the captions).

Inside :func:`collecting` every figure made is also recorded (path -> SVG);
``ringspec.docgen.pages()`` collects them that way and ``generate()`` writes them next to
the pages as ``docs/img/<name>.svg``, removing stale generated images like stale pages.
Two figures may not share a name unless they are identical.

Output is deterministic: fixed figure sizes (from N and the number of rows), the bundled
DejaVu Sans font, text kept as text (``svg.fonttype = 'none'``), a fixed ``svg.hashsalt``
and no date in the metadata; the second line of every SVG is :data:`md.MARKER`.  The bytes
depend on the matplotlib version, which the ``docs`` extra pins.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from model.netmap_ring import RX, TX
from model.netmap_state import NetmapRing, rx_regions, tx_regions
from ringspec.docgen import md

IMG_DIR = "img"

REGIONS = {"tx": tx_regions, "rx": rx_regions}
MACHINES = {"tx": TX, "rx": RX}

#: Who holds a slot of each region (the model's region docstring, model/netmap_ring.py).
REGION_OWNERS: dict[str, dict[str, str]] = {
    "tx": {"pending": "kernel", "user": "user", "unshown": "kernel", "gap": "nobody",
           "completed": "kernel", "in_flight": "NIC"},
    "rx": {"pending": "kernel", "user": "user", "unshown": "kernel", "ready": "kernel",
           "free": "NIC", "gap": "nobody"},
}

#: Fill colour of each region: green for the user, blues for the kernel, orange for the
#: NIC, grey for the empty slot; an inconsistent row is white and hatched.
COLOURS = {
    "user": "#a1d99b", "pending": "#c6dbef", "unshown": "#dadaeb", "completed": "#6baed6",
    "ready": "#6baed6", "in_flight": "#fdae6b", "free": "#fdae6b", "gap": "#d9d9d9",
}
SHORT = {"user": "user", "pending": "pend", "unshown": "unsh", "completed": "done",
         "ready": "ready", "in_flight": "NIC", "free": "free", "gap": "gap"}

USER_MARKS = ("head", "cur", "tail")
KERNEL_MARKS = ("hwcur", "hwtail", "rhead", "rcur", "rtail", "nic")
DEFAULT_MARKS = ("head", "cur", "tail", "hwcur", "hwtail")
ALL_MARKS = USER_MARKS + KERNEL_MARKS
MARK_COLOURS = {"user": "#2b7a2b", "kernel": "#1f4e8c", "nic": "#b35806"}

_RC = {
    "svg.hashsalt": "ringspec",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "path.simplify": False,
}
_METADATA = {"Date": None, "Creator": "ringspec docs"}

UNIT = 0.42  # inches per slot
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")

_collector: ContextVar[dict[str, str] | None] = ContextVar("ringspec_pictures", default=None)


@dataclass(frozen=True)
class Figure:
    """A generated picture: its name, alt text and SVG."""

    name: str
    alt: str
    svg: str

    @property
    def path(self) -> str:
        return f"{IMG_DIR}/{self.name}.svg"

    @property
    def markdown(self) -> str:
        return f"![{self.alt}]({self.path})"


@contextmanager
def collecting() -> Iterator[dict[str, str]]:
    """Record every figure made inside the block: path -> SVG."""
    images: dict[str, str] = {}
    token = _collector.set(images)
    try:
        yield images
    finally:
        _collector.reset(token)


def slot_regions(s: NetmapRing, direction: str) -> list[str] | None:
    """The region of every slot, walking the model's regions in ring order from hwcur;
    None when they do not cover the ring exactly once (or a kernel index is not a slot)."""
    n = s.n
    if not all(0 <= getattr(s, f) < n for f in KERNEL_MARKS):
        return None
    sizes = REGIONS[direction](s)
    if sum(sizes.values()) != n or any(v < 0 for v in sizes.values()):
        return None
    labels: list[str] = []
    for name, size in sizes.items():
        labels += [name] * size
    return labels[n - s.hwcur:] + labels[: n - s.hwcur]


def figure(
    name: str,
    rows: Sequence[tuple[str, NetmapRing]],
    direction: str,
    *,
    marks: Sequence[str] = DEFAULT_MARKS,
    alt: str | None = None,
) -> Figure:
    """Draw ``rows`` (caption, state) top to bottom; see the module docstring."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"picture name {name!r}: use lower-case letters, digits and -")
    if direction not in REGIONS:
        raise ValueError(f"direction {direction!r}: 'tx' or 'rx'")
    if not rows:
        raise ValueError("a picture needs at least one row")
    unknown = [m for m in marks if m not in ALL_MARKS]
    if unknown:
        raise ValueError(f"unknown pointers {unknown}")
    text = alt if alt is not None else (
        f"{direction.upper()} ring: " + "; ".join(c for c, _ in rows))
    fig = Figure(name, text.replace("[", "(").replace("]", ")"), _svg(rows, direction, marks))
    return record(fig)


def record(fig: Figure) -> Figure:
    """Record a picture made elsewhere (e.g. the benchmark plot) like :func:`figure` does."""
    images = _collector.get()
    if images is not None:
        if images.get(fig.path, fig.svg) != fig.svg:
            raise ValueError(f"two different pictures named {fig.name!r}")
        images[fig.path] = fig.svg
    return fig


class Canvas:
    """A blank drawing area in slot units (x right, y up from ``-height`` to 0), for
    pictures that are not a netmap ring; :func:`canvas` fills :attr:`svg` on exit."""

    def __init__(self, ax: Any) -> None:
        self.ax = ax
        self.svg = ""


@contextmanager
def canvas(width: float, height: float) -> Iterator[Canvas]:
    """Draw on ``canvas.ax`` inside the block; on exit ``canvas.svg`` holds the picture,
    deterministic and marked like :func:`figure`'s (same settings, :data:`md.MARKER` on the
    second line)."""
    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    with matplotlib.rc_context(_RC):
        fig = MplFigure(figsize=(width * UNIT, height * UNIT))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(-height, 0)
        ax.set_axis_off()
        c = Canvas(ax)
        yield c
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=_METADATA)
    head, _, rest = buf.getvalue().partition("\n")
    c.svg = f"{head}\n{md.MARKER}\n{rest}"


def named(name: str, alt: str, svg: str) -> Figure:
    """A :class:`Figure` made on a :func:`canvas`, checked and recorded like
    :func:`figure`'s."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"picture name {name!r}: use lower-case letters, digits and -")
    return record(Figure(name, alt.replace("[", "(").replace("]", ")"), svg))


# ---------------------------------------------------------------------------- drawing


def _stacks(s: NetmapRing, names: Sequence[str]) -> tuple[dict[int, list[str]], list[str]]:
    """Pointer names by the slot they point at, and the ones that are not slots."""
    at: dict[int, list[str]] = {}
    outside = []
    for p in names:
        v = getattr(s, p)
        if 0 <= v < s.n:
            at.setdefault(v, []).append(p)
        else:
            outside.append(f"{p} = {v}")
    return at, outside


def _row_layout(rows: Sequence[tuple[str, NetmapRing]], marks: Sequence[str]) -> tuple:
    user = [m for m in marks if m in USER_MARKS]
    kern = [m for m in marks if m in KERNEL_MARKS]
    up = max([len(v) for _, s in rows for v in _stacks(s, user)[0].values()] + [0])
    down = max([len(v) for _, s in rows for v in _stacks(s, kern)[0].values()] + [0])
    return user, kern, up, down


LINE = 0.34  # height of one pointer label, in slot units


def _svg(rows: Sequence[tuple[str, NetmapRing]], direction: str, marks: Sequence[str]) -> str:
    import matplotlib
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import FancyArrow, Rectangle

    user, kern, up, down = _row_layout(rows, marks)
    n = max(s.n for _, s in rows)
    left, right = 0.2, 3.2  # room for out-of-ring pointer values on the right
    broken = [MACHINES[direction].violated(s) for _, s in rows]
    note = 0.4 if any(broken) else 0.0
    above = 0.55 + note + (LINE * up + 0.45 if up else 0.1)
    below = (LINE * down + 0.45) if down else 0.2
    row_h = above + 1 + below + 0.25
    width = left + n + right
    legend = _legend_lines(direction, width - left)
    legend_h = 0.3 + 0.55 * len(legend)
    height = row_h * len(rows) + legend_h

    with matplotlib.rc_context(_RC):
        fig = MplFigure(figsize=(width * UNIT, height * UNIT))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(-height, 0)
        ax.set_axis_off()

        for r, (caption, s) in enumerate(rows):
            top = -r * row_h
            regions = slot_regions(s, direction)
            ax.text(left, top - 0.3, caption, ha="left", va="center", fontsize=9,
                    fontweight="bold")
            if broken[r]:
                ax.text(left, top - 0.7, "invariants broken: " + ", ".join(broken[r])
                        + ("" if regions else " (regions overlap)"), ha="left",
                        va="center", fontsize=7.5, color="#b2182b")
            y0 = top - above - 1  # bottom edge of the slots
            for i in range(s.n):
                region = regions[i] if regions else None
                ax.add_patch(Rectangle(
                    (left + i, y0), 1, 1, facecolor=COLOURS.get(region, "white"),
                    edgecolor="#555555", linewidth=0.8,
                    hatch="//" if region is None else None,
                ))
                ax.text(left + i + 0.5, y0 + 0.8, str(i), ha="center", va="center",
                        fontsize=6.5, color="#555555")
                if region:
                    ax.text(left + i + 0.5, y0 + 0.38, SHORT[region], ha="center",
                            va="center", fontsize=7)
            _pointers(ax, FancyArrow, s, user, left, y0 + 1, +1, MARK_COLOURS["user"])
            _pointers(ax, FancyArrow, s, kern, left, y0, -1, MARK_COLOURS["kernel"])
            outside = _stacks(s, user)[1] + _stacks(s, kern)[1]
            for k, label in enumerate(outside):
                ax.text(left + s.n + 0.25, y0 + 0.75 - k * LINE, f"{label} (not a slot)",
                        ha="left", va="center", fontsize=7.5, color="#b2182b")
        for k, line in enumerate(legend):
            _legend(ax, Rectangle, line, left, -row_h * len(rows) - 0.3 - 0.55 * k)

        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=_METADATA)
    head, _, rest = buf.getvalue().partition("\n")
    return f"{head}\n{md.MARKER}\n{rest}"


def _pointers(ax: Any, arrow: Any, s: NetmapRing, names: Sequence[str], left: float,
              edge: float, sign: int, colour: str) -> None:
    """Labels stacked away from the slot row (sign +1 above, -1 below), one arrow each."""
    at, _ = _stacks(s, names)
    for slot, labels in sorted(at.items()):
        x = left + slot + 0.5
        ax.add_patch(arrow(x, edge + sign * 0.4, 0, -sign * 0.3, width=0.03,
                           head_width=0.2, head_length=0.12, length_includes_head=True,
                           color=colour))
        for k, label in enumerate(labels):
            y = edge + sign * (0.58 + k * LINE)
            c = MARK_COLOURS["nic"] if label == "nic" else colour
            ax.text(x, y, label, ha="center", va="center", fontsize=7.5, color=c)


def _legend_entry(region: str, owner: str) -> tuple[str, str, float]:
    label = f"{region.replace('_', ' ')} ({owner})"
    return region, label, 0.9 + 0.14 * len(label)


def _legend_lines(direction: str, room: float) -> list[list[tuple[str, str, float]]]:
    """The legend entries, wrapped into lines that fit ``room`` slot widths."""
    lines: list[list[tuple[str, str, float]]] = [[]]
    for region, owner in REGION_OWNERS[direction].items():
        entry = _legend_entry(region, owner)
        if lines[-1] and sum(e[2] for e in lines[-1]) + entry[2] > room:
            lines.append([])
        lines[-1].append(entry)
    return lines


def _legend(ax: Any, rect: Any, line: list[tuple[str, str, float]], left: float,
            y: float) -> None:
    x = left
    for region, label, w in line:
        ax.add_patch(rect((x, y - 0.2), 0.4, 0.4, facecolor=COLOURS[region],
                          edgecolor="#555555", linewidth=0.6))
        ax.text(x + 0.55, y, label, ha="left", va="center", fontsize=7)
        x += w
