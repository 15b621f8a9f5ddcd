"""``/dev/netmap`` on an ENA interface (:class:`impl.ena.nm_dev.EnaPorts`): what the
port info reports, every refusal with its errno and the state it leaves, bindings of one
queue pair, the RFC refusing a registration while its exit is under way, and a frame
sent through one handle received through another."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from support.ena_adapter_rig import adapter_rig, cq_depth_limit

from impl.ena.adapter import AdapterConfig
from impl.ena.driver import Policy
from impl.ena.nm_dev import EnaPorts, EnaSync
from impl.ena.nm_rings import EnaNetmapRings
from impl.netmap.control import (
    NR_NO_TX_POLL,
    NR_REG_ALL_NIC,
    NR_REG_NIC_SW,
    NR_REG_ONE_NIC,
    NR_REG_SW,
    NR_RX_RINGS_ONLY,
)
from impl.netmap.poll import POLLERR, POLLIN, POLLOUT
from model.netmap_admode import ADMODE_GENERIC, NETMAP_API
from ringspec.ena_netmap_run import put_frames, room, take_packets


def ports(strategy: str = "classic", rx_exit: str = "wait", nvec: int = 3):  # type: ignore[no-untyped-def]
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=Policy.HARDENED), nvec=nvec,
                      up=False)
    ad = rig.adapter
    ad.requested_tx_ring_size = ad.requested_rx_ring_size = 256
    assert ad.up() == 0
    sys = EnaPorts()
    an = sys.attach_ena("ena0", ad, strategy=strategy, rx_exit=rx_exit)
    return rig, sys, an


def test_port_info_reports_the_ena_rings_and_their_memory() -> None:
    _, sys, an = ports(nvec=4)
    assert an.adapter.num_io_queues == 2, "two CPUs: two queue pairs"
    rc, info = sys.port_info("ena0")
    assert rc == 0 and info is not None
    assert (info.nr_tx_rings, info.nr_rx_rings, info.nr_tx_slots, info.nr_rx_slots) == (
        2, 2, 256, 256)
    assert (info.nr_host_tx_rings, info.nr_host_rx_rings) == (0, 0)
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ALL_NIC) == 0
    assert an.rings is not None
    assert info.nr_memsize == an.rings.size == EnaNetmapRings.memsize(2, 256, 2048, 0)
    assert sys.port_info("ena0", version=NETMAP_API + 100) == (errno.EINVAL, None)
    assert sys.port_info("ena9") == (errno.ENXIO, None)


@pytest.mark.parametrize("mode", [NR_REG_SW, NR_REG_NIC_SW])
def test_host_ring_bindings_are_refused_and_change_nothing(mode: int) -> None:
    _, sys, an = ports()
    h = sys.open()
    assert sys.register(h, "ena0", mode) == errno.EINVAL
    assert not an.native and an.rings is None
    assert sys.handles[h] is None
    assert sys.txsync(h) == errno.ENXIO
    assert sys.poll(h, POLLIN).revents == POLLERR


def test_generic_admode_on_ena_is_eopnotsupp_and_keeps_the_native_adapter() -> None:
    _, sys, an = ports()
    sys.admode = ADMODE_GENERIC
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ALL_NIC) == errno.EOPNOTSUPP
    assert sys.adapters["ena0"].kind == "native" and not an.native
    assert sys.port_info("ena0")[0] == errno.EOPNOTSUPP


def test_errors_of_handles() -> None:
    _, sys, _ = ports()
    assert sys.txsync(99) == errno.EBADF
    assert sys.register(99, "ena0", NR_REG_ALL_NIC) == errno.EBADF
    h = sys.open()
    assert sys.register(h, "nope", NR_REG_ALL_NIC) == errno.ENXIO
    assert sys.register(h, "ena0", NR_REG_ALL_NIC, version=NETMAP_API + 100) == errno.EINVAL
    assert sys.register(h, "ena0", NR_REG_ONE_NIC, 7) == errno.EINVAL
    assert sys.register(h, "ena0", NR_REG_ONE_NIC, 1) == 0
    assert sys.register(h, "ena0", NR_REG_ONE_NIC, 0) == errno.EBUSY
    assert sys.close(h) == 0 and sys.close(h) == errno.EBADF


def test_classic_one_pair_per_handle_and_the_last_close_frees_the_memory() -> None:
    rig, sys, an = ports()
    a, b = sys.open(), sys.open()
    assert sys.register(a, "ena0", NR_REG_ONE_NIC, 1) == 0
    assert an.on.tolist() == [False, True]
    assert an.rings is not None
    base = an.rings.base
    assert sys.register(b, "ena0", NR_REG_ONE_NIC, 0) == 0
    assert an.on.tolist() == [True, True]
    downs = rig.adapter.stats.interface_down
    c = sys.open()
    assert sys.register(c, "ena0", NR_REG_ONE_NIC, 1, NR_RX_RINGS_ONLY) == 0
    assert sys.close(c) == 0
    assert rig.adapter.stats.interface_down == downs, "no pair switched: no down/up"
    assert sys.close(a) == 0
    assert an.on.tolist() == [True, False] and an.rings is not None
    assert sys.close(b) == 0
    assert not an.native and an.rings is None
    assert base not in rig.bus.mem._blocks


def rfc_holding_netmap_buffers(rx_exit: str):  # type: ignore[no-untyped-def]
    """An RFC registration whose device holds netmap RX buffers: frames looped back
    landed in stack buffers, the user read and released them, and the next rxsync posted
    netmap buffers in their place.  Returns (rig, ports, adapter netmap, the fd)."""
    rig, sys, an = ports("rfc", rx_exit)
    a = sys.open()
    assert sys.register(a, "ena0", NR_REG_ALL_NIC) == 0
    assert an.on.all() and rig.adapter.flags.dev_up
    port = an.port
    assert port is not None
    put_frames(port, [[bytes(100)]] * 4, q=0)
    assert sys.txsync(a) == 0
    rig.dev.step()
    rig.adapter.handle_interrupts()
    assert sys.rxsync(a) == 0
    assert len(take_packets(port, 0) + take_packets(port, 1)) == 4
    assert sys.rxsync(a) == 0
    return rig, sys, an, a


def test_rfc_refuses_a_registration_while_the_device_holds_netmap_buffers() -> None:
    _, sys, an, a = rfc_holding_netmap_buffers("wait")
    assert sys.close(a) == 0
    assert an.leaving, "the device still holds the netmap RX buffers rxsync posted"
    b = sys.open()
    assert sys.register(b, "ena0", NR_REG_ALL_NIC) == errno.EBUSY
    assert sys.handles[b] is None and not an.native


def test_the_rfc_reset_exit_frees_the_memory_at_the_close() -> None:
    rig, sys, an, a = rfc_holding_netmap_buffers("reset")
    assert an.rings is not None
    base = an.rings.base
    assert sys.close(a) == 0
    assert not an.leaving and an.rings is None and base not in rig.bus.mem._blocks
    assert rig.adapter.stats.interface_down == 0
    assert sys.register(sys.open(), "ena0", NR_REG_ALL_NIC) == 0


def test_a_frame_sent_on_one_handle_is_read_on_another_and_the_sleeper_wakes() -> None:
    rig, sys, an = ports()
    tx, rx = sys.open(), sys.open()
    assert sys.register(tx, "ena0", NR_REG_ONE_NIC, 0) == 0
    assert sys.register(rx, "ena0", NR_REG_ALL_NIC) == 0
    assert sys.poll(rx, POLLIN).blocks
    assert rx in sys.asleep("ena0", 1) and rx not in sys.asleep("ena0", 0)
    port = an.port
    assert port is not None
    frame = bytes(range(200))
    put_frames(port, [[frame]], q=0)
    assert sys.txsync(tx) == 0
    sys.woken.clear()
    rig.dev.step()
    rig.adapter.handle_interrupts()
    assert rx in sys.woken
    assert sys.poll(rx, POLLIN).revents == POLLIN
    got = take_packets(port, 0) + take_packets(port, 1)
    assert got == [frame]
    assert np.all(port.rx.ring_head == port.rx.ring_tail)


def test_a_full_tx_ring_sleeps_on_pollout_and_its_completions_wake_it() -> None:
    rig, sys, an = ports()
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ONE_NIC, 1) == 0
    port = an.port
    assert port is not None
    put_frames(port, [[bytes(64)]] * room(port, 1), q=1)
    assert sys.txsync(h) == 0
    assert room(port, 1) == 0
    out = sys.poll(h, POLLOUT)
    assert out.blocks and h in sys.asleep("ena0", 0)
    sys.woken.clear()
    rig.dev.step()
    rig.adapter.handle_interrupts()
    assert h in sys.woken and h not in sys.asleep("ena0", 0)
    assert sys.poll(h, POLLOUT).revents == POLLOUT


def test_a_ring_another_thread_syncs_is_skipped_without_error_and_the_others_run() -> None:
    _, sys, an = ports()
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ALL_NIC) == 0
    port = an.port
    assert port is not None
    put_frames(port, [[bytes(80)]] * 3, q=0)
    put_frames(port, [[bytes(80)]] * 2, q=1)
    port.tx.busy[0] = True
    got = EnaSync(an).txsync(sys.policy, port.tx, np.arange(2), None, "")
    assert got.errno == 0
    assert got.skipped.tolist() == [True, False] and got.busy.tolist() == [True, False]
    assert got.accepted.tolist() == [False, True]
    assert got.sent.tolist() == [0, 2] and got.bad_slot.tolist() == [-1, -1]
    assert port.tx.hwcur.tolist() == [0, 2]
    put_frames(port, [[bytes(80)]] * 3, q=1)
    got = EnaSync(an).txsync(sys.policy, port.tx, np.arange(2), None, "")
    assert got.sent.tolist() == [0, 3], "counted from where nr_hwcur was"
    port.rx.busy[0] = True
    got = EnaSync(an).rxsync(sys.policy, port.rx, np.arange(2), None, None)
    assert got.skipped.tolist() == [True, False] and got.accepted.tolist() == [False, True]
    assert got.bad_slot.tolist() == [-1, -1] and got.errno == 0


@pytest.mark.parametrize("flags", [0, NR_NO_TX_POLL])
def test_poll_for_input_sends_pending_frames_unless_no_tx_poll(flags: int) -> None:
    _, sys, an = ports()
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ONE_NIC, 0, flags) == 0
    port = an.port
    assert port is not None
    put_frames(port, [[bytes(80)]] * 3, q=0)
    sys.poll(h, POLLIN)
    assert int(port.tx.hwcur[0]) == (0 if flags else 3)


@pytest.mark.parametrize("policy", list(Policy))
def test_a_classic_switch_whose_ena_up_fails(policy: Policy,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The IO rings were backed off below the netmap rings (host memory ran out), so
    ``ena_up`` in netmap mode fails with ENOMEM and ena_netmap_reg restores the interface
    in mbuf mode.  As shipped ena_netmap_reg returns the restore's 0 and NIOCREGIF
    succeeds on rings that are not in netmap mode (syncs EIO, poll POLLERR); hardened
    NIOCREGIF returns ENOMEM and the handle stays unregistered."""
    cq_depth_limit(monkeypatch, 256)
    rig = adapter_rig(adapter=AdapterConfig(ncpus=2, policy=policy), nvec=3, up=False)
    ad = rig.adapter
    ad.requested_tx_ring_size = ad.requested_rx_ring_size = 512
    assert ad.up() == 0 and ad.tx_ring_size == 256, "backed off"
    sys = EnaPorts()
    an = sys.attach_ena("ena0", ad)
    h = sys.open()
    rc = sys.register(h, "ena0", NR_REG_ALL_NIC)
    assert not an.native and an.rings is None and ad.flags.dev_up
    assert an.up_error == errno.ENOMEM
    if policy is Policy.HARDENED:
        assert rc == errno.ENOMEM and sys.handles[h] is None
        assert sys.txsync(h) == errno.ENXIO
    else:
        assert rc == 0 and sys.handles[h] == "ena0"
        assert sys.txsync(h) == errno.EIO and sys.rxsync(h) == errno.EIO
        assert sys.poll(h, POLLIN).revents == POLLERR
        assert sys.close(h) == 0 and not an.native


def test_an_rx_only_binding_puts_its_pair_in_netmap_mode() -> None:
    _, sys, an = ports()
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ONE_NIC, 1, NR_RX_RINGS_ONLY) == 0
    assert an.on.tolist() == [False, True]
    assert sys.txsync(h) == 0 and sys.rxsync(h) == 0


def test_sync_results_say_what_moved() -> None:
    rig, sys, an = ports()
    h = sys.open()
    assert sys.register(h, "ena0", NR_REG_ALL_NIC) == 0
    port = an.port
    assert port is not None
    sync = EnaSync(an)
    put_frames(port, [[bytes(90)], [bytes(90)], [b""], [bytes(90)]], q=0)
    got = sync.txsync(sys.policy, port.tx, np.arange(2), None, "")
    assert got.rings.tolist() == [0, 1] and got.accepted.tolist() == [True, True]
    assert got.sent.tolist() == [2, 0], "the loop stops at the empty slot"
    assert got.bad_slot.tolist() == [2, -1] and got.errno == 0
    rig.dev.step()
    rig.adapter.handle_interrupts()
    got = sync.rxsync(sys.policy, port.rx, np.arange(2), None, None)
    assert got.rings.tolist() == [0, 1] and got.accepted.tolist() == [True, True]
    assert int(got.reported.sum()) == 2 and got.refilled.tolist() == [0, 0]
    assert got.bad_slot.tolist() == [-1, -1]
    q = int(np.flatnonzero(got.reported)[0])
    assert len(take_packets(port, q)) == 2
    got = sync.rxsync(sys.policy, port.rx, np.arange(2), None, None)
    assert got.reported.tolist() == [0, 0]
    assert got.refilled[q] == 2, "the two released slots are posted again"


def test_sync_refuses_rings_out_of_order_and_another_policy() -> None:
    _, sys, an = ports()
    assert sys.register(sys.open(), "ena0", NR_REG_ALL_NIC) == 0
    port = an.port
    assert port is not None
    sync = EnaSync(an)
    for rings, why in (([1, 0], "ascending"), ([0, 0], "repeated")):
        with pytest.raises(ValueError, match=why):
            sync.txsync(sys.policy, port.tx, np.array(rings), None, "")
    with pytest.raises(ValueError, match="policy"):
        sync.rxsync("as_shipped", port.rx, np.arange(2), None, None)


def test_woken_gathers_every_interrupt_until_cleared() -> None:
    _, sys, an = ports()
    a, b = sys.open(), sys.open()
    assert sys.register(a, "ena0", NR_REG_ONE_NIC, 0) == 0
    assert sys.register(b, "ena0", NR_REG_ONE_NIC, 1) == 0
    assert sys.poll(a, POLLIN).blocks and sys.poll(b, POLLIN).blocks
    port = an.port
    assert port is not None
    sys.woken.clear()
    an.on_irq(np.array([0]))  # type: ignore[misc]
    an.on_irq(np.array([1]))  # type: ignore[misc]
    assert sys.woken == {a, b}
