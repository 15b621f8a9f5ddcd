"""Transparent mode towards the NIC: ``netmap_sw_to_nic``, vectorized over the released
host RX slots and the hardware TX rings (the spec is :mod:`model.netmap_forward`).

Upstream, at the pinned commit:
``netmap_sw_to_nic``
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L1304)
walks the host RX slots ``[nr_hwcur, rhead)`` and the TX rings in order; while the
current TX ring is not empty for the user (``ring->cur != ring->tail``) it takes the next
host slot, skips it unless it carries ``NS_FORWARD`` (or the global ``dev.netmap.fwd`` is
set), and otherwise swaps its buffer with the one in the TX ring's ``slot[head]``: the
TX slot gets the packet's buffer and length, both slots get ``flags = NS_BUF_CHANGED``,
and the TX ring's ``head = cur = head + 1``.  ``nm_may_forward_down``
(L1284) runs it only for the host RX ring, with ``NR_FORWARD`` in that ring's flags or
``dev.netmap.fwd``, and when the handle is bound to every hardware TX ring
(``NAF_CAN_FORWARD_DOWN``).

The sequential loop is a prefix computation: the ``j``-th forwardable slot goes to the TX
ring whose cumulative room first exceeds ``j`` (a TX ring's room is
``dist(head, tail)``, a whole lap if ``head == tail != cur``, or 0 if ``cur == tail``),
at that ring's ``head`` plus its rank; an unforwardable slot is passed over without
using room.  Slots left when every TX ring is
full are released unsent (as shipped) — see the findings.

The TX ring's ``head``, ``cur`` and ``tail`` are read from the shared ring, which the user
may have scribbled; netmap indexes ``slot[head]`` with no check ("XXX do we trust ring or
kring->rcur,rtail ?").  Policies:

* ``as_shipped`` uses the user's values as netmap does, so a scribbled ``tail`` (or a
  ``cur`` that never meets it) lets the swap overwrite TX slots the kernel owns — released
  slots not yet sent, or in flight.  A ``head`` or ``tail`` that is not a slot index would
  make netmap write past the slot array; no memory here lies there, so such a ring gets
  no packet (the one place this policy is stricter than the C).
* ``hardened`` trusts only the kring: a TX ring takes packets only if
  ``rhead <= head <= cur <= rtail`` (cyclic, all slot indices), and then up to ``rtail``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impl.netmap.kring import Krings
from impl.netmap.layout import NS_BUF_CHANGED, NS_FORWARD
from impl.netmap.prologue import AS_SHIPPED, check_policy
from impl.netmap.ranges import in_cyclic, ring_dist


@dataclass(frozen=True)
class SwToNic:
    """One netmap_sw_to_nic: how many host slots it swapped out, how many forwardable
    ones found no room (released unsent as shipped), and the position (relative to
    ``nr_hwcur``) of the first of those (-1 if none)."""

    forwarded: int
    unsent: int
    first_unsent: int
    kernel_slots: int = 0
    """Swaps that landed outside ``[nr_hwcur, rtail)`` of their TX ring: slots the kernel
    or the NIC owns (possible as shipped, after the user scribbled the TX ring)."""


def tx_room(policy: str, tx: Krings) -> np.ndarray:
    """Per TX ring, how many packets the swap loop can place in it (see the module)."""
    tn = tx.num_slots
    head = tx.ring_head.astype(np.int64)
    cur = tx.ring_cur.astype(np.int64)
    tail = tx.ring_tail.astype(np.int64) if check_policy(policy) == AS_SHIPPED else tx.rtail
    usable = (head < tn) & (cur != tail) & (tail < tn)
    if policy != AS_SHIPPED:
        usable &= (cur < tn) & in_cyclic(tx.rhead, head, tail, tn) & in_cyclic(head, cur,
                                                                               tail, tn)
    room = ring_dist(np.where(usable, head, 0), np.where(usable, tail, 0), tn)
    # cur != tail and head == tail: the loop runs until cur comes round to tail, a lap
    return np.where(usable, np.where(room == 0, tn, room), 0)


def netmap_sw_to_nic(policy: str, host_rx: Krings, tx: Krings,
                     fwd_all: bool = False) -> SwToNic:
    """Swap the forwardable released host RX slots into the hardware TX rings ``tx``."""
    n = host_rx.num_slots
    hwcur, head = int(host_rx.hwcur[0]), int(host_rx.rhead[0])
    src = (hwcur + np.arange(int(ring_dist(hwcur, head, n)))) % n
    marked = np.ones(src.size, bool) if fwd_all else (host_rx.slot_flags[0, src]
                                                      & NS_FORWARD) != 0
    cand = src[marked]
    tn = tx.num_slots
    room = tx_room(policy, tx)
    thead = tx.ring_head.astype(np.int64)
    ends = np.cumsum(room)
    f = int(min(cand.size, int(ends[-1]) if ends.size else 0))
    go = cand[:f]
    ring = np.searchsorted(ends, np.arange(f), side="right")
    rank = np.arange(f) - (ends - room)[ring]
    dst = (thead[ring] + rank) % tn
    src_buf = host_rx.slot_buf_idx[0, go].copy()
    host_rx.slot_buf_idx[0, go] = tx.slot_buf_idx[ring, dst]
    host_rx.slot_flags[0, go] = NS_BUF_CHANGED
    tx.slot_buf_idx[ring, dst] = src_buf
    tx.slot_len[ring, dst] = host_rx.slot_len[0, go]
    tx.slot_flags[ring, dst] = NS_BUF_CHANGED
    hwcur = tx.hwcur[ring]
    user_part = ring_dist(hwcur, dst, tn) < ring_dist(hwcur, tx.rtail[ring], tn)
    taken = np.bincount(ring, minlength=tx.count)
    moved = taken > 0
    new_head = (thead + taken) % tn
    tx.ring_head[moved] = new_head[moved]
    tx.ring_cur[moved] = new_head[moved]
    unsent = int(cand.size - f)
    first = int(np.flatnonzero(marked)[f]) if unsent else -1
    return SwToNic(f, unsent, first, int(f - user_part.sum()))
