"""Broken variants of the 2013 host rings, each refuted against the invariant it names.

Each is a mistake a port of the 2013 netmap_txsync_to_host / netmap_rxsync_from_host /
netmap_transmit could plausibly make -- the first is what the C's own comment asks for.
"""

from __future__ import annotations

from model.core import And, Eq, If, Or, Step, Term, ring_add, ring_dist
from model.netmap_legacy_host import (
    LEGACY_HOST_RX,
    LEGACY_HOST_TX,
    If_rx,
    If_tx,
    LegacyHostRx,
    LegacyHostTx,
    _release,
    _release_point,
    _rx_reinit,
    _send_up,
    _tx_reinit,
    legacy_host_tx_init,
    release_point_ok,
)


@LEGACY_HOST_TX.mutant("grab-to-cur-minus-reserved", "LEG-HOST-TX-NO-LOSS",
                       replaces="txsync_to_host_hardened")
def grab_to_cur_minus_reserved(s: LegacyHostTx) -> Step:
    """The walk ends at ``cur - reserved``, as netmap_grab_packets' comment says; hwcur
    still jumps to cur, so the held slots are never sent."""
    bad = s.cur >= s.n
    end = ring_add(s.cur, s.n - If(s.reserved < s.n, s.reserved, 0), s.n)
    return Step(True, If_tx(bad, _tx_reinit(s), _send_up(s, end)))


@LEGACY_HOST_TX.mutant("grab-do-while", "LEG-HOST-TX-NO-STRAY",
                       replaces="txsync_to_host_hardened")
def grab_do_while(s: LegacyHostTx) -> Step:
    """The walk tests its end after the first slot (a do-while): with nothing published
    it sends the whole ring."""
    bad = s.cur >= s.n
    sent = _send_up(s, s.cur)
    whole = sent.replace(stray=s.stray + If(Eq(s.hwcur, s.cur), s.n, 0))
    return Step(True, If_tx(bad, _tx_reinit(s), whole))


@LEGACY_HOST_TX.mutant("txsync-no-cur-check", "LEG-HOST-TX-KERNEL",
                       replaces="txsync_to_host_hardened")
def txsync_no_cur_check(s: LegacyHostTx) -> Step:
    """No ``cur > N-1`` test: an out-of-range cur becomes hwcur."""
    return Step(True, _send_up(s, s.cur))


@LEGACY_HOST_TX.mutant("host-tx-init-all-avail", "LEG-HOST-TX-VIEW", replaces="init")
def host_tx_init_all_avail(n: Term) -> LegacyHostTx:
    """The ring starts with avail = N: no slot kept empty for the user."""
    return legacy_host_tx_init(n).replace(avail=n)


@LEGACY_HOST_RX.mutant("transmit-full-off-by-one", "LEG-HOST-RX-RANGE",
                       replaces="transmit_2013")
def transmit_full_off_by_one(s: LegacyHostRx, fits: Term) -> Step:
    """The full test is ``hwavail > N-1``: the last slot fills, hwavail reaches N."""
    drop = Or(Eq(fits, 0), s.hwavail > s.n - 1)
    return Step(True, s.replace(hwavail=If(drop, s.hwavail, s.hwavail + 1),
                                accepted=If(drop, s.accepted, s.accepted + 1),
                                dropped=If(drop, s.dropped + 1, s.dropped)))


@LEGACY_HOST_RX.mutant("transmit-drop-counted", "LEG-HOST-RX-COUNTED",
                       replaces="transmit_2013")
def transmit_drop_counted(s: LegacyHostRx, fits: Term) -> Step:
    """A packet dropped on a full ring is counted as accepted (returns 0)."""
    too_long = Eq(fits, 0)
    full = And(Eq(fits, 1), s.hwavail >= s.n - 1)
    return Step(True, s.replace(
        hwavail=If(Or(too_long, full), s.hwavail, s.hwavail + 1),
        accepted=If(too_long, s.accepted, s.accepted + 1),
        dropped=If(too_long, s.dropped + 1, s.dropped)))


@LEGACY_HOST_RX.mutant("release-unchecked-against-hwavail", "LEG-HOST-RX-RANGE",
                       replaces="rxsync_from_host_hardened")
def release_unchecked_against_hwavail(s: LegacyHostRx) -> Step:
    """The hardened test without ``dist(hwcur, cur) <= hwavail``: a release past the
    kernel's packets wraps hwavail."""
    resvd, k = _release_point(s)
    ok = And(s.cur < s.n, s.reserved <= ring_dist(s.hwcur, s.cur, s.n))
    return Step(True, If_rx(ok, _release(s, resvd, k), _rx_reinit(s).replace(reserved=0)))


@LEGACY_HOST_RX.mutant("refusal-keeps-reserved", "LEG-HOST-RX-VIEW",
                       replaces="rxsync_from_host_hardened")
def refusal_keeps_reserved(s: LegacyHostRx) -> Step:
    """A refused release point resets cur and avail but keeps the user's reserved."""
    resvd, k = _release_point(s)
    return Step(True, If_rx(release_point_ok(s), _release(s, resvd, k), _rx_reinit(s)))
