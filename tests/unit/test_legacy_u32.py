"""The legacy (2013) model computes what the 2013 C code stores: uint32_t fields that
wrap, and an rxsync that can fail to return.

The worked examples are traced by hand through ixgbe_netmap_txsync / _rxsync of
netmap 95b478cf (the lines are quoted in the comments); every legacy counterexample the
proofs print is replayed on the concrete model and shows C-representable values.
"""

from __future__ import annotations

import pytest

from model import ALL_MACHINES, LEGACY_RX, LEGACY_TX
from model.core import U32_MAX
from model.netmap_legacy import LegacyRing, rx_release_loop_ends, rx_release_point
from proofs.solve import discharge
from proofs.suite import all_obligations

TWO32 = U32_MAX + 1
C_FIELDS = ("cur", "avail", "reserved", "hwavail")  # the uint32_t fields of ring and kring


def test_txsync_with_cur_behind_hwcur_shows_a_wrapped_avail() -> None:
    # hwcur = 7, hwavail = 0 (ring full), the NIC has 7 slots in flight and completed none;
    # the user writes cur = 4.  The send loop walks j = 7, 0, 1, 2, 3: n = 5;
    # "kring->nr_hwavail -= n" stores 0 - 5 = 2^32 - 5; TDH == next_to_clean, so delta = 0,
    # no ring_reset; "ring->avail = kring->nr_hwavail".
    pre = LegacyRing(n=8, cur=4, avail=0, reserved=0, hwcur=7, hwavail=0, nic=0, busy=7)
    assert LEGACY_TX.violated(pre, user_view=False) == []
    step = LEGACY_TX.transitions["txsync"](pre)
    assert step.guard
    assert step.post.hwcur == 4
    assert step.post.hwavail == step.post.avail == TWO32 - 5
    assert step.post.busy == 7 + 5  # the ghost: NIC handed 5 more slots, 3 of them its own


def test_txsync_reclaim_overflow_leaves_avail_alone() -> None:
    # Same, but the NIC has completed 6 slots (nic = 6, next_to_clean = 0): "+= delta"
    # wraps 2^32 - 5 + 6 to 1 <= lim, no ring_reset, the user reads avail = 1.  With a
    # single completion, 2^32 - 4 > lim jumps to ring_reset (netmap_ring_reinit finds cur
    # in range and changes nothing) and "ring->avail = ..." is never reached.
    pre = LegacyRing(n=8, cur=4, avail=0, reserved=0, hwcur=7, hwavail=0, nic=6, busy=1)
    assert LEGACY_TX.violated(pre, user_view=False) == []
    post = LEGACY_TX.transitions["txsync"](pre).post
    assert post.hwavail == post.avail == 1
    pre = pre.replace(nic=1, busy=6, avail=3)  # delta = 1: 2^32 - 4 > lim -> ring_reset
    post = LEGACY_TX.transitions["txsync"](pre).post
    assert post.hwavail == TWO32 - 4 and post.avail == 3  # the user's avail, unchanged


def test_rxsync_avail_is_hwavail_minus_reserved_in_u32() -> None:
    # hwcur = 0, hwavail = 2 (slots 0, 1 received), nothing more arrived; the user read
    # both (cur = 2) but claims reserved = 3: 3 + avail (0) < N keeps it, k = 2 - 3 + 8 = 7,
    # the release loop gives back 7 slots, "nr_hwavail -= 7" -> 2^32 - 5 and
    # "ring->avail = nr_hwavail - resvd" -> 2^32 - 8.
    pre = LegacyRing(n=8, cur=2, avail=0, reserved=3, hwcur=0, hwavail=2, nic=2, busy=5)
    assert LEGACY_RX.violated(pre, user_view=False) == []
    step = LEGACY_RX.transitions["rxsync"](pre)
    assert step.guard
    assert (step.post.hwcur, step.post.reserved) == (7, 3)
    assert step.post.hwavail == TWO32 - 5
    assert step.post.avail == TWO32 - 8


def test_rxsync_release_loop_can_run_forever() -> None:
    # reserved = 2^32 - 1 with avail = 1: "resvd + ring->avail >= lim + 1" sums to 0 in u32,
    # so reserved is kept; k = cur + N - resvd wraps to cur + N + 1 >= N and the loop
    # "for (n = 0; j != k; n++)" never meets k.
    pre = LegacyRing(n=8, cur=0, avail=1, reserved=U32_MAX, hwcur=0, hwavail=0, nic=0, busy=7)
    resvd, k = rx_release_point(pre)
    assert resvd == U32_MAX and k == 9
    assert not rx_release_loop_ends(pre)
    assert not LEGACY_RX.transitions["rxsync"](pre).guard
    # with avail = 9 the u32 sum is 8 >= N: the check zeroes reserved, the loop ends at cur
    fine = pre.replace(avail=9)
    assert rx_release_point(fine) == (0, 0) and LEGACY_RX.transitions["rxsync"](fine).guard


LEGACY_REFUTED = [o for o in all_obligations()
                  if o.machine.startswith("legacy") and o.expect == "refuted"]
BY_NAME = {m.name: m for m in ALL_MACHINES}


@pytest.mark.parametrize("ob", LEGACY_REFUTED, ids=lambda o: o.id)
def test_legacy_counterexamples_are_what_the_c_stores(ob) -> None:
    result = discharge(ob)
    assert result.result == "refuted"
    machine = BY_NAME[ob.machine]
    state = machine.state_type
    cex = result.counterexample
    for group in ("pre", "post", "init"):
        for f in C_FIELDS:
            if f in cex.get(group, {}):
                assert 0 <= cex[group][f] <= U32_MAX, (group, f, cex[group][f])
    if ob.kind == "step":
        pre = state(**cex["pre"])
        step = machine.transitions[ob.transition](pre, **cex["args"])
        assert step.guard and state(**cex["post"]) == step.post
    elif ob.kind == "total":
        assert not machine.transitions[ob.transition](state(**cex["pre"])).guard


def test_every_legacy_kind_of_finding_is_replayed() -> None:
    assert {o.kind for o in LEGACY_REFUTED} == {"step", "total", "mutant"}
    assert {o.machine for o in LEGACY_REFUTED if o.kind != "mutant"} == {
        "legacy_tx", "legacy_rx", "legacy_host_tx", "legacy_host_rx", "legacy_rx_forward",
        "legacy_sw_to_nic"}
