"""``ringspec faults``: every fault knob of the simulated ENA device, one scenario each,
with traffic, through the driver's management plane -- what the driver does about it.

Each scenario attaches an adapter to a fresh device (LLQ with a 2 KiB burst limit, two
queue pairs, loopback wire), brings it up, and runs ``DURATION_S`` simulated seconds in
100 ms steps: 32 frames sent, the device completes and receives, the IO interrupts are
handled, the clock (and with it the keep-alives and the one-second timer service)
advances; once a second a monitor reads the device statistics (an admin command, so the
admin-queue faults have a command to hit). The fault knob is switched on at 2 s for its
window, then off. The scenario then records:

* ``reset_reason``: the reason of the first reset the driver performed (``NORMAL`` if
  none); ``expected_reason``: what the driver is meant to report for that fault;
* ``recovered``: at the end the adapter is running and up, no reset is pending and
  traffic completes again;
* ``leaked_buffers``: host-memory blocks still allocated after a graceful detach, beyond
  what was allocated before attach (0 means every ring, buffer and admin structure came
  back across every destroy/restore);
* ``lost_packets``: TX packets the driver accepted and then freed without a completion
  (queued or in flight at an ``ena_down`` of the reset flow);
* ``ticks_to_recover``: timer ticks (seconds) from the fault's start to the adapter being
  up again after its last reset (0: no reset; null: never recovered).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire
from impl.device.mgmt_faults import MgmtFaults
from impl.ena.adapter import AdapterConfig, EnaAdapter
from impl.ena_defs.regs import ResetReason
from impl.packets import PacketBatch

STEP_NS = 100_000_000
DURATION_S = 30
FAULT_START_S = 2
FRAMES_PER_STEP = 32
R = ResetReason


@dataclass(frozen=True)
class Scenario:
    fault: str
    expected: tuple[ResetReason, ...]
    """Any of these is right (several where RX and TX race to report first)."""
    window_s: int = 1
    datapath: bool = True
    extra: tuple[tuple[str, float], ...] = ()
    """Other management knobs switched on in the same window (to give the fault a
    reader: a device-requested reset makes the driver reset an unresponsive device)."""
    note: str = ""
    recovers: bool = True
    """The driver is meant to come back (False: the C gives up, timer off)."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("tx_req_id_oob", (R.INV_TX_REQ_ID,)),
    Scenario("tx_req_id_dup", (R.INV_TX_REQ_ID,)),
    Scenario("tx_req_id_stale", (R.INV_TX_REQ_ID,)),
    Scenario("cdesc_mbz", (R.RX_DESCRIPTOR_MALFORMED, R.TX_DESCRIPTOR_MALFORMED)),
    Scenario("tx_comp_lost", (R.MISS_TX_CMPL,), note="seen after missing_tx_timeout (5 s)"),
    Scenario("rx_first_not_first", (R.RX_DESCRIPTOR_MALFORMED,)),
    Scenario("rx_too_many_descs", (R.TOO_MANY_RX_DESCS,)),
    Scenario("rx_req_id_invalid", (R.INV_RX_REQ_ID,)),
    Scenario("rx_req_id_dup", (R.INV_RX_REQ_ID,),
             note="ena_rx_mbuf finds no buffer behind the repeated id"),
    Scenario("llq_burst_overrun", (R.MISS_TX_CMPL,), window_s=14,
             note="one packet dropped per doorbell, no completion for it; the reset needs "
                  "more than 128 missing on one queue"),
    Scenario("keep_alive_missing", (R.KEEP_ALIVE_TO,), window_s=8, datapath=False),
    Scenario("admin_comp_lost", (R.ADMIN_TO,), datapath=False),
    Scenario("admin_comp_late", (R.ADMIN_TO,), datapath=False,
             note="the waiter times out; the entry written 50 ms later finds its context "
                  "released and is ignored"),
    Scenario("admin_intr_lost", (R.NORMAL,), datapath=False,
             note="the next keep-alive's interrupt (same vector) delivers the completion"),
    Scenario("device_reset_request", (R.DEVICE_REQUEST,), datapath=False),
    Scenario("link_flap", (R.NORMAL,), datapath=False, note="link events only, no reset"),
    Scenario("readless_timeout", (R.DEVICE_REQUEST,), window_s=3, datapath=False,
             extra=(("device_reset_request", 1.0),),
             note="with a reset requested, each tick reads the version and skips the reset "
                  "while the device does not answer (FW unresponsive)"),
    Scenario("readless_bad_offset", (R.DEVICE_REQUEST,), window_s=3, datapath=False,
             extra=(("device_reset_request", 1.0),),
             note="as readless_timeout: a response for another register counts as none"),
    Scenario("reset_unresponsive", (R.DEVICE_REQUEST,), window_s=3, datapath=False,
             extra=(("device_reset_request", 1.0),),
             note="the restore cannot reset the device: the driver gives up", recovers=False),
    Scenario("feature_unsupported", (R.DEVICE_REQUEST,), window_s=3, datapath=False,
             extra=(("device_reset_request", 1.0),),
             note="the restore's feature reads fail: the driver gives up", recovers=False),
    Scenario("create_cq_refused", (R.DEVICE_REQUEST,), window_s=3, datapath=False,
             extra=(("device_reset_request", 1.0),),
             note="the restore's ena_up fails: ena_com_abort_admin_commands, the device "
                  "reset with DRIVER_INVALID_STATE, the driver gives up", recovers=False),
)


@dataclass
class Outcome:
    fault: str
    reset_reason: str
    expected_reason: str
    recovered: bool
    leaked_buffers: int
    lost_packets: int
    ticks_to_recover: int | None
    resets: int
    note: str
    expected_recovery: bool
    unaccounted: int
    """Accepted TX packets in no column of the ledger (a driver bug if not 0)."""


    @property
    def as_expected(self) -> bool:
        return (self.reset_reason in self.expected_reason.split("|")
                and self.recovered == self.expected_recovery and self.leaked_buffers == 0
                and self.unaccounted == 0)


def _frame_pool(bus: Bus, rng: np.random.Generator, n: int) -> PacketBatch:
    lengths = rng.integers(60, 4000, n)
    total = int(lengths.sum())
    base = bus.mem.alloc(total, 64)
    bus.mem.data[base:base + total] = rng.integers(0, 256, total, dtype=np.uint8)
    return PacketBatch.from_arrays(bus.mem.data, base + np.cumsum(lengths) - lengths, lengths)


def run(s: Scenario, seed: int = 0, duration_s: int = DURATION_S) -> Outcome:
    """One scenario (deterministic for a seed)."""
    bus = Bus(mem_size=1 << 25, nvec=3)
    clock = SimClock()
    dev = EnaDevice(bus, DeviceConfig(max_tx_burst_bytes=2048, seed=seed), clock=clock)
    Wire(SimClock()).loopback(dev)
    rng = np.random.default_rng(seed)
    pool = _frame_pool(bus, rng, FRAMES_PER_STEP)
    baseline = len(bus.mem._blocks)
    adapter = EnaAdapter(bus, clock, AdapterConfig(ncpus=2))
    if adapter.attach() or adapter.up():
        raise RuntimeError(f"{s.fault}: the adapter did not come up on a healthy device")
    dev.events.start()
    on = {s.fault: 1.0, **dict(s.extra)}
    dp = replace(Faults(), **{s.fault: 1.0}) if s.datapath else Faults()
    mg = replace(MgmtFaults(), **{k: v for k, v in on.items() if k in MgmtFaults.names()})
    start_ns, stop_ns = FAULT_START_S * 10**9, (FAULT_START_S + s.window_s) * 10**9

    def switch(d: Faults, m: MgmtFaults) -> None:
        dev.faults = d
        dev.set_mgmt_faults(m)
    # on the clock, so the window holds even while the driver waits inside a step
    clock.call_at(start_ns, lambda: switch(dp, mg))
    clock.call_at(stop_ns, lambda: switch(Faults(), MgmtFaults()))
    first_reason: int | None = None
    seen_resets = 0
    last_up_ns: int | None = None
    completed_at: list[int] = []
    for step in range(duration_s * 10):
        if adapter.driver is not None and adapter.flags.dev_up:
            adapter.driver.transmit(pool, curcpu=step)
        dev.step()
        adapter.handle_interrupts()
        if step % 10 == 5:
            adapter.get_basic_stats()
        adapter.advance(STEP_NS)
        if adapter.stats.total_resets > seen_resets:
            seen_resets = adapter.stats.total_resets
            if first_reason is None:
                first_reason = next(iter(adapter.stats.resets))
            if adapter.flags.device_running and adapter.flags.dev_up:
                last_up_ns = clock.now_ns
        completed_at.append(adapter.packets().completed)
    f = adapter.flags
    flowing = len(completed_at) > 20 and completed_at[-1] > completed_at[-20]
    recovered = f.device_running and f.dev_up and not adapter.reset.triggered and flowing
    led = adapter.packets()
    unaccounted = led.accepted - led.completed - led.dropped - led.freed_at_down
    adapter.destroy_device(graceful=True)
    leaked = len(bus.mem._blocks) - baseline
    if seen_resets == 0:
        ticks: int | None = 0
    elif recovered and last_up_ns is not None:
        ticks = -(-(last_up_ns - start_ns) // 10**9)
    else:
        ticks = None
    reason = R(first_reason) if first_reason is not None else R.NORMAL
    return Outcome(s.fault, reason.name, "|".join(r.name for r in s.expected), recovered,
                   leaked, led.freed_at_down, ticks, seen_resets, s.note, s.recovers,
                   unaccounted)


def _run_one(args: tuple[Scenario, int]) -> Outcome:
    return run(*args)


def run_all(seed: int = 0, only: str | None = None, jobs: int = 1) -> list[Outcome]:
    """Every scenario (or those matching ``only``), in table order; ``jobs`` processes
    (each scenario is deterministic on its own, so the table does not depend on it)."""
    todo = [(s, seed) for s in SCENARIOS if only is None or only in s.fault]
    if jobs <= 1 or len(todo) <= 1:
        return [_run_one(t) for t in todo]
    ctx = multiprocessing.get_context("fork" if "fork" in
                                      multiprocessing.get_all_start_methods() else None)
    with ctx.Pool(min(jobs, len(todo))) as pool:
        return pool.map(_run_one, todo, chunksize=1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ringspec faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print the machine-readable table")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", help="run only the faults whose name contains this")
    p.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                   help="processes (default: the cores this process may use)")
    a = p.parse_args(argv)
    out = run_all(a.seed, a.only, a.jobs)
    if a.json:
        keys = ("fault", "reset_reason", "expected_reason", "recovered", "leaked_buffers",
                "lost_packets", "ticks_to_recover")
        rows = [{k: asdict(o)[k] for k in keys} for o in out]
        json.dump({"faults": rows}, sys.stdout, indent=1)
        print()
    else:
        for o in out:
            mark = "ok " if o.as_expected else "BAD"
            print(f"{mark} {o.fault:22s} reset={o.reset_reason:24s} "
                  f"expected={o.expected_reason:40s} recovered={o.recovered!s:5s} "
                  f"leaked={o.leaked_buffers} lost={o.lost_packets} "
                  f"ticks={o.ticks_to_recover}")
    return 0 if all(o.as_expected for o in out) else 1
