"""poll() over several rings: the model's loops (model/netmap_poll_rings.py) against
the one-ring model and on small rings, and the implementation
(impl/netmap/poll_rings.py) against the model on every pair of small rings."""

from __future__ import annotations

import itertools

import pytest
from support.states import consistent_states

from impl.netmap import NetmapAdapter
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from impl.netmap.poll_rings import netmap_poll_rings
from model.netmap_poll import POLLS as ONE_RING
from model.netmap_poll import PollCall
from model.netmap_poll_rings import CLAIMS, MUTANTS, POLLS, RingsCall
from model.netmap_ring import RX, TX, NetmapRing
from model.netmap_sync import AS_SHIPPED, HARDENED, POLICIES

MACHINES = {"TX": TX, "RX": RX}


def _pairs(direction: str, n: int, stride: int) -> list[tuple[NetmapRing, NetmapRing]]:
    states = consistent_states(MACHINES[direction], n)
    return [(a, states[(i * stride + 5) % len(states)]) for i, a in enumerate(states)]


def _calls(n: int) -> list[RingsCall]:
    return [RingsCall(bool(w), bool(t), bool(f), (a, a), (b, b), (bool(s0), bool(s1)))
            for w, t, f in itertools.product((0, 1), repeat=3)
            for a, b in ((n, n), (0, 1))
            for s0, s1 in ((0, 0), (1, 0), (0, 1))]


def test_one_ring_is_the_one_ring_model() -> None:
    """With one ring the loops are exactly model/netmap_poll's one-ring poll."""
    for direction, machine in MACHINES.items():
        for s in consistent_states(machine, 3):
            for w, t, f, stop in itertools.product((False, True), repeat=4):
                for a, b in ((0, 0), (3, 3), (1, 0)):
                    for policy in POLICIES:
                        one = ONE_RING[direction](policy, s, PollCall(w, t, f, a, b, stop))
                        many = POLLS[direction](policy, [s], RingsCall(w, t, f, (a,), (b,),
                                                                      (stop,)))
                        assert (one.ready, one.err, one.sleeps, one.post) == (
                            many.ready, many.err, many.sleeps, many.posts[0])


def _violations(claim_id: str, policy: str, parts=None) -> int:
    claim = next(c for c in CLAIMS if c.id == claim_id)
    bad = 0
    for rings in _pairs(claim.direction, 3, 7):
        for call in _calls(3):
            if not claim.holds(rings, call, POLLS[claim.direction](policy, rings, call,
                                                                   parts)):
                bad += 1
    return bad


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claims_on_pairs_of_small_rings(claim, policy: str) -> None:
    bad = _violations(claim.id, policy)
    assert bool(bad) == (policy in claim.findings), (claim.id, policy, bad)


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if not m.host], ids=lambda m: m.id)
def test_every_mutant_breaks_its_claim_on_small_rings(mutant) -> None:
    """(The host kring's mutants: tests/unit/test_poll_host.py.)"""
    assert _violations(mutant.claim, HARDENED, mutant.parts)


def _impl_agrees(policy: str, tx: tuple[NetmapRing, ...], rx: tuple[NetmapRing, ...],
                 events: int, call: RingsCall) -> None:
    n = tx[0].n
    ad = NetmapAdapter(len(tx), len(rx), n, policy=policy, extra_bufs=0)
    for kind, states in (("tx", tx), ("rx", rx)):
        for q, s in enumerate(states):
            ad.load(kind, q, s)
            if call.stopped[q]:
                ad.stop_rings(kind, [q])
    budgets = (list(call.first), list(call.second))
    got = netmap_poll_rings(policy, (ad.tx, ad.txdev, list(range(len(tx)))),
                            (ad.rx, ad.rxdev, list(range(len(rx)))), events,
                            txpoll=bool(call.txpoll), lock_free=bool(call.lock_free),
                            sent=budgets, refill=budgets)
    results = {}
    for direction, states, bit in (("TX", tx, POLLOUT), ("RX", rx, POLLIN)):
        c = RingsCall(bool(events & bit), call.txpoll, call.lock_free, call.first,
                      call.second, call.stopped)
        results[direction] = POLLS[direction](policy, states, c)
    for kind, direction in (("tx", "TX"), ("rx", "RX")):
        for q, post in enumerate(results[direction].posts):
            assert ad.abstract(kind, q) == post, (kind, q)
    want = (POLLOUT if results["TX"].ready else 0) | (POLLIN if results["RX"].ready else 0)
    err = results["TX"].err or results["RX"].err
    assert got.revents == want | (POLLERR if err else 0)


@pytest.mark.parametrize("policy", POLICIES)
def test_implementation_polls_several_rings_as_the_model(policy: str) -> None:
    """impl.netmap.poll_rings on pairs of consistent 3-slot rings (every TX ring paired
    with others, RX rings in turn) and every call: the same revents and the same rings
    afterwards as the model."""
    tx_pairs, rx_pairs = _pairs("TX", 3, 11), _pairs("RX", 3, 5)
    for i, tx in enumerate(tx_pairs):
        rx = rx_pairs[i % len(rx_pairs)]
        for events in (POLLIN, POLLOUT, POLLIN | POLLOUT):
            for call in _calls(3)[i % 3 :: 3]:
                _impl_agrees(policy, tx, rx, events, call)


def test_a_ring_with_packets_after_one_with_room_is_still_pushed() -> None:
    """Ring 0 has room, ring 1 has 2 packets to push: POLLOUT, and ring 1's packets are
    on the wire after the call (the C's "on all rings, to avoid that the tx rings
    stall")."""
    ad = NetmapAdapter(2, 1, 8, policy=AS_SHIPPED)
    ad.user_advance("tx", 1, 2)
    before = len(ad.wire)
    got = netmap_poll_rings(AS_SHIPPED, (ad.tx, ad.txdev, [0, 1]), (ad.rx, ad.rxdev, [0]),
                            POLLOUT)
    assert got.revents == POLLOUT
    assert len(ad.wire) == before  # the soft NIC sends when it completes
    assert int(ad.tx.hwcur[1]) == 2 and int(ad.txdev.tail[1]) == 2
