"""``netmap_rx``: the soft NIC delivers a batch of 64 B frames on every RX ring -> rxsync
-> the user reads them and releases the slots (the next rxsync gives them back).

The device copies each frame into its posted buffer (DMA), the user gathers the bytes out
of the slots' buffers; frames cycle through three distinct sets, so a stale buffer would
change what the user reads.  The floor is one gather, ``bufs[buf_idx, :64]``, over the
same number of slots.  One rxsync per step refills what the previous step released, so a
ring of N slots carries a batch of at most (N - 1) // 2.
"""

from __future__ import annotations

import math

import numpy as np

from impl.netmap import NetmapAdapter, dma
from ringspec.bench import netmap_port
from ringspec.bench.registry import FRAME, Config, Loop, Moved, Payload, sweep

FRAME_SETS = 3


def adapter(config: Config) -> NetmapAdapter:
    """``queues`` RX rings of ``ring_size`` slots."""
    if not 1 <= config.batch <= (config.ring_size - 1) // 2:
        raise ValueError(f"netmap_rx needs 1 <= batch <= (ring_size - 1) // 2, got {config}")
    return NetmapAdapter(0, config.queues, config.ring_size, extra_bufs=0)


def frame_sets(config: Config, seed: int = 0) -> list[np.ndarray]:
    """The frames a step delivers, ``(queues * batch, 64)`` in (ring, slot) order."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (config.packets, FRAME), dtype=np.uint8)
            for _ in range(FRAME_SETS)]


class Vectorized:
    """The loop through the adapter's batch API; the user side reads and releases every
    ring at once through the shared memory, as an application mapping it would."""

    def __init__(self, config: Config) -> None:
        self.ad = adapter(config)
        self.frames = frame_sets(config)
        self.s = 0
        self.batch, self.n = config.batch, config.ring_size
        hdr = self.ad.mem.headers[: config.queues]
        self.head, self.cur = hdr["head"], hdr["cur"]
        self.slot_buf = self.ad.mem.slot_buf_idx[: config.queues]
        self.slot_len = self.ad.mem.slot_len[: config.queues]
        self.rows = np.arange(config.queues)[:, None]
        self.offsets = np.arange(config.batch)
        self.record = Payload()
        self.packets = config.packets

    def step(self) -> None:
        self.ad.device_deliver(None, self.batch, frames=self.frames[self.s])
        self.s = self.s + 1 if self.s + 1 < FRAME_SETS else 0
        self.ad.rxsync()
        head = self.head.astype(np.int64)
        idx = (head[:, None] + self.offsets) % self.n
        buf = self.slot_buf[self.rows, idx].ravel().astype(np.int64)
        length = self.slot_len[self.rows, idx].ravel().astype(np.int64)
        self.record.add(dma.gather(self.ad.mem.bufs, buf, length), self.packets)
        head = (head + self.batch) % self.n
        self.head[:] = head
        self.cur[:] = head

    def drain(self) -> Moved:
        return self.record.drain()


class Baseline:
    """The same loop one slot at a time (:mod:`ringspec.bench.netmap_port`)."""

    def __init__(self, config: Config) -> None:
        self.ad = adapter(config)
        self.config = config
        self.frames = frame_sets(config)
        self.s = 0
        self.record = Payload()

    def step(self) -> None:
        ad, n, b, queues = self.ad, self.config.ring_size, self.config.batch, self.config.queues
        frames = self.frames[self.s]
        self.s = self.s + 1 if self.s + 1 < FRAME_SETS else 0
        for q in range(queues):
            netmap_port.device_deliver(ad, q, frames[q * b : (q + 1) * b])
        for q in range(queues):
            netmap_port.rxsync(ad, q)
        for q in range(queues):
            head = int(ad.rx.ring_head[q])
            for _ in range(b):
                buf, length = int(ad.rx.slot_buf_idx[q, head]), int(ad.rx.slot_len[q, head])
                self.record.add(ad.mem.bufs[buf, :length].copy(), 1)
                head = head + 1 if head + 1 < n else 0
            ad.rx.ring_head[q] = head
            ad.rx.ring_cur[q] = head

    def drain(self) -> Moved:
        return self.record.drain()


class Floor:
    """One numpy gather of as many 64 B payloads as a step reads, from the same slots."""

    def __init__(self, config: Config) -> None:
        ad = adapter(config)
        n, b = config.ring_size, config.batch
        period = n // math.gcd(n, b)
        rows = np.arange(config.queues)[:, None]
        slots = ad.rx.slot_buf_idx
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
    "netmap_rx",
    "soft NIC delivers 64 B frames -> rxsync -> user reads and releases them",
    make,
    configs=sweep(Config(1, 4096, 512), batches=(1, 8, 64, 256, 1024),
                  ring_sizes=(256, 512, 1024, 2048, 8192), queues=(2, 4, 8, 16, 32),
                  ring_batch=64),
    quick=(Config(1, 1024, 256), Config(4, 256, 32)),
)
