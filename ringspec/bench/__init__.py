"""``ringspec bench``: datapath loops timed against their slot-at-a-time port and the numpy
data-movement floor, in one run.

Modules: :mod:`~ringspec.bench.registry` (the loops, and how to add one),
:mod:`~ringspec.bench.runner` (timing: min / median / max over repeats),
:mod:`~ringspec.bench.report` (the JSON schema, ratios, text table), one module per loop
(:mod:`~ringspec.bench.netmap_tx`, :mod:`~ringspec.bench.netmap_rx`) and the netmap
slot-at-a-time port (:mod:`~ringspec.bench.netmap_port`).

The committed results live in ``bench/results.json`` (``ringspec bench --json >
bench/results.json``); ``ringspec docs`` renders that file and never runs the bench.
"""

from __future__ import annotations

import argparse
import json
import sys

from ringspec.bench import registry, report, runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ringspec bench",
        description="Time the datapath loops (vectorized, slot-at-a-time baseline, numpy "
                    "floor) and print a table, or the results as JSON.",
    )
    parser.add_argument("--json", action="store_true",
                        help='print {"loops": [...]} on stdout instead of the table')
    parser.add_argument("--quick", action="store_true",
                        help="a few configurations per loop, short windows (under a minute)")
    parser.add_argument("--loop", action="append", metavar="NAME",
                        help="only this loop (repeatable); default: every registered loop")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed windows per variant (default: 5, quick: 3)")
    parser.add_argument("--min-time", type=float, default=None,
                        help="minimum seconds per window (default: 0.2, quick: 0.03)")
    parser.add_argument("--list", action="store_true", help="list the loops and exit")
    args = parser.parse_args(argv)
    try:
        loops = registry.loops(args.loop)
    except ValueError as e:
        parser.error(str(e))
    if args.list:
        for lp in loops:
            print(f"{lp.name:10s} {lp.title} ({len(lp.configs)} configurations, "
                  f"{len(lp.quick)} quick)")
        return 0
    base = runner.QUICK if args.quick else runner.FULL
    settings = runner.Settings(
        base.repeats if args.repeats is None else args.repeats,
        base.min_time if args.min_time is None else args.min_time,
    )
    if settings.repeats < 1 or settings.min_time < 0:
        parser.error("--repeats must be >= 1 and --min-time >= 0")

    def progress(row: dict[str, object]) -> None:
        print(f"ringspec bench: {row['loop']} batch={row['batch']} ring={row['ring_size']} "
              f"queues={row['queues']}: {row['mpps']['median']} Mpps",  # type: ignore[index]
              file=sys.stderr, flush=True)

    doc = report.check(runner.run(loops, args.quick, settings, progress))
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(report.text(doc))
    return 0
