"""The netmap loops one slot at a time: the ``baseline`` variant of the netmap loops.

A faithful port of what impl/netmap does per sync call, written as the C is written (a
``for`` over the slots between two indices, scalar index arithmetic, one descriptor at a
time), over the same adapter state: the shared ring header and slots, the krings, the soft
NIC's registers and descriptors.  The rule itself is not restated: the prologue verdict is
impl/netmap's own :func:`~impl.netmap.prologue.tx_prologue_passes` /
:func:`~impl.netmap.prologue.rx_prologue_passes`, called on Python ints.  Only the
``hardened`` policy's stores are ported, and a rejected sync raises (the bench never breaks
a rule); the bad-slot stop is ported (the bench never hits it either).

Upstream: the per-slot loops of a netmap driver, e.g. ixgbe_netmap_txsync
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/ixgbe_netmap.h#L239)
walks ``nm_i`` from ``hwcur`` to ``head`` with ``nm_next`` like this.
"""

from __future__ import annotations

from impl.netmap import HARDENED, NS_BUF_CHANGED, RESERVED_BUFS, NetmapAdapter
from impl.netmap.prologue import rx_prologue_passes, tx_prologue_passes
from ringspec.bench.registry import Payload

_CLEAR = 0xFFFF ^ NS_BUF_CHANGED


def _require_hardened(ad: NetmapAdapter) -> None:
    if ad.policy != HARDENED:
        raise ValueError("the slot-at-a-time port implements the hardened policy only")


def _hand_over(ad: NetmapAdapter, kind: str, q: int, want: int, tx: bool) -> int:
    """Driver side of a sync: write descriptors for up to ``want`` slots from hwcur, one at
    a time, stopping at the first invalid slot; advance hwcur; return the NIC index after
    the last descriptor written."""
    kr, dev = ad.krings(kind), ad.device(kind)
    n, nbufs, size = ad.num_slots, ad.mem.nbufs, ad.mem.buf_size
    nm_i = int(kr.hwcur[q])
    nic_i = (nm_i - int(kr.nkr_hwofs[q])) % n
    for _ in range(want):
        buf = int(kr.slot_buf_idx[q, nm_i])
        length = int(kr.slot_len[q, nm_i])
        if not RESERVED_BUFS <= buf < nbufs or (tx and length > size):
            break
        dev.desc_buf[q, nic_i] = buf
        dev.desc_len[q, nic_i] = length if tx else 0
        kr.slot_flags[q, nm_i] &= _CLEAR
        nm_i = nm_i + 1 if nm_i + 1 < n else 0
        nic_i = nic_i + 1 if nic_i + 1 < n else 0
    kr.hwcur[q] = nm_i
    return nic_i


def _doorbell(ad: NetmapAdapter, kind: str, q: int, tail: int) -> None:
    dev = ad.device(kind)
    n = ad.num_slots
    tail %= n
    dev.owned[q] += (tail - int(dev.tail[q])) % n
    dev.tail[q] = tail


def _finalize(ad: NetmapAdapter, kind: str, q: int) -> None:
    kr = ad.krings(kind)
    kr.rtail[q] = kr.hwtail[q]
    kr.ring_tail[q] = kr.hwtail[q]


def txsync(ad: NetmapAdapter, q: int) -> None:
    """NIOCTXSYNC on TX ring ``q``: prologue, hand over [hwcur, head), doorbell, reclaim
    up to the device's head, finalize."""
    _require_hardened(ad)
    kr, n = ad.tx, ad.num_slots
    head, cur = int(kr.ring_head[q]), int(kr.ring_cur[q])
    hwcur, rtail = int(kr.hwcur[q]), int(kr.rtail[q])
    if not tx_prologue_passes(HARDENED, n, head, cur, hwcur, int(kr.hwtail[q]),
                              int(kr.rhead[q]), rtail):
        raise ValueError(f"tx ring {q}: the bench broke a prologue rule")
    kr.ring_tail[q] = rtail
    kr.rhead[q], kr.rcur[q] = head, cur
    _doorbell(ad, "tx", q, _hand_over(ad, "tx", q, (head - hwcur) % n, tx=True))
    kr.hwtail[q] = (int(ad.txdev.head[q]) + int(kr.nkr_hwofs[q]) - 1) % n
    _finalize(ad, "tx", q)


def rxsync(ad: NetmapAdapter, q: int) -> None:
    """NIOCRXSYNC on RX ring ``q``: prologue, report [hwtail, RDH) slot by slot, refill
    [hwcur, head) slot by slot, doorbell, finalize."""
    _require_hardened(ad)
    kr, dev, n = ad.rx, ad.rxdev, ad.num_slots
    head, cur = int(kr.ring_head[q]), int(kr.ring_cur[q])
    hwcur, hwtail = int(kr.hwcur[q]), int(kr.hwtail[q])
    if not rx_prologue_passes(HARDENED, n, head, cur, hwcur, hwtail):
        raise ValueError(f"rx ring {q}: the bench broke a prologue rule")
    kr.ring_tail[q] = kr.rtail[q]
    kr.rhead[q], kr.rcur[q] = head, cur
    ofs = int(kr.nkr_hwofs[q])
    nic = (int(dev.head[q]) + ofs) % n
    nm_i = hwtail
    while nm_i != nic:
        kr.slot_len[q, nm_i] = dev.desc_len[q, (nm_i - ofs) % n]
        kr.slot_flags[q, nm_i] = 0
        nm_i = nm_i + 1 if nm_i + 1 < n else 0
    kr.hwtail[q] = nic
    _doorbell(ad, "rx", q, _hand_over(ad, "rx", q, (head - hwcur) % n, tx=False) - 1)
    _finalize(ad, "rx", q)


def device_complete(ad: NetmapAdapter, q: int, k: int, wire: Payload) -> None:
    """The soft NIC sends ``k`` descriptors of TX ring ``q`` one at a time: each frame's
    bytes go on the wire (``wire``), TDH advances."""
    dev, n = ad.txdev, ad.num_slots
    if k > (int(dev.tail[q]) - int(dev.head[q])) % n:
        raise ValueError(f"tx ring {q}: the device does not own {k} descriptors")
    h = int(dev.head[q])
    for _ in range(k):
        buf, length = int(dev.desc_buf[q, h]), int(dev.desc_len[q, h])
        wire.add(dev.bufs[buf, :length].copy(), 1)
        h = h + 1 if h + 1 < n else 0
    dev.head[q] = h
    dev.owned[q] -= k


def device_deliver(ad: NetmapAdapter, q: int, frames: object) -> None:
    """The soft NIC receives ``frames`` (uint8 rows) into RX ring ``q`` one at a time:
    each frame into its descriptor's buffer, its length into the descriptor, RDH
    advances."""
    dev, n = ad.rxdev, ad.num_slots
    rows = list(frames)  # type: ignore[call-overload]
    if len(rows) > (int(dev.tail[q]) - int(dev.head[q])) % n:
        raise ValueError(f"rx ring {q}: the device has not {len(rows)} posted buffers")
    h = int(dev.head[q])
    for frame in rows:
        buf = int(dev.desc_buf[q, h])
        dev.bufs[buf, : frame.size] = frame
        dev.desc_len[q, h] = frame.size
        h = h + 1 if h + 1 < n else 0
    dev.head[q] = h
    dev.owned[q] -= len(rows)
