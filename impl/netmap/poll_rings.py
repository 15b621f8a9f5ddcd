"""poll(2) on a handle bound to several rings of each direction: netmap_poll as
model/netmap_poll_rings.py states it, on the soft NIC or on a driver that runs netmap's
sync itself (ENA, :mod:`impl.ena.nm_dev`).

Upstream: netmap_poll
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672).

The RX pass is one rxsync over every bound ring (the C syncs them all, each on its own).
The TX pass syncs every ring with packets to push in one txsync; a ring with nothing to
push is synced only while no ring before it has found room, which is a dependency of
each ring on the result of the rings before it: those rings are synced one at a time, in
ring order, and the loop ends at the first that finds room (at once when a ring with
packets to push before them already has).  Rings are independent, so syncing the rings
with packets first leaves every ring as the C's order does.

The host krings (NR_REG_SW, NR_REG_NIC_SW) come after the hardware rings of their
direction and go through the same loop with their own syncs (netmap_txsync_to_host,
netmap_rxsync_from_host; model/netmap_poll_host.py).  Transparent mode: when the host
rxsync forwarded packets into a NIC TX ring (NR_FORWARD in its ``nr_kflags``), the C goes
back to ``flush_tx`` with ``send_down`` set -- every bound TX ring synced -- and then
runs the RX loop again; so does :func:`netmap_poll_rings`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from impl.netmap.driver import RxRead
from impl.netmap.host import HostRings
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
from impl.netmap.sync import NativeSync, RxsyncResult, TxsyncResult, rxsync, txsync

Bound = tuple[Krings, SoftRings | NativeSync, np.ndarray]
"""A direction's krings, what syncs them (the soft NIC, or a driver that runs netmap's
sync itself, :class:`impl.netmap.sync.NativeSync`) and the bound ring ids."""


def _run_txsync(policy: str, kr: Krings, dev: SoftRings | NativeSync, rings: np.ndarray,
                sent: np.ndarray) -> TxsyncResult:
    if isinstance(dev, SoftRings):
        return txsync(policy, kr, dev, rings, sent, POLL_RECLAIM[policy])
    return dev.txsync(policy, kr, rings, sent, POLL_RECLAIM[policy])


def _run_rxsync(policy: str, kr: Krings, dev: SoftRings | NativeSync, rings: np.ndarray,
                refill: np.ndarray, read: RxRead) -> RxsyncResult:
    if isinstance(dev, SoftRings):
        return rxsync(policy, kr, dev, rings, refill, None, read)
    return dev.rxsync(policy, kr, rings, refill, read)


def _budgets(value: object, rings: np.ndarray, default: int) -> np.ndarray:
    out = np.full(rings.size, default, dtype=np.int64) if value is None else np.asarray(
        value, dtype=np.int64)
    if out.shape != rings.shape:
        raise ValueError(f"one budget per bound ring: {rings.size} rings, got {value!r}")
    return out


def _tx_sync(policy: str, kr: Krings, dev: SoftRings | NativeSync, rings: np.ndarray,
             sent: np.ndarray) -> tuple[np.ndarray, bool]:
    """txsync without NAF_FORCE_RECLAIM on ``rings``: (found per ring, POLLERR)."""
    if rings.size == 0:
        return np.zeros(0, dtype=bool), False
    r = _run_txsync(policy, kr, dev, rings, sent)
    return ~r.skipped & found(kr, rings), _pollerr(r)


def _pollerr(r: object) -> bool:
    """POLLERR from a sync over the bound rings: a stopped ring (not a busy one) or a
    refused prologue."""
    skipped, busy, accepted = r.skipped, r.busy, r.accepted  # type: ignore[attr-defined]
    return bool(((skipped & ~busy) | (~skipped & ~accepted)).any())


@dataclass
class _Poll:
    """netmap_poll's locals across its ``goto``s: what is still wanted and the retries
    left (``want_tx``, ``retry_tx``, ``retry_rx``), and what the call reports."""

    want_tx: bool
    want_rx: bool
    retry_tx: bool = True
    retry_rx: bool = True
    pollout: bool = False
    pollin: bool = False
    err: bool = False


def _host_tx_sync(policy: str, host: HostRings, rings: np.ndarray) -> tuple[np.ndarray, bool]:
    """nm_kr_tryget, then netmap_txsync_to_host on the host TX krings ``rings`` (a refused
    prologue is reinit and POLLERR): (found room per ring, POLLERR)."""
    kr = host.tx
    stopped = kr.stopped[rings]
    skip = stopped | kr.busy[rings]
    hit = np.zeros(rings.size, dtype=bool)
    err = bool(stopped.any())
    if (~skip).any():
        r = host.txsync(policy, rings[~skip])
        err |= not r.accepted
        hit[~skip] = found(kr, rings[~skip])
    return hit, err


def _host_tx_round(policy: str, host: HostRings, want: bool, room: bool,
                   send_down: bool) -> tuple[bool, bool]:
    """The host TX krings' turn in a flush_tx pass, after the hardware rings (``room``:
    one of those found room while POLLOUT was wanted): as :func:`_tx_round`."""
    kr = host.tx
    ids = kr.check_rings(None)
    push = np.ones(kr.count, bool) if send_down else kr.ring_head != kr.hwcur
    got, err = _host_tx_sync(policy, host, ids[push])
    hits = ids[push][got]
    if want and not room:
        stop = int(hits[0]) if hits.size else kr.count
        for i in np.flatnonzero(~push[:stop]):
            one, failed = _host_tx_sync(policy, host, ids[i : i + 1])
            err |= failed
            if one[0]:
                room = True
                break
        room |= bool(hits.size)
    return room, err


def _tx_round(policy: str, bound: Bound, host: HostRings | None, want: bool,
              send_down: bool, sent: np.ndarray) -> tuple[bool, bool]:
    """One pass of flush_tx over the bound TX rings (the host kring last): (room found
    while POLLOUT was wanted, POLLERR).  ``send_down`` syncs every ring."""
    kr, dev, rings = bound
    push = np.ones(rings.size, bool) if send_down else kr.ring_head[rings] != kr.hwcur[rings]
    got, err = _tx_sync(policy, kr, dev, rings[push], sent[push])
    hits = np.flatnonzero(push)[got]
    room = bool(want and hits.size)
    if want:
        stop = int(hits[0]) if hits.size else rings.size
        for i in np.flatnonzero(~push[:stop]):
            one, failed = _tx_sync(policy, kr, dev, rings[i : i + 1], sent[i : i + 1])
            err |= failed
            if one[0]:
                room = True
                break
    if host is not None:
        room, failed = _host_tx_round(policy, host, want, room, send_down)
        err |= failed
    return room, err


def _flush_tx(policy: str, st: _Poll, bound: Bound, host: HostRings | None,
              budgets: tuple[np.ndarray, np.ndarray], send_down: bool) -> None:
    """The ``flush_tx`` block: a pass, then (POLLOUT still wanted, after selrecord) one
    retry pass, once per call."""
    for sent in budgets:
        room, failed = _tx_round(policy, bound, host, st.want_tx, send_down, sent)
        st.err |= failed
        send_down = False
        if room:
            st.pollout, st.want_tx = True, False
        if not (st.want_tx and st.retry_tx):
            return
        st.retry_tx = False


def _host_rx(policy: str, host: HostRings, tx: Krings | None,
             fwd_all: bool) -> tuple[bool, bool, bool]:
    """The host RX krings' turn in do_retry_rx: nm_kr_tryget, then the prologue and
    netmap_rxsync_from_host (forwarding down from the first one if ``tx``).  Returns
    (found, POLLERR, send_down: some packet was forwarded to a NIC TX ring, NR_FORWARD
    in nr_kflags)."""
    kr = host.rx
    ids = kr.check_rings(None)
    live = ids[~(kr.stopped | kr.busy)]
    err = bool(kr.stopped.any())
    if not live.size:
        return False, err, False
    r = host.rxsync(policy, tx, fwd_all, live)
    return bool(found(kr, live).any()), err or not r.accepted, r.forwarded > 0


def _rx_round(policy: str, bound: Bound, host: HostRings | None, tx: Krings | None,
              refill: np.ndarray, read: RxRead, fwd_all: bool) -> tuple[bool, bool, bool]:
    """One pass of do_retry_rx over every bound RX ring (the host kring last):
    (found, POLLERR, send_down)."""
    kr, dev, rings = bound
    hit, err, send_down = False, False, False
    if rings.size:
        r = _run_rxsync(policy, kr, dev, rings, refill, read)
        err = _pollerr(r)
        hit = bool((~r.skipped & found(kr, rings)).any())
    if host is not None:
        got, failed, send_down = _host_rx(policy, host, tx, fwd_all)
        hit, err = hit or got, err or failed
    return hit, err, send_down


def _lock_free(policy: str, events: int, tx: Bound, rx: Bound,
               host: tuple[Krings | None, Krings | None]) -> tuple[bool, bool]:
    """FreeBSD's lock-free pass over the bound rings, the host krings included: (POLLOUT,
    POLLIN)."""
    out = inn = False
    if events & POLLOUT:
        out = any(bool(((k.ring_cur[r] != k.ring_tail[r]) & first_pass_sees(policy, k, r)
                        ).any()) for k, r in _views(tx, host[0]))
    views = _views(rx, host[1])
    if events & POLLIN and views:
        inn = all(bool(((k.ring_cur[r] != k.ring_tail[r]) & (k.rhead[r] == k.ring_head[r])
                        & first_pass_sees(policy, k, r)).all()) for k, r in views)
    return out, inn


def _views(bound: Bound, host: Krings | None) -> list[tuple[Krings, np.ndarray]]:
    views = [(bound[0], bound[2])] if bound[2].size else []
    return views + ([(host, host.check_rings(None))] if host is not None else [])


def netmap_poll_rings(policy: str, tx: Bound, rx: Bound, events: int, *,
                      txpoll: bool = True, lock_free: bool = True,
                      sent: tuple[object, object] | None = None,
                      refill: tuple[object, object] | None = None,
                      no_pendintr: bool = True, host: HostRings | None = None,
                      host_rings: tuple[bool, bool] = (True, True),
                      can_forward_down: bool = False, fwd_all: bool = False) -> PollOutcome:
    """poll(2) with ``events`` on a handle bound to the TX rings ``tx[2]`` and the RX rings
    ``rx[2]`` (ring ids in order; first the krings and what syncs them: the soft NIC, or a
    driver that runs netmap's sync itself, :class:`impl.netmap.sync.NativeSync`) and, with
    ``host``, to every host TX / RX kring as ``host_rings`` says (NR_REG_NIC_SW; NR_REG_SW
    with no hardware ring). ``sent`` / ``refill``: per pass, per bound hardware ring, what
    the driver manages (default: everything); the other arguments as
    :func:`impl.netmap.poll.netmap_poll`. Transparent mode: ``can_forward_down`` (the handle
    is bound to every hardware TX ring: NAF_CAN_FORWARD_DOWN) and ``fwd_all``
    (``dev.netmap.fwd``); when the host rxsync forwards a packet to a NIC TX ring, the TX
    loop runs again over every bound TX ring (``send_down``) and then the RX loop."""
    check_policy(policy)
    if events & ~(POLLIN | POLLOUT):
        raise ValueError(f"events {events:#x}: netmap_poll looks at POLLIN and POLLOUT only")
    tkr, tdev, trings = tx
    rkr, rdev, rrings = rx
    tx = (tkr, tdev, tkr.check_rings(trings))
    rx = (rkr, rdev, rkr.check_rings(rrings))
    if not (tx[2].size or rx[2].size or (host is not None and any(host_rings))):
        raise ValueError("the handle is bound to no ring")
    host_tx = host if host is not None and host_rings[0] else None
    host_rx = host if host is not None and host_rings[1] else None
    tb = tuple(_budgets(v, tx[2], tkr.num_slots) for v in (sent or (None, None)))
    rb = tuple(_budgets(v, rx[2], rkr.num_slots) for v in (refill or (None, None)))
    st = _Poll(bool(events & POLLOUT), bool(events & POLLIN))
    if lock_free:
        st.pollout, st.pollin = _lock_free(policy, events, tx, rx, (
            host_tx.tx if host_tx else None, host_rx.rx if host_rx else None))
        st.want_tx &= not st.pollout
        st.want_rx &= not st.pollin
    if txpoll or st.want_tx:
        _flush_tx(policy, st, tx, host_tx, tb, False)
    if st.want_rx:
        read = RxRead(force=False, no_pendintr=no_pendintr)
        down = tkr if can_forward_down else None
        for refills in itertools.chain(rb[:1], itertools.repeat(rb[1])):
            hit, failed, send_down = _rx_round(policy, rx, host_rx, down, refills, read,
                                               fwd_all)
            st.err |= failed
            if hit:
                st.pollin, st.retry_rx = True, False
            if not (send_down or st.retry_rx):
                break
            st.retry_rx = False
            if send_down:
                _flush_tx(policy, st, tx, host_tx, tb, True)
    revents = (POLLOUT if st.pollout else 0) | (POLLIN if st.pollin else 0) | (
        POLLERR if st.err else 0)
    return PollOutcome(revents)
