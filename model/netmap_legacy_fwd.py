"""The 2013 poll's transparent-mode walk on a hardware RX ring: which slots go up the
stack.

With ``NR_FORWARD`` on an RX ring (or ``dev.netmap.fwd``), the 2013 ``netmap_poll``
(https://github.com/luigirizzo/netmap/blob/95b478cfb7cbc07519092615c7c9481e7a5d14a6/sys/dev/netmap/netmap.c#L1780)
calls ``netmap_grab_packets`` on the ring *before* its rxsync.  The walk starts at
``nr_hwcur`` and is meant to end at the release point ``cur - reserved`` -- the slots the
user has given back -- but ends at ``cur + reserved``
(:func:`model.netmap_legacy_host.grab_end`), and nothing has checked ``cur`` yet.

The state is the legacy RX ring's user and kernel fields (:mod:`model.netmap_legacy`'s
meaning: the kernel holds ``hwavail`` received slots from ``hwcur``; the user's window is
``[cur - reserved, cur + avail)``) with two ghosts: ``unreleased`` counts slots the walk
read that the user had not released (from the release point up to ``hwcur +
hwavail``), ``nic_read`` slots it read past ``hwcur + hwavail``, which the NIC owns.  The
ring's own rxsync and the NIC appear as ``release`` (the hardened legacy rxsync's effect
on these fields: ``hwcur`` moves to the release point) and ``deliver``.  As shipped
(``poll_forward_as_shipped``) the walk breaks both ghosts' invariants and, with an end
past the ring, never returns (``may_hang``); hardened it walks to the release point
only, and not at all unless cur and reserved are sane.

Implemented by ``impl.netmap.legacy_host.poll_forward_up`` over a real
:class:`impl.netmap.legacy.LegacyPort`; ``tests/unit/test_legacy_fwd.py`` compares its
counts with these transitions over generated ring states.
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
    Param,
    Step,
    Term,
    Var,
    in_range,
    ring_dist,
    u32,
)
from model.netmap_legacy import USER_READ_PARAMS, legacy_rx_keep_too_many, rx_release_point
from model.netmap_legacy import user_read as legacy_user_read
from model.netmap_legacy_host import grab_end


@dataclass(frozen=True)
class LegacyFwd:
    """A legacy RX ring's user and kernel fields and what the walk has read."""

    n: Term
    cur: Term
    avail: Term
    reserved: Term
    hwcur: Term
    hwavail: Term
    unreleased: Term
    nic_read: Term

    def __repr__(self) -> str:
        return (f"LegacyFwd(n={self.n}, user=(cur={self.cur}, avail={self.avail}, "
                f"reserved={self.reserved}), kring=(hwcur={self.hwcur}, "
                f"hwavail={self.hwavail}), unreleased={self.unreleased}, "
                f"nic_read={self.nic_read})")

    def replace(self, **changes: Term) -> LegacyFwd:
        return dataclasses.replace(self, **changes)


LEGACY_FWD_VARS = (
    Var("n", "constant", "size", "num_slots (uint32_t)."),
    Var("cur", "user", "u32", "ring->cur: the first unread packet."),
    Var("avail", "user", "u32", "ring->avail: unread packets from cur."),
    Var("reserved", "user", "u32", "ring->reserved: slots before cur the user still holds."),
    Var("hwcur", "kernel", "index", "kring->nr_hwcur: the first slot not given back."),
    Var("hwavail", "kernel", "count", "kring->nr_hwavail: received slots from hwcur."),
    Var("unreleased", "ghost", "count", "Slots the walk read that the user had not "
        "released."),
    Var("nic_read", "ghost", "count", "Slots the walk read that the NIC owns."),
)


def legacy_fwd_init(n: Term) -> LegacyFwd:
    """An RX ring with nothing received."""
    return LegacyFwd(n=n, cur=0, avail=0, reserved=0, hwcur=0, hwavail=0, unreleased=0,
                     nic_read=0)


def deliver(s: LegacyFwd, k: Term) -> Step:
    """The NIC fills k buffers and the ring's rxsync reports them (hwavail and avail +=
    k), one slot always left empty."""
    return Step(And(k >= 0, s.hwavail + k <= s.n - 1),
                s.replace(hwavail=s.hwavail + k, avail=u32(s.avail + k)))


def user_read(s: LegacyFwd, k: Term, keep: Term) -> Step:
    """The user reads k packets (cur += k, avail -= k) and keeps ``keep`` slots before the
    new cur (reserved = keep): the legacy RX ring's rule,
    :func:`model.netmap_legacy.user_read`."""
    return legacy_user_read(s, k, keep)  # type: ignore[arg-type]


def user_write(s: LegacyFwd, c: Term, r: Term) -> Step:
    """The user writes any 32-bit values into ring->cur and ring->reserved."""
    return Step(True, s.replace(cur=c, reserved=r))


def release_point_sane(s: LegacyFwd) -> Term:
    """cur lies within the kernel's received slots and reserved reaches back no further
    than hwcur: the release point is between hwcur and cur."""
    behind = ring_dist(s.hwcur, s.cur, s.n)
    return And(s.cur < s.n, behind <= s.hwavail, s.reserved <= behind)


def release(s: LegacyFwd) -> Step:
    """The ring's rxsync as the hardened legacy rxsync does it: [hwcur, release point) go
    back to the NIC and ``avail = hwavail - reserved``; a release point that is not sane
    is refused with netmap_ring_reinit (cur = hwcur, avail = hwavail, reserved = 0)."""
    resvd, k = rx_release_point(s)
    hwavail = s.hwavail - ring_dist(s.hwcur, k, s.n)
    ok = release_point_sane(s)
    return Step(True, s.replace(
        hwcur=If(ok, k, s.hwcur), hwavail=If(ok, hwavail, s.hwavail),
        cur=If(ok, s.cur, s.hwcur), avail=If(ok, hwavail - resvd, s.hwavail),
        reserved=If(ok, resvd, 0)))


def _walk(s: LegacyFwd, end: Term) -> LegacyFwd:
    """The walk over [hwcur, end): count what it read beyond the release point."""
    walked = ring_dist(s.hwcur, end, s.n)
    k = rx_release_point(s)[1]
    released = If(k < s.n, ring_dist(s.hwcur, k, s.n), s.n)
    inside = If(walked < s.hwavail, walked, s.hwavail)
    freed = If(released < s.hwavail, released, s.hwavail)
    return s.replace(
        unreleased=s.unreleased + If(inside > freed, inside - freed, 0),
        nic_read=s.nic_read + If(walked > s.hwavail, walked - s.hwavail, 0),
    )


def poll_forward_as_shipped(s: LegacyFwd) -> Step:
    """The 2013 walk: to ``cur + reserved`` (u32), ``cur`` unchecked; it returns only if
    that end is a slot."""
    end = grab_end(s.cur, s.reserved, s.n)
    return Step(end < s.n, _walk(s, end))


def poll_forward_hardened(s: LegacyFwd) -> Step:
    """The walk to the release point, and none unless it is sane."""
    k = rx_release_point(s)[1]
    return Step(True, _walk(s, If(release_point_sane(s), k, s.hwcur)))


def legacy_fwd_range(s: LegacyFwd) -> Term:
    return And(in_range(s.hwcur, s.n), s.hwavail >= 0, s.hwavail <= s.n - 1,
               s.unreleased >= 0, s.nic_read >= 0)


def legacy_fwd_only_released(s: LegacyFwd) -> Term:
    return Eq(s.unreleased, 0)


def legacy_fwd_not_the_nics(s: LegacyFwd) -> Term:
    return Eq(s.nic_read, 0)


def legacy_fwd_view(s: LegacyFwd) -> Term:
    behind = ring_dist(s.hwcur, s.cur, s.n)
    return And(in_range(s.cur, s.n), s.avail >= 0, s.reserved >= 0,
               s.reserved <= behind, Eq(behind + s.avail, s.hwavail))


LEGACY_FWD = Machine(
    name="legacy_rx_forward",
    title="legacy RX ring in transparent mode (netmap_poll's walk, 2013)",
    state_type=LegacyFwd,
    vars=LEGACY_FWD_VARS,
    init=legacy_fwd_init,
    doc="An RX ring with nothing received.",
    max_n=U32_MAX,
)

LEGACY_FWD.transition(actor="device", params=(
    Param("k", "count", "Packets the NIC receives."),))(deliver)
LEGACY_FWD.transition(actor="user", params=USER_READ_PARAMS)(user_read)
LEGACY_FWD.transition(actor="adversary", view="breaks", params=(
    Param("c", "u32", "The value written into ring->cur."),
    Param("r", "u32", "The value written into ring->reserved."),
))(user_write)
LEGACY_FWD.transition(actor="kernel", view="restores")(release)
LEGACY_FWD.transition(
    actor="kernel", may_hang=True,
    breaks=("LEG-FWD-ONLY-RELEASED", "LEG-FWD-NOT-THE-NICS"),
)(poll_forward_as_shipped)
LEGACY_FWD.transition(actor="kernel")(poll_forward_hardened)

for _id, _sentence, _fn, _scope in (
    ("LEG-FWD-RANGE", "hwcur is a slot and the kernel holds at most N-1 received slots.",
     legacy_fwd_range, "kernel"),
    ("LEG-FWD-ONLY-RELEASED", "The walk reads only slots the user has given back (before "
     "cur - reserved).", legacy_fwd_only_released, "kernel"),
    ("LEG-FWD-NOT-THE-NICS", "The walk never reads a slot the NIC owns.",
     legacy_fwd_not_the_nics, "kernel"),
    ("LEG-FWD-VIEW", "cur is a slot, reserved reaches back no further than hwcur, and cur "
     "+ avail is the end of the received slots.", legacy_fwd_view, "user"),
):
    LEGACY_FWD.invariant(_id, _sentence, _scope)(_fn)


@LEGACY_FWD.mutant("walk-to-cur", "LEG-FWD-ONLY-RELEASED", replaces="poll_forward_hardened")
def walk_to_cur(s: LegacyFwd) -> Step:
    """The walk ends at cur, forgetting the slots the user holds before it."""
    return Step(True, _walk(s, If(release_point_sane(s), s.cur, s.hwcur)))


@LEGACY_FWD.mutant("walk-unchecked", "LEG-FWD-NOT-THE-NICS", replaces="poll_forward_hardened")
def walk_unchecked(s: LegacyFwd) -> Step:
    """The walk to the release point without checking that cur is within the received
    slots: a cur the user moved ahead reaches the NIC's slots."""
    k = rx_release_point(s)[1]
    return Step(True, _walk(s, If(k < s.n, k, s.hwcur)))


@LEGACY_FWD.mutant("deliver-fills-the-gap", "LEG-FWD-RANGE", replaces="deliver")
def deliver_fills_the_gap(s: LegacyFwd, k: Term) -> Step:
    """The NIC may fill the last empty slot too."""
    return Step(And(k >= 0, s.hwavail + k <= s.n),
                s.replace(hwavail=s.hwavail + k, avail=u32(s.avail + k)))


@LEGACY_FWD.mutant("read-keeps-one-more", "LEG-FWD-VIEW", replaces="user_read")
def read_keeps_one_more(s: LegacyFwd, k: Term, keep: Term) -> Step:
    """The user may hold one slot more than it has read: the legacy RX ring's mutant
    ``leg-rx-keep-too-many``."""
    return legacy_rx_keep_too_many(s, k, keep)  # type: ignore[arg-type]


MACHINES = (LEGACY_FWD,)
