"""Behaviour of :mod:`impl.netmap.legacy_host` that mutation testing (mutmut) found no
test pinning: the length and buffer boundaries of the 2013 walk and netmap_transmit
(``len == buf_size`` is a packet, an index past the pool is buffer 0), NS_FORWARD
selection and clearing without ``force``, the exact results of each path of the
syncs, the user helpers' refusals, and the hardened poll's release-point check at its
edges.  The C is netmap.c of 95b478cf (netmap_grab_packets L746, netmap_txsync_to_host
L859, netmap_rxsync_from_host L907, netmap_transmit L2019, netmap_poll L1780).
"""

from __future__ import annotations

import errno

import numpy as np
import pytest

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.host import FrameQueue
from impl.netmap.layout import NS_FORWARD, NS_REPORT
from impl.netmap.legacy import LegacyPort
from impl.netmap.legacy_host import (
    ForwardUpResult,
    HostRxResult,
    HostTxResult,
    LegacyHostPort,
    len_ok,
    nmb,
    poll_forward_up,
)
from impl.netmap.prologue import AS_SHIPPED, HARDENED
from impl.netmap.ranges import ring_dist

TWO32 = 2**32


def port(policy: str = AS_SHIPPED, n: int = 8) -> LegacyHostPort:
    return LegacyHostPort(NetmapAdapter(1, 1, n), policy)


def frames(tags: list[int], width: int = 60) -> np.ndarray:
    out = np.zeros((len(tags), width), dtype=np.uint8)
    out[:, 0] = tags
    out[:, 1:] = 0x5A
    return out


def rx_port(policy: str = AS_SHIPPED) -> LegacyPort:
    """An 8-slot hardware RX ring with 4 packets received and reported (hwcur 0,
    nr_hwavail 4, avail 4), tagged 1..4; the user has not read any yet."""
    ad = NetmapAdapter(1, 1, 8)
    lp = LegacyPort(ad)
    ad.device_deliver(0, 4, frames([1, 2, 3, 4]))
    lp.rxsync(0)
    return lp


def set_rx_user(lp: LegacyPort, cur: int, avail: int, reserved: int) -> None:
    hdr = lp.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = cur, avail, reserved


# ---------------------------------------------------------------------- boundaries


def test_len_ok_takes_14_up_to_a_whole_buffer() -> None:
    """grab_packets skips ``len < 14 || len > buf_size``: 14 and buf_size are sent."""
    got = len_ok(np.array([13, 14, 2047, 2048, 2049]), 2048)
    assert got.tolist() == [False, True, True, True, False]


def test_nmb_maps_an_index_past_the_pool_to_buffer_zero() -> None:
    """NMB: an index below the pool size is its own buffer; nbufs and beyond are 0."""
    mem = port().mem
    got = nmb(mem, np.array([0, 5, mem.nbufs - 1, mem.nbufs, mem.nbufs + 7], np.uint32))
    assert got.tolist() == [0, 5, mem.nbufs - 1, 0, 0]


def test_host_txsync_sends_up_a_packet_filling_a_whole_buffer() -> None:
    """A host TX packet of exactly buf_size bytes is written by user_fill and sent up
    whole (only longer ones are skipped)."""
    p = port()
    size = p.mem.buf_size
    full = np.full((1, size), 7, dtype=np.uint8)
    p.user_fill(full)
    assert p.txsync_to_host() == HostTxResult(False, 1, 0, False, False)
    assert p.stack.frames() == [bytes(full[0])]


def test_host_txsync_reads_a_slot_pointing_past_the_pool_from_buffer_zero() -> None:
    """A slot whose buf_idx the user set past the pool is sent up from buffer 0 (NMB),
    not from the next buffer nor out of bounds."""
    p = port()
    p.user_fill(frames([1]))
    p.mem.bufs[0, :60], p.mem.bufs[1, :60] = 0xB0, 0xB1
    p.host.tx.slot_buf_idx[0, 0] = p.mem.nbufs
    p.txsync_to_host()
    assert p.stack.frames() == [bytes([0xB0] * 60)]


def test_host_transmit_accepts_a_packet_of_exactly_a_buffer() -> None:
    """netmap_transmit drops only packets longer than a buffer."""
    p = port()
    size = p.mem.buf_size
    wide = np.full((2, size + 1), 3, dtype=np.uint8)
    got = p.netmap_transmit(wide, np.array([size, size + 1]))
    assert got.tolist() == [0, errno.EBUSY]
    p.rxsync_from_host()
    assert p.user_read(1, 0) == [bytes([3] * size)]


# ---------------------------------------------------------------------- the walk


def test_forward_walk_without_force_sends_only_ns_forward_slots() -> None:
    """NR_FORWARD without dev.netmap.fwd: of the walked slots only those marked
    NS_FORWARD with a valid length go up; each loses NS_FORWARD and keeps its other
    flags; an unmarked slot and a marked runt are left as they were."""
    lp = rx_port()
    kr = lp.ad.rx
    kr.slot_flags[0, :3] = [NS_REPORT, NS_FORWARD | NS_REPORT, NS_FORWARD]
    kr.slot_len[0, 2] = 5
    set_rx_user(lp, 3, 1, 0)  # read 3, released all: the walk covers slots 0..2
    stack = FrameQueue()
    got = poll_forward_up(lp, 0, False, stack)
    assert got.sent == 1 and [f[0] for f in stack.frames()] == [2]
    assert kr.slot_flags[0, :3].tolist() == [NS_REPORT, NS_REPORT, NS_FORWARD]


def test_forced_walk_keeps_the_other_flags_of_the_slots_it_sends() -> None:
    """With force every slot goes up; NS_FORWARD is cleared and nothing else set."""
    p = port()
    p.user_fill(frames([1, 2]))
    p.host.tx.slot_flags[0, :2] = [NS_REPORT, 0]
    p.txsync_to_host()
    assert p.host.tx.slot_flags[0, :2].tolist() == [NS_REPORT, 0]


def test_host_txsync_result_counts_sent_and_skipped_lengths() -> None:
    """Three published slots, the middle one a runt: two go up, one skipped, no
    reinit, no hang."""
    p = port()
    p.user_fill(frames([1, 2, 3]), np.array([60, 5, 60]))
    assert p.txsync_to_host() == HostTxResult(False, 2, 1, False, False)
    assert [f[0] for f in p.stack.frames()] == [1, 3]


def test_host_txsync_leaves_the_modern_kring_view_consistent() -> None:
    """After a host txsync the kring's modern fields say what nr_hwavail says: hwtail
    one slot before hwcur (N-1 free), rhead = rcur = cur."""
    p = port()
    for k in (3, 7, 2):
        p.user_fill(frames(list(range(k))))
        p.txsync_to_host()
        kr, cur = p.host.tx, int(p.header["tx"]["cur"][0])
        assert int(ring_dist(int(kr.hwcur[0]), int(kr.hwtail[0]), p.n)) == p.n - 1
        assert (int(kr.hwtail[0]), int(kr.rtail[0])) == ((cur - 1) % p.n,) * 2
        assert (int(kr.rhead[0]), int(kr.rcur[0])) == (cur, cur)


def test_host_txsync_lost_slots_add_up_over_syncs() -> None:
    """``lost`` counts every published slot a walk passed over, across syncs: 6 in the
    first lossy sync, 7 in the second."""
    p = port()
    p.user_fill(frames([1, 2, 3]))
    p.txsync_to_host()  # hwcur 3
    p.user_fill(frames(list(range(4, 11))))  # cur 2
    p.header["tx"]["reserved"][0] = 2  # end 4: only slot 3 goes up, 6 lost
    p.txsync_to_host()
    assert p.lost == 6
    p.user_fill(frames(list(range(11, 18))))  # hwcur 2, cur 1
    p.header["tx"]["reserved"][0] = 1  # end 2 = hwcur: nothing goes up, 7 lost
    p.txsync_to_host()
    assert p.lost == 13


def test_host_txsync_with_cur_past_the_ring_only_reinits() -> None:
    """``cur > N-1``: netmap_ring_reinit (cur = hwcur, avail = hwavail) and nothing
    else: the result is (reinit, 0 sent, 0 skipped, not hung, no flood)."""
    p = port()
    p.user_fill(frames([1, 2]))
    p.header["tx"]["cur"][0] = p.n
    assert p.txsync_to_host() == HostTxResult(True, 0, 0, False, False)
    assert (int(p.header["tx"]["cur"][0]), int(p.header["tx"]["avail"][0])) == (0, 7)
    assert len(p.stack) == 0


@pytest.mark.parametrize("valid_lengths", [True, False])
def test_a_hung_host_txsync_reports_nothing_sent(valid_lengths: bool) -> None:
    """A grab end past the ring: no reinit, nothing sent or skipped, hung, and flood
    exactly when some slot has a length m_devget copies."""
    p = port()
    p.user_fill(frames([1] * 6), np.full(6, 60 if valid_lengths else 5))
    p.header["tx"]["reserved"][0] = 2
    assert p.txsync_to_host() == HostTxResult(False, 0, 0, True, valid_lengths)


# ---------------------------------------------------------------------- host RX


def test_host_transmit_zeroes_the_flags_of_the_slot_it_fills() -> None:
    """netmap_transmit copies into the slot and sets ``flags = 0``, whatever the slot
    held before."""
    p = port()
    p.host.rx.slot_flags[0, :2] = NS_FORWARD | NS_REPORT
    p.netmap_transmit(frames([1]))
    assert p.host.rx.slot_flags[0, :2].tolist() == [0, NS_FORWARD | NS_REPORT]


def test_host_transmit_refuses_a_position_one_past_the_ring() -> None:
    """A kring whose nr_hwcur left the ring (the rxsync finding) puts nm_kr_rxpos at
    hwcur + hwavail - N; slot N is already past an N-slot ring: RuntimeError naming
    it, nothing written."""
    p = port()
    p.host.rx.hwcur[0], p.hwavail["rx"][0] = 12, 4  # 12 + 4 - 8 = 8
    before = p.host.rx.slot_len.copy()
    with pytest.raises(RuntimeError, match="would write slot 8 past the 8-slot ring"):
        p.netmap_transmit(frames([1]))
    assert np.array_equal(p.host.rx.slot_len, before)


def test_host_transmit_refuses_lengths_wider_than_the_rows() -> None:
    p = port()
    with pytest.raises(ValueError, match=r"^lengths must give one length <= row width "
                                         r"per frame$"):
        p.netmap_transmit(frames([1], width=20), np.array([21]))


def test_host_rxsync_with_cur_past_the_ring_reinits_and_releases_nothing() -> None:
    """``cur >= N`` (cur = N here): reinit, result (True, 0), cur = hwcur, avail =
    nr_hwavail, the kring unchanged; hardened the same, reserved zeroed."""
    for policy in (AS_SHIPPED, HARDENED):
        p = port(policy)
        p.netmap_transmit(frames([1, 2, 3]))
        hdr = p.header["rx"]
        hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = p.n, 0, 1
        assert p.rxsync_from_host() == HostRxResult(True, 0)
        assert (int(hdr["cur"][0]), int(hdr["avail"][0])) == (0, 3)
        assert (int(p.host.rx.hwcur[0]), int(p.hwavail["rx"][0]), p.released) == (0, 3, 0)


# ---------------------------------------------------------------------- user helpers


def test_user_fill_refuses_what_does_not_fit_and_writes_nothing() -> None:
    """More packets than avail, or a cur that is not a slot (cur = N), is a ValueError
    and leaves the ring as it was."""
    p = port()
    before = p.abstract_tx()
    with pytest.raises(ValueError, match="8 packets of 60 bytes do not fit from cur=0 "
                                         "with avail=7"):
        p.user_fill(frames([1] * 8))
    p.header["tx"]["cur"][0] = p.n
    with pytest.raises(ValueError, match="do not fit from cur=8"):
        p.user_fill(frames([1]))
    assert p.abstract_tx() == before.replace(cur=p.n)
    assert not p.host.tx.slot_len.any()


@pytest.mark.parametrize(("cur", "avail", "reserved", "k", "keep"), [
    (0, 3, 0, 4, 0),  # more than avail
    (0, 3, 0, 2, 3),  # keeps more than it holds
    (8, 3, 0, 1, 0),  # cur is not a slot
    (0, 8, 0, 8, 0),  # a whole ring's worth (avail written by the user)
])
def test_user_read_refuses_impossible_reads(cur: int, avail: int, reserved: int, k: int,
                                            keep: int) -> None:
    """user_read needs cur < N, k <= avail, k < N and keep <= reserved + k; otherwise
    ValueError and nothing changed."""
    p = port()
    p.netmap_transmit(frames([1, 2, 3]))
    hdr = p.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = cur, avail, reserved
    before = p.abstract_rx()
    with pytest.raises(ValueError, match=f"^host rx: cannot read {k} keeping {keep} "
                                         f"from cur={cur}, avail={avail}"):
        p.user_read(k, keep)
    assert p.abstract_rx() == before


@pytest.mark.parametrize("host", [(2, 1), (1, 2)])
def test_the_2013_port_wants_exactly_one_host_ring_pair(host: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"^the 2013 API has one host ring pair; build "
                                         r"the adapter with host_rings=True$"):
        LegacyHostPort(NetmapAdapter(1, 1, 8, host_rings=host))


# ---------------------------------------------------------------------- poll forward


def test_forward_walk_ending_at_the_ring_size_hangs() -> None:
    """As shipped, cur + reserved = N is not a slot either: hung, nothing read."""
    lp = rx_port()
    set_rx_user(lp, 6, 0, 2)
    got = poll_forward_up(lp, 0, True, FrameQueue())
    assert got == ForwardUpResult(0, 0, 0, True, True)


@pytest.mark.parametrize("marked", [False, True])
def test_hung_forward_walk_floods_only_with_a_marked_valid_slot(marked: bool) -> None:
    """Without force only NS_FORWARD slots are copied, so a walk that never ends floods
    the stack only if one of them has a valid length; unmarked valid slots do not."""
    lp = rx_port()
    if marked:
        lp.ad.rx.slot_flags[0, 5] = NS_FORWARD
        lp.ad.rx.slot_len[0, 5] = 60
    set_rx_user(lp, 9, 0, 0)
    assert poll_forward_up(lp, 0, False, FrameQueue()) == ForwardUpResult(0, 0, 0, True,
                                                                          marked)


@pytest.mark.parametrize(("cur", "avail", "reserved", "why"), [
    (9, 0, 7, "cur is not a slot, the release point 2 is"),
    (8, 0, 6, "cur = N, the release point 2 is a slot"),
    (2, 6, TWO32 - 6, "cur is a slot, the release point 16 is not"),
])
def test_hardened_forward_walk_refuses_a_bad_cur_or_release_point(
        cur: int, avail: int, reserved: int, why: str) -> None:
    """Hardened, the walk needs cur and the release point both in the ring (and the
    release point within the received slots); else it walks nothing and returns."""
    lp = rx_port(HARDENED)
    set_rx_user(lp, cur, avail, reserved)
    stack = FrameQueue()
    assert poll_forward_up(lp, 0, True, stack, HARDENED) == ForwardUpResult(
        0, 0, 0, False, False), why
    assert len(stack) == 0


def test_hardened_forward_walk_takes_every_released_slot() -> None:
    """A release point exactly at nr_hwcur + nr_hwavail (the user read and released
    all 4) is within the kernel's slots: the walk sends all 4 up."""
    lp = rx_port(HARDENED)
    set_rx_user(lp, 4, 0, 0)
    stack = FrameQueue()
    got = poll_forward_up(lp, 0, True, stack, HARDENED)
    assert got == ForwardUpResult(4, 0, 0, False, False)
    assert [f[0] for f in stack.frames()] == [1, 2, 3, 4]


def test_forward_walk_counts_nothing_unreleased_past_a_release_point_beyond_the_ring() -> None:
    """As shipped, reserved = 2^32 - 6 with avail 6 passes the u32 check and puts the
    release point at cur + N + 6 = 16 on an 8-slot ring; the walk ends at 4.  The
    rxsync after it takes back ``k - hwcur = 16`` slots, more than the kernel holds, so
    none of the 4 slots read counts as unreleased (not 16 mod 8 = 0 released)."""
    lp = rx_port()
    set_rx_user(lp, 2, 6, TWO32 - 6)
    stack = FrameQueue()
    assert poll_forward_up(lp, 0, True, stack) == ForwardUpResult(4, 0, 0, False, False)
    assert [f[0] for f in stack.frames()] == [1, 2, 3, 4]
