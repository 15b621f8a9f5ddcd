"""``ringspec bench``: the results schema, a quick run of every registered loop, and the
variants of each loop moving the same packets and bytes.  No timing is asserted."""

from __future__ import annotations

import copy
import json

import pytest

from ringspec import cli
from ringspec.bench import registry, report
from ringspec.bench.registry import Config

LOOPS = registry.loops()

# Besides each loop's quick configurations: wrapping rings, several queues, batch 1 (ENA
# rings have at least ENA_MIN_RING_SIZE = 256 entries).
EXTRA = {"netmap": (Config(3, 16, 5), Config(2, 8, 1), Config(1, 64, 31)),
         "ena": (Config(3, 256, 40), Config(2, 256, 1))}


def extra(loop: registry.Loop) -> tuple[Config, ...]:
    return EXTRA["netmap" if loop.name.startswith("netmap") else "ena"]


def run_steps(loop: registry.Loop, config: Config, variant: str, steps: int) -> registry.Moved:
    v = loop.make(config, variant)
    for _ in range(steps):
        v.step()
    return v.drain()


@pytest.mark.parametrize("loop", LOOPS, ids=lambda lp: lp.name)
def test_baseline_and_floor_move_what_the_vectorized_loop_moves(loop: registry.Loop) -> None:
    for config in (*loop.quick, *extra(loop)):
        steps = 7  # past a wrap of the small rings
        vec = run_steps(loop, config, "vectorized", steps)
        assert vec.packets == steps * config.packets, config
        assert vec.bytes == vec.packets * registry.FRAME, config
        assert run_steps(loop, config, "baseline", steps) == vec, config
        floor = run_steps(loop, config, "floor", steps)
        assert (floor.packets, floor.bytes) == (vec.packets, vec.bytes), config


def test_the_tx_floor_gathers_the_bytes_the_wire_carries() -> None:
    loop = registry.loops(["netmap_tx"])[0]
    for config in EXTRA["netmap"]:
        assert run_steps(loop, config, "floor", 5) == run_steps(loop, config, "vectorized", 5)


def test_a_drain_forgets_what_it_reported() -> None:
    for loop in LOOPS:
        v = loop.make(Config(1, 16 if loop.name.startswith("netmap") else 256, 4), "vectorized")
        v.step()
        assert v.drain().packets == 4
        assert v.drain() == registry.Payload().drain()


def test_quick_json_runs_every_registered_loop(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--quick", "--json", "--repeats", "1", "--min-time", "0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert report.problems(doc) == []
    seen = [(r["loop"], Config(r["queues"], r["ring_size"], r["batch"])) for r in doc["loops"]]
    assert seen == [(lp.name, c) for lp in LOOPS for c in lp.quick]


def test_the_table_shows_the_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--quick", "--loop", "netmap_tx", "--repeats", "1",
                     "--min-time", "0"]) == 0
    out = capsys.readouterr().out
    assert "× baseline" in out and "× floor" in out
    assert out.count("netmap_tx") == len(registry.loops(["netmap_tx"])[0].quick)


GOOD = {"loops": [{"loop": "netmap_tx", "batch": 512, "ring_size": 1024, "queues": 1,
                   "mpps": {"min": 1.0, "median": 2.0, "max": 3.0},
                   "baseline_mpps": {"min": 0.1, "median": 0.1, "max": 0.2},
                   "floor_mpps": {"min": 8, "median": 8.0, "max": 9.0}}]}


def broken(edit: str) -> dict:
    doc = copy.deepcopy(GOOD)
    row = doc["loops"][0]
    if edit == "extra top-level key":
        doc["when"] = "today"
    elif edit == "unknown loop":
        row["loop"] = "ena"
    elif edit == "missing size":
        del row["queues"]
    elif edit == "zero batch":
        row["batch"] = 0
    elif edit == "float ring":
        row["ring_size"] = 1024.0
    elif edit == "missing stat":
        del row["floor_mpps"]["max"]
    elif edit == "unordered stats":
        row["mpps"]["min"] = 2.5
    elif edit == "string rate":
        row["baseline_mpps"]["median"] = "fast"
    return doc


@pytest.mark.parametrize("edit", ["extra top-level key", "unknown loop", "missing size",
                                  "zero batch", "float ring", "missing stat",
                                  "unordered stats", "string rate"])
def test_the_schema_check_rejects(edit: str) -> None:
    assert report.problems(GOOD) == []
    assert report.problems(broken(edit))
    with pytest.raises(ValueError, match="not a ringspec bench results document"):
        report.check(broken(edit))


def test_ratios_are_of_medians() -> None:
    assert report.ratios(GOOD["loops"][0]) == (20.0, 0.25)


def test_a_loop_needs_an_allowed_name() -> None:
    with pytest.raises(ValueError, match="not in"):
        registry.Loop("netmap", "x", LOOPS[0].make, (), ())
    with pytest.raises(ValueError, match="unknown loop"):
        registry.loops(["nope"])


def test_the_docs_page_renders_a_results_file_deterministically(tmp_path) -> None:
    from ringspec.docgen import benchmarks, pictures

    path = tmp_path / "results.json"
    path.write_text(json.dumps(GOOD))
    with pictures.collecting() as first:
        page = benchmarks.render(path)
    with pictures.collecting() as second:
        assert benchmarks.render(path) == page
    assert first == second and list(first) == ["img/bench-mpps.svg"]
    row = "| netmap_tx | 512 | 1024 | 1 | 1 / 2 / 3 | 0.1 | 8 | 20 | 0.25 | no | yes | no |"
    assert row in page
    assert "No results" in benchmarks.render(tmp_path / "missing.json")


def test_the_committed_results_cover_every_registered_loop() -> None:
    from ringspec.docgen import benchmarks

    doc = benchmarks.load()
    assert doc is not None, "commit a full run as bench/results.json"
    assert {lp.name for lp in LOOPS} <= {row["loop"] for row in doc["loops"]}
