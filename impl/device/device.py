"""The simulated ENA device: an actor behind the bus.

It sees only what hardware sees: MMIO writes to the SQ doorbells and CQ unmask registers
(:meth:`EnaDevice.mmio_write`), LLQ entries written to the LLQ BAR, and host memory by
DMA; it raises MSI-X vectors. IO queues come from the queue-creation port
(:class:`~impl.device.queues.QueueTable`, also reachable as ``device.create_sq`` etc.).

Timing model (deterministic, one seed):

* a TX doorbell write makes the device fetch and transmit at once (whole packets up to
  the new tail); the LLQ burst limit is checked per doorbell;
* TX completions are written when :meth:`EnaDevice.complete_tx` runs, in order or out of
  order within ``tx_window`` packets;
* frames arriving from the wire wait in the RX inbox until :meth:`EnaDevice.rx` runs;
* RX doorbells only move the tail (buffers are taken when frames arrive);
* every CQ that received completions raises its MSI-X vector (auto-masked until the
  driver writes INTR_UNMASK to the CQ's unmask register).

Doorbell write ``ena_com_write_sq_doorbell`` and the burst limit:
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L183
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from impl.bus import Bus
from impl.device import rx as rxmod
from impl.device import txcomp
from impl.device.admin_cmds import AdminCommands
from impl.device.admin_queue import DeviceAdminQueue
from impl.device.aenq import AenqGroup, DeviceAenq
from impl.device.clock import SimClock
from impl.device.config import DeviceConfig
from impl.device.events import DeviceEvents
from impl.device.faults import DeviceStats, Faults, draw
from impl.device.features import Features
from impl.device.mgmt_faults import MgmtFaults, MgmtStats
from impl.device.parse import parse
from impl.device.queues import QueueTable
from impl.device.regs_bar import MgmtRegs
from impl.device.rss import RssConfig
from impl.device.segs import group_rank
from impl.device.tx import DescStream, consumed, fetch_host, fetch_llq, parse_packets, select
from impl.ena_defs import regs
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateCqResp,
    CreateSqCmd,
    CreateSqResp,
    DestroyCqCmd,
    DestroyResp,
    DestroySqCmd,
)
from impl.ena_defs.constants import AdminStatus, SqDirection
from impl.ena_defs.layouts import LLQ_DESC_CHUNK, IntrReg
from impl.packets import PacketBatch

U16 = 0xFFFF


def _ahead(distance: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """A u16 counter ``distance`` ahead of the head, within one ring."""
    d = distance & U16
    return (d > 0) & (d <= depth)


class Link(Protocol):
    """Where a device's transmitted frames go (:class:`impl.device.wire.Wire`)."""

    def transmit(self, src: EnaDevice, frames: PacketBatch) -> None: ...


class EnaDevice:
    """One ENA PCI function's datapath."""

    def __init__(self, bus: Bus, config: DeviceConfig | None = None,
                 faults: Faults | None = None, clock: SimClock | None = None,
                 tx_window: int = 1, mgmt_faults: MgmtFaults | None = None) -> None:
        self.bus = bus
        self.config = config or DeviceConfig()
        self.faults = faults or Faults()
        self.clock = clock or SimClock()
        self.tx_window = tx_window
        self.rng = np.random.default_rng(self.config.seed)
        self.queues = QueueTable(bus, self.config)
        self.rss_default_key = self.rng.bytes(40)
        self.rss = RssConfig(hw_key=self.rss_default_key)
        """RSS state; the key starts as 40 bytes drawn from the seed."""
        self.stats = DeviceStats()
        n = self.config.max_queues
        self.inflight = np.zeros((n, 1 << 16), dtype=bool)
        self.last_req = np.full(n, -1, dtype=np.int64)
        self._pend = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._seq = 0
        self._reject: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.inbox: list[PacketBatch] = []
        self.link: Link | None = None
        self.mgmt_faults = mgmt_faults or MgmtFaults()
        self.mgmt_stats = MgmtStats()
        self.mgmt = MgmtRegs(bus, self.clock, self.config, self.mgmt_faults,
                             self.mgmt_stats, self._reset)
        """The fixed registers: readless reads, reset, admin/AENQ registers."""
        self.features = Features(bus, self.config, self.queues, self.rss)
        self.admin_cmds = AdminCommands(self, self.features, self.stats, self.config.caps,
                                        self.mgmt_faults, self.mgmt.rng, self.mgmt_stats)
        self.admin = DeviceAdminQueue(bus, self.clock, self.config.admin_latency_ns,
                                      self.mgmt, self.mgmt_faults, self.mgmt_stats,
                                      self.admin_cmds.execute)
        """The admin SQ consumer / ACQ producer."""
        self.aenq = DeviceAenq(bus, self.clock, self.mgmt,
                               lambda: self.features.state.aenq_enabled)
        """The AENQ producer (events: link change, keep-alive, hints, reset request)."""
        self.events = DeviceEvents(self.clock, self.aenq, lambda: self.mgmt_faults,
                                   self.mgmt.rng, self.mgmt_stats, self._drops)
        """The one-second timeline (keep-alives); started by :meth:`DeviceEvents.start`."""
        self.features.on_aenq_enabled = self._announce_link
        bus.regs.attach(self)
        bus.llq.attach(self)

    def _announce_link(self, old: int, new: int) -> None:
        """When the driver enables the LINK_CHANGE group, the device reports the link's
        current state (the driver has no other way to learn it: ENA_FLAG_LINK_UP is set
        only by the LINK_CHANGE handler) -- at once, or, while the driver has not yet
        given the AENQ room (its head doorbell comes later in ena_attach), at that
        doorbell."""
        if (new & ~old) >> AenqGroup.LINK_CHANGE & 1 and \
                not self.aenq.link_change(self.events.link_up):
            self.aenq.pending_link = self.events.link_up

    def set_mgmt_faults(self, faults: MgmtFaults) -> None:
        """Switch the management fault knobs (every component reads the new rates)."""
        self.mgmt_faults = faults
        for part in (self.mgmt.readless, self.mgmt.reset, self.admin_cmds, self.admin):
            part.faults = faults

    def _drops(self) -> tuple[int, int]:
        s = self.stats
        return (s.rx_no_buffer + s.rx_no_queue,
                s.tx_malformed + s.tx_dma_error + s.llq_burst_dropped_pkts)

    # -- queue-creation port
    def create_cq(self, cmd: CreateCqCmd) -> CreateCqResp:
        return self.queues.create_cq(cmd)

    def create_sq(self, cmd: CreateSqCmd) -> CreateSqResp:
        resp = self.queues.create_sq(cmd)
        if resp.status == AdminStatus.SUCCESS:
            self.inflight[resp.sq_idx] = False
            self.last_req[resp.sq_idx] = -1
        return resp

    def destroy_sq(self, cmd: DestroySqCmd) -> DestroyResp:
        resp = self.queues.destroy_sq(cmd)
        if resp.status == AdminStatus.SUCCESS:
            keep = self._pend[0] != cmd.sq_idx
            self._pend = tuple(a[keep] for a in self._pend)  # type: ignore[assignment]
        return resp

    def destroy_cq(self, cmd: DestroyCqCmd) -> DestroyResp:
        return self.queues.destroy_cq(cmd)

    def _reset(self) -> None:
        """What a device reset does: every IO queue is gone, nothing is pending, the admin
        queue is forgotten, features and RSS are back at their defaults."""
        self.queues = QueueTable(self.bus, self.config)
        self.rss = RssConfig(hw_key=self.rss_default_key)
        self.features.reset(self.queues, self.rss)
        self.admin.reset()
        self.aenq.reset()
        self.inflight[:] = False
        self.last_req[:] = -1
        self._pend = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._reject = []
        self.inbox = []

    # -- bus side
    def mmio_read(self, offset: int) -> int:
        if offset < regs.IO_DOORBELL_BASE:
            return self.mgmt.read(offset)
        return int(self.bus.regs.last[offset >> 2])

    def llq_write(self, offsets: np.ndarray, nbytes: int) -> None:
        self.stats.add("tx_llq_entries", offsets.size)

    def mmio_write(self, offsets: np.ndarray, values: np.ndarray) -> None:
        fixed = offsets < regs.IO_DOORBELL_BASE
        if fixed.any():  # management registers: one protocol step each, in order
            for off, val in zip(offsets[fixed].tolist(), values[fixed].tolist(), strict=True):
                self.mgmt.write(off, val)
            offsets, values = offsets[~fixed], values[~fixed]
        qt = self.queues
        n = self.config.max_queues
        db = (offsets >= regs.IO_DOORBELL_BASE) & (offsets < regs.IO_DOORBELL_BASE + 4 * n)
        um = (offsets >= regs.IO_UNMASK_BASE) & (offsets < regs.IO_UNMASK_BASE + 4 * n)
        sq = (offsets[db] - regs.IO_DOORBELL_BASE) >> 2
        val = values[db]
        live = qt.sq_used[sq]
        self._doorbells(sq[live], val[live])
        cq = (offsets[um] - regs.IO_UNMASK_BASE) >> 2
        unmask = IntrReg.INTR_UNMASK.is_set(values[um]) & qt.cq_used[cq]
        if unmask.any():
            self.stats.add("unmasks", unmask.sum())
            fired = self.bus.msix.unmask(qt.cq_vector[cq[unmask]])
            self.stats.add("interrupts", fired.size)

    def _doorbells(self, sq: np.ndarray, val: np.ndarray) -> None:
        """Doorbell writes in order: check each against the ring and the burst limit,
        latch the tails, then fetch and transmit from the TX queues."""
        if sq.size == 0:
            return
        qt = self.queues
        order = np.argsort(sq, kind="stable")
        sq, val = sq[order], val[order] & U16
        first = group_rank(sq) == 0
        prev = np.where(first, qt.sq_tail[sq], np.concatenate([[0], val[:-1]]))
        over = ((val - qt.sq_head[sq]) & U16) > qt.sq_depth[sq]
        self.stats.add("tx_doorbell_overrun", over.sum())
        # a refused write leaves the previous tail in place for the following ones
        val = np.where(over, prev, val)
        prev = np.where(first, qt.sq_tail[sq], np.concatenate([[0], val[:-1]]))
        limit = self.config.max_entries_in_tx_burst
        llq = qt.sq_llq[sq]
        if limit > 0 and llq.any():
            enforced = limit - draw(self.rng, self.faults.llq_burst_overrun, sq.size)
            burst = (val - prev) & U16
            bad = llq & (burst > enforced)
            if bad.any():
                self.stats.add("llq_burst_overrun", bad.sum())
                self._reject.append((sq[bad], (prev + enforced)[bad] & U16,
                                     (burst - enforced)[bad]))
        last = np.append(sq[1:] != sq[:-1], True)
        qt.sq_tail[sq[last]] = val[last]
        tx = sq[last][qt.sq_dir[sq[last]] == int(SqDirection.TX)]
        self._transmit(tx)

    def _rejected(self, stream: DescStream) -> np.ndarray | None:
        if not self._reject:
            return None
        sq = np.concatenate([r[0] for r in self._reject])
        start = np.concatenate([r[1] for r in self._reject])
        count = np.concatenate([r[2] for r in self._reject])
        hit = (stream.sq[:, None] == sq[None, :]) & \
              (((stream.unit[:, None] - start[None, :]) & U16) < count[None, :])
        return hit.any(axis=1)

    def _transmit(self, sqs: np.ndarray) -> None:
        qt = self.queues
        sqs = sqs[((qt.sq_tail[sqs] - qt.sq_head[sqs]) & U16) > 0]
        if sqs.size == 0:
            return
        n = (qt.sq_tail[sqs] - qt.sq_head[sqs]) & U16
        parts = []
        host, llq = ~qt.sq_llq[sqs], qt.sq_llq[sqs]
        if host.any():
            s = sqs[host]
            parts.append((fetch_host(self.bus, s, qt.sq_ba[s], qt.sq_depth[s], qt.sq_head[s],
                                     n[host]), 0))
        if llq.any():
            s = sqs[llq]
            es = self.config.llq_entry_size
            parts.append((fetch_llq(self.bus, s, qt.sq_llq_off[s], qt.sq_depth[s],
                                    qt.sq_head[s], n[llq], es), es - LLQ_DESC_CHUNK))
        batches = []
        for stream, hmax in parts:  # host mode, then LLQ: two fixed passes, not per queue
            keep = consumed(stream)
            self.stats.add("tx_bad_phase", np.unique(stream.sq[~stream.valid]).size)
            stream = select(stream, keep)
            pk = parse_packets(self.bus, stream, hmax, self._rejected(stream))
            used = np.bincount(pk.sq, weights=pk.units, minlength=qt.sq_head.size)
            qt.sq_head[:] = (qt.sq_head + used.astype(np.int64)) & U16
            self.stats.add("tx_descs", stream.sq.size)
            self.stats.add("llq_burst_dropped_pkts", pk.dropped.sum())
            self.stats.add("tx_dma_error", pk.dma_error.sum())
            self.stats.add("tx_malformed", (~pk.ok & ~pk.dma_error & ~pk.dropped).sum())
            want = pk.ok & pk.comp_req
            wsq, wreq = pk.sq[want], pk.req_id[want]
            self.stats.add("tx_req_id_reused", self.inflight[wsq, wreq & U16].sum())
            self.inflight[wsq, wreq & U16] = True
            seq = self._seq + np.arange(wsq.size)
            self._seq += wsq.size
            self._pend = tuple(np.concatenate([a, b]) for a, b in
                               zip(self._pend, (wsq, wreq, seq), strict=True))  # type: ignore[assignment]
            batches.append(PacketBatch.from_payload(pk.payload, pk.lengths))
        self._reject = [  # forget rejected entries the device has moved past
            tuple(a[k] for a in r) for r in self._reject
            if (k := _ahead(r[1] + r[2] - qt.sq_head[r[0]], qt.sq_depth[r[0]])).any()]
        # one pass (host mode or LLQ): its batch is already packed in a fresh arena
        frames = batches[0] if len(batches) == 1 else PacketBatch.concat(batches)
        self.stats.add("tx_pkts", len(frames))
        self.stats.add("tx_bytes", frames.nbytes)
        if self.link is not None and len(frames):
            self.link.transmit(self, frames)

    # -- completions
    @property
    def pending_tx(self) -> int:
        """TX packets sent whose completion is not written yet."""
        return int(self._pend[0].size)

    def complete_tx(self, max_per_queue: int | None = None) -> int:
        """Write TX completions for the pending packets (all, or at most ``max_per_queue``
        per queue), in order or shuffled within ``tx_window``; returns how many."""
        sq, req, seq = self._pend
        if sq.size == 0:
            return 0
        order = txcomp.window_order(sq, seq, self.tx_window, self.rng)
        sq, req, seq = sq[order], req[order], seq[order]
        take = np.ones(sq.size, bool)
        if max_per_queue is not None:
            take = group_rank(sq) < max_per_queue
        rest = tuple(a[~take] for a in (sq, req, seq))
        re_order = np.argsort(rest[2], kind="stable")
        self._pend = tuple(a[re_order] for a in rest)  # type: ignore[assignment]
        sq, req = sq[take], req[take]
        if sq.size == 0:  # max_per_queue=0: nothing is written
            return 0
        qt = self.queues
        out, keep, mbz = txcomp.corrupt(sq, req, qt.sq_depth[sq], self.inflight,
                                        self.last_req, self.faults, self.rng, self.stats)
        self.inflight[sq, req & U16] = False
        last = np.append(sq[1:] != sq[:-1], True)
        self.last_req[sq[last]] = req[last]
        cq = qt.sq_cq[sq[keep]]
        txcomp.write_cdescs(qt, cq, out[keep], mbz[keep], qt.sq_head[sq[keep]])
        self.stats.add("tx_completions", keep.sum())
        self._interrupt(np.unique(cq))
        return int(keep.sum())

    def _interrupt(self, cqs: np.ndarray) -> None:
        cqs = cqs[self.queues.cq_intr[cqs]]
        if cqs.size:
            fired = self.bus.msix.raise_vectors(self.queues.cq_vector[cqs])
            self.stats.add("interrupts", fired.size)

    # -- receive
    def receive(self, frames: PacketBatch) -> None:
        """Frames arriving from the wire (delivered on the next :meth:`rx`)."""
        if len(frames):
            self.inbox.append(frames)

    def rx(self) -> int:
        """Deliver the inbox to the RX queues; returns frames delivered."""
        if not self.inbox:
            return 0
        frames = PacketBatch.concat(self.inbox)
        self.inbox = []
        qt = self.queues
        rx_sqs = np.flatnonzero(qt.sq_used & (qt.sq_dir == int(SqDirection.RX)))
        if rx_sqs.size == 0:
            self.stats.add("rx_no_queue", len(frames))
            return 0
        parsed = parse(frames)
        hashes = self.rss.hash(parsed)
        sq = self.rss.queue(hashes, int(rx_sqs[0]))
        ok = np.isin(sq, rx_sqs)
        self.stats.add("rx_no_queue", (~ok).sum())
        if not ok.all():
            idx = np.flatnonzero(ok)
            frames = frames.select(idx)
            parsed = type(parsed)(**{k: v[idx] for k, v in vars(parsed).items()})
            hashes, sq = hashes[idx], sq[idx]
        before = self.stats.rx_pkts
        cqs = rxmod.deliver(qt, frames, parsed, hashes, sq, self.faults, self.rng, self.stats)
        self._interrupt(cqs)
        return self.stats.rx_pkts - before

    def step(self) -> None:
        """Complete every pending TX packet, then deliver the RX inbox."""
        self.complete_tx()
        self.rx()
