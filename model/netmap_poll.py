"""poll() on one netmap TX ring and one RX ring: which syncs it runs, what it reports, and
whether a caller it puts to sleep has a reason to sleep.

Upstream: netmap_poll
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672)
and the TX reclaim test of a native driver, ixgbe_netmap_txsync
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/ixgbe_netmap.h#L293).

netmap_poll, for a handle bound to one ring of each kind, as the C does it:

* **lock-free first pass** (FreeBSD only; Linux must selrecord first and skips it):
  POLLOUT at once if ``ring->cur != ring->tail``; POLLIN at once if ``ring->cur !=
  ring->tail`` and the user has released nothing (``kring->rhead == ring->head``).
* **TX**: when the handle pushes on poll (``np_txpoll``, i.e. no NETMAP_NO_TX_POLL) or
  POLLOUT is still wanted, txsync the ring, except when POLLOUT is no longer wanted and
  there is nothing to push (``ring->head == nr_hwcur``).  A refused prologue is
  netmap_ring_reinit and POLLERR; otherwise the driver's txsync *without*
  NAF_FORCE_RECLAIM (that flag is the ioctl's), then nm_sync_finalize.  POLLOUT if
  ``rcur != rtail`` afterwards.  If POLLOUT is still wanted, selrecord and one more pass.
* **RX**: if POLLIN is still wanted: the rxsync prologue (reinit and POLLERR if refused),
  the driver's rxsync in either case, finalize; POLLIN if ``rcur != rtail``; if not, one
  more pass.
* A stopped ring (``nkr_stopped``) is skipped by ``nm_kr_tryget`` with POLLERR; the
  lock-free pass does not look at ``nkr_stopped`` (as shipped), so it can report the
  event on a stopped ring; the hardened pass reads it.
* The caller sleeps (a recorded wait) when it got neither what it wanted nor POLLERR.

The wake-up point is ``cur``: netmap.h says poll "will unblock when 'tail' moves past
'cur'".  On TX, tail moves only when the driver reclaims completed slots, and a native
driver called without NAF_FORCE_RECLAIM reclaims only when ``nm_kr_txempty`` (``rhead ==
nr_hwtail``: the user has no free slot at all).  Two policies, as for the prologues:

* **as-shipped**: the as-shipped prologues and reinit, and ixgbe's reclaim test.  A user
  who keeps free slots and sets ``cur = tail`` to ask for more room (netmap(4): "cur may be
  advanced further ... to ask for more room") is put to sleep while the NIC has completed
  slots the driver will not reclaim, and every wake-up ends the same way until the user
  fills the ring or issues NIOCTXSYNC (finding NM-POLL-TX-LIVE).
* **hardened**: the hardened prologues and reinit, and the driver reclaims when the
  caller would block (``nm_kr_wouldblock``: ``rcur == nr_hwtail``) rather than only when
  the ring is empty.  The RX side needs no change: with ``netmap_no_pendintr`` (default
  1) the driver reads the NIC on every rxsync.

The claims about a poll call (readiness means room, a sleep is justified, nothing is left
unreclaimed or unreported while the caller sleeps, the ring invariants survive) are
stated in :data:`CLAIMS` and proved in proofs/poll_obligations.py, each with a mutant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model import netmap_ring
from model.core import (
    And,
    Eq,
    If,
    Not,
    Or,
    Term,
    ring_add,
    ring_dist,
    ring_next,
    ring_prev,
    state_fields,
)
from model.netmap_state import NetmapRing, clamp, select
from model.netmap_sync import (
    AS_SHIPPED,
    caller_accepts,
    netmap_ring_reinit,
    nm_rxsync_prologue,
    nm_sync_finalize,
    nm_txsync_prologue,
    rx_driver_sync,
)

#: poll(2) event bits (the same on Linux and FreeBSD).
POLLIN, POLLOUT, POLLERR = 0x001, 0x004, 0x008


@dataclass(frozen=True)
class PollCall:
    """One poll(2) call's inputs: what the caller asks for and what the kernel may do."""

    want: Term
    """The caller asked for the ring's event (POLLOUT on TX, POLLIN on RX)."""
    txpoll: Term
    """TX only: the handle pushes on poll (registered without NETMAP_NO_TX_POLL)."""
    lock_free: Term
    """The lock-free first pass runs (FreeBSD); Linux has none."""
    first: Term
    """Slots the driver manages in the first pass (sent on TX, refilled on RX)."""
    second: Term
    """Slots the driver manages in the retry pass."""
    stopped: Term = False
    """The ring is stopped (``nkr_stopped == NM_KR_STOPPED``: the interface is going
    down, the driver is resetting or unloading): ``nm_kr_tryget`` refuses it and sets
    POLLERR."""


@dataclass(frozen=True)
class PollResult:
    """What one poll call returns and leaves behind on the ring."""

    ready: Term
    """The wanted event is in revents (POLLOUT / POLLIN)."""
    err: Term
    """POLLERR: a prologue refused the ring."""
    sleeps: Term
    """The caller wanted the event and got neither it nor POLLERR from this ring: it is
    recorded as a waiter (poll(2) blocks unless another ring reports something)."""
    synced: Term
    """A sync ran on the ring (so the user's view was re-established)."""
    first_refused: Term
    """The first pass ran and its prologue was refused: reinit ran before anything the
    retry pass hands to the NIC (reinit also sanitises slots, which the model does not
    track)."""
    post: NetmapRing


def first_pass_sees_stop(policy: str, stopped: Term) -> Term:
    """FreeBSD's lock-free pass reads only ring->cur and ring->tail: as shipped it reports
    the event on a stopped ring (and POLLERR only if a later sync on the ring is
    attempted); hardened it also reads ``nkr_stopped``."""
    return True if policy == AS_SHIPPED else Not(stopped)


# ---------------------------------------------------------------------------- TX


def tx_reclaims(policy: str, s: NetmapRing, force: Term) -> Term:
    """Does the driver's txsync reclaim completions?  NAF_FORCE_RECLAIM (the ioctl) always
    does.  Otherwise as shipped only when ``nm_kr_txempty`` (``rhead == nr_hwtail``, the
    ixgbe test); hardened when ``nm_kr_wouldblock`` (``rcur == nr_hwtail``)."""
    lazy = Eq(s.rhead, s.hwtail) if policy == AS_SHIPPED else Eq(s.rcur, s.hwtail)
    return Or(force, lazy)


def tx_driver_sync_flags(policy: str, s: NetmapRing, sent: Term, force: Term) -> NetmapRing:
    """The driver's txsync: hand up to ``sent`` published slots [hwcur, rhead) to the NIC,
    then reclaim every completion (hwtail = nic - 1) if :func:`tx_reclaims` says so."""
    k = clamp(sent, ring_dist(s.hwcur, s.rhead, s.n))
    reclaim = tx_reclaims(policy, s, force)
    return s.replace(
        hwcur=ring_add(s.hwcur, k, s.n), busy=s.busy + k,
        hwtail=If(reclaim, ring_prev(s.nic, s.n), s.hwtail),
    )


@dataclass(frozen=True)
class TxPollParts:
    """The pieces of the TX half of netmap_poll; a mutant swaps one."""

    prologue: Callable[[str, NetmapRing], tuple[Term, NetmapRing]] = nm_txsync_prologue
    first_pass_ready: Callable[[NetmapRing], Term] = lambda s: Not(Eq(s.cur, s.tail))
    driver: Callable[[str, NetmapRing, Term], NetmapRing] = (
        lambda policy, s, sent: tx_driver_sync_flags(policy, s, sent, False))
    finalize: Callable[[NetmapRing], NetmapRing] = nm_sync_finalize
    found: Callable[[NetmapRing], Term] = lambda s: Not(Eq(s.rcur, s.rtail))
    honours_stop: bool = True
    """``nm_kr_tryget`` refuses a stopped ring (a mutant syncs it anyway)."""


def tx_pass(policy: str, s: NetmapRing, sent: Term, parts: TxPollParts
             ) -> tuple[Term, Term, NetmapRing]:
    """One iteration of the flush_tx loop on the ring: (accepted, found, state after)."""
    result = parts.prologue(policy, s)
    checked = result[1]
    accepted = caller_accepts(result)
    after = select(accepted, parts.finalize(parts.driver(policy, checked, sent)),
                   netmap_ring_reinit(policy, checked))
    return accepted, parts.found(after), after


def poll_tx(policy: str, s: NetmapRing, call: PollCall,
            parts: TxPollParts | None = None) -> PollResult:
    """netmap_poll's TX half on one ring (module docstring)."""
    parts = parts or TxPollParts()
    early = And(call.lock_free, call.want, parts.first_pass_ready(s),
                first_pass_sees_stop(policy, call.stopped))
    want = And(call.want, Not(early))
    runs = And(Or(call.txpoll, want), Or(want, Not(Eq(s.head, s.hwcur))))
    refused = And(runs, call.stopped, parts.honours_stop)
    syncs = And(runs, Not(refused))
    ok1, found1, s1 = tx_pass(policy, s, call.first, parts)
    retry = And(syncs, want, Not(found1))
    ok2, found2, s2 = tx_pass(policy, s1, call.second, parts)
    ready = Or(early, And(syncs, want, Or(found1, And(retry, found2))))
    err = Or(refused, And(syncs, Not(ok1)), And(retry, Not(ok2)))
    post = select(syncs, select(retry, s2, s1), s)
    return PollResult(ready, err, And(call.want, Not(ready), Not(err)), syncs,
                      And(syncs, Not(ok1)), post)


# ---------------------------------------------------------------------------- RX


@dataclass(frozen=True)
class RxPollParts:
    """The pieces of the RX half of netmap_poll; a mutant swaps one."""

    prologue: Callable[[str, NetmapRing], tuple[Term, NetmapRing]] = nm_rxsync_prologue
    first_pass_ready: Callable[[NetmapRing], Term] = (
        lambda s: And(Not(Eq(s.cur, s.tail)), Eq(s.rhead, s.head)))
    driver: Callable[[NetmapRing, Term], NetmapRing] = rx_driver_sync
    finalize: Callable[[NetmapRing], NetmapRing] = nm_sync_finalize
    found: Callable[[NetmapRing], Term] = lambda s: Not(Eq(s.rcur, s.rtail))
    honours_stop: bool = True
    """``nm_kr_tryget`` refuses a stopped ring (a mutant syncs it anyway)."""


def rx_pass(policy: str, s: NetmapRing, refill: Term, parts: RxPollParts
             ) -> tuple[Term, Term, NetmapRing]:
    """One iteration of the do_retry_rx loop: (accepted, found, state after)."""
    result = parts.prologue(policy, s)
    checked = result[1]
    accepted = caller_accepts(result)
    prepared = select(accepted, checked, netmap_ring_reinit(policy, checked))
    after = parts.finalize(parts.driver(prepared, refill))
    return accepted, parts.found(after), after


def poll_rx(policy: str, s: NetmapRing, call: PollCall,
            parts: RxPollParts | None = None) -> PollResult:
    """netmap_poll's RX half on one ring (module docstring).  ``txpoll`` is not read."""
    parts = parts or RxPollParts()
    early = And(call.lock_free, call.want, parts.first_pass_ready(s),
                first_pass_sees_stop(policy, call.stopped))
    want = And(call.want, Not(early))
    refused = And(want, call.stopped, parts.honours_stop)
    syncs = And(want, Not(refused))
    ok1, found1, s1 = rx_pass(policy, s, call.first, parts)
    retry = And(syncs, Not(found1))
    ok2, found2, s2 = rx_pass(policy, s1, call.second, parts)
    ready = Or(early, And(syncs, Or(found1, And(retry, found2))))
    err = Or(refused, And(syncs, Not(ok1)), And(retry, Not(ok2)))
    post = select(syncs, select(retry, s2, s1), s)
    return PollResult(ready, err, And(call.want, Not(ready), Not(err)), syncs,
                      And(syncs, Not(ok1)), post)


# ---------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """A property of one poll call.  ``premise`` is ``"user"`` (every invariant holds
    before the call: a well-behaved user) or ``"kernel"`` (only the kernel invariants:
    the user may have written anything).  ``findings`` lists the policies the C is
    expected to fail it under."""

    id: str
    sentence: str
    premise: str
    holds: Callable[[NetmapRing, PollCall, PollResult], Term]
    findings: frozenset[str] = frozenset()


def _ready_means_room(s: NetmapRing, call: PollCall, r: PollResult) -> Term:
    return Or(Not(r.ready), Not(Eq(r.post.cur, r.post.tail)))


def _sleep_justified(s: NetmapRing, call: PollCall, r: PollResult) -> Term:
    return Or(Not(r.sleeps), Eq(r.post.cur, r.post.tail))


def _tx_nothing_left(s: NetmapRing, call: PollCall, r: PollResult) -> Term:
    return Or(Not(r.sleeps), Eq(r.post.nic, ring_next(r.post.hwtail, r.post.n)))


def _rx_nothing_left(s: NetmapRing, call: PollCall, r: PollResult) -> Term:
    return Or(Not(r.sleeps), Eq(r.post.nic, r.post.hwtail))


def _stopped_untouched(s: NetmapRing, call: PollCall, r: PollResult) -> Term:
    before, after = state_fields(s), state_fields(r.post)
    return Or(Not(call.stopped), And(Not(r.ready), Or(Not(call.want), r.err),
                                     *[Eq(after[f], v) for f, v in before.items()]))


def _keeps(user_view: bool, direction: str) -> Callable[[NetmapRing, PollCall, PollResult],
                                                          Term]:
    machine = netmap_ring.TX if direction == "TX" else netmap_ring.RX

    def holds(s: NetmapRing, call: PollCall, r: PollResult) -> Term:
        return machine.holds(r.post, user_view=user_view)

    return holds


def _claims(direction: str) -> tuple[Claim, ...]:
    d = direction
    event = "POLLOUT" if d == "TX" else "POLLIN"
    left = (
        (_tx_nothing_left, "no slot the NIC has completed is left unreclaimed (a reclaim "
         "would not move tail past cur)", frozenset({AS_SHIPPED}))
        if d == "TX" else
        (_rx_nothing_left, "no packet the NIC has received is left unreported",
         frozenset())
    )
    return (
        Claim(f"NM-POLL-{d}-READY",
              f"When poll reports {event}, ring->cur != ring->tail afterwards: the caller "
              "finds a slot at its wake-up point.", "user", _ready_means_room),
        Claim(f"NM-POLL-{d}-SLEEP",
              f"When poll does not report the {event} the caller asked for, ring->cur == "
              "ring->tail afterwards: the caller sleeps only with nothing at its wake-up "
              "point.", "user", _sleep_justified),
        Claim(f"NM-POLL-{d}-LIVE",
              f"When poll puts a {event} caller to sleep, {left[1]}.", "user", left[0],
              left[2]),
        Claim(f"NM-POLL-{d}-STOPPED",
              f"On a stopped ring poll never reports {event}, reports POLLERR when the "
              "caller asked for the event, and leaves the ring as it was (as shipped, "
              "FreeBSD's lock-free pass reports the event on a stopped ring).", "user",
              _stopped_untouched, frozenset({AS_SHIPPED})),
        Claim(f"NM-POLL-{d}-KEEPS",
              "A poll by a well-behaved user leaves every ring invariant holding, the "
              "user's view included.", "user", _keeps(True, d)),
        Claim(f"NM-POLL-{d}-KEEPS-KERNEL",
              "Whatever the user wrote into the ring, a poll leaves every kernel invariant "
              "holding (as shipped it does not: poll runs the same prologues and reinit as "
              "the ioctls).", "kernel", _keeps(False, d), frozenset({AS_SHIPPED})),
    )


#: The claims about poll on each direction's ring, keyed by direction.
CLAIMS: dict[str, tuple[Claim, ...]] = {"TX": _claims("TX"), "RX": _claims("RX")}

#: The poll half of each direction.
POLLS: dict[str, Callable[..., PollResult]] = {"TX": poll_tx, "RX": poll_rx}
