"""Ring pictures (ringspec.docgen.pictures): byte-for-byte deterministic, coloured by the
model's own regions, honest about broken states, and written/removed by ``generate``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from support.states import consistent_states

from model.core import ring_next, ring_prev
from model.netmap_ring import RX, TX, NetmapRing, rx_regions, tx_regions
from ringspec import docgen
from ringspec.docgen import md, pictures

ROOT = Path(__file__).resolve().parents[2]



def demo() -> pictures.Figure:
    """A TX picture with every pointer, a sync, and a cur that is not a slot."""
    s0 = TX.init(8)
    s1 = TX.transitions["user_advance"](s0, dh=5, dc=1).post
    s2 = TX.transitions["txsync_hardened"](s1, sent=3).post
    rows = [("init", s0), ("advance", s1), ("txsync", s2), ("scribbled", s2.replace(cur=11))]
    return pictures.figure("demo", rows, "tx", marks=pictures.ALL_MARKS)


SCRIPT = ("import sys; sys.path[:0] = ['tests', 'tests/unit']; "
          "from test_pictures import demo; sys.stdout.write(demo().svg)")


def _fill_counts(svg: str) -> Counter:
    return Counter(re.findall(r"fill: (#[0-9a-f]{6})", svg))


def test_pictures_are_byte_identical_across_interpreters() -> None:
    """Two fresh interpreters (fresh hash seeds, fresh matplotlib state) write the same
    bytes, and so does this one."""
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, check=True,
                       capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert demo().svg.encode() == runs[0]
    text = runs[0].decode()
    assert text.splitlines()[1] == md.MARKER
    assert "<dc:date>" not in text and "Matplotlib v" not in text


@pytest.mark.parametrize("machine,direction", [(TX, "tx"), (RX, "rx")])
def test_slot_regions_are_the_models_regions(machine, direction) -> None:
    """For every consistent state of small rings, the per-slot labels count exactly the
    model's region sizes and put the empty slot where the invariants say it is."""
    fn = tx_regions if direction == "tx" else rx_regions
    for n in (2, 3, 5):
        for s in consistent_states(machine, n):
            labels = pictures.slot_regions(s, direction)
            assert labels is not None, s
            sizes = {k: v for k, v in fn(s).items() if v}
            assert Counter(labels) == sizes, s
            gap = s.hwtail if direction == "tx" else ring_prev(s.hwcur, n)
            assert labels[gap] == "gap", s
            if sizes.get("pending"):
                assert labels[s.hwcur] == "pending", s
            if sizes.get("user"):
                assert labels[s.rhead] == "user" and labels[ring_prev(s.rtail, n)] == "user"
            if direction == "tx" and sizes.get("completed"):
                assert labels[ring_next(s.hwtail, n)] == "completed", s


def test_colours_follow_the_regions() -> None:
    s = TX.transitions["txsync_hardened"](
        TX.transitions["user_advance"](TX.init(8), dh=5, dc=0).post, sent=3).post
    s = TX.transitions["device_complete"](s, k=1).post
    fills = _fill_counts(pictures.figure("c", [("s", s)], "tx").svg)
    for region, size in tx_regions(s).items():
        # one patch per slot of the region, plus its legend swatch
        assert fills[pictures.COLOURS[region]] == size + 1, region


def test_broken_state_is_drawn_as_such() -> None:
    bad = NetmapRing(n=8, head=3, cur=3, tail=2, hwcur=5, hwtail=1, rhead=3, rcur=3,
                     rtail=2, nic=3, busy=2)  # rtail before rhead: regions overlap
    assert TX.violated(bad)
    assert pictures.slot_regions(bad, "tx") is None
    fig = pictures.figure("bad", [("adopted", bad.replace(cur=12))], "tx")
    assert "invariants broken" in fig.svg
    assert "cur = 12 (not a slot)" in fig.svg
    assert _fill_counts(fig.svg)[pictures.COLOURS["user"]] == 1  # the legend only


def test_marks_are_drawn_at_their_slots() -> None:
    s = RX.transitions["device_deliver"](RX.init(6), k=3).post
    svg = pictures.figure("m", [("s", s)], "rx", marks=pictures.ALL_MARKS).svg
    for mark in pictures.ALL_MARKS:
        assert f">{mark}<" in svg, mark
    svg = pictures.figure("m", [("s", s)], "rx", marks=("head",)).svg
    assert ">head<" in svg and ">hwcur<" not in svg


def test_collector_records_and_refuses_two_different_pictures_of_one_name() -> None:
    a, b = TX.init(4), RX.init(4)
    with pictures.collecting() as images:
        fig = pictures.figure("one", [("a", a)], "tx")
        assert pictures.figure("one", [("a", a)], "tx") == fig
        with pytest.raises(ValueError, match="two different pictures"):
            pictures.figure("one", [("b", b)], "rx")
    assert images == {"img/one.svg": fig.svg}
    assert fig.markdown == "![TX ring: a](img/one.svg)"
    with pytest.raises(ValueError):
        pictures.figure("Bad Name", [("a", a)], "tx")


def test_generate_writes_pictures_and_removes_stale_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = TX.init(4)

    def fake_pages(ev: object) -> dict[str, str]:
        with pictures.collecting() as images:
            page = md.page("P", "", [pictures.figure("kept", [("s", s)], "tx").markdown])
        return {"p.md": page, **images}

    monkeypatch.setattr(docgen, "pages", fake_pages)
    img = tmp_path / "img"
    img.mkdir()
    old = pictures.figure("old", [("s", s)], "tx")
    (img / "old.svg").write_text(old.svg, encoding="utf-8")
    (img / "drawn.svg").write_text("<svg/>\n", encoding="utf-8")
    docgen.generate(tmp_path, ev=object())
    assert sorted(p.name for p in img.iterdir()) == ["drawn.svg", "kept.svg"]
    assert "](img/kept.svg)" in (tmp_path / "p.md").read_text(encoding="utf-8")
