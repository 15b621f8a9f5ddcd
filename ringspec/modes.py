"""``ringspec modes``: one traffic scenario through both ways of entering and leaving netmap.

The scenario (:class:`Scenario`): an interface with ``queues`` RX and ``queues`` TX rings
of ``ring_size`` slots. Every tick ``rate`` frames arrive on each RX ring and ``rate``
packets are sent on each TX ring (by the stack in normal mode -- what does not fit is
refused, ENOBUFS, and counted as dropped -- and by the netmap user in netmap mode, as much
as its free slots allow). Each tick the driver harvests everything filled (rxsync in
netmap mode, rxeof otherwise), the user releases every RX slot it was given, the NIC sends
everything queued and the TX ring is cleaned. netmap mode is entered at tick ``enter_at``
and left at ``exit_at``; a link taken down by a classic switch comes back
``autoneg_ticks`` later; the run continues until ``ticks`` and then until every ring is
back in normal mode. The same scenario runs through :class:`impl.switch.SwitchRxRings`
with the classic strategy and with the RFC (leaving by waiting for traffic, and by
resetting the ring).

For each it reports ``frames`` (received and sent), ``link_down_ticks`` (ticks with the
link down), ``dropped`` (discarded for a documented reason: flushed by a switch, no posted
buffer, link down, refused by a full TX queue), ``lost`` (frames not accounted for
anywhere: must be 0), ``duplicated`` (frames accounted for twice: must be 0), ``copies``
(packets copied between an mbuf and a netmap buffer, entering and leaving),
``leaked_buffers`` (netmap buffers not back in the allocator at the end: must be 0) and
``leave_ticks`` (ticks of traffic, from the close on, until every ring is back in normal
mode: 0 when the close itself finishes the job).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

import numpy as np

from impl.switch import SwitchRxRings, SwitchTxRings
from impl.switch.rx import DROP_REASONS, FrameLog
from model.netmap_switch import NETMAP, STACK
from ringspec import modes_ena

#: (strategy, how an RFC ring leaves) of each row.
RUNS = (("classic", ""), ("rfc", "wait"), ("rfc", "reset"))


@dataclass(frozen=True)
class Scenario:
    queues: int = 4
    ring_size: int = 256
    rate: int = 32
    ticks: int = 120
    enter_at: int = 20
    exit_at: int = 80
    autoneg_ticks: int = 15


def run(strategy: str, leave: str, sc: Scenario) -> dict[str, int | str]:
    """The scenario through one strategy; the figures of the module docstring."""
    rings = SwitchRxRings(sc.queues, sc.ring_size, strategy)
    txr = SwitchTxRings(sc.queues, sc.ring_size, strategy)
    everything = np.full(sc.queues, 2 * sc.ring_size)
    refused = 0
    link_down = leave_ticks = 0
    down_since: int | None = None
    leaving_since: int | None = None
    tick = 0
    def normal() -> bool:
        return bool((rings.mode == STACK).all() and (txr.mode == STACK).all())

    while tick < sc.ticks or not normal():
        if tick == sc.enter_at:
            rings.regif()
            txr.regif()
        if tick == sc.exit_at:
            rings.unregif()
            txr.unregif()
            if leave == "reset":
                rings.ring_reset_exit()
            leaving_since = None if normal() else tick
        down = bool((rings.link == 0).any() or (txr.link == 0).any())
        if down and down_since is None:
            down_since = tick
        if down_since is not None and tick - down_since >= sc.autoneg_ticks:
            rings.link_up()
            txr.link_up()
            down_since, down = None, False
        link_down += int(down)
        rings.wire(sc.rate)
        rings.harvest(everything)
        rings.release(everything)
        rings.leave_done()
        before = int(txr.counters["from_stack"].sum())
        txr.stack_xmit(sc.rate)
        offered = int((txr.mode != NETMAP).sum()) * sc.rate
        refused += offered - (int(txr.counters["from_stack"].sum()) - before)
        txr.user_send(sc.rate)
        txr.complete(everything)
        txr.cleanup()
        txr.leave_done()
        if leaving_since is not None and normal():
            leave_ticks, leaving_since = tick - leaving_since + 1, None
        tick += 1
        if tick > sc.ticks + 100 * sc.ring_size:
            raise RuntimeError(f"{strategy}/{leave}: the rings never left netmap mode")
    log = rings.log
    seen = np.concatenate([rings.filled_frames(), FrameLog.cat(log.to_user),
                           FrameLog.cat(log.to_stack),
                           *[FrameLog.cat(log.dropped[r]) for r in DROP_REASONS]])
    counts = np.bincount(seen, minlength=rings.next_frame)
    sent = np.concatenate([txr.in_flight_frames(), FrameLog.cat(txr.log.on_wire),
                           FrameLog.cat(txr.log.flushed)])
    tx_counts = np.bincount(sent, minlength=txr.next_frame)
    c = rings.counters
    return {
        "strategy": strategy,
        "exit": leave or "down-swap-up",
        "frames": rings.next_frame + txr.next_frame + refused,
        "link_down_ticks": link_down,
        "dropped": int(sum(c[r].sum() for r in DROP_REASONS)
                       + txr.counters["flushed"].sum()) + refused,
        "lost": int((counts == 0).sum() + (tx_counts == 0).sum()),
        "duplicated": int((counts > 1).sum() + (tx_counts > 1).sum()),
        "copies": int(c["copies"].sum() + c["exit_copies"].sum()),
        "leaked_buffers": (rings.pool.capacity - rings.pool.free_count
                           + txr.pool.capacity - txr.pool.free_count),
        "leave_ticks": leave_ticks,
    }


def report(sc: Scenario, ena: modes_ena.EnaScenario | None = None) -> dict:
    """The soft NIC's rows for ``sc``; with ``ena``, also the ENA adapter's
    (:mod:`ringspec.modes_ena`) under ``"ena"``."""
    doc: dict = {"scenario": asdict(sc),
                 "strategies": [run(strategy, leave, sc) for strategy, leave in RUNS]}
    if ena is not None:
        doc["ena"] = modes_ena.report(ena)
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ringspec modes",
        description="Run one traffic scenario through the classic and the RFC way of "
        "entering and leaving netmap mode (RX and TX rings) and compare them.")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    defaults = Scenario()
    for name, value in asdict(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value,
                            help=f"(default {value})")
    parser.add_argument("--no-ena", action="store_true",
                        help="skip the ENA adapter's rows (its scenario is fixed)")
    args = parser.parse_args(argv)
    sc = Scenario(**{k: getattr(args, k) for k in asdict(defaults)})
    if sc.queues < 1 or sc.ring_size < 2 or not 0 <= sc.enter_at < sc.exit_at <= sc.ticks:
        parser.error("need queues >= 1, ring-size >= 2 and 0 <= enter-at < exit-at <= ticks")
    doc = report(sc, None if args.no_ena else modes_ena.EnaScenario())
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    cols = ("strategy", "exit", "frames", "link_down_ticks", "dropped", "lost", "duplicated",
            "copies", "leaked_buffers", "leave_ticks")
    _table(cols, doc["strategies"])
    if "ena" in doc:
        print("\non ENA (a hardened adapter, looped back):")
        _table(modes_ena.COLUMNS, doc["ena"]["strategies"])
    return 0


def _table(cols: tuple[str, ...], rows: list[dict]) -> None:
    print("  ".join(f"{c:>15}" for c in cols))
    for row in rows:
        print("  ".join(f"{row[c]!s:>15}" for c in cols))
