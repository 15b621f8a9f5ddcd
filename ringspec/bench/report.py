"""The results document: its schema check, the ratios, and the text table.

Schema (issue 6, section 5)::

    {"loops": [{"loop": "tx" | "rx" | "netmap_tx" | "netmap_rx",
                "batch": int, "ring_size": int, "queues": int,
                "mpps": {"min", "median", "max"},
                "baseline_mpps": {...}, "floor_mpps": {...}}]}

Ratios use the medians: ``vs baseline = mpps / baseline_mpps`` (target >= 20) and ``vs floor
= mpps / floor_mpps`` (target >= 0.5); the rate target is 14.88 Mpps, 10 GbE line rate at
64 B, at batch >= 512.
"""

from __future__ import annotations

from typing import Any

from ringspec.bench.registry import LOOP_NAMES

LINE_RATE_MPPS = 14.88
TARGET_BATCH = 512
TARGET_VS_BASELINE = 20.0
TARGET_VS_FLOOR = 0.5

STATS = ("min", "median", "max")
RATES = ("mpps", "baseline_mpps", "floor_mpps")
SIZES = ("batch", "ring_size", "queues")
ROW_KEYS = ("loop", *SIZES, *RATES)


def problems(doc: Any) -> list[str]:
    """What makes ``doc`` not a results document (empty if it is one)."""
    if not isinstance(doc, dict) or set(doc) != {"loops"} or not isinstance(doc["loops"], list):
        return ['the document must be {"loops": [...]}']
    out = []
    for i, row in enumerate(doc["loops"]):
        where = f"loops[{i}]"
        if not isinstance(row, dict) or set(row) != set(ROW_KEYS):
            out.append(f"{where}: keys must be {list(ROW_KEYS)}")
            continue
        if row["loop"] not in LOOP_NAMES:
            out.append(f"{where}: loop {row['loop']!r} not in {LOOP_NAMES}")
        for key in SIZES:
            value = row[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                out.append(f"{where}.{key}: a positive integer, got {value!r}")
        for key in RATES:
            stats = row[key]
            if not isinstance(stats, dict) or set(stats) != set(STATS):
                out.append(f"{where}.{key}: keys must be {list(STATS)}")
                continue
            values = [stats[s] for s in STATS]
            if not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                       for v in values):
                out.append(f"{where}.{key}: positive numbers, got {stats!r}")
            elif not values[0] <= values[1] <= values[2]:
                out.append(f"{where}.{key}: min <= median <= max fails: {stats!r}")
    return out


def check(doc: Any) -> dict[str, list]:
    """``doc`` if it is a results document, else ValueError listing the problems."""
    found = problems(doc)
    if found:
        raise ValueError("not a ringspec bench results document:\n  " + "\n  ".join(found))
    return doc


def ratios(row: dict[str, Any]) -> tuple[float, float]:
    """(vectorized / baseline, vectorized / floor), on medians."""
    mpps = row["mpps"]["median"]
    return mpps / row["baseline_mpps"]["median"], mpps / row["floor_mpps"]["median"]


def fmt(x: float) -> str:
    """A rate or ratio with three significant digits (no exponent below 1e6)."""
    return f"{x:.3g}" if x < 1000 else f"{x:.0f}"


HEADERS = ["loop", "batch", "ring", "queues", "Mpps (min / median / max)", "baseline Mpps",
           "floor Mpps", "× baseline", "× floor"]


def rows(doc: dict[str, list]) -> list[list[str]]:
    """One table row per result: sizes, the three rates and the two ratios."""
    out = []
    for row in doc["loops"]:
        m = row["mpps"]
        vs_base, vs_floor = ratios(row)
        out.append([row["loop"], str(row["batch"]), str(row["ring_size"]), str(row["queues"]),
                    f"{fmt(m['min'])} / {fmt(m['median'])} / {fmt(m['max'])}",
                    fmt(row["baseline_mpps"]["median"]), fmt(row["floor_mpps"]["median"]),
                    fmt(vs_base), fmt(vs_floor)])
    return out


def text(doc: dict[str, list]) -> str:
    """The results as an aligned plain-text table, then the targets."""
    body = rows(doc)
    widths = [max(len(r[i]) for r in [HEADERS, *body]) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) if i < 1 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in [HEADERS, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"targets: >= {LINE_RATE_MPPS} Mpps at batch >= {TARGET_BATCH}, "
                 f">= {TARGET_VS_BASELINE:g}x baseline, >= {TARGET_VS_FLOOR:g}x floor "
                 "(ratios of medians)")
    return "\n".join(lines)
