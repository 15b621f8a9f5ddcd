"""An ENA driver in netmap mode over the simulated device, frames looped back, and the
user's side of the rings: writing frames into TX slots (NS_MOREFRAG chains) and reading
packets out of RX slots, as a netmap application does with netmap_user.h."""

from __future__ import annotations

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice, Faults, SimClock, Wire
from impl.ena.driver import DriverConfig, EnaDriver, Policy
from impl.ena.nm_port import EnaNetmap
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


def random_frames(rng: np.random.Generator, k: int, max_frags: int = 3,
                  frag_max: int = 700) -> list[list[bytes]]:
    """``k`` frames of 1..max_frags fragments of 1..frag_max random bytes, each at least
    60 bytes long (an Ethernet frame the device will carry)."""
    out = []
    for _ in range(k):
        m = int(rng.integers(1, max_frags + 1))
        lens = rng.integers(1, frag_max + 1, m)
        lens[0] = max(int(lens[0]), 60 - int(lens[1:].sum()), 1)
        out.append([rng.integers(0, 256, int(x), dtype=np.uint8).tobytes() for x in lens])
    return out
