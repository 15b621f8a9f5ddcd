"""Rows of labelled cells: the drawing behind the ENA pictures (queues, request ids, LLQ
entries), on a :func:`ringspec.docgen.pictures.canvas`.

A picture is a sequence of :class:`Row` top to bottom; a row is a caption, an optional red
note (the invariants the state breaks), its cells left to right, and pointer labels drawn
under the cells they point at.  A cell's ``kind`` picks its colour from the legend, which
is drawn at the bottom in the legend's order.  The module knows nothing about ENA: callers
build the rows from model states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ringspec.docgen import pictures

RED = "#b2182b"
POINTER = "#1f4e8c"


@dataclass(frozen=True)
class Cell:
    """One box: ``kind`` (a legend key), ``top`` (small, grey: an index), ``text`` (the
    middle line), ``sub`` (a second, smaller line), and its width in cells."""

    kind: str
    text: str = ""
    top: str = ""
    sub: str = ""
    span: float = 1.0


@dataclass(frozen=True)
class Row:
    """A caption, the cells, ``marks`` as (cell index, label) drawn under that cell (a label
    may have several lines), an optional red ``note`` and a grey ``aside`` to the right."""

    caption: str
    cells: tuple[Cell, ...]
    marks: tuple[tuple[int, str], ...] = ()
    note: str = ""
    aside: str = ""
    gaps: tuple[int, ...] = field(default=())  # cell indices preceded by a small gap


LINE = 0.32  # height of one text line of a pointer label, in cell units
GAP = 0.35


def _lines_below(row: Row) -> int:
    at: dict[int, int] = {}
    for i, label in row.marks:
        at[i] = at.get(i, 0) + label.count("\n") + 1
    return max(at.values(), default=0)


def _positions(row: Row, cell_w: float, left: float) -> list[float]:
    xs, x = [], left
    for i, c in enumerate(row.cells):
        x += GAP if i in row.gaps else 0.0
        xs.append(x)
        x += c.span * cell_w
    return xs


def _row_width(row: Row, cell_w: float) -> float:
    return sum(c.span for c in row.cells) * cell_w + GAP * len(row.gaps)


def draw(
    name: str,
    alt: str,
    rows: Sequence[Row],
    legend: Mapping[str, tuple[str, str]],
    *,
    cell_w: float = 1.0,
    aside_w: float = 0.0,
) -> pictures.Figure:
    """The picture of ``rows``; ``legend`` maps a cell kind to (label, fill colour);
    ``aside_w`` is the room kept right of the widest row for the asides."""
    from matplotlib.patches import FancyArrow, Rectangle

    if not rows:
        raise ValueError("a picture needs at least one row")
    unknown = sorted({c.kind for r in rows for c in r.cells} - set(legend))
    if unknown:
        raise ValueError(f"cell kinds {unknown} are not in the legend")
    left = 0.2
    width = left + max(_row_width(r, cell_w) for r in rows) + aside_w + 0.4
    heights = [0.6 + (0.35 if r.note else 0) + 1.1
               + (LINE * _lines_below(r) + 0.45 if r.marks else 0.1) + 0.2 for r in rows]
    legend_lines = _legend_lines(legend, width - left)
    height = sum(heights) + 0.3 + 0.55 * len(legend_lines)
    with pictures.canvas(width, height) as cv:
        ax = cv.ax
        top = 0.0
        for row, h in zip(rows, heights, strict=True):
            ax.text(left, top - 0.3, row.caption, ha="left", va="center", fontsize=9,
                    fontweight="bold")
            y1 = top - 0.6  # top edge of the cells' index line
            if row.note:
                ax.text(left, top - 0.65, row.note, ha="left", va="center", fontsize=7.5,
                        color=RED)
                y1 -= 0.35
            y0 = y1 - 1.1  # bottom edge of the cells
            xs = _positions(row, cell_w, left)
            for x, c in zip(xs, row.cells, strict=True):
                w = c.span * cell_w
                ax.add_patch(Rectangle((x, y0), w, 0.8, facecolor=legend[c.kind][1],
                                       edgecolor="#555555", linewidth=0.8))
                if c.top:
                    ax.text(x + w / 2, y0 + 0.95, c.top, ha="center", va="center",
                            fontsize=6.5, color="#555555")
                if c.text:
                    ax.text(x + w / 2, y0 + (0.52 if c.sub else 0.4), c.text, ha="center",
                            va="center", fontsize=7)
                if c.sub:
                    ax.text(x + w / 2, y0 + 0.2, c.sub, ha="center", va="center",
                            fontsize=6)
            if row.aside:
                ax.text(left + _row_width(row, cell_w) + 0.3, y0 + 0.4, row.aside,
                        ha="left", va="center", fontsize=7, color="#555555")
            _marks(ax, FancyArrow, row, xs, cell_w, y0)
            top -= h
        y = top - 0.3
        for line in legend_lines:
            x = left
            for label, colour, w in line:
                ax.add_patch(Rectangle((x, y - 0.2), 0.4, 0.4, facecolor=colour,
                                       edgecolor="#555555", linewidth=0.6))
                ax.text(x + 0.55, y, label, ha="left", va="center", fontsize=7)
                x += w
            y -= 0.55
    return pictures.named(name, alt, cv.svg)


def _marks(ax: Any, arrow: Any, row: Row, xs: list[float], cell_w: float,
           y0: float) -> None:
    """Labels stacked under their cell, one arrow per cell pointed at."""
    stacked: dict[int, int] = {}
    for i, label in row.marks:
        x = xs[i] + row.cells[i].span * cell_w / 2
        k = stacked.get(i, 0)
        if k == 0:
            ax.add_patch(arrow(x, y0 - 0.4, 0, 0.3, width=0.03, head_width=0.2,
                               head_length=0.12, length_includes_head=True, color=POINTER))
        for j, line in enumerate(label.split("\n")):
            ax.text(x, y0 - 0.58 - (k + j) * LINE, line, ha="center", va="center",
                    fontsize=7, color=POINTER)
        stacked[i] = k + label.count("\n") + 1


def _legend_lines(legend: Mapping[str, tuple[str, str]],
                  room: float) -> list[list[tuple[str, str, float]]]:
    lines: list[list[tuple[str, str, float]]] = [[]]
    for label, colour in legend.values():
        w = 0.9 + 0.14 * len(label)
        if lines[-1] and sum(e[2] for e in lines[-1]) + w > room:
            lines.append([])
        lines[-1].append((label, colour, w))
    return lines
