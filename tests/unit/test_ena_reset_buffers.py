"""A reset with buffers on every ring, checked against model/ena_reset_buffers.py: the
adapter's ena_destroy_device and ena_restore_device must leave the buffers where the
model's transitions put them (:mod:`support.ena_buffers_lockstep`) -- in mbuf mode; in
netmap mode with TX packets in flight, where as shipped the model's destroy loses them
(ENA-BUF-NETMAP) and the implementation loses exactly those; and in netmap mode with
received RX slots the user has not read, whose buffers the restore's fill posts
(ENA-BUF-NM-USER), after which the next completion overwrites the one slot left with a
buffer."""

from __future__ import annotations

import numpy as np
import pytest
from support import ena_buffers_lockstep as buffers
from support.ena_adapter_rig import adapter_rig
from support.ena_netmap_rig import put_frames, take_packets

from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena_defs.regs import ResetReason


def _reset(rig) -> list[str]:  # type: ignore[no-untyped-def]
    """A reset requested and run, every destroy and restore checked; what was checked."""
    seen: list[str] = []
    buffers.watch(rig.adapter, seen.append)
    rig.adapter.reset.trigger(ResetReason.MISS_TX_CMPL)
    rig.adapter.reset_task()
    return seen


@pytest.mark.parametrize("policy", list(Policy))
def test_a_reset_with_mbufs_in_flight(policy: Policy) -> None:
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy))
    drv = rig.adapter.driver
    assert drv is not None
    drv.transmit(rig.frames(12))  # mapped, not completed: the device has not run
    assert drv.in_flight() > 0 and int(drv.rx.posted.sum()) > 0
    assert _reset(rig) == ["destroy", "restore rc=0"]


@pytest.mark.parametrize("policy", list(Policy))
def test_a_reset_with_netmap_tx_in_flight(policy: Policy) -> None:
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy))
    an = AdapterNetmap(rig.adapter)
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    put_frames(an.port, [[b"k" * 80]] * 6, q=0)
    an.port.txsync(0)  # the device has not completed them
    assert int(an.rings.tx_sockets[0].sum()) == 6
    lost = ", ENA-BUF-NETMAP broken" if policy is Policy.SHIPPED else ""
    assert _reset(rig) == ["destroy" + lost, "restore rc=0"]
    slots = int((an.rings.tx.slot_buf_idx[0] != 0).sum())
    assert slots == an.rings.num_slots - (6 if policy is Policy.SHIPPED else 0)


@pytest.mark.parametrize("policy", list(Policy))
def test_a_reset_with_rx_slots_the_user_holds(policy: Policy) -> None:
    """The user reads nothing: after one exchange it holds every RX slot but the gap.  As
    shipped the restore's fill posts their buffers (the user finds buf_idx 0 in slots it
    has not read) and the next completion lands on the one slot still holding a buffer:
    a netmap buffer is gone.  Hardened the fill posts only released slots -- none here --
    so the user reads every packet it held, and once it releases them the refill posts
    their buffers and traffic is received again, nothing lost."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy), nvec=2, up=False)
    ad = rig.adapter
    ad.requested_tx_ring_size = ad.requested_rx_ring_size = 256
    assert ad.up() == 0
    an = AdapterNetmap(ad)
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    port, rings, kr = an.port, an.rings, an.rings.rx
    n = rings.num_slots

    def exchange(frames: int) -> None:
        put_frames(port, [[b"r" * 100]] * frames, q=0)
        port.txsync(0)
        for _ in range(5):
            rig.dev.step()
            ad.handle_interrupts()
            port.txsync(0)
            port.rxsync(0)

    def held_by_user() -> tuple[int, int]:
        k = (int(kr.hwtail[0]) - int(kr.rhead[0])) % n
        slots = (int(kr.rhead[0]) + np.arange(k)) % n
        return k, int((kr.slot_buf_idx[0, slots] == 0).sum())

    for _ in range(3):
        exchange(100)
    assert held_by_user() == (n - 1, 0)
    everything = rings.mem.nbufs - 2
    if policy is Policy.SHIPPED:
        assert _reset(rig) == ["destroy", "restore rc=0, ENA-BUF-NM-USER broken"]
        assert held_by_user() == (n - 1, n - 1)  # every slot the user holds lost its buffer
        assert rings.buffers_held().size == everything
        exchange(1)
        assert rings.buffers_held().size == everything - 1
        return
    assert _reset(rig) == ["destroy", "restore rc=0"]
    assert held_by_user() == (n - 1, 0)
    assert int((rings.rx_buf[0] != 0).sum()) == 0  # nothing released, nothing posted
    exchange(1)  # dropped by the device: no buffer posted
    assert rings.buffers_held().size == everything and held_by_user() == (n - 1, 0)
    assert len(take_packets(port, q=0)) == n - 1
    port.rxsync(0)  # the release reaches the kernel: the refill posts the slots
    assert int((rings.rx_buf[0] != 0).sum()) == n - 1
    exchange(10)
    assert len(take_packets(port, q=0)) == 10
    assert rings.buffers_held().size == everything
