"""A minimal, slot-at-a-time stand-in for the driver, for the device's unit tests: it
creates queues through the port and writes descriptors, LLQ entries and doorbells the way
ena_com does, through the bus only. (The real, vectorized driver is impl/ena.)"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from impl.bus import Bus
from impl.device import DeviceConfig, EnaDevice
from impl.ena_defs import (
    LLQ_DESC_CHUNK,
    RX_CDESC_DTYPE,
    RX_DESC_DTYPE,
    TX_CDESC_DTYPE,
    TX_DESC_DTYPE,
    AdminStatus,
    IntrReg,
    PlacementPolicy,
    RxCdesc,
    RxDesc,
    SqDirection,
    TxCdesc,
    TxDesc,
    TxMetaDesc,
    split_req_id,
)
from impl.ena_defs.admin import CreateCqCmd, CreateSqCmd
from impl.packets import PacketBatch


class Sink:
    """Collects what a device puts on the wire."""

    def __init__(self) -> None:
        self.got: list[bytes] = []

    def transmit(self, src: EnaDevice, batch: PacketBatch) -> None:
        self.got += batch.frames()


def device(**kw: object) -> tuple[EnaDevice, Sink]:
    """A device of up to 4 queue pairs on a 4 MiB bus (1 MiB LLQ BAR) wired to a
    :class:`Sink`; ``faults`` and ``tx_window`` go to the device, the rest to its
    DeviceConfig."""
    faults = kw.pop("faults", None)
    window = kw.pop("tx_window", 1)
    dev = EnaDevice(Bus(mem_size=1 << 22, llq_size=1 << 20, nvec=5),
                    DeviceConfig(max_queues=4, **kw), faults, tx_window=window)  # type: ignore[arg-type]
    sink = Sink()
    dev.link = sink
    return dev, sink


def _u32(x: int) -> np.uint32:
    return np.uint32(int(x) & 0xFFFFFFFF)


@dataclass
class Queue:
    dev: EnaDevice
    bus: Bus
    depth: int
    direction: SqDirection
    llq: bool
    sq_idx: int
    cq_idx: int
    sq_ba: int
    cq_ba: int
    doorbell: int
    unmask: int
    llq_off: int
    vector: int
    tail: int = 0
    cq_head: int = 0
    bufs: dict[int, tuple[int, int]] = field(default_factory=dict)

    def phase(self, counter: int) -> int:
        return 1 - (counter // self.depth) & 1

    def ring_doorbell(self) -> None:
        self.bus.regs.write32(self.doorbell, self.tail & 0xFFFF)

    def unmask_intr(self) -> None:
        self.bus.regs.write32(self.unmask, IntrReg.INTR_UNMASK.mask | 20 | (50 << 15))


def make_queue(dev: EnaDevice, direction: SqDirection, depth: int, llq: bool = False,
               vector: int = 1) -> Queue:
    bus = dev.bus
    words = 2 if direction == SqDirection.TX else 4
    cq_ba = bus.mem.alloc(depth * 4 * words, 4096)
    cq = dev.create_cq(CreateCqCmd(depth, cq_ba, vector, words))
    assert cq.status == AdminStatus.SUCCESS
    sq_ba = 0 if llq else bus.mem.alloc(depth * 16, 4096)
    placement = PlacementPolicy.DEV if llq else PlacementPolicy.HOST
    sq = dev.create_sq(CreateSqCmd(direction, placement, cq.cq_idx, depth, sq_ba))
    assert sq.status == AdminStatus.SUCCESS
    return Queue(dev, bus, depth, direction, llq, sq.sq_idx, cq.cq_idx, sq_ba, cq_ba,
                 sq.sq_doorbell_offset, cq.cq_interrupt_unmask_register_offset,
                 sq.llq_descriptors_offset, vector)


def tx_descs(q: Queue, frame: bytes, nseg: int, req_id: int, meta: bool,
             header_len: int = 0) -> list[np.ndarray]:
    """The descriptors ena_com_prepare_tx writes for one packet (phase filled later);
    buffers are allocated in host memory and hold the frame after its pushed header."""
    out = []
    if meta:
        m = np.zeros(1, TX_DESC_DTYPE)
        m["len_ctrl"] = _u32(TxMetaDesc.META_DESC.mask | TxMetaDesc.FIRST.mask |
                             TxMetaDesc.EXT_VALID.mask)
        m["buff_addr_lo"] = _u32(TxMetaDesc.L3_HDR_LEN.put(20))  # meta word2
        out.append(m)
    body = frame[header_len:]
    cuts = np.array_split(np.arange(len(body)), max(nseg, 1)) if body else [np.arange(0)]
    lo, hi = split_req_id(req_id)
    for i, c in enumerate(cuts):
        d = np.zeros(1, TX_DESC_DTYPE)
        seg = body[c[0]:c[-1] + 1] if c.size else b""
        addr = q.bus.mem.alloc(max(len(seg), 1))
        q.bus.mem.data[addr:addr + len(seg)] = np.frombuffer(seg, np.uint8)
        lc = TxDesc.LENGTH.put(len(seg))
        if i == 0:
            lc |= TxDesc.COMP_REQ.put(1) | TxDesc.REQ_ID_HI.put(hi)
            lc |= TxDesc.FIRST.put(0 if meta else 1)
            d["meta_ctrl"] = _u32(TxDesc.REQ_ID_LO.put(lo))
            d["buff_addr_hi_hdr_sz"] = _u32(TxDesc.HEADER_LENGTH.put(header_len) |
                                            TxDesc.ADDR_HI.put(addr >> 32))
        if i == len(cuts) - 1:
            lc |= TxDesc.LAST.put(1)
        d["len_ctrl"] = _u32(int(lc))
        d["buff_addr_lo"] = _u32(addr)
        out.append(d)
    return out


def send_host(q: Queue, frame: bytes, nseg: int, req_id: int, meta: bool = False,
              doorbell: bool = True) -> int:
    """Write one packet's descriptors into the host SQ; returns descriptors used."""
    descs = tx_descs(q, frame, nseg, req_id, meta)
    ring = q.bus.mem.array(q.sq_ba, TX_DESC_DTYPE, q.depth)
    for d in descs:
        d["len_ctrl"] = _u32(int(d["len_ctrl"][0]) | TxDesc.PHASE.put(q.phase(q.tail)))
        ring[q.tail & (q.depth - 1)] = d[0]
        q.tail += 1
    if doorbell:
        q.ring_doorbell()
    return len(descs)


def send_llq(q: Queue, frame: bytes, nseg: int, req_id: int, entry_size: int,
             meta: bool = False, doorbell: bool = True) -> int:
    """Write one packet as LLQ entries (2 descriptors + pushed header, then descriptor-only
    entries) through the LLQ BAR; returns entries used."""
    hlen = min(len(frame), entry_size - LLQ_DESC_CHUNK)
    descs = tx_descs(q, frame, nseg if len(frame) > hlen else 0, req_id, meta, hlen)
    dpe = entry_size // 16
    entries, used = [], []
    first = np.zeros(entry_size, np.uint8)
    first[LLQ_DESC_CHUNK:LLQ_DESC_CHUNK + hlen] = np.frombuffer(frame[:hlen], np.uint8)
    cur, slot, cap = first, 0, 2
    for d in descs:
        if slot == cap:
            entries.append(cur)
            used.append(slot)
            cur, slot, cap = np.zeros(entry_size, np.uint8), 0, dpe
        cur[slot * 16:(slot + 1) * 16] = d.view(np.uint8)
        slot += 1
    entries.append(cur)
    used.append(slot)
    offs = []
    for e, k in zip(entries, used, strict=True):
        slots = e[:k * 16].view(TX_DESC_DTYPE)
        slots["len_ctrl"] |= np.uint32(TxDesc.PHASE.put(q.phase(q.tail)))
        offs.append(q.llq_off + (q.tail & (q.depth - 1)) * entry_size)
        q.tail += 1
    q.bus.llq.write_entries(np.array(offs), np.stack(entries))
    if doorbell:
        q.ring_doorbell()
    return len(entries)


def tx_completions(q: Queue) -> list[tuple[int, int]]:
    """(req_id, flags) of every new TX cdesc, consuming them as ena_com does."""
    ring = q.bus.mem.array(q.cq_ba, TX_CDESC_DTYPE, q.depth)
    out = []
    while True:
        c = ring[q.cq_head & (q.depth - 1)]
        if TxCdesc.PHASE.get(int(c["flags"])) != q.phase(q.cq_head):
            return out
        out.append((int(c["req_id"]), int(c["flags"])))
        q.cq_head += 1


def post_rx(q: Queue, n: int, buf_len: int, doorbell: bool = True) -> list[int]:
    """Post n buffers (req_id = ring slot), one descriptor each; returns their req_ids."""
    ring = q.bus.mem.array(q.sq_ba, RX_DESC_DTYPE, q.depth)
    ids = []
    for _ in range(n):
        rid = q.tail & (q.depth - 1)
        addr = q.bus.mem.alloc(buf_len)
        q.bufs[rid] = (addr, buf_len)
        d = np.zeros(1, RX_DESC_DTYPE)
        d["length"] = buf_len & 0xFFFF
        d["ctrl"] = int(RxDesc.FIRST.mask | RxDesc.LAST.mask | RxDesc.COMP_REQ.mask |
                        RxDesc.PHASE.put(q.phase(q.tail)))
        d["req_id"] = rid
        d["buff_addr_lo"] = addr & 0xFFFFFFFF
        d["buff_addr_hi"] = addr >> 32
        ring[q.tail & (q.depth - 1)] = d[0]
        q.tail += 1
        ids.append(rid)
    if doorbell:
        q.ring_doorbell()
    return ids


def rx_completions(q: Queue) -> list[np.void]:
    """Every new RX cdesc (status phase = expected), consumed."""
    ring = q.bus.mem.array(q.cq_ba, RX_CDESC_DTYPE, q.depth)
    out = []
    while True:
        c = ring[q.cq_head & (q.depth - 1)].copy()
        if RxCdesc.PHASE.get(int(c["status"])) != q.phase(q.cq_head):
            return out
        out.append(c)
        q.cq_head += 1


def rx_packets(q: Queue) -> list[tuple[bytes, list[np.void]]]:
    """Reassembled frames (by FIRST..LAST) and their cdescs."""
    pkts, cur = [], []
    for c in rx_completions(q):
        cur.append(c)
        if RxCdesc.LAST.get(int(c["status"])):
            data = b"".join(
                q.bus.mem.data[q.bufs[int(x["req_id"])][0]:
                               q.bufs[int(x["req_id"])][0] + int(x["length"])].tobytes()
                for x in cur)
            pkts.append((data, cur))
            cur = []
    return pkts
