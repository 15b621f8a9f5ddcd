"""The ENA driver datapath of one adapter: IO queue setup through the queue-creation port,
``ena_mq_start`` / ``ena_start_xmit`` for batches, ``ena_cleanup`` (RX then TX cleanup,
up to ``ENA_CLEAN_BUDGET`` = 8 rounds, then the interrupt unmask), RX refill, the reset
trigger, and packet accounting.

The driver talks to the device only through :mod:`impl.bus` (host memory, register BAR,
LLQ BAR, MSI-X) and the :class:`~impl.ena_defs.admin.QueueAdmin` port.

``ena_cleanup`` and ``ena_mq_start``:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L70
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena_datapath.c#L139
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from impl.bus import Bus
from impl.ena.admin_queue import status_to_errno
from impl.ena.reset import ResetState
from impl.ena.rxq import RxConfig, RxQueues, RxResult
from impl.ena.start import QueueStart
from impl.ena.txclean import tx_cleanup
from impl.ena.txmap import collapse_plan, collapsed_lengths
from impl.ena.txq import TxConfig, TxQueues, XmitResult
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateSqCmd,
    DestroyCqCmd,
    DestroySqCmd,
    QueueAdmin,
)
from impl.ena_defs.constants import (
    CLEAN_BUDGET,
    DEFAULT_BUF_RING_SIZE,
    PKT_MAX_BUFS,
    RX_IRQ_INTERVAL,
    TX_IRQ_INTERVAL,
    AdminStatus,
    PlacementPolicy,
    SqDirection,
)
from impl.ena_defs.layouts import DESC_SIZE, RX_CDESC_DTYPE, IntrReg
from impl.packets import PacketBatch


class Policy(enum.Enum):
    """Where the C is looser than intended: run it as shipped, or hardened."""

    SHIPPED = "shipped"
    HARDENED = "hardened"


@dataclass(frozen=True)
class DriverConfig:
    """The adapter's configuration: sysctl/tunable choices and what the device offered
    (until the admin queue exists, the caller passes the device's features here)."""

    num_queues: int = 1
    tx_ring_size: int = 1024
    rx_ring_size: int = 1024
    buf_ring_size: int = DEFAULT_BUF_RING_SIZE
    llq: bool = False
    llq_entry_size: int = 128
    max_tx_burst_bytes: int = 0
    disable_meta_caching: bool = False
    max_tx_sgl_size: int = PKT_MAX_BUFS
    max_rx_sgl_size: int = PKT_MAX_BUFS
    rx_buf_size: int = 2048
    cdesc_mbz: bool = True
    dma_addr_bits: int = 48
    device_max_header_size: int = 0
    rss_active: bool = True
    rxcsum: bool = True
    policy: Policy = Policy.SHIPPED
    start: QueueStart = field(default_factory=QueueStart)
    """Test-only: where the IO queues' counters and free-id lists start (default: where
    the C starts them); the device must be created with the same ``counter_base``."""

    @property
    def max_entries_in_tx_burst(self) -> int:
        """``max_tx_burst_size / llq_ring_entry_size`` (FreeBSD divides by the requested
        entry size)."""
        return self.max_tx_burst_bytes // self.llq_entry_size if self.llq else 0


class QueueSetupError(RuntimeError):
    """An IO queue creation command failed; ``errno`` is the ena_com code (ENOMEM for a
    device out of resources, which makes ``ena_up`` retry with smaller rings)."""

    def __init__(self, message: str, code: int = errno.EINVAL) -> None:
        super().__init__(message)
        self.errno = code


class TransmitResult(NamedTuple):
    ids: np.ndarray
    """The id given to each packet of the batch (-1 where ``ena_mq_start`` refused)."""
    queue: np.ndarray
    """The TX queue each packet was steered to (-1: netmap_transmit took it for the host
    RX ring, netmap mode being on for its TX kring)."""
    error: np.ndarray
    """Per packet: 0, ``ENOBUFS`` (drbr full: dropped, ``br_drops``) or ``ENODEV``
    (adapter not running: refused, nothing changed)."""
    xmit: XmitResult


class CleanupResult(NamedTuple):
    completed: np.ndarray
    """Ids of TX packets completed."""
    rx: list[RxResult]
    """What each RX cleanup round delivered."""
    unmasked: np.ndarray
    """Queues whose interrupt was unmasked."""


@dataclass
class Accounting:
    """Where every packet handed to :meth:`EnaDriver.transmit` is."""

    accepted: int = 0
    completed: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: {"br_drops": 0,
                                                             "dma_mapping_err": 0,
                                                             "netmap_host": 0})
    """Packets that left the driver without a completion, by reason: ``netmap_host`` is
    what netmap_transmit took for the host RX ring (no host ring is bound here, so the
    packet is out of the driver's hands; see :meth:`EnaDriver.enqueue`)."""


class EnaDriver:
    """One adapter's datapath over a bus and the queue-creation port."""

    def __init__(self, bus: Bus, port: QueueAdmin, config: DriverConfig | None = None,
                 reset: ResetState | None = None) -> None:
        """Set up the queues and create them on the device (QueueSetupError if it refuses,
        with everything allocated here released). ``reset`` is the adapter's reset
        trigger, shared with the management plane."""
        cfg = config or DriverConfig()
        self.cfg = cfg
        self.bus = bus
        self.port = port
        n = cfg.num_queues
        self.hardened = cfg.policy is Policy.HARDENED
        self.reset = reset if reset is not None else ResetState()
        self.tx = TxQueues(TxConfig(
            nqueues=n, depth=cfg.tx_ring_size, llq=cfg.llq, llq_entry_size=cfg.llq_entry_size,
            max_entries_in_tx_burst=cfg.max_entries_in_tx_burst,
            disable_meta_caching=cfg.disable_meta_caching, max_tx_sgl_size=cfg.max_tx_sgl_size,
            dma_addr_bits=cfg.dma_addr_bits, buf_ring_size=cfg.buf_ring_size,
            device_max_header_size=cfg.device_max_header_size,
            u8_header_size=not self.hardened), bus)
        self.rx = RxQueues(RxConfig(
            nqueues=n, depth=cfg.rx_ring_size, max_rx_sgl_size=cfg.max_rx_sgl_size,
            buf_size=cfg.rx_buf_size, dma_addr_bits=cfg.dma_addr_bits,
            rss_active=cfg.rss_active, rxcsum=cfg.rxcsum), bus)
        cfg.start.apply(self.tx, self.rx)
        self.accounting = Accounting()
        self.running = False
        self.xmit_held = False
        """netmap owns the TX queues (the RFC: native mode, or leaving it):
        ``ena_start_xmit`` leaves the stack's packets queued."""
        self.netmap_tx: np.ndarray | None = None
        """While netmap mode is on for any ring (``if_transmit`` is netmap_transmit): per
        TX queue, whether its kring is in netmap mode (ena_tx_ring_in_netmap); None
        otherwise.  Set by :class:`impl.ena.adapter_netmap.AdapterNetmap`."""
        self.sq_idx = np.full((n, 2), -1, dtype=np.int64)
        """Device SQ index of each queue pair (TX, RX); -1 until created."""
        self.cq_idx = np.full((n, 2), -1, dtype=np.int64)
        self._blocks: list[int] = []
        try:
            self._create_queues()
        except QueueSetupError:
            self.destroy_queues()
            raise

    # -- setup (ena_create_io_queues) and ena_up
    def _create_queues(self) -> None:
        cfg, mem = self.cfg, self.bus.mem
        n, td, rd = cfg.num_queues, cfg.tx_ring_size, cfg.rx_ring_size
        def alloc(nbytes: int) -> int:  # ena_setup_*_resources: ENOMEM backs ena_up off
            try:
                addr = mem.alloc(nbytes, 4096)
            except MemoryError as e:
                raise QueueSetupError(str(e), errno.ENOMEM) from None
            self._blocks.append(addr)
            return addr
        tx_sq = 0 if cfg.llq else alloc(n * td * DESC_SIZE)
        tx_cq = alloc(n * td * 8)
        rx_sq = alloc(n * rd * DESC_SIZE)
        rx_cq = alloc(n * rd * 16)
        bufs = alloc(n * rd * cfg.rx_buf_size)
        tdb, llq_off, rdb = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        self.unmask_off = np.zeros(n, np.int64)
        placement = PlacementPolicy.DEV if cfg.llq else PlacementPolicy.HOST
        for q in range(n):  # setup, not datapath: one admin command pair per queue
            cq = self._ok(self.port.create_cq(CreateCqCmd(td, tx_cq + q * td * 8, q + 1, 2)))
            self.cq_idx[q, 0] = cq.cq_idx
            sq = self._ok(self.port.create_sq(CreateSqCmd(
                SqDirection.TX, placement, cq.cq_idx, td,
                0 if cfg.llq else tx_sq + q * td * DESC_SIZE)))
            self.sq_idx[q, 0] = sq.sq_idx
            tdb[q], llq_off[q] = sq.sq_doorbell_offset, sq.llq_descriptors_offset
            self.unmask_off[q] = cq.cq_interrupt_unmask_register_offset
            rdb[q] = self._create_rx(q, rx_sq, rx_cq)
        self.tx.attach(tx_sq, tx_cq, tdb, llq_off)
        self.rx.attach(rx_sq, rx_cq, bufs, rdb)

    def _create_rx(self, q: int, sq_base: int, cq_base: int) -> int:
        """``ena_com_create_io_queue`` for RX queue ``q`` (ena_com qid ``2q + 1``): its CQ,
        then its SQ bound to that CQ, the rings at ``q * depth`` entries from the bases;
        returns the SQ's doorbell offset.  QueueSetupError if the device refuses (the
        indices created so far are recorded, for :meth:`destroy_queues`)."""
        rd, entry = self.cfg.rx_ring_size, RX_CDESC_DTYPE.itemsize
        cq = self._ok(self.port.create_cq(CreateCqCmd(rd, cq_base + q * rd * entry, q + 1,
                                                      entry // 4)))
        self.cq_idx[q, 1] = cq.cq_idx
        sq = self._ok(self.port.create_sq(CreateSqCmd(
            SqDirection.RX, PlacementPolicy.HOST, cq.cq_idx, rd, sq_base + q * rd * DESC_SIZE)))
        self.sq_idx[q, 1] = sq.sq_idx
        return int(sq.sq_doorbell_offset)

    # -- one RX queue destroyed and created again on a running adapter (ringspec's RFC
    #    ring reset, impl/ena/nm_rfc.py; the C only does it for every queue, in ena_down
    #    and ena_up)
    def destroy_rx_queue(self, q: int) -> int:
        """``ena_com_destroy_io_queue`` for RX queue ``q``: DESTROY_SQ, then DESTROY_CQ
        (the device refuses to destroy a CQ an SQ still completes into).  Each index is
        forgotten once the device confirms; returns 0 or the errno of the first command
        that failed (the second is then not sent).  ``ena_com_destroy_io_queue`` sends the
        same pair; the driver calls it only from ``ena_down``'s
        ``ena_destroy_all_io_queues``, for every queue.

        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2259
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2612
        """
        resp = self.port.destroy_sq(DestroySqCmd(int(self.sq_idx[q, 1]), SqDirection.RX))
        if resp.status != AdminStatus.SUCCESS:
            return status_to_errno(resp.status)
        self.sq_idx[q, 1] = -1
        resp = self.port.destroy_cq(DestroyCqCmd(int(self.cq_idx[q, 1])))
        if resp.status != AdminStatus.SUCCESS:
            return status_to_errno(resp.status)
        self.cq_idx[q, 1] = -1
        return 0

    def create_rx_queue(self, q: int) -> int:
        """RX queue ``q`` created again after :meth:`destroy_rx_queue`, in the same host
        memory: the rings zeroed, CREATE_CQ, CREATE_SQ, and then the driver's state of a
        fresh queue -- ``ena_setup_rx_resources``'s (nothing posted, every id free,
        ``next_to_use = next_to_clean = 0``) and ``ena_com_create_io_queue``'s (counters
        0, phase 1; or :attr:`DriverConfig.start`'s).  That state comes only once the
        device has the queue: the timer service runs while the driver waits for an admin
        command, and its empty-ring check would otherwise find the queue empty and post
        buffers behind a doorbell the device ignores.  If CREATE_SQ fails the new CQ is
        destroyed again, as ``ena_com_create_io_queue`` does.  Returns 0 or the ena_com
        errno; nothing is posted (the caller refills).  The queue's RX counters are kept.

        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_com.c#L2198
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L873
        https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena.c#L2254
        """
        qs = np.array([q], dtype=np.int64)
        self.rx.zero_rings(qs)
        try:
            db = self._create_rx(q, self.rx.sq_base, self.rx.cq_base)
        except QueueSetupError as e:
            if self.cq_idx[q, 1] >= 0 and self.sq_idx[q, 1] < 0:
                self.port.destroy_cq(DestroyCqCmd(int(self.cq_idx[q, 1])))
                self.cq_idx[q, 1] = -1
            return e.errno
        self.rx.forget(qs)
        self.cfg.start.apply_rx(self.rx, qs)
        self.rx.db_off[q] = db
        return 0

    @staticmethod
    def _ok(resp):  # type: ignore[no-untyped-def]
        if resp.status != AdminStatus.SUCCESS:
            raise QueueSetupError(f"device refused: {resp}", status_to_errno(resp.status))
        return resp

    def destroy_queues(self) -> None:
        """``ena_destroy_all_io_queues`` then the frees of ``ena_down``: every created SQ
        is destroyed before its CQ (a refusal -- the admin queue already stopped by a
        non-graceful destroy -- is ignored, as the C only logs it), then the rings and RX
        buffers go back to host memory. The adapter stops running."""
        self.running = False
        dirs = (SqDirection.TX, SqDirection.RX)
        for q, d in zip(*np.nonzero(self.sq_idx >= 0), strict=True):  # teardown, not datapath
            self.port.destroy_sq(DestroySqCmd(int(self.sq_idx[q, d]), dirs[d]))
        for q, d in zip(*np.nonzero(self.cq_idx >= 0), strict=True):
            self.port.destroy_cq(DestroyCqCmd(int(self.cq_idx[q, d])))
        self.sq_idx[:] = self.cq_idx[:] = -1
        for b in self._blocks:
            self.bus.mem.free(b)
        self._blocks = []

    def up(self, fill: Callable[[np.ndarray], object] | None = None) -> None:
        """``ena_up``'s datapath part: fill every RX ring with ``ring_size - 1`` buffers
        (``ena_refill_all_rx_bufs``; ``fill`` replaces it for rings in netmap mode, which
        post netmap buffers), mark running, unmask every IO vector (delays 0)."""
        qs = np.arange(self.cfg.num_queues)
        if fill is None:
            self.rx.refill(qs, np.full(qs.size, self.cfg.rx_ring_size - 1))
        else:
            fill(qs)
        self.running = True
        self.bus.regs.write32_batch(self.unmask_off, np.full(qs.size, IntrReg.INTR_UNMASK.mask))

    @property
    def datapath_up(self) -> bool:
        """``IFF_DRV_RUNNING`` and no reset triggered (a triggered reset stops the queues
        until the management plane exists)."""
        return self.running and not self.reset.triggered

    # -- TX
    def select_queue(self, n: int, flowid: np.ndarray | None, hashtype: np.ndarray | None,
                     curcpu: int) -> np.ndarray:
        """``ena_mq_start``'s choice: ``flowid % nq`` for a packet with a hash type,
        else ``curcpu % nq``."""
        nq = self.cfg.num_queues
        if flowid is None or hashtype is None:
            return np.full(n, curcpu % nq, dtype=np.int64)
        return np.where(np.asarray(hashtype) != 0, np.asarray(flowid, dtype=np.int64) % nq,
                        curcpu % nq)

    def transmit(self, batch: PacketBatch, *, flowid: np.ndarray | None = None,
                 hashtype: np.ndarray | None = None, csum_flags: np.ndarray | None = None,
                 tso_segsz: np.ndarray | None = None, curcpu: int = 0) -> TransmitResult:
        """``ena_mq_start`` for every packet of ``batch`` (:meth:`enqueue`), then one
        ``ena_start_xmit`` pass on every queue (the deferred start task)."""
        ids, queue, error = self.enqueue(batch, flowid=flowid, hashtype=hashtype,
                                         csum_flags=csum_flags, tso_segsz=tso_segsz,
                                         curcpu=curcpu)
        return TransmitResult(ids, queue, error, self.start_xmit())

    def enqueue(self, batch: PacketBatch, *, flowid: np.ndarray | None = None,
                hashtype: np.ndarray | None = None, csum_flags: np.ndarray | None = None,
                tso_segsz: np.ndarray | None = None,
                curcpu: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``ena_mq_start``'s queue choice and ``drbr_enqueue`` for every packet (frames in
        host memory): ``(ids, queue, error)``; while netmap mode is on for some ring,
        netmap_transmit first (:meth:`_netmap_transmit`).

        ValueError (nothing changed) if the frames are not in host memory, a frame is
        empty or longer than 65535 bytes, or a per-packet array has the wrong size."""
        n = len(batch)
        if batch.arena is not self.bus.mem.data:
            raise ValueError("TX frames must lie in the bus's host memory (DMA addresses)")
        if n and (int(batch.lengths.min()) < 1 or int(batch.lengths.max()) > 0xFFFF):
            raise ValueError("TX frame lengths must be in [1, 65535]")
        extra = {"flowid": flowid, "hashtype": hashtype, "csum_flags": csum_flags,
                 "tso_segsz": tso_segsz}
        for name, a in extra.items():
            if a is not None and np.asarray(a).shape != (n,):
                raise ValueError(f"{name} needs one entry per packet")
        queue = self.select_queue(n, flowid, hashtype, curcpu)
        ids = np.full(n, -1, dtype=np.int64)
        error = np.zeros(n, dtype=np.int64)
        host = np.zeros(n, dtype=bool)
        if self.netmap_tx is not None:
            queue, host = self._netmap_transmit(n, flowid, queue)
        if not self.datapath_up:
            error[:] = errno.ENODEV
            return ids, queue, error
        ids[:] = self.accounting.accepted + np.arange(n)
        self.accounting.accepted += n
        self.accounting.dropped["netmap_host"] += int(host.sum())
        queue[host] = -1
        mine = ~host
        fields = self._drbr_fields(batch.select(np.flatnonzero(mine)) if host.any() else batch,
                                   ids[mine], None if csum_flags is None
                                   else np.asarray(csum_flags)[mine],
                                   None if tso_segsz is None else np.asarray(tso_segsz)[mine])
        ok = np.ones(n, dtype=bool)
        ok[mine] = self.tx.drbr.enqueue(queue[mine], fields)
        drops = np.bincount(queue[~ok], minlength=self.cfg.num_queues)
        self.tx.stats.br_drops[:] += drops
        self.accounting.dropped["br_drops"] += int(drops.sum())
        error[~ok] = errno.ENOBUFS
        return ids, queue, error

    def _netmap_transmit(self, n: int, flowid: np.ndarray | None,
                         queue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """netmap_transmit in front of ena_mq_start (model/ena_netmap_txq.py): a packet
        whose TX kring ``MBUF_TXQ % num_tx_rings`` (``flowid``; 0 without one) is in netmap
        mode goes to the host RX ring (``host``); the others reach ena_mq_start, whose own
        choice ``queue`` may be a queue in netmap mode as shipped (ENA-NM-TXQ-APART).
        Hardened, ena_mq_start takes the queue netmap_transmit checked.  Returns
        ``(queue, host)``."""
        assert self.netmap_tx is not None
        txq = (np.zeros(n, dtype=np.int64) if flowid is None
               else np.asarray(flowid, dtype=np.int64) % self.cfg.num_queues)
        host = self.netmap_tx[txq]
        return (txq if self.hardened else queue), host

    def _drbr_fields(self, batch: PacketBatch, ids: np.ndarray, csum_flags: np.ndarray | None,
                     tso_segsz: np.ndarray | None) -> dict[str, np.ndarray]:
        """What the drbr keeps of each mbuf; the segments after the collapse the driver
        will do (a failed collapse keeps none)."""
        cfg = self.tx.cfg
        n = len(batch)
        col = collapse_plan(batch.lengths, batch.seg_counts, cfg.max_tx_sgl_size,
                            cfg.tx_max_header_size)
        keep = ~col.needed
        used = np.where(keep, batch.seg_counts, np.where(col.ok, col.segs, 0))
        # the columns up to the last used segment; the drbr zeroes the rest of its row
        width = min(self.tx.drbr.max_segs, max(1, int(used.max(initial=0))))
        seg = np.zeros((n, width), dtype=np.int32)
        pk = np.repeat(np.arange(n), batch.seg_counts)
        k = np.arange(pk.size) - np.repeat(batch.seg_starts, batch.seg_counts)
        sel = keep[pk]
        seg[pk[sel], k[sel]] = batch.seg_lengths[sel]
        coll = col.needed & col.ok
        cl = collapsed_lengths(batch.lengths[coll], col.segs[coll])
        cp = np.repeat(np.flatnonzero(coll), col.segs[coll])
        ck = np.arange(cp.size) - np.repeat(np.cumsum(col.segs[coll]) - col.segs[coll],
                                            col.segs[coll])
        seg[cp, ck] = cl
        zeros = np.zeros(n, dtype=np.int64)
        return {"pkt_id": ids, "addr": batch.offsets, "length": batch.lengths,
                "nsegs": batch.seg_counts, "seg_len": seg, "used_segs": used,
                "csum_flags": zeros if csum_flags is None else np.asarray(csum_flags),
                "tso_segsz": zeros if tso_segsz is None else np.asarray(tso_segsz)}

    def start_xmit(self) -> XmitResult:
        """``ena_start_xmit`` on every running queue with queued packets."""
        if not self.datapath_up or self.xmit_held:
            empty = np.zeros(0, dtype=np.int64)
            return XmitResult(empty, empty)
        res = self.tx.start_xmit(self.reset)
        self.accounting.dropped["dma_mapping_err"] += int(res.dropped.size)
        return res

    # -- interrupts and cleanup
    def handle_interrupts(self) -> CleanupResult:
        """Run ``ena_cleanup`` for every IO vector that fired since the last call."""
        vec = self.bus.msix.take()
        qs = vec[(vec >= 1) & (vec <= self.cfg.num_queues)] - 1
        return self.cleanup(qs)

    def cleanup(self, queues: np.ndarray | None = None) -> CleanupResult:
        """``ena_cleanup`` on ``queues`` (default all): rounds of RX then TX cleanup while
        either has more work (at most 8), stopping everything once a reset is triggered;
        queues that finish unmask their interrupt (RX delay 20, TX delay 50).

        Reset reasons of one round are taken in queue order, RX before TX, so the first
        reason is the lowest queue's in the earliest round."""
        empty = np.zeros(0, dtype=np.int64)
        qs = np.unique(np.arange(self.cfg.num_queues) if queues is None
                       else np.asarray(queues, dtype=np.int64))
        if not self.datapath_up or qs.size == 0:
            return CleanupResult(empty, [], empty)
        completed, rx_out = [], []
        live = qs
        for _ in range(CLEAN_BUDGET):
            rx = self.rx.cleanup(live, self.cfg.cdesc_mbz)
            tx = tx_cleanup(self.tx, live, self.cfg.cdesc_mbz, self.hardened)
            rx_out.append(rx)
            completed.append(tx.completed)
            self.accounting.completed += int(tx.completed.size)
            both = np.empty(2 * live.size, dtype=np.result_type(rx.reasons, tx.reasons))
            both[0::2], both[1::2] = rx.reasons, tx.reasons  # per queue: RX, then TX
            self.reset.trigger_first(both)
            if self.reset.triggered:
                return CleanupResult(np.concatenate(completed), rx_out, empty)
            live = live[rx.again | tx.again]
            if live.size == 0:
                break
        done = qs  # every queue unmasks after its rounds (still busy ones after 8)
        val = (IntrReg.RX_INTR_DELAY.put(RX_IRQ_INTERVAL) | IntrReg.TX_INTR_DELAY.put(
            TX_IRQ_INTERVAL) | IntrReg.INTR_UNMASK.put(1)).item()
        self.tx.stats.unmask_interrupt_num[done] += 1
        self.bus.regs.write32_batch(self.unmask_off[done], np.full(done.size, val))
        return CleanupResult(np.concatenate(completed), rx_out, done)

    # -- accounting
    def in_flight(self) -> int:
        """Stack packets (mbufs) with the device; a netmap packet in flight has no
        ``pkt_id`` (its buffers are netmap's, counted by the netmap rings)."""
        return int((self.tx.inflight & (self.tx.pkt_id >= 0)).sum())

    def queued(self) -> int:
        return int(self.tx.drbr.count.sum())

    def unaccounted(self) -> int:
        """Accepted packets neither queued, in flight, completed nor dropped (always 0)."""
        a = self.accounting
        return (a.accepted - self.queued() - self.in_flight() - a.completed
                - sum(a.dropped.values()))
