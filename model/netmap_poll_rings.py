"""poll() on a handle bound to several rings of a direction (NR_REG_ALL_NIC and friends):
which rings netmap_poll syncs, in which pass, and what it reports.

Upstream: netmap_poll
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3672).
Each ring goes through the one-ring steps of :mod:`model.netmap_poll` (prologue, reinit
or the driver's sync without NAF_FORCE_RECLAIM / NAF_FORCE_READ, finalize); what the
several rings add is the order and the shared flags:

* **lock-free pass** (FreeBSD): POLLOUT at once if *some* TX ring has ``ring->cur !=
  ring->tail``; POLLIN at once only if *every* RX ring has unseen packets and nothing
  released (``cur != tail`` and ``rhead == head``): one ring that needs an rxsync sends
  the call down the locked path for all of them.
* **TX** (``flush_tx``): the rings in order.  ``want_tx`` is cleared by the first ring
  whose sync finds room (``rcur != rtail``); a later ring is then skipped only if it has
  nothing to push (``ring->head == nr_hwcur``): with NETMAP_NO_TX_POLL off every ring's
  pending packets still reach the driver ("on all rings, to avoid that the tx rings
  stall").  If no ring found room, a second pass over all of them (after selrecord).
* **RX** (``do_retry_rx``): every ring is synced ("do it on all rings because otherwise we
  starve"), and POLLIN is reported if any of them has something; only if none has, a
  second pass over all of them.
* A stopped ring is skipped with POLLERR in every pass; the caller sleeps when it got
  neither an event it asked for nor POLLERR, on the adapter's global selinfo
  (:mod:`model.netmap_wakeup`).

A binding with the host rings (NR_REG_NIC_SW, NR_REG_SW) ends each direction with the host
kring, synced by the host stack's own sync (:mod:`model.netmap_poll_host`); the loops are
the same.  Transparent mode's ``send_down`` (packets of the host RX ring forwarded down on
poll) is not modelled here.  The claims are proved for two and three NIC rings, and for
the host kring alone and after one NIC ring, of any size (a bound on the number of rings,
not on N: the formulas are unrolled per ring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from model.core import And, Eq, Not, Or, Term, ring_dist, ring_next
from model.netmap_poll import (
    RxPollParts,
    TxPollParts,
    first_pass_sees_stop,
    rx_pass,
    tx_pass,
)
from model.netmap_poll_host import HOST_RX, HOST_TX
from model.netmap_state import NetmapRing, select
from model.netmap_sync import AS_SHIPPED

#: The numbers of rings the claims are proved for.
RING_COUNTS = (2, 3)
#: ... and, with the host kring last, the numbers of rings in all (1: NR_REG_SW alone).
HOST_RING_COUNTS = (1, 2)


@dataclass(frozen=True)
class RingsCall:
    """One poll(2) call on a handle bound to ``len(first)`` rings of a direction."""

    want: Term
    txpoll: Term
    lock_free: Term
    first: tuple[Term, ...]
    """Slots the driver manages on each ring in the first pass."""
    second: tuple[Term, ...]
    """... and in the retry pass."""
    stopped: tuple[Term, ...]
    host: bool = False
    """The last ring is the host kring (NR_REG_NIC_SW; alone, NR_REG_SW): its sync is the
    host stack's (:mod:`model.netmap_poll_host`)."""


@dataclass(frozen=True)
class RingsResult:
    """What the call reports and leaves behind on each ring."""

    early: Term
    """The lock-free pass answered (no sync ran)."""
    ready: Term
    err: Term
    sleeps: Term
    synced: tuple[Term, ...]
    """A sync ran on the ring (in either pass)."""
    posts: tuple[NetmapRing, ...]


@dataclass(frozen=True)
class RingsParts:
    """The pieces of the loops over the rings; a mutant swaps one."""

    tx: TxPollParts = field(default_factory=TxPollParts)
    rx: RxPollParts = field(default_factory=RxPollParts)
    host_tx: TxPollParts = HOST_TX
    host_rx: RxPollParts = HOST_RX
    tx_skips: Callable[[Term, NetmapRing], Term] = (
        lambda want_tx, s: And(Not(want_tx), Eq(s.head, s.hwcur)))
    """flush_tx's skip test on a ring, given whether POLLOUT is still wanted."""
    counts_found: Callable[[int], bool] = lambda i: True
    """Whether ring ``i``'s found room clears ``want_tx``."""
    rx_skips: Callable[[int, NetmapRing], Term] = lambda i, s: False
    rx_stops_on_found: bool = False

    def of_ring(self, direction: str, call: RingsCall, i: int) -> TxPollParts | RxPollParts:
        """The parts ring ``i`` of the call is synced with."""
        host = call.host and i == len(call.stopped) - 1
        if direction == "TX":
            return self.host_tx if host else self.tx
        return self.host_rx if host else self.rx


def poll_tx_rings(policy: str, rings: Sequence[NetmapRing], call: RingsCall,
                  parts: RingsParts | None = None) -> RingsResult:
    """netmap_poll's TX half over the bound TX rings (module docstring)."""
    parts = parts or RingsParts()
    states = list(rings)
    ring_parts = [parts.of_ring("TX", call, i) for i in range(len(states))]
    early = And(call.lock_free, call.want, Or(*[
        And(p.first_pass_ready(s), first_pass_sees_stop(policy, stop))
        for s, stop, p in zip(states, call.stopped, ring_parts, strict=True)]))
    want: Term = And(call.want, Not(early))
    runs = Or(call.txpoll, want)
    synced: list[Term] = [False] * len(states)
    ready: Term = early
    err: Term = False
    for budgets, active in ((call.first, runs), (call.second, None)):
        if active is None:  # the retry pass, while POLLOUT is still wanted
            active = And(runs, want)
        for i, s in enumerate(states):
            attempt = And(active, Not(parts.tx_skips(want, s)))
            refused = And(attempt, call.stopped[i], ring_parts[i].honours_stop)
            does = And(attempt, Not(refused))
            ok, found, after = tx_pass(policy, s, budgets[i], ring_parts[i])
            states[i] = select(does, after, s)
            synced[i] = Or(synced[i], does)
            err = Or(err, refused, And(does, Not(ok)))
            hit = And(does, found, parts.counts_found(i))
            ready = Or(ready, And(hit, want))
            want = And(want, Not(hit))
    sleeps = And(call.want, Not(ready), Not(err))
    return RingsResult(early, ready, err, sleeps, tuple(synced), tuple(states))


def poll_rx_rings(policy: str, rings: Sequence[NetmapRing], call: RingsCall,
                  parts: RingsParts | None = None) -> RingsResult:
    """netmap_poll's RX half over the bound RX rings (module docstring).  ``txpoll`` is
    not read."""
    parts = parts or RingsParts()
    states = list(rings)
    ring_parts = [parts.of_ring("RX", call, i) for i in range(len(states))]
    early = And(call.lock_free, call.want, *[
        And(p.first_pass_ready(s), first_pass_sees_stop(policy, stop))
        for s, stop, p in zip(states, call.stopped, ring_parts, strict=True)])
    want: Term = And(call.want, Not(early))
    synced: list[Term] = [False] * len(states)
    found_any: Term = False
    err: Term = False
    for budgets, pass_no in ((call.first, 1), (call.second, 2)):
        active = want if pass_no == 1 else And(want, Not(found_any))
        stop_loop: Term = False
        for i, s in enumerate(states):
            attempt = And(active, Not(stop_loop), Not(parts.rx_skips(i, s)))
            refused = And(attempt, call.stopped[i], ring_parts[i].honours_stop)
            does = And(attempt, Not(refused))
            ok, found, after = rx_pass(policy, s, budgets[i], ring_parts[i])
            states[i] = select(does, after, s)
            synced[i] = Or(synced[i], does)
            err = Or(err, refused, And(does, Not(ok)))
            hit = And(does, found)
            found_any = Or(found_any, hit)
            if parts.rx_stops_on_found:
                stop_loop = Or(stop_loop, hit)
    ready = Or(early, found_any)
    sleeps = And(call.want, Not(ready), Not(err))
    return RingsResult(early, ready, err, sleeps, tuple(synced), tuple(states))


# ---------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class RingsClaim:
    """A property of one poll call over several rings (premise: every ring's invariants
    hold, the user's view included); ``findings``: the policies the C fails it under."""

    id: str
    direction: str
    sentence: str
    holds: Callable[[Sequence[NetmapRing], RingsCall, RingsResult], Term]
    findings: frozenset[str] = frozenset()

    def fails_under(self, policy: str, count: int, host: bool) -> bool:
        """Is the claim a finding for ``count`` rings under ``policy``?  The findings
        need a NIC ring: the host kring alone never keeps completed slots back."""
        return policy in self.findings and count > int(host)


def nothing_seen(s: NetmapRing) -> Term:
    """The user has nothing at its wake-up point: ``cur == tail``."""
    return Eq(s.cur, s.tail)


def nothing_left(direction: str, s: NetmapRing) -> Term:
    """The kernel holds nothing back the NIC has done: every completed TX slot is
    reclaimed (``nic == hwtail + 1``), every received packet reported (``nic ==
    hwtail``)."""
    return Eq(s.nic, ring_next(s.hwtail, s.n) if direction == "TX" else s.hwtail)


def _pushed(rings: Sequence[NetmapRing], call: RingsCall, r: RingsResult) -> Term:
    return And(*[Or(Not(call.txpoll), stop, Eq(s.head, s.hwcur), synced)
                 for s, stop, synced in zip(rings, call.stopped, r.synced, strict=True)])


def _ready(rings: Sequence[NetmapRing], call: RingsCall, r: RingsResult) -> Term:
    return Or(Not(r.ready), *[Not(nothing_seen(p)) for p in r.posts])


def _sleep(rings: Sequence[NetmapRing], call: RingsCall, r: RingsResult) -> Term:
    return Or(Not(r.sleeps), And(*[nothing_seen(p) for p in r.posts]))


def _tx_live(rings: Sequence[NetmapRing], call: RingsCall, r: RingsResult) -> Term:
    return Or(Not(r.sleeps), And(*[nothing_left("TX", p) for p in r.posts]))


def _rx_all(rings: Sequence[NetmapRing], call: RingsCall, r: RingsResult) -> Term:
    return Or(Not(call.want), r.early, And(*[
        Or(stop, synced) for stop, synced in zip(call.stopped, r.synced, strict=True)]))


def _rx_live(rings: Sequence[NetmapRing], call: RingsCall, r: RingsResult) -> Term:
    return Or(Not(r.sleeps), And(*[nothing_left("RX", p) for p in r.posts]))


CLAIMS: tuple[RingsClaim, ...] = (
    RingsClaim("NM-POLL-RINGS-TX-PUSHED", "TX",
               "With NETMAP_NO_TX_POLL off, poll hands every bound TX ring's pending "
               "packets to the driver: a ring that is not stopped and has packets to push "
               "is synced, whatever the rings before it found.", _pushed),
    RingsClaim("NM-POLL-RINGS-TX-READY", "TX",
               "When poll reports POLLOUT, some bound TX ring has cur != tail afterwards.",
               _ready),
    RingsClaim("NM-POLL-RINGS-TX-SLEEP", "TX",
               "When poll puts a POLLOUT caller to sleep, every bound TX ring has cur == "
               "tail afterwards.", _sleep),
    RingsClaim("NM-POLL-RINGS-TX-LIVE", "TX",
               "When poll puts a POLLOUT caller to sleep, no bound TX ring has completed "
               "slots left unreclaimed (as shipped it can, as on one ring).", _tx_live,
               frozenset({AS_SHIPPED})),
    RingsClaim("NM-POLL-RINGS-RX-ALL", "RX",
               "When a POLLIN caller is not answered by the lock-free pass, poll rxsyncs "
               "every bound RX ring that is not stopped: no ring starves.", _rx_all),
    RingsClaim("NM-POLL-RINGS-RX-READY", "RX",
               "When poll reports POLLIN, some bound RX ring has cur != tail afterwards.",
               _ready),
    RingsClaim("NM-POLL-RINGS-RX-SLEEP", "RX",
               "When poll puts a POLLIN caller to sleep, every bound RX ring has cur == "
               "tail afterwards.", _sleep),
    RingsClaim("NM-POLL-RINGS-RX-LIVE", "RX",
               "When poll puts a POLLIN caller to sleep, no packet any bound RX ring's NIC "
               "has received is left unreported.", _rx_live),
)

#: The loop over the rings of each direction.
POLLS: dict[str, Callable[..., RingsResult]] = {"TX": poll_tx_rings, "RX": poll_rx_rings}


# ---------------------------------------------------------------------------- mutants


@dataclass(frozen=True)
class RingsMutant:
    """The hardened loops with one piece changed, expected to fail ``claim``."""

    id: str
    claim: str
    parts: RingsParts
    doc: str
    host: bool = False
    """Checked on a NIC ring and the host kring (else on two NIC rings)."""


MUTANTS: tuple[RingsMutant, ...] = (
    RingsMutant("tx-skip-after-room", "NM-POLL-RINGS-TX-PUSHED",
                RingsParts(tx_skips=lambda want_tx, s: Not(want_tx)),
                "Once a ring found room, the later rings are skipped even with packets "
                "to push: they stall until the next call."),
    RingsMutant("tx-lockfree-head", "NM-POLL-RINGS-TX-READY",
                RingsParts(tx=TxPollParts(first_pass_ready=lambda s: Not(Eq(s.head,
                                                                            s.tail)))),
                "The lock-free pass reads head instead of cur: a user that set cur = "
                "tail to ask for more room is told there is room."),
    RingsMutant("tx-found-first-ring-only", "NM-POLL-RINGS-TX-SLEEP",
                RingsParts(counts_found=lambda i: i == 0),
                "Only the first ring's room counts: the caller sleeps while a later ring "
                "has room."),
    RingsMutant("tx-skip-idle-rings", "NM-POLL-RINGS-TX-LIVE",
                RingsParts(tx_skips=lambda want_tx, s: Eq(s.head, s.hwcur)),
                "A ring with nothing to push is never synced, so its completions are "
                "never reclaimed from poll."),
    RingsMutant("rx-stop-on-found", "NM-POLL-RINGS-RX-ALL",
                RingsParts(rx_stops_on_found=True),
                "The RX loop stops at the first ring with packets: the later rings "
                "starve."),
    RingsMutant("rx-found-rhead", "NM-POLL-RINGS-RX-READY",
                RingsParts(rx=RxPollParts(found=lambda s: Not(Eq(s.rhead, s.rtail)))),
                "POLLIN when the user holds unreleased slots (rhead != rtail) even with "
                "cur = tail."),
    RingsMutant("rx-skip-unseen", "NM-POLL-RINGS-RX-SLEEP",
                RingsParts(rx_skips=lambda i, s: Not(Eq(s.cur, s.tail))),
                "A ring whose user has unseen packets is not synced, and its packets do "
                "not count: the caller sleeps with packets in front of it."),
    RingsMutant("rx-first-ring-only", "NM-POLL-RINGS-RX-LIVE",
                RingsParts(rx_skips=lambda i, s: i > 0),
                "Only the first bound ring is synced (one-ring poll on a several-ring "
                "handle): the others' packets stay unreported while the caller sleeps."),
    RingsMutant("host-tx-no-reclaim", "NM-POLL-RINGS-TX-LIVE",
                RingsParts(host_tx=TxPollParts(driver=lambda policy, s, sent: s.replace(
                    hwcur=s.rhead, nic=s.rhead, busy=0))),
                "The host txsync sends the released slots up the stack but leaves "
                "hwtail behind: the caller sleeps with host slots the stack is done with.",
                host=True),
    RingsMutant("host-rx-queue-unread", "NM-POLL-RINGS-RX-LIVE",
                RingsParts(host_rx=RxPollParts(driver=lambda s, refill: s.replace(
                    hwcur=s.rhead, busy=s.busy + ring_dist(s.hwcur, s.rhead, s.n)))),
                "The host rxsync releases slots but does not import rx_queue: the caller "
                "sleeps while netmap_transmit has queued packets for it.",
                host=True),
)
