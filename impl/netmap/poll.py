"""poll(2) on a netmap file descriptor bound to one TX ring and one RX ring
(``NR_REG_ONE_NIC``): netmap_poll as model/netmap_poll.py states it.

Upstream: netmap_poll
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672).
FreeBSD's lock-free first pass (POLLOUT if ``ring->cur != ring->tail``; POLLIN if that and
nothing released), then on TX a txsync without NAF_FORCE_RECLAIM unless there is nothing to
push and POLLOUT is no longer wanted (or the handle was bound with NETMAP_NO_TX_POLL), on
RX an rxsync while POLLIN is wanted; each ring reports its event when ``rcur != rtail``
afterwards, and a ring that reports nothing gets one more pass.  A refused prologue is
reinit and POLLERR.  Without NAF_FORCE_RECLAIM the driver reclaims TX completions as the
policy says (:func:`impl.netmap.driver.tx_driver_sync`): as shipped only when the user
has no free slot (``nm_kr_txempty``), hardened when the caller would block
(``nm_kr_wouldblock``).

A stopped ring (``Krings.stopped``, nm_kr_stop) is skipped with POLLERR; as shipped the
lock-free pass does not look at it, hardened it does.  A ring another thread is syncing
(``Krings.busy``) is passed without POLLERR and without a sync (NM_KR_BUSY).  poll()'s
rxsync passes no NAF_FORCE_READ (:class:`impl.netmap.driver.RxRead`).

A handle bound to several rings of a direction is :mod:`impl.netmap.poll_rings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from impl.netmap.driver import TXEMPTY, WOULDBLOCK, RxRead
from impl.netmap.kring import Krings
from impl.netmap.prologue import check_policy
from impl.netmap.softdev import SoftRings
from impl.netmap.sync import rxsync, txsync

POLLIN, POLLOUT, POLLERR = 0x001, 0x004, 0x008

#: The driver's reclaim test when poll calls txsync, per policy.
POLL_RECLAIM = {"as_shipped": TXEMPTY, "hardened": WOULDBLOCK}


@dataclass(frozen=True)
class PollOutcome:
    """What one poll call returns: the revents bits, and whether poll(2) blocks (nothing
    to report, POLLERR included: the caller is recorded as a waiter on the rings'
    selinfo, and the interrupt side wakes it)."""

    revents: int

    @property
    def blocks(self) -> bool:
        return self.revents == 0

    def __repr__(self) -> str:
        return f"PollOutcome(revents={self.revents:#x}, blocks={self.blocks})"


def found(kr: Krings, rings: Any) -> Any:
    """netmap_poll's test after a sync: ``kring->rcur != kring->rtail`` (per ring of an
    array, or for one ring)."""
    return kr.rcur[rings] != kr.rtail[rings]


def first_pass_sees(policy: str, kr: Krings, rings: Any) -> Any:
    """The lock-free pass may report the ring: as shipped it does not look at
    ``nkr_stopped``; hardened a stopped ring is never reported from it."""
    return np.ones(np.shape(rings), dtype=bool) if policy == "as_shipped" else ~kr.stopped[rings]


def _synced(r: object) -> tuple[bool, bool]:
    """(a sync ran, POLLERR) from a one-ring sync result: a stopped ring is skipped by
    nm_kr_tryget with POLLERR, a busy one (another thread's sync) without; a refused
    prologue is POLLERR too."""
    skipped = bool(r.skipped[0])  # type: ignore[attr-defined]
    if skipped:
        return False, not bool(r.busy[0])  # type: ignore[attr-defined]
    return True, not bool(r.accepted[0])  # type: ignore[attr-defined]


def _poll_tx(policy: str, kr: Krings, dev: SoftRings, q: int, want: bool, txpoll: bool,
             lock_free: bool, sent: tuple[int, int]) -> tuple[bool, bool]:
    """The TX half on ring ``q``: (POLLOUT reported, POLLERR)."""
    if (lock_free and want and int(kr.ring_cur[q]) != int(kr.ring_tail[q])
            and first_pass_sees(policy, kr, q)):
        if not txpoll or int(kr.ring_head[q]) == int(kr.hwcur[q]):
            return True, False
        r = txsync(policy, kr, dev, np.array([q]), sent[0], POLL_RECLAIM[policy])
        return True, _synced(r)[1]
    if not (txpoll or want) or (not want and int(kr.ring_head[q]) == int(kr.hwcur[q])):
        return False, False
    err = False
    for budget in sent if want else sent[:1]:
        r = txsync(policy, kr, dev, np.array([q]), budget, POLL_RECLAIM[policy])
        ran, failed = _synced(r)
        err |= failed
        if ran and found(kr, q):
            return want, err
    return False, err


def _poll_rx(policy: str, kr: Krings, dev: SoftRings, q: int, want: bool, lock_free: bool,
             refill: tuple[int, int], no_pendintr: bool) -> tuple[bool, bool]:
    """The RX half on ring ``q``: (POLLIN reported, POLLERR)."""
    if not want:
        return False, False
    if (lock_free and int(kr.ring_cur[q]) != int(kr.ring_tail[q])
            and int(kr.rhead[q]) == int(kr.ring_head[q])
            and first_pass_sees(policy, kr, q)):
        return True, False
    err = False
    for budget in refill:
        r = rxsync(policy, kr, dev, np.array([q]), budget, None,
                   RxRead(force=False, no_pendintr=no_pendintr))
        ran, failed = _synced(r)
        err |= failed
        if ran and found(kr, q):
            return True, err
    return False, err


def netmap_poll(policy: str, tx: tuple[Krings, SoftRings, int], rx: tuple[Krings, SoftRings, int],
                events: int, *, txpoll: bool = True, lock_free: bool = True,
                sent: tuple[int, int] | None = None,
                refill: tuple[int, int] | None = None,
                no_pendintr: bool = True) -> PollOutcome:
    """poll(2) with ``events`` on a handle bound to TX ring ``tx`` and RX ring ``rx``
    (krings, soft NIC rings, ring index).  ``txpoll`` is False for NETMAP_NO_TX_POLL;
    ``lock_free`` selects FreeBSD's first pass (False: Linux).  ``sent`` / ``refill``
    cap what the driver manages in the first and the retry pass (default: everything).
    poll()'s rxsync passes no NAF_FORCE_READ: with ``no_pendintr`` False
    (``dev.netmap.no_pendintr=0``) the driver reads the NIC only for a ring whose
    NKR_PENDINTR is set."""
    check_policy(policy)
    if events & ~(POLLIN | POLLOUT):
        raise ValueError(f"events {events:#x}: netmap_poll looks at POLLIN and POLLOUT only")
    tkr, tdev, tq = tx
    rkr, rdev, rq = rx
    full = (tkr.num_slots, tkr.num_slots)
    out, terr = _poll_tx(policy, tkr, tdev, tq, bool(events & POLLOUT), txpoll, lock_free,
                         sent or full)
    inn, rerr = _poll_rx(policy, rkr, rdev, rq, bool(events & POLLIN), lock_free,
                         refill or (rkr.num_slots, rkr.num_slots), no_pendintr)
    revents = (POLLOUT if out else 0) | (POLLIN if inn else 0) | (
        POLLERR if terr or rerr else 0)
    return PollOutcome(revents)
