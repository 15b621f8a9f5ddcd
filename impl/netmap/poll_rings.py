"""poll(2) on a handle bound to several rings of each direction: netmap_poll as
model/netmap_poll_rings.py states it, on the soft NIC.

Upstream: netmap_poll
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672).

The RX pass is one rxsync over every bound ring (the C syncs them all, each on its own).
The TX pass syncs every ring with packets to push in one txsync; a ring with nothing to
push is synced only while no ring before it has found room, which is a dependency of
each ring on the result of the rings before it: those rings are synced one at a time, in
ring order, and the loop ends at the first that finds room (at once when a ring with
packets to push before them already has).  Rings are independent, so syncing the rings
with packets first leaves every ring as the C's order does.
"""

from __future__ import annotations

import numpy as np

from impl.netmap.driver import RxRead
from impl.netmap.kring import Krings
from impl.netmap.poll import (
    POLL_RECLAIM,
    POLLERR,
    POLLIN,
    POLLOUT,
    PollOutcome,
    first_pass_sees,
    found,
)
from impl.netmap.prologue import check_policy
from impl.netmap.softdev import SoftRings
from impl.netmap.sync import rxsync, txsync

Bound = tuple[Krings, SoftRings, np.ndarray]


def _budgets(value: object, rings: np.ndarray, default: int) -> np.ndarray:
    out = np.full(rings.size, default, dtype=np.int64) if value is None else np.asarray(
        value, dtype=np.int64)
    if out.shape != rings.shape:
        raise ValueError(f"one budget per bound ring: {rings.size} rings, got {value!r}")
    return out


def _tx_sync(policy: str, kr: Krings, dev: SoftRings, rings: np.ndarray,
             sent: np.ndarray) -> tuple[np.ndarray, bool]:
    """txsync without NAF_FORCE_RECLAIM on ``rings``: (found per ring, POLLERR)."""
    if rings.size == 0:
        return np.zeros(0, dtype=bool), False
    r = txsync(policy, kr, dev, rings, sent, POLL_RECLAIM[policy])
    return ~r.skipped & found(kr, rings), _pollerr(r)


def _pollerr(r: object) -> bool:
    """POLLERR from a sync over the bound rings: a stopped ring (not a busy one) or a
    refused prologue."""
    skipped, busy, accepted = r.skipped, r.busy, r.accepted  # type: ignore[attr-defined]
    return bool(((skipped & ~busy) | (~skipped & ~accepted)).any())


def _poll_tx(policy: str, bound: Bound, want: bool, txpoll: bool, lock_free: bool,
             budgets: tuple[np.ndarray, np.ndarray]) -> tuple[bool, bool]:
    """The TX half over the bound rings: (POLLOUT reported, POLLERR)."""
    kr, dev, rings = bound
    ready = bool(lock_free and want and (
        (kr.ring_cur[rings] != kr.ring_tail[rings]) & first_pass_sees(policy, kr, rings)).any())
    want = want and not ready
    if not (txpoll or want):
        return ready, False
    err = False
    for sent in budgets:
        pending = kr.ring_head[rings] != kr.hwcur[rings]
        found, failed = _tx_sync(policy, kr, dev, rings[pending], sent[pending])
        err |= failed
        if want:
            hits = np.flatnonzero(pending)[found]
            stop = int(hits[0]) if hits.size else rings.size
            for i in np.flatnonzero(~pending[:stop]):
                got, failed = _tx_sync(policy, kr, dev, rings[i : i + 1], sent[i : i + 1])
                err |= failed
                if got[0]:
                    break
            else:
                if not hits.size:
                    continue  # no ring found room: the retry pass
            ready, want = True, False
        break
    return ready, err


def _poll_rx(policy: str, bound: Bound, want: bool, lock_free: bool,
             budgets: tuple[np.ndarray, np.ndarray], no_pendintr: bool) -> tuple[bool, bool]:
    """The RX half over the bound rings: (POLLIN reported, POLLERR)."""
    kr, dev, rings = bound
    if not want:
        return False, False
    if lock_free and ((kr.ring_cur[rings] != kr.ring_tail[rings])
                      & (kr.rhead[rings] == kr.ring_head[rings])
                      & first_pass_sees(policy, kr, rings)).all():
        return True, False
    err = False
    read = RxRead(force=False, no_pendintr=no_pendintr)
    for refill in budgets:
        r = rxsync(policy, kr, dev, rings, refill, None, read)
        err |= _pollerr(r)
        if (~r.skipped & found(kr, rings)).any():
            return True, err
    return False, err


def netmap_poll_rings(policy: str, tx: Bound, rx: Bound, events: int, *,
                      txpoll: bool = True, lock_free: bool = True,
                      sent: tuple[object, object] | None = None,
                      refill: tuple[object, object] | None = None,
                      no_pendintr: bool = True) -> PollOutcome:
    """poll(2) with ``events`` on a handle bound to the TX rings ``tx[2]`` and the RX rings
    ``rx[2]`` (ring ids in order; krings and soft NIC rings first).  ``sent`` /
    ``refill``: per pass, per bound ring, what the driver manages (default: everything);
    the other arguments as :func:`impl.netmap.poll.netmap_poll`."""
    check_policy(policy)
    if events & ~(POLLIN | POLLOUT):
        raise ValueError(f"events {events:#x}: netmap_poll looks at POLLIN and POLLOUT only")
    tkr, tdev, trings = tx
    rkr, rdev, rrings = rx
    tx = (tkr, tdev, tkr.check_rings(trings))
    rx = (rkr, rdev, rkr.check_rings(rrings))
    tb = tuple(_budgets(v, tx[2], tkr.num_slots) for v in (sent or (None, None)))
    rb = tuple(_budgets(v, rx[2], rkr.num_slots) for v in (refill or (None, None)))
    out, terr = _poll_tx(policy, tx, bool(events & POLLOUT), txpoll, lock_free, tb)
    inn, rerr = _poll_rx(policy, rx, bool(events & POLLIN), lock_free, rb, no_pendintr)
    revents = (POLLOUT if out else 0) | (POLLIN if inn else 0) | (
        POLLERR if terr or rerr else 0)
    return PollOutcome(revents)
