"""Transparent mode towards the NIC (impl/netmap/forward.py) against
model/netmap_forward.py.

Random sequences of stack traffic, host RX releases with NS_FORWARD marks, TX slots the
user prepares and sends, txsyncs, NIC completions and host rxsyncs (as shipped, after
send, hardened) run on an adapter with one TX ring and on the model in lockstep.  After
every step the adapter, read as the model's counts, equals the model's state; the
ghosts the model keeps are observed, not assumed: ``clobbered`` counts prepared TX slots
whose buffer the swap replaced.  Throughout, every buffer is in exactly one place and no
packet from the stack reaches the wire twice.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.netmap import NR_FORWARD, NS_BUF_CHANGED, NS_FORWARD, NetmapAdapter
from impl.netmap.forward import netmap_sw_to_nic
from impl.netmap.host import split_frames
from impl.netmap.kring import Krings
from model.netmap_forward import (
    FORWARD,
    Forward,
    forward_init,
    host_import,
    rxsync_after_send,
    rxsync_from_host,
    rxsync_hardened,
    tx_push,
    tx_reclaim,
    user_prepare_tx,
    user_release_host,
    user_send_tx,
    user_want_room,
)
from model.netmap_sync import AS_SHIPPED, HARDENED

RXSYNCS = {"shipped": (AS_SHIPPED, rxsync_from_host),
           "after_send": (AS_SHIPPED, rxsync_after_send),
           "hardened": (HARDENED, rxsync_hardened)}


class Rig:
    """An adapter with one TX ring and host rings, NR_FORWARD on the host RX ring, and
    the user-side bookkeeping the model's ghosts stand for."""

    def __init__(self, n: int) -> None:
        self.a = NetmapAdapter(1, 1, n, buf_size=64)
        self.h = self.a.host_rings()
        self.h.rx.headers["flags"][0] |= NR_FORWARD
        self.n = n
        self.qlen = 0
        self.prepared = self.marked_total = self.clobbered = 0
        self.seq = 0

    def frames(self, k: int, tag: int) -> np.ndarray:
        """``k`` 40-byte frames: ``tag``, then a serial number no other frame has."""
        out = np.zeros((k, 40), np.uint8)
        serial = self.seq + np.arange(k)
        out[:, 0] = tag
        out[:, 1:5] = (serial[:, None] >> (8 * np.arange(4))) & 0xFF
        self.seq += k
        return out

    def marked_packets(self) -> list[bytes]:
        """The packets queued on the host RX ring from hwcur on, including those not
        yet imported, that carry NS_FORWARD, in ring order."""
        h, n = self.h, self.n
        hwcur, head = int(h.rx.hwcur[0]), int(h.rx.ring_head[0])
        idx = (hwcur + np.arange((head - hwcur) % n)) % n
        idx = idx[(h.rx.slot_flags[0, idx] & NS_FORWARD) != 0]
        return self._packets(h.rx, idx)

    def tx_packets(self, idx: np.ndarray) -> list[bytes]:
        return self._packets(self.a.tx, idx)

    def _packets(self, kr: Krings, idx: np.ndarray) -> list[bytes]:
        bufs = kr.slot_buf_idx[0, idx].astype(np.int64)
        return [bytes(self.a.mem.bufs[b, :ln]) for b, ln in zip(bufs.tolist(),
                                                                 kr.slot_len[0, idx].tolist(),
                                                                 strict=True)]

    def abstract(self) -> Forward:
        h, tx, n = self.h, self.a.tx, self.n
        hwcur, head = int(h.rx.hwcur[0]), int(h.rx.ring_head[0])
        idx = (hwcur + np.arange((head - hwcur) % n)) % n
        marked = int(((h.rx.slot_flags[0, idx] & NS_FORWARD) != 0).sum())
        return Forward(n=n, hwcur=hwcur, head=head, hwtail=int(h.rx.hwtail[0]), marked=marked,
                       thwcur=int(tx.hwcur[0]), thead=int(tx.ring_head[0]),
                       tcur=int(tx.ring_cur[0]), ttail=int(tx.ring_tail[0]),
                       trtail=int(tx.rtail[0]), prepared=self.prepared,
                       marked_total=self.marked_total, forwarded=h.forwarded,
                       dropped=h.unsent, clobbered=self.clobbered,
                       kernel_hit=min(h.kernel_slots, 1), outside=0)


OPS = ("stack", "stack", "release", "release", "rxsync", "rxsync", "txsync", "txsync",
       "nic", "nic", "prepare", "send", "want_room")


@settings(settings.default, max_examples=5 * settings.default.max_examples)
@given(n=st.integers(2, 5), data=st.data())
def test_transparent_mode_follows_the_model(n: int, data: st.DataObject) -> None:
    rig = Rig(n)
    a, h, tx = rig.a, rig.h, rig.a.tx
    model = forward_init(n)
    assert rig.abstract() == model
    for _ in range(data.draw(st.integers(10, 40), label="steps")):
        op = data.draw(st.sampled_from(OPS), label="op")
        if op == "stack":
            got = a.netmap_transmit(rig.frames(data.draw(st.integers(1, n)), 0xAA))
            rig.qlen += int((got == 0).sum())
        elif op == "release":
            k = data.draw(st.integers(0, (model.hwtail - model.head) % n), label="k")
            mark = np.array(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)),
                            dtype=bool)
            step = user_release_host(model, k, int(mark.sum()))
            assert step.guard
            head = int(h.rx.ring_head[0])
            idx = (head + np.arange(k)) % n
            h.rx.slot_flags[0, idx[mark]] |= NS_FORWARD
            h.rx.ring_head[0] = h.rx.ring_cur[0] = (head + k) % n
            rig.marked_total += int(mark.sum())
            model = step.post
        elif op == "prepare":
            k = data.draw(st.integers(1, n), label="k")
            step = user_prepare_tx(model, k)
            if not step.guard:
                continue
            idx = (int(tx.ring_head[0]) + rig.prepared + np.arange(k)) % n
            bufs = tx.slot_buf_idx[0, idx].astype(np.int64)
            a.mem.bufs[bufs, :40] = rig.frames(k, 0xBB)
            tx.slot_len[0, idx] = 40
            rig.prepared += k
            model = step.post
        elif op == "send":
            head = (int(tx.ring_head[0]) + rig.prepared) % n
            tx.ring_head[0] = tx.ring_cur[0] = head
            rig.prepared = 0
            model = user_send_tx(model).post
        elif op == "want_room":
            tx.ring_cur[0] = tx.ring_tail[0]
            model = user_want_room(model).post
        elif op == "txsync":
            old_tail = int(tx.ring_tail[0])
            assert a.txsync().accepted.all()
            model = tx_push(model).post
            step = tx_reclaim(model, (int(tx.ring_tail[0]) - old_tail) % n)
            assert step.guard
            model = step.post
        elif op == "nic":
            a.device_complete(0, data.draw(st.integers(0, int(a.txdev.owned[0]))))
        else:
            name = data.draw(st.sampled_from(sorted(RXSYNCS)), label="rxsync")
            policy, transition = RXSYNCS[name]
            if rig.prepared and transition is not rxsync_from_host:
                continue
            step = host_import(model, rig.qlen)
            assert step.guard
            thead = int(tx.ring_head[0])
            prep = (thead + np.arange(rig.prepared)) % n
            before = tx.slot_buf_idx[0, prep].copy()
            waiting = rig.marked_packets()
            result = a.host_rxsync(policy)
            got = (thead + np.arange(result.forwarded)) % n
            assert rig.tx_packets(got) == waiting[: result.forwarded]
            assert (tx.slot_flags[0, got] == NS_BUF_CHANGED).all()
            lost = int((tx.slot_buf_idx[0, prep] != before).sum())
            rig.clobbered += lost
            rig.prepared -= lost
            rig.qlen = 0
            model = transition(step.post).post
        assert rig.abstract() == model, op
        assert set(FORWARD.violated(model)) <= {"FWD-NO-DROP", "FWD-USER-SLOTS"}
    places = np.sort(a.buffer_places())
    assert np.array_equal(places, np.arange(2, a.mem.nbufs))
    wire = split_frames(a.wire.lengths(), a.wire.data())
    from_stack = [f for f in wire if f[0] == 0xAA]
    assert len(from_stack) == len(set(from_stack))


def _ring_with_released(n: int, marks: list[int]) -> NetmapAdapter:
    a = NetmapAdapter(2, 1, n, buf_size=64)
    h = a.host_rings()
    a.netmap_transmit(np.full((len(marks), 20), 7, np.uint8))
    a.host_rxsync()
    h.rx.slot_flags[0, : len(marks)] = np.where(marks, NS_FORWARD, 0)
    h.rx.ring_head[0] = h.rx.ring_cur[0] = h.rx.rhead[0] = len(marks)
    return a


def test_the_swap_fills_the_tx_rings_in_order_and_skips_unmarked_slots() -> None:
    a = _ring_with_released(8, [1, 0, 1, 1, 0, 1, 1])
    h, tx = a.host_rings(), a.tx
    tx.ring_head[0], tx.ring_cur[0] = 5, 6  # ring 0: room from 5 to tail 7, 2 slots
    host_bufs = h.rx.slot_buf_idx[0, :7].copy()  # ring 1 is fresh: room 7
    tx_bufs = tx.slot_buf_idx.copy()
    got = netmap_sw_to_nic(AS_SHIPPED, h.rx, tx)
    assert (got.forwarded, got.unsent) == (5, 0)
    # marked slots 0, 2 go to ring 0 slots 5, 6; marked 3, 5, 6 to ring 1 slots 0, 1, 2
    assert tx.slot_buf_idx[0, 5:7].tolist() == host_bufs[[0, 2]].tolist()
    assert tx.slot_buf_idx[1, 0:3].tolist() == host_bufs[[3, 5, 6]].tolist()
    assert h.rx.slot_buf_idx[0, [0, 2, 3, 5, 6]].tolist() == (
        tx_bufs[0, 5:7].tolist() + tx_bufs[1, 0:3].tolist())
    assert h.rx.slot_flags[0, [0, 2, 3, 5, 6]].tolist() == [NS_BUF_CHANGED] * 5
    assert h.rx.slot_flags[0, [1, 4]].tolist() == [0, 0]
    assert (int(tx.ring_head[0]), int(tx.ring_cur[0])) == (7, 7)
    assert (int(tx.ring_head[1]), int(tx.ring_cur[1])) == (3, 3)


@pytest.mark.parametrize("policy", [AS_SHIPPED, HARDENED])
def test_a_scribbled_tx_tail_lets_the_shipped_swap_overwrite_kernel_slots(policy: str) -> None:
    a = NetmapAdapter(1, 1, 4, buf_size=64)
    h, tx = a.host_rings(), a.tx
    h.rx.headers["flags"][0] |= NR_FORWARD
    tx.ring_head[0] = tx.ring_cur[0] = 2
    a.txsync(sent=0)  # the NIC takes nothing: slots 0, 1 stay released, the kernel's
    a.netmap_transmit(np.full((3, 20), 7, np.uint8))
    a.host_rxsync()
    h.rx.slot_flags[0, :3] = NS_FORWARD
    h.rx.ring_head[0] = h.rx.ring_cur[0] = 3
    kernel_bufs = tx.slot_buf_idx[0, :2].copy()
    tx.ring_tail[0] = 1  # claims slots 2, 3, 0: slot 0 is the kernel's
    result = a.host_rxsync(policy)
    if policy == AS_SHIPPED:
        assert result.forwarded == 3 and tx.slot_buf_idx[0, 0] != kernel_bufs[0]
        assert h.kernel_slots == 1
    else:
        assert result.forwarded == 1 and tx.slot_buf_idx[0, :2].tolist() == kernel_bufs.tolist()
        assert h.kernel_slots == 0
    places = np.sort(a.buffer_places())
    assert np.array_equal(places, np.arange(2, a.mem.nbufs))
