"""Deliberately broken enter/exit steps, each refuted against the invariant it names.

Every invariant of each switch machine (classic and RFC, RX and TX) has a mutant here,
written as the bug a driver porting the protocol could plausibly ship: rxsync handing the
user a slot still backed by an mbuf, the normal refill path left active in netmap mode,
leaving before the NIC has given its netmap buffers back, a flush that forgets to count,
the link bounced anyway, netmap_reset forgetting the empty slot.
``ringspec prove`` fails if any survives.
"""

from __future__ import annotations

from model import netmap_switch_tx as tx
from model.core import And, Eq, Step, Term
from model.netmap_switch import (
    CLASSIC_RX,
    LEAVING,
    NETMAP,
    RFC_RX,
    STACK,
    Min,
    SwitchRx,
    harvest,
    ready,
    regif_classic,
    regif_rfc,
    release,
    ring_reset_exit,
    select,
    unregif_classic,
    unregif_rfc,
    wire,
)


@RFC_RX.mutant("harvest-unclamped", "SW-RX-SHAPE", replaces="harvest")
def harvest_unclamped(s: SwitchRx, k: Term, j: Term) -> Step:
    """rxsync trusts the count it was asked for instead of the filled descriptors: it
    takes k even when fewer packets arrived."""
    step = harvest(s, k, j)
    nm_m = Min(k, s.ready_m)
    grabbed = s.replace(ready_m=s.ready_m - nm_m, ready_n=s.ready_n - (k - nm_m),
                        user=s.user + k, to_user=s.to_user + k, since=s.since + k,
                        copies=s.copies + nm_m)
    return Step(step.guard, select(Eq(s.mode, NETMAP), grabbed, step.post))


@RFC_RX.mutant("close-forgets-user-slots", "SW-RX-SLOTS", replaces="unregif_rfc")
def close_forgets_user_slots(s: SwitchRx) -> Step:
    """Closing frees the user's netmap buffers but never reposts those descriptors."""
    step = unregif_rfc(s)
    return Step(step.guard, step.post.replace(posted_m=s.posted_m))


@RFC_RX.mutant("close-frees-nic-buffers", "SW-RX-BUFFERS", replaces="unregif_rfc")
def close_frees_nic_buffers(s: SwitchRx) -> Step:
    """Closing returns every netmap buffer to the allocator at once, including the ones
    still posted in NIC descriptors: the NIC may DMA into a buffer that is reused."""
    step = unregif_rfc(s)
    return Step(step.guard, step.post.replace(pool=step.post.pool + s.posted_n))


@RFC_RX.mutant("ring-reset-forgets-posted", "SW-RX-BUFFERS", replaces="ring_reset_exit")
def ring_reset_forgets_posted(s: SwitchRx) -> Step:
    """The ring reset reclaims the filled descriptors' buffers but not the posted ones:
    they leak."""
    step = ring_reset_exit(s)
    return Step(step.guard, step.post.replace(pool=s.pool + s.ready_n))


@CLASSIC_RX.mutant("classic-enter-takes-one-less", "SW-RX-BUFFERS", replaces="regif_classic")
def classic_enter_takes_one_less(s: SwitchRx) -> Step:
    """The classic switch takes N-1 buffers for the N-1 posted descriptors and forgets
    the empty slot's own buffer."""
    step = regif_classic(s)
    return Step(step.guard, step.post.replace(pool=s.pool - (s.n - 1)))


@RFC_RX.mutant("rxsync-hands-over-mbuf", "SW-RX-NO-MBUF-TO-USER", replaces="harvest")
def rxsync_hands_over_mbuf(s: SwitchRx, k: Term, j: Term) -> Step:
    """rxsync reports a packet that arrived in an mbuf without copying it: the user's
    slot is backed by a stack buffer it cannot map."""
    step = harvest(s, k, j)
    h = Min(k, ready(s))
    nm_m = Min(h, s.ready_m)
    leaked = step.post.replace(user=step.post.user - nm_m, user_m=s.user_m + nm_m,
                               copies=s.copies)
    return Step(step.guard, select(Eq(s.mode, NETMAP), leaked, step.post))


@CLASSIC_RX.mutant("classic-flush-uncounted", "SW-RX-CONSERVE", replaces="regif_classic")
def classic_flush_uncounted(s: SwitchRx) -> Step:
    """The flush discards the received packets without counting them as dropped."""
    step = regif_classic(s)
    return Step(step.guard, step.post.replace(flushed=s.flushed))


@RFC_RX.mutant("leave-before-nic-returns", "SW-RX-NORMAL-CLEAN", replaces="leave_done")
def leave_before_nic_returns(s: SwitchRx) -> Step:
    """Leaving is declared done as soon as it starts, with netmap buffers still in NIC
    descriptors."""
    return Step(True, select(Eq(s.mode, LEAVING), s.replace(mode=STACK), s))


@RFC_RX.mutant("nic-fills-netmap-first", "SW-RX-FIFO", replaces="wire")
def nic_fills_netmap_first(s: SwitchRx, k: Term, j: Term) -> Step:
    """The model of the NIC fills the newest descriptors (the netmap ones) before the
    mbufs posted ahead of them."""
    step = wire(s, k, j)
    f = Min(k, s.posted_m + s.posted_n)
    in_n = Min(f, s.posted_n)
    swapped = step.post.replace(
        posted_m=s.posted_m - (f - in_n), posted_n=s.posted_n - in_n,
        ready_m=s.ready_m + (f - in_n), ready_n=s.ready_n + in_n)
    return Step(step.guard, select(And(Eq(s.mode, NETMAP), Eq(s.link, 1)), swapped, step.post))


@RFC_RX.mutant("refill-posts-mbuf", "SW-RX-COPIES", replaces="release")
def refill_posts_mbuf(s: SwitchRx, k: Term) -> Step:
    """The normal refill path stays active in netmap mode and posts fresh mbufs where the
    user released slots: the ring never stops copying."""
    step = release(s, k)
    r = Min(k, s.user)
    bad = step.post.replace(posted_n=s.posted_n, posted_m=s.posted_m + r)
    return Step(step.guard, select(Eq(s.mode, NETMAP), bad, step.post)
                if not isinstance(s.mode, int) else (bad if s.mode == NETMAP else step.post))


@RFC_RX.mutant("rxsync-netmap-first", "SW-RX-ONE-ROUND", replaces="harvest")
def rxsync_netmap_first(s: SwitchRx, k: Term, j: Term) -> Step:
    """rxsync harvests the netmap-buffer packets before the older mbuf ones."""
    step = harvest(s, k, j)
    h = Min(k, ready(s))
    nm_n = Min(h, s.ready_n)
    bad = step.post.replace(ready_n=s.ready_n - nm_n, ready_m=s.ready_m - (h - nm_n),
                            copies=s.copies + (h - nm_n))
    return Step(step.guard, select(Eq(s.mode, NETMAP), bad, step.post))


@RFC_RX.mutant("rfc-bounces-link", "SW-RX-LINK-UP", replaces="regif_rfc")
def rfc_bounces_link(s: SwitchRx) -> Step:
    """The RFC driver still calls its down/up routine around the switch."""
    step = regif_rfc(s)
    return Step(step.guard, step.post.replace(link=0))


# ---------------------------------------------------------------------------- TX


@tx.RFC_TX.mutant("user-send-unclamped", "SW-TX-SHAPE", replaces="user_send")
def user_send_unclamped(s: tx.SwitchTx, k: Term) -> Step:
    """txsync hands the NIC as many slots as asked, not as many as the user owns."""
    sent = s.replace(user=s.user - k, flight_n=s.flight_n + k, from_user=s.from_user + k,
                     since=s.since + k)
    return Step(True, tx.select(Eq(s.mode, NETMAP), sent, s))


@tx.RFC_TX.mutant("enter-gives-mbuf-slots", "SW-TX-SLOTS", replaces="regif_rfc")
def enter_gives_mbuf_slots(s: tx.SwitchTx) -> Step:
    """The switch gives the user every slot the netmap buffers do not occupy, including
    the ones whose descriptors still carry stack packets."""
    step = tx.regif_rfc(s)
    return Step(step.guard, step.post.replace(user=s.n - 1 - s.flight_n - s.done_n))


@tx.RFC_TX.mutant("close-frees-in-flight", "SW-TX-BUFFERS", replaces="unregif_rfc")
def close_frees_in_flight(s: tx.SwitchTx) -> Step:
    """Closing frees the netmap buffers the NIC is still sending from."""
    step = tx.unregif_rfc(s)
    return Step(step.guard, step.post.replace(pool=step.post.pool + s.flight_n + s.done_n))


@tx.CLASSIC_TX.mutant("tx-flush-uncounted", "SW-TX-CONSERVE", replaces="regif_classic")
def tx_flush_uncounted(s: tx.SwitchTx) -> Step:
    """The flush frees the packets in flight without counting them as dropped."""
    step = tx.regif_classic(s)
    return Step(step.guard, step.post.replace(flushed=s.flushed))


@tx.CLASSIC_TX.mutant("flush-skips-completed-mbufs", "SW-TX-MBUFS-ONCE",
                      replaces="regif_classic")
def flush_skips_completed_mbufs(s: tx.SwitchTx) -> Step:
    """The flush frees the mbufs in flight and forgets the completed, not yet cleaned
    ones: they leak."""
    step = tx.regif_classic(s)
    return Step(step.guard, step.post.replace(mbufs_freed=s.mbufs_freed + s.flight_m))


@tx.RFC_TX.mutant("tx-leave-before-drained", "SW-TX-NORMAL-CLEAN", replaces="leave_done")
def tx_leave_before_drained(s: tx.SwitchTx) -> Step:
    """Leaving is declared done without waiting for the NIC to drain."""
    return Step(True, tx.select(Eq(s.mode, LEAVING), s.replace(mode=STACK), s))


@tx.RFC_TX.mutant("nic-completes-netmap-first", "SW-TX-FIFO", replaces="complete")
def nic_completes_netmap_first(s: tx.SwitchTx, k: Term, j: Term) -> Step:
    """The model of the NIC completes the user's packets before the older stack ones."""
    step = tx.complete(s, k, j)
    c = Min(k, s.flight_m + s.flight_n)
    c_n = Min(c, s.flight_n)
    bad = step.post.replace(flight_m=s.flight_m - (c - c_n), flight_n=s.flight_n - c_n,
                            done_m=s.done_m + (c - c_n), done_n=s.done_n + c_n)
    return Step(step.guard, tx.select(And(Eq(s.mode, NETMAP), Eq(s.link, 1)), bad,
                                      step.post))


@tx.RFC_TX.mutant("lazy-mbuf-cleanup", "SW-TX-ONE-ROUND", replaces="cleanup")
def lazy_mbuf_cleanup(s: tx.SwitchTx) -> Step:
    """txsync reclaims the user's completed slots but leaves completed stack mbufs for a
    later pass: the user's slots cycle while mbufs linger past one round."""
    step = tx.cleanup(s)
    lazy = s.replace(done_n=0, user=s.user + s.done_n)
    return Step(step.guard, tx.select(Eq(s.mode, NETMAP), lazy, step.post))


@tx.RFC_TX.mutant("tx-rfc-bounces-link", "SW-TX-LINK-UP", replaces="regif_rfc")
def tx_rfc_bounces_link(s: tx.SwitchTx) -> Step:
    """The RFC driver still calls its down/up routine around the switch."""
    step = tx.regif_rfc(s)
    return Step(step.guard, step.post.replace(link=0))


# ---------------------------------------------------------------------------- classic
# The classic machines share most transitions with the RFC's, so the same bugs are
# registered on them too (the classic switch makes some unreachable, but every
# obligation is inductive: a mutant is refuted from any state the invariants allow);
# the rest are bugs of the classic switch's own steps.

CLASSIC_RX.mutant("classic-harvest-unclamped", "SW-RX-SHAPE", replaces="harvest")(
    harvest_unclamped)
CLASSIC_RX.mutant("classic-rxsync-hands-over-mbuf", "SW-RX-NO-MBUF-TO-USER",
                  replaces="harvest")(rxsync_hands_over_mbuf)
CLASSIC_RX.mutant("classic-nic-fills-netmap-first", "SW-RX-FIFO", replaces="wire")(
    nic_fills_netmap_first)
CLASSIC_RX.mutant("classic-refill-posts-mbuf", "SW-RX-COPIES", replaces="release")(
    refill_posts_mbuf)
CLASSIC_RX.mutant("classic-rxsync-netmap-first", "SW-RX-ONE-ROUND", replaces="harvest")(
    rxsync_netmap_first)


@CLASSIC_RX.mutant("classic-enter-posts-every-slot", "SW-RX-SLOTS", replaces="regif_classic")
def classic_enter_posts_every_slot(s: SwitchRx) -> Step:
    """After netmap_reset the refill posts all N slots, the one kept empty included."""
    step = regif_classic(s)
    return Step(step.guard, step.post.replace(posted_n=s.n))


@CLASSIC_RX.mutant("classic-exit-keeps-gap-buffer", "SW-RX-NORMAL-CLEAN",
                   replaces="unregif_classic")
def classic_exit_keeps_gap_buffer(s: SwitchRx) -> Step:
    """The exit reposts mbufs in the N-1 descriptors and forgets the empty slot, which
    keeps its netmap buffer's descriptor."""
    step = unregif_classic(s)
    return Step(step.guard, step.post.replace(gap_m=0))


tx.CLASSIC_TX.mutant("classic-user-send-unclamped", "SW-TX-SHAPE", replaces="user_send")(
    user_send_unclamped)
tx.CLASSIC_TX.mutant("classic-nic-completes-netmap-first", "SW-TX-FIFO",
                     replaces="complete")(nic_completes_netmap_first)
tx.CLASSIC_TX.mutant("classic-lazy-mbuf-cleanup", "SW-TX-ONE-ROUND", replaces="cleanup")(
    lazy_mbuf_cleanup)


@tx.CLASSIC_TX.mutant("classic-enter-gives-every-slot", "SW-TX-SLOTS",
                      replaces="regif_classic")
def classic_enter_gives_every_slot(s: tx.SwitchTx) -> Step:
    """netmap_reset sets hwtail to rhead instead of rhead - 1: the user gets all N slots,
    the one kept empty included."""
    step = tx.regif_classic(s)
    return Step(step.guard, step.post.replace(user=s.n))


@tx.CLASSIC_TX.mutant("classic-exit-keeps-a-buffer", "SW-TX-BUFFERS",
                      replaces="unregif_classic")
def classic_exit_keeps_a_buffer(s: tx.SwitchTx) -> Step:
    """The exit gives back the user's slots and the ring's descriptors but not the empty
    slot's netmap buffer: one buffer leaks per close."""
    step = tx.unregif_classic(s)
    return Step(step.guard, step.post.replace(pool=s.n - 1))


@tx.CLASSIC_TX.mutant("classic-exit-keeps-user-slots", "SW-TX-NORMAL-CLEAN",
                      replaces="unregif_classic")
def classic_exit_keeps_user_slots(s: tx.SwitchTx) -> Step:
    """The exit swaps the buffers back but leaves the user's free-slot count as it was:
    the ring back in normal mode still reports slots to a user who is gone."""
    step = tx.unregif_classic(s)
    return Step(step.guard, step.post.replace(user=s.user))
