"""Mutants of netmap_poll: the hardened poll with one piece changed, each expected to
fail one claim of :data:`model.netmap_poll.CLAIMS` (proofs/poll_obligations.py refutes
them)."""

from __future__ import annotations

from dataclasses import dataclass

from model.core import And, Eq, If, Not, Term, ring_add, ring_dist, ring_next
from model.netmap_poll import RxPollParts, TxPollParts, tx_driver_sync_flags
from model.netmap_state import NetmapRing, clamp
from model.netmap_sync import rx_driver_sync


@dataclass(frozen=True)
class PollMutant:
    id: str
    claim: str
    direction: str
    parts: TxPollParts | RxPollParts
    doc: str


def _trust_head(policy: str, s: NetmapRing) -> tuple[Term, NetmapRing]:
    """A prologue that takes ring->head and cur as they are (no interval checks)."""
    return s.head, s.replace(rhead=s.head, rcur=s.cur, tail=s.rtail)


def _tx_never_lazy(policy: str, s: NetmapRing, sent: Term) -> NetmapRing:
    k = clamp(sent, ring_dist(s.hwcur, s.rhead, s.n))
    return s.replace(hwcur=ring_add(s.hwcur, k, s.n), busy=s.busy + k)


def _tx_reclaim_gap(policy: str, s: NetmapRing, sent: Term) -> NetmapRing:
    synced = tx_driver_sync_flags(policy, s, sent, False)
    return synced.replace(hwtail=If(Eq(synced.hwtail, s.hwtail), s.hwtail, s.nic))


def _rx_no_read(s: NetmapRing, refill: Term) -> NetmapRing:
    return rx_driver_sync(s, refill).replace(hwtail=s.hwtail)


def _rx_report_past_nic(s: NetmapRing, refill: Term) -> NetmapRing:
    return rx_driver_sync(s, refill).replace(hwtail=ring_next(s.nic, s.n))


def _never_found(s: NetmapRing) -> Term:
    return False


MUTANTS: tuple[PollMutant, ...] = (
    PollMutant("poll-tx-first-pass-tests-head", "NM-POLL-TX-READY", "TX",
               TxPollParts(first_pass_ready=lambda s: Not(Eq(s.head, s.tail))),
               "The lock-free pass reports POLLOUT when head != tail instead of cur != tail."),
    PollMutant("poll-tx-found-ignored", "NM-POLL-TX-SLEEP", "TX",
               TxPollParts(found=_never_found),
               "POLLOUT only from the lock-free pass: a txsync that reclaims room is not "
               "reported."),
    PollMutant("poll-tx-reclaim-only-forced", "NM-POLL-TX-LIVE", "TX",
               TxPollParts(driver=_tx_never_lazy),
               "The driver reclaims only under NAF_FORCE_RECLAIM, which poll never passes."),
    PollMutant("poll-tx-syncs-stopped-ring", "NM-POLL-TX-STOPPED", "TX",
               TxPollParts(honours_stop=False),
               "poll skips nm_kr_tryget and syncs a stopped ring."),
    PollMutant("poll-tx-reclaim-takes-gap", "NM-POLL-TX-KEEPS", "TX",
               TxPollParts(driver=_tx_reclaim_gap),
               "A reclaim sets hwtail = nic: the always-empty slot is handed out."),
    PollMutant("poll-tx-trusts-head", "NM-POLL-TX-KEEPS-KERNEL", "TX",
               TxPollParts(prologue=_trust_head),
               "poll skips nm_txsync_prologue's checks and takes ring->head as it is."),
    PollMutant("poll-rx-first-pass-tests-head", "NM-POLL-RX-READY", "RX",
               RxPollParts(first_pass_ready=lambda s: And(Not(Eq(s.head, s.tail)),
                                                            Eq(s.rhead, s.head))),
               "The lock-free pass reports POLLIN when head != tail instead of cur != tail."),
    PollMutant("poll-rx-found-ignored", "NM-POLL-RX-SLEEP", "RX",
               RxPollParts(found=_never_found),
               "POLLIN only from the lock-free pass: packets an rxsync reports are not "
               "reported."),
    PollMutant("poll-rx-no-read", "NM-POLL-RX-LIVE", "RX",
               RxPollParts(driver=_rx_no_read),
               "The driver reads the NIC only under NAF_FORCE_READ or NKR_PENDINTR "
               "(netmap_no_pendintr = 0), and poll passes neither."),
    PollMutant("poll-rx-syncs-stopped-ring", "NM-POLL-RX-STOPPED", "RX",
               RxPollParts(honours_stop=False),
               "poll skips nm_kr_tryget and syncs a stopped ring."),
    PollMutant("poll-rx-report-past-nic", "NM-POLL-RX-KEEPS", "RX",
               RxPollParts(driver=_rx_report_past_nic),
               "The driver reports one slot past the NIC's pointer."),
    PollMutant("poll-rx-trusts-head", "NM-POLL-RX-KEEPS-KERNEL", "RX",
               RxPollParts(prologue=_trust_head),
               "poll skips nm_rxsync_prologue's checks and takes ring->head as it is."),
)
