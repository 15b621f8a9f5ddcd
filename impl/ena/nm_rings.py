"""netmap native mode on ENA: the netmap memory inside the device's host memory, one TX
and one RX kring per IO queue pair, and the per-``req_id`` netmap state of the driver.

``ena_netmap_attach`` registers ``num_io_queues`` TX and RX rings of the requested ring
sizes (``num_tx_desc``, ``num_rx_desc``), so netmap slot ``i`` and ENA ``free_*_ids``
position ``i`` index rings of the same size; ringspec's netmap memory has one slot count,
so the TX and RX ring sizes must be equal.  The buffers live in the bus's host memory:
a netmap buffer's DMA address is what ``PNMB`` returns, and an index that is not a real
buffer (0 or past the pool) maps to buffer 0, as netmap's lookup does.

Per ``req_id`` the driver keeps, on TX, ``tx_info->nm_info`` (``sockets_used`` and the
``socket_buf_idx`` of every slot of the packet: the slots are zeroed while the device
owns their buffers) and ``tx_descs``; on RX, ``rx_info->netmap_buf_idx`` (0 = nothing
posted under this id).

Upstream: ena_netmap_attach and the ``ena_netmap_tx_info`` / ``netmap_buf_idx`` fields,
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_netmap.c#L85
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.h#L290
"""

from __future__ import annotations

import numpy as np

from impl.bus import Bus
from impl.ena.driver import EnaDriver, Policy
from impl.netmap.kring import Krings
from impl.netmap.mem import NetmapMemory


class EnaNetmapRings:
    """The netmap side of one ENA adapter in native mode: the memory and krings live as
    long as the registration; the per-id state belongs to the driver's rings of the
    moment (:meth:`bind`, at every ``ena_up``)."""

    def __init__(self, bus: Bus, num_queues: int, ring_size: int, max_tx_sgl_size: int,
                 hardened: bool, buf_size: int = 2048, extra_bufs: int = 0) -> None:
        if extra_bufs < 0:
            raise ValueError(f"extra_bufs must be >= 0, got {extra_bufs}")
        self.bus = bus
        self.hardened = hardened
        nq, n = num_queues, ring_size
        self.num_slots = n
        self.max_tx_sgl_size = max_tx_sgl_size
        nbufs = self.nbufs(nq, n, extra_bufs)
        self.size = self.memsize(nq, n, buf_size, extra_bufs)
        self.base = bus.mem.alloc(self.size, 4096)
        arena = bus.mem.data[self.base:self.base + self.size]
        self.mem = NetmapMemory(2 * nq, n, buf_size, nbufs, arena=arena)
        self.tx = Krings("tx", self.mem, 0, nq)
        self.rx = Krings("rx", self.mem, nq, nq)
        self.mem.slot_buf_idx[:] = self.mem.alloc(2 * nq * n).reshape(2 * nq, n)
        self._drv: EnaDriver | None = None
        self.tx_sockets = np.zeros((nq, n), dtype=np.int64)
        """``nm_info.sockets_used`` per (queue, req_id): slots the packet took."""
        self.tx_socket_buf = np.zeros((nq, n, max_tx_sgl_size), dtype=np.int64)
        """``nm_info.socket_buf_idx``: the buffer of each slot of the packet, in order."""
        self.rx_buf = np.zeros((nq, n), dtype=np.int64)
        """``rx_info->netmap_buf_idx`` per (queue, req_id); 0 = nothing posted."""
        self.rx_initialized = np.zeros(nq, dtype=bool)
        """``rx_ring->initialized``: the first fill is done (it ignores rhead)."""
        self.copies = np.zeros(nq, dtype=np.int64)
        """Per RX ring: packets copied between a stack mbuf and a netmap buffer (the RFC's
        way in and out, :mod:`impl.ena.nm_rfc`), over the registration."""
        self.frees_stack_mbufs = False
        """A completion of a stack packet on a netmap ring frees its mbuf: the RFC's design
        (:func:`impl.ena.nm_rfc.enter`).  ena_netmap_tx_clean_one does not: the mbuf and
        its ``tx_info->timestamp`` stay until the next ``ena_down``."""
        self.ring_resets = np.zeros(nq, dtype=np.int64)
        """Per RX ring: times its IO queue was destroyed and created again to take the
        netmap buffers back from the device (the RFC's reset exit,
        :func:`impl.ena.nm_rfc.reset_rx_ring`)."""

    @staticmethod
    def nbufs(num_queues: int, ring_size: int, extra_bufs: int) -> int:
        """Buffers of the memory: the two reserved ones, one per slot, the extra ones."""
        return 2 + 2 * num_queues * ring_size + extra_bufs

    @classmethod
    def memsize(cls, num_queues: int, ring_size: int, buf_size: int,
                extra_bufs: int) -> int:
        """Bytes of the netmap memory of ``num_queues`` queue pairs (``nr_memsize``)."""
        return NetmapMemory.arena_size(2 * num_queues, ring_size, buf_size,
                                       cls.nbufs(num_queues, ring_size, extra_bufs))

    @classmethod
    def for_driver(cls, drv: EnaDriver, buf_size: int = 2048,
                   extra_bufs: int = 0) -> EnaNetmapRings:
        """Rings sized like ``drv``'s queues (``ena_netmap_attach``), bound to it."""
        cfg = drv.cfg
        if cfg.tx_ring_size != cfg.rx_ring_size:
            raise ValueError("netmap on ENA here needs equal TX and RX ring sizes "
                             f"(got {cfg.tx_ring_size} and {cfg.rx_ring_size})")
        out = cls(drv.bus, cfg.num_queues, cfg.tx_ring_size, cfg.max_tx_sgl_size,
                  cfg.policy is Policy.HARDENED, buf_size, extra_bufs)
        out.bind(drv)
        return out

    @property
    def drv(self) -> EnaDriver:
        if self._drv is None:
            raise RuntimeError("the netmap rings are not bound to running IO queues")
        return self._drv

    def bind(self, drv: EnaDriver | None) -> None:
        """The IO queues ``ena_up`` just set up (None: ``ena_down`` freed them).  Their
        ``tx_buffer_info`` / ``rx_buffer_info`` start zeroed, as the C allocates them."""
        if drv is not None:
            cfg = drv.cfg
            if (cfg.num_queues, cfg.tx_ring_size, cfg.rx_ring_size) != (
                    self.tx.count, self.num_slots, self.num_slots):
                raise ValueError(f"IO queues {cfg.num_queues} x {cfg.tx_ring_size}/"
                                 f"{cfg.rx_ring_size} do not match the netmap rings "
                                 f"{self.tx.count} x {self.num_slots}")
        self._drv = drv
        self.tx_sockets[:] = 0
        self.tx_socket_buf[:] = 0
        self.rx_buf[:] = 0
        self.rx_initialized[:] = False

    def release(self) -> None:
        """The registration ends: the netmap memory goes back to host memory."""
        self.bus.mem.free(self.base)

    @property
    def buf_size(self) -> int:
        return self.mem.buf_size

    def buf_addr(self, idx: np.ndarray) -> np.ndarray:
        """``PNMB``: the DMA address of buffer ``idx`` (buffer 0's for a bad index)."""
        idx = np.asarray(idx, dtype=np.int64)
        idx = np.where((idx > 0) & (idx < self.mem.nbufs), idx, 0)
        return self.base + self.mem.pool_offset + idx * self.mem.buf_size

    def buffers_held(self) -> np.ndarray:
        """Every buffer index the slots, the TX packets in flight, the posted RX ids and
        the free list hold (0 entries left out): each real buffer exactly once when
        nothing is lost or duplicated."""
        k = np.arange(self.tx_socket_buf.shape[2])[None, None, :]
        tx = self.tx_socket_buf[k < self.tx_sockets[:, :, None]]
        parts = [self.mem.slot_buf_idx.ravel().astype(np.int64), tx, self.rx_buf.ravel(),
                 self.mem.pool.free_indices()]
        held = np.concatenate(parts)
        return np.sort(held[held != 0])

    def __repr__(self) -> str:
        return (f"EnaNetmapRings(queues={self.tx.count}, num_slots={self.num_slots}, "
                f"buf_size={self.buf_size}, base={self.base:#x}, "
                f"tx_hwcur={self.tx.hwcur.tolist()}, tx_hwtail={self.tx.hwtail.tolist()}, "
                f"rx_hwcur={self.rx.hwcur.tolist()}, rx_hwtail={self.rx.hwtail.tolist()})")
