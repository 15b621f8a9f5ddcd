"""Entering and leaving netmap mode on a whole ENA adapter (ena_netmap_reg): traffic in
netmap mode through the management plane's interrupts and timer, the host memory of the
registration returned when it ends, and the two findings of the mode switch -- a pending
reset dropped (ENA-NM-RESET-KEPT) and the buffers of TX packets in flight lost by
``ena_down`` -- as shipped and hardened."""

from __future__ import annotations

import numpy as np
import pytest
from support.ena_adapter_rig import SECOND, adapter_rig
from support.ena_netmap_rig import put_frames, take_packets

from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena_defs.regs import ResetReason

SHIPPED, HARDENED = Policy.SHIPPED, Policy.HARDENED


def netmap_adapter(policy: Policy):  # type: ignore[no-untyped-def]
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy))
    return rig, AdapterNetmap(rig.adapter)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_netmap_mode_carries_traffic_and_leaves_nothing_behind(policy: Policy) -> None:
    rig, an = netmap_adapter(policy)
    ad = rig.adapter
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.native and an.port is not None
    nm = an.port
    sent = [bytes([i]) * (60 + i) for i in range(20)]
    back: list[bytes] = []
    for i in range(0, 20, 5):
        put_frames(nm, [[f] for f in sent[i:i + 5]], q=0)
        nm.txsync()
        rig.dev.step()
        ad.handle_interrupts()  # netmap mode: wake the rings, no mbuf cleanup
        nm.txsync()
        nm.rxsync()
        back += take_packets(nm, 0) + take_packets(nm, 1)  # RSS picks the RX ring
        ad.advance(SECOND // 2)
    assert sorted(back) == sorted(sent)
    assert not ad.reset.triggered and not ad.stats.resets  # keep-alives kept coming
    assert an.reg(False) == 0 and not an.native and an.port is None
    assert rig.blocks() == blocks  # the netmap memory went back with the registration
    batch = rig.frames(8)
    rig.traffic(batch, 3)  # and mbuf mode works again
    assert ad.packets().completed >= 8


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_a_mode_switch_and_a_pending_reset(policy: Policy) -> None:
    """As shipped ena_netmap_reg clears ENA_FLAG_TRIGGER_RESET first: ena_down skips the
    device reset and the reset task never runs -- the requested reset is gone, its reason
    left behind.  Hardened the flag stays: ena_down resets the device with the pending
    reason; ena_up on the reset device fails and the failure path destroys and restores
    the adapter (DRIVER_INVALID_STATE), which comes back up."""
    rig, an = netmap_adapter(policy)
    ad = rig.adapter
    resets = rig.dev.mgmt_stats.resets
    ad.reset.trigger(ResetReason.MISS_TX_CMPL)
    rc = an.reg(True)
    assert rc == 0 and ad.flags.dev_up and ad.flags.device_running
    if policy is SHIPPED:
        assert rig.dev.mgmt_stats.resets == resets
        assert not ad.reset.triggered and ad.reset.reason == ResetReason.MISS_TX_CMPL
        assert an.native
        ad.advance(3 * SECOND)
        assert rig.dev.mgmt_stats.resets == resets and not ad.stats.resets
    else:
        assert rig.dev.mgmt_stats.resets >= resets + 2  # ena_down's, then the destroy's
        assert not ad.reset.triggered and ad.reset.reason == ResetReason.NORMAL
        assert not an.native and ad.stats.failed_restores == 0  # back up in mbuf mode


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_tx_buffers_in_flight_at_ena_down(policy: Policy) -> None:
    """ena_free_tx_resources zeroes socket_buf_idx of the packets still in flight: as
    shipped their buffers are lost (their slots were zeroed at send); hardened they go
    back to their slots."""
    rig, an = netmap_adapter(policy)
    ad = rig.adapter
    assert an.reg(True) == 0 and an.rings is not None
    rings = an.rings
    put_frames(an.port, [[b"k" * 80]] * 6, q=0)
    an.port.txsync(0)  # the device has not completed them
    assert int((rings.tx_sockets[0] > 0).sum()) == 6
    ad.down()
    held = rings.buffers_held()
    everything = np.arange(2, rings.mem.nbufs)
    if policy is SHIPPED:
        assert held.size == everything.size - 6
        assert int((rings.tx.slot_buf_idx[0, :6] == 0).sum()) == 6
    else:
        assert held.tolist() == everything.tolist()
    assert ad.up() == 0  # netmap_reset hands every TX slot back to the user
    assert int(rings.tx.hwtail[0]) == (int(rings.tx.rhead[0]) - 1) % rings.num_slots
