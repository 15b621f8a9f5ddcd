"""``tx``: the ENA TX loop -- xmit (drbr, descriptors, doorbell) -> the device sends and
completes out of order -> TX cleanup validates the completions and frees the req_ids.

Every step hands ``batch`` 64 B frames per queue to the driver (one flow per queue, so
``ena_mq_start`` spreads them evenly); the device completes them within an 8-packet
out-of-order window; the interrupt handler's cleanup reclaims them.  The floor is the
gather of the same frames' bytes from host memory.
"""

from __future__ import annotations

import numpy as np

from impl.ena import reference_loops as ref
from impl.ena_defs.constants import MIN_RING_SIZE
from impl.packets import PacketBatch
from ringspec.bench import ena_rig
from ringspec.bench.registry import FRAME, Config, Loop, Moved, Payload, sweep


class _Tx:
    def __init__(self, config: Config) -> None:
        if config.ring_size < MIN_RING_SIZE or not 1 <= config.batch <= config.ring_size // 2:
            raise ValueError(f"tx needs ring_size >= {MIN_RING_SIZE} (ENA_MIN_RING_SIZE) and "
                             f"1 <= batch <= ring_size // 2, got {config}")
        self.bus, self.dev, self.drv = ena_rig.rig(config)
        self.sink = ena_rig.Sink()
        self.dev.link = self.sink
        n = config.packets
        frames = ena_rig.udp_frames(n)
        base = self.bus.mem.alloc(n * FRAME, 64)
        self.bus.mem.data[base:base + n * FRAME] = frames.ravel()
        offsets = base + FRAME * np.arange(n)
        self.batch = PacketBatch.from_arrays(self.bus.mem.data, offsets, np.full(n, FRAME),
                                             np.ones(n, dtype=np.int64))
        self.flowid = np.arange(n) % config.queues
        self.hashtype = np.ones(n, dtype=np.int64)
        self.packets = n

    def drain(self) -> Moved:
        n, data = self.sink.drain()
        record = Payload([data], n)
        return record.drain()


class Vectorized(_Tx):
    """The driver's batch API: one transmit, one device step, one interrupt pass."""

    def step(self) -> None:
        self.drv.transmit(self.batch, flowid=self.flowid, hashtype=self.hashtype)
        self.dev.step()
        self.drv.handle_interrupts()


class Baseline(_Tx):
    """The same driver state through :mod:`impl.ena.reference_loops`, one packet,
    descriptor and completion at a time."""

    def step(self) -> None:
        drv = self.drv
        drv.enqueue(self.batch, flowid=self.flowid, hashtype=self.hashtype)
        _sent, dropped = ref.start_xmit(drv.tx, drv.reset)
        drv.accounting.dropped["dma_mapping_err"] += len(dropped)
        self.dev.step()
        ena_rig.reference_cleanup(drv, ena_rig.fired_queues(drv))


class Floor:
    """One gather of the frames' bytes from host memory."""

    def __init__(self, config: Config) -> None:
        n = config.packets
        self.mem = np.zeros(n * FRAME + 64, dtype=np.uint8)
        self.mem[: n * FRAME] = ena_rig.udp_frames(n).ravel()
        self.index = (FRAME * np.arange(n))[:, None] + np.arange(FRAME)
        self.record = Payload()
        self.packets = n

    def step(self) -> None:
        self.record.add(self.mem[self.index], self.packets)

    def drain(self) -> Moved:
        return self.record.drain()


def make(config: Config, variant: str) -> Vectorized | Baseline | Floor:
    return {"vectorized": Vectorized, "baseline": Baseline, "floor": Floor}[variant](config)


LOOP = Loop(
    "tx",
    "ENA TX: xmit 64 B frames -> doorbell -> device sends, completes out of order -> cleanup",
    make,
    configs=sweep(Config(1, 4096, 512), batches=(1, 8, 64, 256, 1024),
                  ring_sizes=(256, 1024, 8192), queues=(4, 8, 32), ring_batch=64),
    quick=(Config(1, 4096, 512), Config(4, 256, 32)),
)
