"""``ena_netmap_tx``: netmap on ENA, TX -- the user publishes a batch of 64 B frames on every
TX ring -> ena_netmap_tx_frames hands them to the device (descriptors, doorbell) -> the
device sends and completes them -> ena_netmap_tx_cleanup returns the buffers.

Zero-copy as ``netmap_tx``: every slot's buffer holds its frame from the start, so
publishing is writing ``len`` and moving ``head`` (``rhead`` as the prologue accepts it;
``tail`` as nm_sync_finalize shows it).  The vectorized variant is :mod:`impl.ena.nm_tx`
over all rings at once, the baseline the slot-at-a-time port of the C loops
(:mod:`impl.ena.nm_reference`), the floor the gather of the frames' bytes.
"""

from __future__ import annotations

import numpy as np

from impl.ena import nm_reference, nm_tx
from impl.ena_defs.constants import MIN_RING_SIZE
from ringspec.bench import ena_rig
from ringspec.bench.ena_rig import Sink
from ringspec.bench.registry import FRAME, Config, Loop, Moved, Payload, sweep


class _Rings:
    def __init__(self, config: Config, seed: int = 0) -> None:
        if config.ring_size < MIN_RING_SIZE or not 1 <= config.batch <= config.ring_size // 2:
            raise ValueError(f"ena_netmap_tx needs ring_size >= {MIN_RING_SIZE} and "
                             f"1 <= batch <= ring_size // 2, got {config}")
        q, n = config.queues, config.ring_size
        self.dev, self.nm = ena_rig.netmap_rig(config, seed)
        self.sink = Sink()
        self.dev.link = self.sink
        kr, mem = self.nm.tx, self.nm.rings.mem
        bufs = kr.slot_buf_idx.ravel().astype(np.int64)
        rng = np.random.default_rng(seed)
        mem.bufs[bufs, :FRAME] = rng.integers(0, 256, (bufs.size, FRAME), dtype=np.uint8)
        kr.slot_len[:] = FRAME
        self.qs = np.arange(q)
        self.batch, self.n = config.batch, n

    def publish(self) -> None:
        """The user hands ``batch`` more slots on every ring (the prologue accepts)."""
        kr = self.nm.tx
        head = (kr.rhead + self.batch) % self.n
        kr.ring_head[:] = kr.ring_cur[:] = head
        kr.rhead[:] = kr.rcur[:] = head

    def finalize(self) -> None:
        kr = self.nm.tx
        kr.rtail[:] = kr.hwtail
        kr.ring_tail[:] = kr.hwtail

    def drain(self) -> Moved:
        n, data = self.sink.drain()
        return Payload([data], n).drain()


class Vectorized(_Rings):
    """ena_netmap_txsync's body on every ring at once."""

    def step(self) -> None:
        self.publish()
        rings = self.nm.rings
        nm_tx.tx_frames(rings, self.qs)
        self.dev.complete_tx()
        nm_tx.tx_cleanup(rings, self.qs, self.nm.drv.cfg.cdesc_mbz)
        self.finalize()


class Baseline(_Rings):
    """The same, ring by ring, slot by slot (the C loops)."""

    def step(self) -> None:
        self.publish()
        rings = self.nm.rings
        for q in range(self.qs.size):  # the baseline: one ring at a time
            nm_reference.tx_frames(rings, q)
        self.dev.complete_tx()
        for q in range(self.qs.size):
            nm_reference.tx_cleanup(rings, q, self.nm.drv.cfg.cdesc_mbz)
        self.finalize()


class Floor:
    """One gather of the frames' bytes from the netmap buffers, step after step."""

    def __init__(self, config: Config) -> None:
        rig = _Rings(config)
        kr, mem = rig.nm.tx, rig.nm.rings.mem
        self.bufs = mem.bufs
        slots = (np.arange(config.batch)[None, :] % config.ring_size)
        self.idx = kr.slot_buf_idx[np.arange(config.queues)[:, None], slots].ravel()
        self.record = Payload()
        self.packets = config.packets

    def step(self) -> None:
        self.record.add(self.bufs[self.idx, :FRAME], self.packets)

    def drain(self) -> Moved:
        return self.record.drain()


def make(config: Config, variant: str) -> Vectorized | Baseline | Floor:
    return {"vectorized": Vectorized, "baseline": Baseline, "floor": Floor}[variant](config)


LOOP = Loop(
    "ena_netmap_tx",
    "netmap on ENA, TX: publish 64 B frames -> ena_netmap_tx_frames -> device sends, "
    "completes -> ena_netmap_tx_cleanup",
    make,
    configs=sweep(Config(1, 1024, 512), batches=(1, 8, 64, 256),
                  ring_sizes=(256, 4096), queues=(4, 8), ring_batch=64),
    quick=(Config(1, 1024, 512), Config(4, 256, 32)),
)
