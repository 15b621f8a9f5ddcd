"""The host rings' implementation (impl/netmap/host.py) against model/netmap_host.py.

Random operation sequences run on a real adapter and on the model in lockstep: after
every step the implementation's abstraction equals the model's state, every invariant
holds on it, and the bytes agree (what the user reads from the host RX ring is what the
stack transmitted and netmap accepted, in order; what reaches the stack is what the user
sent with a valid length, in order).  No buffer is lost or duplicated.
"""

from __future__ import annotations

import errno

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.netmap import NR_FORWARD, NS_FORWARD, NetmapAdapter
from impl.netmap.host import ETH_HLEN, split_frames
from model.core import U32_MAX
from model.netmap_host import (
    HOST_RX,
    HOST_TX,
    host_rx_init,
    host_tx_init,
    netmap_transmit,
    rxsync_from_host,
    txsync_to_host,
    user_release,
    user_send,
)
from model.netmap_sync import AS_SHIPPED, HARDENED

BUF = 64


def _frames(seq: int, lengths: list[int], width: int) -> np.ndarray:
    """Rows whose bytes name the packet (seq + row) and the byte position."""
    rows = np.arange(len(lengths))[:, None] + seq
    return ((rows * 31 + np.arange(width)[None, :]) % 251).astype(np.uint8)


def _conserved(a: NetmapAdapter) -> bool:
    return np.array_equal(np.sort(a.buffer_places()), np.arange(2, a.mem.nbufs))


rx_ops = st.lists(st.one_of(
    st.tuples(st.just("transmit"), st.lists(st.sampled_from([20, 60, BUF, BUF + 1, 3 * BUF]),
                                            min_size=1, max_size=6)),
    st.tuples(st.just("release"), st.integers(0, 6)),
    st.tuples(st.just("scribble"), st.one_of(st.integers(0, 6), st.just(U32_MAX))),
    st.tuples(st.just("rxsync"), st.sampled_from([HARDENED, AS_SHIPPED])),
), max_size=30)


@given(n=st.integers(2, 5), ops=rx_ops)
def test_host_rx_ring_follows_the_model(n: int, ops: list[tuple]) -> None:
    a = NetmapAdapter(1, 1, n, buf_size=BUF)
    h = a.host_rings()
    model = host_rx_init(n)
    assert h.abstract_rx() == model
    sent: list[bytes] = []
    read: list[bytes] = []
    scribbled = False
    for seq, (op, arg) in enumerate(ops):
        if op == "transmit":
            width = max(arg)
            frames = _frames(seq * 8, arg, width)
            got = a.netmap_transmit(frames, np.array(arg))
            for length, err in zip(arg, got.tolist(), strict=True):
                model = netmap_transmit(model, int(length <= BUF)).post
                assert err in (0, errno.ENOBUFS)
            sent += [bytes(f[:ln])
                     for f, ln, e in zip(frames, arg, got.tolist(), strict=True) if e == 0]
        elif op == "release":
            step = user_release(model, arg)
            if scribbled or not step.guard:
                before = h.abstract_rx()
                if not scribbled:
                    with pytest.raises(ValueError):
                        h.user_release(arg)
                    assert h.abstract_rx() == before
                continue
            read += split_frames(*h.user_release(arg))
            model = step.post
        elif op == "scribble":
            h.rx.ring_head[0] = h.rx.ring_cur[0] = arg
            model = model.replace(head=arg)
            scribbled = True
        else:
            policy = arg if not scribbled else HARDENED  # as shipped, reinit adopts the head
            a.host_rxsync(policy)
            model = rxsync_from_host(model).post
            scribbled = False
        assert h.abstract_rx() == model, (op, arg)
        assert HOST_RX.violated(model, user_view=not scribbled) == []
    assert read == sent[: len(read)]
    assert _conserved(a)


tx_ops = st.lists(st.one_of(
    st.tuples(st.just("send"), st.lists(st.sampled_from([0, 13, ETH_HLEN, 40, BUF, BUF + 1]),
                                        min_size=1, max_size=5)),
    st.tuples(st.just("txsync"), st.sampled_from([HARDENED, AS_SHIPPED])),
), max_size=30)


@given(n=st.integers(2, 5), ops=tx_ops)
def test_host_tx_ring_follows_the_model(n: int, ops: list[tuple]) -> None:
    a = NetmapAdapter(1, 1, n, buf_size=BUF)
    h = a.host_rings()
    model = host_tx_init(n)
    assert h.abstract_tx() == model
    good: list[bytes] = []
    for seq, (op, arg) in enumerate(ops):
        if op == "send":
            bad = sum(1 for ln in arg if not ETH_HLEN <= ln <= BUF)
            step = user_send(model, len(arg), bad)
            frames = _frames(seq * 8, arg, BUF)
            if not step.guard:
                with pytest.raises(ValueError):
                    h.user_send(frames, np.array(arg))
                continue
            h.user_send(frames, np.array(arg))
            good += [bytes(f[:ln])
                     for f, ln in zip(frames, arg, strict=True) if ETH_HLEN <= ln <= BUF]
            model = step.post
        else:
            result = a.host_txsync(arg)
            assert result.accepted
            model = txsync_to_host(model).post
        assert h.abstract_tx() == model, (op, arg)
        assert HOST_TX.violated(model) == []
    assert h.stack.frames() == good[: len(h.stack)]
    assert len(h.stack) == model.sent_up
    assert _conserved(a)


def test_transmit_admits_exactly_the_room_and_drops_long_packets() -> None:
    a = NetmapAdapter(1, 1, 8, buf_size=BUF)
    lengths = np.array([BUF + 1, 30, 30, BUF, 30, 30, 30, 30, 30, 30])
    got = a.netmap_transmit(_frames(0, lengths.tolist(), 2 * BUF), lengths)
    # the too-long one is dropped; then N - 1 = 7 fit; the rest find the ring full
    assert got.tolist() == [errno.ENOBUFS] + [0] * 7 + [errno.ENOBUFS] * 2
    h = a.host_rings()
    assert (h.accepted, h.dropped, len(h.rx_queue)) == (7, 3, 7)
    assert a.host_rxsync().imported == 7
    assert h.rx.slot_len[0, :7].tolist() == lengths[1:8].tolist()
    # the user holds all 7: nothing more is admitted until it releases some
    assert a.netmap_transmit(_frames(9, [30], 30)).tolist() == [errno.ENOBUFS]
    h.user_release(3)
    a.host_rxsync()
    assert a.netmap_transmit(_frames(9, [30] * 4, 30)).tolist() == [0, 0, 0, errno.ENOBUFS]


def test_rxsync_clears_slot_flags_and_refused_head_keeps_the_kernel_state() -> None:
    a = NetmapAdapter(1, 1, 4, buf_size=BUF)
    h = a.host_rings()
    h.rx.slot_flags[0, :] = NS_FORWARD
    a.netmap_transmit(_frames(0, [20, 20], 20))
    a.host_rxsync()
    assert h.rx.slot_flags[0, :2].tolist() == [0, 0]
    assert h.rx.slot_flags[0, 2:].tolist() == [NS_FORWARD, NS_FORWARD]
    h.rx.ring_head[0] = h.rx.ring_cur[0] = 3  # past tail = 2: refused
    result = a.host_rxsync(HARDENED)
    assert not result.accepted
    assert (int(h.rx.hwcur[0]), int(h.rx.ring_head[0]), int(h.rx.ring_tail[0])) == (0, 0, 2)


def test_txsync_skips_bad_lengths_clears_forward_and_refuses_a_head_past_the_ring() -> None:
    a = NetmapAdapter(1, 1, 6, buf_size=BUF)
    h = a.host_rings()
    h.tx.slot_flags[0, :] = NS_FORWARD
    lengths = [13, ETH_HLEN, BUF, BUF + 1]
    h.user_send(_frames(0, lengths, BUF), np.array(lengths))
    result = a.host_txsync()
    assert (result.sent_up, result.bad_len) == (2, 2)
    assert h.tx.slot_flags[0, :4].tolist() == [NS_FORWARD, 0, 0, NS_FORWARD]
    assert [len(f) for f in h.stack.frames()] == [ETH_HLEN, BUF]
    before = h.abstract_tx()
    # The kernel holds no host TX slot, so every in-range head is accepted (3 releases
    # slots 4, 5, 0, 1, 2); only a head that is not a slot index is refused.
    h.tx.ring_head[0] = h.tx.ring_cur[0] = 6
    assert not a.host_txsync(HARDENED).accepted
    assert h.abstract_tx() == before and len(h.stack) == 2


def test_a_slot_pointing_past_the_pool_reads_buffer_zero_as_netmap_does() -> None:
    a = NetmapAdapter(1, 1, 4, buf_size=BUF)
    h = a.host_rings()
    a.mem.bufs[0, :20] = 0xEE
    h.user_send(_frames(0, [20], 20))
    h.tx.slot_buf_idx[0, 0] = a.mem.nbufs + 5
    a.host_txsync()
    assert h.stack.frames() == [bytes([0xEE] * 20)]


def test_adapter_without_host_rings_says_so() -> None:
    a = NetmapAdapter(1, 1, 4, host_rings=False)
    assert a.host is None and a.mem.num_rings == 2
    with pytest.raises(ValueError, match="no host rings"):
        a.host_rxsync()


def _received(n: int = 8, lengths: tuple[int, ...] = (20, 30, 5, 40, 50)) -> NetmapAdapter:
    """An adapter whose RX rings 0 and 1 each received ``lengths`` and reported them."""
    a = NetmapAdapter(1, 2, n, buf_size=BUF)
    k = len(lengths)
    a.device_deliver([0, 1], k, _frames(0, list(lengths) * 2, BUF), np.array(lengths * 2))
    a.rxsync()
    return a


def test_forward_up_sends_marked_released_slots_once_in_order() -> None:
    a = _received()
    h = a.host_rings()
    a.rx.headers["flags"][0] |= NR_FORWARD  # ring 0 only
    for q in (0, 1):
        a.rx.slot_flags[q, [0, 2, 3]] |= NS_FORWARD  # slot 2 has a 5-byte frame
        a.set_user_indices("rx", q, head=4, cur=4)
    expected = [bytes(a.buffer(int(a.rx.slot_buf_idx[0, i]))[:ln])
                for i, ln in ((0, 20), (3, 40))]
    a.rxsync()
    assert h.stack.frames() == expected
    assert (h.forwarded_up, h.bad_len) == (2, 1)
    assert a.rx.slot_flags[0, :4].tolist() == [0, 0, NS_FORWARD, 0]
    assert a.rx.slot_flags[1, [0, 2, 3]].tolist() == [NS_FORWARD] * 3  # no NR_FORWARD
    a.rxsync()  # hwcur moved past them: nothing goes up twice
    assert len(h.stack) == 2


def test_forward_up_with_the_global_switch_sends_every_released_slot() -> None:
    a = _received(lengths=(20, 30, 40))
    h = a.host_rings()
    a.set_user_indices("rx", 1, head=2, cur=2)
    a.rxsync(fwd_all=True)
    assert [len(f) for f in h.stack.frames()] == [20, 30]
    assert h.forwarded_up == 2
