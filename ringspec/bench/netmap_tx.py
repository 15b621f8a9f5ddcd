"""``netmap_tx``: the user publishes a batch of 64 B frames on every TX ring -> txsync ->
the soft NIC sends and completes them -> txsync reclaims.

Zero-copy TX as netmap applications do it: every slot's buffer holds its frame from the
start (a distinct 64 B pattern per slot), so publishing is writing ``len`` and moving
``head``/``cur``; the bytes move once, when the device gathers them onto the wire.  The
floor is that gather alone: ``bufs[buf_idx, :64]`` over the same slots, step after step.
"""

from __future__ import annotations

import math

import numpy as np

from impl.netmap import NetmapAdapter
from ringspec.bench import netmap_port
from ringspec.bench.registry import FRAME, Config, Loop, Moved, Payload, sweep


def adapter(config: Config, seed: int = 0) -> NetmapAdapter:
    """``queues`` TX rings of ``ring_size`` slots, every slot's buffer holding a frame."""
    if not 1 <= config.batch < config.ring_size:
        raise ValueError(f"netmap_tx needs 1 <= batch < ring_size, got {config}")
    ad = NetmapAdapter(config.queues, 0, config.ring_size, seed=seed, extra_bufs=0)
    bufs = ad.tx.slot_buf_idx.ravel().astype(np.int64)
    rng = np.random.default_rng(seed)
    ad.mem.bufs[bufs, :FRAME] = rng.integers(0, 256, (bufs.size, FRAME), dtype=np.uint8)
    return ad


class Vectorized:
    """The loop through the adapter's batch API, all queues in one call each."""

    def __init__(self, config: Config) -> None:
        self.ad = adapter(config)
        self.batch, self.n = config.batch, config.ring_size
        hdr = self.ad.mem.headers[: config.queues]  # the user's view of its rings
        self.head, self.cur = hdr["head"], hdr["cur"]
        self.slot_len = self.ad.mem.slot_len[: config.queues]
        self.rows = np.arange(config.queues)[:, None]
        self.offsets = np.arange(config.batch)

    def step(self) -> None:
        head = self.head.astype(np.int64)
        self.slot_len[self.rows, (head[:, None] + self.offsets) % self.n] = FRAME
        head = (head + self.batch) % self.n
        self.head[:] = head
        self.cur[:] = head
        self.ad.txsync()
        self.ad.device_complete(None, self.batch)
        self.ad.txsync()

    def drain(self) -> Moved:
        wire = self.ad.wire
        record = Payload([wire.data()], len(wire))
        wire.clear()
        return record.drain()


class Baseline:
    """The same loop one slot at a time (:mod:`ringspec.bench.netmap_port`)."""

    def __init__(self, config: Config) -> None:
        self.ad = adapter(config)
        self.config = config
        self.wire = Payload()

    def step(self) -> None:
        ad, n, b, queues = self.ad, self.config.ring_size, self.config.batch, self.config.queues
        for q in range(queues):
            head = int(ad.tx.ring_head[q])
            for _ in range(b):
                ad.tx.slot_len[q, head] = FRAME
                head = head + 1 if head + 1 < n else 0
            ad.tx.ring_head[q] = head
            ad.tx.ring_cur[q] = head
        for q in range(queues):
            netmap_port.txsync(ad, q)
        for q in range(queues):
            netmap_port.device_complete(ad, q, b, self.wire)
        for q in range(queues):
            netmap_port.txsync(ad, q)

    def drain(self) -> Moved:
        return self.wire.drain()


class Floor:
    """One numpy gather of the payload bytes a step sends (same buffers, same order)."""

    def __init__(self, config: Config) -> None:
        ad = adapter(config)
        n, b = config.ring_size, config.batch
        period = n // math.gcd(n, b)
        rows = np.arange(config.queues)[:, None]
        slots = ad.tx.slot_buf_idx
        self.bufs = ad.mem.bufs
        self.steps = [slots[rows, (s * b + np.arange(b)) % n].ravel().astype(np.intp)
                      for s in range(period)]
        self.s = 0
        self.record = Payload()
        self.packets = config.packets

    def step(self) -> None:
        self.record.add(self.bufs[self.steps[self.s], :FRAME], self.packets)
        self.s = self.s + 1 if self.s + 1 < len(self.steps) else 0

    def drain(self) -> Moved:
        return self.record.drain()


def make(config: Config, variant: str) -> Vectorized | Baseline | Floor:
    return {"vectorized": Vectorized, "baseline": Baseline, "floor": Floor}[variant](config)


LOOP = Loop(
    "netmap_tx",
    "user publishes 64 B frames -> txsync -> soft NIC sends them -> txsync reclaims",
    make,
    configs=sweep(Config(1, 4096, 512), batches=(1, 8, 64, 256, 1024),
                  ring_sizes=(256, 512, 1024, 2048, 8192), queues=(2, 4, 8, 16, 32),
                  ring_batch=64),
    quick=(Config(1, 1024, 512), Config(4, 256, 32)),
)
