"""Leaving netmap mode on several switching rings at once, ring by ring: the RFC's two
ways out (wait for the NIC to hand its netmap buffers back, or reset the RX ring) and the
classic flush of a subset of the rings, against the models.

Mutation testing (mutmut over impl/switch) found these unchecked: the stateful machines
(tests/stateful/test_switch_*.py) never call ``ring_reset_exit`` on a ring that is
leaving, and rarely reach ``leave_done`` with some leaving rings still holding netmap
buffers and others not.  Each call here steps every ring's model with the same
arguments, as the machines do (a ring the call does not address, or whose guard fails,
keeps its state), and compares every ring's counts with it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from impl.switch import BufferLeakError, MbufPool, NetmapPool, SwitchRxRings, SwitchTxRings
from impl.switch.rings import SwitchRings
from impl.switch.rx import FrameLog
from model import netmap_switch as sw
from model import netmap_switch_tx as tx
from model.core import Step
from model.netmap_switch import LEAVING, NETMAP, STACK


class Lockstep:
    """Switching rings and one model state per ring, stepped together."""

    def __init__(self, rings: SwitchRings, init: Callable[[int], Any]) -> None:
        self.rings = rings
        self.models = [init(rings.n) for _ in range(rings.q)]
        self.check()

    def check(self) -> None:
        got = [self.rings.abstract(q) for q in range(self.rings.q)]  # type: ignore[attr-defined]
        assert got == self.models

    def step(self, call: Callable[[], None],
             step_of: Callable[[int, Any], Step | None]) -> None:
        """Run ``call`` on the rings and ``step_of(q, state)`` on each ring's model."""
        call()
        for q, pre in enumerate(self.models):
            st = step_of(q, pre)
            self.models[q] = st.post if st is not None and st.guard else pre
        self.check()

    def mode(self) -> list[int]:
        return self.rings.mode.tolist()


def rx_mix(ls: Lockstep, field: str, call: Callable[[], None]) -> list[int]:
    """Run ``call`` and return, per ring, how much ``field`` of the counts dropped (or,
    as a negative number, grew): the mix of buffer kinds the model takes as ``j``."""
    before = [getattr(ls.rings.abstract(q), field) for q in range(ls.rings.q)]  # type: ignore[attr-defined]
    call()
    return [b - getattr(ls.rings.abstract(q), field)  # type: ignore[attr-defined]
            for q, b in enumerate(before)]


def rx_leaving_with_netmap_buffers_in_the_nic() -> Lockstep:
    """Three RFC rings of 4 descriptors that ran traffic in netmap mode (every descriptor
    converted to a netmap buffer) and then closed: all leaving, each with netmap buffers
    filled and/or posted in its NIC."""
    ls = Lockstep(SwitchRxRings(3, 4, "rfc"), sw.init)
    r: SwitchRxRings = ls.rings  # type: ignore[assignment]
    ls.step(r.regif, lambda q, s: sw.regif_rfc(s))
    for k in ([3, 3, 3], [3, 3, 3], [2, 2, 1], [2, 0, 1]):
        ls.step(lambda k=k: r.wire(k), lambda q, s, k=k: sw.wire(s, k[q], 0))
        if k != [2, 0, 1]:
            ls.step(lambda k=k: r.harvest(k), lambda q, s, k=k: sw.harvest(s, k[q], 0))
            ls.step(lambda k=k: r.release(k), lambda q, s, k=k: sw.release(s, k[q]))
    ls.step(r.unregif, lambda q, s: sw.unregif_rfc(s))
    held = [(s.posted_n, s.ready_n) for s in ls.models]
    assert ls.mode() == [LEAVING] * 3 and held == [(1, 2), (3, 0), (2, 1)]
    return ls


def test_rx_leave_done_ends_leaving_only_on_the_rings_whose_nic_is_clean() -> None:
    """leave_done applies the model's leave_done ring by ring: a leaving ring goes back to
    normal mode once its NIC holds no netmap buffer, and only if the mask names it."""
    ls = rx_leaving_with_netmap_buffers_in_the_nic()
    r: SwitchRxRings = ls.rings  # type: ignore[assignment]
    ls.step(r.leave_done, lambda q, s: sw.leave_done(s))
    assert ls.mode() == [LEAVING] * 3  # no NIC is clean yet
    # ring 1's three posted netmap buffers fill and the stack driver harvests them
    j = rx_mix(ls, "posted_n", lambda: r.wire([0, 3, 0]))
    ls.models[1] = sw.wire(ls.models[1], 3, j[1]).post
    ls.check()
    j = rx_mix(ls, "ready_n", lambda: r.harvest([0, 3, 0]))
    ls.models[1] = sw.harvest(ls.models[1], 3, j[1]).post
    ls.check()
    mask = np.array([True, False, True])
    ls.step(lambda: r.leave_done(mask), lambda q, s: sw.leave_done(s) if mask[q] else None)
    assert ls.mode() == [LEAVING] * 3  # ring 1 is clean, but not asked
    ls.step(r.leave_done, lambda q, s: sw.leave_done(s))
    assert ls.mode() == [LEAVING, STACK, LEAVING]


def test_rx_harvest_while_leaving_counts_the_exit_copies() -> None:
    """A packet the stack driver harvests from a netmap buffer while leaving is copied
    into an mbuf: ``exit_copies`` counts exactly those, the model's ``j`` of harvest."""
    ls = rx_leaving_with_netmap_buffers_in_the_nic()
    r: SwitchRxRings = ls.rings  # type: ignore[assignment]
    k = [1, 0, 1]
    j = rx_mix(ls, "ready_n", lambda: r.harvest(k))
    for q in range(3):
        ls.models[q] = sw.harvest(ls.models[q], k[q], j[q]).post
    ls.check()
    assert j == [1, 0, 1]
    assert r.counters["exit_copies"].tolist() == j


def test_rx_ring_reset_exit_resets_the_masked_leaving_rings() -> None:
    """ring_reset_exit takes every masked leaving ring back to normal mode at once, as
    the model's ring_reset_exit: filled packets go up the stack, every netmap buffer
    returns to the allocator and every descriptor gets an mbuf.  Rings not masked, or
    not leaving, are left as they are."""
    ls = rx_leaving_with_netmap_buffers_in_the_nic()
    r: SwitchRxRings = ls.rings  # type: ignore[assignment]
    mask = np.array([True, False, False])
    ls.step(lambda: r.ring_reset_exit(mask),
            lambda q, s: sw.ring_reset_exit(s) if mask[q] else None)
    assert ls.mode() == [STACK, LEAVING, LEAVING]
    ls.step(lambda: r.ring_reset_exit([False, True, True]),
            lambda q, s: sw.ring_reset_exit(s) if q else None)
    assert ls.mode() == [STACK] * 3
    assert r.pool.free_count == r.pool.capacity  # every netmap buffer is back
    ls.step(r.ring_reset_exit, lambda q, s: sw.ring_reset_exit(s))  # nobody is leaving


def test_rx_classic_switch_of_some_rings_flushes_only_theirs() -> None:
    """Classic NIOCREGIF and close on a subset of the rings (not starting at ring 0):
    the packets those rings' NICs filled are dropped as ``flushed`` on those rings only."""
    ls = Lockstep(SwitchRxRings(3, 4, "classic"), sw.init)
    r: SwitchRxRings = ls.rings  # type: ignore[assignment]
    ls.step(lambda: r.wire([1, 2, 3]), lambda q, s: sw.wire(s, [1, 2, 3][q], 0))
    mask = np.array([False, True, True])
    ls.step(lambda: r.regif(mask), lambda q, s: sw.regif_classic(s) if mask[q] else None)
    ls.step(lambda: r.link_up(mask), lambda q, s: sw.link_up(s) if mask[q] else None)
    ls.step(lambda: r.wire([1, 2, 1]), lambda q, s: sw.wire(s, [1, 2, 1][q], 0))
    ls.step(lambda: r.unregif(mask), lambda q, s: sw.unregif_classic(s) if mask[q] else None)
    assert r.counters["flushed"].tolist() == [0, 4, 4]
    assert ls.mode() == [STACK] * 3


def test_tx_leave_done_waits_for_each_ring_to_drain() -> None:
    """TX, the RFC: after close, a ring whose netmap buffers the NIC has completed and
    txeof has cleaned goes back to normal mode; one with netmap buffers still in flight
    stays leaving (the model's leave_done per ring)."""
    ls = Lockstep(SwitchTxRings(2, 4, "rfc"), tx.init)
    t: SwitchTxRings = ls.rings  # type: ignore[assignment]
    ls.step(t.regif, lambda q, s: tx.regif_rfc(s))
    ls.step(lambda: t.user_send(2), lambda q, s: tx.user_send(s, 2))
    ls.step(t.unregif, lambda q, s: tx.unregif_rfc(s))
    assert [(s.mode, s.flight_n) for s in ls.models] == [(LEAVING, 2), (LEAVING, 2)]
    ls.step(t.leave_done, lambda q, s: tx.leave_done(s))
    assert ls.mode() == [LEAVING, LEAVING]
    ls.step(lambda: t.complete([2, 1]), lambda q, s: tx.complete(s, [2, 1][q], [2, 1][q]))
    ls.step(t.cleanup, lambda q, s: tx.cleanup(s))
    ls.step(t.leave_done, lambda q, s: tx.leave_done(s))
    assert ls.mode() == [STACK, LEAVING]
    ls.step(lambda: t.complete(1), lambda q, s: tx.complete(s, 1, 1))
    ls.step(t.cleanup, lambda q, s: tx.cleanup(s))
    ls.step(t.leave_done, lambda q, s: tx.leave_done(s))
    assert ls.mode() == [STACK, STACK] and NETMAP not in ls.mode()


def test_masks_of_zeros_and_ones_select_rings_like_booleans() -> None:
    """A ring mask given as 0/1 integers selects the rings a boolean mask would (it is
    not read as a list of ring ids): classic rings 1 and 2 come back up, ring 0 stays
    down (the model's link_up on the masked rings)."""
    ls = Lockstep(SwitchRxRings(3, 4, "classic"), sw.init)
    r: SwitchRxRings = ls.rings  # type: ignore[assignment]
    ls.step(r.regif, lambda q, s: sw.regif_classic(s))
    mask = [0, 1, 1]
    ls.step(lambda: r.link_up(mask), lambda q, s: sw.link_up(s) if mask[q] else None)
    assert r.link.tolist() == [0, 1, 1]


def test_bad_ring_parameters_and_counts_are_refused_with_what_was_wrong() -> None:
    """The switching rings refuse an unknown strategy, no ring, a ring of fewer than two
    descriptors and a negative count, saying which value was wrong."""
    def refused(message: str):  # type: ignore[no-untyped-def]
        return pytest.raises(ValueError, match=f"^{re.escape(message)}$")

    with refused("strategy 'lazy': choose one of ('classic', 'rfc')"):
        SwitchRxRings(1, 4, "lazy")
    with refused("need queues >= 1 and n >= 2, got queues=0, n=4"):
        SwitchTxRings(0, 4, "rfc")
    with refused("need queues >= 1 and n >= 2, got queues=2, n=1"):
        SwitchRxRings(2, 1, "classic")
    t = SwitchTxRings(2, 4, "classic")
    with refused("counts must be >= 0, got [1, -1]"):
        t.stack_xmit([1, -1])
    assert t.abstract(0) == tx.init(4)  # nothing was sent


def test_the_netmap_allocator_catches_double_and_foreign_frees() -> None:
    """The switch's netmap buffer allocator hands out each of its ``capacity`` buffers
    once: freeing one returns it (a single buffer too), and a buffer freed twice, never
    handed out, or given twice in one call is refused, with nothing changed; asking for
    more than it holds is a MemoryError."""
    pool = NetmapPool(4)
    got = pool.alloc(3)
    assert sorted(got.tolist()) == [0, 1, 2] and pool.free_count == 1
    pool.free(got[:1])
    assert pool.free_count == 2 and int(got[0]) in pool.free_ids().tolist()
    message = "netmap allocator: a buffer freed twice or never allocated"
    for bad in (got[:1], np.array([3]), np.array([1, 1])):
        with pytest.raises(BufferLeakError, match=f"^{message}$"):
            pool.free(bad)
    assert pool.free_count == 2 and pool.live.tolist() == [False, True, True, False]
    with pytest.raises(MemoryError, match=r"^netmap allocator: 3 buffers wanted, 2 free$"):
        pool.alloc(3)
    assert repr(pool) == "NetmapPool(capacity=4, free=2)"


def test_the_mbuf_pool_grows_past_its_first_thousand_ids() -> None:
    """Stack mbufs get fresh ids for ever: past the initial 1024 live bits the pool grows
    and still knows which ids are live (a double free is still caught)."""
    mbufs = MbufPool()
    first = mbufs.alloc(1000)
    more = mbufs.alloc(100)
    last = mbufs.alloc(2000)
    assert np.array_equal(np.concatenate([first, more, last]), np.arange(3100))
    assert np.flatnonzero(mbufs.live).tolist() == list(range(3100))
    mbufs.free(first[:10])
    mbufs.free(last[-1:])
    with pytest.raises(BufferLeakError, match=r"^mbuf freed twice or never allocated$"):
        mbufs.free(first[5:6])
    assert mbufs.live.sum() == 3100 - 11 and not mbufs.live[3099]
    assert repr(mbufs) == "MbufPool(allocated=3100, freed=11)"


def test_an_empty_frame_log_is_an_empty_array_of_frame_ids() -> None:
    """Frame ids are integers (they index and sort as such) also when a log is empty."""
    empty = FrameLog.cat([])
    assert empty.shape == (0,) and empty.dtype == np.int64
    ids = np.concatenate([empty, FrameLog.cat([np.array([2, 0, 1])])])
    assert ids.dtype == np.int64 and np.sort(ids).tolist() == [0, 1, 2]
