"""Two identical driver worlds for differential tests, and a scripted device stand-in.

:class:`World` is one bus (host memory, register BAR with a write log, LLQ BAR) with an
:class:`~impl.ena.driver.EnaDriver` on a stub queue-creation port. :class:`Script` plays
the device for both worlds at once: it writes the same TX and RX completions (and frame
bytes) into both, including the faults the driver must catch, so the vectorized driver
and the slot-at-a-time port can be compared after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from impl.bus import Bus
from impl.ena.driver import DriverConfig, EnaDriver
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
from impl.ena_defs.constants import AdminStatus, L3Proto, L4Proto
from impl.ena_defs.layouts import RxCdesc
from impl.packets import PacketBatch

LLQ_WINDOW = 1 << 16


class StubPort:
    """Accepts every queue: indices in creation order, the simulator's register windows."""

    def __init__(self) -> None:
        self.cqs = 0
        self.sqs = 0

    def create_cq(self, cmd: CreateCqCmd) -> CreateCqResp:
        i = self.cqs
        self.cqs += 1
        return CreateCqResp(AdminStatus.SUCCESS, i, cmd.cq_depth,
                            cq_interrupt_unmask_register_offset=regs.IO_UNMASK_BASE + 4 * i)

    def create_sq(self, cmd: CreateSqCmd) -> CreateSqResp:
        i = self.sqs
        self.sqs += 1
        return CreateSqResp(AdminStatus.SUCCESS, i, regs.IO_DOORBELL_BASE + 4 * i,
                            llq_descriptors_offset=i * LLQ_WINDOW)

    def destroy_sq(self, cmd: DestroySqCmd) -> DestroyResp:
        return DestroyResp(AdminStatus.SUCCESS)

    def destroy_cq(self, cmd: DestroyCqCmd) -> DestroyResp:
        return DestroyResp(AdminStatus.SUCCESS)


class Log:
    """Every MMIO write, in order."""

    def __init__(self) -> None:
        self.writes: list[tuple[int, int]] = []

    def mmio_write(self, offsets: np.ndarray, values: np.ndarray) -> None:
        self.writes += list(zip(offsets.tolist(), values.tolist(), strict=True))

    def mmio_read(self, offset: int) -> int:
        return 0


class World:
    def __init__(self, cfg: DriverConfig) -> None:
        self.bus = Bus(mem_size=1 << 23, llq_size=LLQ_WINDOW * 2 * cfg.num_queues)
        self.log = Log()
        self.bus.regs.attach(self.log)
        self.drv = EnaDriver(self.bus, StubPort(), cfg)


def state_of(w: World) -> dict[str, object]:
    """Everything the driver keeps, and everything it wrote."""
    out: dict[str, object] = {}
    for name, part in (("tx", w.drv.tx), ("rx", w.drv.rx), ("drbr", w.drv.tx.drbr)):
        for k, v in vars(part).items():
            if isinstance(v, np.ndarray) and k not in ("sq_words", "cq", "sq"):
                out[f"{name}.{k}"] = v.copy()
    out["tx.stats"] = w.drv.tx.stats.as_dict()
    out["rx.stats"] = w.drv.rx.stats.as_dict()
    out["reset"] = (w.drv.reset.triggered, int(w.drv.reset.reason))
    out["mem"] = w.bus.mem.data.copy()
    out["llq"] = w.bus.llq.data.copy()
    out["mmio"] = list(w.log.writes)
    return out


def assert_same(a: World, b: World) -> None:
    sa, sb = state_of(a), state_of(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        x, y = sa[k], sb[k]
        if isinstance(x, dict):
            assert x.keys() == y.keys(), k  # type: ignore[union-attr]
            for n in x:
                assert np.array_equal(x[n], y[n]), f"{k}.{n}: {x[n]} != {y[n]}"  # type: ignore[index]
        elif isinstance(x, np.ndarray):
            if not np.array_equal(x, y):
                diff = np.flatnonzero((x != y).ravel())[:8]
                raise AssertionError(f"{k} differs at {diff}: {x.ravel()[diff]} vs "
                                     f"{np.asarray(y).ravel()[diff]}")
        else:
            assert x == y, f"{k}: {x} != {y}"


@dataclass
class Script:
    """The device stand-in: producer counters of the TX and RX CQs, consumer of RX SQs."""

    nq: int
    tx_depth: int
    rx_depth: int
    tx_ctail: np.ndarray = field(init=False)
    rx_ctail: np.ndarray = field(init=False)
    rx_shead: np.ndarray = field(init=False)
    tx_written: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tx_ctail = np.zeros(self.nq, dtype=np.int64)
        self.rx_ctail = np.zeros(self.nq, dtype=np.int64)
        self.rx_shead = np.zeros(self.nq, dtype=np.int64)

    @staticmethod
    def phase(counter: int, depth: int) -> int:
        return 1 ^ ((counter // depth) & 1)

    def tx_complete(self, worlds: list[World], rng: np.random.Generator,
                    fault: str | None) -> None:
        """Complete a random part of each queue's in-flight ids in random order (from the
        first world's state; both are equal), optionally with one fault."""
        d = worlds[0].drv
        depth = self.tx_depth
        for q in range(self.nq):
            head = int(d.tx.cq_head[q])
            pending = {r for c, r in self.tx_written.get(q, []) if (c - head) % 65536 < depth}
            ids = np.array([i for i in np.flatnonzero(d.tx.inflight[q]) if i not in pending],
                           dtype=np.int64)
            rng.shuffle(ids)
            room = depth - (self.tx_ctail[q] - int(d.tx.cq_head[q]) % 65536) % 65536
            room = min(room, depth) - 1
            take = ids[: rng.integers(0, max(min(ids.size, room), 0) + 1)]
            recs = [(int(r), 0) for r in take]
            if fault and room > len(recs):
                pos = int(rng.integers(0, len(recs) + 1))
                if fault == "mbz":
                    recs.insert(pos, (int(take[0]) if take.size else 0, 1))
                elif fault == "oob":
                    recs.insert(pos, (depth + int(rng.integers(0, 100)), 0))
                elif fault == "dup":
                    free = np.flatnonzero(~d.tx.inflight[q])
                    recs.insert(pos, (int(free[0]) if free.size else 0, 0))
            for rid, mbz in recs:
                c = int(self.tx_ctail[q])
                for w in worlds:
                    assert w.drv.tx.cq is not None
                    e = w.drv.tx.cq[q, c % depth]
                    e["req_id"] = rid
                    e["flags"] = self.phase(c, depth) | (mbz << 6)
                self.tx_written.setdefault(q, []).append((c, rid))
                self.tx_ctail[q] = (c + 1) % 65536

    def rx_receive(self, worlds: list[World], rng: np.random.Generator, max_pkts: int,
                   fault: str | None, max_sgl: int, buf_size: int) -> None:
        """Scatter random frames over the posted buffers (in SQ order) and write their
        completions, optionally with one fault."""
        d = worlds[0].drv
        depth = self.rx_depth
        for q in range(self.nq):
            posted = (int(d.rx.tail[q]) - int(self.rx_shead[q])) % 65536
            cq_room = depth - 1 - (int(self.rx_ctail[q]) - int(d.rx.cq_head[q])) % 65536
            budget = min(posted, cq_room)
            npk = int(rng.integers(0, max_pkts + 1))
            faulty = int(rng.integers(0, max(npk, 1))) if fault else -1
            for p in range(npk):
                nd = int(rng.integers(1, 4))
                if p == faulty and fault == "too_many":
                    nd = max_sgl + 1
                if nd > budget:
                    break
                budget -= nd
                l3 = int(rng.choice([0, L3Proto.IPV4, L3Proto.IPV6, L3Proto.FCOE]))
                l4 = int(rng.choice([0, L4Proto.TCP, L4Proto.UDP]))
                flags = (l3 | l4 << 8 | int(rng.integers(0, 2)) << 13
                         | int(rng.integers(0, 2)) << 14 | int(rng.integers(0, 2)) << 15)
                h = int(rng.integers(0, 1 << 32))
                offset = int(rng.choice([0, 0, 2]))
                for i in range(nd):
                    s = int(self.rx_shead[q])
                    assert d.rx.sq is not None
                    desc = d.rx.sq[q, s % depth]
                    rid = int(desc["req_id"])
                    addr = int(desc["buff_addr_lo"]) | int(desc["buff_addr_hi"]) << 32
                    ln = int(rng.integers(1, buf_size - offset))
                    data = rng.integers(0, 256, ln, dtype=np.uint8)
                    status = flags if i == nd - 1 else 0
                    if i == 0:
                        status |= RxCdesc.FIRST.mask
                    if i == nd - 1:
                        status |= RxCdesc.LAST.mask
                    if p == faulty and i == nd - 1:
                        if fault == "first" and nd > 1:
                            status |= RxCdesc.FIRST.mask
                        elif fault == "mbz":
                            status |= RxCdesc.MBZ7.mask
                        elif fault == "oob":
                            rid = depth + 3
                        elif fault == "dup":
                            rid = int(d.rx.sq[q, (s - 1) % depth]["req_id"]) if s else rid
                    c = int(self.rx_ctail[q])
                    for w in worlds:
                        off = offset if i == 0 else 0
                        w.bus.mem.data[addr + off:addr + off + ln] = data
                        assert w.drv.rx.cq is not None
                        e = w.drv.rx.cq[q, c % depth]
                        e["status"] = status | self.phase(c, depth) << 24
                        e["length"] = ln
                        e["req_id"] = rid
                        e["hash"] = h
                        e["offset"] = off
                    self.rx_ctail[q] = (c + 1) % 65536
                    self.rx_shead[q] = (s + 1) % 65536


def rx_write(w: World, q: int, packets: list[list[int]], status: int = 0) -> None:
    """RX completions written for packets of the given buffer lengths, on the posted
    req_ids in posted order (``status`` bits added on each last descriptor)."""
    rx = w.drv.rx
    assert rx.cq is not None and rx.sq is not None
    d = rx.cfg.depth
    c = int(rx.cq_head[q])
    for lens in packets:
        for i, ln in enumerate(lens):
            e = rx.cq[q, c % d]
            e["req_id"] = rx.sq[q, c % d]["req_id"]
            e["length"] = ln
            e["status"] = ((RxCdesc.FIRST.mask if i == 0 else 0)
                           | (RxCdesc.LAST.mask | status if i == len(lens) - 1 else 0)
                           | (1 ^ (c // d) & 1) << 24)
            c += 1


def world(**kw: object) -> World:
    """A driver with ``DriverConfig(**kw)``, up, its register-write log cleared."""
    w = World(DriverConfig(**kw))  # type: ignore[arg-type]
    w.drv.up()
    w.log.writes.clear()
    return w


def batch(w: World, lengths: list[int], segs: list[int] | None = None) -> PacketBatch:
    """Frames of ``lengths`` bytes (``segs`` segments each) in the world's host memory."""
    ln = np.array(lengths)
    base = w.bus.mem.alloc(int(ln.sum()), 64)
    return PacketBatch.from_arrays(w.bus.mem.data, base + np.cumsum(ln) - ln, ln, segs)


def complete(w: World, ids: list[int], flags: list[int] | None = None, q: int = 0) -> None:
    """Write TX completions after the driver's current head, with the expected phase."""
    tx = w.drv.tx
    assert tx.cq is not None
    d = tx.cfg.depth
    for i, rid in enumerate(ids):
        c = int(tx.cq_head[q]) + i
        tx.cq[q, c % d]["req_id"] = rid
        tx.cq[q, c % d]["flags"] = (1 ^ (c // d) & 1) | (flags[i] if flags else 0)
