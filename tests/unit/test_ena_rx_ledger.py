"""RX: every frame on the wire is delivered exactly once, or dropped with a counted reason
(tests/support/ena_judge.py: RxLedger), after every step, for each RX fault knob, from
the C's start and from just before the u16 wrap.

The device counts its own drops (``rx_no_queue``, ``rx_no_buffer``); the driver loses a
frame only in an ena_rx_cleanup call that stops with a reset reason -- ena_com_rx_pkt's
malformed / too-many-descriptors / bad req_id returns, or ena_rx_mbuf finding no buffer
(ena_datapath.c, ena_rx_cleanup) -- and then at most the one packet it stopped on.
"""

from __future__ import annotations

import numpy as np
import pytest
from support.ena_boundary import seed
from support.ena_judge import RxLedger, violations
from support.ena_rig import frames, rig

from impl.device import Faults
from impl.ena_defs.regs import ResetReason

RX_FAULTS = [("", None), ("rx_first_not_first", ResetReason.RX_DESCRIPTOR_MALFORMED),
             ("rx_too_many_descs", ResetReason.TOO_MANY_RX_DESCS),
             ("rx_req_id_invalid", ResetReason.INV_RX_REQ_ID),
             ("cdesc_mbz", None)]


@pytest.mark.parametrize("at_wrap", [False, True])
@pytest.mark.parametrize(("knob", "reason"), RX_FAULTS)
def test_every_frame_on_the_wire_is_accounted_for(knob: str, reason: ResetReason | None,
                                                  at_wrap: bool) -> None:
    """Bursts larger than the RX ring (so the device runs out of buffers) looped back;
    after every step the ledger adds up and every model invariant holds.  With a fault,
    the reset it causes is the C's and the frames the driver lost are at most one per
    cleanup call that stopped on it."""
    faults = Faults(**{knob: 0.2}) if knob else None
    start = seed("u16-wrap").start if at_wrap else None
    bus, dev, drv = rig(False, nq=2, faults=faults, window=8, seed=11, start=start)
    ledger = RxLedger(dev)
    rng = np.random.default_rng(11)
    for _ in range(8):
        b = frames(bus, rng, 300)
        drv.transmit(b, flowid=rng.integers(0, 1000, 300), hashtype=np.ones(300))
        for _ in range(2):
            dev.step()
            ledger.record(drv.handle_interrupts())
            assert ledger.problems(drv, dev) == []
            assert violations(drv, dev) == []
    assert ledger.wire.count > 0 and ledger.delivered.total() > 0
    assert dev.stats.rx_no_buffer > 0  # a burst of 300 frames finds 255 buffers
    if knob == "":
        assert not drv.reset.triggered and ledger.discarded(drv, dev) == 0
    else:
        assert drv.reset.triggered and ledger.failed_calls >= 1
        # these runs do lose a packet there (the ledger bounds it by the failed calls)
        assert ledger.discarded(drv, dev) >= 1
        assert reason is None or drv.reset.reason == reason


@pytest.mark.parametrize(("knob", "reason"), [k for k in RX_FAULTS if k[1] is not None])
def test_a_cleanup_that_stops_with_a_reset_leaves_next_to_clean(
        knob: str, reason: ResetReason) -> None:
    """ena_rx_cleanup keeps ``next_to_clean`` in a local and stores it after its loop; the
    error path (ena_com_rx_pkt failing, the reset triggered) returns before the store, so
    a call that stops on a fault leaves ``next_to_clean`` where the call found it."""
    bus, dev, drv = rig(False, nq=1, faults=Faults(**{knob: 0.5}), window=8, seed=3)
    rng = np.random.default_rng(3)
    cleanup = drv.rx.cleanup
    stopped: list[tuple[int, int, int]] = []

    def watched(queues: np.ndarray, cdesc_mbz: bool, refill: bool = True):  # type: ignore[no-untyped-def]
        before = drv.rx.next_to_clean.copy()
        out = cleanup(queues, cdesc_mbz, refill)
        q = np.asarray(queues)[out.reasons != 0]
        stopped.extend((int(r), int(before[i]), int(drv.rx.next_to_clean[i]))
                       for i, r in zip(q, out.reasons[out.reasons != 0], strict=True))
        return out

    drv.rx.cleanup = watched  # type: ignore[method-assign]
    for _ in range(4):
        b = frames(bus, rng, 100)
        drv.transmit(b, flowid=rng.integers(0, 1000, 100), hashtype=np.ones(100))
        for _ in range(2):
            dev.step()
            drv.handle_interrupts()
    assert stopped, f"{knob} never stopped a cleanup"
    assert all(r == reason and a == b for r, a, b in stopped), stopped
