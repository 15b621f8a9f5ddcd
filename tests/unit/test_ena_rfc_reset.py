"""The RFC's reset exit on ENA (``AdapterNetmap(adapter, strategy="rfc", rx_exit="reset")``,
:func:`impl.ena.nm_rfc.reset_rx_ring`): the close destroys and creates again, through the
admin queue, every RX queue whose ids still hold netmap buffers.  It ends inside the close
on an idle link (where waiting never ends), the device keeps no netmap buffer, every buffer
is back in the pool once, the queue then carries the stack's traffic, frames that find the
queue gone are dropped and counted, TX packets in flight complete untouched, and a failed
admin command ends in the reset the driver documents, with nothing leaked."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_adapter_rig import SECOND, AdapterRig, adapter_rig
from support.ena_netmap_rig import put_frames, take_packets
from support.frames import frame

from impl.device.mgmt_faults import MgmtFaults
from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy
from impl.ena.rss_cmds import RSS_INDIRECTION_TABLE_CONFIG
from impl.ena.rxq import RxResult
from impl.ena_defs.admin import (
    CreateCqCmd,
    CreateCqResp,
    CreateSqCmd,
    CreateSqResp,
    DestroySqCmd,
)
from impl.ena_defs.constants import AdminStatus, PlacementPolicy, SqDirection
from impl.ena_defs.layouts import RX_DESC_DTYPE
from impl.ena_defs.regs import ResetReason
from impl.packets import PacketBatch
from ringspec.ena_netmap_run import stack_frames

SHIPPED, HARDENED = Policy.SHIPPED, Policy.HARDENED
RESET_CMDS = ["DESTROY_SQ", "DESTROY_CQ", "CREATE_CQ", "CREATE_SQ"]


def reset_adapter(policy: Policy = HARDENED, rx_exit: str = "reset",
                  ) -> tuple[AdapterRig, AdapterNetmap, list[bytes]]:
    """Two queue pairs, netmap attached with the RFC, and the stack's receive list."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy))
    an = AdapterNetmap(rig.adapter, strategy="rfc", rx_exit=rx_exit)
    stack: list[bytes] = []

    def received(r: RxResult) -> None:
        stack.extend(stack_frames(r))
    rig.adapter.on_stack_rx = received
    return rig, an, stack


def udp(k: int, n: int) -> list[bytes]:
    """``n`` UDP frames whose ports differ, so RSS spreads them over the queues."""
    return [frame("10.0.0.1", "10.0.0.2", 1000 + k * 64 + i, 7, proto=17,
                  payload=bytes([k % 251, i]) * 20) for i in range(n)]


def netmap_rounds(rig: AdapterRig, an: AdapterNetmap, rounds: int) -> list[bytes]:
    """Rounds of netmap traffic looped back and read, until the refills have posted
    netmap buffers on every RX id; returns what the netmap user read."""
    ad, got = rig.adapter, []
    assert an.port is not None
    for k in range(rounds):
        put_frames(an.port, [[f] for f in udp(k, 32)], q=0)
        an.port.txsync()
        rig.dev.step()
        ad.handle_interrupts()
        an.port.txsync()
        an.port.rxsync()
        got += [p for q in range(2) for p in take_packets(an.port, q)]
    return got


def entered(policy: Policy = HARDENED, rx_exit: str = "reset"):  # type: ignore[no-untyped-def]
    """In netmap mode with netmap buffers posted on (nearly) every RX id of both queues."""
    rig, an, stack = reset_adapter(policy, rx_exit)
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.rings is not None
    n = an.rings.num_slots
    netmap_rounds(rig, an, 3 * n // 32)
    assert (an.rings.rx_buf != 0).sum(axis=1).min() > n // 2
    return rig, an, stack, blocks


def device_rx_addresses(rig: AdapterRig) -> np.ndarray:
    """The buffer address of every descriptor the device holds on its RX SQs
    (``[head, tail)`` of each)."""
    qt, mem = rig.dev.queues, rig.bus.mem
    out = []
    for sq in np.flatnonzero(qt.sq_used & (qt.sq_dir == int(SqDirection.RX))).tolist():
        d = int(qt.sq_depth[sq])
        ring = mem.array(int(qt.sq_ba[sq]), RX_DESC_DTYPE, d)
        k = (int(qt.sq_head[sq]) + np.arange((int(qt.sq_tail[sq]) - int(qt.sq_head[sq]))
                                             & 0xFFFF)) & (d - 1)
        lo = ring["buff_addr_lo"][k].astype(np.int64)
        hi = ring["buff_addr_hi"][k].astype(np.int64)
        out.append(lo | hi << 32)
    return np.concatenate(out)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_on_an_idle_link_the_reset_exit_ends_inside_the_close(policy: Policy) -> None:
    """Nothing in flight, netmap buffers posted on both RX queues: the close destroys and
    creates each RX queue (SQ before CQ, CQ before SQ), posts the stack's mbufs, and the
    registration ends before ``reg(False)`` returns -- no ena_down, no device reset, the
    link up.  Waiting instead never ends on the same idle link."""
    rig, an, _, blocks = entered(policy)
    ad = rig.adapter
    assert ad.driver is not None
    sq_before = ad.driver.sq_idx.copy()
    arena = (an.rings.base, an.rings.base + an.rings.size)  # type: ignore[union-attr]
    rings = an.rings
    assert rings is not None
    held = device_rx_addresses(rig)
    assert ((held >= arena[0]) & (held < arena[1])).sum() > rings.num_slots
    downs, resets, cmds = ad.stats.interface_down, rig.dev.mgmt_stats.resets, len(rig.commands)
    assert an.reg(False) == 0
    assert [c for c, _ in rig.commands[cmds:]] == RESET_CMDS * 2
    assert not an.leaving and an.rings is None and rig.blocks() == blocks
    assert rings.ring_resets.tolist() == [1, 1]
    assert (ad.stats.interface_down, rig.dev.mgmt_stats.resets) == (downs, resets)
    assert ad.flags.dev_up and ad.flags.link_up and not ad.reset.triggered
    assert np.array_equal(ad.driver.sq_idx, sq_before)  # same device queues again
    # the device holds ring_size - 1 stack buffers per RX queue and no netmap buffer
    held = device_rx_addresses(rig)
    assert held.size == 2 * (rings.num_slots - 1)
    assert not ((held >= arena[0]) & (held < arena[1])).any()
    drv = ad.driver
    assert np.array_equal(np.sort(held), np.sort(drv.rx.buf_addr[drv.rx.posted]))
    ad.advance(3 * SECOND)  # idle: no watchdog fires on the new queues
    assert not ad.reset.triggered and not ad.stats.total_resets
    # the same situation left by waiting: still leaving after the same idle time
    rig, an, _, _ = entered(policy, rx_exit="wait")
    assert an.reg(False) == 0 and an.leaving
    rig.adapter.advance(3 * SECOND)
    rig.adapter.handle_interrupts()
    assert an.leaving and (an.rings.rx_buf != 0).any()  # type: ignore[union-attr]


def test_only_the_rx_queues_holding_netmap_buffers_are_reset() -> None:
    """Traffic on one flow: only its RX queue's refills post netmap buffers, the other
    queue's ids still hold the stack's mbufs (their parked buffers go back at the close),
    so the close resets that one queue alone."""
    rig, an, _ = reset_adapter()
    blocks = rig.blocks()
    assert an.reg(True) == 0 and an.port is not None and an.rings is not None
    one_flow = [frame("10.0.0.1", "10.0.0.2", 1000, 7, proto=17, payload=bytes([i]) * 20)
                for i in range(32)]
    for _ in range(3 * an.rings.num_slots // 32):
        put_frames(an.port, [[f] for f in one_flow], q=0)
        an.port.txsync()
        rig.dev.step()
        rig.adapter.handle_interrupts()
        an.port.txsync()
        an.port.rxsync()
        for q in range(2):
            take_packets(an.port, q)
    rings = an.rings
    drv = rig.adapter.driver
    assert drv is not None
    with_netmap = (drv.rx.posted & (drv.rx.dma_addr != drv.rx.buf_addr)).sum(axis=1)
    assert sorted(with_netmap.tolist())[0] == 0  # one queue posted netmap buffers
    busy = int(np.argmax(with_netmap))
    cmds = len(rig.commands)
    assert an.reg(False) == 0 and an.rings is None and rig.blocks() == blocks
    assert [c for c, _ in rig.commands[cmds:]] == RESET_CMDS
    assert rings.ring_resets.tolist() == [int(q == busy) for q in range(2)]


def test_after_the_reset_the_queues_carry_the_stacks_traffic() -> None:
    """Stack mode on the new queues: every frame sent is received, byte for byte, on
    both queues, through more than one pass round each ring."""
    rig, an, stack, _ = entered()
    ad = rig.adapter
    assert an.reg(False) == 0 and an.rings is None
    assert ad.driver is not None
    n = ad.driver.cfg.rx_ring_size
    sent: list[bytes] = []
    base = rig.bus.mem.alloc(64 * 2048, 64)
    for k in range(3 * n // 64):
        frames = udp(k, 64)
        offs = base + 2048 * np.arange(64)
        for f, o in zip(frames, offs.tolist(), strict=True):
            rig.bus.mem.data[o:o + len(f)] = np.frombuffer(f, dtype=np.uint8)
        ad.driver.transmit(PacketBatch.from_arrays(
            rig.bus.mem.data, offs, np.array([len(f) for f in frames])))
        sent += frames
        rig.dev.step()
        ad.handle_interrupts()
    assert sorted(stack) == sorted(sent)
    assert rig.dev.stats.rx_no_buffer == rig.dev.stats.rx_no_queue == 0
    assert ad.driver.rx.stats.cnt.min() > n  # both queues, past a whole ring
    assert not ad.reset.triggered


def test_every_netmap_buffer_is_back_once_while_tx_still_drains() -> None:
    """The netmap user's last packets are still in flight at the close: the RX queues
    are reset at once (their buffers back in the pool, each once), the TX queues are not
    touched and the registration waits only for those completions; the packets, looped
    back, reach the stack on the new RX queues."""
    rig, an, stack, blocks = entered()
    ad = rig.adapter
    assert an.port is not None and ad.driver is not None
    last = udp(200, 5)
    put_frames(an.port, [[f] for f in last], q=0)
    an.port.txsync()
    cmds = len(rig.commands)
    rings = an.rings
    assert rings is not None
    assert an.reg(False) == 0
    assert [c for c, _ in rig.commands[cmds:]] == RESET_CMDS * 2  # RX queues only
    assert an.leaving and an.rings is rings  # the TX packets are still in flight
    assert (rings.rx_buf == 0).all() and rings.tx_sockets.sum() == 5
    held = rings.buffers_held()
    assert held.tolist() == list(range(2, rings.mem.nbufs))  # each buffer exactly once
    assert rings.mem.pool.free_indices().size == rings.mem.nbufs - 2 - 5
    assert ad.driver.xmit_held
    rig.dev.step()  # completions, and the looped-back frames into the new RX queues
    ad.handle_interrupts()
    assert not an.leaving and an.rings is None and rig.blocks() == blocks
    assert sorted(stack[-5:]) == sorted(last) and not ad.driver.xmit_held


def test_frames_that_find_the_queue_gone_are_dropped_and_counted() -> None:
    """Frames reach the device between queue 0's DESTROY_SQ and its CREATE_SQ: those RSS
    steers to queue 0 find no queue and are dropped (``rx_no_queue``, in the ``rx_drops``
    ENA_ADMIN_GET_STATS reports); those for queue 1 land in its netmap buffers and are
    read when queue 1 is destroyed in turn.  Every frame is delivered or counted."""
    rig, an, stack, blocks = entered()
    ad = rig.adapter
    assert an.port is not None and ad.driver is not None
    frames = [f for k in range(300, 316) for f in udp(k, 40)]  # > 256 per queue
    put_frames(an.port, [[f] for f in frames], q=0)
    an.port.txsync()
    rig.dev.complete_tx()  # on the wire: the frames wait in the device's inbox
    ad.handle_interrupts()
    an.port.txsync()
    port = ad.driver.port
    rx_doorbells = set(ad.driver.rx.db_off.tolist())
    write = rig.bus.regs.write32_batch
    rung: list[int] = []

    def doorbells(offsets, values):  # type: ignore[no-untyped-def]
        rung.extend(o for o in np.asarray(offsets).tolist() if o in rx_doorbells)
        return write(offsets, values)
    rig.bus.regs.write32_batch = doorbells  # type: ignore[method-assign]
    destroy_sq = port.destroy_sq
    hits = []

    def racing(cmd: DestroySqCmd):  # type: ignore[no-untyped-def]
        resp = destroy_sq(cmd)
        if not hits:
            hits.append(rig.dev.rx())  # the frames arrive while queue 0 is gone
        return resp
    port.destroy_sq = racing  # type: ignore[method-assign]
    assert an.reg(False) == 0 and an.rings is None and rig.blocks() == blocks
    dropped = rig.dev.stats.rx_no_queue
    assert 0 < dropped < len(frames) and hits == [len(frames) - dropped]
    assert len(stack) + dropped == len(frames) and set(stack) <= set(frames)
    rc, hw = ad.get_basic_stats()
    assert rc == 0 and hw["rx_drops"] == dropped
    # reading a destroyed queue's completions posts nothing: one doorbell per queue,
    # the refill of the new one
    assert sorted(rung) == sorted(rx_doorbells)


@pytest.mark.parametrize("fault", ["comp_lost", "intr_and_keep_alive_lost", "unresponsive"])
def test_an_admin_timeout_triggers_the_reset_and_leaks_nothing(fault: str) -> None:
    """DESTROY_SQ gets no completion (or its completion comes with no interrupt, and no
    keep-alive interrupt runs the handler either): the admin queue stops, the close
    triggers the reset with the reason ``check_for_admin_com_state`` gives (ADMIN_TO;
    MISSING_ADMIN_INTERRUPT for the completion found without its interrupt), the
    datapath stops, and the registration stays until the reset task's ena_down frees
    every netmap buffer.  A device that then never comes back from its reset leaves the
    adapter dead, with nothing held either."""
    rig, an, _, blocks = entered()
    ad = rig.adapter
    faults = {"comp_lost": MgmtFaults(admin_comp_lost=1.0),
              "intr_and_keep_alive_lost": MgmtFaults(admin_intr_lost=1.0,
                                                     keep_alive_missing=1.0),
              "unresponsive": MgmtFaults(admin_comp_lost=1.0, reset_unresponsive=1.0)}
    want = ResetReason.MISSING_ADMIN_INTERRUPT if fault.startswith("intr") \
        else ResetReason.ADMIN_TO
    rig.dev.set_mgmt_faults(faults[fault])
    cmds = len(rig.commands)
    assert an.reg(False) == 0
    assert [c for c, _ in rig.commands[cmds:]] == ["DESTROY_SQ"]
    assert ad.reset.triggered and ad.reset.reason == want
    assert an.leaving and an.rings is not None
    assert ad.driver is not None and not ad.driver.datapath_up
    if fault != "unresponsive":
        rig.dev.set_mgmt_faults(MgmtFaults())
    ad.advance(2 * SECOND)
    assert dict(ad.stats.resets) == {want: 1}
    assert not an.leaving and an.rings is None
    if fault == "unresponsive":
        assert ad.stats.failed_restores == 1 and ad.driver is None
        assert rig.blocks() == rig.baseline_blocks  # a dead adapter holds nothing
        return
    assert rig.blocks() == blocks and ad.flags.dev_up and not ad.reset.triggered
    batch = rig.frames(4, seed=7)
    rig.traffic(batch, 2)
    assert ad.packets().completed >= 4


def test_the_timer_running_during_a_slow_create_posts_nothing_behind_the_device() -> None:
    """CREATE_CQ takes two seconds: the timer service runs twice while the driver waits
    (its callout is on the clock).  Its empty-RX-ring check must not find the queue
    being created empty and post buffers the device, which has no SQ yet, ignores: after
    the close the device holds exactly the buffers the driver has posted."""
    rig, an, stack, blocks = entered()
    ad = rig.adapter
    assert ad.driver is not None
    port = ad.driver.port
    create_cq = port.create_cq

    def slow(cmd):  # type: ignore[no-untyped-def]
        rig.clock.advance(2 * SECOND)
        return create_cq(cmd)
    port.create_cq = slow  # type: ignore[method-assign]
    ticks = ad.watch.empty_rx_ring.copy()
    assert an.reg(False) == 0 and an.rings is None and rig.blocks() == blocks
    assert not ad.reset.triggered
    drv = ad.driver
    held = device_rx_addresses(rig)
    assert held.size == 2 * (drv.cfg.rx_ring_size - 1)
    assert np.array_equal(np.sort(held), np.sort(drv.rx.buf_addr[drv.rx.posted]))
    assert np.array_equal(ad.watch.empty_rx_ring, ticks)
    rig.traffic(rig.frames(6, seed=10), 2)
    assert len(stack) >= 12 and rig.dev.stats.rx_no_buffer == 0


def test_lost_admin_interrupts_slow_the_reset_exit_but_it_ends() -> None:
    """Every admin completion comes without its interrupt: each command completes only
    when the next keep-alive's interrupt runs the admin handler, so the four commands per
    queue take up to a second each -- and the timer service runs meanwhile (its empty-RX
    check must not post on a queue the device does not have yet).  The exit still ends
    inside the close, bounded by the admin timeout per command, with no reset."""
    rig, an, stack, blocks = entered()
    ad = rig.adapter
    rig.dev.set_mgmt_faults(MgmtFaults(admin_intr_lost=1.0))
    t0, cmds = ad.clock.now_ns, len(rig.commands)
    assert an.reg(False) == 0
    elapsed = ad.clock.now_ns - t0
    timeout = ad.com.timeouts.completion_timeout_us * 1000  # type: ignore[union-attr]
    assert [c for c, _ in rig.commands[cmds:]] == RESET_CMDS * 2
    assert SECOND < elapsed <= 8 * timeout
    assert not an.leaving and an.rings is None and rig.blocks() == blocks
    assert not ad.reset.triggered and rig.dev.mgmt_stats.admin_intr_lost >= 8
    rig.dev.set_mgmt_faults(MgmtFaults())
    held = device_rx_addresses(rig)
    drv = ad.driver
    assert drv is not None and held.size == 2 * (drv.cfg.rx_ring_size - 1)
    assert np.array_equal(np.sort(held), np.sort(drv.rx.buf_addr[drv.rx.posted]))
    batch = rig.frames(6, seed=9)
    rig.traffic(batch, 2)
    assert len(stack) >= 12 and not ad.reset.triggered


@pytest.mark.parametrize("refused", ["create_cq", "create_sq"])
def test_a_refused_create_triggers_driver_invalid_state(refused: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The device refuses to create the RX queue again (out of resources): the queue is
    left destroyed -- a CQ created for a refused SQ destroyed again, as
    ena_com_create_io_queue does -- the buffers of the destroyed queue are already back,
    and the reset is triggered with DRIVER_INVALID_STATE; the reset task brings the
    adapter back in stack mode."""
    rig, an, _, blocks = entered()
    ad = rig.adapter
    qt = rig.dev.queues
    no = {"create_cq": lambda cmd: CreateCqResp(AdminStatus.RESOURCE_ALLOCATION_FAILURE),
          "create_sq": lambda cmd: CreateSqResp(AdminStatus.RESOURCE_ALLOCATION_FAILURE)}
    monkeypatch.setattr(qt, refused, no[refused])  # the device's table: gone at its reset
    rings = an.rings
    assert rings is not None and ad.driver is not None
    cmds = len(rig.commands)
    assert an.reg(False) == 0
    sent = [c for c, _ in rig.commands[cmds:]]
    tail = ["DESTROY_CQ"] if refused == "create_sq" else []
    assert sent == RESET_CMDS[:3 + (refused == "create_sq")] + tail
    assert ad.reset.triggered and ad.reset.reason == ResetReason.DRIVER_INVALID_STATE
    assert (rings.rx_buf[0] == 0).all() and (rings.rx_buf[1] != 0).any()
    assert (ad.driver.sq_idx[0, 1], ad.driver.cq_idx[0, 1]) == (-1, -1)
    ad.advance(2 * SECOND)
    assert dict(ad.stats.resets) == {ResetReason.DRIVER_INVALID_STATE: 1}
    assert not an.leaving and an.rings is None and rig.blocks() == blocks
    assert ad.flags.dev_up
    rig.traffic(rig.frames(4, seed=8), 2)
    assert ad.packets().completed >= 4


def test_a_queue_back_under_another_index_gets_the_rss_table_again() -> None:
    """Another RX queue takes the freed device indices between the destroy and the
    create (the device gives the lowest free one): the queue comes back with new indices,
    the RSS indirection table is set again with them, and the stack's traffic steered to
    that queue arrives there."""
    rig, an, stack, _ = entered()
    ad = rig.adapter
    assert ad.driver is not None
    port = ad.driver.port
    destroy_cq, qt = port.destroy_cq, rig.dev.queues
    squatter = []

    def taken(cmd):  # type: ignore[no-untyped-def]
        resp = destroy_cq(cmd)
        if not squatter:  # someone else's RX queue in the freed indices
            area = rig.bus.mem.alloc(2 * 4096, 4096)
            cq = qt.create_cq(CreateCqCmd(8, area, 1, 4))
            sq = qt.create_sq(CreateSqCmd(SqDirection.RX, PlacementPolicy.HOST, cq.cq_idx, 8,
                                          area + 4096))
            squatter.append(sq.sq_idx)
        return resp
    port.destroy_cq = taken  # type: ignore[method-assign]
    old = int(ad.driver.sq_idx[0, 1])
    cmds = len(rig.commands)
    assert an.reg(False) == 0 and an.rings is None and not ad.reset.triggered
    assert squatter == [old] and int(ad.driver.sq_idx[0, 1]) != old
    assert ("SET_FEATURE", RSS_INDIRECTION_TABLE_CONFIG) in rig.commands[cmds:]
    table = rig.dev.rss.table.tolist()
    assert old not in table and int(ad.driver.sq_idx[0, 1]) in table
    frames = udp(400, 40)
    base = rig.bus.mem.alloc(40 * 2048, 64)
    offs = base + 2048 * np.arange(40)
    for f, o in zip(frames, offs.tolist(), strict=True):
        rig.bus.mem.data[o:o + len(f)] = np.frombuffer(f, dtype=np.uint8)
    ad.driver.transmit(PacketBatch.from_arrays(rig.bus.mem.data, offs,
                                               np.array([len(f) for f in frames])))
    before = ad.driver.rx.stats.cnt.copy()
    rig.dev.step()
    ad.handle_interrupts()
    assert sorted(stack[-40:]) == sorted(frames)
    assert (ad.driver.rx.stats.cnt - before).min() > 0  # both queues received
    assert rig.dev.stats.rx_no_queue == 0


def test_rx_exit_is_checked_and_ebusy_holds_while_tx_drains() -> None:
    """An unknown exit is refused; after the reset exit, a new registration is EBUSY
    only while netmap TX packets are in flight."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2))
    with pytest.raises(ValueError, match="rx_exit"):
        AdapterNetmap(rig.adapter, strategy="rfc", rx_exit="drain")
    rig, an, _, _ = entered()
    assert an.port is not None
    put_frames(an.port, [[f] for f in udp(500, 2)], q=0)
    an.port.txsync()
    assert an.reg(False) == 0 and an.leaving
    assert an.reg(True) == errno.EBUSY
    rig.dev.step()
    rig.adapter.handle_interrupts()
    assert not an.leaving and an.reg(True) == 0 and an.native
