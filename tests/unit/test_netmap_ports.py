"""``/dev/netmap`` with real rings (:mod:`impl.netmap.port`): a handle syncs and polls
exactly its bound rings, NR_NO_TX_POLL reaches poll, rings and buffers exist while their
kring has users (:func:`model.netmap_regif.ring_exists`) and the memory while the adapter
has krings, and a scribbled slot costs the buffer it overwrote and nothing else."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from impl.netmap import control as c
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from impl.netmap.port import NetmapPorts
from model.netmap_admode import RingConfig
from model.netmap_regif import krings_while_open, ring_exists
from model.netmap_ring import RX, TX
from model.netmap_sync import AS_SHIPPED, HARDENED

N = 8
CFG = RingConfig(3, N, 2, N)
"""Three TX rings and two RX rings: a direction mixed up shows."""


def ports() -> NetmapPorts:
    s = NetmapPorts(buf_size=256)
    s.attach("em0", True, CFG)
    return s


def bind(s: NetmapPorts, mode: int, ringid: int = 0, flags: int = 0) -> int:
    h = s.open()
    assert s.register(h, "em0", mode, ringid, flags) == 0
    return h


def lifetimes_follow_the_model(s: NetmapPorts) -> None:
    """Each kring's ring exists as the model's rule says, the memory with the krings, and
    every buffer is in exactly one place: the free list or one slot of an existing ring."""
    na = s.adapters["em0"]
    r = s.rings_of("em0")
    assert krings_while_open(na.control.abstract(c.TX, 0))
    assert (r is not None) == bool(na.control.krings)
    if r is None:
        return
    for t in (c.TX, c.RX):
        want = [bool(ring_exists(na.control.abstract(t, i))) for i in range(r.live[t].size)]
        assert r.live[t].tolist() == want, (t, r)
    held = np.concatenate([r.held(), r.nic.mem.pool.free_indices()])
    assert np.array_equal(np.sort(held), np.arange(2, r.nic.mem.nbufs)), r


def test_a_handle_before_niocregif_gets_enxio_and_pollerr() -> None:
    s = ports()
    h = s.open()
    assert (s.txsync(h), s.rxsync(h)) == (errno.ENXIO, errno.ENXIO)
    assert s.poll(h, POLLIN | POLLOUT).revents == POLLERR
    assert s.txsync(99) == errno.EBADF
    assert s.rings_of("em0") is None


def test_rings_exist_while_their_kring_has_users_and_memory_with_the_last_handle() -> None:
    s = ports()
    a = bind(s, c.NR_REG_ONE_NIC, 0)
    r = s.rings_of("em0")
    assert r is not None
    assert r.live[c.TX].tolist() == [True, False, False, False]
    assert r.live[c.RX].tolist() == [True, False, False]
    lifetimes_follow_the_model(s)
    b = bind(s, c.NR_REG_NIC_SW)
    assert s.rings_of("em0") is r and r.live[c.RX].all()
    lifetimes_follow_the_model(s)
    assert s.close(a) == 0
    assert r.live[c.TX].all(), "ring 0 still has b"
    lifetimes_follow_the_model(s)
    assert s.close(b) == 0
    assert s.rings_of("em0") is None and s.memory_freed == 1
    assert r.nic.mem.pool.nfree == r.nic.mem.nbufs - 2, "every buffer back with the memory"


def test_a_ring_another_handle_holds_keeps_its_buffers_and_indices() -> None:
    s = ports()
    a, b = bind(s, c.NR_REG_ONE_NIC, 0), bind(s, c.NR_REG_ONE_NIC, 0)
    r = s.rings_of("em0")
    nic = r.nic
    nic.user_fill(0, np.full((3, 60), 7, np.uint8))
    nic.user_advance("tx", 0, 3)
    before = nic.slots("tx", 0)["buf_idx"].copy()
    assert s.close(a) == 0
    assert np.array_equal(nic.slots("tx", 0)["buf_idx"], before)
    assert nic.user_indices("tx", 0)[0] == 3
    assert s.txsync(b) == 0
    assert nic.abstract("tx", 0).hwcur == 3


@pytest.mark.parametrize("policy", [AS_SHIPPED, HARDENED])
def test_a_ring_created_again_gets_new_buffers_and_a_netmap_reset(policy: str) -> None:
    s = NetmapPorts(buf_size=256, policy=policy)
    s.attach("em0", True, CFG)
    keep = bind(s, c.NR_REG_ONE_NIC, 1)
    a = bind(s, c.NR_REG_ONE_NIC, 0)
    r = s.rings_of("em0")
    s.deliver("em0", 0, 3)
    assert s.rxsync(a) == 0
    r.nic.user_advance("rx", 0, 1)
    assert s.close(a) == 0  # two received slots never released
    assert not r.live[c.RX][0]
    assert (r.nic.slots("rx", 0)["buf_idx"] == 0).all(), "the deleted ring holds nothing"
    old = set(r.nic.mem.pool.free_indices().tolist())
    a = bind(s, c.NR_REG_ONE_NIC, 0)
    ring = r.nic.abstract("rx", 0)
    assert RX.violated(ring) == [] and TX.violated(r.nic.abstract("tx", 0)) == []
    assert set(r.nic.slots("rx", 0)["buf_idx"].tolist()) <= old, "new buffers"
    assert (r.nic.slots("rx", 0)["flags"] == 0).all()
    assert ring.hwcur == ring.rhead, "netmap_reset: the NIC starts at the user's head"
    head, _, tail = r.nic.user_indices("rx", 0)
    if policy == AS_SHIPPED:
        assert (head, tail) == (0, 3), "the kring kept the indices the last user left"
        lengths, _ = r.nic.user_read(0)
        assert lengths.tolist() == [256, 256, 256], "stale slots look received, full size"
        assert r.nic.device_buffers("rx", 0).size == N - 4
    else:
        assert (head, tail) == (0, 0) and r.nic.device_buffers("rx", 0).size == N - 1
    lifetimes_follow_the_model(s)
    assert s.close(a) == 0 and s.close(keep) == 0


def test_syncs_touch_exactly_the_bound_rings() -> None:
    s = ports()
    one = bind(s, c.NR_REG_ONE_NIC, 1)
    host = bind(s, c.NR_REG_SW)
    nic = s.rings_of("em0").nic
    other = bind(s, c.NR_REG_ONE_NIC, 0)
    for q in (0, 1):
        nic.user_fill(q, np.full((2, 60), 1, np.uint8))
        nic.user_advance("tx", q, 2)
    assert s.txsync(host) == 0
    assert nic.abstract("tx", 1).hwcur == 0, "the host handle does not sync ring 1"
    assert s.txsync(one) == 0
    assert [nic.abstract("tx", q).hwcur for q in (0, 1)] == [0, 2], "ring 1 only"
    assert s.close(other) == 0
    hr = nic.host_rings()
    hr.user_send(np.full((2, 60), 9, np.uint8))
    assert s.txsync(one) == 0 and hr.sent_up == 0
    assert s.txsync(host) == 0 and hr.sent_up == 2


def test_no_tx_poll_keeps_poll_from_pushing_pending_transmissions() -> None:
    for flags, pushed in ((0, 2), (c.NR_NO_TX_POLL, 0)):
        s = ports()
        h = bind(s, c.NR_REG_ONE_NIC, 0, flags)
        nic = s.rings_of("em0").nic
        nic.user_fill(0, np.full((2, 60), 1, np.uint8))
        nic.user_advance("tx", 0, 2)
        out = s.poll(h, POLLIN)
        assert out.blocks
        assert nic.abstract("tx", 0).hwcur == pushed, flags
        assert s.asleep("em0", c.RX) == {h} and s.asleep("em0", c.TX) == set()


def test_an_interrupt_wakes_the_handles_asleep_on_the_ring() -> None:
    s = ports()
    a, b = bind(s, c.NR_REG_ONE_NIC, 0), bind(s, c.NR_REG_ONE_NIC, 1)
    assert s.poll(a, POLLIN).blocks and s.poll(b, POLLIN).blocks
    assert s.deliver("em0", 1, 2) == {b}
    assert s.asleep("em0", c.RX) == {a}
    assert s.poll(b, POLLIN).revents == POLLIN
    assert s.stack_transmit("em0", np.zeros((1, 60), np.uint8)) == (None, set())
    sw = bind(s, c.NR_REG_SW)
    assert s.poll(sw, POLLIN).blocks
    got, woken = s.stack_transmit("em0", np.zeros((1, 60), np.uint8))
    assert got.tolist() == [0] and woken == {sw}


def test_a_stopped_ring_is_eio_and_the_others_are_synced() -> None:
    s = ports()
    h = bind(s, c.NR_REG_ALL_NIC)
    nic = s.rings_of("em0").nic
    for q in (0, 1):
        nic.user_fill(q, np.full((1, 60), q, np.uint8))
        nic.user_advance("tx", q, 1)
    nic.stop_rings("tx", 0)
    assert s.txsync(h) == errno.EIO
    assert [nic.abstract("tx", q).hwcur for q in (0, 1)] == [0, 1]
    assert s.poll(h, POLLOUT).revents & POLLERR


def test_stack_packets_reach_netmap_only_while_the_host_ring_is_in_netmap_mode() -> None:
    s = ports()
    bind(s, c.NR_REG_ALL_NIC)
    got, woken = s.stack_transmit("em0", np.zeros((2, 60), np.uint8))
    assert got is None and woken == set()
    bind(s, c.NR_REG_NIC_SW)
    got, _ = s.stack_transmit("em0", np.zeros((2, 60), np.uint8))
    assert got.tolist() == [0, 0]


def test_a_scribbled_buf_idx_costs_the_overwritten_buffers_and_no_double_free() -> None:
    s = ports()
    keep = bind(s, c.NR_REG_ONE_NIC, 1)
    a = bind(s, c.NR_REG_ONE_NIC, 0)
    r = s.rings_of("em0")
    slots = r.nic.slots("tx", 0)["buf_idx"]
    overwritten = {int(x) for x in slots[[1, 2, 3]]}
    victim = int(r.nic.slots("tx", 1)["buf_idx"][0])
    slots[1] = slots[0]  # a duplicate: freed once
    slots[2] = r.nic.mem.nbufs  # not a buffer (one past the last): skipped
    slots[3] = victim  # ring 1's buffer: netmap frees it under ring 1
    assert s.close(a) == 0
    assert r.skipped == 2
    assert set(r.unowned().tolist()) == overwritten
    assert r.nic.mem.pool.is_free[victim] and victim in r.nic.slots("tx", 1)["buf_idx"]
    assert s.close(keep) == 0 and s.rings_of("em0") is None


def test_registration_without_buffers_for_its_rings_is_enomem_and_changes_nothing() -> None:
    s = ports()
    a, b = bind(s, c.NR_REG_ONE_NIC, 0), bind(s, c.NR_REG_ONE_NIC, 1)
    sw, d = bind(s, c.NR_REG_SW), bind(s, c.NR_REG_ONE_NIC, 2)  # d: TX ring 2, RX ring 0
    r = s.rings_of("em0")
    assert r.nic.mem.pool.nfree == N, "every ring exists: only the extra ring's worth"
    for kind, q in (("tx", 0), ("rx", 0), ("tx", 2)):
        r.nic.slots(kind, q)["buf_idx"][:] = 0  # users zero 24 slots
    assert s.close(a) == 0 and s.close(d) == 0
    users = [u.copy() for u in s.adapters["em0"].control.users]
    nfree = r.nic.mem.pool.nfree
    assert nfree == N and r.unowned().size == 3 * N
    a = s.open()
    assert s.register(a, "em0", c.NR_REG_ONE_NIC, 0) == errno.ENOMEM  # 2N wanted
    assert s.handles[a] is None and s.txsync(a) == errno.ENXIO
    assert [u.tolist() for u in s.adapters["em0"].control.users] == [u.tolist() for u in users]
    assert r.nic.mem.pool.nfree == nfree and not r.live[c.TX][0]
    assert s.txsync(b) == 0 and s.rxsync(sw) == 0
    assert s.register(a, "em0", c.NR_REG_ONE_NIC, 0, c.NR_TX_RINGS_ONLY) == 0, "N: enough"
    assert r.nic.mem.pool.nfree == 0 and r.live[c.TX][0]


def test_a_stopped_host_ring_is_eio_too() -> None:
    s = ports()
    h = bind(s, c.NR_REG_NIC_SW)
    nic = s.rings_of("em0").nic
    hr = nic.host_rings()
    hr.user_send(np.full((1, 60), 3, np.uint8))
    hr.tx.stopped[0] = True
    nic.user_fill(0, np.full((1, 60), 1, np.uint8))
    nic.user_advance("tx", 0, 1)
    assert s.txsync(h) == errno.EIO
    assert hr.sent_up == 0 and nic.abstract("tx", 0).hwcur == 1
    hr.tx.stopped[0] = False
    assert s.txsync(h) == 0 and hr.sent_up == 1


def test_rxsync_reads_exactly_the_bound_rx_rings() -> None:
    s = ports()
    all_rx, one = bind(s, c.NR_REG_ALL_NIC), bind(s, c.NR_REG_ONE_NIC, 1)
    s.deliver("em0", 0, 2)
    s.deliver("em0", 1, 3)
    nic = s.rings_of("em0").nic
    assert s.rxsync(one) == 0
    assert [nic.abstract("rx", q).hwtail for q in (0, 1)] == [0, 3]
    assert s.rxsync(all_rx) == 0
    assert [nic.abstract("rx", q).hwtail for q in (0, 1)] == [2, 3]


def test_transparent_mode_forwards_up_and_down_only_as_the_binding_allows() -> None:
    """dev.netmap.fwd: released NIC RX slots go up the stack; released host RX slots go
    down to the NIC TX rings only for a handle bound to every hardware TX ring
    (NAF_CAN_FORWARD_DOWN)."""
    for mode, down in ((c.NR_REG_NIC_SW, 2), (c.NR_REG_SW, 0)):
        s = ports()
        s.fwd = True
        keep = bind(s, c.NR_REG_ALL_NIC)
        h = bind(s, mode)
        hr = s.rings_of("em0").nic.host_rings()
        got, _ = s.stack_transmit("em0", np.full((2, 60), 4, np.uint8))
        assert got.tolist() == [0, 0]
        assert s.rxsync(h) == 0
        hr.user_release(2)
        assert s.rxsync(h) == 0
        assert hr.forwarded == down, mode
        nic = s.rings_of("em0").nic
        s.deliver("em0", 0, 2)
        assert s.rxsync(keep) == 0
        nic.user_advance("rx", 0, 2)
        assert s.rxsync(keep) == 0
        assert hr.forwarded_up == 2
        got, _ = s.stack_transmit("em0", np.full((2, 60), 5, np.uint8))
        assert s.poll(h, POLLIN).revents & POLLIN
        hr.user_release(2)
        assert s.poll(h, POLLIN).blocks
        assert hr.forwarded == 2 * down, ("poll forwards as the ioctl does", mode)


def test_counts_and_requests_pass_through() -> None:
    s = NetmapPorts(buf_size=256, seed=7)
    s.attach("em0", True, CFG)
    h = s.open()
    assert s.close(h) == 0, "closing an fd that never registered"
    h = s.open()
    assert s.register(h, "em0", c.NR_REG_ALL_NIC, version=13) == errno.EINVAL
    for _ in range(2):
        h = bind(s, c.NR_REG_ONE_NIC, 0)
        assert s.rings_of("em0").nic.seed == 7
        assert s.close(h) == 0
    assert s.memory_freed == 2
    s.attach("em1", True, RingConfig(1, N, 1, 2 * N))
    with pytest.raises(ValueError, match="one ring size"):
        s.register(s.open(), "em1", c.NR_REG_ALL_NIC)


def test_a_tx_completion_wakes_the_handle_waiting_for_room() -> None:
    s = ports()
    a, b = bind(s, c.NR_REG_ONE_NIC, 0), bind(s, c.NR_REG_ONE_NIC, 1)
    nic = s.rings_of("em0").nic
    for q in (0, 1):
        nic.user_fill(q, np.full((N - 1, 60), q, np.uint8))
        nic.user_advance("tx", q, N - 1)
    assert s.poll(a, POLLOUT).blocks and s.poll(b, POLLOUT).blocks
    assert s.complete("em0", 1, 2) == {b}
    assert s.asleep("em0", c.TX) == {a}
    assert s.poll(b, POLLOUT).revents == POLLOUT
