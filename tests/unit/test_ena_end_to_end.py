"""Driver and device together over the bus, frames looped back on the wire.

Every frame the driver accepts is delivered back exactly once, byte for byte, or is
dropped with a counted reason; every TX packet completes exactly once (completions out of
order within the device's window); host mode and LLQ (with a burst limit), several
queues. Each device fault knob makes the driver trigger the reset the C triggers."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from support.ena_rig import frames, rig

from impl.device import Faults
from impl.ena_defs.regs import ResetReason


@pytest.mark.parametrize("llq", [False, True])
def test_every_frame_comes_back_exactly_once(llq: bool) -> None:
    bus, dev, drv = rig(llq)
    rng = np.random.default_rng(7)
    sent, back, done = Counter(), Counter(), []
    for _ in range(6):
        b = frames(bus, rng, int(rng.integers(1, 300)))
        r = drv.transmit(b, flowid=rng.integers(0, 100, len(b)), hashtype=np.ones(len(b)))
        ok = r.error == 0
        sent.update(f for f, k in zip(b.frames(), ok, strict=True) if k)
        for _ in range(4):
            dev.step()
            c = drv.handle_interrupts()
            done += c.completed.tolist()
            for x in c.rx:
                back.update(x.payload[o:o + n].tobytes()
                            for o, n in zip(x.offsets.tolist(), x.lengths.tolist(),
                                            strict=True))
            drv.start_xmit()  # the deferred start task after a wake-up
    assert not drv.reset.triggered
    assert len(done) == len(set(done))  # completed at most once
    # what is still queued or in flight is sent later; everything sent came back once
    while drv.queued() or drv.in_flight():
        x = drv.start_xmit()
        dev.step()
        c = drv.handle_interrupts()
        done += c.completed.tolist()
        for y in c.rx:
            back.update(y.payload[o:o + n].tobytes()
                        for o, n in zip(y.offsets.tolist(), y.lengths.tolist(), strict=True))
        assert x is not None
    assert len(done) == len(set(done)) == drv.accounting.completed
    assert drv.unaccounted() == 0
    # every completed packet reached the wire and came back, unless the device had no RX
    # buffer for it (its own counted drop)
    assert dev.stats.tx_pkts == drv.accounting.completed
    assert sum(back.values()) + dev.stats.rx_no_buffer == drv.accounting.completed
    assert back <= sent and sum(sent.values()) == drv.accounting.completed
    assert dev.stats.llq_burst_overrun == 0 and dev.stats.tx_malformed == 0


@pytest.mark.parametrize("knob,loop,reason", [
    ("tx_req_id_oob", False, ResetReason.INV_TX_REQ_ID),
    ("tx_req_id_dup", False, ResetReason.INV_TX_REQ_ID),
    ("tx_req_id_stale", False, ResetReason.INV_TX_REQ_ID),
    ("cdesc_mbz", False, ResetReason.TX_DESCRIPTOR_MALFORMED),
    # MBZ on RX completions too: ena_cleanup cleans RX first, so RX's reason wins
    ("cdesc_mbz", True, ResetReason.RX_DESCRIPTOR_MALFORMED),
    ("rx_first_not_first", True, ResetReason.RX_DESCRIPTOR_MALFORMED),
    ("rx_too_many_descs", True, ResetReason.TOO_MANY_RX_DESCS),
    ("rx_req_id_invalid", True, ResetReason.INV_RX_REQ_ID),
])
def test_each_device_fault_triggers_the_c_reset_reason(knob: str, loop: bool,
                                                       reason: ResetReason) -> None:
    bus, dev, drv = rig(False, nq=1, faults=Faults(**{knob: 1.0}), window=1, loop=loop)
    rng = np.random.default_rng(3)
    for _ in range(4):
        drv.transmit(frames(bus, rng, 40))
        dev.step()
        drv.handle_interrupts()
        if drv.reset.triggered:
            break
    assert drv.reset.reason == reason
    # a stopped datapath: no further work is taken
    before = drv.tx.tail.copy()
    drv.transmit(frames(bus, rng, 5))
    assert np.array_equal(before, drv.tx.tail)


def test_lost_completions_leave_packets_in_flight_not_lost() -> None:
    bus, dev, drv = rig(False, nq=1, faults=Faults(tx_comp_lost=0.5), window=1)
    rng = np.random.default_rng(5)
    drv.transmit(frames(bus, rng, 50))
    dev.step()
    drv.handle_interrupts()
    assert not drv.reset.triggered
    assert 0 < drv.in_flight() < 50
    assert drv.unaccounted() == 0
