"""netmap on ENA, run: an ENA driver in netmap mode over the simulated device with frames
looped back, the user's side of the rings (writing frames into TX slots as NS_MOREFRAG
chains, reading packets out of RX slots, as a netmap application does with
netmap_user.h), and one trace per finding of netmap on ENA, each run as shipped and
hardened -- what the ENA netmap page reports and the tests check."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire
from impl.device.events import SECOND_NS
from impl.ena.driver import DriverConfig, EnaDriver, Policy
from impl.ena.nm_port import EnaNetmap
from impl.ena.rxq import RxResult
from impl.ena.watchdog import SBT_1S, QueueWatch, scan_missing_completions
from impl.ena_defs.constants import DEFAULT_TX_CMP_THRESHOLD, DEFAULT_TX_CMP_TO_S
from impl.ena_defs.regs import ResetReason
from impl.netmap.layout import NS_MOREFRAG


def netmap_rig(llq: bool = False, ring: int = 16, nq: int = 1, window: int = 1,
               policy: Policy = Policy.HARDENED, faults: Faults | None = None,
               seed: int = 0, max_tx_sgl_size: int = 19, extra_bufs: int = 0,
               loop: bool = True) -> tuple[EnaDevice, EnaNetmap]:
    burst = 2048 if llq else 0
    bus = Bus(mem_size=1 << 24)
    dev = EnaDevice(bus, DeviceConfig(llq_entry_size=128, max_tx_burst_bytes=burst, seed=seed),
                    faults=faults, tx_window=window)
    bus.regs.attach(dev)
    bus.llq.attach(dev)
    if loop:
        Wire(SimClock()).loopback(dev)
    drv = EnaDriver(bus, dev, DriverConfig(num_queues=nq, tx_ring_size=ring,
                                           rx_ring_size=ring, llq=llq,
                                           max_tx_burst_bytes=burst, policy=policy,
                                           max_tx_sgl_size=max_tx_sgl_size))
    nm = EnaNetmap.on_driver(drv, extra_bufs=extra_bufs)
    nm.up()
    return dev, nm


def room(nm: EnaNetmap, q: int = 0) -> int:
    """Free TX slots the user owns: [head, tail)."""
    kr = nm.tx
    return int((int(kr.ring_tail[q]) - int(kr.ring_head[q])) % kr.num_slots)


def put_frames(nm: EnaNetmap, frames: list[list[bytes]], q: int = 0) -> None:
    """Write each frame (a list of fragments, one slot each) at ``head`` and publish them
    (head = cur = past the last slot); a fragment other than the last gets NS_MOREFRAG."""
    kr, mem = nm.tx, nm.rings.mem
    n = kr.num_slots
    i = int(kr.ring_head[q])
    for frags in frames:
        for k, frag in enumerate(frags):
            b = int(kr.slot_buf_idx[q, i])
            mem.bufs[b, :len(frag)] = np.frombuffer(frag, dtype=np.uint8)
            kr.slot_len[q, i] = len(frag)
            kr.slot_flags[q, i] = NS_MOREFRAG if k < len(frags) - 1 else 0
            i = (i + 1) % n
    kr.ring_head[q] = kr.ring_cur[q] = i


def take_packets(nm: EnaNetmap, q: int = 0) -> list[bytes]:
    """Read every packet in [head, tail) (NS_MOREFRAG chains joined) and release them."""
    kr, mem = nm.rx, nm.rings.mem
    n = kr.num_slots
    i, tail = int(kr.ring_head[q]), int(kr.ring_tail[q])
    out: list[bytes] = []
    cur = b""
    while i != tail:
        b, ln = int(kr.slot_buf_idx[q, i]), int(kr.slot_len[q, i])
        cur += mem.bufs[b, :ln].tobytes()
        if not kr.slot_flags[q, i] & NS_MOREFRAG:
            out.append(cur)
            cur = b""
        i = (i + 1) % n
    kr.ring_head[q] = kr.ring_cur[q] = tail
    return out


def stack_frames(r: RxResult) -> list[bytes]:
    """The frames one RX cleanup round handed to the stack, each as bytes."""
    ends = r.offsets + r.lengths
    return [r.payload[a:b].tobytes() for a, b in zip(r.offsets, ends, strict=True)]


# ---------------------------------------------------------------------------- traces


@dataclass(frozen=True)
class Outcome:
    """What one trace measured under one driver policy."""

    broken: bool
    """The finding showed (the bad outcome happened)."""
    text: str
    """The measured outcome, in words and numbers."""


@dataclass(frozen=True)
class Trace:
    """One finding of netmap on ENA, run on the implementation."""

    title: str
    rule: str
    """The model's invariant or contract it breaks, or "netmap" for the netmap core's."""
    scenario: str
    run: Callable[[Policy], Outcome]


def every_buffer_once(nm: EnaNetmap) -> bool:
    """Each real netmap buffer is in exactly one place (a slot, a TX packet in flight, a
    posted RX id, the free list)."""
    return nm.rings.buffers_held().tolist() == list(range(2, nm.rings.mem.nbufs))


def round_trip(dev: EnaDevice, nm: EnaNetmap) -> list[bytes]:
    """The device sends and receives; the user reclaims TX slots and reads RX ring 0."""
    dev.step()
    nm.interrupts()
    nm.txsync()
    nm.rxsync()
    return take_packets(nm)


def frames_unread(dev: EnaDevice, nm: EnaNetmap, k: int) -> None:
    """``k`` frames sent one at a time (a small SQ holds few), looped back and synced
    into RX ring 0, where the user leaves them unread."""
    for i in range(k):
        put_frames(nm, [[bytes([65 + i]) * 60]])
        nm.txsync()
        dev.step()
        nm.txsync()
        nm.rxsync()


def _clean_index(policy: Policy) -> Outcome:
    dev, nm = netmap_rig(ring=8, policy=policy)
    for step in range(30):
        put_frames(nm, [[bytes([step]) * 60]] * room(nm))
        nm.txsync()
        if not every_buffer_once(nm):
            ids = nm.drv.tx.free_ids[0].tolist()
            return Outcome(True, f"round {step + 1}: a packet takes a req_id still in flight "
                                 f"and a slot buffer drops out of the ring; free_tx_ids = "
                                 f"{ids}")
        dev.complete_tx(max_per_queue=1)
        nm.txsync()
    return Outcome(False, "30 rounds, every buffer in its place, free_tx_ids = "
                          f"{nm.drv.tx.free_ids[0].tolist()}")


def _unstamped(policy: Policy) -> Outcome:
    dev, nm = netmap_rig(policy=policy, faults=Faults(tx_comp_lost=1.0), loop=False)
    put_frames(nm, [[b"z" * 60]] * 5)
    nm.txsync()
    dev.step()
    nm.txsync()
    watch = QueueWatch.new(1)
    watch.first_interrupt[:] = True
    scan_missing_completions(nm.drv.tx, nm.drv.rx, watch, 0, 4, 10 * SECOND_NS,
                             DEFAULT_TX_CMP_TO_S * SBT_1S, DEFAULT_TX_CMP_THRESHOLD,
                             np.zeros(1, dtype=bool))
    seen = int(watch.missing_tx_comp[0])
    return Outcome(seen == 0, f"5 packets never completed; after 10 s the watchdog counts "
                              f"{seen} missing")


def _repeated_rx_id(policy: Policy) -> Outcome:
    dev, nm = netmap_rig(ring=4, policy=policy, faults=Faults(rx_req_id_dup=1.0))
    put_frames(nm, [[b"p" * 60], [b"q" * 60]])
    nm.txsync()
    dev.step()
    r = nm.rxsync()
    kr = nm.rx
    if int(r.rc[0]) == 0:
        return Outcome(True, f"the second packet is handed to the user in slot 1 with "
                             f"buf_idx {int(kr.slot_buf_idx[0, 1])}; free_rx_ids = "
                             f"{nm.drv.rx.free_ids[0].tolist()}")
    return Outcome(False, f"reset {nm.drv.reset.reason.name}; the user gets the first "
                          f"packet only")


def _gap_refill(policy: Policy) -> Outcome:
    dev, nm = netmap_rig(ring=4, policy=policy)
    got: list[bytes] = []
    frames_unread(dev, nm, 3)
    for _ in range(6):
        nm.txsync()
        put_frames(nm, [[b"L" * 60]])
        nm.txsync()
        dev.step()
        nm.rxsync()
        got += take_packets(nm)
    stalled = len(got) == 0
    return Outcome(stalled, f"3 frames in before the user reads, then 6 more: the user "
                            f"reads {len(got)}; the device drops {dev.stats.rx_no_buffer} "
                            f"for want of a buffer")


def _rollback(policy: Policy) -> Outcome:
    dev, nm = netmap_rig(ring=16, policy=policy)
    nm.drv.tx.cfg = replace(nm.drv.tx.cfg, disable_meta_caching=True)
    put_frames(nm, [[b"x" * 40, b"y" * 40]] * 6)
    nm.txsync()
    flags = int(nm.tx.slot_flags[0, 10])
    back = [p for _ in range(4) for p in round_trip(dev, nm)]
    split = len(back) == 7
    return Outcome(split, f"the 6th 2-slot frame finds the SQ full; its first slot's flags "
                          f"become {flags:#x}; the user receives {len(back)} frames for "
                          f"the 6 sent")


def _prologue_full(policy: Policy) -> Outcome:
    dev, nm = netmap_rig(ring=4, policy=policy)
    frames_unread(dev, nm, 3)
    nm.rx.ring_head[0] = nm.rx.ring_cur[0] = 1  # release one of the three
    r = nm.rxsync()
    refused = not bool(r.accepted[0])
    return Outcome(refused, f"nr_hwcur = nr_hwtail = {int(nm.rx.hwtail[0])}; the user "
                            f"releases one slot (head 0 -> 1): the prologue "
                            f"{'refuses it, netmap_ring_reinit runs' if refused else 'accepts'}")


def _reset_dropped(policy: Policy) -> Outcome:
    from impl.ena.adapter_netmap import AdapterNetmap  # the adapter: a heavier rig
    rig = adapter_rig(policy)
    an = AdapterNetmap(rig.adapter)
    before = rig.dev.mgmt_stats.resets
    rig.adapter.reset.trigger(ResetReason.MISS_TX_CMPL)
    an.reg(True)
    rig.adapter.advance(3 * SECOND_NS)
    n = rig.dev.mgmt_stats.resets - before
    return Outcome(n == 0, f"MISS_TX_CMPL requested, then netmap mode entered: {n} device "
                           f"resets in the next 3 s; reason left: "
                           f"{rig.adapter.reset.reason.name}")


def _down_loses_tx(policy: Policy) -> Outcome:
    from impl.ena.adapter_netmap import AdapterNetmap
    rig = adapter_rig(policy)
    an = AdapterNetmap(rig.adapter)
    an.reg(True)
    assert an.port is not None and an.rings is not None
    put_frames(an.port, [[b"k" * 80]] * 6, q=0)
    an.port.txsync(0)
    rig.adapter.down()
    lost = (an.rings.mem.nbufs - 2) - an.rings.buffers_held().size
    return Outcome(lost > 0, f"6 packets in flight at ena_down: {lost} buffers lost")


def adapter_rig(policy: Policy):  # type: ignore[no-untyped-def]
    """A device and an attached, running EnaAdapter (2 queues of 1024), looped back."""
    from impl.device import SimClock as Clock
    from impl.ena.adapter import AdapterConfig, EnaAdapter

    @dataclass
    class Rig:
        dev: EnaDevice
        adapter: EnaAdapter

    bus = Bus(mem_size=1 << 25, nvec=3)
    clock = Clock()
    dev = EnaDevice(bus, DeviceConfig(max_tx_burst_bytes=2048), clock=clock)
    Wire(Clock()).loopback(dev)
    ad = EnaAdapter(bus, clock, AdapterConfig(ncpus=2, policy=policy))
    assert ad.attach() == 0 and ad.up() == 0
    dev.events.start()
    return Rig(dev, ad)


TRACES = (
    Trace("The clean index mask", "ENA-NM-TX-IDS", "an 8-slot TX ring kept full, the "
          "device completing one packet at a time, in order", _clean_index),
    Trace("netmap TX is never stamped", "ENA-NM-TX-WATCHED", "every TX completion lost "
          "(tx_comp_lost)", _unstamped),
    Trace("A repeated RX req_id is not caught", "ENA-NM-RX-IDS", "a device repeating the "
          "previous RX completion's req_id (rx_req_id_dup)", _repeated_rx_id),
    Trace("The refill posts the gap slot", "ENA-NM-RX-RING", "a 4-slot RX ring, the user "
          "reads only after three frames arrived", _gap_refill),
    Trace("A rolled-back chain loses NS_MOREFRAG", "(slot flags: not in the model)",
          "six 2-slot frames on a 16-slot ring with meta caching off (3 descriptors "
          "each)", _rollback),
    Trace("netmap's RX prologue refuses a full ENA ring", "netmap NM-RX prologue vs "
          "ENA's nr_hwcur", "a 4-slot RX ring whose three posted buffers are all filled",
          _prologue_full),
    Trace("A mode switch drops a pending reset", "ENA-NM-RESET-KEPT", "a reset requested, "
          "then ena_netmap_reg(on) on a running adapter", _reset_dropped),
    Trace("ena_down loses the TX buffers in flight", "(slot buffers: not in the model)",
          "six packets sent, none completed, then ena_down", _down_loses_tx),
)


def run_traces() -> list[tuple[Trace, Outcome, Outcome]]:
    """Every trace, as shipped and hardened."""
    return [(t, t.run(Policy.SHIPPED), t.run(Policy.HARDENED)) for t in TRACES]


def main(argv: list[str] | None = None) -> int:
    """``ringspec ena-netmap``: run every netmap-on-ENA finding as shipped and hardened."""
    p = argparse.ArgumentParser(
        prog="ringspec ena-netmap",
        description="Run each finding of netmap on ENA on the implementation, with the "
                    "driver as shipped and hardened, and print what it measured.")
    p.add_argument("--json", action="store_true", help="print the machine-readable table")
    p.add_argument("--only", default="", help="run only the traces whose title contains this")
    a = p.parse_args(argv)
    rows = [(t, t.run(Policy.SHIPPED), t.run(Policy.HARDENED))
            for t in TRACES if a.only.lower() in t.title.lower()]
    if a.json:
        json.dump({"traces": [{"title": t.title, "rule": t.rule, "scenario": t.scenario,
                               "as_shipped": asdict(s), "hardened": asdict(h)}
                              for t, s, h in rows]}, sys.stdout, indent=1)
        print()
    else:
        for t, s, h in rows:
            print(f"{t.title} ({t.rule})\n  as shipped: "
                  f"{'BROKEN' if s.broken else 'fine'}: {s.text}\n  hardened:   "
                  f"{'BROKEN' if h.broken else 'fine'}: {h.text}")
    return 0
