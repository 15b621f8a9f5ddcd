"""The ENA pictures and the RSS page: byte-for-byte deterministic, drawn from states the
model reaches (the cells count what the model counts), the refusals record the reasons the
model's own rules expect, the LLQ layout agrees with the ena_llq page's worked example, and
the RSS page's numbers are the simulated device's and Microsoft's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from support.frames import MS_IPV4, MS_IPV6

import model
from impl.ena_defs.layouts import DESC_SIZE, LLQ_ENTRY_SIZES, llq_descs_per_entry
from model import ena_reqid
from model.ena_bits import depth, slot
from model.ena_llq import BEFORE_HEADER, LLQ, entries_needed
from model.ena_queue import CQ, SQ, cq_outstanding, free_q_entries, sq_used
from ringspec.docgen import (
    cell_pictures,
    common,
    ena_pages,
    ena_pictures,
    llq_pictures,
    md,
    pictures,
    rss_page,
)

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = ("import sys\n"
          "from ringspec.docgen import ena_pages, pictures, rss_page\n"
          "import model\n"
          "with pictures.collecting() as images:\n"
          "    for name in sorted(ena_pages.PICTURES):\n"
          "        ena_pages.PICTURES[name][0]()\n"
          "    page = rss_page.render()\n"
          "sys.stdout.write(page + ''.join(images[k] for k in sorted(images)))\n")


def _render_all() -> tuple[str, dict[str, str]]:
    with pictures.collecting() as images:
        for name in sorted(ena_pages.PICTURES):
            ena_pages.PICTURES[name][0]()
        page = rss_page.render()
    return page, images


def test_pictures_and_rss_page_are_byte_identical_across_interpreters() -> None:
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, check=True,
                       capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    page, images = _render_all()
    assert (page + "".join(images[k] for k in sorted(images))).encode() == runs[0]
    assert sorted(images) == [f"img/{n}.svg" for n in (
        "ena-cq-wrap", "ena-llq-entries", "ena-rss-table", "ena-rx-reqid-life",
        "ena-sq-wrap", "ena-tx-reqid-life")]
    for svg in images.values():
        assert svg.splitlines()[1] == md.MARKER
        assert "<dc:date>" not in svg and "Matplotlib v" not in svg


def test_every_picture_is_on_its_page_and_named_once() -> None:
    with pictures.collecting() as images:
        for m in model.ENA_MACHINES:
            text = ena_pages.render(m, _no_evidence())
            for ref in re.findall(r"\]\((img/[\w-]+\.svg)\)", text):
                assert ref in images, (m.name, ref)
            assert ("## Picture" in text) == (m.name in ena_pages.PICTURES), m.name
    assert len(images) == 5


def _no_evidence() -> object:
    class Empty:
        def for_machine(self, machine: object) -> list:
            return []
    return Empty()


# ---------------------------------------------------------------------------- SQ and CQ


def _counts(row: cell_pictures.Row) -> Counter:
    return Counter(c.kind for c in row.cells)


def test_sq_picture_starts_at_the_wrap_and_counts_what_the_model_counts() -> None:
    s = ena_pictures.sq_after_rounds()
    assert (s.tail, s.next_to_comp, s.db_tail, s.dev_head) == (65533,) * 4
    assert SQ.violated(s) == []
    for n in (1, 5):
        t = ena_pictures.run(SQ, s, [("sq_produce", {}, n)])
        row = ena_pictures.sq_row("x", t)
        c = _counts(row)
        assert c["read"] + c["published"] + c["written"] == sq_used(t)
        assert c["free"] == free_q_entries(t) and c["empty"] == 1
        assert [cell.top for cell in row.cells] == [f"slot {i}" for i in range(8)]
    wrapped = ena_pictures.run(SQ, s, [("sq_produce", {}, 5)])
    assert wrapped.tail == 2 and slot(wrapped.tail, wrapped.depth_log2) == 2


def test_cq_picture_shows_the_models_memory() -> None:
    s = ena_pictures.run(CQ, ena_pictures.cq_after_rounds(), [("cq_produce", {}, 5)])
    row = ena_pictures.cq_row("x", s)
    assert _counts(row)["new"] == cq_outstanding(s) == 5
    for i, cell in enumerate(row.cells):
        assert cell.text == str(s.mem_seq[i]) and cell.sub == f"phase {s.mem_phase[i]}"
    assert CQ.violated(s) == []


def test_counter_marks_group_equal_counters() -> None:
    s = ena_pictures.sq_after_rounds()
    assert ena_pictures.counter_marks(s, ("next_to_comp", "tail")) == (
        (5, "next_to_comp\ntail\n= 65533"),)


# ---------------------------------------------------------------------------- request ids


@pytest.mark.parametrize("machine", [ena_reqid.TX, ena_reqid.RX])
def test_refusals_record_the_reason_the_model_expects(machine) -> None:
    s = ena_reqid.reqid_init(2)
    s = ena_pictures.run(machine, s, [("reqid_alloc", {}, 3)])
    tx = machine is ena_reqid.TX
    completion = "tx_completion_hardened" if tx else "rx_completion_hardened"
    args = ena_pictures._tx_args if tx else ena_pictures._rx_args
    s = ena_pictures.step(machine, s, completion, **args(1))
    refusals = ena_pictures._refusals(machine, depth(2), 1, 3)
    assert len(refusals) == 4
    for _, a in refusals:
        post = ena_pictures.step(machine, s, completion, **a)
        expect = (ena_reqid.tx_expected_reason(s, a["ready"], a["mbz"], a["req_id"]) if tx
                  else ena_reqid.rx_expected_reason(s, a["ready"], a["malformed"],
                                                    a["too_many"], a["req_id"]))
        assert post.reason == expect != ena_reqid.NORMAL
        assert (post.ids, post.in_flight, post.next_to_use, post.next_to_clean) == (
            s.ids, s.in_flight, s.next_to_use, s.next_to_clean)
        row = ena_pictures.reqid_row(machine, "x", post)
        assert ena_pictures.REASONS[expect] in row.aside
        assert _counts(row)["free"] == ena_reqid.free_count(post)


def test_reason_names_are_the_models() -> None:
    assert ena_pictures.REASONS == {
        0: "NORMAL", 4: "INV_RX_REQ_ID", 5: "INV_TX_REQ_ID", 6: "TOO_MANY_RX_DESCS",
        16: "RX_DESCRIPTOR_MALFORMED", 17: "TX_DESCRIPTOR_MALFORMED"}


# ---------------------------------------------------------------------------- LLQ


@pytest.mark.parametrize("size", LLQ_ENTRY_SIZES)
@pytest.mark.parametrize("descs", [1, 2, 3, 10, 19, 32])
def test_llq_layout_is_the_models(size: int, descs: int) -> None:
    where, written = llq_pictures.placement(size, descs)
    dpe = llq_descs_per_entry(size)
    assert written == entries_needed(descs, dpe)
    assert [w for w in where if w[0] == 0] == [(0, i) for i in range(min(descs, BEFORE_HEADER))]
    assert len(set(where)) == descs and all(i < dpe for _, i in where)
    assert llq_pictures.header_room(size) == size - BEFORE_HEADER * DESC_SIZE
    row = llq_pictures.packet_row(size, descs)
    assert sum(c.span for c in row.cells) * DESC_SIZE == written * size


def test_llq_picture_starts_with_the_pages_worked_example() -> None:
    example = ena_pages.EXAMPLES["ena_llq"]
    descs = example.moves[0].args["descs"]
    rows = ena_pages.run_example(LLQ, example)
    put = next(state for label, _, state, _ in rows if label.startswith("llq_put_desc"))
    _, written = llq_pictures.placement(128, descs)
    assert written == put.flushed + (1 if put.idx else 0)
    with pictures.collecting() as images:
        fig = ena_pages.PICTURES["ena_llq"][0]()
    assert f"a packet of {descs} descriptors" in fig.alt.split(";")[0]
    assert fig.path in images


# ---------------------------------------------------------------------------- RSS page


def test_rss_page_is_in_the_nav_and_cites_real_tests() -> None:
    assert (rss_page.PAGE, rss_page.TITLE) in common.PAGES
    with pictures.collecting():
        text = rss_page.render()
    tests = (ROOT / rss_page.TEST).read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_\w+)`", text))
    assert cited and all(f"def {t}(" in tests for t in cited), cited
    assert "../" not in text and "reference/" not in text and "§" not in text


def test_rss_worked_example_is_the_devices_and_microsofts() -> None:
    d, dp, s, sp, _, want = MS_IPV4[0]
    rss = rss_page.configured()
    h = rss_page.hashed(rss, [("", rss_page.frames().frame(s, d, sp, dp))])[0]
    assert h.hash == want and h.index == want & 127
    assert h.entry == rss_page.driver_table(rss_page.QUEUES)[h.index]
    out = rss_page.run(rss_page.snippet())
    assert out == (f"hash {want:#010x}, index {want & 127}, entry {h.entry} = RX queue "
                   f"{rss_page.rx_queue(h.entry)}\n")
    with pictures.collecting():
        text = rss_page.render()
    assert f"`{want:#010x}` (Microsoft's published value)" in text
    assert "**no**" not in text and "(differs)" not in text


def test_rss_vectors_shown_are_microsofts() -> None:
    with pictures.collecting():
        text = rss_page.render()
    for _, _, _, _, wa, wp in (MS_IPV4[0], MS_IPV6[0]):
        assert text.count(f"`{wa:#010x}`") >= 2 and text.count(f"`{wp:#010x}`") >= 2
