"""Rule sequences Hypothesis found where the harness's own expectation was wrong, kept so
the expectation stays right: each replays the steps on the machine, whose rules check the
implementation after every step (frames on the wire, slots, buffers)."""

from __future__ import annotations

import pytest

from ringspec.stateful import WellBehavedRings


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_forwarding_a_slot_a_reinit_showed_again_sends_what_its_buffer_holds() -> None:
    """Zero-copy forward, then TX and RX reinit: the RX slots are the user's again but hold
    the TX buffers of that forward. Forwarding them again sends those buffers' bytes (not
    the frames the NIC once delivered into the slots)."""
    m = WellBehavedRings()
    m.setup(n=3, rings=1, start="fresh", rotate=1)
    m.device_deliver(pick=0, ring=0)
    m.device_deliver(pick=0, ring=0)
    m.rxsync(refill=[0, 0, 0], rings=[0])
    m.user_forward(pick=1, rx_ring=0, tx_ring=0)
    m.ring_reinit(kind="tx", ring=0)
    m.ring_reinit(kind="rx", ring=0)
    m.user_forward(pick=1, rx_ring=0, tx_ring=0)
    m.txsync(rings=[0], sent=[2, 0, 0])
    m.device_complete(pick=1, ring=0)  # asserts the frames on the wire
    assert m.on_wire[0] == 2
    assert m.queued[0] == []
    m.teardown()
