"""The state of one netmap ring and its kring, and the regions it splits into.

Upstream: head/cur/tail of
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/net/netmap.h#L285
and nr_hwcur, nr_hwtail, rhead/rcur/rtail of
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L411.
The regions are drawn in model/netmap_ring.py's docstring; this module only names the fields
and measures the regions, with the ring arithmetic of model.core.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Or, Term, Var, ring_dist, ring_next, ring_prev


@dataclass(frozen=True)
class NetmapRing:
    """One netmap ring and its kring: user fields, kernel fields, device pointer, ghost."""

    n: Term
    head: Term
    cur: Term
    tail: Term
    hwcur: Term
    hwtail: Term
    rhead: Term
    rcur: Term
    rtail: Term
    nic: Term
    busy: Term

    def __repr__(self) -> str:
        return (
            f"NetmapRing(n={self.n}, user=(head={self.head}, cur={self.cur}, tail={self.tail}), "
            f"kring=(hwcur={self.hwcur}, hwtail={self.hwtail}, rhead={self.rhead}, "
            f"rcur={self.rcur}, rtail={self.rtail}), nic={self.nic}, busy={self.busy})"
        )

    def replace(self, **changes: Term) -> NetmapRing:
        return dataclasses.replace(self, **changes)


RING_VARS = (
    Var("n", "constant", "size", "num_slots / nkr_num_slots: slots in the ring (N >= 2)."),
    Var("head", "user", "u32", "ring->head: first slot the user owns; written by the user."),
    Var("cur", "user", "u32", "ring->cur: the user's wake-up point, head <= cur <= tail."),
    Var("tail", "user", "u32", "ring->tail: first kernel slot; written by the kernel only "
        "(the user can scribble it, the prologue restores it)."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: TX: next slot to hand to the NIC; RX: "
        "next slot to give back to the NIC."),
    Var("hwtail", "kernel", "index", "kring->nr_hwtail: TX: the first buffer owned by the "
        "kernel, which is also the always-empty slot; RX: first slot not yet reported as "
        "received."),
    Var("rhead", "kernel", "index", "kring->rhead: the head the last prologue stored (the "
        "as-shipped RX prologue and reinit store it unvalidated)."),
    Var("rcur", "kernel", "index", "kring->rcur: the cur the last prologue stored; the "
        "as-shipped prologues store it unvalidated when the window wraps."),
    Var("rtail", "kernel", "index", "kring->rtail: the tail the kernel last showed the user."),
    Var("nic", "device", "index", "The NIC head register (TDH/RDH) in kring indices: TX: next "
        "slot the NIC completes; RX: next slot the NIC fills."),
    Var("busy", "ghost", "count", "Ghost: slots the device owns (TX in flight; RX empty "
        "buffers posted).  Needed because nic == hwcur aliases empty and full."),
)


def select(cond: Term, a: NetmapRing, b: NetmapRing) -> NetmapRing:
    """Field-wise ``If(cond, a, b)``."""
    if isinstance(cond, bool):
        return a if cond else b
    return NetmapRing(
        **{
            f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
            for f in dataclasses.fields(NetmapRing)
        }
    )


def clamp(k: Term, hi: Term) -> Term:
    """min(k, hi) for a driver that may do less than asked."""
    return If(k <= hi, k, hi)


# ---------------------------------------------------------------------------- region sizes


def tx_regions(s: NetmapRing) -> dict[str, Term]:
    """Sizes of the TX regions (module docstring), in ring order from hwcur."""
    return {
        "pending": ring_dist(s.hwcur, s.rhead, s.n),
        "user": ring_dist(s.rhead, s.rtail, s.n),
        "unshown": ring_dist(s.rtail, s.hwtail, s.n),
        "gap": 1,
        "completed": ring_dist(ring_next(s.hwtail, s.n), s.nic, s.n),
        "in_flight": ring_dist(s.nic, s.hwcur, s.n),
    }


def rx_regions(s: NetmapRing) -> dict[str, Term]:
    """Sizes of the RX regions (module docstring), in ring order from hwcur."""
    return {
        "pending": ring_dist(s.hwcur, s.rhead, s.n),
        "user": ring_dist(s.rhead, s.rtail, s.n),
        "unshown": ring_dist(s.rtail, s.hwtail, s.n),
        "ready": ring_dist(s.hwtail, s.nic, s.n),
        "free": ring_dist(s.nic, ring_prev(s.hwcur, s.n), s.n),
        "gap": 1,
    }


# ---------------------------------------------------------------------------- NIC registers


def tx_tail_register(s: NetmapRing) -> Term:
    """TDT in kring indices: after handing slots to the NIC the driver writes the tail
    register from hwcur (ixgbe_netmap_txsync writes TDT = k2n(hwcur))."""
    return s.hwcur


def rx_tail_register(s: NetmapRing) -> Term:
    """RDT in kring indices: after a refill the driver writes the tail register one slot
    behind hwcur, keeping one slot empty (ixgbe_netmap_rxsync writes RDT = k2n(hwcur) - 1)."""
    return ring_prev(s.hwcur, s.n)


def busy_matches_registers(busy: Term, head_reg: Term, tail_reg: Term, n: Term) -> Term:
    """The device owns ``dist(head register, tail register)`` slots, reading equal
    registers as empty (0) or full (N) as ``busy`` says: busy = dist, or dist = 0 and
    busy = N."""
    dist = ring_dist(head_reg, tail_reg, n)
    return Or(Eq(busy, dist), And(Eq(dist, 0), Eq(busy, n)))


def user_space(s: NetmapRing) -> Term:
    """nm_ring_space(): slots in [head, tail) as the user computes it."""
    return ring_dist(s.head, s.tail, s.n)
