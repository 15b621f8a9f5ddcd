"""What the ENA ``tx`` and ``rx`` loops share: driver and device on one bus, 64 B frames.

The *driver* is what the loops compare: the vectorized one (:mod:`impl.ena`) against its
slot-at-a-time port (:mod:`impl.ena.reference_loops`, the C's loops one packet, descriptor
and completion at a time).  Both talk to the same simulated device, which is hardware here
and not part of what is ported.
"""

from __future__ import annotations

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice
from impl.ena import reference_loops as ref
from impl.ena.driver import DriverConfig, EnaDriver, Policy
from impl.ena.nm_port import EnaNetmap
from impl.ena_defs.constants import SqDirection
from impl.ena_defs.layouts import IntrReg
from impl.packets import PacketBatch
from ringspec.bench.registry import FRAME, Config

#: The TX completion window of the device: completions out of order within 8 packets.
TX_WINDOW = 8


class Sink:
    """The wire on the TX side: keeps what the device sent, for :meth:`drain`."""

    def __init__(self) -> None:
        self.batches: list[PacketBatch] = []

    def transmit(self, src: EnaDevice, frames: PacketBatch) -> None:
        self.batches.append(frames)

    def drain(self) -> tuple[int, np.ndarray]:
        n = sum(len(b) for b in self.batches)
        data = (np.concatenate([b.payload() for b in self.batches]) if self.batches
                else np.zeros(0, np.uint8))
        self.batches.clear()
        return n, data


def rig(config: Config, seed: int = 0) -> tuple[Bus, EnaDevice, EnaDriver]:
    """A device and an up driver with ``config.queues`` queue pairs of ``ring_size``."""
    need = config.queues * config.ring_size * (2048 + 64) + (64 << 20)
    bus = Bus(mem_size=need)
    dev = EnaDevice(bus, DeviceConfig(seed=seed, max_queues=max(32, 2 * config.queues)),
                    tx_window=TX_WINDOW)
    bus.regs.attach(dev)
    bus.llq.attach(dev)
    drv = EnaDriver(bus, dev, DriverConfig(
        num_queues=config.queues, tx_ring_size=config.ring_size,
        rx_ring_size=config.ring_size, buf_ring_size=max(4096, 2 * config.ring_size)))
    drv.up()
    program_rss(dev, config.queues)
    return bus, dev, drv


def netmap_rig(config: Config, seed: int = 0) -> tuple[EnaDevice, EnaNetmap]:
    """A device and a hardened driver with ``config.queues`` queue pairs of
    ``ring_size``, in netmap mode (netmap rings sized like the queues, up)."""
    q, n = config.queues, config.ring_size
    bus = Bus(mem_size=q * n * (2 * 2048 + 64) + (64 << 20))
    dev = EnaDevice(bus, DeviceConfig(seed=seed, max_queues=max(32, 2 * q)),
                    tx_window=TX_WINDOW)
    bus.regs.attach(dev)
    bus.llq.attach(dev)
    drv = EnaDriver(bus, dev, DriverConfig(num_queues=q, tx_ring_size=n, rx_ring_size=n,
                                           policy=Policy.HARDENED))
    nm = EnaNetmap.on_driver(drv)
    nm.up()
    return dev, nm


#: A fixed 40-byte Toeplitz key (the one of Microsoft's RSS verification suite).
RSS_KEY = bytes.fromhex("6d5a56da255b0ec24167253d43a38fb0d0ca2bcb"
                        "ae7b30b477cb2da38030f20c6a42b73bbeac01fa")


def program_rss(dev: EnaDevice, queues: int) -> None:
    """What ``ena_rss_init_default`` programs through the admin queue (which does not
    exist yet): a Toeplitz key and the indirection table spreading its 128 entries over
    the queues' RX SQs (``ENA_IO_RXQ_IDX(q) = 2q + 1``)."""
    table = 2 * (np.arange(len(dev.rss.table)) % queues) + 1
    if not (dev.queues.sq_dir[np.unique(table)] == int(SqDirection.RX)).all():
        raise RuntimeError("the device did not number the RX SQs 2q + 1")
    dev.rss.set_key(RSS_KEY[::-1])
    dev.rss.table[:] = table


def udp_frames(n: int, seed: int = 0) -> np.ndarray:
    """``n`` 64 B Ethernet/IPv4/UDP frames, one flow each (source port and address vary,
    so RSS spreads them), random payload: an ``(n, 64)`` uint8 array."""
    rng = np.random.default_rng(seed)
    f = np.zeros((n, FRAME), dtype=np.uint8)
    f[:, 0:6] = np.arange(1, 7)
    f[:, 6:12] = np.arange(7, 13)
    f[:, 12:14] = (0x08, 0x00)
    f[:, 14] = 0x45
    f[:, 16:18] = (0, FRAME - 14)
    f[:, 22] = 64
    f[:, 23] = 17  # UDP
    f[:, 26:30] = (10, 0, 0, 1)
    f[:, 28] = np.arange(n) & 0xFF
    f[:, 29] = (np.arange(n) >> 8) & 0xFF
    f[:, 30:34] = (10, 0, 1, 1)
    port = 1024 + np.arange(n)
    f[:, 34] = port >> 8
    f[:, 35] = port & 0xFF
    f[:, 36:38] = (0x12, 0x34)
    f[:, 38:40] = (0, FRAME - 34)
    f[:, 42:] = rng.integers(0, 256, (n, FRAME - 42), dtype=np.uint8)
    return f


def reference_cleanup(drv: EnaDriver, queues: list[int]) -> tuple[list[int], list[tuple]]:
    """:meth:`EnaDriver.cleanup` through the slot-at-a-time port: ``ena_cleanup`` on
    ``queues``, then the unmask writes; returns (completed ids, delivered packets)."""
    if not drv.datapath_up or not queues:
        return [], []
    cfg = drv.cfg
    done, delivered, unmasked = ref.cleanup(drv.tx, drv.rx, queues, cfg.cdesc_mbz,
                                            drv.hardened, drv.reset)
    drv.accounting.completed += len(done)
    if unmasked:
        val = (IntrReg.RX_INTR_DELAY.put(20) | IntrReg.TX_INTR_DELAY.put(50)
               | IntrReg.INTR_UNMASK.put(1)).item()
        drv.tx.stats.unmask_interrupt_num[unmasked] += 1
        drv.bus.regs.write32_batch(drv.unmask_off[unmasked], np.full(len(unmasked), val))
    return done, delivered


def fired_queues(drv: EnaDriver) -> list[int]:
    """The IO queues whose MSI-X vector fired since the last look (vector q+1)."""
    vec = drv.bus.msix.take()
    return sorted(set((vec[(vec >= 1) & (vec <= drv.cfg.num_queues)] - 1).tolist()))
