"""The 2015 RFC's way into and out of netmap mode on a whole ENA adapter
(:mod:`impl.ena.nm_rfc`): the stack's packets in flight and its posted buffers survive the
switch both ways, byte for byte, with the copies counted, every netmap buffer in one place,
and the registration's memory returned once the device has handed its netmap buffers back.
Beside it, the classic ``ena_netmap_reg`` on the same scenario loses what the RFC keeps."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_adapter_rig import SECOND, AdapterRig, adapter_rig, cq_depth_limit
from support.ena_netmap_rig import put_frames, room, take_packets

from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena.rxq import RxResult
from impl.packets import PacketBatch
from ringspec.ena_netmap_run import every_buffer_once, stack_frames

SHIPPED, HARDENED = Policy.SHIPPED, Policy.HARDENED


def rfc_adapter(policy: Policy, strategy: str = "rfc",
                rx_buf_size: int = 2048) -> tuple[AdapterRig, AdapterNetmap, list[bytes]]:
    """An adapter with netmap attached and a list that collects what the stack
    receives."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy, rx_buf_size=rx_buf_size))
    an = AdapterNetmap(rig.adapter, strategy=strategy)
    stack: list[bytes] = []

    def received(r: RxResult) -> None:
        stack.extend(stack_frames(r))
    rig.adapter.on_stack_rx = received
    return rig, an, stack


def frame_bytes(batch: PacketBatch) -> list[bytes]:
    return [batch.frame(i) for i in range(len(batch))]


def netmap_reads(an: AdapterNetmap) -> list[bytes]:
    assert an.port is not None
    an.port.rxsync()
    return [p for q in range(an.port.rx.count) for p in take_packets(an.port, q)]


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_entering_keeps_the_stacks_packets(policy: Policy) -> None:
    """Stack packets sent but not completed, and frames on their way into buffers the
    stack posted: after the switch the first complete (freeing their mbufs, counted as
    sent) and the second reach the netmap user, copied out of the mbufs."""
    rig, an, stack = rfc_adapter(policy)
    ad = rig.adapter
    assert ad.driver is not None
    batch = rig.frames(6, seed=1)
    ad.driver.transmit(batch)  # on the wire (looped back), completions not yet written
    in_flight = ad.driver.in_flight()
    assert in_flight == 6
    resets = rig.dev.mgmt_stats.resets
    assert an.reg(True) == 0 and an.native and ad.flags.dev_up
    assert rig.dev.mgmt_stats.resets == resets  # no ena_down: no device reset
    assert an.port is not None and an.rings is not None
    n = an.rings.num_slots
    assert sum(room(an.port, q) for q in range(2)) == 2 * (n - 1) - in_flight
    assert every_buffer_once(an.port)
    rig.dev.step()
    ad.handle_interrupts()
    an.port.txsync()
    assert ad.packets().completed == 6 and ad.driver.in_flight() == 0
    assert sum(room(an.port, q) for q in range(2)) == 2 * (n - 1)
    got = netmap_reads(an)
    assert sorted(got) == sorted(frame_bytes(batch))
    assert int(an.rings.copies.sum()) == 6 and not stack
    assert every_buffer_once(an.port)
    ledger = ad.packets()
    assert ledger.freed_at_down == 0 and ledger.dropped == 0


def test_after_one_pass_nothing_is_copied() -> None:
    """Once the refill has posted netmap buffers all round, packets land in them: the
    copies stop at the number of mbufs posted at the switch."""
    rig, an, _ = rfc_adapter(HARDENED)
    ad = rig.adapter
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    n = an.rings.num_slots
    sent: list[bytes] = []
    got: list[bytes] = []
    for i in range(3 * n // 32):
        frames = [bytes([i % 251, k]) * 40 for k in range(32)]
        put_frames(an.port, [[f] for f in frames], q=0)
        sent += frames
        an.port.txsync()
        rig.dev.step()
        ad.handle_interrupts()
        an.port.txsync()
        got += netmap_reads(an)
    assert sorted(got) == sorted(sent)
    copies = int(an.rings.copies.sum())
    assert 0 < copies <= 2 * (n - 1)  # at most the mbufs posted at the switch
    assert every_buffer_once(an.port)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_leaving_waits_for_the_devices_netmap_buffers(policy: Policy) -> None:
    """The user closes with TX packets in flight and netmap buffers posted: the ring
    leaves while the device hands them back -- frames landing in netmap buffers go up
    the stack (copied), TX completions free their buffers -- and the memory is released
    after the last; then the stack sends again, its queued packets first."""
    rig, an, stack = rfc_adapter(policy)
    ad = rig.adapter
    queued = rig.frames(3, seed=2)
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    frames = [bytes([7, k]) * 50 for k in range(5)]
    put_frames(an.port, [[f] for f in frames], q=0)
    an.port.txsync()
    assert an.reg(False) == 0 and not an.native and an.port is None
    assert an.leaving and an.rings is not None  # the device still holds netmap buffers
    assert rig.blocks() == blocks + 1
    assert ad.driver is not None
    ad.driver.transmit(queued)  # held: netmap still owns the TX queue
    assert ad.driver.queued() == 3 and ad.driver.in_flight() == 0
    rig.dev.step()
    ad.handle_interrupts()
    assert sorted(stack) == sorted(frames)
    assert not an.leaving and an.rings is None
    assert rig.blocks() == blocks  # the registration's memory is back
    assert ad.driver.queued() == 0 and ad.driver.in_flight() == 3  # sent on release
    rig.dev.step()
    ad.handle_interrupts()
    assert sorted(stack) == sorted(frames + frame_bytes(queued))
    ledger = ad.packets()
    assert ledger.completed == 3 and ledger.freed_at_down == 0
    assert not ad.reset.triggered and not ad.stats.resets
    assert an.reg(True) == 0 and an.native  # and a new registration works


def test_leaving_with_nothing_in_the_device_is_immediate() -> None:
    rig, an, _ = rfc_adapter(HARDENED)
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.rings is not None
    # nothing sent; the RX ids are posted with netmap buffers only after a refill, so
    # the posted mbufs' parked buffers are all the device "holds" and they go at once
    assert an.reg(False) == 0
    assert not an.leaving and rig.blocks() == blocks


def test_a_reset_while_leaving_frees_everything() -> None:
    """ena_down while leaving: the queues are destroyed, so every netmap buffer the
    device held is free and the registration ends; the restore comes up in mbuf mode."""
    rig, an, _ = rfc_adapter(HARDENED)
    ad = rig.adapter
    batch = rig.frames(4, seed=3)
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.port is not None
    put_frames(an.port, [[bytes([9]) * 64]], q=0)
    an.port.txsync()
    for _ in range(4):  # refills post netmap buffers
        rig.dev.step()
        ad.handle_interrupts()
        an.port.txsync()
        netmap_reads(an)
    assert an.reg(False) == 0 and an.leaving
    ad.reset.trigger(ad.reset.reason.MISS_TX_CMPL)
    ad.advance(2 * SECOND)
    assert ad.stats.resets and not an.leaving and an.rings is None
    assert rig.blocks() == blocks and ad.flags.dev_up
    rig.traffic(batch, 2)
    assert ad.packets().completed >= 4


def test_refusals() -> None:
    """EINVAL when a stack RX buffer is larger than a netmap buffer (a packet could not
    be copied); EBUSY while the previous registration is still leaving."""
    rig, an, _ = rfc_adapter(HARDENED, rx_buf_size=4096)
    blocks = rig.blocks()
    assert an.reg(True) == errno.EINVAL and not an.native and rig.blocks() == blocks
    rig, an, _ = rfc_adapter(HARDENED)
    assert an.reg(True) == 0 and an.port is not None
    put_frames(an.port, [[bytes([1]) * 64]], q=0)
    an.port.txsync()
    assert an.reg(False) == 0 and an.leaving
    assert an.reg(True) == errno.EBUSY and an.leaving and not an.native
    with pytest.raises(ValueError, match="strategy"):
        AdapterNetmap(rig.adapter, strategy="fast")


def test_classic_loses_what_the_rfc_keeps() -> None:
    """The same switch the classic way: ena_down frees the stack's packets in flight
    (lost to the sender) and the frames already received into the stack's buffers are
    delivered to no one."""
    outcome = {}
    for strategy in ("classic", "rfc"):
        rig, an, stack = rfc_adapter(HARDENED, strategy)
        ad = rig.adapter
        assert ad.driver is not None
        batch = rig.frames(6, seed=1)
        ad.driver.transmit(batch)
        assert rig.dev.rx() == 6  # in the RX ring, no completion written yet
        assert an.reg(True) == 0
        rig.dev.step()
        ad.handle_interrupts()
        assert an.port is not None
        an.port.txsync()
        outcome[strategy] = (ad.packets().freed_at_down, len(netmap_reads(an) + stack))
    assert outcome["rfc"] == (0, 6)
    freed, delivered = outcome["classic"]
    assert freed == 6 and delivered == 0


def test_rx_buffers_are_read_where_they_were_posted() -> None:
    """The mbuf path reads a packet from the address its id was posted with (the device
    wrote there): after a refill with another buffer the new address is used."""
    rig, _, _ = rfc_adapter(HARDENED)
    drv = rig.adapter.driver
    assert drv is not None
    posted = drv.rx.posted
    assert np.array_equal(drv.rx.dma_addr[posted], drv.rx.buf_addr[posted])


def test_rings_backed_off_below_the_netmap_rings(monkeypatch: pytest.MonkeyPatch) -> None:
    """netmap sizes its rings from the requested ring size; when host memory runs out,
    ``ena_up`` backs the IO rings off below it.  Classic: ena_up in netmap mode refuses
    the mismatch (ENOMEM) and ena_netmap_reg's failure path brings the interface back in
    mbuf mode.  RFC, on rings already backed off: ENOMEM and nothing changes."""
    cq_depth_limit(monkeypatch, 256)
    for strategy in ("classic", "rfc"):
        rig, an, _ = rfc_adapter(HARDENED, strategy)
        ad = rig.adapter
        ad.requested_tx_ring_size = ad.requested_rx_ring_size = 512
        blocks = rig.blocks()
        ad.down()
        assert ad.up() == 0 and ad.tx_ring_size == 256  # backed off
        resets = rig.dev.mgmt_stats.resets
        rc = an.reg(True)
        assert not an.native and an.rings is None and ad.flags.dev_up
        assert rig.blocks() == blocks
        if strategy == "rfc":
            assert rc == errno.ENOMEM and rig.dev.mgmt_stats.resets == resets
        else:  # ena_up failed: destroy (a device reset) and restore, in mbuf mode
            assert rc == 0 and rig.dev.mgmt_stats.resets > resets
        batch = rig.frames(4, seed=5)
        rig.traffic(batch, 2)
        assert ad.packets().completed >= 4
