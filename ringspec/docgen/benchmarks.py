"""The Benchmarks page: the committed ``bench/results.json`` as a table and a plot.

``ringspec docs`` never runs the bench; it renders the file ``ringspec bench --json``
wrote and someone committed, so the page is as deterministic as the file.  The plot is an
SVG made like :mod:`ringspec.docgen.pictures` makes its pictures (fixed size, text as
text, fixed hash salt, no date).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import ringspec
from ringspec.bench import registry, report
from ringspec.docgen import common, md, pictures

RESULTS = Path("bench") / "results.json"
PLOT = "bench-mpps"
VARIANT_STYLE = {"mpps": ("-", "o", "vectorized"), "baseline_mpps": (":", "v", "baseline"),
                 "floor_mpps": ("--", "s", "numpy floor")}
LOOP_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def results_path() -> Path:
    return Path(ringspec.__file__).resolve().parents[1] / RESULTS


def load(path: Path | None = None) -> dict[str, list] | None:
    """The committed results (schema-checked), or None when there is no file."""
    path = path or results_path()
    if not path.exists():
        return None
    return report.check(json.loads(path.read_text(encoding="utf-8")))


def axes(doc: dict[str, list]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """The three sweeps the plot draws: (x key, title, rows), each varying one axis around
    the most common other two."""
    out = []
    for key, label in (("batch", "frames per queue per step"), ("ring_size", "ring size"),
                       ("queues", "queues")):
        others = [k for k in report.SIZES if k != key]
        counts: dict[tuple, int] = {}
        for row in doc["loops"]:
            fixed = tuple(row[k] for k in others)
            counts[fixed] = counts.get(fixed, 0) + 1
        best = max(sorted(counts), key=lambda f: counts[f])
        rows = [r for r in doc["loops"] if tuple(r[k] for k in others) == best]
        title = f"{label} ({', '.join(f'{k} {v}' for k, v in zip(others, best, strict=True))})"
        out.append((key, title.replace("ring_size", "ring"), rows))
    return out


def plot(doc: dict[str, list]) -> pictures.Figure:
    """Median Mpps (bars: min to max) of every variant of every loop along each sweep."""
    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    loops = sorted({r["loop"] for r in doc["loops"]}, key=registry.LOOP_NAMES.index)
    with matplotlib.rc_context(pictures._RC):
        fig = MplFigure(figsize=(11, 3.8))
        panels = fig.subplots(1, 3, sharey=True)
        for ax, (key, title, rows) in zip(panels, axes(doc), strict=True):
            for i, loop in enumerate(loops):
                mine = sorted((r for r in rows if r["loop"] == loop), key=lambda r: r[key])
                xs = [r[key] for r in mine]
                for rate, (ls, marker, _) in VARIANT_STYLE.items():
                    med = [r[rate]["median"] for r in mine]
                    err = [[m - r[rate]["min"] for m, r in zip(med, mine, strict=True)],
                           [r[rate]["max"] - m for m, r in zip(med, mine, strict=True)]]
                    ax.errorbar(xs, med, yerr=err, linestyle=ls, marker=marker, markersize=3,
                                linewidth=1, capsize=2, color=LOOP_COLOURS[i % 6])
            ax.axhline(report.LINE_RATE_MPPS, color="#555555", linewidth=0.8)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title(title, fontsize=8)
            ax.grid(True, which="major", linewidth=0.3)
        panels[0].set_ylabel("Mpps (median; bars: min to max)")
        panels[0].text(panels[0].get_xlim()[0], report.LINE_RATE_MPPS * 1.1,
                       " 14.88 Mpps: 10 GbE at 64 B", fontsize=7, color="#555555")
        handles = [matplotlib.lines.Line2D([], [], color=LOOP_COLOURS[i % 6], linewidth=2)
                   for i, _ in enumerate(loops)]
        handles += [matplotlib.lines.Line2D([], [], color="#333333", linestyle=ls,
                                            marker=mk, markersize=3)
                    for ls, mk, _ in VARIANT_STYLE.values()]
        labels = loops + [v[2] for v in VARIANT_STYLE.values()]
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7,
                   frameon=False)
        fig.subplots_adjust(left=0.07, right=0.99, top=0.9, bottom=0.22, wspace=0.06)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=pictures._METADATA)
    head, _, rest = buf.getvalue().partition("\n")
    alt = "Mpps of every loop: vectorized, slot-at-a-time baseline and numpy floor"
    return pictures.record(pictures.Figure(PLOT, alt, f"{head}\n{md.MARKER}\n{rest}"))


def table(doc: dict[str, list]) -> str:
    """Every result, with the ratios of medians and whether each target is met."""
    body = []
    for row, cells in zip(doc["loops"], report.rows(doc), strict=True):
        vs_base, vs_floor = report.ratios(row)
        mpps = row["mpps"]["median"]
        rate_ok = ("yes" if mpps >= report.LINE_RATE_MPPS else "no") if (
            row["batch"] >= report.TARGET_BATCH) else ""
        body.append([*cells, rate_ok, "yes" if vs_base >= report.TARGET_VS_BASELINE else "no",
                     "yes" if vs_floor >= report.TARGET_VS_FLOOR else "no"])
    headers = [*report.HEADERS, "≥ 14.88 Mpps", "≥ 20× baseline", "≥ 0.5× floor"]
    return md.table(headers, body, "lrrrrrrrrccc")


def render(path: Path | None = None) -> str:
    doc = load(path)
    loops = registry.loops()
    body = [
        "`ringspec bench` times each datapath loop three ways in the same run: the "
        "**vectorized** loop through the implementation's batch API, a **baseline** that "
        "ports the same loop one slot at a time (same state, same rules, a Python `for` "
        "over the slots as the C has), and the **numpy floor**: one gather of the payload "
        "bytes the step moves, with nothing around it.  Frames are 64 B; a step moves "
        "`batch` frames on every queue; rates are Mpps over timed windows, min / median / "
        "max.",
        "",
        md.table(["loop", "one step"], [[md.tick(lp.name), lp.title] for lp in loops], "ll"),
        "",
        "In the ENA loops (`tx`, `rx`) what is ported slot at a time is the driver "
        "(`impl/ena/reference_loops.py`, the C's loops one packet, descriptor and completion "
        "at a time), and in the netmap-on-ENA loops (`ena_netmap_tx`, `ena_netmap_rx`) "
        "ena_netmap_txsync's and ena_netmap_rxsync's bodies (`impl/ena/nm_reference.py`); "
        "both variants drive the same simulated device, whose own cost (parsing, RSS, DMA, "
        "completions) is in both figures and bounds them. The two netmap-on-ENA loops were "
        "measured in a later run than the others (`ringspec bench --loop ena_netmap_tx "
        "--loop ena_netmap_rx`, merged into the file).",
        "",
        f"Targets (issue 6): at least {report.LINE_RATE_MPPS} Mpps (10 GbE line rate at "
        f"64 B) at batch ≥ {report.TARGET_BATCH} on one core, at least "
        f"{report.TARGET_VS_BASELINE:g}× the baseline and {report.TARGET_VS_FLOOR:g}× the "
        "floor, and a per-packet cost that stays flat across ring sizes and queue counts.",
        "",
        "## Results",
        "",
    ]
    if doc is None:
        body += [f"No results are committed yet (`{RESULTS.as_posix()}`)."]
    else:
        body += [
            f"From the committed `{RESULTS.as_posix()}` (the machine and its load are not "
            "recorded: compare the three variants of one row, which ran back to back, "
            "rather than rows of different runs).",
            "",
            plot(doc).markdown,
            "",
            table(doc),
        ]
    body += [
        "",
        "## Reproduce",
        "",
        md.code("ringspec bench --quick                 # a table, under a minute\n"
                "ringspec bench --json > bench/results.json   # the full run this page shows\n"
                "ringspec docs                          # re-render this page", "bash"),
        "",
        "A new loop is one module in `ringspec/bench/` registered in "
        "`ringspec.bench.registry.MODULES` (its docstring says how).",
    ]
    return md.page("Benchmarks", common.nav("benchmarks.md"), body)
