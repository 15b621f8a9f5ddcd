"""``ena_netmap_rx``: netmap on ENA, RX -- frames from the wire -> the device (RSS, scatter
into the posted netmap buffers, completions) -> ena_netmap_rx_frames hands the slots to
the user -> the user reads and releases them -> ena_netmap_rx_cleanup posts them again.

Every step puts ``batch x queues`` 64 B UDP frames (one flow each) on the wire; RSS spreads
them over the queues.  What a variant moved is the payload the user reads from its RX
slots, ring by ring in slot order (zero-copy: the device wrote it into the netmap buffers;
the read is the gather).  The vectorized variant is :mod:`impl.ena.nm_rx` over all rings
at once, the baseline :mod:`impl.ena.nm_reference` ring by ring, the floor the ``rx``
loop's gather of the same frames' bytes.
"""

from __future__ import annotations

import numpy as np

from impl.ena import nm_reference, nm_rx
from impl.ena_defs.constants import MIN_RING_SIZE
from impl.netmap.ranges import flat_ranges, ring_dist
from impl.packets import PacketBatch
from ringspec.bench import ena_rig
from ringspec.bench.ena_rx import Floor
from ringspec.bench.registry import FRAME, Config, Loop, Moved, Payload, sweep


class _Rings:
    def __init__(self, config: Config, seed: int = 0) -> None:
        if config.ring_size < MIN_RING_SIZE or not 1 <= config.batch <= config.ring_size // 4:
            raise ValueError(f"ena_netmap_rx needs ring_size >= {MIN_RING_SIZE} and "
                             f"1 <= batch <= ring_size // 4, got {config}")
        q = config.queues
        self.dev, self.nm = ena_rig.netmap_rig(config, seed)
        ena_rig.program_rss(self.dev, q)
        frames = ena_rig.udp_frames(config.packets, seed)
        self.wire = PacketBatch.from_payload(frames.ravel(), np.full(config.packets, FRAME))
        self.qs = np.arange(q)
        self.record = Payload()

    def user_reads(self) -> None:
        """The user reads every slot in [head, tail) of every ring and releases them all
        (head = tail, as the prologue then accepts it)."""
        kr, mem = self.nm.rx, self.nm.rings.mem
        kr.ring_tail[:] = kr.rtail[:] = kr.hwtail
        head = kr.ring_head.astype(np.int64)
        count = ring_dist(head, kr.hwtail, kr.num_slots)
        seg, _, idx = flat_ranges(head, count, kr.num_slots)
        bufs = kr.slot_buf_idx[seg, idx].astype(np.int64)
        lens = kr.slot_len[seg, idx].astype(np.int64)
        data = mem.bufs[bufs, :FRAME][np.arange(FRAME)[None, :] < lens[:, None]]
        self.record.add(data, int(count.sum()))
        kr.ring_head[:] = kr.ring_cur[:] = kr.hwtail
        kr.rhead[:] = kr.rcur[:] = kr.hwtail

    def drain(self) -> Moved:
        return self.record.drain()


class Vectorized(_Rings):
    """ena_netmap_rxsync's body on every ring at once."""

    def step(self) -> None:
        self.dev.receive(self.wire)
        self.dev.rx()
        nm_rx.rx_frames(self.nm.rings, self.qs, self.nm.drv.cfg.cdesc_mbz)
        self.user_reads()
        nm_rx.rx_cleanup(self.nm.rings, self.qs)


class Baseline(_Rings):
    """The same, ring by ring, completion by completion (the C loops)."""

    def step(self) -> None:
        self.dev.receive(self.wire)
        self.dev.rx()
        for q in range(self.qs.size):  # the baseline: one ring at a time
            nm_reference.rx_frames(self.nm.rings, q, self.nm.drv.cfg.cdesc_mbz)
        self.user_reads()
        for q in range(self.qs.size):
            nm_reference.rx_cleanup(self.nm.rings, q)


def make(config: Config, variant: str) -> Vectorized | Baseline | Floor:
    return {"vectorized": Vectorized, "baseline": Baseline, "floor": Floor}[variant](config)


LOOP = Loop(
    "ena_netmap_rx",
    "netmap on ENA, RX: 64 B frames from the wire -> device (RSS, scatter) -> "
    "ena_netmap_rx_frames -> the user reads and releases -> ena_netmap_rx_cleanup",
    make,
    configs=sweep(Config(1, 1024, 256), batches=(1, 8, 64), ring_sizes=(256, 4096),
                  queues=(4, 8), ring_batch=64),
    quick=(Config(1, 1024, 256), Config(4, 256, 32)),
)
