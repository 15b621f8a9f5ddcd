"""Deliberately broken steps: each must be refuted against the invariant it names.

A proof that cannot fail proves nothing (every invariant needs a mutant it kills).
Every invariant of the netmap TX and RX machines has at least one mutant here: an
off-by-one guard, a dropped range check, the one empty slot given away, a ghost count
not kept, a finalize that forgets ring->tail.  ``ringspec prove`` fails if any survives.
"""

from __future__ import annotations

from model.core import And, If, Or, Step, Term, in_cyclic, in_range, ring_dist, ring_next
from model.netmap_ring import (
    HARDENED,
    RX,
    TX,
    NetmapRing,
    compose_rxsync,
    compose_txsync,
    rx_driver_sync,
    select,
    tx_driver_sync,
)

# ---------------------------------------------------------------------------- TX


def _stored_if(accepted: Term, s: NetmapRing) -> tuple[Term, NetmapRing]:
    """A mutant prologue's (return value, state after): head and the stores when it
    accepts, N and nothing otherwise."""
    post = select(accepted, s.replace(rhead=s.head, rcur=s.cur, tail=s.rtail), s)
    return If(accepted, s.head, s.n), post


@TX.mutant("tx-reclaim-takes-gap", "NM-TX-ONE-SLOT-EMPTY", replaces="txsync_hardened")
def tx_reclaim_takes_gap(s: NetmapRing, sent: Term) -> Step:
    """Reclaim sets hwtail = nic instead of nic - 1, handing the empty slot to the user."""

    def driver(k: NetmapRing, sent: Term) -> NetmapRing:
        return tx_driver_sync(k, sent).replace(hwtail=k.nic)

    return compose_txsync(HARDENED, s, sent, driver=driver)


def _tx_prologue_no_cur_range(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    accepted = And(
        in_range(s.head, s.n),
        in_cyclic(s.rhead, s.head, s.rtail, s.n),
        in_cyclic(s.head, s.cur, s.rtail, s.n),
    )
    return _stored_if(accepted, s)


@TX.mutant("tx-prologue-drops-cur-range", "NM-TX-RANGE", replaces="txsync_hardened")
def tx_prologue_drops_cur_range(s: NetmapRing, sent: Term) -> Step:
    """The hardened prologue without ``cur < N``: the wrapped-case hole of the
    as-shipped prologue again."""
    return compose_txsync(HARDENED, s, sent, prologue=_tx_prologue_no_cur_range)


@TX.mutant("tx-device-completes-one-more", "NM-TX-ORDER", replaces="device_complete")
def tx_device_completes_one_more(s: NetmapRing, k: Term) -> Step:
    """The NIC may complete one slot more than it was handed (off-by-one guard)."""
    step = TX.transitions["device_complete"](s, k=k)
    guard = And(k >= 0, k <= ring_dist(s.nic, s.hwcur, s.n) + 1)
    return Step(guard, step.post)


@TX.mutant("tx-send-not-counted", "NM-TX-PARTITION", replaces="txsync_hardened")
def tx_send_not_counted(s: NetmapRing, sent: Term) -> Step:
    """The driver hands slots to the NIC but the device's count does not grow."""

    def driver(k: NetmapRing, sent: Term) -> NetmapRing:
        return tx_driver_sync(k, sent).replace(busy=k.busy)

    return compose_txsync(HARDENED, s, sent, driver=driver)


@TX.mutant("tx-complete-uncounted", "NM-TX-BUSY-REGS", replaces="device_complete")
def tx_complete_uncounted(s: NetmapRing, k: Term) -> Step:
    """The NIC moves TDH past the slots it completes but its own count of owned slots
    does not drop: registers and count disagree."""
    step = TX.transitions["device_complete"](s, k=k)
    return Step(step.guard, step.post.replace(busy=s.busy))


@TX.mutant("tx-finalize-forgets-tail", "NM-TX-USER-VIEW", replaces="txsync_hardened")
def tx_finalize_forgets_tail(s: NetmapRing, sent: Term) -> Step:
    """Finalize updates rtail but leaves ring->tail stale."""
    return compose_txsync(HARDENED, s, sent, finalize=lambda k: k.replace(rtail=k.hwtail))


# ---------------------------------------------------------------------------- RX


@RX.mutant("rx-nic-fills-gap", "NM-RX-ONE-SLOT-EMPTY", replaces="device_deliver")
def rx_nic_fills_gap(s: NetmapRing, k: Term) -> Step:
    """RDT written as hwcur instead of hwcur - 1: the NIC may fill the empty slot."""
    guard = And(k >= 0, k <= ring_dist(s.nic, s.hwcur, s.n))
    post = RX.transitions["device_deliver"](s, k=k).post
    return Step(guard, post)


def _rx_prologue_no_head_range(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    accepted = And(
        in_range(s.cur, s.n),
        in_cyclic(s.hwcur, s.head, s.hwtail, s.n),
        in_cyclic(s.head, s.cur, s.hwtail, s.n),
    )
    return _stored_if(accepted, s)


@RX.mutant("rx-prologue-drops-head-range", "NM-RX-RANGE", replaces="rxsync_hardened")
def rx_prologue_drops_head_range(s: NetmapRing, refill: Term) -> Step:
    """The hardened RX prologue without ``head < N``.  The callers' ``ret >= n`` test
    still refuses such a head, but only after the prologue has stored it in rhead."""
    return compose_rxsync(HARDENED, s, refill, prologue=_rx_prologue_no_head_range)


def _rx_prologue_one_past_tail(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    limit = ring_next(s.hwtail, s.n)
    accepted = And(
        in_range(s.head, s.n),
        in_range(s.cur, s.n),
        Or(in_cyclic(s.hwcur, s.head, s.hwtail, s.n), s.head == limit),
        Or(in_cyclic(s.head, s.cur, s.hwtail, s.n), s.cur == limit),
    )
    return _stored_if(accepted, s)


@RX.mutant("rx-prologue-one-past-tail", "NM-RX-ORDER", replaces="rxsync_hardened")
def rx_prologue_one_past_tail(s: NetmapRing, refill: Term) -> Step:
    """The RX prologue accepts head one slot past hwtail (off-by-one interval)."""
    return compose_rxsync(HARDENED, s, refill, prologue=_rx_prologue_one_past_tail)


@RX.mutant("rx-refill-not-counted", "NM-RX-PARTITION", replaces="rxsync_hardened")
def rx_refill_not_counted(s: NetmapRing, refill: Term) -> Step:
    """The driver gives buffers back to the NIC but the device's count does not grow."""

    def driver(k: NetmapRing, refill: Term) -> NetmapRing:
        return rx_driver_sync(k, refill).replace(busy=k.busy)

    return compose_rxsync(HARDENED, s, refill, driver=driver)


@RX.mutant("rx-deliver-uncounted", "NM-RX-BUSY-REGS", replaces="device_deliver")
def rx_deliver_uncounted(s: NetmapRing, k: Term) -> Step:
    """The NIC moves RDH past the buffers it fills but its own count of empty buffers does
    not drop."""
    step = RX.transitions["device_deliver"](s, k=k)
    return Step(step.guard, step.post.replace(busy=s.busy))


@RX.mutant("rx-finalize-forgets-tail", "NM-RX-USER-VIEW", replaces="rxsync_hardened")
def rx_finalize_forgets_tail(s: NetmapRing, refill: Term) -> Step:
    """Finalize updates rtail but leaves ring->tail stale."""
    return compose_rxsync(HARDENED, s, refill, finalize=lambda k: k.replace(rtail=k.hwtail))


@RX.mutant("rx-reset-posts-gap", "NM-RX-ONE-SLOT-EMPTY", replaces="netmap_reset")
def rx_reset_posts_gap(s: NetmapRing) -> Step:
    """netmap_reset(RX) posts every free slot including hwcur - 1."""
    post = RX.transitions["netmap_reset"](s).post
    return Step(True, post.replace(busy=post.busy + 1))

