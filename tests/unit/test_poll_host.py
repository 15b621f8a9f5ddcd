"""poll() on a handle bound to the host rings (NR_REG_NIC_SW, NR_REG_SW): the
implementation (impl/netmap/poll_rings.py with the host krings) against the model
(model/netmap_poll_rings.py with model/netmap_poll_host.py's host parts), and
transparent mode's ``send_down``, which the model leaves out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support.states import consistent_states

from impl.netmap import NR_FORWARD, NS_FORWARD, NetmapAdapter
from impl.netmap.host import HostRings
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from impl.netmap.poll_rings import netmap_poll_rings
from model.netmap_poll_host import HOST_RING
from model.netmap_poll_rings import CLAIMS, MUTANTS, POLLS, RingsCall
from model.netmap_ring import RX, TX, NetmapRing
from model.netmap_sync import AS_SHIPPED, HARDENED, POLICIES

MACHINES = {"TX": TX, "RX": RX}
N = 3


def _host_states(direction: str) -> list[NetmapRing]:
    return [s for s in consistent_states(MACHINES[direction], N) if HOST_RING[direction](s)]


def _bindings(direction: str, stride: int) -> list[tuple[NetmapRing, ...]]:
    """NR_REG_SW (the host kring alone) and NR_REG_NIC_SW (a NIC ring, then the host
    kring) over the small states: each NIC ring paired with a host kring in turn and
    with one whose user has nothing to see (a caller that may sleep)."""
    nic, host = consistent_states(MACHINES[direction], N), _host_states(direction)
    idle = [h for h in host if h.cur == h.tail]
    alone = [(h,) for h in host]
    pairs = [(a, h) for i, a in enumerate(nic)
             for h in (host[(i * stride + 3) % len(host)], idle[i % len(idle)])]
    return alone + pairs


def _calls(count: int) -> list[RingsCall]:
    stops = [(False,) * count, (False,) * (count - 1) + (True,), (True,) + (False,) * (
        count - 1)]
    return [RingsCall(bool(w), bool(t), bool(f), (a,) * count, (b,) * count, stop, host=True)
            for w, t, f in itertools.product((0, 1), repeat=3)
            for a, b in ((N, N), (0, 1))
            for stop in stops[: 2 if count == 1 else 3]]


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.host], ids=lambda m: m.id)
def test_every_host_mutant_breaks_its_claim_on_small_rings(mutant) -> None:
    claim = next(c for c in CLAIMS if c.id == mutant.claim)
    bad = sum(not claim.holds(rings, call, POLLS[claim.direction](HARDENED, rings, call,
                                                                   mutant.parts))
              for rings in _bindings(claim.direction, 5) if len(rings) == 2
              for call in _calls(2))
    assert bad


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claims_with_the_host_kring_on_small_rings(claim, policy: str) -> None:
    """The claims hold with the host kring as they are proved; the one finding needs a
    NIC ring (the host kring alone reclaims on every sync)."""
    for count in (1, 2):
        bad = sum(not claim.holds(rings, call, POLLS[claim.direction](policy, rings, call))
                  for rings in _bindings(claim.direction, 7) if len(rings) == count
                  for call in _calls(count))
        assert bool(bad) == claim.fails_under(policy, count, True), (count, bad)


def _load(policy: str, tx: tuple[NetmapRing, ...], rx: tuple[NetmapRing, ...],
          call: RingsCall) -> tuple[NetmapAdapter, HostRings]:
    ad = NetmapAdapter(1, 1, N, buf_size=64, policy=policy, extra_bufs=4)
    host = ad.host_rings()
    for kind, direction, states in (("tx", "TX", tx), ("rx", "RX", rx)):
        if len(states) == 2:
            ad.load(kind, 0, states[0])
            if call.stopped[0]:
                ad.stop_rings(kind, [0])
        host.load_ring(direction, states[-1])
        getattr(host, kind).stopped[0] = call.stopped[-1]
    return ad, host


def _impl_agrees(policy: str, tx: tuple[NetmapRing, ...], rx: tuple[NetmapRing, ...],
                 events: int, call: RingsCall) -> None:
    ad, host = _load(policy, tx, rx, call)
    nic = len(tx) == 2
    budgets = (list(call.first[:-1]), list(call.second[:-1]))
    got = netmap_poll_rings(policy, (ad.tx, ad.txdev, [0] if nic else []),
                            (ad.rx, ad.rxdev, [0] if nic else []), events,
                            txpoll=bool(call.txpoll), lock_free=bool(call.lock_free),
                            sent=budgets, refill=budgets, host=host)
    want = err = 0
    for direction, states, bit in (("TX", tx, POLLOUT), ("RX", rx, POLLIN)):
        c = RingsCall(bool(events & bit), call.txpoll, call.lock_free, call.first,
                      call.second, call.stopped, host=True)
        r = POLLS[direction](policy, states, c)
        if nic:
            assert ad.abstract(direction.lower(), 0) == r.posts[0], (direction, "nic")
        assert host.ring_view(direction) == r.posts[-1], (direction, "host")
        want |= bit if r.ready else 0
        err |= bool(r.err)
    assert got.revents == want | (POLLERR if err else 0)


@pytest.mark.parametrize("policy", POLICIES)
def test_implementation_polls_the_host_rings_as_the_model(policy: str) -> None:
    """impl.netmap.poll_rings with the host krings bound, alone (NR_REG_SW) and after a
    NIC ring (NR_REG_NIC_SW), on consistent 3-slot rings and every call: the same revents
    and the same rings afterwards as the model, host krings read as NIC rings."""
    for count in (1, 2):
        txs = [b for b in _bindings("TX", 11) if len(b) == count]
        rxs = [b for b in _bindings("RX", 5) if len(b) == count]
        for i, tx in enumerate(txs):
            rx = rxs[i % len(rxs)]
            for events in (POLLIN, POLLOUT, POLLIN | POLLOUT):
                for call in _calls(count)[i % 3 :: 3]:
                    _impl_agrees(policy, tx, rx, events, call)


def _transparent(n: int, k: int) -> tuple[NetmapAdapter, HostRings]:
    """One NIC ring pair and the host rings; ``k`` stack packets imported into the host
    RX ring and released by the user with NS_FORWARD, NR_FORWARD set."""
    ad = NetmapAdapter(1, 1, n, buf_size=64, policy=AS_SHIPPED)
    host = ad.host_rings()
    host.rx.headers["flags"][0] |= NR_FORWARD
    assert (ad.netmap_transmit(np.full((k, 60), 7, np.uint8)) == 0).all()
    host.rxsync(AS_SHIPPED)
    host.rx.slot_flags[0, :k] |= NS_FORWARD
    host.user_release(k)
    return ad, host


def test_packets_forwarded_down_on_poll_reach_the_nic_in_the_same_call() -> None:
    """Transparent mode: the host rxsync swaps the released NS_FORWARD packets into the
    NIC TX ring (send_down), and netmap_poll goes back to flush_tx, which hands them to
    the NIC before poll returns -- even with NETMAP_NO_TX_POLL, and after the TX loop
    already ran."""
    ad, host = _transparent(8, 3)
    got = netmap_poll_rings(AS_SHIPPED, (ad.tx, ad.txdev, [0]), (ad.rx, ad.rxdev, [0]),
                            POLLIN, txpoll=False, host=host, can_forward_down=True)
    assert host.forwarded == 3
    assert int(ad.tx.hwcur[0]) == 3  # the driver took the three swapped slots
    assert int(ad.txdev.owned[0]) == 3
    assert not got.revents & POLLERR


def test_without_every_tx_ring_nothing_is_forwarded_on_poll() -> None:
    """NAF_CAN_FORWARD_DOWN is set only for a handle bound to every hardware TX ring: the
    host rxsync of any other handle releases the slots without forwarding."""
    ad, host = _transparent(8, 3)
    netmap_poll_rings(AS_SHIPPED, (ad.tx, ad.txdev, [0]), (ad.rx, ad.rxdev, [0]), POLLIN,
                      txpoll=False, host=host, can_forward_down=False)
    assert host.forwarded == 0 and int(ad.tx.hwcur[0]) == 0
    assert int(host.rx.hwcur[0]) == 3


def test_a_stopped_host_kring_is_pollerr_and_untouched() -> None:
    ad = NetmapAdapter(1, 1, 8, policy=HARDENED)
    host = ad.host_rings()
    assert (ad.netmap_transmit(np.full((2, 60), 1, np.uint8)) == 0).all()
    host.rx.stopped[0] = True
    before = host.ring_view("RX")
    got = netmap_poll_rings(HARDENED, (ad.tx, ad.txdev, []), (ad.rx, ad.rxdev, []), POLLIN,
                            host=host, host_rings=(False, True))
    assert got.revents == POLLERR
    assert host.ring_view("RX") == before and len(host.rx_queue) == 2


def test_a_binding_to_no_ring_is_refused() -> None:
    ad = NetmapAdapter(1, 1, 8)
    with pytest.raises(ValueError, match="no ring"):
        netmap_poll_rings(HARDENED, (ad.tx, ad.txdev, []), (ad.rx, ad.rxdev, []), POLLIN)
