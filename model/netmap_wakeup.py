"""Who poll() wakes: when a ring is notified (its interrupt, or a sync that found slots),
which of the handles blocked in poll() are woken.

A handle sleeps in poll() on the selinfo recorded at
NIOCREGIF (``priv->np_si[t]``): the ring's own ``kring->si`` when it is bound to one ring
of the direction, the adapter's global ``na->si[t]`` when it is bound to several
(``nm_si_user``: ``np_qlast[t] - np_qfirst[t] > 1``), so that one sleeper serves every
ring it watches.  ``netmap_set_ringid`` counts such handles in ``na->si_users[t]``,
``netmap_unset_ringid`` uncounts them, and the interrupt's ``netmap_notify`` wakes the
ring's selinfo and, only while ``si_users[t] > 0``, the global one (an optimisation: no
global wake-up when nobody sleeps there).  The machine watches one ring: ``single``
handles bound to it alone, ``multi`` handles bound to several rings of the direction (the
watched one or not: they all sleep on the global selinfo), and the ghost ``missed``
counts sleepers a notify left asleep although one of their rings had news.  Upstream, at
the pinned commit:

* ``netmap_set_ringid`` / ``netmap_unset_ringid``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2001);
* ``nm_si_user``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap_kern.h#L2097);
* ``priv->np_si[t]`` chosen in netmap_ioctl's NETMAP_REQ_REGISTER
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L2891);
* ``netmap_notify``
  (https://github.com/luigirizzo/netmap/blob/89607e1406c1fa5ac2106bd2ff33417f090c0d60/sys/dev/netmap/netmap.c#L3978).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from model.core import And, Eq, If, Machine, Step, Term, Var


def sleeps_on_global(bound_rings: int) -> bool:
    """nm_si_user: a handle bound to ``bound_rings`` rings of a direction sleeps on the
    global selinfo when that is more than one (and is counted in ``si_users``)."""
    return bound_rings > 1


@dataclass(frozen=True)
class WakeState:
    """One ring's sleepers and the adapter's ``si_users`` for the ring's direction."""

    n: Term
    si_users: Term
    multi: Term
    single: Term
    asleep_multi: Term
    asleep_single: Term
    missed: Term

    def __repr__(self) -> str:
        return (f"WakeState(si_users={self.si_users}, multi={self.multi}, "
                f"single={self.single}, asleep_multi={self.asleep_multi}, "
                f"asleep_single={self.asleep_single}, missed={self.missed})")

    def replace(self, **changes: Term) -> WakeState:
        return dataclasses.replace(self, **changes)


WAKE_VARS = (
    Var("n", "constant", "size", "Slots in the ring (the rules here do not depend on it)."),
    Var("si_users", "kernel", "count", "na->si_users[t]: handles counted as sleeping on the "
        "global selinfo of the direction."),
    Var("multi", "ghost", "count", "Registered handles bound to more than one ring of the "
        "direction (nm_si_user): np_si[t] is the global na->si[t]."),
    Var("single", "ghost", "count", "Registered handles bound to the watched ring alone: "
        "np_si[t] is the ring's kring->si."),
    Var("asleep_multi", "ghost", "count", "Handles of ``multi`` blocked in poll()."),
    Var("asleep_single", "ghost", "count", "Handles of ``single`` blocked in poll()."),
    Var("missed", "ghost", "count", "Sleepers a notify of one of their rings left asleep."),
)


def wake_init(n: Term) -> WakeState:
    """No handle registered, nobody asleep."""
    return WakeState(n=n, si_users=0, multi=0, single=0, asleep_multi=0, asleep_single=0,
                     missed=0)


def regif_multi(s: WakeState) -> Step:
    """NIOCREGIF of a handle bound to several rings of the direction: netmap_set_ringid
    counts it in ``si_users``."""
    return Step(True, s.replace(multi=s.multi + 1, si_users=s.si_users + 1))


def regif_single(s: WakeState) -> Step:
    """NIOCREGIF of a handle bound to the watched ring alone: not counted."""
    return Step(True, s.replace(single=s.single + 1))


def close_multi(s: WakeState) -> Step:
    """close() of a several-ring handle that is not asleep: netmap_unset_ringid uncounts
    it."""
    return Step(s.multi > s.asleep_multi,
                s.replace(multi=s.multi - 1, si_users=s.si_users - 1))


def close_single(s: WakeState) -> Step:
    """close() of a one-ring handle that is not asleep."""
    return Step(s.single > s.asleep_single, s.replace(single=s.single - 1))


def sleep_multi(s: WakeState) -> Step:
    """A several-ring handle blocks in poll(): selrecord on ``na->si[t]``."""
    return Step(s.multi > s.asleep_multi, s.replace(asleep_multi=s.asleep_multi + 1))


def sleep_single(s: WakeState) -> Step:
    """A one-ring handle blocks in poll(): selrecord on the ring's ``kring->si``."""
    return Step(s.single > s.asleep_single, s.replace(asleep_single=s.asleep_single + 1))


def notify(s: WakeState) -> Step:
    """netmap_notify on the watched ring (its interrupt, or a sync that found slots):
    selwakeup of the ring's selinfo, and of the global one while ``si_users > 0``; a
    several-ring sleeper left asleep is a missed wake-up."""
    woken = s.si_users > 0
    return Step(True, s.replace(
        asleep_single=0, asleep_multi=If(woken, 0, s.asleep_multi),
        missed=s.missed + If(woken, 0, s.asleep_multi)))


def notify_other(s: WakeState) -> Step:
    """netmap_notify on another ring of the direction: the global selinfo is woken while
    ``si_users > 0``; this ring's sleepers stay asleep (nothing happened on their ring)."""
    return Step(True, s.replace(asleep_multi=If(s.si_users > 0, 0, s.asleep_multi)))


def wake_shape(s: WakeState) -> Term:
    return And(s.si_users >= 0, s.missed >= 0, s.asleep_multi >= 0, s.asleep_single >= 0,
               s.asleep_multi <= s.multi, s.asleep_single <= s.single)


def si_users_counts_multi(s: WakeState) -> Term:
    return Eq(s.si_users, s.multi)


def none_missed(s: WakeState) -> Term:
    return Eq(s.missed, 0)


WAKE = Machine(
    name="netmap_wakeup",
    title="poll() wake-ups: one ring or all rings",
    state_type=WakeState,
    vars=WAKE_VARS,
    init=wake_init,
    doc="No handle registered on the adapter, nobody asleep.",
)

for _fn in (regif_multi, regif_single, close_multi, close_single, sleep_multi,
            sleep_single):
    WAKE.transition(actor="user")(_fn)
WAKE.transition(actor="device")(notify)
WAKE.transition(actor="device")(notify_other)

for _id, _sentence, _fn in (
    ("WAKE-SHAPE", "Counts are >= 0 and only registered handles sleep.", wake_shape),
    ("WAKE-SI-USERS", "si_users counts exactly the registered handles that sleep on the "
     "global selinfo: those bound to more than one ring of the direction.",
     si_users_counts_multi),
    ("WAKE-NONE-MISSED", "A notify on a ring wakes every handle asleep on it: those bound to "
     "it alone and those bound to several rings.", none_missed),
):
    WAKE.invariant(_id, _sentence)(_fn)
