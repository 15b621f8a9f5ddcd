"""The soft NIC's netmap driver: *_txsync / *_rxsync bodies and ring (re)initialisation.

Upstream: the sync call sites in netmap_ioctl (NIOCTXSYNC adds NAF_FORCE_RECLAIM,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3216;
NIOCRXSYNC adds NAF_FORCE_READ), netmap_reset
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392)
and its ``nkr_hwofs`` (the NIC-to-kring index offset), and the driver steps of
model/netmap_ring.py. The driver talks to the device only through its descriptor ring, its
tail register (doorbell) and by reading its head register.

Before a slot is handed to the device its ``buf_idx`` must be a real buffer
(``2 <= idx < nbufs``) and, on TX, ``len <= buf_size``; the driver stops at the first bad
slot of each ring, so it hands over only the good prefix and reports where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from impl.netmap.batch import Rings, any_, get, is_one, minimum, per_slot, pick, where
from impl.netmap.kring import Krings
from impl.netmap.layout import NS_BUF_CHANGED
from impl.netmap.ranges import flat_ranges, good_prefix, ring_dist, ring_prev, span_prefix
from impl.netmap.reinit import netmap_reset
from impl.netmap.softdev import SoftRings

_KEEP_FLAGS = np.uint16(0xFFFF ^ NS_BUF_CHANGED)

#: When the TX driver reclaims completions (:func:`tx_driver_sync`).
FORCE, TXEMPTY, WOULDBLOCK = "force", "txempty", "wouldblock"


@dataclass(frozen=True)
class RxRead:
    """When the driver's rxsync reads the NIC and where it clears ``NKR_PENDINTR``
    (model/netmap_pendintr.py): it reads when ``no_pendintr``
    (``dev.netmap.no_pendintr``), when ``force`` (NAF_FORCE_READ: NIOCRXSYNC sets it,
    poll() does not) or when the ring's ``NKR_PENDINTR`` is set.  As shipped the flag is
    cleared after the read loop; ``clear_first`` (hardened) clears it before.
    ``during`` runs right after the read loop, before the as-shipped clear: the window in
    which a frame can land behind the loop and raise its interrupt."""

    force: bool = True
    no_pendintr: bool = True
    clear_first: bool = False
    during: Callable[[], object] | None = None


#: NIOCRXSYNC's read: NAF_FORCE_READ, the flag cleared after the read loop.
FORCE_READ = RxRead()

#: The same with the hardened order (the flag cleared first).
FORCE_READ_CLEAR_FIRST = RxRead(clear_first=True)


@dataclass(frozen=True)
class Handover:
    """What the driver handed to the device, per ring of the batch."""

    count: np.ndarray | int  # slots handed over
    bad_slot: np.ndarray | int  # kring index of the first invalid slot that stopped it, or -1

    @property
    def stopped(self) -> np.ndarray | bool:
        return self.bad_slot >= 0


def _all_good(kr: Krings, buf: np.ndarray, length: np.ndarray, check_len: bool) -> bool:
    """Whether every slot is fit to hand over (one reduction per bound, no masks): the
    common case, in which no good prefix needs computing."""
    return kr.mem.all_valid(buf) and (not check_len or length.max() <= kr.mem.buf_size)


def _hand_over(kr: Krings, dev: SoftRings, rings: Rings, want: np.ndarray | int,
               check_len: bool) -> Handover:
    """Write descriptors for the good prefix of slots [hwcur, hwcur + want) of each ring,
    advance hwcur past them and ring the doorbell with ``tail = k2n(hwcur) - offset``."""
    n = kr.num_slots
    hwcur = get(kr.hwcur, rings)
    if not any_(want):
        return Handover(want, -1 if is_one(rings) else np.full(want.size, -1, dtype=np.int64))
    seg, off, idx = flat_ranges(hwcur, want, n)
    ring_of = per_slot(rings, seg)
    buf = kr.slot_buf_idx[ring_of, idx]
    length = kr.slot_len[ring_of, idx]
    if _all_good(kr, buf, length, check_len):
        k = want
    else:
        buf = buf.astype(np.int64)
        bad = ~kr.mem.valid_buf(buf)
        if check_len:
            bad |= length > kr.mem.buf_size
        k = good_prefix(bad, seg, off, want)
    bad_slot = where(k < want, (hwcur + k) % n, -1)
    if is_one(rings) and k < want:
        idx, buf, length = span_prefix(idx, k), buf[:k], length[:k]
    elif any_(k < want):
        keep = off < per_slot(k, seg)
        ring_of, idx = pick(ring_of, keep), idx[keep]
        buf, length = buf[keep], length[keep]
    dev.write_descriptors(ring_of, kr.k2n(ring_of, idx), buf, length if check_len else 0)
    kr.slot_flags[ring_of, idx] &= _KEEP_FLAGS
    new_hwcur = (hwcur + k) % n
    kr.hwcur[rings] = new_hwcur
    return Handover(k, bad_slot)


def tx_driver_sync(kr: Krings, dev: SoftRings, rings: Rings,
                   sent: np.ndarray | int, reclaim: str = FORCE) -> Handover:
    """Driver txsync.

    Send: hand up to ``sent`` of the published slots [hwcur, rhead) to the NIC (good
    prefix only), write TDT = k2n(hwcur).  Reclaim: hwtail = n2k(TDH) - 1, always under
    NAF_FORCE_RECLAIM (``reclaim = FORCE``, the ioctl); without it (poll) only when
    ``nm_kr_txempty`` (``TXEMPTY``: rhead == hwtail, ixgbe_netmap_txsync's test) or, the
    hardened test of model/netmap_poll.py, ``nm_kr_wouldblock`` (``WOULDBLOCK``: rcur ==
    hwtail)."""
    n = kr.num_slots
    hwtail = get(kr.hwtail, rings)
    if reclaim == FORCE:
        due: Any = True
    elif reclaim in (TXEMPTY, WOULDBLOCK):
        due = get(kr.rhead if reclaim == TXEMPTY else kr.rcur, rings) == hwtail
    else:
        raise ValueError(f"reclaim must be one of {FORCE!r}, {TXEMPTY!r}, {WOULDBLOCK!r}")
    want = minimum(sent, ring_dist(get(kr.hwcur, rings), get(kr.rhead, rings), n))
    ho = _hand_over(kr, dev, rings, want, check_len=True)
    dev.doorbell(rings, kr.k2n(rings, get(kr.hwcur, rings)))
    kr.hwtail[rings] = where(due, ring_prev(kr.n2k(rings, get(dev.head, rings)), n), hwtail)
    return ho


def rx_driver_sync(
    kr: Krings, dev: SoftRings, rings: Rings, refill: np.ndarray | int,
    read: RxRead | None = None,
) -> tuple[np.ndarray | int, Handover]:
    """Driver rxsync (``read``: when it reads the NIC; default NIOCRXSYNC's
    NAF_FORCE_READ).

    Report, on the rings it reads: hwtail = n2k(RDH); the newly reported slots
    [old hwtail, hwtail) get the device's lengths and flags = 0; NKR_PENDINTR cleared.
    Refill: give up to ``refill`` released slots [hwcur, rhead) back as empty buffers
    (good prefix only), write RDT = k2n(hwcur) - 1.  Returns (slots reported per ring,
    handover)."""
    read = read or FORCE_READ
    n = kr.num_slots
    hwtail = get(kr.hwtail, rings)
    reads = True if read.force or read.no_pendintr else get(kr.pendintr, rings)
    if read.clear_first:
        _clear_pendintr(kr, rings, reads)
    nic = kr.n2k(rings, get(dev.head, rings))
    if reads is not True:
        nic = where(reads, nic, hwtail)
    reported = ring_dist(hwtail, nic, n)
    if any_(reported):
        seg, _, idx = flat_ranges(hwtail, reported, n)
        ring_of = per_slot(rings, seg)
        kr.slot_len[ring_of, idx] = dev.desc_len[ring_of, kr.k2n(ring_of, idx)]
        kr.slot_flags[ring_of, idx] = 0
    kr.hwtail[rings] = nic
    if read.during is not None:
        read.during()
    if not read.clear_first:
        _clear_pendintr(kr, rings, reads)
    want = minimum(refill, ring_dist(get(kr.hwcur, rings), get(kr.rhead, rings), n))
    ho = _hand_over(kr, dev, rings, want, check_len=False)
    dev.doorbell(rings, kr.k2n(rings, get(kr.hwcur, rings)) - 1)
    return reported, ho


def _clear_pendintr(kr: Krings, rings: Rings, reads: Any) -> None:
    """NKR_PENDINTR cleared on the rings whose NIC was read."""
    if reads is True:
        kr.pendintr[rings] = False
    else:
        kr.pendintr[rings] = where(reads, False, get(kr.pendintr, rings))


def driver_ring_init(kr: Krings, dev: SoftRings, rings: np.ndarray) -> None:
    """The driver (re)initialises NIC rings: netmap_reset, then restart the device rings.

    TX: nothing in flight (TDH = TDT = 0 = k2n(hwcur)).  RX: post every slot from hwtail
    up to (not including) rhead - 1 as an empty buffer, and also write the descriptor of
    the gap slot rhead - 1 (it is handed over by the next refill's RDT write), so the
    device owns dist(hwtail, rhead - 1) descriptors and RDT = k2n(hwcur - 1).  A slot
    whose buf_idx is not a real buffer is posted with the reserved buffer 0 instead
    (netmap's PNMB() maps a bad index to buffer 0 the same way)."""
    netmap_reset(kr, rings)
    n = kr.num_slots
    if kr.is_tx:
        dev.restart(rings, np.zeros(rings.size, dtype=np.int64))
        return
    posted = ring_dist(kr.hwtail[rings], ring_prev(kr.hwcur[rings], n), n)
    seg, _, idx = flat_ranges(kr.hwtail[rings], posted + 1, n)
    ring_of = rings[seg]
    buf = kr.slot_buf_idx[ring_of, idx].astype(np.int64)
    buf = np.where(kr.mem.valid_buf(buf), buf, 0)
    dev.write_descriptors(ring_of, kr.k2n(ring_of, idx), buf, 0)
    dev.restart(rings, posted)
