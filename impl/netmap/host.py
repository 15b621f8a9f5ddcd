"""The host-stack rings: ``netmap_transmit`` into the host RX ring, rxsync from the host,
and txsync to the host, vectorized over the packets of a batch.

Upstream, at the pinned commit (the spec is :mod:`model.netmap_host`):

* ``netmap_transmit``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4278):
  a packet longer than a netmap buffer is dropped; otherwise it is queued on the host RX
  kring's ``rx_queue`` only if ``busy + mbq_len(q) < num_slots - 1``.  Both drops return
  ENOBUFS and count ``IFCOUNTER_OQDROPS``.
* ``netmap_rxsync_from_host``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1390):
  queued packets are copied into the slots from ``nr_hwtail`` up to, not including,
  ``nm_prev(nr_hwcur)`` (``len`` set, ``flags`` cleared), then ``nr_hwcur = rhead``.
* ``netmap_txsync_to_host`` and ``netmap_grab_packets``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1357,
  https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1239):
  every slot in ``[nr_hwcur, rhead)`` whose ``len`` is in ``14 .. buf_size`` is copied
  into an mbuf and sent up the stack (``NS_FORWARD`` cleared); any other length is
  logged and skipped.  Then ``nr_hwcur = rhead`` and ``nr_hwtail = nm_prev(rhead)``.

Both host krings go through the same prologue, reinit and ``nm_sync_finalize`` as the
hardware rings (``netmap_ioctl``, L3216): a refused TX prologue runs reinit only; a
refused RX prologue runs reinit and then the sync.  ``NMB`` maps a buffer index past the
pool to buffer 0, so a scribbled ``buf_idx`` reads (TX) or writes (RX) the reserved
buffer 0, as in netmap.

Deviation: netmap allocates the host rings' memory among the hardware rings of their
direction; here the host TX ring and the host RX ring follow all hardware rings.  Users
find rings through ``nifp->ring_ofs`` in both, so no user-visible offset rule changes.
Not implemented: several host ring pairs (``num_host_rx_rings > 1``), the ENXIO /
``MBUF_TRANSMIT`` paths (adapter or TX ring not in netmap mode), offload drops, and an
mbuf shortage in ``netmap_grab_packets``.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

import numpy as np

from impl.netmap import dma
from impl.netmap.forward import SwToNic, netmap_sw_to_nic
from impl.netmap.kring import Krings
from impl.netmap.layout import NR_FORWARD, NS_FORWARD
from impl.netmap.mem import NetmapMemory
from impl.netmap.prologue import (
    AS_SHIPPED,
    caller_accepts,
    check_policy,
    nm_rxsync_prologue,
    nm_sync_finalize,
    nm_txsync_prologue,
)
from impl.netmap.ranges import flat_ranges, ring_dist, ring_prev
from impl.netmap.reinit import netmap_ring_reinit
from model.netmap_host import HostRx, HostTx
from model.netmap_poll_host import host_tx_ring
from model.netmap_state import NetmapRing

ETH_HLEN = 14
"""The shortest packet ``netmap_grab_packets`` sends up (an Ethernet header)."""

_RING = np.zeros(1, dtype=np.int64)
_RING.setflags(write=False)


def split_frames(lengths: np.ndarray, data: np.ndarray) -> list[bytes]:
    """Concatenated packets back as one ``bytes`` each (test and report helper)."""
    ends = np.cumsum(lengths).tolist()
    return [bytes(data[e - n : e]) for e, n in zip(ends, lengths.tolist(), strict=True)]


def _batch(frames: np.ndarray, lengths: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Packets as uint8 rows and one int64 length each (default: the row width);
    ValueError unless there is one length >= 0 per row."""
    frames = np.atleast_2d(np.asarray(frames, dtype=np.uint8))
    k, width = frames.shape
    lengths = np.full(k, width, np.int64) if lengths is None else np.asarray(lengths, np.int64)
    if lengths.shape != (k,) or (k and lengths.min() < 0):
        raise ValueError("lengths must give one length >= 0 per frame")
    return frames, lengths


@dataclass
class FrameQueue:
    """Packets as one concatenated byte array plus per-packet lengths, first in first out
    (the kring's ``rx_queue`` of mbufs, or the packets sent up to the stack)."""

    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    data: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))

    def push(self, lengths: np.ndarray, data: np.ndarray) -> None:
        """Append packets (``data`` is their bytes, concatenated)."""
        self.lengths = np.concatenate([self.lengths, lengths.astype(np.int64)])
        self.data = np.concatenate([self.data, data.astype(np.uint8)])

    def pop(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove and return the first ``k`` packets as ``(lengths, bytes)``."""
        lengths, self.lengths = self.lengths[:k], self.lengths[k:]
        nbytes = int(lengths.sum())
        data, self.data = self.data[:nbytes], self.data[nbytes:]
        return lengths, data

    def frames(self) -> list[bytes]:
        """Each packet's bytes (test and report helper)."""
        return split_frames(self.lengths, self.data)

    def __len__(self) -> int:
        return int(self.lengths.size)

    def __repr__(self) -> str:
        return f"FrameQueue(packets={len(self)}, bytes={self.data.size})"


@dataclass(frozen=True)
class HostRxsyncResult:
    """One rxsync of the host RX ring: prologue accepted?, packets copied from the queue,
    packets swapped into the TX rings (transparent mode), and NS_FORWARD packets that
    found no room (released unsent as shipped; kept for the next rxsync, hardened)."""

    accepted: bool
    imported: int
    forwarded: int = 0
    unsent: int = 0


@dataclass(frozen=True)
class HostTxsyncResult:
    """One txsync of the host TX ring: prologue accepted?, packets sent up, slots skipped
    for their length."""

    accepted: bool
    sent_up: int
    bad_len: int


class HostRings:
    """The host TX kring and host RX kring of one adapter (rings ``base`` and ``base + 1``
    of the shared memory), the RX kring's ``rx_queue`` and the packets sent up the stack.

    Counters: ``accepted`` / ``dropped`` (netmap_transmit returned 0 / ENOBUFS, the latter
    is IFCOUNTER_OQDROPS), ``imported`` (copied from the queue into the ring),
    ``released`` (host TX slots the user released through :meth:`user_send`),
    ``sent_up`` and ``bad_len`` (txsync sent up / skipped), ``forwarded`` (swapped into a
    TX ring), ``unsent`` (NS_FORWARD packets released without room) and ``kernel_slots``
    (swaps into TX slots the kernel owns); netmap keeps neither of the last two.
    ``forwarded_up``: hardware RX packets sent up the stack in transparent mode.
    ``synced`` is 1 when no packet was accepted since the last host rxsync (bookkeeping
    for the model's ghost)."""

    def __init__(self, mem: NetmapMemory, base: int, num_hw_tx: int, num_hw_rx: int) -> None:
        self.mem = mem
        self.tx = Krings("tx", mem, base, 1)
        self.rx = Krings("rx", mem, base + 1, 1)
        self.tx.headers["ringid"] = num_hw_tx
        self.rx.headers["ringid"] = num_hw_rx
        self.rx_queue = FrameQueue()
        self.stack = FrameQueue()
        self.accepted = self.dropped = self.imported = 0
        self.released = self.sent_up = self.bad_len = 0
        self.forwarded = self.unsent = self.kernel_slots = self.forwarded_up = 0
        self.synced = 1

    @property
    def n(self) -> int:
        return self.mem.num_slots

    # ------------------------------------------------------------------ kernel side

    def netmap_transmit(self, frames: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """The stack hands netmap a batch of packets (uint8 rows, optional lengths), in
        order; returns each packet's errno: 0 (queued) or ENOBUFS (dropped: longer than a
        netmap buffer, or no room left in the host RX ring)."""
        frames, lengths = _batch(frames, lengths)
        k, width = frames.shape
        if k and lengths.max() > width:
            raise ValueError("lengths must give one length <= row width per frame")
        kr = self.rx
        busy = int(ring_dist(kr.hwcur[0], kr.hwtail[0], self.n))
        room = self.n - 1 - busy - len(self.rx_queue)
        fits = lengths <= self.mem.buf_size
        queued = fits & (np.cumsum(fits) <= room)
        rows = frames[queued]
        self.rx_queue.push(lengths[queued], rows[np.arange(width) < lengths[queued, None]])
        got = int(queued.sum())
        self.accepted += got
        self.dropped += k - got
        if got:
            self.synced = 0
        return np.where(queued, 0, errno.ENOBUFS)

    def rxsync(self, policy: str, tx: Krings | None = None,
               fwd_all: bool = False) -> HostRxsyncResult:
        """NIOCRXSYNC on the host RX ring: prologue (reinit if refused), then
        netmap_rxsync_from_host, then nm_sync_finalize.

        Forwarding down (:mod:`impl.netmap.forward`) runs when the user released slots,
        ``tx`` is given (the handle is bound to every hardware TX ring:
        NAF_CAN_FORWARD_DOWN) and the ring has NR_FORWARD or ``fwd_all``
        (``dev.netmap.fwd``).  As shipped ``nr_hwcur = rhead`` whatever was forwarded;
        hardened, ``nr_hwcur`` stays put while a forwardable packet found no room
        (back-pressure: model.netmap_forward.rxsync_hardened); the swapped slots lose
        NS_FORWARD, so the next rxsync retries only the unsent ones.  With ``fwd_all``
        every released slot is forwardable, so hardened ``nr_hwcur`` moves past the
        swapped ones instead (the model covers NS_FORWARD marks only)."""
        check_policy(policy)
        kr, n = self.rx, self.n
        accepted = bool(caller_accepts(kr, nm_rxsync_prologue(policy, kr, 0)))
        if not accepted:
            netmap_ring_reinit(policy, kr, _RING)
        hwtail = int(kr.hwtail[0])
        room = int(ring_dist(hwtail, ring_prev(int(kr.hwcur[0]), n), n))
        k = min(len(self.rx_queue), room)
        lengths, data = self.rx_queue.pop(k)
        idx = (hwtail + np.arange(k)) % n
        buf = self._nmb(kr.slot_buf_idx[0, idx])
        dma.scatter(self.mem.bufs, buf, lengths, data)
        kr.slot_len[0, idx] = lengths
        kr.slot_flags[0, idx] = 0
        kr.hwtail[0] = (hwtail + k) % n
        head = int(kr.rhead[0])
        fw = SwToNic(0, 0, -1)
        wants = fwd_all or bool(kr.headers["flags"][0] & NR_FORWARD)
        if head != int(kr.hwcur[0]) and tx is not None and wants:
            fw = netmap_sw_to_nic(policy, kr, tx, fwd_all)
        if policy == AS_SHIPPED or fw.unsent == 0:
            kr.hwcur[0] = head
        elif fwd_all:  # every released slot is forwardable: step past those swapped out
            kr.hwcur[0] = (int(kr.hwcur[0]) + fw.forwarded) % n
        nm_sync_finalize(kr, 0)
        self.imported += k
        self.forwarded += fw.forwarded
        self.kernel_slots += fw.kernel_slots
        self.unsent += fw.unsent if policy == AS_SHIPPED else 0
        self.synced = 1
        return HostRxsyncResult(accepted, k, fw.forwarded, fw.unsent)

    def txsync(self, policy: str) -> HostTxsyncResult:
        """NIOCTXSYNC on the host TX ring: prologue (only reinit if refused), then
        netmap_txsync_to_host and nm_sync_finalize."""
        check_policy(policy)
        kr, n = self.tx, self.n
        if not caller_accepts(kr, nm_txsync_prologue(policy, kr, 0)):
            netmap_ring_reinit(policy, kr, _RING)
            return HostTxsyncResult(False, 0, 0)
        head = int(kr.rhead[0])
        sent, bad = self.grab_packets(kr, _RING, force=True)
        kr.hwcur[0] = head
        kr.hwtail[0] = ring_prev(head, n)
        nm_sync_finalize(kr, 0)
        self.sent_up += sent
        self.bad_len += bad
        return HostTxsyncResult(True, sent, bad)

    def grab_packets(self, kr: Krings, rings: np.ndarray, force: bool) -> tuple[int, int]:
        """netmap_grab_packets on ``rings`` of ``kr``: every slot in ``[nr_hwcur, rhead)``
        that carries NS_FORWARD (every slot if ``force``) and whose ``len`` is in
        ``14 .. buf_size`` goes up the stack, in ring order, and loses NS_FORWARD; the
        others with a bad length are skipped (netmap logs them).  Returns (sent, bad)."""
        n = self.n
        hwcur, rhead = kr.hwcur[rings], kr.rhead[rings]
        seg, _, idx = flat_ranges(hwcur, ring_dist(hwcur, rhead, n), n)
        row = rings[seg]
        wanted = np.ones(idx.size, bool) if force else (kr.slot_flags[row, idx]
                                                        & NS_FORWARD) != 0
        lengths = kr.slot_len[row, idx].astype(np.int64)
        ok = self._len_ok(lengths)
        up = wanted & ok
        kr.slot_flags[row[up], idx[up]] &= ~np.uint16(NS_FORWARD)
        buf = self._nmb(kr.slot_buf_idx[row[up], idx[up]])
        self.stack.push(lengths[up], dma.gather(self.mem.bufs, buf, lengths[up]))
        return int(up.sum()), int((wanted & ~ok).sum())

    def forward_up(self, kr: Krings, rings: np.ndarray, fwd_all: bool) -> int:
        """Transparent mode towards the stack, in a hardware RX ring's sync after the
        prologue (``nm_may_forward_up``: the ring has NR_FORWARD, or ``fwd_all``): the
        released slots marked NS_FORWARD (all of them with ``fwd_all``) go up the
        stack.  Returns how many went up."""
        on = rings if fwd_all else rings[(kr.headers["flags"][rings] & NR_FORWARD) != 0]
        if on.size == 0:
            return 0
        sent, bad = self.grab_packets(kr, on, force=fwd_all)
        self.forwarded_up += sent
        self.bad_len += bad
        return sent

    def _len_ok(self, lengths: np.ndarray) -> np.ndarray:
        """netmap_grab_packets' length test: ``14 <= len <= buf_size``."""
        return (lengths >= ETH_HLEN) & (lengths <= self.mem.buf_size)

    def _nmb(self, buf_idx: np.ndarray) -> np.ndarray:
        """NMB: the buffer a slot points at; an index past the pool means buffer 0."""
        buf = buf_idx.astype(np.int64)
        return np.where(buf < self.mem.nbufs, buf, 0)

    # ------------------------------------------------------------------ user side

    def user_send(self, frames: np.ndarray, lengths: np.ndarray | None = None) -> None:
        """The user copies packets into the host TX ring's slots from head on, sets their
        ``len`` (any u16, the kernel judges it) and releases them (head = cur moves past
        them).  ValueError, nothing written, if they exceed the user's free slots, a row
        is longer than a buffer, or a slot in the way has no valid buffer."""
        frames, lengths = _batch(frames, lengths)
        k, width = frames.shape
        if k and lengths.max() > 0xFFFF:
            raise ValueError("lengths must give one u16 length per frame")
        if width > self.mem.buf_size:
            raise ValueError(f"frame rows of {width} bytes exceed the buffer size "
                             f"{self.mem.buf_size}")
        kr, n = self.tx, self.n
        head, tail = int(kr.ring_head[0]), int(kr.ring_tail[0])
        if head >= n or tail >= n or k > ring_dist(head, tail, n):
            raise ValueError(f"host tx ring: {k} packets do not fit between head={head} "
                             f"and tail={tail}")
        idx = (head + np.arange(k)) % n
        buf = kr.slot_buf_idx[0, idx].astype(np.int64)
        if k and not self.mem.all_valid(buf):
            raise ValueError("host tx ring: a slot in the way has no valid buffer")
        copy = np.minimum(lengths, width)
        dma.scatter(self.mem.bufs, buf, copy, frames[np.arange(width) < copy[:, None]])
        kr.slot_len[0, idx] = lengths
        kr.ring_head[0] = kr.ring_cur[0] = (head + k) % n
        self.released += k

    def user_release(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The user consumes ``k`` received packets of the host RX ring (head = cur moves
        past them); returns their ``(lengths, bytes)``.  ValueError if fewer are there."""
        kr, n = self.rx, self.n
        head, tail = int(kr.ring_head[0]), int(kr.ring_tail[0])
        if head >= n or tail >= n or not 0 <= k <= ring_dist(head, tail, n):
            raise ValueError(f"host rx ring: cannot release {k} packets between "
                             f"head={head} and tail={tail}")
        idx = (head + np.arange(k)) % n
        lengths = kr.slot_len[0, idx].astype(np.int64)
        data = dma.gather(self.mem.bufs, self._nmb(kr.slot_buf_idx[0, idx]), lengths)
        kr.ring_head[0] = kr.ring_cur[0] = (head + k) % n
        return lengths, data

    # ------------------------------------------------------------------ abstraction

    def abstract_rx(self) -> HostRx:
        """The host RX ring as :class:`model.netmap_host.HostRx`."""
        kr = self.rx
        return HostRx(n=self.n, head=int(kr.ring_head[0]), tail=int(kr.ring_tail[0]),
                      hwcur=int(kr.hwcur[0]), hwtail=int(kr.hwtail[0]),
                      qlen=len(self.rx_queue), synced=self.synced, accepted=self.accepted,
                      dropped=self.dropped, imported=self.imported)

    def abstract_tx(self) -> HostTx:
        """The host TX ring as :class:`model.netmap_host.HostTx`; ``pending_bad`` is read
        off the slots the user released and the kernel has not sent up."""
        kr, n = self.tx, self.n
        hwcur, head = int(kr.hwcur[0]), int(kr.ring_head[0])
        pending_bad = 0
        if head < n:
            idx = (hwcur + np.arange(int(ring_dist(hwcur, head, n)))) % n
            lengths = kr.slot_len[0, idx]
            pending_bad = int((~self._len_ok(lengths)).sum())
        return HostTx(n=n, head=head, tail=int(kr.ring_tail[0]), hwcur=hwcur,
                      hwtail=int(kr.hwtail[0]), pending_bad=pending_bad,
                      released=self.released, sent_up=self.sent_up, bad_len=self.bad_len)

    def ring_view(self, direction: str) -> NetmapRing:
        """The host kring of ``direction`` as the NIC ring of :mod:`model.netmap_poll_host`
        (what poll sees): TX: the stack has everything sent (``nic = hwcur``, ``busy =
        0``); RX: ``nic = hwtail + qlen``, ``busy`` the room netmap_transmit has left."""
        kr, n = (self.tx if direction == "TX" else self.rx), self.n
        hwcur, hwtail = int(kr.hwcur[0]), int(kr.hwtail[0])
        if direction == "TX":
            nic, busy = hwcur, 0
        else:
            nic = (hwtail + len(self.rx_queue)) % n
            busy = int(ring_dist(nic, ring_prev(hwcur, n), n))
        return NetmapRing(n=n, head=int(kr.ring_head[0]), cur=int(kr.ring_cur[0]),
                          tail=int(kr.ring_tail[0]), hwcur=hwcur, hwtail=hwtail,
                          rhead=int(kr.rhead[0]), rcur=int(kr.rcur[0]),
                          rtail=int(kr.rtail[0]), nic=nic, busy=busy)

    def load_ring(self, direction: str, state: NetmapRing) -> None:
        """Put the host kring of ``direction`` into ``state`` (test support), so that
        ``ring_view(direction) == state`` afterwards: RX queues ``nic - hwtail`` packets
        of 60 bytes.  ValueError for a state no host kring can be in."""
        kr, n = (self.tx if direction == "TX" else self.rx), self.n
        if state.n != n:
            raise ValueError(f"state has n={state.n}, the host rings have {n} slots")
        if direction == "TX" and not host_tx_ring(state):
            raise ValueError(f"not a host TX kring: {state!r}")
        kr.ring_head[0], kr.ring_cur[0], kr.ring_tail[0] = state.head, state.cur, state.tail
        kr.hwcur[0], kr.hwtail[0] = state.hwcur, state.hwtail
        kr.rhead[0], kr.rcur[0], kr.rtail[0] = state.rhead, state.rcur, state.rtail
        if direction == "RX":
            self.rx_queue = FrameQueue()
            k = int(ring_dist(state.hwtail, state.nic, n))
            self.rx_queue.push(np.full(k, 60, dtype=np.int64), np.zeros(60 * k, np.uint8))
        if self.ring_view(direction) != state:
            raise ValueError(f"not a host {direction} kring: {state!r}")

    def __repr__(self) -> str:
        return (f"HostRings(n={self.n}, tx={self.abstract_tx()!r}, rx={self.abstract_rx()!r}, "
                f"rx_queue={self.rx_queue!r}, stack={self.stack!r})")
