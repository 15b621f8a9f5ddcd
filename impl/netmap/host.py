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

Several host ring pairs (``num_host_tx_rings`` / ``num_host_rx_rings``, NIOCREGIF's
``nr_host_tx_rings`` / ``nr_host_rx_rings``): netmap_transmit queues a packet on host RX
kring ``MBUF_TXQ % num_host_rx_rings``; every host kring syncs on its own; transparent
mode forwards down from the first host RX kring only and, as shipped, forwards *up* from
the others (model/netmap_host_fwd.py: the stack's packets come back to it).

Deviation: netmap allocates the host rings' memory among the hardware rings of their
direction; here the host TX rings and then the host RX rings follow all hardware rings.
Users find rings through ``nifp->ring_ofs`` in both, so no user-visible offset rule
changes.  Not implemented: the ENXIO / ``MBUF_TRANSMIT`` paths (adapter or TX ring not in
netmap mode), offload drops, and an mbuf shortage in ``netmap_grab_packets``.
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


class HostQueues:
    """The ``rx_queue`` of each host RX kring: packets in arrival order, each tagged with
    its ring, first in first out per ring."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.ring = np.zeros(0, dtype=np.int64)
        self.lengths = np.zeros(0, dtype=np.int64)
        self.data = np.zeros(0, dtype=np.uint8)

    def qlen(self) -> np.ndarray:
        """``mbq_len`` of each ring's queue."""
        return np.bincount(self.ring, minlength=self.count)

    def push(self, ring: np.ndarray, lengths: np.ndarray, data: np.ndarray) -> None:
        """Append packets (``data`` is their bytes, concatenated) to their rings' queues."""
        self.ring = np.concatenate([self.ring, ring.astype(np.int64)])
        self.lengths = np.concatenate([self.lengths, lengths.astype(np.int64)])
        self.data = np.concatenate([self.data, data.astype(np.uint8)])

    def pop(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Remove the first ``k[r]`` packets of each ring ``r``; returns them as
        ``(ring, rank in the ring's batch, lengths, bytes)``, in arrival order."""
        rank = _rank_in_group(self.ring, self.count)
        take = rank < k[self.ring]
        starts = np.cumsum(self.lengths) - self.lengths
        _, _, off = flat_ranges(starts[take], self.lengths[take])
        keep = np.ones(self.data.size, dtype=bool)
        keep[off] = False
        out = (self.ring[take], rank[take], self.lengths[take], self.data[off])
        self.ring, self.lengths = self.ring[~take], self.lengths[~take]
        self.data = self.data[keep]
        return out

    def frames(self, ring: int = 0) -> list[bytes]:
        """The bytes of each packet queued on ``ring`` (test and report helper)."""
        sel = self.ring == ring
        starts = np.cumsum(self.lengths) - self.lengths
        return [bytes(self.data[a : a + n]) for a, n in
                zip(starts[sel].tolist(), self.lengths[sel].tolist(), strict=True)]

    def __len__(self) -> int:
        return int(self.lengths.size)

    def __repr__(self) -> str:
        return f"HostQueues(qlen={self.qlen().tolist()}, bytes={self.data.size})"


def _rank_in_group(group: np.ndarray, count: int) -> np.ndarray:
    """Each element's position among the earlier elements of its group."""
    onehot = group[:, None] == np.arange(count)
    return (np.cumsum(onehot, axis=0) - 1)[np.arange(group.size), group]


class HostRings:
    """The host TX krings and host RX krings of one adapter (``num_tx`` and ``num_rx`` of
    them, netmap's ``num_host_tx_rings`` / ``num_host_rx_rings``, default one pair; rings
    ``base ..`` of the shared memory), the RX krings' ``rx_queue`` and the packets sent up
    the stack.

    Counters, per host RX kring: ``rx_accepted`` / ``rx_dropped`` (netmap_transmit returned
    0 / ENOBUFS, the latter is IFCOUNTER_OQDROPS), ``rx_imported`` (copied from the queue
    into the ring), with totals ``accepted`` / ``dropped`` / ``imported``.  Totals:
    ``released`` (host TX slots the user released through :meth:`user_send`),
    ``sent_up`` and ``bad_len`` (txsync sent up / skipped), ``forwarded`` (swapped into a
    TX ring), ``unsent`` (NS_FORWARD packets released without room) and ``kernel_slots``
    (swaps into TX slots the kernel owns); netmap keeps neither of the last two.
    ``forwarded_up``: hardware RX packets sent up the stack in transparent mode;
    ``returned_up``: the stack's own packets, released on a host RX kring other than the
    first, sent back up the stack (as shipped; see :meth:`rxsync`).  ``synced[r]`` is 1
    when no packet was accepted on ring ``r`` since its last rxsync (bookkeeping for the
    model's ghost)."""

    def __init__(self, mem: NetmapMemory, base: int, num_hw_tx: int, num_hw_rx: int,
                 num_tx: int = 1, num_rx: int = 1) -> None:
        if min(num_tx, num_rx) < 1:
            raise ValueError(f"need at least one host ring each way, got {num_tx}, {num_rx}")
        self.mem = mem
        self.tx = Krings("tx", mem, base, num_tx)
        self.rx = Krings("rx", mem, base + num_tx, num_rx)
        self.tx.headers["ringid"] = num_hw_tx + np.arange(num_tx)
        self.rx.headers["ringid"] = num_hw_rx + np.arange(num_rx)
        self.rx_queue = HostQueues(num_rx)
        self.stack = FrameQueue()
        self.rx_accepted = np.zeros(num_rx, dtype=np.int64)
        self.rx_dropped = np.zeros(num_rx, dtype=np.int64)
        self.rx_imported = np.zeros(num_rx, dtype=np.int64)
        self.released = self.sent_up = self.bad_len = 0
        self.forwarded = self.unsent = self.kernel_slots = self.forwarded_up = 0
        self.returned_up = 0
        self.synced = np.ones(num_rx, dtype=np.int64)

    @property
    def n(self) -> int:
        return self.mem.num_slots

    @property
    def accepted(self) -> int:
        return int(self.rx_accepted.sum())

    @property
    def dropped(self) -> int:
        return int(self.rx_dropped.sum())

    @property
    def imported(self) -> int:
        return int(self.rx_imported.sum())

    # ------------------------------------------------------------------ kernel side

    def netmap_transmit(self, frames: np.ndarray, lengths: np.ndarray | None = None,
                        txq: np.ndarray | None = None) -> np.ndarray:
        """The stack hands netmap a batch of packets (uint8 rows, optional lengths, the
        stack's transmit queue of each, ``MBUF_TXQ``; default 0), in order; each goes to
        host RX kring ``txq % num_rx``.  Returns each packet's errno: 0 (queued) or
        ENOBUFS (dropped: longer than a netmap buffer, or no room left in its ring)."""
        frames, lengths = _batch(frames, lengths)
        k, width = frames.shape
        if k and lengths.max() > width:
            raise ValueError("lengths must give one length <= row width per frame")
        txq = np.zeros(k, np.int64) if txq is None else np.asarray(txq, np.int64)
        if txq.shape != (k,) or (k and txq.min() < 0):
            raise ValueError("txq must give one queue number >= 0 per frame")
        kr, count = self.rx, self.rx.count
        ring = txq % count
        busy = ring_dist(kr.hwcur, kr.hwtail, self.n)
        room = self.n - 1 - busy - self.rx_queue.qlen()
        fits = lengths <= self.mem.buf_size
        rank = np.full(k, -1, dtype=np.int64)  # among the packets that fit, per ring
        rank[fits] = _rank_in_group(ring[fits], count)
        queued = fits & (rank < room[ring])
        rows = frames[queued]
        self.rx_queue.push(ring[queued], lengths[queued],
                           rows[np.arange(width) < lengths[queued, None]])
        got = np.bincount(ring[queued], minlength=count)
        self.rx_accepted += got
        self.rx_dropped += np.bincount(ring, minlength=count) - got
        self.synced[got > 0] = 0
        return np.where(queued, 0, errno.ENOBUFS)

    def rxsync(self, policy: str, tx: Krings | None = None, fwd_all: bool = False,
               rings: np.ndarray | None = None) -> HostRxsyncResult:
        """NIOCRXSYNC on the host RX krings ``rings`` (default: all): prologue (reinit if
        refused), then netmap_rxsync_from_host, then nm_sync_finalize.

        Forwarding down (:mod:`impl.netmap.forward`) runs on the first host RX kring only
        (``nm_may_forward_down``: ``ring_id == num_rx_rings``), when the user released
        slots, ``tx`` is given (the handle is bound to every hardware TX ring:
        NAF_CAN_FORWARD_DOWN) and the ring has NR_FORWARD or ``fwd_all``
        (``dev.netmap.fwd``).  As shipped ``nr_hwcur = rhead`` whatever was forwarded;
        hardened, ``nr_hwcur`` stays put while a forwardable packet found no room
        (back-pressure: model.netmap_forward.rxsync_hardened); the swapped slots lose
        NS_FORWARD, so the next rxsync retries only the unsent ones.  With ``fwd_all``
        every released slot is forwardable, so hardened ``nr_hwcur`` moves past the
        swapped ones instead (the model covers NS_FORWARD marks only).

        On the other host RX krings, as shipped, ``nm_may_forward_up`` holds (its test
        is ``ring_id != num_rx_rings``, meant to exclude the host ring): their released
        NS_FORWARD slots (every released slot with ``fwd_all``) go *up* the stack again,
        before the sync (``netmap_grab_packets`` in netmap_ioctl / netmap_poll) --
        packets the stack sent out come back in as received (``returned_up``).
        Hardened, no host kring forwards up."""
        check_policy(policy)
        kr, n = self.rx, self.n
        rings = kr.check_rings(rings)
        acc = np.atleast_1d(caller_accepts(kr, nm_rxsync_prologue(policy, kr, rings)))
        if not acc.all():
            netmap_ring_reinit(policy, kr, rings[~acc])
        if policy == AS_SHIPPED:
            self.returned_up += self.forward_up(kr, rings[rings > 0], fwd_all, count=False)
        hwtail = kr.hwtail.astype(np.int64)
        room = ring_dist(hwtail, ring_prev(kr.hwcur.astype(np.int64), n), n)
        k = np.zeros(kr.count, dtype=np.int64)
        k[rings] = np.minimum(self.rx_queue.qlen(), room)[rings]
        ring, rank, lengths, data = self.rx_queue.pop(k)
        idx = (hwtail[ring] + rank) % n
        buf = self._nmb(kr.slot_buf_idx[ring, idx])
        dma.scatter(self.mem.bufs, buf, lengths, data)
        kr.slot_len[ring, idx] = lengths
        kr.slot_flags[ring, idx] = 0
        kr.hwtail[rings] = (hwtail[rings] + k[rings]) % n
        hwcur0 = int(kr.hwcur[0])
        fw = SwToNic(0, 0, -1)
        wants = fwd_all or bool(kr.headers["flags"][0] & NR_FORWARD)
        first = bool((rings == 0).any())
        if first and int(kr.rhead[0]) != hwcur0 and tx is not None and wants:
            fw = netmap_sw_to_nic(policy, kr, tx, fwd_all)
        kr.hwcur[rings] = kr.rhead[rings]
        if policy != AS_SHIPPED and fw.unsent and fwd_all:
            # every released slot is forwardable: step past those swapped out
            kr.hwcur[0] = (hwcur0 + fw.forwarded) % n
        elif policy != AS_SHIPPED and fw.unsent:
            kr.hwcur[0] = hwcur0
        nm_sync_finalize(kr, rings)
        self.rx_imported += k
        self.forwarded += fw.forwarded
        self.kernel_slots += fw.kernel_slots
        self.unsent += fw.unsent if policy == AS_SHIPPED else 0
        self.synced[rings] = 1
        return HostRxsyncResult(bool(acc.all()), int(k.sum()), fw.forwarded, fw.unsent)

    def txsync(self, policy: str, rings: np.ndarray | None = None) -> HostTxsyncResult:
        """NIOCTXSYNC on the host TX krings ``rings`` (default: all): prologue (only
        reinit if refused), then netmap_txsync_to_host and nm_sync_finalize."""
        check_policy(policy)
        kr, n = self.tx, self.n
        rings = kr.check_rings(rings)
        acc = np.atleast_1d(caller_accepts(kr, nm_txsync_prologue(policy, kr, rings)))
        if not acc.all():
            netmap_ring_reinit(policy, kr, rings[~acc])
        ok = rings[acc]
        head = kr.rhead[ok].astype(np.int64)
        sent, bad = self.grab_packets(kr, ok, force=True)
        kr.hwcur[ok] = head
        kr.hwtail[ok] = ring_prev(head, n)
        nm_sync_finalize(kr, ok)
        self.sent_up += sent
        self.bad_len += bad
        return HostTxsyncResult(bool(acc.all()), sent, bad)

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

    def forward_up(self, kr: Krings, rings: np.ndarray, fwd_all: bool,
                   count: bool = True) -> int:
        """Transparent mode towards the stack, in an RX ring's sync after the prologue
        (``nm_may_forward_up``: the ring has NR_FORWARD, or ``fwd_all``): the released
        slots marked NS_FORWARD (all of them with ``fwd_all``) go up the stack.  Returns
        how many went up (counted in ``forwarded_up`` if ``count``)."""
        on = rings if fwd_all else rings[(kr.headers["flags"][rings] & NR_FORWARD) != 0]
        if on.size == 0:
            return 0
        sent, bad = self.grab_packets(kr, on, force=fwd_all)
        self.forwarded_up += sent if count else 0
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

    def user_send(self, frames: np.ndarray, lengths: np.ndarray | None = None,
                  q: int = 0) -> None:
        """The user copies packets into host TX ring ``q``'s slots from head on, sets
        their ``len`` (any u16, the kernel judges it) and releases them (head = cur moves
        past them).  ValueError, nothing written, if they exceed the user's free slots, a
        row is longer than a buffer, or a slot in the way has no valid buffer."""
        frames, lengths = _batch(frames, lengths)
        k, width = frames.shape
        if k and lengths.max() > 0xFFFF:
            raise ValueError("lengths must give one u16 length per frame")
        if width > self.mem.buf_size:
            raise ValueError(f"frame rows of {width} bytes exceed the buffer size "
                             f"{self.mem.buf_size}")
        kr, n, q = self.tx, self.n, self._ring(self.tx, q)
        head, tail = int(kr.ring_head[q]), int(kr.ring_tail[q])
        if head >= n or tail >= n or k > ring_dist(head, tail, n):
            raise ValueError(f"host tx ring {q}: {k} packets do not fit between "
                             f"head={head} and tail={tail}")
        idx = (head + np.arange(k)) % n
        buf = kr.slot_buf_idx[q, idx].astype(np.int64)
        if k and not self.mem.all_valid(buf):
            raise ValueError(f"host tx ring {q}: a slot in the way has no valid buffer")
        copy = np.minimum(lengths, width)
        dma.scatter(self.mem.bufs, buf, copy, frames[np.arange(width) < copy[:, None]])
        kr.slot_len[q, idx] = lengths
        kr.ring_head[q] = kr.ring_cur[q] = (head + k) % n
        self.released += k

    def user_release(self, k: int, q: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The user consumes ``k`` received packets of host RX ring ``q`` (head = cur
        moves past them); returns their ``(lengths, bytes)``.  ValueError if fewer are
        there."""
        kr, n, q = self.rx, self.n, self._ring(self.rx, q)
        head, tail = int(kr.ring_head[q]), int(kr.ring_tail[q])
        if head >= n or tail >= n or not 0 <= k <= ring_dist(head, tail, n):
            raise ValueError(f"host rx ring {q}: cannot release {k} packets between "
                             f"head={head} and tail={tail}")
        idx = (head + np.arange(k)) % n
        lengths = kr.slot_len[q, idx].astype(np.int64)
        data = dma.gather(self.mem.bufs, self._nmb(kr.slot_buf_idx[q, idx]), lengths)
        kr.ring_head[q] = kr.ring_cur[q] = (head + k) % n
        return lengths, data

    @staticmethod
    def _ring(kr: Krings, q: int) -> int:
        if not 0 <= int(q) < kr.count:
            raise ValueError(f"host {kr.kind} ring {q} out of range 0..{kr.count - 1}")
        return int(q)

    # ------------------------------------------------------------------ abstraction

    def abstract_rx(self, q: int = 0) -> HostRx:
        """Host RX ring ``q`` as :class:`model.netmap_host.HostRx`."""
        kr, q = self.rx, self._ring(self.rx, q)
        return HostRx(n=self.n, head=int(kr.ring_head[q]), tail=int(kr.ring_tail[q]),
                      hwcur=int(kr.hwcur[q]), hwtail=int(kr.hwtail[q]),
                      qlen=int(self.rx_queue.qlen()[q]), synced=int(self.synced[q]),
                      accepted=int(self.rx_accepted[q]), dropped=int(self.rx_dropped[q]),
                      imported=int(self.rx_imported[q]))

    def abstract_tx(self, q: int = 0) -> HostTx:
        """Host TX ring ``q`` as :class:`model.netmap_host.HostTx`; ``pending_bad`` is
        read off the slots the user released and the kernel has not sent up (the
        counters are the adapter's totals)."""
        kr, n, q = self.tx, self.n, self._ring(self.tx, q)
        hwcur, head = int(kr.hwcur[q]), int(kr.ring_head[q])
        pending_bad = 0
        if head < n:
            idx = (hwcur + np.arange(int(ring_dist(hwcur, head, n)))) % n
            lengths = kr.slot_len[q, idx]
            pending_bad = int((~self._len_ok(lengths)).sum())
        return HostTx(n=n, head=head, tail=int(kr.ring_tail[q]), hwcur=hwcur,
                      hwtail=int(kr.hwtail[q]), pending_bad=pending_bad,
                      released=self.released, sent_up=self.sent_up, bad_len=self.bad_len)

    def ring_view(self, direction: str, q: int = 0) -> NetmapRing:
        """Host kring ``q`` of ``direction`` as the NIC ring of
        :mod:`model.netmap_poll_host` (what poll sees): TX: the stack has everything sent
        (``nic = hwcur``, ``busy = 0``); RX: ``nic = hwtail + qlen``, ``busy`` the room
        netmap_transmit has left."""
        kr, n = (self.tx if direction == "TX" else self.rx), self.n
        q = self._ring(kr, q)
        hwcur, hwtail = int(kr.hwcur[q]), int(kr.hwtail[q])
        if direction == "TX":
            nic, busy = hwcur, 0
        else:
            nic = (hwtail + int(self.rx_queue.qlen()[q])) % n
            busy = int(ring_dist(nic, ring_prev(hwcur, n), n))
        return NetmapRing(n=n, head=int(kr.ring_head[q]), cur=int(kr.ring_cur[q]),
                          tail=int(kr.ring_tail[q]), hwcur=hwcur, hwtail=hwtail,
                          rhead=int(kr.rhead[q]), rcur=int(kr.rcur[q]),
                          rtail=int(kr.rtail[q]), nic=nic, busy=busy)

    def load_ring(self, direction: str, state: NetmapRing) -> None:
        """Put the (only) host kring of ``direction`` into ``state`` (test support), so
        that ``ring_view(direction) == state`` afterwards: RX queues ``nic - hwtail``
        packets of 60 bytes.  ValueError for a state no host kring can be in."""
        kr, n = (self.tx if direction == "TX" else self.rx), self.n
        if kr.count != 1:
            raise ValueError("load_ring needs an adapter with one host ring pair")
        if state.n != n:
            raise ValueError(f"state has n={state.n}, the host rings have {n} slots")
        if direction == "TX" and not host_tx_ring(state):
            raise ValueError(f"not a host TX kring: {state!r}")
        kr.ring_head[0], kr.ring_cur[0], kr.ring_tail[0] = state.head, state.cur, state.tail
        kr.hwcur[0], kr.hwtail[0] = state.hwcur, state.hwtail
        kr.rhead[0], kr.rcur[0], kr.rtail[0] = state.rhead, state.rcur, state.rtail
        if direction == "RX":
            self.rx_queue = HostQueues(1)
            k = int(ring_dist(state.hwtail, state.nic, n))
            self.rx_queue.push(np.zeros(k, np.int64), np.full(k, 60, dtype=np.int64),
                               np.zeros(60 * k, np.uint8))
        if self.ring_view(direction) != state:
            raise ValueError(f"not a host {direction} kring: {state!r}")

    def __repr__(self) -> str:
        tx = [self.abstract_tx(q) for q in range(self.tx.count)]
        rx = [self.abstract_rx(q) for q in range(self.rx.count)]
        return (f"HostRings(n={self.n}, tx={tx!r}, rx={rx!r}, "
                f"rx_queue={self.rx_queue!r}, stack={self.stack!r}, "
                f"returned_up={self.returned_up})")
