"""Several host ring pairs (netmap's ``num_host_tx_rings`` / ``num_host_rx_rings`` > 1):
each host kring follows model/netmap_host.py on its own, netmap_transmit spreads the
stack's packets by transmit queue, and transparent mode treats the first host RX kring
apart from the others (netmap.c's nm_may_forward_down / nm_may_forward_up)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from impl.netmap import NR_FORWARD, NS_FORWARD, NetmapAdapter
from impl.netmap.host import split_frames
from impl.netmap.poll import POLLIN
from impl.netmap.poll_rings import netmap_poll_rings
from model.netmap_host import (
    HOST_RX,
    host_rx_init,
    netmap_transmit,
    rxsync_from_host,
    user_release,
)
from model.netmap_host_fwd import HOST_FWD, host_fwd_init, rxsync_as_shipped
from model.netmap_host_fwd import rxsync_hardened as rxsync_fwd_hardened
from model.netmap_sync import AS_SHIPPED, HARDENED

BUF, RINGS = 64, 3


def _conserved(a: NetmapAdapter) -> bool:
    return np.array_equal(np.sort(a.buffer_places()), np.arange(2, a.mem.nbufs))


ops = st.lists(st.one_of(
    st.tuples(st.just("transmit"), st.lists(st.tuples(st.integers(0, 7),
                                                      st.sampled_from([20, 60, BUF + 1])),
                                            min_size=1, max_size=8)),
    st.tuples(st.just("release"), st.tuples(st.integers(0, RINGS - 1), st.integers(0, 4))),
    st.tuples(st.just("rxsync"), st.sampled_from([HARDENED, AS_SHIPPED])),
), max_size=30)


@given(n=st.integers(2, 5), ops=ops)
def test_each_host_rx_ring_follows_the_model(n: int, ops: list[tuple]) -> None:
    """A packet with transmit queue q lands on host RX kring q % 3, queued or dropped by
    that ring's room alone; each ring's abstraction equals its own model after every
    step, and each ring's user reads its packets in the order the stack sent them."""
    a = NetmapAdapter(1, 1, n, buf_size=BUF, host_rings=(1, RINGS))
    h = a.host_rings()
    models = [host_rx_init(n) for _ in range(RINGS)]
    sent: list[list[bytes]] = [[] for _ in range(RINGS)]
    read: list[list[bytes]] = [[] for _ in range(RINGS)]
    for seq, (op, arg) in enumerate(ops):
        if op == "transmit":
            txq = np.array([q for q, _ in arg])
            lengths = np.array([ln for _, ln in arg])
            frames = ((np.arange(len(arg))[:, None] + seq * 8) * 7 + np.arange(
                lengths.max())).astype(np.uint8)
            got = a.netmap_transmit(frames, lengths, txq)
            for q, ln, err, f in zip(txq.tolist(), lengths.tolist(), got.tolist(), frames,
                                     strict=True):
                models[q % RINGS] = netmap_transmit(models[q % RINGS], int(ln <= BUF)).post
                if err == 0:
                    sent[q % RINGS].append(bytes(f[:ln]))
        elif op == "release":
            q, k = arg
            step = user_release(models[q], k)
            if not step.guard:
                continue
            read[q] += split_frames(*h.user_release(k, q))
            models[q] = step.post
        else:
            a.host_rxsync(arg)
            models = [rxsync_from_host(m).post for m in models]
        for q in range(RINGS):
            assert h.abstract_rx(q) == models[q], (op, arg, q)
            assert HOST_RX.violated(models[q]) == []
    for q in range(RINGS):
        assert read[q] == sent[q][: len(read[q])], q
    assert _conserved(a)


def test_host_txsync_sends_up_every_host_tx_ring() -> None:
    a = NetmapAdapter(1, 1, 8, buf_size=BUF, host_rings=(2, 1))
    h = a.host_rings()
    h.user_send(np.full((2, 40), 1, np.uint8), q=0)
    h.user_send(np.full((3, 50), 2, np.uint8), q=1)
    r = a.host_txsync()
    assert (r.accepted, r.sent_up, r.bad_len) == (True, 5, 0)
    assert h.stack.frames() == [bytes([1] * 40)] * 2 + [bytes([2] * 50)] * 3
    assert h.tx.hwcur.tolist() == [2, 3] and h.tx.hwtail.tolist() == [1, 2]


def _marked(policy: str) -> tuple[NetmapAdapter, list[bytes]]:
    """Two host RX krings with NR_FORWARD, two stack packets on each, read and released
    with NS_FORWARD; returns the adapter after a host rxsync by a descriptor bound to
    every TX ring, and the packets."""
    a = NetmapAdapter(1, 1, 8, buf_size=BUF, policy=policy, host_rings=(1, 2))
    h = a.host_rings()
    h.rx.headers["flags"][:] |= NR_FORWARD
    frames = (np.arange(4)[:, None] + 1 + np.zeros(60, np.int64)).astype(np.uint8)
    assert (a.netmap_transmit(frames, txq=np.array([0, 0, 1, 1])) == 0).all()
    a.host_rxsync()
    h.rx.slot_flags[:, :2] |= NS_FORWARD
    h.user_release(2, 0)
    h.user_release(2, 1)
    a.host_rxsync()
    return a, [bytes(f) for f in frames]


def test_transparent_mode_forwards_down_from_the_first_host_ring_only() -> None:
    """nm_may_forward_down: only host RX kring 0 swaps its NS_FORWARD slots into the NIC
    TX rings."""
    a, frames = _marked(HARDENED)
    h = a.host_rings()
    assert h.forwarded == 2 and int(a.tx.ring_head[0]) == 2
    slots = a.slots("tx", 0)
    assert [bytes(a.buffer(int(slots["buf_idx"][i]))[: int(slots["len"][i])])
            for i in range(2)] == frames[:2]
    assert h.stack.frames() == [] and h.returned_up == 0


def test_as_shipped_the_other_host_rings_send_the_stacks_packets_back_up() -> None:
    """The finding: nm_may_forward_up holds on host RX kring 1 (``ring_id !=
    num_rx_rings``), so its released NS_FORWARD packets -- packets the stack sent out --
    go up the stack again as if received; hardened they do not."""
    a, frames = _marked(AS_SHIPPED)
    h = a.host_rings()
    assert h.returned_up == 2
    assert h.stack.frames() == frames[2:]
    b, _ = _marked(HARDENED)
    assert b.host_rings().returned_up == 0 and b.host_rings().stack.frames() == []


def test_poll_on_the_host_rings_sees_a_packet_on_any_of_them() -> None:
    a = NetmapAdapter(1, 1, 8, buf_size=BUF, host_rings=(1, 3))
    h = a.host_rings()
    assert (a.netmap_transmit(np.full((1, 60), 9, np.uint8), txq=np.array([2])) == 0).all()
    got = netmap_poll_rings(HARDENED, (a.tx, a.txdev, []), (a.rx, a.rxdev, []), POLLIN,
                            host=h, host_rings=(False, True))
    assert got.revents == POLLIN
    assert h.rx.hwtail.tolist() == [0, 0, 1]


fwd_ops = st.lists(st.tuples(st.integers(0, RINGS - 1), st.integers(0, 3), st.booleans(),
                             st.sampled_from([AS_SHIPPED, HARDENED])), max_size=8)


@given(ops=fwd_ops)
def test_where_forwarded_packets_go_follows_the_model(ops: list[tuple]) -> None:
    """Stack packets released with NS_FORWARD on host RX kring q, then a host rxsync by a
    descriptor bound to every TX ring or not: the adapter's counts of packets swapped
    down and sent back up equal model/netmap_host_fwd.py's, step by step, and what went
    back up is those packets, in order."""
    a = NetmapAdapter(1, 1, 64, buf_size=BUF, host_rings=(1, RINGS))
    h = a.host_rings()
    h.rx.headers["flags"][:] |= NR_FORWARD
    m = host_fwd_init(64).replace(nrx=1, nhost=RINGS)
    echoed: list[bytes] = []
    for seq, (q, k, can_down, policy) in enumerate(ops):
        frames = (np.full((k, 60), seq * 4 + q) + np.arange(k)[:, None]).astype(np.uint8)
        assert (a.netmap_transmit(frames, txq=np.full(k, q)) == 0).all()
        a.host_rxsync(HARDENED, can_forward_down=False)
        head = int(h.rx.ring_head[q])
        h.rx.slot_flags[q, (head + np.arange(k)) % 64] |= NS_FORWARD
        h.user_release(k, q)
        a.host_rxsync(policy, can_forward_down=can_down)
        step = {AS_SHIPPED: rxsync_as_shipped, HARDENED: rxsync_fwd_hardened}[policy]
        m = step(m, 1 + q, k, int(can_down)).post
        if policy == AS_SHIPPED and q > 0:
            echoed += [bytes(f) for f in frames]
        assert (h.forwarded, h.returned_up) == (m.down, m.echoed), (seq, m)
        assert HOST_FWD.violated(m) == ([] if m.echoed == 0 else ["FWD-NO-ECHO"])
    assert h.stack.frames() == echoed
