"""The 2013 ``netmap_sw_to_nic``: transparent mode moves the host RX ring's packets into
the NIC's TX rings by swapping buffers, one loop iteration per step.

Upstream, netmap.c at commit 95b478cf (2013-12-02): ``netmap_sw_to_nic``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L802),
called at the end of ``netmap_poll`` in transparent mode when the host RX kring has
``nr_hwavail > 0``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1809),
which then jumps back to flush the TX rings.  What the C does:

* ``howmany = kring->nr_hwavail`` -- every packet the kernel holds on the host RX ring,
  the ones the user has not read and the ones it holds (``reserved``) included; its own
  comment says the intent: "XXX otherwise cur - reserved - nr_hwcur".
* ``for (i = 0; howmany > 0 && i < na->num_tx_rings; i++, k1++)`` with a second
  ``k1++`` at the end of the body ("XXX why?"): iteration ``i`` works on kring
  ``tx_rings[2i]``.  netmap_krings_create of 2013 allocates one array, ``tx_rings[0 ..
  T]`` (T = num_tx_rings; ``tx_rings[T]`` is the host TX kring) followed by ``rx_rings[0
  .. R]`` (``rx_rings[R]`` the host RX kring itself), and a hardware adapter has no
  tailroom.  So with T TX rings the walk visits kring indices 0, 2, 4, ..., 2(T-1): the
  odd NIC TX rings are never used; the index ``2i == T`` is the host TX ring (its packets
  go back up the stack at the next txsync); ``T < 2i <= T + R`` is hardware RX ring ``2i -
  T - 1`` (a host packet overwrites the unread packet at its cur, whose buffer lands in
  the host RX ring); ``2i == T + R + 1`` is the host RX kring itself; ``2i >= T + R + 2``
  -- reachable when ``T >= R + 4`` -- reads ``k1->ring`` past the kring array.  With T =
  R = 1 the walk is right; with T = R = 2 it fills TX ring 0 and then the host TX ring.
* ``while (howmany > 0 && k1->ring->avail > 0)``: the user-visible ring's ``avail``, a
  field the user writes, not the kring's.  Body: ``src = &kring->ring->slot[nr_hwcur]``
  (``nr_hwcur`` unchecked: 2013 netmap_rxsync_from_host can leave it past the ring, see
  :mod:`model.netmap_legacy_host`), ``dst = &k1->ring->slot[k1->ring->cur]`` (the user's
  ``cur``, unchecked), the two ``buf_idx`` swapped, ``len`` copied to dst, both flags
  ``NS_BUF_CHANGED``; ``nr_hwcur = nm_next(nr_hwcur)``, ``howmany--``, ``nr_hwavail--``,
  and the *user's* ring: ``k1->ring->cur = nm_next(cur)``, ``k1->ring->avail--``.
* After each ring: ``kring->ring->cur = kring->nr_hwcur`` -- the host RX ring's user
  ``cur`` is moved to the kernel's index, whatever the user had read or held.

The state: the host RX ring (the user's ``cur``, ``avail``, ``reserved``) and kring
(``hwcur``, ``hwavail``, both u32 and not assumed in range), the walk's locals (``active``,
``howmany``, ``i`` and ``k1``, the kring index), the adapter's ``t`` TX and ``r`` RX
rings, and the fields of the ring ``k1`` points at (``dcur``, ``davail`` the user's,
``dhwcur``, ``dhwavail`` its kring's); the walk reads those from the ring when it moves to
it (the transition's parameters), and the user can write ``dcur`` and ``davail`` at any
time.  Every kring has N slots (num_tx_desc = num_rx_desc).  Ghosts count what the C
does wrong: ``oob`` slots (or krings) indexed outside their array, ``lost`` and ``dup``
buffers the swap lost or put in two places (a swap with a slot outside the ring writes a
ring's buffer index into foreign memory and reads a foreign value back), ``stale``
packets sent from slots the stack never filled, ``unreleased`` packets sent that the user
had not released when the walk started (``rel`` counts down the released ones left),
``overfill`` TX slots filled that are not free, ``misrouted`` packets put into a ring that
is not a NIC TX ring, ``skipped`` NIC TX rings the walk jumped over.

``sw_to_nic_as_shipped`` is the C; ``sw_to_nic_hardened`` sends only the slots the user
released (``[nr_hwcur, cur - reserved)``, after the checks of today's nm_rxsync_prologue:
``nr_hwcur`` a slot, ``nr_hwavail <= N-1``, ``cur`` within the kernel's packets,
``reserved`` behind it), into a TX slot only if it is a slot the kernel counts free
(``dist(nr_hwcur, cur) < nr_hwavail`` of that kring), each NIC TX ring once and no other
kring, and leaves the user's ``cur`` alone -- what today's netmap_sw_to_nic does with
``rhead``.  Implemented by ``impl.netmap.legacy_sw_to_nic.sw_to_nic`` over a real
:class:`impl.netmap.legacy_host.LegacyHostPort` and
:class:`impl.netmap.legacy.LegacyPort`; ``tests/unit/test_legacy_sw_to_nic.py`` compares
them.
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
    Not,
    Or,
    Param,
    Step,
    Term,
    Var,
    in_range,
    ring_dist,
    u32,
)
from model.netmap_host import FITS
from model.netmap_legacy import USER_READ_PARAMS
from model.netmap_legacy import user_read as legacy_user_read
from model.netmap_legacy_host import LegacyHostRx, rxsync_from_host_as_shipped, transmit_2013


@dataclass(frozen=True)
class SwToNic:
    """The host RX ring and kring, the walk's locals, the ring it points at, the ghosts."""

    n: Term
    t: Term
    r: Term
    cur: Term
    avail: Term
    reserved: Term
    hwcur: Term
    hwavail: Term
    active: Term
    howmany: Term
    i: Term
    k1: Term
    dcur: Term
    davail: Term
    dhwcur: Term
    dhwavail: Term
    oob: Term
    lost: Term
    dup: Term
    stale: Term
    unreleased: Term
    overfill: Term
    misrouted: Term
    skipped: Term
    rel: Term

    def __repr__(self) -> str:
        return (f"SwToNic(n={self.n}, t={self.t}, r={self.r}, host=(cur={self.cur}, "
                f"avail={self.avail}, reserved={self.reserved}, hwcur={self.hwcur}, "
                f"hwavail={self.hwavail}), walk=(active={self.active}, "
                f"howmany={self.howmany}, i={self.i}, k1={self.k1}), dst=(cur={self.dcur}, "
                f"avail={self.davail}, hwcur={self.dhwcur}, hwavail={self.dhwavail}), "
                f"oob={self.oob}, lost={self.lost}, dup={self.dup}, stale={self.stale}, "
                f"unreleased={self.unreleased}, overfill={self.overfill}, "
                f"misrouted={self.misrouted}, skipped={self.skipped}, rel={self.rel})")

    def replace(self, **changes: Term) -> SwToNic:
        return dataclasses.replace(self, **changes)


SW_TO_NIC_VARS = (
    Var("n", "constant", "size", "nkr_num_slots of every kring (uint32_t)."),
    Var("t", "constant", "u32", "na->num_tx_rings (tx_rings[t] is the host TX kring)."),
    Var("r", "constant", "u32", "na->num_rx_rings (rx_rings[r] is the host RX kring)."),
    Var("cur", "user", "u32", "Host RX ring->cur: the first unread packet."),
    Var("avail", "user", "u32", "Host RX ring->avail: unread packets from cur."),
    Var("reserved", "user", "u32", "Host RX ring->reserved: slots before cur still held."),
    Var("hwcur", "kernel", "u32", "Host RX kring->nr_hwcur: the next slot the walk sends."),
    Var("hwavail", "kernel", "u32", "Host RX kring->nr_hwavail: packets from hwcur."),
    Var("active", "kernel", "count", "The walk is running (nonzero) or not (0)."),
    Var("howmany", "kernel", "count", "The walk's local howmany: packets still to send."),
    Var("i", "kernel", "count", "The walk's loop counter i."),
    Var("k1", "kernel", "count", "The kring k1 points at, as an index into tx_rings[]."),
    Var("dcur", "user", "u32", "k1->ring->cur: where the next packet goes."),
    Var("davail", "user", "u32", "k1->ring->avail: the room the walk believes in."),
    Var("dhwcur", "kernel", "u32", "k1->nr_hwcur."),
    Var("dhwavail", "kernel", "u32", "k1->nr_hwavail: free TX slots from k1->nr_hwcur."),
    Var("oob", "ghost", "count", "Slots or krings the walk indexed outside their array."),
    Var("lost", "ghost", "count", "Buffers no ring slot holds any more."),
    Var("dup", "ghost", "count", "Slots given a buffer index another slot holds or "
        "read from outside the rings."),
    Var("stale", "ghost", "count", "Packets sent from slots the stack never filled."),
    Var("unreleased", "ghost", "count", "Packets sent that the user had not released."),
    Var("overfill", "ghost", "count", "NIC TX slots filled that the kernel does not count "
        "free."),
    Var("misrouted", "ghost", "count", "Packets put into a kring that is not a NIC TX "
        "ring."),
    Var("skipped", "ghost", "count", "NIC TX rings the walk jumped over."),
    Var("rel", "ghost", "count", "Released slots the walk has not sent yet: [nr_hwcur, cur "
        "- reserved) as the user had left them when the walk started."),
)


def sw_to_nic_init(n: Term) -> SwToNic:
    """An adapter with 2 TX and 2 RX rings, an empty host RX ring, no walk running."""
    return SwToNic(n=n, t=2, r=2, cur=0, avail=0, reserved=0, hwcur=0, hwavail=0,
                   active=0, howmany=0, i=0, k1=0, dcur=0, davail=0, dhwcur=0, dhwavail=0,
                   oob=0, lost=0, dup=0, stale=0, unreleased=0, overfill=0, misrouted=0,
                   skipped=0, rel=0)


# ---------------------------------------------------------------------------- host RX steps


def _host(s: SwToNic) -> LegacyHostRx:
    return LegacyHostRx(n=s.n, cur=s.cur, avail=s.avail, reserved=s.reserved, hwcur=s.hwcur,
                        hwavail=s.hwavail, accepted=0, dropped=0, released=0)


def _from_host(s: SwToNic, h: LegacyHostRx) -> SwToNic:
    return s.replace(cur=h.cur, avail=h.avail, reserved=h.reserved, hwcur=h.hwcur,
                     hwavail=h.hwavail)


def transmit(s: SwToNic, fits: Term) -> Step:
    """netmap_transmit of 2013 (:func:`model.netmap_legacy_host.transmit_2013`): a packet
    from the stack is copied into slot hwcur + hwavail and ``nr_hwavail++``, or dropped.
    It takes the host RX kring's q_lock, which the walk holds: nothing happens while the
    walk runs."""
    step = transmit_2013(_host(s), fits)
    return Step(step.guard, If_s(Eq(s.active, 0), _from_host(s, step.post), s))


def host_rx_read(s: SwToNic, k: Term, keep: Term) -> Step:
    """The user reads k packets (cur += k, avail -= k) and keeps ``keep`` slots before the
    new cur (reserved = keep): :func:`model.netmap_legacy.user_read`."""
    return legacy_user_read(s, k, keep)  # type: ignore[arg-type]


def host_rx_write(s: SwToNic, c: Term, a: Term, rs: Term) -> Step:
    """The user writes any 32-bit values into the host RX ring's cur, avail, reserved."""
    return Step(True, s.replace(cur=c, avail=a, reserved=rs))


def rxsync_from_host(s: SwToNic) -> Step:
    """netmap_rxsync_from_host of 2013 as shipped
    (:func:`model.netmap_legacy_host.rxsync_from_host_as_shipped`): the release point
    becomes nr_hwcur unchecked -- the way a wild nr_hwcur reaches the walk.  It takes the
    q_lock too: nothing happens while the walk runs."""
    step = rxsync_from_host_as_shipped(_host(s))
    return Step(step.guard, If_s(Eq(s.active, 0), _from_host(s, step.post), s))


def tx_write(s: SwToNic, c: Term, a: Term) -> Step:
    """The user writes any 32-bit values into ring->cur and ring->avail of the ring k1
    points at."""
    return Step(True, s.replace(dcur=c, davail=a))


# ---------------------------------------------------------------------------- the walk


def nm_next_2013(i: Term, n: Term) -> Term:
    """nm_next of 2013 on a uint32_t index: ``i == lim ? 0 : i + 1`` (an index past the
    ring stays past it)."""
    return If(Eq(i, n - 1), 0, u32(i + 1))


def released(s: SwToNic) -> Term:
    """Slots the user has given back, ``[nr_hwcur, cur - reserved)``, if the release point
    is sane (nr_hwcur a slot, cur within the kernel's packets, reserved behind cur), else
    0."""
    behind = ring_dist(s.hwcur, s.cur, s.n)
    ok = And(s.hwcur < s.n, s.cur < s.n, behind <= s.hwavail, s.reserved <= behind)
    return If(ok, behind - s.reserved, 0)


def from_stack(s: SwToNic) -> Term:
    """Slot nr_hwcur holds a packet netmap_transmit put there: a slot, with ``1 <=
    nr_hwavail <= N-1``."""
    return And(s.hwcur < s.n, s.hwavail >= 1, s.hwavail <= s.n - 1)


def nic_ring(s: SwToNic) -> Term:
    """k1 points at a NIC TX kring."""
    return And(s.k1 >= 0, s.k1 < s.t)


def tx_free(s: SwToNic) -> Term:
    """The TX slot at the user's cur is one the kernel counts free:
    ``dist(nr_hwcur, cur) < nr_hwavail`` on a sane kring."""
    return And(s.dhwcur < s.n, s.dhwavail <= s.n - 1,
               ring_dist(s.dhwcur, s.dcur, s.n) < s.dhwavail)


@dataclass(frozen=True)
class Policy:
    """What a variant of the walk checks and does; each mutant flips one of these."""

    count_released: bool = True  # howmany = released slots (not nr_hwavail)
    check_released: bool = True  # each swap: a released slot is left (rel > 0)
    check_stack: bool = True  # each swap: nr_hwavail <= N-1 (slot from the stack)
    check_src: bool = True  # each swap: nr_hwcur < N
    check_dst: bool = True  # each swap: cur < N on the TX ring
    check_room: bool = True  # each swap: the kernel counts the TX slot free
    nic_only: bool = True  # swap only into k1 < t (False: k1 <= t, off by one)
    any_kring: bool = False  # swap into whatever k1 points at (the C)
    copy: bool = False  # the descriptor is copied, not swapped
    extra: int = 0  # howmany starts this much higher
    step: int = 1  # k1 += step per ring (the C: 2)
    set_cur: bool = False  # kring->ring->cur = nr_hwcur after each ring (the C)


AS_SHIPPED_POLICY = Policy(count_released=False, check_released=False, check_stack=False,
                           check_src=False, check_dst=False, check_room=False,
                           any_kring=True, step=2, set_cur=True)
HARDENED_POLICY = Policy()


def walk_step(s: SwToNic, c: Term, a: Term, hc: Term, ha: Term, p: Policy) -> SwToNic:
    """One iteration of the walk under policy ``p``: start it (entry), swap one packet
    (the inner loop's body), or end the inner loop on ring k1 and move to the next ring
    (the outer loop's increment).  ``(c, a, hc, ha)`` are the fields of the ring the walk
    moves to, as it finds them."""
    n = s.n
    # entry: howmany = nr_hwavail (C) or the released slots; k1 = &tx_rings[0]
    howmany0 = (released(s) if p.count_released else s.hwavail) + p.extra
    started = s.replace(active=If(And(howmany0 > 0, s.t > 0), 1, 0), howmany=howmany0,
                        i=0, k1=0, dcur=c, davail=a, dhwcur=hc, dhwavail=ha, rel=released(s))
    # the inner loop's test, and the hardened checks
    room = And(s.howmany > 0, s.davail > 0,
               s.rel > 0 if p.check_released else True,
               And(s.hwavail >= 1, s.hwavail <= n - 1) if p.check_stack else True,
               s.hwcur < n if p.check_src else True,
               s.dcur < n if p.check_dst else True,
               tx_free(s) if p.check_room else True,
               True if p.any_kring else (
                   nic_ring(s) if p.nic_only else And(s.k1 >= 0, s.k1 <= s.t)))
    src_out = s.hwcur >= n
    dst_out = Or(s.dcur >= n, s.k1 < 0, s.k1 >= s.t + s.r + 2)
    broken = Or(src_out, dst_out)
    swapped = s.replace(
        hwcur=nm_next_2013(s.hwcur, n), howmany=s.howmany - 1, hwavail=u32(s.hwavail - 1),
        dcur=nm_next_2013(s.dcur, n), davail=u32(s.davail - 1),
        oob=s.oob + If(src_out, 1, 0) + If(dst_out, 1, 0),
        lost=s.lost + If(Or(broken, p.copy), 1, 0),
        dup=s.dup + If(Or(broken, p.copy), 1, 0),
        stale=s.stale + If(from_stack(s), 0, 1),
        unreleased=s.unreleased + If(s.rel > 0, 0, 1), rel=If(s.rel > 0, s.rel - 1, 0),
        overfill=s.overfill + If(And(nic_ring(s), s.dcur < n, Not(tx_free(s))), 1, 0),
        misrouted=s.misrouted + If(nic_ring(s), 0, 1),
    )
    # the ring is done: (C) kring->ring->cur = nr_hwcur; i++, k1 += step; the loop goes
    # on while howmany > 0 && i < num_tx_rings (hardened: and k1 is a NIC TX ring)
    k1 = s.k1 + p.step
    go_on = And(s.howmany > 0, s.i + 1 < s.t, True if p.any_kring else k1 < s.t)
    jumped = And(go_on, p.step > 1, s.k1 + 1 >= 0, s.k1 + 1 < s.t)
    moved = s.replace(
        cur=s.hwcur if p.set_cur else s.cur, i=s.i + 1, k1=k1,
        active=If(go_on, 1, 0), dcur=c, davail=a, dhwcur=hc, dhwavail=ha,
        oob=s.oob + If(And(go_on, k1 >= s.t + s.r + 2), 1, 0),
        skipped=s.skipped + If(jumped, 1, 0),
    )
    return If_s(Eq(s.active, 0), started, If_s(room, swapped, moved))


def If_s(cond: Term, a: SwToNic, b: SwToNic) -> SwToNic:
    """Field-wise If over two states."""
    return SwToNic(**{f.name: If(cond, getattr(a, f.name), getattr(b, f.name))
                      for f in dataclasses.fields(SwToNic)})


def sw_to_nic_as_shipped(s: SwToNic, c: Term, a: Term, hc: Term, ha: Term) -> Step:
    """One iteration of the 2013 netmap_sw_to_nic: howmany = nr_hwavail; swap while
    ``howmany > 0 && k1->ring->avail > 0`` at the slots nr_hwcur and the user's cur,
    unchecked; after each ring ``kring->ring->cur = nr_hwcur`` and k1 moves by two."""
    return Step(True, walk_step(s, c, a, hc, ha, AS_SHIPPED_POLICY))


def sw_to_nic_hardened(s: SwToNic, c: Term, a: Term, hc: Term, ha: Term) -> Step:
    """One iteration of the walk hardened: howmany = the released slots, each swap
    re-checked (released, from the stack, both indices slots, the TX slot free, k1 a NIC
    TX ring), k1 moves by one, the user's cur is left alone."""
    return Step(True, walk_step(s, c, a, hc, ha, HARDENED_POLICY))


# ---------------------------------------------------------------------------- invariants


def s2n_walk(s: SwToNic) -> Term:
    return And(s.t >= 1, s.r >= 1, Or(Eq(s.active, 0), Eq(s.active, 1)), s.i >= 0,
               s.k1 >= 0, s.howmany >= 0, Or(Eq(s.active, 0), s.howmany <= s.hwavail))


def s2n_permutation(s: SwToNic) -> Term:
    return And(Eq(s.lost, 0), Eq(s.dup, 0))


def s2n_in_bounds(s: SwToNic) -> Term:
    return Eq(s.oob, 0)


def s2n_from_stack(s: SwToNic) -> Term:
    return Eq(s.stale, 0)


def s2n_only_released(s: SwToNic) -> Term:
    return Eq(s.unreleased, 0)


def s2n_tx_room(s: SwToNic) -> Term:
    return Eq(s.overfill, 0)


def s2n_nic_rings(s: SwToNic) -> Term:
    return Eq(s.misrouted, 0)


def s2n_every_ring(s: SwToNic) -> Term:
    return Eq(s.skipped, 0)


def s2n_view(s: SwToNic) -> Term:
    behind = ring_dist(s.hwcur, s.cur, s.n)
    return And(in_range(s.hwcur, s.n), s.hwavail <= s.n - 1, in_range(s.cur, s.n),
               s.avail >= 0, s.reserved >= 0, s.avail + s.reserved < s.n,
               s.reserved <= behind, behind + s.avail <= s.hwavail,
               Or(Eq(s.active, 0), s.rel <= behind - s.reserved))


SW_TO_NIC = Machine(
    name="legacy_sw_to_nic",
    title="legacy transparent mode, host RX to NIC TX (netmap_sw_to_nic, 2013)",
    state_type=SwToNic,
    vars=SW_TO_NIC_VARS,
    init=sw_to_nic_init,
    doc="An adapter with 2 TX and 2 RX rings, an empty host RX ring, no walk running.",
    max_n=U32_MAX,
)

_RING = (
    Param("c", "u32", "ring->cur of the ring the walk moves to."),
    Param("a", "u32", "ring->avail of that ring."),
    Param("hc", "u32", "Its kring's nr_hwcur."),
    Param("ha", "u32", "Its kring's nr_hwavail."),
)

SW_TO_NIC.transition(actor="kernel", params=(FITS,))(transmit)
SW_TO_NIC.transition(actor="user", params=USER_READ_PARAMS)(host_rx_read)
SW_TO_NIC.transition(actor="adversary", view="breaks", params=(
    Param("c", "u32", "The value written into ring->cur."),
    Param("a", "u32", "The value written into ring->avail."),
    Param("rs", "u32", "The value written into ring->reserved."),
))(host_rx_write)
SW_TO_NIC.transition(actor="kernel", view="restores",
                     breaks=("LEG-S2N-VIEW",))(rxsync_from_host)
SW_TO_NIC.transition(actor="adversary", view="breaks", params=(
    Param("c", "u32", "The value written into k1->ring->cur."),
    Param("a", "u32", "The value written into k1->ring->avail."),
))(tx_write)
SW_TO_NIC.transition(actor="kernel", params=_RING, breaks=(
    "LEG-S2N-PERMUTATION", "LEG-S2N-IN-BOUNDS", "LEG-S2N-FROM-THE-STACK",
    "LEG-S2N-ONLY-RELEASED", "LEG-S2N-TX-ROOM", "LEG-S2N-NIC-RINGS", "LEG-S2N-EVERY-RING",
    "LEG-S2N-VIEW",
))(sw_to_nic_as_shipped)
SW_TO_NIC.transition(actor="kernel", params=_RING)(sw_to_nic_hardened)

for _id, _sentence, _fn, _scope in (
    ("LEG-S2N-WALK", "The adapter has TX and RX rings, and the walk's locals are sane: "
     "while it runs, howmany never exceeds nr_hwavail.", s2n_walk, "kernel"),
    ("LEG-S2N-PERMUTATION", "The walk swaps buffers: no buffer leaves the rings and none "
     "ends up in two slots.", s2n_permutation, "kernel"),
    ("LEG-S2N-IN-BOUNDS", "The walk indexes only slots of the host RX ring and of the "
     "kring it points at, and only krings of the adapter.", s2n_in_bounds, "kernel"),
    ("LEG-S2N-FROM-THE-STACK", "Every packet the walk sends is one netmap_transmit put in "
     "the host RX ring.", s2n_from_stack, "kernel"),
    ("LEG-S2N-ONLY-RELEASED", "The walk sends only packets the user has given back "
     "(before cur - reserved).", s2n_only_released, "kernel"),
    ("LEG-S2N-TX-ROOM", "The walk fills only NIC TX slots the kernel counts free.",
     s2n_tx_room, "kernel"),
    ("LEG-S2N-NIC-RINGS", "The walk puts packets only into NIC TX rings.", s2n_nic_rings,
     "kernel"),
    ("LEG-S2N-EVERY-RING", "The walk moves from each NIC TX ring to the next one, "
     "skipping none.", s2n_every_ring, "kernel"),
    ("LEG-S2N-VIEW", "The host RX ring's cur is a slot, the user's window [cur - "
     "reserved, cur + avail) lies inside the kernel's packets, and a running walk has "
     "no more released slots to send than lie before the window.", s2n_view, "user"),
):
    SW_TO_NIC.invariant(_id, _sentence, _scope)(_fn)


def _mutant(p: Policy):  # type: ignore[no-untyped-def]
    def fn(s: SwToNic, c: Term, a: Term, hc: Term, ha: Term) -> Step:
        return Step(True, walk_step(s, c, a, hc, ha, p))
    return fn


def _register(mutant_id: str, invariant: str, doc: str, p: Policy) -> None:
    fn = _mutant(p)
    fn.__doc__ = doc
    fn.__name__ = mutant_id.replace("-", "_")
    SW_TO_NIC.mutant(mutant_id, invariant, replaces="sw_to_nic_hardened")(fn)


for _mid, _inv, _doc, _p in (
    ("s2n-howmany-plus-one", "LEG-S2N-WALK", "howmany starts one higher than the released "
     "slots.", Policy(extra=1)),
    ("s2n-copies", "LEG-S2N-PERMUTATION", "The descriptor is copied into the TX slot, "
     "not swapped: the host slot keeps its buffer too and the TX slot's is lost.",
     Policy(copy=True)),
    ("s2n-tx-cur-unchecked", "LEG-S2N-IN-BOUNDS", "The TX ring's cur is not checked to be "
     "a slot (the free-slot test alone lets cur = N through).", Policy(check_dst=False)),
    ("s2n-hwavail-unchecked", "LEG-S2N-FROM-THE-STACK", "nr_hwavail is not checked to be "
     "at most N-1: a wrapped count sends slots the stack never filled.",
     Policy(check_stack=False)),
    ("s2n-all-hwavail", "LEG-S2N-ONLY-RELEASED", "The walk sends nr_hwavail packets, as "
     "the C does, with every other check kept.",
     Policy(count_released=False, check_released=False)),
    ("s2n-trusts-avail", "LEG-S2N-TX-ROOM", "The TX ring's room is the user's avail, not "
     "the kernel's free slots.", Policy(check_room=False)),
    ("s2n-ring-off-by-one", "LEG-S2N-NIC-RINGS", "Swaps into k1 <= num_tx_rings: the host "
     "TX kring after the last NIC one.", Policy(nic_only=False)),
    ("s2n-second-k1-increment", "LEG-S2N-EVERY-RING", "The C's second k1++ kept: every "
     "other NIC TX ring is skipped.", Policy(step=2)),
    ("s2n-sets-user-cur", "LEG-S2N-VIEW", "The C's kring->ring->cur = nr_hwcur kept after "
     "each ring: cur moves back over the slots the user holds.", Policy(set_cur=True)),
):
    _register(_mid, _inv, _doc, _p)


MACHINES = (SW_TO_NIC,)
