"""The legacy netmap ring API (NETMAP_API <= 5, netmap.c of 2011-2013) and its
refinement mapping onto the modern head/cur/tail API.

Upstream: netmap before head/cur/tail, pinned at commit 95b478cf (2013-12-02):
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/net/netmap.h#L213,
netmap_ring_reinit
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1127),
netmap_rxsync_from_host
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L907)
and netmap_reset
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L2091).
The ring had ``cur``, ``avail`` and ``reserved``; the kring had ``nr_hwcur`` and
``nr_hwavail``:

* TX: after a sync ``cur`` is the first free slot and ``avail`` the number of free
  slots; the user fills slots, advancing cur and decrementing avail.  A fresh TX ring has
  ``hwavail = N - 1``: one slot is already kept empty.
* RX: ``cur`` is the first unread packet, ``avail`` the number of unread packets, and
  ``reserved`` the slots before cur the user still holds.  The user owns
  ``[cur - reserved, cur + avail)``; the kernel's received region is
  ``[hwcur, hwcur + hwavail)``.

The legacy drivers validated little: txsync checked only ``cur > N-1`` (then reinit:
``cur = hwcur, avail = hwavail``); rxsync also zeroed ``reserved`` when
``reserved + avail >= N``.  Drivers always handed every filled TX slot to the NIC and
refilled every released RX slot, so the matching modern step sends/refills everything.

Refinement (``to_modern``, both directions): ``head = cur - reserved``, ``tail = cur +
avail``, ``hwtail = hwcur + hwavail`` (mod N), and back ``avail = tail - cur``,
``reserved = cur - head``, ``hwavail = hwtail - hwcur``.  The legacy kring keeps no copy
of the user's indices, so ``rhead = hwcur`` and ``rtail = hwtail``; ``rcur`` (read only by
poll's would-block test) has no legacy counterpart and is left out of the comparison.

The refinement is proved for well-behaved users (the premise includes the user's window
invariant): user steps, syncs and device steps map one to one onto the modern hardened
transitions.  For a misbehaving user the two APIs differ by design, which is the legacy
finding: the legacy drivers acted on any ``cur <= N-1``.  ``nr_hwreserved`` (used only by
the emulated adapter's RX and VALE leases) is not modelled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import (
    And,
    Eq,
    If,
    Machine,
    Param,
    Step,
    Term,
    Var,
    in_range,
    ring_add,
    ring_dist,
    ring_next,
    ring_prev,
    ring_sub,
)
from model.netmap_ring import NetmapRing


@dataclass(frozen=True)
class LegacyRing:
    """One legacy netmap ring and its kring, plus the NIC pointer and the ghost count."""

    n: Term
    cur: Term
    avail: Term
    reserved: Term
    hwcur: Term
    hwavail: Term
    nic: Term
    busy: Term

    def __repr__(self) -> str:
        return (
            f"LegacyRing(n={self.n}, user=(cur={self.cur}, avail={self.avail}, "
            f"reserved={self.reserved}), kring=(hwcur={self.hwcur}, hwavail={self.hwavail}), "
            f"nic={self.nic}, busy={self.busy})"
        )

    def replace(self, **changes: Term) -> LegacyRing:
        return dataclasses.replace(self, **changes)


LEGACY_VARS = (
    Var("n", "constant", "size", "num_slots."),
    Var("cur", "user", "u32", "ring->cur: TX first free slot; RX first unread packet."),
    Var("avail", "user", "u32", "ring->avail: TX free slots; RX unread packets, from cur."),
    Var("reserved", "user", "u32", "ring->reserved: RX slots before cur the user still "
        "holds (0 on TX)."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: first slot not yet synced."),
    Var("hwavail", "kernel", "count", "kring->nr_hwavail: TX free slots from hwcur; RX "
        "received slots from hwcur."),
    Var("nic", "device", "index", "The NIC head register, as in the modern model."),
    Var("busy", "ghost", "count", "Ghost: slots the device owns, as in the modern model."),
)


def hwtail(s: LegacyRing) -> Term:
    """The modern nr_hwtail the legacy kring implies: hwcur + hwavail."""
    return ring_add(s.hwcur, s.hwavail, s.n)


def to_modern(s: LegacyRing) -> NetmapRing:
    """The refinement mapping legacy -> modern: head = cur - reserved, tail = cur + avail
    (mod N)."""
    tail = hwtail(s)
    return NetmapRing(
        n=s.n,
        head=ring_sub(s.cur, s.reserved, s.n),
        cur=s.cur,
        tail=ring_add(s.cur, s.avail, s.n),
        hwcur=s.hwcur,
        hwtail=tail,
        rhead=s.hwcur,
        rcur=s.cur,
        rtail=tail,
        nic=s.nic,
        busy=s.busy,
    )


def from_modern(m: NetmapRing) -> LegacyRing:
    """The reverse mapping modern -> legacy (avail = tail - cur, reserved = cur - head, mod N)."""
    return LegacyRing(
        n=m.n,
        cur=m.cur,
        avail=ring_dist(m.cur, m.tail, m.n),
        reserved=ring_dist(m.head, m.cur, m.n),
        hwcur=m.hwcur,
        hwavail=ring_dist(m.hwcur, m.hwtail, m.n),
        nic=m.nic,
        busy=m.busy,
    )


def legacy_expressible(m: NetmapRing) -> Term:
    """Modern states the legacy API can express: the kring holds no pending or unshown
    slots (rhead = hwcur, rtail = hwtail), and on TX cur = head (no look-ahead)."""
    return And(Eq(m.rhead, m.hwcur), Eq(m.rtail, m.hwtail))


COMPARED_FIELDS = tuple(f.name for f in dataclasses.fields(NetmapRing) if f.name != "rcur")


def same_modern(a: NetmapRing, b: NetmapRing) -> Term:
    """Equal on every modern field the legacy API determines (all but rcur)."""
    return And(*[Eq(getattr(a, f), getattr(b, f)) for f in COMPARED_FIELDS])


LEGACY_TX = Machine(
    name="legacy_tx",
    title="legacy netmap TX ring (cur/avail)",
    state_type=LegacyRing,
    vars=LEGACY_VARS,
    init=lambda n: LegacyRing(
        n=n, cur=0, avail=n - 1, reserved=0, hwcur=0, hwavail=n - 1, nic=0, busy=0
    ),
    doc="netmap_krings_create of 2013: nr_hwavail = N-1 on TX; one slot already empty.",
)

LEGACY_RX = Machine(
    name="legacy_rx",
    title="legacy netmap RX ring (cur/avail/reserved)",
    state_type=LegacyRing,
    vars=LEGACY_VARS,
    init=lambda n: LegacyRing(
        n=n, cur=0, avail=0, reserved=0, hwcur=0, hwavail=0, nic=0, busy=n - 1
    ),
    doc="Nothing received; the driver posts N-1 empty buffers.",
)


@LEGACY_TX.transition(actor="user", params=(Param("k", "count", "slots filled"),))
def user_fill(s: LegacyRing, k: Term) -> Step:
    """The user fills k free slots: cur += k, avail -= k."""
    guard = And(k >= 0, k <= s.avail)
    return Step(guard, s.replace(cur=ring_add(s.cur, k, s.n), avail=s.avail - k))


@LEGACY_RX.transition(
    actor="user",
    params=(
        Param("k", "count", "packets read"),
        Param("keep", "count", "slots before the new cur still held (new reserved)"),
    ),
)
def user_read(s: LegacyRing, k: Term, keep: Term) -> Step:
    """The user reads k packets (cur += k, avail -= k) and keeps ``keep`` slots before
    the new cur (reserved = keep), releasing the rest."""
    guard = And(k >= 0, k <= s.avail, keep >= 0, keep <= s.reserved + k)
    return Step(
        guard, s.replace(cur=ring_add(s.cur, k, s.n), avail=s.avail - k, reserved=keep)
    )


def legacy_reinit(s: LegacyRing) -> LegacyRing:
    """Seed netmap_ring_reinit: on ``cur > N-1`` reset cur = hwcur, avail = hwavail."""
    bad = s.cur >= s.n
    return s.replace(cur=If(bad, s.hwcur, s.cur), avail=If(bad, s.hwavail, s.avail))


LEGACY_FINDING = (
    "Legacy drivers checked only cur > N-1 (ixgbe's legacy txsync): a cur or reserved outside the "
    "kernel's window is acted upon."
)


@LEGACY_TX.transition(
    actor="kernel",
    view="restores",
    breaks=("LEG-TX-AVAIL-RESERVED", "LEG-TX-ONE-SLOT-EMPTY"),
)
def txsync(s: LegacyRing) -> Step:
    """Legacy txsync: ``cur > N-1`` -> reinit; else send [hwcur, cur) (hwavail shrinks by
    the slots sent), reclaim completions (hwavail grows up to nic - 1), avail = hwavail."""
    sent = ring_dist(s.hwcur, s.cur, s.n)
    hwcur = s.cur
    free_end = ring_prev(s.nic, s.n)
    hwavail = ring_dist(hwcur, free_end, s.n)
    synced = s.replace(hwcur=hwcur, hwavail=hwavail, avail=hwavail, busy=s.busy + sent)
    bad = s.cur >= s.n
    return Step(True, If_state(bad, legacy_reinit(s), synced))


@LEGACY_RX.transition(
    actor="kernel",
    view="restores",
    breaks=("LEG-RX-AVAIL-RESERVED", "LEG-RX-ONE-SLOT-EMPTY"),
)
def rxsync(s: LegacyRing) -> Step:
    """Legacy rxsync: ``cur > N-1`` -> reinit; ``reserved + avail >= N`` -> reserved = 0;
    release [hwcur, cur - reserved) to the NIC, take in every filled slot (hwtail = nic),
    avail = hwavail - reserved."""
    reserved = If(s.reserved + s.avail >= s.n, 0, s.reserved)
    release_to = ring_sub(s.cur, reserved, s.n)
    released = ring_dist(s.hwcur, release_to, s.n)
    hwavail = ring_dist(release_to, s.nic, s.n)
    synced = s.replace(
        reserved=reserved,
        hwcur=release_to,
        hwavail=hwavail,
        avail=hwavail - reserved,
        busy=s.busy + released,
    )
    bad = s.cur >= s.n
    return Step(True, If_state(bad, legacy_reinit(s), synced))


@LEGACY_TX.transition(actor="device", params=(Param("k", "count", "slots the NIC completes"),))
def device_complete(s: LegacyRing, k: Term) -> Step:
    """The NIC completes the next k in-flight slots."""
    guard = And(k >= 0, k <= ring_dist(s.nic, s.hwcur, s.n))
    return Step(guard, s.replace(nic=ring_add(s.nic, k, s.n), busy=s.busy - k))


@LEGACY_RX.transition(actor="device", params=(Param("k", "count", "packets the NIC receives"),))
def device_deliver(s: LegacyRing, k: Term) -> Step:
    """The NIC fills the next k empty buffers it owns, [nic, hwcur - 1)."""
    guard = And(k >= 0, k <= ring_dist(s.nic, ring_prev(s.hwcur, s.n), s.n))
    return Step(guard, s.replace(nic=ring_add(s.nic, k, s.n), busy=s.busy - k))


def If_state(cond: Term, a: LegacyRing, b: LegacyRing) -> LegacyRing:
    """Field-wise If over two legacy states."""
    if isinstance(cond, bool):
        return a if cond else b
    return LegacyRing(
        **{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
           for f in dataclasses.fields(LegacyRing)}
    )


# ---------------------------------------------------------------------------- invariants

for _m in (LEGACY_TX, LEGACY_RX):
    _dir = "TX" if _m is LEGACY_TX else "RX"

    @_m.invariant(
        f"LEG-{_dir}-RANGE",
        "hwcur and the NIC pointer are valid slot indices and hwavail and the device's "
        "count are non-negative.",
    )
    def legacy_range(s: LegacyRing) -> Term:
        return And(
            in_range(s.hwcur, s.n), in_range(s.nic, s.n), s.hwavail >= 0, s.busy >= 0,
        )

    @_m.invariant(
        f"LEG-{_dir}-AVAIL-RESERVED",
        "cur is a valid slot, avail + reserved < N, the user's window "
        "[cur - reserved, cur + avail) lies inside the kernel's [hwcur, hwcur + hwavail)"
        + (", and reserved is 0 (TX does not use it)." if _dir == "TX" else "."),
        scope="user",
    )
    def legacy_avail_reserved(s: LegacyRing, tx: bool = _m is LEGACY_TX) -> Term:
        behind = ring_dist(s.hwcur, s.cur, s.n)
        return And(
            in_range(s.cur, s.n),
            s.avail >= 0,
            s.reserved >= 0,
            s.avail + s.reserved < s.n,
            s.reserved <= behind,
            behind + s.avail == s.hwavail,
            Eq(s.reserved, 0) if tx else True,
        )


@LEGACY_TX.invariant(
    "LEG-TX-ONE-SLOT-EMPTY",
    "hwavail free slots, the NIC's completed and in-flight slots add up to N-1: the slot "
    "at hwcur + hwavail is always empty (hence hwavail = N-1 at start).",
)
def legacy_tx_one_slot_empty(s: LegacyRing) -> Term:
    completed = ring_dist(ring_next(hwtail(s), s.n), s.nic, s.n)
    return And(
        s.hwavail <= s.n - 1,
        Eq(s.busy, ring_dist(s.nic, s.hwcur, s.n)),
        Eq(s.hwavail + completed + s.busy, s.n - 1),
    )


@LEGACY_RX.invariant(
    "LEG-RX-ONE-SLOT-EMPTY",
    "hwavail received slots, the NIC's filled-but-unreported slots and its empty buffers "
    "add up to N-1: the slot before hwcur is never given to the NIC.",
)
def legacy_rx_one_slot_empty(s: LegacyRing) -> Term:
    ready = ring_dist(hwtail(s), s.nic, s.n)
    return And(
        s.hwavail <= s.n - 1,
        Eq(s.busy, ring_dist(s.nic, ring_prev(s.hwcur, s.n), s.n)),
        Eq(s.hwavail + ready + s.busy, s.n - 1),
    )


# ---------------------------------------------------------------------------- mutants


@LEGACY_TX.mutant("leg-tx-init-all-avail", "LEG-TX-ONE-SLOT-EMPTY", replaces="init")
def legacy_tx_init_all_avail(n: Term) -> LegacyRing:
    """A TX ring that starts with hwavail = N: no slot kept empty."""
    return LEGACY_TX.init(n).replace(avail=n, hwavail=n)


@LEGACY_TX.mutant("leg-tx-no-cur-check", "LEG-TX-RANGE", replaces="txsync")
def legacy_tx_no_cur_check(s: LegacyRing) -> Step:
    """txsync without the ``cur > N-1`` check: an out-of-range cur becomes hwcur."""
    sent = ring_dist(s.hwcur, s.cur, s.n)
    hwavail = ring_dist(s.cur, ring_prev(s.nic, s.n), s.n)
    return Step(
        True, s.replace(hwcur=s.cur, hwavail=hwavail, avail=hwavail, busy=s.busy + sent)
    )


@LEGACY_TX.mutant("leg-tx-fill-one-more", "LEG-TX-AVAIL-RESERVED", replaces="user_fill")
def legacy_tx_fill_one_more(s: LegacyRing, k: Term) -> Step:
    """The user may fill one slot more than avail."""
    guard = And(k >= 0, k <= s.avail + 1)
    return Step(guard, s.replace(cur=ring_add(s.cur, k, s.n), avail=s.avail - k))


@LEGACY_RX.mutant("leg-rx-keep-too-many", "LEG-RX-AVAIL-RESERVED", replaces="user_read")
def legacy_rx_keep_too_many(s: LegacyRing, k: Term, keep: Term) -> Step:
    """The user may hold one slot more than it has read (reserved off by one)."""
    guard = And(k >= 0, k <= s.avail, keep >= 0, keep <= s.reserved + k + 1)
    return Step(
        guard, s.replace(cur=ring_add(s.cur, k, s.n), avail=s.avail - k, reserved=keep)
    )


@LEGACY_RX.mutant("leg-rx-nic-fills-gap", "LEG-RX-ONE-SLOT-EMPTY", replaces="device_deliver")
def legacy_rx_nic_fills_gap(s: LegacyRing, k: Term) -> Step:
    """The NIC may fill the slot before hwcur."""
    guard = And(k >= 0, k <= ring_dist(s.nic, s.hwcur, s.n))
    return Step(guard, s.replace(nic=ring_add(s.nic, k, s.n), busy=s.busy - k))


@LEGACY_RX.mutant("leg-rx-range-unchecked", "LEG-RX-RANGE", replaces="rxsync")
def legacy_rx_range_unchecked(s: LegacyRing) -> Step:
    """rxsync without the ``cur > N-1`` check."""
    release_to = ring_sub(s.cur, s.reserved, s.n)
    hwavail = ring_dist(release_to, s.nic, s.n)
    return Step(
        True,
        s.replace(
            hwcur=release_to, hwavail=hwavail, avail=hwavail - s.reserved,
            busy=s.busy + ring_dist(s.hwcur, release_to, s.n),
        ),
    )


# ---------------------------------------------------------------------------- refinement

#: legacy transition -> (modern machine name, modern transition, legacy args -> modern args)
REFINES = {
    ("legacy_tx", "user_fill"): ("netmap_tx", "user_advance", lambda s, k: {"dh": k, "dc": 0}),
    ("legacy_tx", "txsync"): ("netmap_tx", "txsync_hardened", lambda s: {"sent": s.n}),
    ("legacy_tx", "device_complete"): ("netmap_tx", "device_complete", lambda s, k: {"k": k}),
    ("legacy_rx", "user_read"): (
        "netmap_rx",
        "user_advance",
        lambda s, k, keep: {"dh": s.reserved + k - keep, "dc": keep},
    ),
    ("legacy_rx", "rxsync"): ("netmap_rx", "rxsync_hardened", lambda s: {"refill": s.n}),
    ("legacy_rx", "device_deliver"): ("netmap_rx", "device_deliver", lambda s, k: {"k": k}),
}

LEGACY_MACHINES = (LEGACY_TX, LEGACY_RX)
