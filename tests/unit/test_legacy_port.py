"""The 2013 API on real rings (:mod:`impl.netmap.legacy`): the legacy findings' worked
examples (hand-traced through the 2013 ixgbe driver in ``test_legacy_u32.py``) replayed on
the implementation, with the values read from the bytes of the 2013 ring header; the
release loop that never ends; netmap_ring_reinit of 2013 with its slot repairs; and a
well-behaved round trip, frames byte for byte."""

from __future__ import annotations

import numpy as np

from impl.netmap.adapter import NetmapAdapter
from impl.netmap.legacy import LEGACY_RING_DTYPE, LegacyPort
from model import LEGACY_RX, LEGACY_TX
from model.core import U32_MAX
from model.netmap_legacy import LegacyRing

TWO32 = U32_MAX + 1


def port(n: int = 8) -> LegacyPort:
    return LegacyPort(NetmapAdapter(1, 1, n))


def header_u32(p: LegacyPort, kind: str, offset: int) -> int:
    """A u32 field of ring 0's 2013 header, read from its bytes."""
    raw = p.header[kind][:1].tobytes()
    return int.from_bytes(raw[offset:offset + 4], "little")


def test_the_2013_header_layout() -> None:
    assert LEGACY_RING_DTYPE.itemsize == 48
    assert [LEGACY_RING_DTYPE.fields[f][1] for f in ("avail", "cur", "reserved", "ts")] == [
        12, 16, 20, 32]
    p = port()
    assert header_u32(p, "tx", 12) == 7 and header_u32(p, "rx", 12) == 0  # avail at start


def test_txsync_with_cur_behind_hwcur_leaves_avail_at_2_to_the_32_minus_5() -> None:
    pre = LegacyRing(n=8, cur=4, avail=0, reserved=0, hwcur=7, hwavail=0, nic=0, busy=7)
    p = port()
    p.load("tx", 0, pre)
    res = p.txsync()
    assert not res.reinit[0] and res.moved[0] == 5
    assert header_u32(p, "tx", 12) == TWO32 - 5  # what the user reads in ring->avail
    assert p.abstract("tx", 0) == LEGACY_TX.transitions["txsync"](pre).post
    assert p.ad.txdev.owned[0] == 12  # the NIC was handed 5 more: 3 of them its own


def test_a_reclaim_past_n_minus_1_is_a_ring_reset_that_keeps_avail() -> None:
    pre = LegacyRing(n=8, cur=4, avail=3, reserved=0, hwcur=7, hwavail=0, nic=1, busy=6)
    p = port()
    p.load("tx", 0, pre)
    res = p.txsync()
    assert res.reinit[0]
    assert int(p.hwavail["tx"][0]) == TWO32 - 4 and header_u32(p, "tx", 12) == 3


def test_rxsync_avail_is_hwavail_minus_reserved_in_u32() -> None:
    pre = LegacyRing(n=8, cur=2, avail=0, reserved=3, hwcur=0, hwavail=2, nic=2, busy=5)
    p = port()
    p.load("rx", 0, pre)
    res = p.rxsync()
    assert res.moved[0] == 7 and not res.hung[0]
    assert header_u32(p, "rx", 12) == TWO32 - 8 and header_u32(p, "rx", 20) == 3
    assert p.abstract("rx", 0) == LEGACY_RX.transitions["rxsync"](pre).post


def test_a_release_point_past_the_ring_hangs_the_2013_kernel() -> None:
    """reserved = 12 with avail = 2^32 - 8: the sum wraps to 4 < N, so reserved is kept
    and k = cur + N - reserved = 2^32 - 2: the C's loop ``for (; j != k; )`` never ends."""
    pre = LegacyRing(n=8, cur=2, avail=TWO32 - 8, reserved=12, hwcur=0, hwavail=2, nic=2,
                     busy=5)
    assert not LEGACY_RX.transitions["rxsync"](pre).guard
    p = port()
    p.load("rx", 0, pre)
    res = p.rxsync()
    assert res.hung[0] and p.abstract("rx", 0) == pre


def test_reinit_repairs_slots_and_a_bad_slot_resets_cur_and_avail() -> None:
    """netmap_ring_reinit of 2013: a slot without a real buffer gets buf_idx 0 and len 0,
    a slot longer than the buffer len 0; any such repair resets cur and avail, as a cur
    past the ring does.  A bad slot among those to send is a ring_reset: nothing is sent."""
    p = port()
    slots = p.ad.slots("tx", 0)
    slots["len"][1] = 60
    slots["buf_idx"][1] = 1  # reserved: not a real buffer
    slots["len"][5] = 9999
    p.header["tx"]["cur"][0] = 3
    p.header["tx"]["avail"][0] = 4
    res = p.txsync()
    assert res.reinit[0] and res.moved[0] == 0 and p.ad.txdev.owned[0] == 0
    assert (slots["buf_idx"][1], slots["len"][1], slots["len"][5]) == (0, 0, 0)
    assert (int(p.header["tx"]["cur"][0]), int(p.header["tx"]["avail"][0])) == (0, 7)
    p.header["rx"]["cur"][0] = 8  # past the ring
    assert p.rxsync().reinit[0] and int(p.header["rx"]["cur"][0]) == 0


def test_a_well_behaved_round_trip() -> None:
    """Fill 5 TX slots, sync, the NIC sends them; 5 frames arrive, the user reads 3 and
    keeps the last one reserved, then reads the rest: the bytes are the NIC's."""
    p = port()
    ad = p.ad
    frames = np.arange(5 * 32, dtype=np.uint8).reshape(5, 32)
    slots = ad.slots("tx", 0)
    for i in range(5):
        ad.buffer(int(slots["buf_idx"][i]))[:32] = frames[i]
        slots["len"][i] = 32
    p.header["tx"]["cur"][0], p.header["tx"]["avail"][0] = 5, 2
    assert p.txsync().moved[0] == 5
    ad.device_complete(0, 5)
    p.txsync()
    assert int(p.header["tx"]["avail"][0]) == 7
    assert ad.wire.data().tobytes() == frames.tobytes()
    ad.device_deliver(0, 5, frames)
    p.rxsync()
    assert int(p.header["rx"]["avail"][0]) == 5
    rx = ad.slots("rx", 0)
    got = [ad.buffer(int(rx["buf_idx"][i]))[:int(rx["len"][i])].tobytes() for i in range(5)]
    assert got == [f.tobytes() for f in frames]
    hdr = p.header["rx"]
    hdr["cur"][0], hdr["avail"][0], hdr["reserved"][0] = 3, 2, 1
    assert p.rxsync().moved[0] == 2  # slots 0 and 1 go back; slot 2 is kept
    assert (int(hdr["avail"][0]), int(p.hwavail["rx"][0])) == (2, 3)
    assert ad.rxdev.owned[0] == 7 - 5 + 2
