"""The NS_FORWARD swap by buffer identity: impl/netmap/forward.py's netmap_sw_to_nic
against model/netmap_forward_swap.py.

Generated ring states (buffers shuffled between the host RX ring and the TX rings, any
NS_FORWARD marks and other flag bits, lengths, released slots, 1 to 3 TX rings with any
head, cur and tail that are slot indices, dev.netmap.fwd on or off, either policy) go
through the implementation's vectorized swap once.  The slot arrays read before and after
must be exactly what the model's loop computes when its iteration is run, TX ring by TX
ring, on the slots read before (the C runs the same loop into each TX ring, carrying
rxcur over); the multiset of buffer indices over every ring and the free pool is
unchanged; and the model's kernel invariants say what the implementation counted: a
swap into a TX slot the kernel owns (``kernel_slots``) is exactly a break of SWAP-NIC.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.netmap import NS_FORWARD, NetmapAdapter
from impl.netmap.forward import netmap_sw_to_nic
from model.netmap_forward_swap import (
    SWAP,
    Swap,
    entry_tx_consistent,
    iteration_as_shipped,
    iteration_hardened,
    loop_entry,
    run_loop,
)
from model.netmap_sync import AS_SHIPPED, HARDENED

ITERATIONS = {AS_SHIPPED: iteration_as_shipped, HARDENED: iteration_hardened}


def _ints(a: np.ndarray) -> tuple[int, ...]:
    return tuple(int(x) for x in a)


@st.composite
def ring_states(draw: st.DrawFn) -> tuple[NetmapAdapter, str, bool]:
    """An adapter whose host RX ring has released slots to forward and whose TX rings
    hold any slot-index head, cur and tail, with the buffers shuffled across the rings."""
    n = draw(st.integers(2, 6), label="n")
    count = draw(st.integers(1, 3), label="tx rings")
    a = NetmapAdapter(count, 1, n, buf_size=64)
    h, tx = a.host_rings(), a.tx
    slots = np.concatenate([h.rx.slot_buf_idx[0], tx.slot_buf_idx.ravel()])
    perm = np.array(draw(st.permutations(range(slots.size)), label="shuffle"))
    h.rx.slot_buf_idx[0] = slots[perm[:n]]
    tx.slot_buf_idx[:] = slots[perm[n:]].reshape(count, n)
    index = st.integers(0, n - 1)
    h.rx.hwcur[0] = hwcur = draw(index, label="hwcur")
    h.rx.rhead[0] = (hwcur + draw(st.integers(0, n - 1), label="released")) % n
    u16 = st.lists(st.integers(0, 0xFFFF), min_size=n, max_size=n)
    h.rx.slot_flags[0] = draw(u16, label="host flags")
    marks = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n), label="marks"))
    h.rx.slot_flags[0, marks] |= NS_FORWARD
    h.rx.slot_len[0] = draw(st.lists(st.integers(0, 64), min_size=n, max_size=n))
    for k in range(count):
        tx.slot_flags[k] = draw(u16, label="tx flags")
        tx.slot_len[k] = draw(st.lists(st.integers(0, 64), min_size=n, max_size=n))
        tx.hwcur[k], tx.rtail[k] = draw(index, label="hwcur"), draw(index, label="rtail")
        tx.rhead[k] = tx.hwcur[k]  # after a txsync: every released slot handed over
        if draw(st.booleans(), label="consistent"):
            # nr_hwcur <= head <= cur <= tail = rtail, as the TX prologue accepts
            span = (int(tx.rtail[k]) - int(tx.hwcur[k])) % n
            head = draw(st.integers(0, span), label="head")
            cur = draw(st.integers(head, span), label="cur")
            tx.ring_head[k] = (int(tx.hwcur[k]) + head) % n
            tx.ring_cur[k] = (int(tx.hwcur[k]) + cur) % n
            tx.ring_tail[k] = tx.rtail[k]
        else:  # scribbled, within the slot array
            tx.ring_head[k], tx.ring_cur[k], tx.ring_tail[k] = (draw(index), draw(index),
                                                                 draw(index))
    policy = draw(st.sampled_from((AS_SHIPPED, HARDENED)), label="policy")
    return a, policy, draw(st.booleans(), label="dev.netmap.fwd")


def model_swap(a: NetmapAdapter, policy: str, fwd_all: bool) -> list[tuple[Swap, Swap]]:
    """The model's loop, run on the slots as they are now into each TX ring in turn (the
    host RX slots and rxcur carried from one ring to the next): per ring, the loop's
    entry and end states."""
    h, tx, n = a.host_rings(), a.tx, a.host_rings().n
    rx = (_ints(h.rx.slot_buf_idx[0]), _ints(h.rx.slot_len[0]), _ints(h.rx.slot_flags[0]))
    rxcur, ends = int(h.rx.hwcur[0]), []
    for k in range(tx.count):
        entry = loop_entry(n, tx.num_slots, int(fwd_all), rxcur, int(h.rx.rhead[0]),
                           int(tx.hwcur[k]), int(tx.rtail[k]), int(tx.ring_head[k]),
                           int(tx.ring_cur[k]), int(tx.ring_tail[k]), *rx,
                           _ints(tx.slot_buf_idx[k]), _ints(tx.slot_len[k]),
                           _ints(tx.slot_flags[k]))
        end = run_loop(entry, ITERATIONS[policy])
        ends.append((entry, end))
        rx, rxcur = (end.rx, end.rx_len, end.rx_flags), end.rxcur
    return ends


@settings(settings.default, max_examples=4 * settings.default.max_examples)
@given(state=ring_states())
def test_the_swap_moves_exactly_the_buffers_the_model_moves(
    state: tuple[NetmapAdapter, str, bool],
) -> None:
    a, policy, fwd_all = state
    h, tx = a.host_rings(), a.tx
    loops = model_swap(a, policy, fwd_all)
    ends = [end for _, end in loops]
    held = np.sort(a.buffer_places())
    fw = netmap_sw_to_nic(policy, h.rx, tx, fwd_all)
    last = ends[-1]
    assert (_ints(h.rx.slot_buf_idx[0]), _ints(h.rx.slot_len[0]),
            _ints(h.rx.slot_flags[0])) == (last.rx, last.rx_len, last.rx_flags)
    for k, end in enumerate(ends):
        assert _ints(tx.slot_buf_idx[k]) == end.tx, k
        assert _ints(tx.slot_len[k]) == end.tx_len, k
        assert _ints(tx.slot_flags[k]) == end.tx_flags, k
        assert (int(tx.ring_head[k]), int(tx.ring_cur[k])) == (end.thead, end.tcur), k
    assert fw.forwarded == sum(end.sent for end in ends)
    assert np.array_equal(np.sort(a.buffer_places()), held)
    nic = 0
    for entry, end in loops:
        broken = SWAP.violated(end, user_view=bool(entry_tx_consistent(entry)))
        assert set(broken) <= ({"SWAP-NIC"} if policy == AS_SHIPPED else set()), broken
        nic += "SWAP-NIC" in broken
    assert (nic > 0) == (fw.kernel_slots > 0)
