"""The 2013 host-ring findings replayed on real rings (:mod:`impl.netmap.legacy_host`):
the worked examples of the findings page, the walk that never ends, and the hardened
policy refusing the same inputs.  The expected values are traced by hand through
netmap.c of 95b478cf (netmap_grab_packets L746, netmap_txsync_to_host L859,
netmap_rxsync_from_host L907, netmap_transmit L2019).
"""

from __future__ import annotations

import errno

import numpy as np
import pytest

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.host import FrameQueue
from impl.netmap.legacy import LegacyPort
from impl.netmap.legacy_host import LegacyHostPort, poll_forward_up
from impl.netmap.prologue import AS_SHIPPED, HARDENED

TWO32 = 2**32


def port(policy: str = AS_SHIPPED, n: int = 8) -> LegacyHostPort:
    return LegacyHostPort(NetmapAdapter(1, 1, n), policy)


def frames(tags: list[int], width: int = 60) -> np.ndarray:
    out = np.zeros((len(tags), width), dtype=np.uint8)
    out[:, 0] = tags
    return out


def test_reserved_on_host_tx_sends_unpublished_slots_up() -> None:
    p = port()
    p.user_fill(frames([1, 2, 3]))
    # two more slots written but not published (cur stays 3): a user filling ahead
    kr = p.host.tx
    for i, tag in ((3, 4), (4, 5)):
        p.mem.bufs[int(kr.slot_buf_idx[0, i])][:60] = frames([tag])[0]
        kr.slot_len[0, i] = 60
    p.header["tx"]["reserved"][0] = 2
    res = p.txsync_to_host()
    # "k = cur; k += n" -> 5: slots 0..4 go up, then hwcur = cur = 3
    assert (res.sent, res.hung) == (5, False)
    assert [f[0] for f in p.stack.frames()] == [1, 2, 3, 4, 5]
    assert (p.stray, p.lost, int(kr.hwcur[0])) == (2, 0, 3)
    assert int(p.header["tx"]["avail"][0]) == 7


def test_reserved_can_skip_published_slots_for_good() -> None:
    p = port()
    p.user_fill(frames([1, 2, 3]))
    p.txsync_to_host()  # hwcur = 3
    p.user_fill(frames([4, 5, 6, 7, 8, 9, 10]))  # slots 3..7, 0, 1: cur = 2
    p.header["tx"]["reserved"][0] = 2  # end = cur + 2 = 4: only slot 3 goes up
    res = p.txsync_to_host()
    assert res.sent == 1 and p.stack.frames()[-1][0] == 4
    assert (p.lost, int(p.host.tx.hwcur[0])) == (6, 2)


@pytest.mark.parametrize("valid_lengths", [True, False])
def test_an_end_past_the_ring_never_returns(valid_lengths: bool) -> None:
    p = port()
    p.user_fill(frames([1] * 6, width=60), np.full(6, 60 if valid_lengths else 5))
    p.header["tx"]["reserved"][0] = 2  # cur 6 + 2 = 8: not a slot
    before = p.abstract_tx()
    res = p.txsync_to_host()
    assert res.hung and res.flood == valid_lengths
    assert p.abstract_tx() == before and len(p.stack) == 0
    hard = port(HARDENED)
    hard.user_fill(frames([1] * 6))
    hard.header["tx"]["reserved"][0] = 2
    assert hard.txsync_to_host().sent == 6 and hard.stray == hard.lost == 0


def test_crafted_reserved_puts_host_rx_hwcur_past_the_ring() -> None:
    p = port()
    assert p.netmap_transmit(frames([1, 2, 3])).tolist() == [0, 0, 0]
    hdr = p.header["rx"]
    hdr["avail"][0], hdr["reserved"][0] = 5, TWO32 - 3  # u32 sum 2 < N: kept
    res = p.rxsync_from_host()
    # k = cur + N - reserved = 0 + 8 + 3 = 11; n = 11 - 0; nr_hwavail = 3 - 11
    assert (res.reinit, res.released) == (False, 11)
    assert int(p.host.rx.hwcur[0]) == 11
    assert int(p.hwavail["rx"][0]) == TWO32 - 8
    assert int(hdr["avail"][0]) == (TWO32 - 8 - (TWO32 - 3)) % TWO32
    # the ring is wedged: netmap_transmit sees nr_hwavail >= N - 1 and drops (EBUSY)
    assert p.netmap_transmit(frames([4])).tolist() == [errno.EBUSY]


def test_hardened_refuses_the_crafted_release_point() -> None:
    p = port(HARDENED)
    p.netmap_transmit(frames([1, 2, 3]))
    hdr = p.header["rx"]
    hdr["avail"][0], hdr["reserved"][0] = 5, TWO32 - 3
    res = p.rxsync_from_host()
    assert res.reinit
    assert (int(p.host.rx.hwcur[0]), int(p.hwavail["rx"][0])) == (0, 3)
    assert (int(hdr["cur"][0]), int(hdr["avail"][0]), int(hdr["reserved"][0])) == (0, 3, 0)
    assert p.user_read(3, 0) == [bytes(frames([t])[0]) for t in (1, 2, 3)]


def test_transmit_2013_drops_with_ebusy_and_keeps_one_slot() -> None:
    p = port(n=4)
    wide = np.zeros((5, 4000), dtype=np.uint8)
    got = p.netmap_transmit(wide, np.array([60, 3000, 60, 60, 60]))
    # buffers hold 2048 bytes: the second is too long; N - 1 = 3 fit, the fifth finds it full
    assert got.tolist() == [0, errno.EBUSY, 0, 0, errno.EBUSY]
    assert (p.accepted, p.dropped, int(p.hwavail["rx"][0])) == (3, 2, 3)


def rx_port(policy: str = AS_SHIPPED) -> tuple[NetmapAdapter, LegacyPort]:
    """An 8-slot hardware RX ring with 4 packets received and reported (avail = 4); the
    user has read 2 and holds 1 of them (cur = 2, reserved = 1: release point 1)."""
    ad = NetmapAdapter(1, 1, 8)
    lp = LegacyPort(ad)
    ad.device_deliver(0, 4, frames([1, 2, 3, 4]))
    lp.rxsync(0)
    hdr = lp.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = 2, 2, 1
    return ad, lp


def test_poll_forward_reads_slots_the_user_has_not_released_and_sends_them_twice() -> None:
    lp = rx_port()[1]
    stack = FrameQueue()
    # dev.netmap.fwd = 1: the walk ends at cur + reserved = 3, not the release point 1
    got = poll_forward_up(lp, 0, True, stack)
    assert (got.sent, got.unreleased, got.nic_owned) == (3, 2, 0)
    assert [f[0] for f in stack.frames()] == [1, 2, 3]
    lp.rxsync(0)  # releases [0, 1): hwcur = 1
    again = poll_forward_up(lp, 0, True, stack)
    assert [f[0] for f in stack.frames()[3:]] == [2, 3]  # slots 1 and 2 go up again
    assert again.unreleased == 2
    hard, hard_stack = rx_port(HARDENED)[1], FrameQueue()
    assert poll_forward_up(hard, 0, True, hard_stack, HARDENED).sent == 1
    assert [f[0] for f in hard_stack.frames()] == [1]


def test_poll_forward_reads_slots_the_nic_owns() -> None:
    _, lp = rx_port()
    hdr = lp.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = 3, 1, 3  # holds all 3 it read
    got = poll_forward_up(lp, 0, True, FrameQueue())  # end = 6: slots 4, 5 are the NIC's
    assert (got.sent, got.unreleased, got.nic_owned, got.hung) == (4, 4, 2, False)


def test_poll_forward_with_a_bad_cur_never_returns() -> None:
    # the walk runs before the rxsync that would reinit cur = 9 on an 8-slot ring
    _, lp = rx_port()
    hdr = lp.header["rx"]
    hdr["cur"][0], hdr["reserved"][0] = 9, 0
    before = lp.abstract("rx", 0)
    got = poll_forward_up(lp, 0, True, FrameQueue())
    assert got.hung and got.flood and lp.abstract("rx", 0) == before
    hard = rx_port(HARDENED)[1]
    hard.header["rx"]["cur"][0] = 9
    assert poll_forward_up(hard, 0, True, FrameQueue(), HARDENED) == (0, 0, 0, False, False)
