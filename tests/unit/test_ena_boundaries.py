"""Driver and device started at boundary states z3 chose from the model's invariants
(tests/support/ena_boundary.py): a u16 counter a few entries before 65535 -> 0, a pass of
phase 0 about to end, a stopped TX queue whose entries in flight straddle the wrap.

The queue start (:class:`impl.ena.start.QueueStart`, ``DeviceConfig.counter_base``)
must read back, through :mod:`impl.ena.abstract`, as exactly z3's states (SQ, CQ with its
memory's phase bits, free-id lists); after ``ena_up`` posts its RX buffers the RX side
must be z3's state stepped by the model's own transitions.  Traffic from there crosses
the boundary -- every counter wraps or every phase flips, as the test asserts -- and
every queue satisfies every model invariant after every step, and every packet is
accounted for.  (ena_com_create_io_queue, ena_com.c, starts at 0; a long run is what
reaches these states in the C.)
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pytest
from support import ena_lockstep as lockstep
from support.ena_boundary import BOUNDARIES, seed
from support.ena_judge import Crossings, violations
from support.ena_rig import frames, rig

from impl.ena import abstract
from impl.ena.start import QueueStart
from model import ena_queue, ena_reqid

#: fields of a CQ state that are not ghosts (the ghosts of abstract's states are witnesses)
CQ_SEEN = ("depth_log2", "head", "phase", "dev_tail", "dev_phase", "mem_phase")


def _run(machine: object, state: object, transition: str, times: int) -> object:
    """``state`` after ``times`` steps of the model's ``transition`` (each enabled)."""
    fn = machine.transitions[transition].fn  # type: ignore[attr-defined]
    for _ in range(times):
        step = fn(state)
        assert step.guard, (transition, state)
        state = step.post
    return state


def _seen(state: object, names: tuple[str, ...]) -> dict[str, object]:
    return {n: getattr(state, n) for n in names}


@pytest.mark.parametrize("llq", [False, True])
@pytest.mark.parametrize("name", list(BOUNDARIES))
def test_queue_start_reads_back_as_the_z3_states(name: str, llq: bool) -> None:
    """Right after ena_up, each queue is z3's state: TX SQ and CQ and free_tx_ids as
    chosen; the RX SQ and free_rx_ids are z3's after ena_refill_all_rx_bufs, i.e. the
    model's sq_produce / reqid_alloc ring_size - 1 times and one sq_doorbell."""
    s = seed(name)
    _, dev, drv = rig(llq, nq=2, start=s.start)
    posted = drv.cfg.rx_ring_size - 1
    rx_sq = _run(ena_queue.SQ, s.sq, "sq_produce", posted)
    rx_sq = ena_queue.SQ.transitions["sq_doorbell"].fn(rx_sq).post
    rx_ids = _run(ena_reqid.RX, s.rx_ids, "reqid_alloc", posted)
    for q in range(drv.cfg.num_queues):
        assert abstract.tx_sq_state(drv, dev, q) == s.sq
        assert abstract.rx_sq_state(drv, dev, q) == rx_sq
        for cq in (abstract.tx_cq_state(drv, dev, q), abstract.rx_cq_state(drv, dev, q)):
            assert _seen(cq, CQ_SEEN) == _seen(s.cq, CQ_SEEN)
        assert (ena_reqid.TX.driver_view(abstract.tx_reqid_state(drv, q))
                == ena_reqid.TX.driver_view(s.tx_ids))
        assert (ena_reqid.RX.driver_view(abstract.rx_reqid_state(drv, q))
                == ena_reqid.RX.driver_view(rx_ids))
    assert violations(drv, dev) == []


@pytest.mark.parametrize("llq", [False, True])
@pytest.mark.parametrize("name", list(BOUNDARIES))
def test_traffic_crosses_the_boundary_judged_by_the_model(name: str, llq: bool) -> None:
    """Traffic in both directions from the boundary start, every invariant of every queue,
    lockstep with the model's SQ and CQ transitions (tests/support/ena_lockstep.py) and
    packet accounting after every step: the TX and RX SQ tails and CQ heads all
    cross 65535 -> 0 (boundaries at the wrap; the RX SQ tail already in ena_up, which
    posts ring_size - 1 buffers) and flip their phase (every boundary)."""
    s = seed(name)
    bus, dev, drv = rig(llq, nq=2, start=s.start)
    rng = np.random.default_rng(3)
    seen = Crossings(drv)
    for _ in range(12):
        b = frames(bus, rng, int(rng.integers(100, 300)))
        flowid, hashtype = rng.integers(0, 1000, len(b)), np.ones(len(b))
        for action in (partial(drv.transmit, b, flowid=flowid, hashtype=hashtype),
                       dev.step, drv.handle_interrupts, drv.start_xmit):
            before = lockstep.read(drv, dev)
            action()
            assert lockstep.mismatches(before, lockstep.read(drv, dev)) == []
            seen.update(drv)
            assert violations(drv, dev) == [] and drv.unaccounted() == 0
    assert not drv.reset.triggered
    everything = {"tx.tail", "tx.cq_head", "rx.tail", "rx.cq_head"}
    assert seen.flipped == everything
    if name != "phase-flip":
        assert seen.wrapped == everything - {"rx.tail"}
        assert (drv.rx.tail < s.start.counter).all()  # wrapped in ena_up
    else:
        assert seen.wrapped == set()


def test_tx_queue_stops_across_the_wrap() -> None:
    """Host placement, the device sending but not completing: the TX queue fills until
    ena_xmit_mbuf stops it, and the SQ then is on z3's side of the boundary (the state
    satisfies the same model condition: every entry read, no room for a largest packet,
    the entries in flight straddling 65535 -> 0), with every invariant holding."""
    s = seed("stopped-across-wrap")
    bus, dev, drv = rig(False, nq=1, start=s.start)
    rng = np.random.default_rng(5)
    while drv.tx.running[0]:
        b = frames(bus, rng, 8)
        drv.transmit(b)
        assert violations(drv, dev) == []
    state = abstract.tx_sq_state(drv, dev, 0)
    assert BOUNDARIES["stopped-across-wrap"](state) is True, state
    assert dataclasses.replace(state, tail=0) != state  # tail moved past the base
    # completing everything resumes it, across the wrap
    dev.step()
    drv.handle_interrupts()
    assert drv.tx.running[0] and violations(drv, dev) == [] and drv.unaccounted() == 0


def test_queue_start_refuses_what_no_run_reaches() -> None:
    """A free-id list that is not a permutation of the ids, or a next_to_use outside the
    ring, is no state the C reaches (ENA-REQID-IDS / the masked index): refused."""
    depth = 256
    with pytest.raises(ValueError, match="permutation"):
        rig(False, nq=1, start=QueueStart(tx_free_ids=(0,) * depth))
    with pytest.raises(ValueError, match="slot"):
        rig(False, nq=1, start=QueueStart(rx_next=depth))
