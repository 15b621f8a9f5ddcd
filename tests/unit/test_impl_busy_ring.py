"""A ring another thread is syncing (``nr_busy``): nm_kr_tryget returns NM_KR_BUSY and the
sync skips the ring without an error, where a stopped ring gives EIO / POLLERR.

Upstream: nm_kr_tryget
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L1256)
sets ``*perr`` only for a stopped ring; netmap_ioctl and netmap_poll ``continue`` past a
ring it refuses.
"""

from __future__ import annotations

import errno

import numpy as np

from impl.netmap import NetmapAdapter
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from impl.netmap.poll_rings import netmap_poll_rings
from model.netmap_sync import HARDENED


def _snapshot(ad: NetmapAdapter, kind: str, q: int) -> tuple:
    kr = ad.krings(kind)
    return (repr(ad.abstract(kind, q)), kr.slot_buf_idx[q].tolist(), kr.slot_len[q].tolist(),
            kr.slot_flags[q].tolist(), int(ad.device(kind).tail[q]))


def test_txsync_skips_a_busy_ring_silently_and_syncs_the_others() -> None:
    ad = NetmapAdapter(2, 1, 8, policy=HARDENED)
    for q in (0, 1):
        ad.user_advance("tx", q, 3)
    ad.tx.busy[1] = True
    before = _snapshot(ad, "tx", 1)
    r = ad.txsync([0, 1])
    assert r.errno == 0
    assert r.skipped.tolist() == [False, True] and r.busy.tolist() == [False, True]
    assert r.sent.tolist() == [3, 0]
    assert _snapshot(ad, "tx", 1) == before
    assert int(ad.txdev.tail[0]) == 3


def test_a_stopped_ring_wins_over_busy_and_gives_eio() -> None:
    ad = NetmapAdapter(2, 2, 8, policy=HARDENED)
    ad.tx.busy[:] = True
    ad.stop_rings("tx", [0])
    r = ad.txsync([0, 1])
    assert r.skipped.tolist() == [True, True] and r.busy.tolist() == [False, True]
    assert r.errno == errno.EIO
    ad.rx.busy[0] = True
    rr = ad.rxsync([0, 1])
    assert rr.errno == 0 and rr.busy.tolist() == [True, False]


def test_rxsync_on_a_busy_ring_reports_nothing_until_it_is_free() -> None:
    ad = NetmapAdapter(1, 2, 8, policy=HARDENED)
    ad.device_deliver([0, 1], 2)
    ad.rx.busy[0] = True
    r = ad.rxsync([0, 1])
    assert r.reported.tolist() == [0, 2] and r.errno == 0
    ad.rx.busy[0] = False
    assert ad.rxsync([0]).reported.tolist() == [2]


def test_poll_passes_a_busy_ring_without_pollerr() -> None:
    """One ring each way: the busy RX ring is not synced (no POLLIN although the NIC has
    frames) and there is no POLLERR; the same ring stopped gives POLLERR."""
    ad = NetmapAdapter(1, 1, 8, policy=HARDENED)
    ad.device_deliver([0], 2)
    ad.rx.busy[0] = True
    assert ad.poll(POLLIN, lock_free=False).revents == 0
    ad.stop_rings("rx", [0])
    assert ad.poll(POLLIN, lock_free=False).revents == POLLERR


def test_poll_over_rings_skips_the_busy_one() -> None:
    """Two TX rings, both with packets to push, ring 0 busy: ring 1's packets go to the
    NIC, ring 0's stay, and POLLOUT comes from ring 1's room without POLLERR."""
    ad = NetmapAdapter(2, 1, 8, policy=HARDENED)
    for q in (0, 1):
        ad.user_advance("tx", q, 2)
    ad.tx.busy[0] = True
    got = netmap_poll_rings(HARDENED, (ad.tx, ad.txdev, [0, 1]), (ad.rx, ad.rxdev, [0]),
                            POLLOUT, lock_free=False)
    assert got.revents == POLLOUT
    assert np.asarray(ad.tx.hwcur).tolist() == [0, 2]
