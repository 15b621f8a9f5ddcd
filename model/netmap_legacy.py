"""The legacy netmap ring API (NETMAP_API <= 5, netmap.c of 2011-2013) and its
refinement mapping onto the modern head/cur/tail API.

Upstream: netmap before head/cur/tail, pinned at commit 95b478cf (2013-12-02):
https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/net/netmap.h#L213,
the kring
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap_kern.h#L203),
netmap_ring_reinit
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1127),
the ixgbe driver's txsync
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/ixgbe_netmap.h#L193)
and rxsync
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/ixgbe_netmap.h#L415),
the host ring's netmap_rxsync_from_host
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
The model follows ixgbe (the FreeBSD driver in sys/; its Linux twin of 2013 also refused
a txsync publishing more than hwavail slots).

Arithmetic is the C's: ``cur``, ``avail``, ``reserved`` and ``nr_hwavail`` are
``uint32_t``, and every value a sync computes into them wraps modulo 2^32
(:func:`model.core.u32`), so after a bad cur the user reads e.g. ``avail = 2^32 - 5``,
not a small count; ``num_slots`` is a ``uint32_t`` too (N <= 2^32 - 1).  Numbers that are
the abstraction's and not the C's: ``nic`` (the NIC's head register, in kring indices),
``busy`` (ghost count of slots the NIC owns; a mutant can drive it negative, no C field
can), and the driver's next_to_clean / next_to_check, which are not state here but read
as the slot after hwcur + hwavail (TX) and hwcur + hwavail (RX), their values in every
state the legacy invariants allow.  A user step's own arithmetic (``avail -= k``) is the
user program's, written in u32 as C code would.

Refinement (``to_modern``, both directions): ``head = cur - reserved``, ``tail = cur +
avail``, ``hwtail = hwcur + hwavail`` (mod N), and back ``avail = tail - cur``,
``reserved = cur - head``, ``hwavail = hwtail - hwcur``.  The legacy kring keeps no copy
of the user's indices, so ``rhead = hwcur`` and ``rtail = hwtail``; ``rcur`` (read only by
poll's would-block test) has no legacy counterpart and is left out of the comparison.

The refinement is proved for well-behaved users (the premise includes the user's window
invariant), in which no u32 value wraps: user steps, syncs and device steps map one to
one onto the modern hardened transitions.  For a misbehaving user the two APIs differ by
design, which is the legacy finding: the legacy drivers acted on any ``cur <= N-1``, and
rxsync can even loop forever (:func:`rx_release_loop_ends`).  ``nr_hwreserved`` (used
only by the emulated adapter's RX and VALE leases) is not modelled.

Implemented by ``impl/netmap/legacy.py``: the 2013 API as a personality of the soft NIC's
rings (the 2013 ring header byte for byte, ``nr_hwavail`` and the driver's own
next_to_clean / next_to_check, the u32 arithmetic of the C).
``tests/stateful/test_legacy_rings.py`` runs it in lockstep with this model after every
step (in states the kernel invariants allow, where the model's reading of next_to_clean /
next_to_check holds) and, while the user behaves, against a modern adapter through
``to_modern``; the worked examples of the findings replay on the real rings in
``tests/unit/test_legacy_port.py`` (the user reads ``avail = 2^32 - 5`` from the header's
bytes).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import (
    U32_MAX,
    And,
    Eq,
    If,
    Machine,
    Or,
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
    u32,
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
    Var("n", "constant", "size", "num_slots (uint32_t)."),
    Var("cur", "user", "u32", "ring->cur: TX first free slot; RX first unread packet."),
    Var("avail", "user", "u32", "ring->avail: TX free slots; RX unread packets, from cur."),
    Var("reserved", "user", "u32", "ring->reserved: RX slots before cur the user still "
        "holds (0 on TX)."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: first slot not yet synced."),
    Var("hwavail", "kernel", "u32", "kring->nr_hwavail (uint32_t): TX free slots from hwcur; "
        "RX received slots from hwcur."),
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
    max_n=U32_MAX,
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
    max_n=U32_MAX,
)


@LEGACY_TX.transition(actor="user", params=(Param("k", "count", "slots filled"),))
def user_fill(s: LegacyRing, k: Term) -> Step:
    """The user fills k free slots: cur += k, avail -= k."""
    return Step(And(k >= 0, k <= s.avail), filled(s, k))


def filled(s: LegacyRing, k: Term) -> LegacyRing:
    """cur advanced by k slots, ``avail -= k`` on the u32 field."""
    return s.replace(cur=ring_add(s.cur, k, s.n), avail=u32(s.avail - k))


#: The user reading packets on a legacy RX ring: every machine with that step takes these.
USER_READ_PARAMS = (
    Param("k", "count", "Packets the user reads."),
    Param("keep", "count", "Slots before the new cur still held (the new reserved)."),
)


@LEGACY_RX.transition(actor="user", params=USER_READ_PARAMS)
def user_read(s: LegacyRing, k: Term, keep: Term) -> Step:
    """The user reads k packets (cur += k, avail -= k) and keeps ``keep`` slots before
    the new cur (reserved = keep), releasing the rest."""
    guard = And(k >= 0, k <= s.avail, keep >= 0, keep <= s.reserved + k)
    return Step(guard, filled(s, k).replace(reserved=keep))


def legacy_reinit(s: LegacyRing) -> LegacyRing:
    """Seed netmap_ring_reinit: on ``cur > N-1`` reset cur = hwcur, avail = hwavail
    (reserved and the kring are left alone; slot repairs are not modelled)."""
    bad = s.cur >= s.n
    return s.replace(cur=If(bad, s.hwcur, s.cur), avail=If(bad, s.hwavail, s.avail))


LEGACY_FINDING = (
    "Legacy drivers checked only cur > N-1 (ixgbe's legacy txsync): a cur or reserved outside the "
    "kernel's window is acted upon."
)


def tx_driver(s: LegacyRing) -> LegacyRing:
    """The body of the 2013 ixgbe txsync after its ``cur > N-1`` check, with
    NAF_FORCE_RECLAIM, in the C's u32 arithmetic.

    Send: the loop walks j from hwcur to cur (``sent`` slots, the long way round if cur
    is behind hwcur), then ``hwcur = cur; nr_hwavail -= sent`` and TDT is written.
    Reclaim: ``delta = TDH - next_to_clean`` (mod N) completed slots; if delta != 0,
    ``nr_hwavail += delta``, and a result > N-1 jumps to ring_reset (netmap_ring_reinit,
    which finds cur in range and changes nothing), skipping the last line,
    ``ring->avail = nr_hwavail``.  So what the user reads in avail is the u32 result,
    e.g. 2^32 - 5 after a cur 5 slots behind hwcur with hwavail 0 and nothing completed.

    The abstraction's part: the driver's next_to_clean is not a state variable; the model
    uses hwcur + hwavail + 1 (the slot after the empty one), which is next_to_clean in
    every state the legacy invariants allow (the pre-state of every proof)."""
    sent = ring_dist(s.hwcur, s.cur, s.n)
    completed = ring_dist(ring_next(hwtail(s), s.n), s.nic, s.n)
    hwavail = u32(u32(s.hwavail - sent) + completed)
    reset = And(completed > 0, hwavail > s.n - 1)
    return s.replace(
        hwcur=s.cur, hwavail=hwavail, avail=If(reset, s.avail, hwavail), busy=s.busy + sent
    )


def rx_release_point(s: LegacyRing) -> tuple[Term, Term]:
    """(reserved after the check, k): the 2013 rxsync's ``resvd + ring->avail >= lim + 1``
    test in u32 (a huge avail can wrap the sum below N and keep a huge reserved), then
    ``k = cur >= resvd ? cur - resvd : cur + N - resvd``, again in u32."""
    zeroed = And(s.reserved > 0, u32(s.reserved + s.avail) >= s.n)
    resvd = If(zeroed, 0, s.reserved)
    k = If(resvd > 0, If(s.cur >= resvd, s.cur - resvd, u32(s.cur + s.n - resvd)), s.cur)
    return resvd, k


def rx_release_loop_ends(s: LegacyRing) -> Term:
    """The release loop ``for (n = 0; j != k; n++)`` walks j round the ring from hwcur and
    ends only if k is a slot: with reserved > cur + N kept (its sum with avail wrapped
    below N), k >= N and the 2013 rxsync never returns (unless a slot with a bad buffer
    sends it to ring_reset)."""
    return rx_release_point(s)[1] < s.n


def rx_driver(s: LegacyRing) -> LegacyRing:
    """The body of the 2013 ixgbe rxsync after its ``cur > N-1`` check, with
    NAF_FORCE_READ, in the C's u32 arithmetic, for a release point k < N.

    Import: every filled slot, ``nr_hwavail += n``.  Release: reserved is zeroed if
    ``resvd + avail >= N`` (u32), then k = cur - reserved (u32, see
    :func:`rx_release_point`); the slots [hwcur, k) go back to the NIC,
    ``nr_hwavail -= released; hwcur = k`` and RDT = k - 1.  Finally
    ``ring->avail = nr_hwavail - resvd`` (u32: a reserved larger than what the kernel
    holds reads as a huge avail).

    The abstraction's part: the driver's next_to_check is not a state variable; the model
    uses hwcur + hwavail, which it equals in every state the legacy invariants allow."""
    ready = ring_dist(hwtail(s), s.nic, s.n)
    resvd, k = rx_release_point(s)
    released = ring_dist(s.hwcur, k, s.n)
    hwavail = u32(u32(s.hwavail + ready) - released)
    return s.replace(
        reserved=resvd, hwcur=k, hwavail=hwavail, avail=u32(hwavail - resvd),
        busy=s.busy + released,
    )


@LEGACY_TX.transition(
    actor="kernel",
    view="restores",
    breaks=("LEG-TX-AVAIL-RESERVED", "LEG-TX-ONE-SLOT-EMPTY"),
)
def txsync(s: LegacyRing) -> Step:
    """Legacy txsync (2013 ixgbe_netmap_txsync): ``cur > N-1`` -> reinit; else send
    [hwcur, cur), reclaim completions, ``avail = hwavail`` (u32; see
    :func:`tx_driver`)."""
    bad = s.cur >= s.n
    return Step(True, If_state(bad, legacy_reinit(s), tx_driver(s)))


@LEGACY_RX.transition(
    actor="kernel",
    view="restores",
    breaks=("LEG-RX-AVAIL-RESERVED", "LEG-RX-ONE-SLOT-EMPTY"),
    may_hang=True,
)
def rxsync(s: LegacyRing) -> Step:
    """Legacy rxsync (2013 ixgbe_netmap_rxsync): ``cur > N-1`` -> reinit; else take in
    every filled slot, release [hwcur, cur - reserved) to the NIC, ``avail = hwavail -
    reserved`` (u32; see :func:`rx_driver`).  It returns only when the release point is
    a slot (guard; see :func:`rx_release_loop_ends`)."""
    bad = s.cur >= s.n
    return Step(Or(bad, rx_release_loop_ends(s)), If_state(bad, legacy_reinit(s), rx_driver(s)))


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
    return Step(True, tx_driver(s))


@LEGACY_TX.mutant("leg-tx-fill-one-more", "LEG-TX-AVAIL-RESERVED", replaces="user_fill")
def legacy_tx_fill_one_more(s: LegacyRing, k: Term) -> Step:
    """The user may fill one slot more than avail."""
    return Step(And(k >= 0, k <= s.avail + 1), filled(s, k))


@LEGACY_RX.mutant("leg-rx-keep-too-many", "LEG-RX-AVAIL-RESERVED", replaces="user_read")
def legacy_rx_keep_too_many(s: LegacyRing, k: Term, keep: Term) -> Step:
    """The user may hold one slot more than it has read (reserved off by one)."""
    guard = And(k >= 0, k <= s.avail, keep >= 0, keep <= s.reserved + k + 1)
    return Step(guard, filled(s, k).replace(reserved=keep))


@LEGACY_RX.mutant("leg-rx-nic-fills-gap", "LEG-RX-ONE-SLOT-EMPTY", replaces="device_deliver")
def legacy_rx_nic_fills_gap(s: LegacyRing, k: Term) -> Step:
    """The NIC may fill the slot before hwcur."""
    guard = And(k >= 0, k <= ring_dist(s.nic, s.hwcur, s.n))
    return Step(guard, s.replace(nic=ring_add(s.nic, k, s.n), busy=s.busy - k))


@LEGACY_RX.mutant("leg-rx-range-unchecked", "LEG-RX-RANGE", replaces="rxsync")
def legacy_rx_range_unchecked(s: LegacyRing) -> Step:
    """rxsync without the ``cur > N-1`` check, computing the release count instead of
    looping (as netmap_rxsync_from_host does): an out-of-range cur becomes hwcur."""
    return Step(True, rx_driver(s))


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
