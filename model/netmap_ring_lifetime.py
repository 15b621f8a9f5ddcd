"""An RX ring deleted with its last user and created again for the next one, while other
handles keep the adapter's krings alive: what the new reader sees.

netmap deletes a kring's netmap_ring and frees its buffers when the kring's last user
goes (``netmap_mem_ring_todelete``), and creates a ring with new buffers -- every slot's
``len`` the whole buffer -- when a user comes back (``netmap_mem2_rings_create``,
https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_mem2.c#L1975).
The krings themselves live as long as any handle is registered on the adapter, and
nothing resets their indices in between: the new ring's header is copied from the kring's
``rhead`` / ``rcur`` / ``rtail``, and ``nm_register`` then runs netmap_reset
(https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L4392),
which on an RX ring sets ``nr_hwcur = rhead`` and *keeps* ``nr_hwtail``: the slots
``[rhead, hwtail)`` -- frames the previous reader had been shown and never released -- are
presented to the new reader as received, in a ring whose buffers never received them.

One RX kring, between syncs (``rhead = hwcur``, ``rtail = hwtail``): ``live`` says whether
its ring exists; ``held`` is the ghost count of frames the NIC delivered into the ring
that exists now and the reader has not released.  The rule the reader relies on,
``LIFE-ONLY-RECEIVED``: while the ring exists, the slots it shows, ``[hwcur, hwtail)``,
are exactly those frames.  As shipped (``bind_as_shipped``) a ring created over a kring
left with ``hwtail != hwcur`` breaks it; hardened (``bind_hardened``, impl/netmap/port.py
with the hardened policy) gives the kring the indices netmap_krings_create gives a new
one (``hwcur = hwtail = 0`` on RX) when its ring is created.  TX is not affected:
netmap_reset makes every TX slot the user's (``hwtail = rhead - 1``).

Implemented by ``impl.netmap.port.NetmapPorts`` (ring creation and deletion with
``model.netmap_regif.ring_exists``); ``tests/unit/test_ring_lifetime.py`` replays the
transitions on it under both policies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import (
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
    ring_prev,
)


@dataclass(frozen=True)
class RingLife:
    """One RX kring, whether its ring exists, and the frames that ring holds."""

    n: Term
    live: Term
    hwcur: Term
    hwtail: Term
    held: Term

    def __repr__(self) -> str:
        return (f"RingLife(n={self.n}, live={self.live}, hwcur={self.hwcur}, "
                f"hwtail={self.hwtail}, held={self.held})")

    def replace(self, **changes: Term) -> RingLife:
        return dataclasses.replace(self, **changes)


RING_LIFE_VARS = (
    Var("n", "constant", "size", "Slots in the ring."),
    Var("live", "kernel", "count", "1 while the kring's netmap_ring exists (users > 0)."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur (= rhead between syncs)."),
    Var("hwtail", "kernel", "index", "kring->nr_hwtail: the end of the received slots."),
    Var("held", "ghost", "count", "Frames the NIC delivered into the ring that exists now "
        "and the reader has not released."),
)


def ring_life_init(n: Term) -> RingLife:
    """netmap_krings_create and a first ring: an empty RX kring, the ring in place."""
    return RingLife(n=n, live=1, hwcur=0, hwtail=0, held=0)


def deliver(s: RingLife, k: Term) -> Step:
    """The NIC fills k of the buffers it owns, ``[hwtail, hwcur - 1)``, and rxsync
    reports them (hwtail += k)."""
    room = ring_dist(s.hwtail, ring_prev(s.hwcur, s.n), s.n)
    return Step(And(Eq(s.live, 1), k >= 0, k <= room),
                s.replace(hwtail=ring_add(s.hwtail, k, s.n), held=s.held + k))


def release(s: RingLife, k: Term) -> Step:
    """The reader releases k of the frames it was shown and syncs (hwcur += k)."""
    return Step(And(Eq(s.live, 1), k >= 0, k <= ring_dist(s.hwcur, s.hwtail, s.n)),
                s.replace(hwcur=ring_add(s.hwcur, k, s.n), held=s.held - k))


def last_user_leaves(s: RingLife) -> Step:
    """The ring's last user closes while another handle keeps the adapter: the ring and
    its buffers go, its frames with them; the kring and its indices stay."""
    return Step(Eq(s.live, 1), s.replace(live=0, held=0))


def bind_as_shipped(s: RingLife) -> Step:
    """A handle binds the ring again (NIOCREGIF, as in model.netmap_regif a step of the
    process that asks): a new ring with new buffers, then netmap_reset:
    ``hwcur = rhead`` (= hwcur), ``hwtail`` kept."""
    return Step(Eq(s.live, 0), s.replace(live=1))


def bind_hardened(s: RingLife) -> Step:
    """As shipped, but the kring first gets netmap_krings_create's indices."""
    return Step(Eq(s.live, 0), s.replace(live=1, hwcur=0, hwtail=0))


def ring_life_range(s: RingLife) -> Term:
    return And(Or(Eq(s.live, 0), Eq(s.live, 1)), in_range(s.hwcur, s.n),
               in_range(s.hwtail, s.n), s.held >= 0, If(Eq(s.live, 0), Eq(s.held, 0), True))


def ring_life_only_received(s: RingLife) -> Term:
    return If(Eq(s.live, 1), Eq(ring_dist(s.hwcur, s.hwtail, s.n), s.held), True)


RING_LIFE = Machine(
    name="netmap_ring_lifetime",
    title="An RX ring deleted and created again under live krings",
    state_type=RingLife,
    vars=RING_LIFE_VARS,
    init=ring_life_init,
    doc="An empty RX kring with its ring in place.",
)

RING_LIFE.transition(actor="device", params=(
    Param("k", "count", "Frames the NIC delivers."),))(deliver)
RING_LIFE.transition(actor="user", params=(
    Param("k", "count", "Frames the reader releases."),))(release)
RING_LIFE.transition(actor="user")(last_user_leaves)
RING_LIFE.transition(actor="user", breaks=("LIFE-ONLY-RECEIVED",))(bind_as_shipped)
RING_LIFE.transition(actor="user")(bind_hardened)

RING_LIFE.invariant(
    "LIFE-RANGE", "hwcur and hwtail are slots, and a ring that does not exist holds no "
    "frames.")(ring_life_range)
RING_LIFE.invariant(
    "LIFE-ONLY-RECEIVED", "While the ring exists, the slots it shows the reader, [hwcur, "
    "hwtail), are exactly the frames the NIC delivered into it and the reader has not "
    "released.")(ring_life_only_received)


@RING_LIFE.mutant("deliver-into-the-gap", "LIFE-ONLY-RECEIVED", replaces="deliver")
def deliver_into_the_gap(s: RingLife, k: Term) -> Step:
    """The NIC may also fill the slot before hwcur: a full ring looks empty."""
    room = ring_dist(s.hwtail, s.hwcur, s.n)
    return Step(And(Eq(s.live, 1), k >= 0, k <= room),
                s.replace(hwtail=ring_add(s.hwtail, k, s.n), held=s.held + k))


@RING_LIFE.mutant("bind-resets-hwcur-only", "LIFE-ONLY-RECEIVED", replaces="bind_hardened")
def bind_resets_hwcur_only(s: RingLife) -> Step:
    """A fix that resets nr_hwcur and forgets nr_hwtail."""
    return Step(Eq(s.live, 0), s.replace(live=1, hwcur=0))


@RING_LIFE.mutant("delete-keeps-frames", "LIFE-RANGE", replaces="last_user_leaves")
def delete_keeps_frames(s: RingLife) -> Step:
    """Deleting the ring without giving up its frames: they would come back with the
    next ring, which never received them."""
    return Step(Eq(s.live, 1), s.replace(live=0))


MACHINES = (RING_LIFE,)
