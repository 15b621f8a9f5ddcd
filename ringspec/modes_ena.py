"""``ringspec modes`` on ENA: the classic ``ena_netmap_reg`` and the 2015 RFC
(:mod:`impl.ena.nm_rfc`, leaving by waiting for traffic and by resetting the RX queues)
through one traffic scenario on a whole adapter and a looped-back simulated device.

The scenario (:class:`EnaScenario`): the adapter (hardened driver, ``queues`` IO queue
pairs of ``ring_size`` slots) runs ``ticks`` ticks of 100 simulated ms.  Every tick
``rate`` frames are sent -- by the stack while the rings are not in netmap mode (held in
its queue while the RFC's exit waits), by the netmap user on TX ring 0 otherwise, as far as
its free slots go -- and loop back into the RX rings; the switch comes after the sending
and the device's receive, with the tick's packets still in flight; then the device
completes, the interrupts are handled and the netmap user syncs and reads everything.
The netmap user is a ``/dev/netmap`` handle (:class:`impl.ena.nm_dev.EnaPorts`): its
NIOCREGIF of every queue pair (NR_REG_ALL_NIC) at tick ``enter_at`` puts the adapter in
netmap mode and its close at ``exit_at`` takes it out; it sends and receives with
NIOCTXSYNC / NIOCRXSYNC.  The run continues until ``ticks`` and until the registration
has ended.

Each frame carries its number, so every frame is accounted for by number: ``frames``
(sent), ``delivered`` (received by the stack or the netmap user), ``dropped`` (discarded
with a counter saying so: the device's ``rx_drops`` -- no posted buffer, or no RX queue,
as while the reset exit has one destroyed -- read through ENA_ADMIN_GET_STATS, and the
driver's ``br_drops`` / ``dma_mapping_err``), ``freed_at_down`` (stack packets
``ena_down`` freed before their completion: lost to the sender, whether or not the device
had sent them), ``lost`` (frames neither delivered, dropped nor freed that way: no counter
anywhere has them -- the filled RX buffers ``ena_down`` frees), ``duplicated`` (received
twice: must be 0), ``copies`` (buffers copied between an mbuf and a netmap buffer),
``ring_resets`` (RX IO queues destroyed and created again by the reset exit),
``device_resets``, ``interface_downs`` (``ena_down`` calls: the interface taken down,
its queues destroyed), ``leaked_buffers`` (netmap buffers neither back in the allocator
nor in a slot when the registration ended: must be 0), ``leave_ticks``
(ticks from the close until the registration ended: 0 when the close finished it) and
``leaked_bytes`` (host memory not returned at the end: must be 0).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, SimClock, Wire
from impl.ena.adapter import AdapterConfig, EnaAdapter
from impl.ena.driver import Policy
from impl.ena.nm_dev import EnaPorts
from impl.ena.nm_rings import EnaNetmapRings
from impl.ena.rxq import RxResult
from impl.netmap.bufpool import RESERVED_BUFS
from impl.netmap.control import NR_REG_ALL_NIC
from impl.packets import PacketBatch
from ringspec.ena_netmap_run import put_frames, room, stack_frames, take_packets

TICK_NS = 100_000_000
FRAME_LEN = 64
COLUMNS = ("strategy", "exit", "frames", "delivered", "dropped", "freed_at_down", "lost",
           "duplicated", "copies", "ring_resets", "device_resets", "interface_downs",
           "leaked_buffers", "leave_ticks", "leaked_bytes")
#: (strategy, how an RFC registration's RX side leaves) of each row.
RUNS = (("classic", ""), ("rfc", "wait"), ("rfc", "reset"))


@dataclass(frozen=True)
class EnaScenario:
    queues: int = 2
    ring_size: int = 256
    rate: int = 32
    ticks: int = 40
    enter_at: int = 10
    exit_at: int = 25


def _frame(number: int) -> bytes:
    """A frame whose every 8 bytes are its number (little endian)."""
    return np.full(FRAME_LEN // 8, number, dtype="<u8").tobytes()


def _numbers(payloads: list[bytes]) -> list[int]:
    return [int(np.frombuffer(p[:8], dtype="<u8")[0]) for p in payloads]


def looped_back_adapter(queues: int, ring_size: int) -> tuple[Bus, EnaDevice, EnaAdapter]:
    """A hardened ENA adapter with ``queues`` IO queue pairs of ``ring_size`` slots, up,
    on a simulated device whose wire loops back."""
    bus = Bus(mem_size=1 << 25, nvec=queues + 1)
    clock = SimClock()
    dev = EnaDevice(bus, DeviceConfig(max_tx_burst_bytes=2048), clock=clock)
    Wire(SimClock()).loopback(dev)
    ad = EnaAdapter(bus, clock, AdapterConfig(ncpus=queues, policy=Policy.HARDENED))
    assert ad.attach() == 0
    ad.requested_tx_ring_size = ad.requested_rx_ring_size = ring_size
    assert ad.up() == 0
    dev.events.start()
    return bus, dev, ad


class _Run:
    """One adapter, its device and the frames' ledger for one strategy."""

    def __init__(self, strategy: str, sc: EnaScenario, rx_exit: str = "wait") -> None:
        self.sc = sc
        self.bus, self.dev, self.ad = looped_back_adapter(sc.queues, sc.ring_size)
        ad = self.ad
        self.ports = EnaPorts()
        self.an = self.ports.attach_ena("ena0", ad, strategy=strategy, rx_exit=rx_exit)
        self.handle = self.ports.open()
        self.arena = self.bus.mem.alloc(sc.rate * FRAME_LEN, 64)
        self.sent = 0
        self.received: list[int] = []
        ad.on_stack_rx = self._stack_receives
        self.baseline = self.bus.mem.allocated
        self.resets0 = self.dev.mgmt_stats.resets
        self.downs0 = ad.stats.interface_down

    def _stack_receives(self, r: RxResult) -> None:
        self.received += _numbers(stack_frames(r))

    def send(self) -> None:
        """The tick's frames: by the netmap user in netmap mode, else by the stack."""
        sc, an, ad = self.sc, self.an, self.ad
        if an.native and an.port is not None:
            k = min(sc.rate, room(an.port, 0))
            put_frames(an.port, [[_frame(self.sent + i)] for i in range(k)], q=0)
            assert self.ports.txsync(self.handle) == 0
            self.sent += k
        elif ad.driver is not None:
            frames = b"".join(_frame(self.sent + i) for i in range(sc.rate))
            self.bus.mem.data[self.arena:self.arena + len(frames)] = np.frombuffer(
                frames, dtype=np.uint8)
            offsets = self.arena + FRAME_LEN * np.arange(sc.rate)
            ad.driver.transmit(PacketBatch.from_arrays(self.bus.mem.data, offsets,
                                                       np.full(sc.rate, FRAME_LEN)))
            self.sent += sc.rate

    def finish_tick(self) -> None:
        an = self.an
        self.dev.complete_tx()
        self.dev.rx()
        self.ad.handle_interrupts()
        if an.native and an.port is not None:
            assert self.ports.txsync(self.handle) == 0
            assert self.ports.rxsync(self.handle) == 0
            for q in range(an.port.rx.count):
                self.received += _numbers(take_packets(an.port, q))
        self.ad.advance(TICK_NS)


def run(strategy: str, leave: str, sc: EnaScenario) -> dict[str, int | str]:
    """The scenario through one strategy (``leave``: the RFC's RX exit); the figures of
    the module docstring."""
    r = _Run(strategy, sc, leave or "wait")
    an = r.an
    registration = None
    leave_ticks = 0
    leaving_since: int | None = None
    tick = 0
    while tick < sc.ticks or an.rings is not None:
        r.send()
        r.dev.rx()
        if tick == sc.enter_at:
            assert r.ports.register(r.handle, "ena0", NR_REG_ALL_NIC) == 0
            registration = an.rings
        if tick == sc.exit_at:
            assert r.ports.close(r.handle) == 0
            leaving_since = tick if an.leaving else None
        r.finish_tick()
        if leaving_since is not None and not an.leaving:
            leave_ticks, leaving_since = tick - leaving_since + 1, None
        tick += 1
        if tick > sc.ticks + 100:
            raise RuntimeError(f"{strategy}/{leave}: the registration never ended")
    counts = np.bincount(np.asarray(r.received, dtype=np.int64), minlength=r.sent)
    ledger = r.ad.packets()
    rc, hw = r.ad.get_basic_stats()
    assert rc == 0, f"ENA_ADMIN_GET_STATS failed: {rc}"
    dropped = hw["rx_drops"] + ledger.dropped
    got = int((counts > 0).sum())
    return {
        "strategy": strategy,
        "exit": leave or "down-swap-up",
        "frames": r.sent,
        "delivered": got,
        "dropped": dropped,
        "freed_at_down": ledger.freed_at_down,
        "lost": r.sent - got - dropped - ledger.freed_at_down,
        "duplicated": int((counts > 1).sum()),
        "copies": int(registration.copies.sum()) if registration is not None else 0,
        "ring_resets": int(registration.ring_resets.sum()) if registration is not None else 0,
        "device_resets": r.dev.mgmt_stats.resets - r.resets0,
        "interface_downs": r.ad.stats.interface_down - r.downs0,
        "leaked_buffers": _leaked_buffers(registration),
        "leave_ticks": leave_ticks,
        "leaked_bytes": r.bus.mem.allocated - r.baseline,
    }


def _leaked_buffers(rings: EnaNetmapRings | None) -> int:
    """Real netmap buffers of the ended registration neither free in its allocator nor in
    one of its slots (where ``ena_down`` puts the buffers it takes back in the classic
    way): what went missing with the device."""
    if rings is None:
        return 0
    mem = rings.mem
    return mem.nbufs - RESERVED_BUFS - mem.pool.nfree - int((mem.slot_buf_idx != 0).sum())


def report(sc: EnaScenario) -> dict:
    return {"scenario": asdict(sc),
            "strategies": [run(strategy, leave, sc) for strategy, leave in RUNS]}
