"""The ENA submission queue seen as a netmap TX ring: one language for both halves.

ENA counts with free-running u16 counters (``tail``, ``next_to_comp``) and a power-of-two
depth; netmap keeps slot indices in ``[0, N)`` (``hwcur``, ``hwtail``) and leaves one slot
empty.  The abstraction maps an SQ state to netmap's kernel view of a TX kring:

* ``N      = depth``                       (``ring_size``),
* ``hwcur  = tail & mask``                 the next slot the driver hands to the NIC,
* ``hwtail = (next_to_comp - 1) & mask``   the slot before the oldest one in flight: the
  gap, and netmap's "first buffer owned by the kernel" once the ring is full.

What is proved (proofs/ena_obligations.py, kind ``abstraction``), for every depth and
every u16 value of the counters allowed by ENA-SQ-SPACE:

* ``abstraction-range``: hwcur and hwtail are slots, N >= 2;
* ``abstraction-space``: netmap's free slots ``ring_dist(hwcur, hwtail)`` are exactly
  ``ena_com_free_q_entries`` (``depth - 1 - (u16)(tail - next_to_comp)``);
* ``abstraction-produce``: ena_com_sq_update_tail is netmap's "send one slot": enabled
  exactly when a slot is free, it moves hwcur to ``nm_next(hwcur)`` and leaves hwtail;
* ``abstraction-reclaim``: ena_com_comp_ack(n) is netmap's reclaim: hwcur stays, hwtail
  moves forward by exactly n slots, and the free slots are still ENA's free entries.

A full ring is ``hwcur == hwtail`` on both sides: the empty slot is the one at hwcur,
netmap's gap, and ENA's "depth - 1" entries in flight.

The netmap half is :func:`model.core.ring_dist` / :func:`model.core.ring_next` over
integers, the same functions the netmap ring machines use; the ENA half is the u16 model
of :mod:`model.ena_queue`.  netmap's kring and the meaning of its pointers:
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L365
(nr_hwtail) and #L411 (struct netmap_kring).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.core import Term, solver_module
from model.ena_bits import depth, slot, sub16
from model.ena_queue import EnaSq

__all__ = ["INT_BITS", "NetmapTxView", "netmap_view", "to_int"]


#: Width of the bit-vectors that carry netmap's integers in a proof.
INT_BITS = 32


def to_int(x: Term) -> Term:
    """A u16 value as an integer of netmap's model.  Symbolically a 32-bit two's-complement
    bit-vector (the u16 zero-extended): netmap's ring functions use only ``+``, ``-`` and
    signed comparisons on values of magnitude below 2^18, which 32 bits represent exactly,
    so the arithmetic is the integers' (``BV2Int`` would say the same, but both solvers
    give up on it here)."""
    return x if isinstance(x, int) else solver_module(x).ZeroExt(INT_BITS - 16, x)


@dataclass(frozen=True)
class NetmapTxView:
    """netmap's kernel view of a TX kring: ring size and the two kernel pointers."""

    n: Term
    hwcur: Term
    hwtail: Term


def netmap_view(s: EnaSq) -> NetmapTxView:
    """The abstraction function: N = depth, hwcur = tail & mask, hwtail = (next_to_comp -
    1) & mask."""
    k = s.depth_log2
    return NetmapTxView(n=to_int(depth(k)), hwcur=to_int(slot(s.tail, k)),
                        hwtail=to_int(slot(sub16(s.next_to_comp, 1), k)))
