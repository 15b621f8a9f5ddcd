"""``rx``: the ENA RX loop -- frames from the wire -> the device (RSS, checksums, scatter
into posted buffers, completions) -> RX cleanup delivers them -> refill.

Every step puts ``batch x queues`` 64 B UDP frames (one flow each) on the wire; RSS spreads
them over the queues through the indirection table; the interrupt handler's cleanup
delivers them and refills.  What a variant moved is the delivered payload, queue by queue
in arrival order.  The floor is the gather of the same frames' bytes.
"""

from __future__ import annotations

import numpy as np

from impl.ena.rxq import RxResult
from impl.ena_defs.constants import MIN_RING_SIZE
from impl.packets import PacketBatch
from ringspec.bench import ena_rig
from ringspec.bench.registry import FRAME, Config, Loop, Moved, Payload, sweep


class _Rx:
    def __init__(self, config: Config) -> None:
        if config.ring_size < MIN_RING_SIZE or not 1 <= config.batch <= config.ring_size // 4:
            raise ValueError(f"rx needs ring_size >= {MIN_RING_SIZE} (ENA_MIN_RING_SIZE) and "
                             f"1 <= batch <= ring_size // 4, got {config}")
        self.bus, self.dev, self.drv = ena_rig.rig(config)
        n = config.packets
        frames = ena_rig.udp_frames(n)
        self.wire = PacketBatch.from_payload(frames.ravel(), np.full(n, FRAME))
        self.record = Payload()
        self.nq = config.queues

    def drain(self) -> Moved:
        return self.record.drain()


class Vectorized(_Rx):
    """The device delivers, the driver's batch cleanup takes everything.  What each step
    delivered is kept as the driver returned it and put in queue order by :meth:`drain`,
    outside the clock (as the ``tx`` loop's wire keeps the device's batches)."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.delivered: list[list[RxResult]] = []
        """Per step since the last drain: the RX cleanup rounds' results."""

    def step(self) -> None:
        self.dev.receive(self.wire)
        self.dev.rx()
        self.delivered.append(self.drv.handle_interrupts().rx)

    def drain(self) -> Moved:
        for rx in self.delivered:  # the steps, outside the clock
            queue = np.concatenate([r.queue for r in rx])
            order = np.argsort(queue, kind="stable")
            chunks = [r.payload[np.repeat(r.offsets, r.lengths) + _within(r.lengths)]
                      for r in rx]
            lengths = np.concatenate([r.lengths for r in rx])
            data = np.concatenate(chunks)
            starts = np.cumsum(lengths) - lengths
            self.record.add(data[np.repeat(starts[order], lengths[order])
                                 + _within(lengths[order])], int(lengths.size))
        self.delivered.clear()
        return self.record.drain()


class Baseline(_Rx):
    """The same, the driver through :mod:`impl.ena.reference_loops`."""

    def step(self) -> None:
        self.dev.receive(self.wire)
        self.dev.rx()
        _done, delivered = ena_rig.reference_cleanup(self.drv, ena_rig.fired_queues(self.drv))
        delivered.sort(key=lambda p: p[0])
        self.record.add(np.frombuffer(b"".join(p[1] for p in delivered), np.uint8),
                        len(delivered))


class Floor:
    """One gather of the frames' bytes."""

    def __init__(self, config: Config) -> None:
        n = config.packets
        self.frames = ena_rig.udp_frames(n).ravel()
        self.index = (FRAME * np.arange(n))[:, None] + np.arange(FRAME)
        self.record = Payload()
        self.packets = n

    def step(self) -> None:
        self.record.add(self.frames[self.index], self.packets)

    def drain(self) -> Moved:
        return self.record.drain()


def _within(lengths: np.ndarray) -> np.ndarray:
    """0, 1, ... within each of the consecutive runs of ``lengths``."""
    starts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) - np.repeat(starts, lengths)


def make(config: Config, variant: str) -> Vectorized | Baseline | Floor:
    return {"vectorized": Vectorized, "baseline": Baseline, "floor": Floor}[variant](config)


LOOP = Loop(
    "rx",
    "ENA RX: 64 B frames from the wire -> device (RSS, checksums) -> cleanup -> refill",
    make,
    configs=sweep(Config(1, 4096, 512), batches=(1, 8, 64, 256, 1024),
                  ring_sizes=(256, 1024, 8192), queues=(4, 8, 32), ring_batch=64),
    quick=(Config(1, 4096, 512), Config(4, 256, 32)),
)
