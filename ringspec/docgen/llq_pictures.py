"""The LLQ picture: where each descriptor of a packet lands in 128- and 256-byte LLQ entries,
drawn to scale (one cell = one 16-byte descriptor).

The placement comes from running the model (:mod:`model.ena_llq`): before each
``llq_put_desc`` the state's ``flushed`` (entries already written for the packet) and
``idx`` (descriptors in the bounce buffer) say which entry and which slot of it the
descriptor takes; ``llq_close`` writes the partial last entry.  The byte sizes (descriptor,
entry, the header room of a first entry) are the device layout's
(:mod:`impl.ena_defs.layouts`); the entry count is checked against
:func:`model.ena_llq.entries_needed`, ena_com_is_doorbell_needed's prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

from impl.ena_defs.layouts import DESC_SIZE, llq_descs_per_entry, llq_entry_dtype
from model.ena_llq import BEFORE_HEADER, LLQ, entries_needed, llq_init
from ringspec.docgen import pictures
from ringspec.docgen.cell_pictures import Cell, Row, draw
from ringspec.docgen.ena_pictures import step

LEGEND = {
    "desc": ("TX descriptor (16 B)", "#fdae6b"),
    "header": ("pushed packet header (first entry only)", "#a1d99b"),
    "unused": ("not used (the last entry is written partial)", "#f7f7f7"),
}


def header_room(entry_size: int) -> int:
    """Bytes of pushed header a packet's first entry holds (96 or 224)."""
    return llq_entry_dtype(entry_size)["header"].itemsize


def placement(entry_size: int, descs: int) -> tuple[list[tuple[int, int]], int]:
    """(entry, slot in the entry) of each descriptor, and the entries the packet wrote,
    from a run of the model."""
    s = llq_init(2, dpe=llq_descs_per_entry(entry_size))
    s = step(LLQ, s, "llq_begin_packet", descs=descs)
    where = []
    for _ in range(descs):
        where.append((s.flushed, s.idx))
        s = step(LLQ, s, "llq_put_desc")
    written = s.flushed + (1 if s.idx else 0)
    if written != entries_needed(descs, s.dpe):
        raise ValueError(f"{descs} descriptors wrote {written} entries, the model predicts "
                         f"{entries_needed(descs, s.dpe)}")
    step(LLQ, s, "llq_close")
    return where, written


def packet_row(entry_size: int, descs: int) -> Row:
    where, written = placement(entry_size, descs)
    dpe = llq_descs_per_entry(entry_size)
    slots: dict[tuple[int, int], int] = {e_i: j + 1 for j, e_i in enumerate(where)}
    cells: list[Cell] = []
    marks: list[tuple[int, str]] = []
    gaps: list[int] = []
    for e in range(written):
        if e:
            gaps.append(len(cells))
        marks.append((len(cells), f"entry {e}"))
        width = BEFORE_HEADER if e == 0 else dpe
        for i in range(width):
            j = slots.get((e, i))
            cells.append(Cell("desc", text=f"d{j}") if j else Cell("unused"))
        if e == 0:
            room = header_room(entry_size)
            cells.append(Cell("header", text=f"header ≤ {room} B", span=room / DESC_SIZE))
    return Row(f"{entry_size} B entries ({dpe} descriptors each): a packet of {descs} "
               "descriptors", tuple(cells), tuple(marks),
               aside=f"{written} entries", gaps=tuple(gaps))


def figure(packets: Sequence[tuple[int, int]], name: str = "ena-llq-entries") -> pictures.Figure:
    """One row per (entry size, descriptors) packet."""
    rows = [packet_row(size, descs) for size, descs in packets]
    return draw(name, "LLQ entries: " + "; ".join(r.caption for r in rows), rows, LEGEND,
                cell_w=0.6, aside_w=2.5)
