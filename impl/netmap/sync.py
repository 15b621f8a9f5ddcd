"""NIOCTXSYNC / NIOCRXSYNC for a batch of rings: prologue, reinit, driver, finalize.

Upstream: the call sites in netmap_ioctl
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3216).
TX: prologue fails -> netmap_ring_reinit only; else the driver's txsync and
nm_sync_finalize. RX
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3226):
prologue fails -> netmap_ring_reinit, and the driver's rxsync is still called, then
finalize. Everything is vectorized over the batch; rings are independent.  A batch of one ring runs
the same code with Python ints for the per-ring values (:mod:`impl.netmap.batch`).
"""

from __future__ import annotations

import dataclasses
import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from impl.netmap import batch
from impl.netmap.driver import (
    FORCE,
    FORCE_READ,
    FORCE_READ_CLEAR_FIRST,
    RxRead,
    rx_driver_sync,
    tx_driver_sync,
)
from impl.netmap.kring import Krings
from impl.netmap.prologue import (
    caller_accepts,
    check_policy,
    nm_rxsync_prologue,
    nm_sync_finalize,
    nm_txsync_prologue,
)
from impl.netmap.reinit import netmap_ring_reinit
from impl.netmap.softdev import SoftRings
from model.netmap_ring import HARDENED


@dataclass(frozen=True)
class TxsyncResult:
    """Per ring of the batch: prologue accepted?, slots handed to the NIC, and the kring
    index of the invalid slot that stopped the driver (-1 if none)."""

    rings: np.ndarray
    accepted: np.ndarray
    sent: np.ndarray
    bad_slot: np.ndarray
    skipped: np.ndarray
    """nm_kr_tryget refused the ring and nothing ran on it: it was stopped (nkr_stopped;
    the ioctl returns EIO) or ``busy``."""
    busy: np.ndarray
    """Another thread's sync held the ring (``nr_busy``): NM_KR_BUSY, skipped without an
    error."""

    @property
    def stopped(self) -> np.ndarray:
        return self.bad_slot >= 0

    @property
    def errno(self) -> int:
        """What the ioctl returns: EIO if a bound ring was stopped, else 0 (a refused
        prologue is not an error: netmap_ioctl returns 0; nor is a busy ring)."""
        return errno.EIO if (self.skipped & ~self.busy).any() else 0

    def __repr__(self) -> str:
        return (
            f"TxsyncResult(rings={self.rings.tolist()}, accepted={self.accepted.tolist()}, "
            f"sent={self.sent.tolist()}, bad_slot={self.bad_slot.tolist()}, "
            f"skipped={self.skipped.tolist()}, busy={self.busy.tolist()})"
        )


@dataclass(frozen=True)
class RxsyncResult:
    """Per ring of the batch: prologue accepted?, newly reported slots, slots given back
    to the NIC, and the kring index of the invalid slot that stopped the refill (-1)."""

    rings: np.ndarray
    accepted: np.ndarray
    reported: np.ndarray
    refilled: np.ndarray
    bad_slot: np.ndarray
    skipped: np.ndarray
    """As :attr:`TxsyncResult.skipped`."""
    busy: np.ndarray
    """As :attr:`TxsyncResult.busy`."""

    @property
    def stopped(self) -> np.ndarray:
        return self.bad_slot >= 0

    @property
    def errno(self) -> int:
        return errno.EIO if (self.skipped & ~self.busy).any() else 0

    def __repr__(self) -> str:
        return (
            f"RxsyncResult(rings={self.rings.tolist()}, accepted={self.accepted.tolist()}, "
            f"reported={self.reported.tolist()}, refilled={self.refilled.tolist()}, "
            f"bad_slot={self.bad_slot.tolist()}, skipped={self.skipped.tolist()}, "
            f"busy={self.busy.tolist()})"
        )


class NativeSync(Protocol):
    """A driver that runs netmap's whole sync on its own rings -- nm_kr_tryget, the
    prologue, reinit, its own ``nm_txsync`` / ``nm_rxsync``, nm_sync_finalize -- and
    reports it as :func:`txsync` / :func:`rxsync` do, so that poll's loop
    (:mod:`impl.netmap.poll_rings`) runs on it as on the soft NIC.  ``sent``,
    ``reclaim``, ``refill`` and ``read`` are what netmap asks of the soft NIC; a real
    driver decides them itself (ENA: :class:`impl.ena.nm_dev.EnaSync`)."""

    def txsync(self, policy: str, kr: Krings, rings: np.ndarray, sent: object,
               reclaim: str) -> TxsyncResult: ...

    def rxsync(self, policy: str, kr: Krings, rings: np.ndarray, refill: object,
               read: RxRead) -> RxsyncResult: ...


def txsync(policy: str, kr: Krings, dev: SoftRings, rings: np.ndarray,
           sent: object, reclaim: str = FORCE) -> TxsyncResult:
    """NIOCTXSYNC on ``rings``; ``sent`` (scalar or per ring) bounds what the driver
    hands to the NIC (a driver whose link is down sends 0, as ena_netmap_txsync does).
    ``reclaim`` is the driver's reclaim test (:func:`impl.netmap.driver.tx_driver_sync`):
    NIOCTXSYNC forces it; poll's sync passes the policy's lazy test."""
    check_policy(policy)
    if (kr.stopped[rings] | kr.busy[rings]).any():
        return _skipping(txsync, policy, kr, dev, rings, sent, reclaim)
    sel, sent = batch.counts(rings, sent, "sent")
    acc = caller_accepts(kr, nm_txsync_prologue(policy, kr, sel))
    if not batch.all_(acc):
        netmap_ring_reinit(policy, kr, rings[~np.atleast_1d(acc)])
    ok = batch.select(sel, acc)
    ho = tx_driver_sync(kr, dev, ok, batch.pick(sent, acc), reclaim)
    nm_sync_finalize(kr, ok)
    return TxsyncResult(rings.copy(), batch.per_ring_array(sel, acc, False, dtype=bool),
                        batch.per_ring_array(sel, ho.count, 0, acc),
                        batch.per_ring_array(sel, ho.bad_slot, -1, acc),
                        np.zeros(rings.size, dtype=bool), np.zeros(rings.size, dtype=bool))


def rxsync(policy: str, kr: Krings, dev: SoftRings, rings: np.ndarray,
           refill: object, forward_up: Callable[[np.ndarray], object] | None = None,
           read: RxRead | None = None) -> RxsyncResult:
    """NIOCRXSYNC on ``rings``; ``refill`` (scalar or per ring) bounds how many released
    slots the driver gives back to the NIC.  ``forward_up`` (transparent mode) runs on
    the rings after the prologue and reinit, before the driver releases their slots.
    ``read`` says when the driver reads the NIC (default: NIOCRXSYNC's NAF_FORCE_READ;
    its ``clear_first`` is set from the policy)."""
    check_policy(policy)
    if (kr.stopped[rings] | kr.busy[rings]).any():
        return _skipping(rxsync, policy, kr, dev, rings, refill, forward_up, read)
    if read is None:
        read = FORCE_READ_CLEAR_FIRST if policy == HARDENED else FORCE_READ
    elif read.clear_first != (policy == HARDENED):
        read = dataclasses.replace(read, clear_first=policy == HARDENED)
    sel, refill = batch.counts(rings, refill, "refill")
    acc = caller_accepts(kr, nm_rxsync_prologue(policy, kr, sel))
    if not batch.all_(acc):
        netmap_ring_reinit(policy, kr, rings[~np.atleast_1d(acc)])
    if forward_up is not None:
        forward_up(rings)
    reported, ho = rx_driver_sync(kr, dev, sel, refill, read)
    nm_sync_finalize(kr, sel)
    return RxsyncResult(rings.copy(), batch.per_ring_array(sel, acc, False, dtype=bool),
                        batch.per_ring_array(sel, reported, 0),
                        batch.per_ring_array(sel, ho.count, 0),
                        batch.per_ring_array(sel, ho.bad_slot, -1),
                        np.zeros(rings.size, dtype=bool), np.zeros(rings.size, dtype=bool))


def kr_tryget(kr: Krings, rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """nm_kr_tryget on ``rings``: (refused, refused because busy).  A stopped ring is
    refused with an error (``nkr_stopped`` is tested first), a ring another thread is
    syncing (``nr_busy``) with NM_KR_BUSY and none."""
    stopped = kr.stopped[rings]
    busy = kr.busy[rings] & ~stopped
    return stopped | busy, busy


def _skipping(sync: Callable[..., Any], policy: str, kr: Krings, dev: SoftRings,
              rings: np.ndarray, counts: object, *rest: Any) -> Any:
    """``sync`` on the rings of the batch nm_kr_tryget lets through, merged back in batch
    order.  It refuses a stopped ring (the ioctl returns EIO) and, with NM_KR_BUSY and no
    error, a ring another thread is syncing (nm_kr_tryget tests ``nkr_stopped`` first)."""
    skipped, busy = kr_tryget(kr, rings)
    live = rings[~skipped]
    if np.ndim(counts):
        counts = np.asarray(counts)[~skipped]
    ran = sync(policy, kr, dev, live, counts, *rest) if live.size else None
    fields = {}
    for f in dataclasses.fields(TxsyncResult if sync is txsync else RxsyncResult):
        name = f.name
        if name == "rings":
            fields[name] = rings.copy()
            continue
        if name in ("skipped", "busy"):
            fields[name] = (skipped if name == "skipped" else busy).copy()
            continue
        fill = {"accepted": False, "bad_slot": -1}.get(name, 0)
        out = np.full(rings.size, fill, dtype=bool if name == "accepted" else np.int64)
        if ran is not None:
            out[~skipped] = getattr(ran, name)
        fields[name] = out
    return (TxsyncResult if sync is txsync else RxsyncResult)(**fields)
