"""A netmap adapter over the soft NIC: memory, krings, driver, device and user helpers.

Upstream: the user API of netmap.h
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L285:
head/cur/tail are u32, the user owns [head, tail)) and the kernel side of netmap.c (krings,
syncs, reinit, reset). ``abstract(kind, q)`` maps ring ``q`` to the model's
:class:`model.netmap_ring.NetmapRing`, the bridge the stateful tests check after every step.
"""

from __future__ import annotations

import numpy as np

from impl.netmap import dma
from impl.netmap.driver import driver_ring_init
from impl.netmap.host import HostRings, HostRxsyncResult, HostTxsyncResult
from impl.netmap.intr import netmap_rx_irq
from impl.netmap.kring import KINDS, Krings
from impl.netmap.layout import U32_MAX
from impl.netmap.mem import NetmapMemory
from impl.netmap.poll import PollOutcome, netmap_poll
from impl.netmap.prologue import check_policy
from impl.netmap.ranges import ring_dist
from impl.netmap.reinit import netmap_ring_reinit
from impl.netmap.softdev import SoftRings, SoftRxDevice, SoftTxDevice, WireLog
from impl.netmap.sync import RxsyncResult, TxsyncResult, rxsync, txsync
from model.netmap_ring import HARDENED, NetmapRing


class NetmapAdapter:
    """``num_tx_rings`` TX and ``num_rx_rings`` RX rings of ``num_slots`` slots each.

    Shared memory holds the TX rings first, then the RX rings, then ``nbufs`` buffers of
    ``buf_size`` bytes: the two reserved ones, one per slot (every slot starts with its own
    buffer, as netmap_mem_rings_create does) and ``extra_bufs`` more on the free list
    (default: ``num_slots``).  With ``host_rings`` (the default, as for every native
    adapter: NAF_HOST_RINGS) the host TX and host RX rings follow the hardware rings
    (:class:`impl.netmap.host.HostRings`, ``self.host``).  ``policy`` selects the
    prologue/reinit variant; every kernel operation also accepts a ``policy=`` override.
    ``seed`` seeds the soft NIC's frame generator."""

    def __init__(
        self,
        num_tx_rings: int,
        num_rx_rings: int,
        num_slots: int,
        buf_size: int = 2048,
        policy: str = HARDENED,
        seed: int = 0,
        extra_bufs: int | None = None,
        host_rings: bool | tuple[int, int] = True,
    ) -> None:
        self.policy = check_policy(policy)
        self.seed = int(seed)
        extra = int(num_slots if extra_bufs is None else extra_bufs)
        if extra < 0:
            raise ValueError(f"extra_bufs must be >= 0, got {extra}")
        hw_rings = int(num_tx_rings) + int(num_rx_rings)
        host = (1, 1) if host_rings is True else (0, 0) if host_rings is False else tuple(
            int(h) for h in host_rings)
        if len(host) != 2 or (any(host) and min(host) < 1):
            raise ValueError(f"host_rings: True, False or (num_host_tx, num_host_rx) >= 1, "
                             f"got {host_rings!r}")
        nrings = hw_rings + sum(host)
        self.mem = NetmapMemory(nrings, num_slots, buf_size, 2 + nrings * num_slots + extra)
        self.num_slots = self.mem.num_slots
        self.tx = Krings("tx", self.mem, 0, int(num_tx_rings))
        self.rx = Krings("rx", self.mem, int(num_tx_rings), int(num_rx_rings))
        self.host = (HostRings(self.mem, hw_rings, self.tx.count, self.rx.count, *host)
                     if any(host) else None)
        self.mem.slot_buf_idx[:] = self.mem.alloc(nrings * self.num_slots).reshape(
            nrings, self.num_slots
        )
        self.txdev = SoftTxDevice(self.tx.count, self.num_slots, self.mem.bufs)
        self.rxdev = SoftRxDevice(self.rx.count, self.num_slots, self.mem.bufs, seed=self.seed)
        driver_ring_init(self.tx, self.txdev, self.tx.check_rings(None))
        driver_ring_init(self.rx, self.rxdev, self.rx.check_rings(None))
        self.no_pendintr = True
        """The sysctl ``dev.netmap.no_pendintr`` (default 1): poll()'s rxsync reads the
        NIC whether or not an interrupt came."""

    # ------------------------------------------------------------------ plumbing

    def krings(self, kind: str) -> Krings:
        """The krings of one direction ("tx" or "rx")."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        return self.tx if kind == "tx" else self.rx

    def device(self, kind: str) -> SoftRings:
        """The soft NIC rings of one direction."""
        return self.txdev if self.krings(kind).is_tx else self.rxdev

    @property
    def wire(self) -> WireLog:
        """Frames transmitted so far (:class:`impl.netmap.softdev.WireLog`)."""
        return self.txdev.wire

    def _policy(self, policy: str | None) -> str:
        return self.policy if policy is None else check_policy(policy)

    # ------------------------------------------------------------------ kernel operations

    def txsync(self, rings: object = None, sent: object = None,
               policy: str | None = None) -> TxsyncResult:
        """NIOCTXSYNC on a batch of TX rings (None = all).  ``sent`` caps the slots the
        driver hands to the NIC per ring (default: ``num_slots``, i.e. all pending)."""
        r = self.tx.check_rings(rings)
        return txsync(self._policy(policy), self.tx, self.txdev, r,
                      self.num_slots if sent is None else sent)

    def rxsync(self, rings: object = None, refill: object = None,
               policy: str | None = None, *, fwd_all: bool = False) -> RxsyncResult:
        """NIOCRXSYNC on a batch of RX rings (None = all).  ``refill`` caps the released
        slots given back to the NIC per ring (default: all).  With host rings, rings with
        NR_FORWARD (all rings with ``fwd_all``, the global ``dev.netmap.fwd``) first send
        their released NS_FORWARD slots up the stack (:meth:`HostRings.forward_up`)."""
        r = self.rx.check_rings(rings)
        host = self.host
        up = None if host is None else (lambda sel: host.forward_up(self.rx, sel, fwd_all))
        return rxsync(self._policy(policy), self.rx, self.rxdev, r,
                      self.num_slots if refill is None else refill, up)

    def poll(self, events: int, tx_ring: int = 0, rx_ring: int = 0, *, txpoll: bool = True,
             lock_free: bool = True, sent: tuple[int, int] | None = None,
             refill: tuple[int, int] | None = None, policy: str | None = None) -> PollOutcome:
        """poll(2) on a handle bound to TX ring ``tx_ring`` and RX ring ``rx_ring``
        (:func:`impl.netmap.poll.netmap_poll`)."""
        _, tq = self._ring("tx", tx_ring)
        _, rq = self._ring("rx", rx_ring)
        return netmap_poll(self._policy(policy), (self.tx, self.txdev, tq),
                           (self.rx, self.rxdev, rq), events, txpoll=txpoll,
                           lock_free=lock_free, sent=sent, refill=refill,
                           no_pendintr=self.no_pendintr)

    def rx_irq(self, q: int) -> int:
        """The NIC's RX interrupt for ring ``q``
        (:func:`impl.netmap.intr.netmap_rx_irq`: NKR_PENDINTR set)."""
        return netmap_rx_irq(self.rx, q)

    def host_rings(self) -> HostRings:
        """The host rings; ValueError if the adapter was built without them."""
        if self.host is None:
            raise ValueError("this adapter has no host rings (built with host_rings=False)")
        return self.host

    def netmap_transmit(self, frames: np.ndarray, lengths: np.ndarray | None = None,
                        txq: np.ndarray | None = None) -> np.ndarray:
        """The host stack transmits a batch of packets while the port is in netmap mode
        (:meth:`impl.netmap.host.HostRings.netmap_transmit`); per packet 0 or ENOBUFS."""
        return self.host_rings().netmap_transmit(frames, lengths, txq)

    def host_rxsync(self, policy: str | None = None, *, can_forward_down: bool = True,
                    fwd_all: bool = False) -> HostRxsyncResult:
        """NIOCRXSYNC on the host RX ring (netmap_rxsync_from_host).  Transparent mode
        forwards NS_FORWARD packets into the TX rings if the host RX ring has NR_FORWARD
        (or ``fwd_all``, the global ``dev.netmap.fwd``) and ``can_forward_down`` (the
        handle is bound to every hardware TX ring)."""
        tx = self.tx if can_forward_down else None
        return self.host_rings().rxsync(self._policy(policy), tx, fwd_all)

    def host_txsync(self, policy: str | None = None) -> HostTxsyncResult:
        """NIOCTXSYNC on the host TX ring (netmap_txsync_to_host)."""
        return self.host_rings().txsync(self._policy(policy))

    def stop_rings(self, kind: str, rings: object = None) -> None:
        """nm_kr_stop(NM_KR_STOPPED) on ``rings`` (None = all): the interface is going
        down or the driver is resetting; syncs skip them (EIO, POLLERR)."""
        kr = self.krings(kind)
        kr.stopped[kr.check_rings(rings)] = True

    def start_rings(self, kind: str, rings: object = None) -> None:
        """nm_kr_start on ``rings`` (None = all)."""
        kr = self.krings(kind)
        kr.stopped[kr.check_rings(rings)] = False

    def ring_reinit(self, kind: str, rings: object = None,
                    policy: str | None = None) -> np.ndarray:
        """netmap_ring_reinit on its own (as drivers call it on errors); returns the
        per-ring reset flags."""
        kr = self.krings(kind)
        return netmap_ring_reinit(self._policy(policy), kr, kr.check_rings(rings))

    def netmap_reset(self, kind: str, rings: object = None) -> None:
        """The driver reinitialises NIC rings: netmap_reset, then the device ring restarts
        (TX: nothing in flight; RX: every slot from hwtail to rhead - 1 posted)."""
        kr = self.krings(kind)
        driver_ring_init(kr, self.device(kind), kr.check_rings(rings))

    def device_complete(self, rings: object, k: object) -> np.ndarray:
        """The NIC transmits and completes ``k`` descriptors per TX ring (TDH += k)."""
        return self.txdev.complete(self.tx.check_rings(rings), k)

    def device_deliver(self, rings: object, k: object, frames: np.ndarray | None = None,
                       lengths: np.ndarray | None = None) -> np.ndarray:
        """The NIC receives ``k`` frames per RX ring (RDH += k); see
        :meth:`impl.netmap.softdev.SoftRxDevice.deliver` for ``frames`` / ``lengths``."""
        return self.rxdev.deliver(self.rx.check_rings(rings), k, frames, lengths)

    # ------------------------------------------------------------------ user side

    def _ring(self, kind: str, q: int) -> tuple[Krings, int]:
        kr = self.krings(kind)
        if not 0 <= int(q) < kr.count:
            raise ValueError(f"{kind} ring {q} out of range 0..{kr.count - 1}")
        return kr, int(q)

    def user_indices(self, kind: str, q: int) -> tuple[int, int, int]:
        """``(ring->head, ring->cur, ring->tail)`` as the user reads them (u32)."""
        kr, q = self._ring(kind, q)
        return int(kr.ring_head[q]), int(kr.ring_cur[q]), int(kr.ring_tail[q])

    def set_user_indices(self, kind: str, q: int, head: int | None = None,
                         cur: int | None = None, tail: int | None = None) -> None:
        """The user writes ring->head / cur / tail (any u32; ValueError outside 0..2^32-1,
        nothing written then)."""
        kr, q = self._ring(kind, q)
        values = {"head": head, "cur": cur, "tail": tail}
        bad = {k: v for k, v in values.items() if v is not None and not 0 <= int(v) <= U32_MAX}
        if bad:
            raise ValueError(f"ring indices are u32: {bad} out of 0..{U32_MAX}")
        if head is not None:
            kr.ring_head[q] = int(head)
        if cur is not None:
            kr.ring_cur[q] = int(cur)
        if tail is not None:
            kr.ring_tail[q] = int(tail)

    def ring_space(self, kind: str, q: int) -> int:
        """nm_ring_space(): slots in [head, tail) (head and tail must be < num_slots)."""
        head, _, tail = self.user_indices(kind, q)
        self._check_user_view(kind, q, head, tail)
        return int(ring_dist(head, tail, self.num_slots))

    def _check_user_view(self, kind: str, q: int, head: int, tail: int) -> None:
        if head >= self.num_slots or tail >= self.num_slots:
            raise ValueError(f"{kind} ring {q}: head={head} / tail={tail} not slot indices")

    def user_advance(self, kind: str, q: int, dh: int, dc: int = 0) -> None:
        """The user publishes / releases ``dh`` slots (head += dh) and puts cur ``dc``
        slots beyond the new head; ValueError unless ``dh + dc <= nm_ring_space``."""
        space = self.ring_space(kind, q)
        if dh < 0 or dc < 0 or dh + dc > space:
            raise ValueError(f"{kind} ring {q}: cannot advance by {dh}+{dc} with space {space}")
        head = (self.user_indices(kind, q)[0] + dh) % self.num_slots
        self.set_user_indices(kind, q, head=head, cur=(head + dc) % self.num_slots)

    def slots(self, kind: str, q: int) -> np.ndarray:
        """The slot array of ring ``q`` (a structured view aliasing shared memory)."""
        kr, q = self._ring(kind, q)
        return self.mem.slots[kr.base + q]

    def buffer(self, buf_idx: int) -> np.ndarray:
        """Buffer ``buf_idx`` (a uint8 view of shared memory)."""
        if not 0 <= int(buf_idx) < self.mem.nbufs:
            raise ValueError(f"buffer index {buf_idx} out of range 0..{self.mem.nbufs - 1}")
        return self.mem.bufs[int(buf_idx)]

    def user_fill(self, q: int, frames: np.ndarray, lengths: np.ndarray | None = None) -> None:
        """Copy frames (uint8 rows, optional lengths) into the buffers of TX ring ``q``'s
        slots [head, head + k) and set their ``len``; head is not moved.  ValueError if k
        exceeds nm_ring_space or a length exceeds the buffer size."""
        frames = np.atleast_2d(np.asarray(frames, dtype=np.uint8))
        k, width = frames.shape
        lengths = np.full(k, width) if lengths is None else np.asarray(lengths, np.int64)
        if lengths.shape != (k,) or (k and (lengths.min() < 0 or lengths.max() > width)):
            raise ValueError("lengths must give one length <= row width per frame")
        if k and lengths.max() > self.mem.buf_size:
            raise ValueError(f"frame longer than the buffer size {self.mem.buf_size}")
        if k > self.ring_space("tx", q):
            raise ValueError(f"tx ring {q}: {k} frames do not fit in the user's free slots")
        head = self.user_indices("tx", q)[0]
        idx = (head + np.arange(k)) % self.num_slots
        slots = self.slots("tx", q)
        buf = slots["buf_idx"][idx].astype(np.int64)
        if k and not self.mem.valid_buf(buf).all():
            raise ValueError(f"tx ring {q}: a slot in [head, head+{k}) has no valid buffer")
        dma.scatter(self.mem.bufs, buf, lengths, frames[np.arange(width) < lengths[:, None]])
        slots["len"][idx] = lengths

    def user_read(self, q: int, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The frames in RX ring ``q``'s slots [head, head + k) (default: up to tail):
        ``(lengths, bytes)`` with the frames' bytes concatenated in slot order."""
        space = self.ring_space("rx", q)
        k = space if k is None else int(k)
        if not 0 <= k <= space:
            raise ValueError(f"rx ring {q}: only {space} received slots")
        head = self.user_indices("rx", q)[0]
        idx = (head + np.arange(k)) % self.num_slots
        slots = self.slots("rx", q)
        buf = slots["buf_idx"][idx].astype(np.int64)
        length = slots["len"][idx].astype(np.int64)
        if k and not self.mem.valid_buf(buf).all():
            raise ValueError(f"rx ring {q}: a slot in [head, head+{k}) has no valid buffer")
        return length, dma.gather(self.mem.bufs, buf, length)

    # ------------------------------------------------------------------ abstraction

    def abstract(self, kind: str, q: int) -> NetmapRing:
        """The model state ring ``q`` implements: user indices from the shared header,
        kernel indices from the kring, ``nic`` = the device head register in kring
        indices, ``busy`` = descriptors the device owns."""
        kr, q = self._ring(kind, q)
        dev = self.device(kind)
        nic = (int(dev.head[q]) + int(kr.nkr_hwofs[q])) % self.num_slots
        return NetmapRing(
            n=self.num_slots,
            head=int(kr.ring_head[q]),
            cur=int(kr.ring_cur[q]),
            tail=int(kr.ring_tail[q]),
            hwcur=int(kr.hwcur[q]),
            hwtail=int(kr.hwtail[q]),
            rhead=int(kr.rhead[q]),
            rcur=int(kr.rcur[q]),
            rtail=int(kr.rtail[q]),
            nic=nic,
            busy=int(dev.owned[q]),
        )

    def load(self, kind: str, q: int, state: NetmapRing) -> None:
        """Put ring ``q`` into the abstract ``state`` (test support, e.g. boundary states
        found by z3), so that ``abstract(kind, q) == state`` afterwards.

        The NIC index space is aligned with the kring (``nkr_hwofs = 0``); the device
        registers become TX: TDH = nic, TDT = hwcur; RX: RDH = nic, RDT = hwcur - 1, and
        the device's owned count becomes ``busy``.  Every descriptor is rewritten from its
        slot (buf_idx, and len on TX), so the descriptors the device owns carry the
        buffers of the slots they stand for.  Slot contents are not changed."""
        kr, q = self._ring(kind, q)
        n = self.num_slots
        if state.n != n:
            raise ValueError(f"state has n={state.n}, ring has {n} slots")
        for name in ("hwcur", "hwtail", "rhead", "rtail", "nic"):
            if not 0 <= int(getattr(state, name)) < n:
                raise ValueError(f"{name}={getattr(state, name)} is not a slot index")
        if not 0 <= int(state.rcur) <= U32_MAX or int(state.busy) < 0:
            raise ValueError(f"rcur / busy out of range in {state!r}")
        self.set_user_indices(kind, q, head=state.head, cur=state.cur, tail=state.tail)
        kr.hwcur[q], kr.hwtail[q] = int(state.hwcur), int(state.hwtail)
        kr.rhead[q], kr.rcur[q], kr.rtail[q] = int(state.rhead), int(state.rcur), int(state.rtail)
        kr.nkr_hwofs[q] = 0
        dev = self.device(kind)
        slots = self.slots(kind, q)
        dev.desc_buf[q] = slots["buf_idx"]
        dev.desc_len[q] = slots["len"] if kr.is_tx else 0
        dev.head[q] = int(state.nic)
        dev.tail[q] = int(state.hwcur) if kr.is_tx else (int(state.hwcur) - 1) % n
        dev.owned[q] = int(state.busy)

    def buffer_places(self) -> np.ndarray:
        """Every buffer index held anywhere: all slots of all rings, then the free list.

        While nobody scribbles slots, each of 2..nbufs-1 appears exactly once (device
        descriptors are copies of slot indices, not extra owners)."""
        return np.concatenate(
            [self.mem.slot_buf_idx.ravel().astype(np.int64), self.mem.pool.free_indices()]
        )

    def device_buffers(self, kind: str, q: int) -> np.ndarray:
        """Buffer indices of the descriptors the device can use now ([head, tail) of its
        ring), in NIC order."""
        _, q = self._ring(kind, q)
        dev = self.device(kind)
        return dev.desc_buf[q, dev.owned_descriptors(q)].astype(np.int64)

    def __repr__(self) -> str:
        return (
            f"NetmapAdapter(num_tx_rings={self.tx.count}, num_rx_rings={self.rx.count}, "
            f"num_slots={self.num_slots}, buf_size={self.mem.buf_size}, "
            f"nbufs={self.mem.nbufs}, host_rings={self.host is not None}, "
            f"policy={self.policy!r}, seed={self.seed})"
        )
