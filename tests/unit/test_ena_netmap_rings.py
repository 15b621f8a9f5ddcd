"""netmap on some of an ENA adapter's queue pairs (NR_REG_ONE_NIC): ena_netmap_reg switches
only the bound rings, the others carry the stack's traffic, and the stack's packets meet
netmap_transmit, then ena_mq_start -- whose own queue choice puts a packet on a queue in
netmap mode as shipped (ENA-NM-TXQ-APART, model/ena_netmap_txq.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support.ena_adapter_rig import SECOND, AdapterRig, adapter_rig
from support.ena_netmap_rig import put_frames, take_packets
from support.ena_txq import impl_place, model_place

from impl.ena.adapter import AdapterConfig
from impl.ena.adapter_netmap import AdapterNetmap
from impl.ena.driver import Policy, RxResult
from impl.ena_defs.regs import ResetReason
from ringspec.ena_netmap_run import stack_frames

SHIPPED, HARDENED = Policy.SHIPPED, Policy.HARDENED


def classic(policy: Policy) -> tuple[AdapterRig, AdapterNetmap, list[bytes]]:
    """A 2-queue adapter with netmap attached, and what its stack receives."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy))
    stack: list[bytes] = []

    def received(r: RxResult) -> None:
        stack.extend(stack_frames(r))
    rig.adapter.on_stack_rx = received
    return rig, AdapterNetmap(rig.adapter), stack


def unhashed(n: int, flowid: int) -> dict[str, np.ndarray]:
    return {"flowid": np.full(n, flowid, dtype=np.int64),
            "hashtype": np.zeros(n, dtype=np.int64)}


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_one_pair_in_netmap_mode_the_other_stays_the_stacks(policy: Policy) -> None:
    rig, an, stack = classic(policy)
    ad = rig.adapter
    batch = rig.frames(10, seed=3)
    blocks = rig.blocks()
    assert an.reg(True, rings=[1]) == 0
    assert an.on.tolist() == [False, True] and an.native
    drv, rings, nm = ad.driver, an.rings, an.port
    assert drv is not None and rings is not None and nm is not None
    assert drv.netmap_tx is not None and drv.netmap_tx.tolist() == [False, True]
    depth = drv.cfg.rx_ring_size
    # ena_up filled queue 0 with mbufs and queue 1 with netmap buffers
    assert int(drv.rx.posted[0].sum()) == depth - 1 and not rings.rx_buf[0].any()
    assert int((rings.rx_buf[1] != 0).sum()) == depth - 1
    held = rings.buffers_held().tolist()
    # the stack sends on queue 0 (hashed, flowid 0), the netmap user on ring 1
    res = drv.transmit(batch, flowid=np.zeros(10, dtype=np.int64),
                       hashtype=np.ones(10, dtype=np.int64))
    assert res.queue.tolist() == [0] * 10 and not res.error.any()
    mine = [bytes([i]) * (64 + i) for i in range(10)]
    put_frames(nm, [[f] for f in mine], q=1)
    got: list[bytes] = []
    for _ in range(4):
        nm.txsync()
        rig.dev.step()
        ad.handle_interrupts()  # queue 0: ENA's cleanup; queue 1: netmap's wake-up
        nm.rxsync()
        got += take_packets(nm, 1)
        ad.advance(SECOND // 10)
    sent = [batch.frame(i) for i in range(10)] + mine
    # looped back, RSS spread them: each arrives once, by the stack or by the user
    assert sorted(stack + got) == sorted(sent)
    assert stack and got, "RSS sends some to each queue"
    assert ad.packets().completed == 10 and not ad.reset.triggered
    with pytest.raises(ValueError, match="not in netmap mode"):
        nm.txsync(0)
    assert nm.txsync().rings.tolist() == [1] and nm.rxsync().rings.tolist() == [1]
    assert rings.buffers_held().tolist() == held  # every netmap buffer still once
    assert an.reg(False, rings=[1]) == 0 and not an.native and an.port is None
    assert rig.blocks() == blocks


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_registrations_add_rings_and_closes_take_them_out(policy: Policy) -> None:
    rig, an, _ = classic(policy)
    blocks = rig.blocks()
    assert an.reg(True, rings=0) == 0 and an.on.tolist() == [True, False]
    rings = an.rings
    assert rings is not None
    all_bufs = list(range(2, rings.mem.nbufs))
    assert an.reg(True, rings=[1]) == 0 and an.on.tolist() == [True, True]
    assert rings.buffers_held().tolist() == all_bufs
    assert an.reg(False, rings=[0]) == 0 and an.on.tolist() == [False, True] and an.native
    assert an.rings is rings and rings.buffers_held().tolist() == all_bufs
    drv = rig.adapter.driver
    assert drv is not None and int(drv.rx.posted[0].sum()) == drv.cfg.rx_ring_size - 1
    assert not rings.rx_buf[0].any()  # queue 0 is the stack's again: mbufs
    assert an.reg(False, rings=[1]) == 0 and not an.native and an.rings is None
    assert rig.blocks() == blocks


def test_the_queue_count_is_taken_when_a_registration_starts() -> None:
    """netmap attached before the adapter had its queues (or before a change of their
    number): a close with nothing registered, then a registration, use today's count."""
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2), attach=False)
    an = AdapterNetmap(rig.adapter)
    assert rig.adapter.attach() == 0 and rig.adapter.up() == 0
    assert an.reg(False) == 0 and not an.native and an.rings is None
    assert an.reg(True, rings=[1]) == 0 and an.on.tolist() == [False, True]
    assert an.reg(False, rings=1) == 0 and an.rings is None


def test_bad_ring_lists_are_refused_before_anything_changes() -> None:
    rig, an, _ = classic(HARDENED)
    downs = rig.adapter.stats.interface_down
    with pytest.raises(ValueError, match="out of range"):
        an.reg(True, rings=[2])
    with pytest.raises(ValueError, match="queue ids"):
        an.reg(True, rings=[0.5])
    assert rig.adapter.stats.interface_down == downs and an.rings is None
    rfc = AdapterNetmap(rig.adapter, strategy="rfc")
    with pytest.raises(ValueError, match="every queue pair"):
        rfc.reg(True, rings=[0])
    assert rfc.rings is None and not rfc.native


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
@pytest.mark.parametrize("bound", [[0], [1], [0, 1]])
def test_where_each_stack_packet_goes_is_the_models(policy: Policy, bound: list[int]) -> None:
    """Every combination of flowid, hash type and CPU: the implementation sends the packet
    to the host ring, to a queue in mbuf mode or to one in netmap mode exactly when the
    model's step counts it in ``to_host``, ``sent`` or ``mixed``."""
    rig, an, _ = classic(policy)
    assert an.reg(True, rings=bound) == 0
    drv = rig.adapter.driver
    assert drv is not None
    combos = list(itertools.product(range(4), (0, 1), range(4)))
    places = set()
    for flowid, hashed, cpu in combos:
        res = drv.enqueue(rig.frames(1, seed=flowid), flowid=np.array([flowid]),
                          hashtype=np.array([hashed]), curcpu=cpu)
        place = impl_place(int(res[1][0]), an.on)
        assert place == model_place(policy is HARDENED, drv.cfg.num_queues, an.on, flowid,
                                    hashed, cpu), (flowid, hashed, cpu)
        places.add(place)
    assert ("mixed" in places) == (policy is SHIPPED and len(bound) == 1)
    host = drv.accounting.dropped["netmap_host"]
    assert host == sum(1 for f, _, _ in combos if f % 2 in bound)


@pytest.mark.parametrize("policy", [SHIPPED, HARDENED])
def test_the_stacks_packets_on_a_netmap_queue(policy: Policy) -> None:
    """The finding replayed on the implementation: pair 0 is netmap's; the stack sends 200
    unhashed packets of flow 1 from CPU 0.  As shipped ena_mq_start queues them on queue
    0; the device sends and completes them, ena_netmap_tx_cleanup frees no mbuf, so they
    stay in flight with their timestamps, the missing-completion check resets the device
    (MISS_TX_CMPL) and ena_down frees them.  Hardened they go out on queue 1 and
    complete."""
    rig, an, _ = classic(policy)
    ad = rig.adapter
    assert an.reg(True, rings=[0]) == 0
    nm = an.port
    assert nm is not None and ad.driver is not None
    queues = []
    for i in range(4):
        res = ad.driver.transmit(rig.frames(50, seed=i), **unhashed(50, flowid=1), curcpu=0)
        queues += res.queue.tolist()
        rig.dev.step()
        ad.handle_interrupts()
        nm.txsync()
    assert ad.driver.in_flight() == (200 if policy is SHIPPED else 0)
    for _ in range(8):
        rig.dev.step()
        ad.handle_interrupts()
        nm.txsync()
        ad.advance(SECOND)
    led = ad.packets()
    if policy is SHIPPED:
        assert set(queues) == {0}
        assert ad.stats.resets[int(ResetReason.MISS_TX_CMPL)] == 1
        assert (led.completed, led.freed_at_down) == (0, 200)
    else:
        assert set(queues) == {1}
        assert not ad.stats.resets and (led.completed, led.freed_at_down) == (200, 0)
